//! Serving an OpenAPI document: each request matched to the document's
//! operation, checked against it (`request`), then answered from the store
//! for the operations inference mapped to a resource, or from the declared
//! examples and schemas for the others, in the document's shapes (`shape`).

mod pages;
mod request;
mod shape;
mod xml;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::Method as HttpMethod;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::cache::Hit;
use super::{AppState, Problem};
use crate::import::openapi::api::{Api, Operation, ResourceMap, Role};
use crate::import::openapi::generate::Generator;
use crate::query::{Column, Filter, ListQuery, Operator};
use crate::service::Reach;
use crate::spec::{Dialect, FieldType, IdKind, Resource, Spec};
use crate::store::{Record, RecordId};
pub use pages::is_home_page;
pub(super) use request::{Matched, find};
use shape::Window;

/// Names of query parameters that set a list's page size.
pub(super) const LIMIT_NAMES: [&str; 7] = [
    "limit",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
    "maxResults",
];
/// Names of query parameters that skip records.
pub(super) const OFFSET_NAMES: [&str; 3] = ["offset", "skip", "start"];
/// Names of query parameters that carry a cursor to the next page.
pub(super) const CURSOR_NAMES: [&str; 12] = [
    "cursor",
    "after",
    "starting_after",
    "startingAfter",
    "next",
    "next_cursor",
    "nextCursor",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "continuation_token",
];
/// The largest client-chosen integer id a create keeps (JavaScript's largest safe integer).
const MAX_KEPT_ID: i64 = (1 << 53) - 1;
/// Page size when a document declares a limit without a default.
const DEFAULT_LIMIT: u32 = 20;

/// Whether `path` is standin's admin API of a spec served from an OpenAPI document.
pub fn is_admin(spec: &Spec, path: &str) -> bool {
    path.strip_prefix(spec.base_path.as_str())
        .is_some_and(|rest| rest == "/_standin" || rest.starts_with("/_standin/"))
}

/// Answers a request to the OpenAPI document `spec` was read from.
pub async fn handle(
    request: HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    spec: Arc<Spec>,
) -> Result<HttpResponse, Problem> {
    let Dialect::OpenApi(api) = &spec.dialect else {
        return Err(Problem::not_found(
            "this API is not served from an OpenAPI document",
        ));
    };
    let api = Arc::clone(api);
    let path = request.path();
    let rest = path
        .strip_prefix(api.base_path.as_str())
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or_else(|| {
            Problem::not_found(format!("no route {path}: the API is at {}/", api.base_path))
        })?;
    match request::find(&api, request.method().as_str(), rest) {
        Matched::None => Err(Problem::not_found(format!(
            "no operation of the document matches {path}"
        ))),
        Matched::Methods(allow) if request.method() == HttpMethod::OPTIONS => {
            Ok(HttpResponse::NoContent()
                .insert_header(("allow", allow.join(", ")))
                .finish())
        }
        Matched::Methods(allow) => Err(super::method_not_allowed(&request, allow)),
        Matched::Operation(operation, path_values) => {
            let seed = spec.seed;
            let answer = serve(
                &request,
                payload,
                &state,
                &spec,
                &api,
                operation,
                &path_values,
            )
            .await;
            match answer {
                Ok(response) => Ok(response),
                // A browser's read gets the problem as a page (`dispatch` makes it).
                Err(problem) if super::respond::wants_page(&request, &spec) => Err(problem),
                Err(problem) => Ok(shape::problem(&api.document, operation, problem, seed)),
            }
        }
    }
}

async fn serve(
    request: &HttpRequest,
    payload: web::Payload,
    state: &Arc<AppState>,
    spec: &Arc<Spec>,
    api: &Api,
    operation: &Operation,
    path: &HashMap<String, String>,
) -> Result<HttpResponse, Problem> {
    request::credentials(request, operation, &state.credentials)?;
    let query = request::parameters(request, operation, path)?;
    let bytes = match payload.to_bytes_limited(state.body_limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            return Err(Problem::bad_request(format!(
                "the body could not be read: {error}"
            )));
        }
        Err(_) => {
            return Err(Problem::PayloadTooLarge {
                limit: state.body_limit,
            });
        }
    };
    let body = request::body(request, operation, &bytes)?;
    if state.service.is_resetting() && operation.role != Role::Other {
        return Err(Problem::Resetting);
    }
    let context = Context {
        state,
        spec,
        api,
        operation,
        path,
    };
    // Every check of the request above ran: a kept answer is one this
    // request would get (credentials are never taken from the cache).
    let version = context.cacheable().then(|| state.version(spec)).flatten();
    let key = version
        .map(|_| cache_key(request, spec))
        .unwrap_or_default();
    let read = state.cached_read(version, request, &key);
    if let Some(Hit::Kept(hit)) = read.hit() {
        return Ok(hit);
    }
    let response = context.answer(request, &query, body).await?;
    Ok(read.keep(response, None))
}

/// What an OpenAPI answer to a read depends on besides its path and query:
/// whether it is a page, and the `Prefer` it states (`code=`, `example=`).
fn cache_key(request: &HttpRequest, spec: &Spec) -> String {
    let prefer: Vec<&str> = request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .collect();
    let shape = if super::respond::wants_page(request, spec) {
        "html"
    } else {
        "json"
    };
    format!("openapi {shape} {prefer:?}")
}

/// Whether `record` belongs to the parent record `owner` names (field, id); not found if not.
fn belongs(
    record: &Record,
    owner: Option<&(String, Value)>,
) -> Result<(), crate::store::StoreError> {
    match owner {
        Some((field, id)) if record.fields.get(field) != Some(id) => {
            Err(crate::store::StoreError::NotFound)
        }
        _ => Ok(()),
    }
}

struct Context<'a> {
    state: &'a Arc<AppState>,
    spec: &'a Arc<Spec>,
    api: &'a Api,
    operation: &'a Operation,
    /// The request's path parameters.
    path: &'a HashMap<String, String>,
}

impl Context<'_> {
    /// Whether the answer to a GET of this operation is a function of the
    /// store, the document and the request: reads of stored records, and
    /// answers from the document's examples and schemas (generated with the seed).
    fn cacheable(&self) -> bool {
        matches!(
            self.operation.role,
            Role::List(_) | Role::Read(_) | Role::Other
        )
    }

    /// The answer to the checked request, from the store or the document.
    async fn answer(
        &self,
        request: &HttpRequest,
        query: &HashMap<String, Value>,
        body: Option<Value>,
    ) -> Result<HttpResponse, Problem> {
        // Below an item: the item must exist (and, nested itself, belong to the
        // record the path names above it, and so on up), but for an action that
        // does not read and declares no answer for a missing item (a 404, a 4XX
        // or a default): that answers as declared, as a mock server does.
        let checks_parent = self.operation.role != Role::Other
            || self.operation.method == "GET"
            || self.operation.response(404).is_some();
        if let Some(parent) = self.operation.parent.filter(|_| checks_parent) {
            let mut chain = Vec::new();
            let mut next = Some(parent);
            while let Some(index) = next.filter(|_| chain.len() <= self.api.resources.len()) {
                chain.push((index, self.parent_id(index)?, self.owner(index)?));
                next = self.api.resources[index]
                    .parent
                    .as_ref()
                    .map(|link| link.resource);
            }
            self.state
                .read(self.spec, Reach::Record, move |store, spec| {
                    for (index, id, owner) in &chain {
                        let record = store.get(&spec.resources[*index], id)?;
                        belongs(&record, owner.as_ref())?;
                    }
                    Ok(())
                })
                .await?;
        }
        match self.operation.role {
            Role::List(index) => self.list(index, query, request).await,
            Role::Create(index) => self.create(index, body).await,
            Role::Read(index) => {
                let id = self.id(index, self.path)?;
                let owner = self.owner(index)?;
                let record = self
                    .state
                    .read(self.spec, Reach::Record, move |store, spec| {
                        let record = store.get(&spec.resources[index], &id)?;
                        belongs(&record, owner.as_ref())?;
                        Ok(record)
                    })
                    .await?;
                if super::respond::wants_page(request, self.spec) {
                    return Ok(self.item_page(index, &record));
                }
                Ok(self.item(index, &record, &[200]))
            }
            Role::Replace(index) => {
                let id = self.id(index, self.path)?;
                self.replace(index, id, body).await
            }
            Role::ReplaceInBody(index) => {
                let (resource, map) = self.resource(index);
                let unwrapped = self.fields(index, body.clone())?.1;
                let id = unwrapped
                    .as_ref()
                    .and_then(|value| match value {
                        // A key that no path can name is still the body's.
                        Value::String(text) if resource.id == IdKind::String => {
                            Some(RecordId::Text(text.clone()))
                        }
                        Value::String(text) => RecordId::parse(resource.id, text),
                        other => RecordId::from_json(resource.id, other),
                    })
                    .ok_or_else(|| {
                        Problem::not_found(format!(
                            "no {} with the body's {}",
                            resource.name, map.id_field
                        ))
                    })?;
                self.replace(index, id, body).await
            }
            Role::Update(index) => self.update(index, self.path, body).await,
            Role::Delete(index) => {
                let id = self.id(index, self.path)?;
                let owner = self.owner(index)?;
                let spec = Arc::clone(self.spec);
                let record = self
                    .state
                    .blocking(move |store| {
                        Ok(store.delete(&spec, &spec.resources[index], &id, &|record| {
                            belongs(record, owner.as_ref())
                        })?)
                    })
                    .await?;
                Ok(self.item(index, &record, &[204, 200]))
            }
            Role::Other => Ok(self.example(request)),
        }
    }

    fn resource(&self, index: usize) -> (&Resource, &ResourceMap) {
        (&self.spec.resources[index], &self.api.resources[index])
    }

    /// The record id the item path names; a malformed one is not found.
    fn id(&self, index: usize, path: &HashMap<String, String>) -> Result<RecordId, Problem> {
        let (resource, _) = self.resource(index);
        let name = self.operation.path_names().last().unwrap_or_default();
        let text = path.get(name).map(String::as_str).unwrap_or_default();
        // Empty only where the path ends in a slash (`PUT /user/`): the
        // empty key, which no other path can name.
        let id = match text {
            "" if resource.id == IdKind::String => Some(RecordId::Text(String::new())),
            text => RecordId::parse(resource.id, text),
        };
        id.ok_or_else(|| Problem::not_found(format!("no {} with id {text}", resource.name)))
    }

    /// The id of the item of resource `index` that an operation below it
    /// names: the operation's parameter where the item's template has its last.
    fn parent_id(&self, index: usize) -> Result<RecordId, Problem> {
        let (resource, map) = self.resource(index);
        let depth = map
            .item
            .as_deref()
            .map(|item| crate::import::openapi::api::segments(item).len())
            .unwrap_or_default();
        let name = match depth
            .checked_sub(1)
            .and_then(|at| self.operation.segments.get(at))
        {
            Some(crate::import::openapi::api::Segment::Parameter(name)) => name.as_str(),
            _ => "",
        };
        let text = self.path.get(name).map(String::as_str).unwrap_or_default();
        RecordId::parse(resource.id, text)
            .ok_or_else(|| Problem::not_found(format!("no {} with id {text}", resource.name)))
    }

    /// For a nested collection's resource: the field referencing the parent
    /// and the id of the parent record the path names.
    fn owner(&self, index: usize) -> Result<Option<(String, Value)>, Problem> {
        let (_, map) = self.resource(index);
        let Some(link) = &map.parent else {
            return Ok(None);
        };
        let id = self.parent_id(link.resource)?;
        Ok(Some((link.field.clone(), id.to_json())))
    }

    /// A record as the document's items look: its id under the id property, then its fields.
    fn item_value(&self, index: usize, record: &Record) -> Value {
        let (_, map) = self.resource(index);
        let mut item = Map::new();
        item.insert(map.id_field.clone(), record.id.to_json());
        let properties = map.item_schema.get("properties").and_then(Value::as_object);
        let property = |name: &str| properties.and_then(|properties| properties.get(name));
        let write_only = |name: &str| {
            property(name).and_then(|property| property.get("writeOnly"))
                == Some(&Value::Bool(true))
        };
        let hidden = |name: &str| {
            map.parent
                .as_ref()
                .is_some_and(|link| link.hidden && link.field == name)
        };
        // A stored null where the document allows none stands for a value
        // the record never had (an example that leaves an optional property
        // out): it is left out, as the document can say.
        let absent = |name: &str, value: &Value| {
            value.is_null() && property(name).is_some_and(|property| !shape::allows_null(property))
        };
        for (name, value) in &record.fields {
            if *name != map.id_field && !write_only(name) && !hidden(name) && !absent(name, value) {
                item.insert(name.clone(), value.clone());
            }
        }
        Value::Object(item)
    }

    /// The response to a write or read of `record`, with the first declared status of `preferred`.
    fn item(&self, index: usize, record: &Record, preferred: &[u16]) -> HttpResponse {
        let (status, response) = self.operation.success(preferred);
        let content = response.and_then(shape::json_content);
        let body = shape::item(content, self.item_value(index, record));
        let mut built = shape::respond(
            status,
            &self.api.document,
            response,
            Some(body),
            self.spec.seed,
        );
        if let Role::Create(_) = self.operation.role
            && let Some(location) = self.location(index, &record.id)
        {
            built.builder.insert_header(("location", location));
        }
        built.finish()
    }

    /// The created record's item URI; none where its key is no path segment (`""`, `.`, `..`).
    fn location(&self, index: usize, id: &RecordId) -> Option<String> {
        let (resource, map) = self.resource(index);
        RecordId::parse(resource.id, &id.to_path_segment())?;
        let template = map.item.as_ref()?;
        let segments = crate::import::openapi::api::segments(template);
        let last = segments.len().saturating_sub(1);
        let mut path = self.api.base_path.clone();
        for (at, segment) in segments.into_iter().enumerate() {
            path.push('/');
            let value = match segment {
                crate::import::openapi::api::Segment::Literal(text) => {
                    path.push_str(&text);
                    continue;
                }
                // The record's own id; a parent's is the request's parameter there.
                crate::import::openapi::api::Segment::Parameter(_) if at == last => {
                    id.to_path_segment()
                }
                crate::import::openapi::api::Segment::Parameter(_) => {
                    match self.operation.segments.get(at) {
                        Some(crate::import::openapi::api::Segment::Parameter(name)) => {
                            self.path.get(name)?.clone()
                        }
                        _ => return None,
                    }
                }
            };
            path.push_str(
                &percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            );
        }
        Some(path)
    }

    async fn list(
        &self,
        index: usize,
        query: &HashMap<String, Value>,
        request: &HttpRequest,
    ) -> Result<HttpResponse, Problem> {
        let (resource, _) = self.resource(index);
        let declared = |names: &[&str]| {
            self.operation
                .parameters
                .iter()
                .find(|parameter| names.contains(&parameter.name.as_str()))
        };
        let limit_parameter = declared(&LIMIT_NAMES);
        let limit = match limit_parameter {
            Some(parameter) => query
                .get(&parameter.name)
                .or_else(|| parameter.schema.get("default"))
                .and_then(as_whole)
                .unwrap_or(i64::from(DEFAULT_LIMIT)),
            None => i64::from(self.spec.max_page_size),
        };
        let limit = u32::try_from(limit.clamp(0, i64::from(self.spec.max_page_size)))
            .unwrap_or(DEFAULT_LIMIT);
        let mut offset = declared(&OFFSET_NAMES)
            .and_then(|parameter| query.get(&parameter.name))
            .and_then(as_whole)
            .map_or(0, |offset| offset.max(0).unsigned_abs());
        if let Some(page) = query.get("page").and_then(as_whole) {
            offset = (page.max(1).unsigned_abs() - 1).saturating_mul(u64::from(limit));
        }
        let cursor_parameter = declared(&CURSOR_NAMES);
        let mut unfiltered = query.clone();
        if let Some(parameter) = cursor_parameter {
            unfiltered.remove(&parameter.name);
            if let Some(sent) = query.get(&parameter.name) {
                offset = shape::cursor_offset(sent).ok_or_else(|| {
                    Problem::bad_parameter(
                        &parameter.name,
                        format!("'{}' is not a cursor this API gave: send the one a page answered, or none for the first page", display(sent)),
                    )
                })?;
            }
        }
        let filters = filters(resource, &unfiltered);
        let sort = sort(resource, query);
        let list_query = ListQuery {
            filters,
            search: None,
            sort,
            offset,
            limit,
            embed: Vec::new(),
            fields: None,
            link_parameters: Vec::new(),
        };
        let scope: Vec<Filter> = self
            .owner(index)?
            .into_iter()
            .map(|(field, id)| Filter {
                column: Column::Field(field),
                operator: Operator::Eq,
                values: vec![id],
                as_instants: false,
            })
            .collect();
        let page = self
            .state
            .read(self.spec, Reach::Page, move |store, spec| {
                Ok(store.list(&spec.resources[index], &list_query, &scope)?)
            })
            .await?;
        let items: Vec<Value> = page
            .records
            .iter()
            .map(|record| self.item_value(index, record))
            .collect();
        if super::respond::wants_page(request, self.spec) {
            return Ok(pages::list_page(
                self, index, request, items, offset, limit, page.total,
            ));
        }
        let (status, response) = self.operation.success(&[200]);
        let more = offset.saturating_add(items.len() as u64) < page.total;
        // The next page's cursor, of the parameter's type.
        let next = cursor_parameter.filter(|_| more).map(|parameter| {
            let at = offset.saturating_add(items.len() as u64);
            (parameter.name.clone(), shape::cursor(at, &parameter.schema))
        });
        let window = Window {
            offset,
            limit,
            total: page.total,
            more,
            next: next.as_ref().map(|(_, cursor)| cursor.clone()),
            cursors: cursor_parameter.is_some(),
        };
        let body = shape::list(
            &self.api.document,
            response.and_then(shape::json_content),
            items,
            &window,
            self.spec.seed,
        );
        let mut built = shape::respond(
            status,
            &self.api.document,
            response,
            Some(body),
            self.spec.seed,
        );
        let declares_link = response.is_some_and(|response| {
            response
                .headers
                .iter()
                .any(|(name, _, _)| name.eq_ignore_ascii_case("link"))
        });
        if declares_link && let Some((name, cursor)) = &next {
            let pairs = form_urlencoded::parse(request.query_string().as_bytes())
                .filter(|(key, _)| key != name.as_str());
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .append_pair(name, &display(cursor))
                .finish();
            built.builder.insert_header((
                "link",
                format!("<{}?{query}>; rel=\"next\"", request.path()),
            ));
        }
        let mut response = built.finish();
        if declares_link && next.is_none() {
            // The last page links to no next one.
            response.headers_mut().remove("link");
        }
        Ok(response)
    }

    /// The fields of a write body: unwrapped from its wrapper, without the id property.
    fn fields(
        &self,
        index: usize,
        body: Option<Value>,
    ) -> Result<(Map<String, Value>, Option<Value>), Problem> {
        let (resource, map) = self.resource(index);
        let mut fields = match body {
            Some(Value::Object(fields)) => fields,
            // The document makes the body optional: an empty record.
            None => Map::new(),
            Some(_) => return Err(Problem::bad_request("the body must be a JSON object")),
        };
        let wrapped = fields.len() == 1
            && !fields.contains_key(&map.id_field)
            && resource
                .field(fields.keys().next().map(String::as_str).unwrap_or_default())
                .is_none()
            && fields.values().next().is_some_and(Value::is_object);
        if wrapped && let Some((_, Value::Object(inner))) = fields.clone().into_iter().next() {
            fields = inner;
        }
        let id = fields.remove(&map.id_field);
        if self.operation.role != Role::Update(index) {
            self.complete(index, &mut fields);
        }
        // A nested record belongs to the parent its path names, whatever the body says.
        if let Some((field, parent)) = self.owner(index)? {
            fields.insert(field, parent);
        }
        Ok((fields, id))
    }

    /// Fills the properties items require that a write leaves out (server-set
    /// ones like `createdAt` or `author`): the schema's default, else a generated value.
    fn complete(&self, index: usize, fields: &mut Map<String, Value>) {
        let (_, map) = self.resource(index);
        let required = map.item_schema.get("required").and_then(Value::as_array);
        let properties = map.item_schema.get("properties").and_then(Value::as_object);
        let (Some(required), Some(properties)) = (required, properties) else {
            return;
        };
        let mut generator = Generator::new(&self.api.document, self.spec.seed, &map.name);
        for name in required.iter().filter_map(Value::as_str) {
            if name == map.id_field || fields.contains_key(name) {
                continue;
            }
            let Some(property) = properties.get(name) else {
                continue;
            };
            let value = property
                .get("default")
                .cloned()
                .unwrap_or_else(|| generator.value(property, name));
            fields.insert(name.to_string(), value);
        }
    }

    async fn create(&self, index: usize, body: Option<Value>) -> Result<HttpResponse, Problem> {
        let (resource, map) = self.resource(index);
        let (fields, id) = self.fields(index, body)?;
        let id = match (resource.id, id) {
            // Any string the schema allows is a key, even one no item path can
            // name (`""`, `.`, `..`): the document's real server takes it.
            (IdKind::String, Some(Value::String(text))) => Some(RecordId::Text(text)),
            // The document lets the id out: the server makes one.
            (IdKind::String, None) => Some(RecordId::Text(fresh_uuid(&map.name))),
            (IdKind::String, Some(other)) => {
                return Err(Problem::bad_request(format!(
                    "the id property '{}' must be a string, not {other}",
                    map.id_field
                )));
            }
            // A client's id is kept where it is free (`POST /pet` with `id: 10`), else the store makes one.
            // Up to 2^53 - 1: the store's next ids count on from the largest,
            // which must not run out of 64-bit integers.
            (IdKind::Integer, Some(value)) => value
                .as_i64()
                .filter(|id| (1..=MAX_KEPT_ID).contains(id))
                .map(RecordId::Integer),
            (IdKind::Uuid, Some(Value::String(text))) => RecordId::parse(IdKind::Uuid, &text),
            _ => None,
        };
        let kept = resource.id != IdKind::String;
        let spec = Arc::clone(self.spec);
        let record = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                match store.create(&spec, resource, id.clone(), fields.clone()) {
                    Err(crate::store::StoreError::Conflict { errors, .. })
                        if kept
                            && id.is_some()
                            && errors.iter().any(|error| error.field == "id") =>
                    {
                        Ok(store.create(&spec, resource, None, fields)?)
                    }
                    other => Ok(other?),
                }
            })
            .await?;
        Ok(self.item(index, &record, &[201, 200]))
    }

    async fn replace(
        &self,
        index: usize,
        id: RecordId,
        body: Option<Value>,
    ) -> Result<HttpResponse, Problem> {
        let (fields, _) = self.fields(index, body)?;
        let owner = self.owner(index)?;
        let spec = Arc::clone(self.spec);
        let (record, _) = self
            .state
            .blocking(move |store| {
                Ok(store.replace(
                    &spec,
                    &spec.resources[index],
                    &id,
                    fields,
                    false,
                    &|current, _| match current {
                        Some(current) => belongs(current, owner.as_ref()),
                        None => Ok(()),
                    },
                )?)
            })
            .await?;
        Ok(self.item(index, &record, &[200]))
    }

    async fn update(
        &self,
        index: usize,
        path: &HashMap<String, String>,
        body: Option<Value>,
    ) -> Result<HttpResponse, Problem> {
        let id = self.id(index, path)?;
        let (changes, _) = self.fields(index, body)?;
        let owner = self.owner(index)?;
        let spec = Arc::clone(self.spec);
        let record = self
            .state
            .blocking(move |store| {
                Ok(store.update::<crate::store::StoreError>(
                    &spec,
                    &spec.resources[index],
                    &id,
                    |current| {
                        belongs(current, owner.as_ref())?;
                        let mut fields = current.fields.clone();
                        crate::patch::merge(&mut fields, &changes);
                        Ok(fields)
                    },
                )?)
            })
            .await?;
        Ok(self.item(index, &record, &[200]))
    }

    /// A value of `schema`, valid against it where a few tries find one.
    fn generated(&self, schema: &Value) -> Value {
        let validator = crate::import::openapi::schema::validator(&self.api.document, schema).ok();
        let mut generator =
            Generator::new(&self.api.document, self.spec.seed, &self.operation.pointer);
        let mut value = generator.value(schema, "response");
        for _ in 0..10 {
            if validator
                .as_ref()
                .is_none_or(|validator| validator.is_valid(&value))
            {
                break;
            }
            value = generator.value(schema, "response");
        }
        value
    }

    /// An operation answered from the document: the response `Prefer: code=`
    /// names (else the declared success), with the example `Prefer: example=`
    /// names (else the first), else a value generated from its schema.
    fn example(&self, request: &HttpRequest) -> HttpResponse {
        let prefer: Vec<(String, String)> = request
            .headers()
            .get_all("prefer")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split([',', ';']))
            .filter_map(|part| part.trim().split_once('='))
            .map(|(key, value)| {
                (
                    key.trim().to_ascii_lowercase(),
                    value.trim().trim_matches('"').to_string(),
                )
            })
            .collect();
        let wanted = |key: &str| {
            prefer
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        };
        let (status, response) = match wanted("code").and_then(|code| code.parse::<u16>().ok()) {
            Some(code) if self.operation.response(code).is_some() => {
                (code, self.operation.response(code))
            }
            _ => self.operation.success(&[]),
        };
        let content = response.and_then(shape::json_content);
        let body = content.map(|content| {
            let named = wanted("example").and_then(|name| {
                content
                    .examples
                    .iter()
                    .find(|(example, _)| *example == name)
                    .map(|(_, value)| value.clone())
            });
            named
                .or_else(|| content.examples.first().map(|(_, value)| value.clone()))
                .or_else(|| content.schema.as_ref().map(|schema| self.generated(schema)))
                .unwrap_or(Value::Null)
        });
        shape::respond(status, &self.api.document, response, body, self.spec.seed).finish()
    }
}

/// Names of query parameters that order a list.
pub(super) const SORT_NAMES: [&str; 5] = ["sort", "sort_by", "sortBy", "order_by", "orderBy"];

/// The order a declared sort parameter asks for: field names, comma-separated,
/// each descending when written `-name` or `name:desc`; names of no
/// sortable field are passed over.
fn sort(resource: &Resource, query: &HashMap<String, Value>) -> Vec<crate::query::Sort> {
    let Some(text) = SORT_NAMES
        .iter()
        .find_map(|name| query.get(*name).and_then(Value::as_str))
    else {
        return Vec::new();
    };
    let descending_order = query
        .get("order")
        .and_then(Value::as_str)
        .is_some_and(|order| order.eq_ignore_ascii_case("desc"));
    text.split(',')
        .filter_map(|part| {
            let part = part.trim();
            let (name, descending) = match (part.strip_prefix('-'), part.split_once(':')) {
                (Some(name), _) => (name, true),
                (None, Some((name, direction))) => (name, direction.eq_ignore_ascii_case("desc")),
                (None, None) => (part, descending_order),
            };
            let field = resource.field(name)?;
            if matches!(field.kind, FieldType::Object | FieldType::Array) {
                return None;
            }
            Some(crate::query::Sort {
                column: Column::Field(field.name.clone()),
                descending,
                as_instants: field.kind == FieldType::DateTime,
            })
        })
        .collect()
}

/// A query value as the text it was sent as.
fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A number as a whole number, saturating (`1e30` is `i64::MAX`).
fn as_whole(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|number| number.fract() == 0.0)
            .map(|number| number as i64)
    })
}

/// Equality filters from the query parameters named like a scalar field (or its plural).
fn filters(resource: &Resource, query: &HashMap<String, Value>) -> Vec<Filter> {
    let mut filters = Vec::new();
    for (name, value) in query {
        let field = resource.field(name).or_else(|| {
            name.strip_suffix('s')
                .and_then(|singular| resource.field(singular))
        });
        let Some(field) = field else { continue };
        if matches!(field.kind, FieldType::Object | FieldType::Array) {
            continue;
        }
        let values = match value {
            Value::Array(values) if values.is_empty() => continue,
            Value::Array(values) => values.clone(),
            other => vec![other.clone()],
        };
        filters.push(Filter {
            column: Column::Field(field.name.clone()),
            operator: Operator::Eq,
            values,
            as_instants: false,
        });
    }
    filters
}

/// A new random UUID, for a record whose client left its id to the server.
fn fresh_uuid(stream: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static MADE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let seed = nanos ^ MADE.fetch_add(1, Ordering::Relaxed).rotate_left(32);
    crate::fake::Faker::new(seed, stream).uuid()
}
