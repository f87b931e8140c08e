//! Item routes: read (GET, HEAD), replace (PUT, creating where ids are
//! client-assigned), merge-patch (PATCH), delete (DELETE), OPTIONS.

use std::sync::Arc;

use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::cache::Hit;
use super::respond::{self, ItemResponse};
use super::{AppState, Problem, body, method_not_allowed};
use crate::links;
use crate::patch::{self, JsonPatchFailure};
use crate::query;
use crate::represent::{self, Representation, Shape};
use crate::service::Reach;
use crate::spec::{FieldError, IdKind, Method, Resource, Return, Spec, strip_server_set};
use crate::store::{Basis, Record, RecordId, StoreError};

use super::body::BodyFormat;
use super::conditional::{self, WriteConditions};

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
        HttpMethod::PUT if resource.allows(Method::Put) => {
            super::refuse_query_on_write(&request)?;
            target.replace(&request, payload).await
        }
        HttpMethod::PATCH if resource.allows(Method::Patch) => {
            super::refuse_query_on_write(&request)?;
            target.patch(&request, payload).await
        }
        HttpMethod::DELETE if resource.allows(Method::Delete) => {
            super::refuse_query_on_write(&request)?;
            target.delete(&request).await
        }
        HttpMethod::OPTIONS => Ok(respond::options(&request, &spec, &allowed(resource))),
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
        let representation =
            respond::representation_among(request, self.spec, &Representation::PAGES)?;
        let query = query::parse_item(self.spec, self.resource(), request.query_string())?;
        // The answer reads this item and its embeds' records.
        let read_resources = std::iter::once(self.resource().name.as_str())
            .chain(query.embed.iter().flat_map(query::Embed::resources));
        let version = self.state.version_of(self.spec, read_resources);
        let read = self
            .state
            .cached_read(version, request, representation.media_type());
        if let Some(Hit::Kept(hit)) = read.hit() {
            return Ok(hit);
        }
        // An answer of this record alone holds until a write to it.
        let basis = (query.embed.is_empty()
            && self.resource().counted_resources().next().is_none())
        .then(|| Basis::Item {
            resource: self.resource().name.clone(),
            id: self.id.clone(),
        });
        let (index, id) = (self.index, self.id.clone());
        let embeds = query.embed.clone();
        let shape = Shape {
            embeds: &query.embed,
            fields: query.fields.as_deref(),
        };
        // A plain item with no embeds and no fieldset is written from the
        // record's stored text, with no values parsed from it in between.
        let plain = representation == Representation::Json
            && query.embed.is_empty()
            && query.fields.is_none();
        let response = if plain {
            let read_item = self
                .state
                .read(self.spec, Reach::Record, move |store, spec| {
                    let resource = &spec.resources[index];
                    let written = store.get_stored(resource, &id, |row| {
                        let mut body = Vec::with_capacity(row.data.len() + 128);
                        represent::stored_object(resource, row, &mut body)
                            .map(|()| (body, row.updated_at.to_string()))
                    })?;
                    match written {
                        Some(written) => Ok(Ok(written)),
                        // In the same read transaction: the same record.
                        None => Ok(Err(store.get(resource, &id)?)),
                    }
                })
                .await?;
            match read_item {
                Ok((body, updated_at)) => {
                    let etag = represent::object_etag(&body);
                    respond::rendered_item(self.resource(), body, etag, &updated_at, representation)
                }
                Err(record) => ItemResponse::read(&record).render_shaped(
                    self.spec,
                    self.resource(),
                    &[],
                    shape,
                    representation,
                ),
            }
        } else {
            let (record, mut embedded) = self
                .state
                .read(self.spec, Reach::Record, move |store, spec| {
                    let resource = &spec.resources[index];
                    let record = store.get(resource, &id)?;
                    let embedded = store.embedded(
                        spec,
                        std::slice::from_ref(&record),
                        &embeds,
                        spec.max_page_size,
                    )?;
                    Ok((record, embedded))
                })
                .await?;
            let embedded = embedded.pop().unwrap_or_default();
            ItemResponse::read(&record).render_shaped(
                self.spec,
                self.resource(),
                &embedded,
                shape,
                representation,
            )
        };
        if conditional::is_conditional_read(request) {
            // The validators of what would be sent (with embeds, they cover those too).
            let validator = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value: &actix_web::http::header::HeaderValue| value.to_str().ok())
                    .map(str::to_string)
            };
            let etag = validator(actix_web::http::header::ETAG).unwrap_or_default();
            let modified = validator(actix_web::http::header::LAST_MODIFIED)
                .and_then(|text| httpdate::parse_http_date(&text).ok());
            if conditional::not_modified(request, &etag, modified) {
                return Ok(respond::not_modified(&etag, modified));
            }
        }
        Ok(read.keep(response, basis))
    }

    async fn replace(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> Result<HttpResponse, Problem> {
        let resource = self.resource();
        let (format, representation, bytes) =
            body::incoming_document(request, payload, self.spec, self.state.body_limit).await?;
        let mut fields = body::fields(&bytes, format)?;
        self.check_body_id(strip_server_set(&mut fields))?;
        resource.strip_computed(&mut fields);
        resource
            .validate_whole(&mut fields)
            .map_err(|errors| Problem::Invalid { errors })?;
        let may_create = resource.id == IdKind::String;
        let (index, id) = (self.index, self.id.clone());
        let conditions = WriteConditions::of(request, resource)?;
        let (record, created) = self
            .state
            .on_store(self.spec, move |store, spec| {
                let resource = &spec.resources[index];
                let check = |current: Option<&Record>, fields: &Map<String, Value>| {
                    conditions.check(resource, current)?;
                    check_transition(resource, current.map(|current| &current.fields), fields)
                };
                Ok(store.replace(spec, resource, &id, fields, may_create, &check)?)
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
        let (format, representation, bytes) =
            body::incoming_patch(request, payload, self.spec, self.state.body_limit).await?;
        let changes = match format {
            BodyFormat::JsonPatch => Changes::JsonPatch(body::json_patch(&bytes)?),
            BodyFormat::Json | BodyFormat::MergePatch | BodyFormat::CollectionJson => {
                let mut changes = body::json_object(&bytes)?;
                self.check_body_id(strip_server_set(&mut changes))?;
                resource.strip_computed(&mut changes);
                Changes::Merge(changes)
            }
        };
        let (index, id) = (self.index, self.id.clone());
        let conditions = WriteConditions::of(request, resource)?;
        // A patched record may be as large as a body may be, no larger.
        let size_limit = self.state.body_limit;
        let record = self
            .state
            .on_store(self.spec, move |store, spec| {
                let resource = &spec.resources[index];
                store.update(spec, resource, &id, |current| {
                    conditions.check(resource, Some(current))?;
                    let fields = match &changes {
                        Changes::Merge(changes) => merged(resource, &current.fields, changes)?,
                        Changes::JsonPatch(patch) => patched(resource, current, patch, size_limit)?,
                    };
                    check_transition(resource, Some(&current.fields), &fields)?;
                    Ok(fields)
                })
            })
            .await?;
        Ok(ItemResponse::updated(request, self.spec, &record).render(
            self.spec,
            resource,
            representation,
        ))
    }

    async fn delete(&self, request: &HttpRequest) -> Result<HttpResponse, Problem> {
        // Plain-JSON clients get the deleted record, as json-server answers
        // and react-admin's data providers read; others get 204.
        let negotiated = respond::representation(request, self.spec).ok();
        let fallback = match negotiated {
            Some(crate::represent::Representation::Json) => Return::Representation,
            _ => Return::Minimal,
        };
        let (returns, preference_applied) = respond::write_return(request, self.spec, fallback);
        let representation = match returns {
            Return::Representation => Some(respond::representation(request, self.spec)?),
            Return::Minimal => None,
        };
        let (index, id) = (self.index, self.id.clone());
        let conditions = WriteConditions::of(request, self.resource())?;
        let record = self
            .state
            .on_store(self.spec, move |store, spec| {
                let resource = &spec.resources[index];
                let check = |current: &Record| conditions.check(resource, Some(current));
                Ok(store.delete(spec, resource, &id, &check)?)
            })
            .await?;
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

/// What a PATCH asks to change.
enum Changes {
    /// A merge patch (RFC 7396), or plain JSON taken as one.
    Merge(Map<String, Value>),
    /// A JSON patch (RFC 6902).
    JsonPatch(json_patch::Patch),
}

/// The fields of a record after a JSON patch, applied to the record as
/// clients see it (`/title`, `/tags/0`); all operations or none. A failed
/// `test` or a path the record does not have is `409`; changing a server-set
/// field is `400`; a result that is not an object is `422`.
fn patched(
    resource: &Resource,
    current: &Record,
    patch: &json_patch::Patch,
    size_limit: usize,
) -> Result<Map<String, Value>, Problem> {
    check_patch_values(resource, &patch.0)?;
    let before = crate::represent::record_object(resource, current);
    let mut document = Value::Object(before.clone());
    if let Err(failure) = patch::apply_json_patch(&mut document, &patch.0, size_limit) {
        let detail = format!("the JSON patch cannot be applied: {failure}");
        return Err(match failure {
            JsonPatchFailure::TooManyOperations(_) => Problem::bad_request(detail),
            JsonPatchFailure::TooLarge(limit) => Problem::RecordTooLarge { limit },
            // A failed test, or a path the record does not have: the
            // record's state does not fit the patch (RFC 5789, section 2.2).
            JsonPatchFailure::Failed(_) => Problem::Conflict {
                detail,
                errors: Vec::new(),
            },
        });
    }
    let Value::Object(mut after) = document else {
        return Err(Problem::Unprocessable {
            detail: "the JSON patch replaces the whole record with something that is not an object"
                .into(),
        });
    };
    // A server-set field, computed ones included, may be left out (a patch
    // replacing the whole record need not repeat it) but not changed.
    let computed = resource
        .fields
        .iter()
        .filter(|field| field.is_computed())
        .map(|field| field.name.as_str());
    let server_set: Vec<&str> = ["id", "created_at", "updated_at"]
        .into_iter()
        .chain(computed)
        .collect();
    for key in server_set {
        if after
            .get(key)
            .is_some_and(|value| Some(value) != before.get(key))
        {
            return Err(Problem::Invalid {
                errors: vec![FieldError::new(
                    key,
                    "is set by the server and cannot be patched",
                )],
            });
        }
        after.remove(key);
    }
    let hidden = current
        .fields
        .iter()
        .filter(|(name, _)| resource.field(name).is_none())
        .map(|(name, value)| (name.clone(), value.clone()));
    resource
        .validate(&mut after)
        .map_err(|errors| Problem::Invalid { errors })?;
    after.extend(hidden);
    Ok(after)
}

/// Refuses a JSON patch that `add`s or `replace`s a field with a value the
/// field can never hold, even if a later operation replaces it again: each
/// operation is a write of that field, as the API's description says.
fn check_patch_values(
    resource: &Resource,
    operations: &[json_patch::PatchOperation],
) -> Result<(), Problem> {
    let mut errors: Vec<FieldError> = Vec::new();
    for operation in operations {
        let (path, value) = match operation {
            json_patch::PatchOperation::Add(add) => (add.path.as_str(), &add.value),
            json_patch::PatchOperation::Replace(replace) => (replace.path.as_str(), &replace.value),
            _ => continue,
        };
        let Some(field) = path
            .strip_prefix('/')
            .and_then(|name| resource.field(name))
            .filter(|field| !field.is_computed())
        else {
            continue;
        };
        let mut alone = Map::new();
        alone.insert(field.name.clone(), value.clone());
        if let Err(found) = resource.validate(&mut alone) {
            let about_field = |error: &FieldError| {
                error.field == field.name || error.field.starts_with(&format!("{}/", field.name))
            };
            errors.extend(found.into_iter().filter(about_field));
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(Problem::Invalid { errors }),
    }
}

/// Refuses a change of state the resource's `transitions` do not allow.
pub(super) fn check_transition(
    resource: &Resource,
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
) -> Result<(), StoreError> {
    match resource.disallowed_transition(before, after) {
        Some((field, message)) => Err(StoreError::Conflict {
            errors: vec![FieldError::new(field, message.clone())],
            message,
        }),
        None => Ok(()),
    }
}

/// The fields of a record after a merge patch, validated; fields the spec no
/// longer has are kept as they were, out of sight.
fn merged(
    resource: &Resource,
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>, Problem> {
    // A key the resource does not have is an error even when it is null,
    // which a merge would otherwise take as "remove nothing".
    let unknown: Vec<FieldError> = changes
        .keys()
        .filter(|name| resource.field(name).is_none())
        .map(|name| FieldError::new(name, "is not a field of this resource"))
        .collect();
    if !unknown.is_empty() {
        return Err(Problem::Invalid { errors: unknown });
    }
    let (mut visible, hidden): (Map<String, Value>, Map<String, Value>) = current
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .partition(|(name, _)| resource.field(name).is_some());
    // Computed values are the server's, computed again when read.
    resource.strip_computed(&mut visible);
    patch::merge(&mut visible, changes);
    resource
        .validate(&mut visible)
        .map_err(|errors| Problem::Invalid { errors })?;
    visible.extend(hidden);
    Ok(visible)
}

/// The methods an action URI answers.
const ACTION_METHODS: &[&str] = &["POST", "OPTIONS"];

/// Answers a request to the action URI `/{resource}/{id}/{action}`: `POST`
/// takes the action, as a PATCH setting its field would (same conditions,
/// validation and hooks of the store), `OPTIONS` lists the methods.
pub async fn act(
    request: HttpRequest,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
    id: RecordId,
    action: &str,
) -> Result<HttpResponse, Problem> {
    match *request.method() {
        HttpMethod::POST => {}
        HttpMethod::OPTIONS => return Ok(respond::options(&request, &spec, ACTION_METHODS)),
        _ => return Err(method_not_allowed(&request, ACTION_METHODS.to_vec())),
    }
    super::refuse_query_on_write(&request)?;
    let has_body = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > 0);
    if has_body {
        return Err(Problem::bad_request(format!(
            "an action takes no body: POST to {} with none performs '{action}'",
            request.path()
        )));
    }
    let representation = respond::representation(&request, &spec)?;
    let resource = &spec.resources[index];
    let conditions = WriteConditions::of(&request, resource)?;
    let name = action.to_string();
    let record = state
        .on_store(&spec, move |store, spec| {
            let resource = &spec.resources[index];
            // The route found it; a spec swapped in meanwhile may not have it.
            let Some(action) = resource.action(&name) else {
                return Err(Problem::not_found(format!(
                    "no action '{name}' of {}",
                    resource.name
                )));
            };
            store.update(spec, resource, &id, |current| {
                conditions.check(resource, Some(current))?;
                let visible = crate::represent::record_object(resource, current);
                if !resource.may_take(&visible, action) {
                    return Err(refused(resource, action, &visible));
                }
                let mut fields = current.fields.clone();
                fields.insert(action.field.clone(), Value::String(action.state.clone()));
                check_transition(resource, Some(&current.fields), &fields)?;
                Ok(fields)
            })
        })
        .await?;
    Ok(ItemResponse::updated(&request, &spec, &record).render(&spec, resource, representation))
}

/// The `409` of an action the record's state does not allow: its state and
/// the actions it allows.
fn refused(
    resource: &Resource,
    action: &crate::spec::Action,
    fields: &Map<String, Value>,
) -> Problem {
    let current = match fields.get(&action.field) {
        Some(Value::String(state)) => format!("'{state}'"),
        Some(Value::Null) | None => "not set".to_string(),
        Some(other) => other.to_string(),
    };
    let allowed: Vec<&str> = resource
        .actions_allowed(fields)
        .into_iter()
        .map(|allowed| allowed.name.as_str())
        .collect();
    let allowed = if allowed.is_empty() {
        "none".to_string()
    } else {
        allowed.join(", ")
    };
    let message = format!(
        "'{}' (setting {} to '{}') is not allowed now: {} is {current}; the actions allowed now are: {allowed}",
        action.name, action.field, action.state, action.field
    );
    Problem::Conflict {
        errors: vec![FieldError::new(action.field.clone(), message.clone())],
        detail: message,
    }
}
