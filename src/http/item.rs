//! Item routes: read (GET, HEAD), replace (PUT, creating where ids are
//! client-assigned), merge-patch (PATCH), delete (DELETE), OPTIONS.

use std::sync::Arc;

use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::respond::{self, ItemResponse};
use super::{AppState, Problem, blocking, body, method_not_allowed};
use crate::links;
use crate::patch;
use crate::query;
use crate::represent::Shape;
use crate::spec::{FieldError, IdKind, Method, Resource, Return, Spec, strip_server_set};
use crate::store::RecordId;

/// The methods an item answers.
fn allowed(resource: &Resource) -> Vec<&'static str> {
    let mut allow = Vec::new();
    for method in [Method::Get, Method::Put, Method::Patch, Method::Delete] {
        if resource.allows(method) {
            allow.push(method.as_str());
            if method == Method::Get {
                allow.push("HEAD");
            }
        }
    }
    allow.push("OPTIONS");
    allow
}

/// Answers a request to the item `id` of `spec.resources[index]`.
pub async fn handle(
    request: HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
    id: RecordId,
) -> Result<HttpResponse, Problem> {
    let resource = &spec.resources[index];
    let target = ItemTarget {
        state: &state,
        spec: &spec,
        index,
        id,
    };
    match *request.method() {
        HttpMethod::GET | HttpMethod::HEAD if resource.allows(Method::Get) => {
            target.read(&request).await
        }
        HttpMethod::PUT if resource.allows(Method::Put) => target.replace(&request, payload).await,
        HttpMethod::PATCH if resource.allows(Method::Patch) => {
            target.patch(&request, payload).await
        }
        HttpMethod::DELETE if resource.allows(Method::Delete) => target.delete(&request).await,
        HttpMethod::OPTIONS => Ok(respond::options(&allowed(resource))),
        _ => Err(method_not_allowed(&request, allowed(resource))),
    }
}

struct ItemTarget<'a> {
    state: &'a AppState,
    spec: &'a Arc<Spec>,
    index: usize,
    id: RecordId,
}

impl ItemTarget<'_> {
    fn resource(&self) -> &Resource {
        &self.spec.resources[self.index]
    }

    fn href(&self) -> String {
        links::item(self.spec, &self.resource().name, &self.id)
    }

    async fn read(&self, request: &HttpRequest) -> Result<HttpResponse, Problem> {
        let representation = respond::representation(request, self.spec)?;
        let query = query::parse_item(self.spec, self.resource(), request.query_string())
            .map_err(|error| Problem::bad_parameter(error.parameter, error.message))?;
        let (store, spec, index, id) = (
            self.state.store.clone(),
            self.spec.clone(),
            self.index,
            self.id.clone(),
        );
        let embeds = query.embed.clone();
        let (record, mut embedded) = blocking(move || {
            let resource = &spec.resources[index];
            let record = store.get(resource, &id)?;
            let embedded = store.embedded(
                &spec,
                resource,
                std::slice::from_ref(&record),
                &embeds,
                spec.max_page_size,
            )?;
            Ok((record, embedded))
        })
        .await?;
        let shape = Shape {
            embeds: &query.embed,
            fields: query.fields.as_deref(),
        };
        let embedded = embedded.pop().unwrap_or_default();
        Ok(ItemResponse::read(&record).render_shaped(
            self.spec,
            self.resource(),
            &embedded,
            shape,
            representation,
        ))
    }

    async fn replace(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> Result<HttpResponse, Problem> {
        let resource = self.resource();
        body::format(request, false)?;
        let representation = respond::representation(request, self.spec)?;
        let bytes = body::read(request, payload, self.state.body_limit).await?;
        let mut fields = body::json_object(&bytes)?;
        self.check_body_id(strip_server_set(&mut fields))?;
        resource.apply_defaults(&mut fields);
        resource
            .validate(&mut fields)
            .map_err(|errors| Problem::Invalid { errors })?;
        let may_create = resource.id == IdKind::String;
        let (store, spec, index, id) = (
            self.state.store.clone(),
            self.spec.clone(),
            self.index,
            self.id.clone(),
        );
        let (record, created) = blocking(move || {
            Ok(store.replace(&spec, &spec.resources[index], &id, fields, may_create)?)
        })
        .await?;
        let (returns, preference_applied) =
            respond::write_return(request, self.spec, Return::Representation);
        let response = ItemResponse {
            status: if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            returns,
            preference_applied,
            location: created.then(|| self.href()),
            record: &record,
        };
        Ok(response.render(self.spec, resource, representation))
    }

    async fn patch(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> Result<HttpResponse, Problem> {
        let resource = self.resource();
        body::format(request, true)?;
        let representation = respond::representation(request, self.spec)?;
        let bytes = body::read(request, payload, self.state.body_limit).await?;
        let mut changes = body::json_object(&bytes)?;
        self.check_body_id(strip_server_set(&mut changes))?;
        let (store, spec, index, id) = (
            self.state.store.clone(),
            self.spec.clone(),
            self.index,
            self.id.clone(),
        );
        let record = blocking(move || {
            let resource = &spec.resources[index];
            store.update(&spec, resource, &id, |current| {
                merged(resource, &current.fields, &changes)
            })
        })
        .await?;
        let (returns, preference_applied) =
            respond::write_return(request, self.spec, Return::Representation);
        let response = ItemResponse {
            status: StatusCode::OK,
            returns,
            preference_applied,
            location: None,
            record: &record,
        };
        Ok(response.render(self.spec, resource, representation))
    }

    async fn delete(&self, request: &HttpRequest) -> Result<HttpResponse, Problem> {
        let (returns, preference_applied) =
            respond::write_return(request, self.spec, Return::Minimal);
        let representation = match returns {
            Return::Representation => Some(respond::representation(request, self.spec)?),
            Return::Minimal => None,
        };
        let (store, spec, index, id) = (
            self.state.store.clone(),
            self.spec.clone(),
            self.index,
            self.id.clone(),
        );
        let record =
            blocking(move || Ok(store.delete(&spec, &spec.resources[index], &id)?)).await?;
        let response = ItemResponse {
            status: StatusCode::OK,
            returns,
            preference_applied,
            location: None,
            record: &record,
        };
        let representation = representation.unwrap_or(crate::represent::Representation::Json);
        Ok(response.render(self.spec, self.resource(), representation))
    }

    /// A body may repeat the item's id, but not name another.
    fn check_body_id(&self, body_id: Option<Value>) -> Result<(), Problem> {
        match body_id {
            Some(value)
                if RecordId::from_json(self.resource().id, &value).as_ref() != Some(&self.id) =>
            {
                Err(Problem::Invalid {
                    errors: vec![FieldError::new(
                        "id",
                        format!(
                            "{value} differs from the id in the URL ({})",
                            self.id.to_path_segment()
                        ),
                    )],
                })
            }
            _ => Ok(()),
        }
    }
}

/// The fields of a record after a merge patch, validated; fields the spec no
/// longer has are kept as they were, out of sight.
fn merged(
    resource: &Resource,
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>, Problem> {
    let (mut visible, hidden): (Map<String, Value>, Map<String, Value>) = current
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .partition(|(name, _)| resource.field(name).is_some());
    patch::merge(&mut visible, changes);
    resource
        .validate(&mut visible)
        .map_err(|errors| Problem::Invalid { errors })?;
    visible.extend(hidden);
    Ok(visible)
}
