//! Collection routes: list a page (GET, HEAD), create an item (POST), OPTIONS.

use std::sync::Arc;

use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::respond::{self, ItemResponse};
use super::{AppState, Problem, blocking, body, method_not_allowed};
use crate::links::{self, Pagination};
use crate::query;
use crate::represent::PageView;
use crate::spec::{FieldError, IdKind, Method, Resource, Return, Spec, strip_server_set};
use crate::store::{RecordId, Window};

/// The methods a collection answers.
fn allowed(resource: &Resource) -> Vec<&'static str> {
    let mut allow = Vec::new();
    if resource.allows(Method::Get) {
        allow.extend(["GET", "HEAD"]);
    }
    if resource.allows(Method::Post) {
        allow.push("POST");
    }
    allow.push("OPTIONS");
    allow
}

/// Answers a request to the collection of `spec.resources[index]`.
pub async fn handle(
    request: HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
) -> Result<HttpResponse, Problem> {
    let resource = &spec.resources[index];
    match *request.method() {
        HttpMethod::GET | HttpMethod::HEAD if resource.allows(Method::Get) => {
            list(&request, &state, &spec, index).await
        }
        HttpMethod::POST if resource.allows(Method::Post) => {
            create(&request, payload, &state, &spec, index).await
        }
        HttpMethod::OPTIONS => Ok(respond::options(&allowed(resource))),
        _ => Err(method_not_allowed(&request, allowed(resource))),
    }
}

async fn list(
    request: &HttpRequest,
    state: &AppState,
    spec: &Arc<Spec>,
    index: usize,
) -> Result<HttpResponse, Problem> {
    let resource = &spec.resources[index];
    let representation = respond::representation(request, spec)?;
    let query = query::parse(spec, resource, request.query_string())
        .map_err(|error| Problem::bad_parameter(error.parameter, error.message))?;
    let window = Window {
        offset: (query.page - 1).saturating_mul(u64::from(query.per_page)),
        limit: query.per_page,
    };
    let (store, shared_spec) = (state.store.clone(), spec.clone());
    let page = blocking(move || Ok(store.list(&shared_spec.resources[index], window)?)).await?;
    let pagination = Pagination {
        page: query.page,
        per_page: query.per_page,
        total: page.total,
    };
    let page_links = links::page_links(
        &links::collection(spec, &resource.name),
        &query.other,
        pagination,
    );
    let view = PageView {
        records: &page.records,
        pagination,
        links: &page_links,
    };
    Ok(respond::page(spec, resource, &view, representation))
}

async fn create(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    spec: &Arc<Spec>,
    index: usize,
) -> Result<HttpResponse, Problem> {
    let resource = &spec.resources[index];
    body::format(request, false)?;
    let representation = respond::representation(request, spec)?;
    let bytes = body::read(request, payload, state.body_limit).await?;
    let mut fields = body::json_object(&bytes)?;
    let id = match strip_server_set(&mut fields) {
        None => None,
        Some(value) => Some(client_id(resource, &value)?),
    };
    resource.apply_defaults(&mut fields);
    resource
        .validate(&mut fields)
        .map_err(|errors| Problem::Invalid { errors })?;
    let (store, shared_spec) = (state.store.clone(), spec.clone());
    let record = blocking(move || {
        let resource = &shared_spec.resources[index];
        Ok(store.create(&shared_spec, resource, id, fields)?)
    })
    .await?;
    let (returns, preference_applied) =
        respond::write_return(request, spec, Return::Representation);
    let response = ItemResponse {
        status: StatusCode::CREATED,
        returns,
        preference_applied,
        location: Some(links::item(spec, &resource.name, &record.id)),
        record: &record,
    };
    Ok(response.render(spec, resource, representation))
}

/// The id a client chose in a create body, where the resource lets clients choose.
fn client_id(resource: &Resource, value: &Value) -> Result<RecordId, Problem> {
    let invalid = |message: &str| Problem::Invalid {
        errors: vec![FieldError::new("id", message)],
    };
    match resource.id {
        IdKind::String => value
            .as_str()
            .and_then(|text| RecordId::parse(IdKind::String, text))
            .ok_or_else(|| invalid("must be a non-empty string")),
        IdKind::Integer | IdKind::Uuid => Err(invalid(
            "is assigned by the server: leave it out (ids are chosen by clients only with `id: string`)",
        )),
    }
}
