//! Serving a json-server `db.json` the way json-server 0.17 serves it:
//! plain JSON records exactly as stored, its routes (`/db`, `/posts`,
//! `/posts/1`, `/posts/1/comments`, singular `/profile`), its query
//! parameters (`crate::json_server::list`), its headers, `_delay`, and
//! form-encoded bodies. Records live in the store; a db.json served from a
//! file is written back to it after each change.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{Method as HttpMethod, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::{AppState, Problem, body};
use crate::import::dbjson::id_text;
use crate::json_server::{self, PageLinks, is_singular, plural, singular};
use crate::represent::html;
use crate::service::RecordChange;
use crate::spec::{Resource, Spec};
use crate::store::RecordId;

/// The longest `_delay` honoured, in milliseconds.
const MAX_DELAY_MS: f64 = 60_000.0;

/// The path segments of a request json-server would serve; `None` for the
/// home page and the admin API, which standin serves.
pub fn claims(request: &HttpRequest, spec: &Spec) -> Option<Vec<String>> {
    let segments: Vec<String> = request
        .path()
        .strip_prefix(spec.base_path.as_str())?
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    (!segments.is_empty() && segments[0] != "_standin").then_some(segments)
}

/// Answers a request to a db.json's data at `segments` (from [`claims`]).
pub async fn handle(
    request: &HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    segments: Vec<String>,
) -> Result<HttpResponse, Problem> {
    let params: Vec<(String, String)> = form_urlencoded::parse(request.query_string().as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    delay(&params).await;
    if request.method() == HttpMethod::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET,HEAD,PUT,PATCH,POST,DELETE",
            ))
            .finish());
    }
    if state.service.is_resetting() {
        return Err(Problem::Resetting);
    }
    let call = Call {
        request,
        state,
        spec,
        params,
    };
    call.route(&segments, payload).await
}

/// `_delay=ms`, as json-server waits before answering.
async fn delay(params: &[(String, String)]) {
    let Some((_, value)) = params.iter().find(|(key, _)| key == "_delay") else {
        return;
    };
    let number: String = value
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if let Ok(ms) = number.parse::<f64>()
        && ms > 0.0
    {
        tokio::time::sleep(Duration::from_secs_f64(ms.min(MAX_DELAY_MS) / 1000.0)).await;
    }
}

/// One request, with what every step needs.
struct Call<'r> {
    request: &'r HttpRequest,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    params: Vec<(String, String)>,
}

impl Call<'_> {
    async fn route(
        mut self,
        segments: &[String],
        payload: web::Payload,
    ) -> Result<HttpResponse, Problem> {
        let method = self.request.method().clone();
        let read = method == HttpMethod::GET || method == HttpMethod::HEAD;
        match segments {
            [name] if name == "db" && self.index(name).is_none() && read => {
                let (spec, state) = (self.spec.clone(), self.state.clone());
                let db = self
                    .state
                    .blocking(move |store| Ok(state.service.db_json(store, &spec)?))
                    .await?;
                Ok(json(StatusCode::OK, &db))
            }
            [name] => {
                let index = self.found(name)?;
                if is_singular(&self.spec.resources[index]) {
                    return self.singular(index, payload).await;
                }
                match method {
                    _ if read => self.list(index).await,
                    HttpMethod::POST => {
                        let fields = self.body(payload).await?;
                        self.create(index, fields).await
                    }
                    _ => Err(self.not_allowed(&["GET", "HEAD", "POST", "OPTIONS"])),
                }
            }
            [name, id] => {
                let index = self.plural(name)?;
                match method {
                    _ if read => self.show(index, id).await,
                    HttpMethod::PUT | HttpMethod::PATCH => {
                        let fields = self.body(payload).await?;
                        self.update(index, id, fields, method == HttpMethod::PATCH)
                            .await
                    }
                    HttpMethod::DELETE => self.destroy(index, id).await,
                    _ => {
                        Err(self.not_allowed(&["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]))
                    }
                }
            }
            [parent, id, nested] => {
                let key = format!("{}Id", singular(parent));
                let index = self.plural(nested)?;
                match method {
                    _ if read => {
                        self.params.push((key, id.clone()));
                        self.list(index).await
                    }
                    HttpMethod::POST => {
                        let mut fields = self.body(payload).await?;
                        let parent_id = self.parent_id(parent, id).await?;
                        fields.insert(key, parent_id);
                        self.create(index, fields).await
                    }
                    _ => Err(self.not_allowed(&["GET", "HEAD", "POST", "OPTIONS"])),
                }
            }
            [_, _, nested, id] => {
                let index = self.plural(nested)?;
                match method {
                    _ if read => self.show(index, id).await,
                    HttpMethod::PUT => {
                        let fields = self.body(payload).await?;
                        self.update(index, id, fields, false).await
                    }
                    HttpMethod::DELETE => self.destroy(index, id).await,
                    _ => Err(self.not_allowed(&["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])),
                }
            }
            _ => Err(Problem::not_found(format!(
                "no route for {}",
                self.request.path()
            ))),
        }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.spec
            .resources
            .iter()
            .position(|resource| resource.name == name)
    }

    fn found(&self, name: &str) -> Result<usize, Problem> {
        self.index(name)
            .ok_or_else(|| Problem::not_found(format!("the database has no '{name}'")))
    }

    /// The collection (not singular resource) called `name`.
    fn plural(&self, name: &str) -> Result<usize, Problem> {
        let index = self.found(name)?;
        if is_singular(&self.spec.resources[index]) {
            return Err(Problem::not_found(format!(
                "'{name}' is a single object, without items"
            )));
        }
        Ok(index)
    }

    fn not_allowed(&self, allow: &[&'static str]) -> Problem {
        super::method_not_allowed(self.request, allow.to_vec())
    }

    /// Waits until the db.json file holds the write given `ticket`.
    async fn written_back(&self, ticket: Option<u64>) -> Result<(), Problem> {
        Ok(self.state.service.db_json_written(ticket).await?)
    }

    /// The request's body: a JSON object, or form fields (as strings).
    async fn body(&self, payload: web::Payload) -> Result<Map<String, Value>, Problem> {
        body::uncoded(self.request)?;
        let form = self
            .request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !form {
            body::document_format(self.request)?;
        }
        let bytes = body::read(self.request, payload, self.state.body_limit).await?;
        if form {
            return Ok(form_fields(&bytes));
        }
        body::json_object(&bytes)
    }

    async fn list(&self, index: usize) -> Result<HttpResponse, Problem> {
        let (spec, state) = (self.spec.clone(), self.state.clone());
        let params = self.params.clone();
        let listed = |records: &[Arc<Value>], params: &[(String, String)]| {
            json_server::list(records, params)
                .map_err(|(parameter, detail)| Problem::bad_parameter(parameter, detail))
        };
        // Searching, filtering and sorting scan every record: they run on a
        // thread of their own, so that lists run side by side and the
        // store's thread serves the next operation meanwhile. Paging alone
        // is quicker done on the store's thread than handed on; embedding
        // and expanding read other collections there.
        let related = |(key, _): &(String, String)| key == "_embed" || key == "_expand";
        let paging = [
            "_page", "_limit", "_start", "_end", "_delay", "callback", "_",
        ];
        let scans = |(key, _): &(String, String)| !paging.contains(&key.as_str());
        let answer = if self.params.iter().any(related) || !self.params.iter().any(scans) {
            self.state
                .blocking(move |store| {
                    let resource = &spec.resources[index];
                    let records = state.service.db_json_collection(store, resource)?;
                    let mut answer = listed(&records, &params)?;
                    let mut related = Related::new(&spec, store, &params);
                    for record in &mut answer.records {
                        related.add(resource, record)?;
                    }
                    Ok(answer)
                })
                .await?
        } else {
            let records = self
                .state
                .blocking(move |store| {
                    Ok(state
                        .service
                        .db_json_collection(store, &spec.resources[index])?)
                })
                .await?;
            web::block(move || listed(&records, &params))
                .await
                .map_err(|_| Problem::from(crate::service::Unavailable::Failed))??
        };
        let mut response = HttpResponse::Ok();
        if let Some(total) = answer.total {
            response.insert_header(("X-Total-Count", total.to_string()));
            let exposed = if answer.links.is_some() {
                "X-Total-Count, Link"
            } else {
                "X-Total-Count"
            };
            response.insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed));
        }
        if super::respond::wants_page(self.request, &self.spec) {
            let resource = &self.spec.resources[index];
            let (request, params) = (self.request, &self.params);
            return Ok(super::pages::db_json_list(
                request, &self.spec, resource, params, answer,
            ));
        }
        if let Some(links) = answer
            .links
            .as_ref()
            .and_then(|links| self.link_header(links))
        {
            response.insert_header((header::LINK, links));
        }
        Ok(with_json(response, &Value::Array(answer.records)))
    }

    /// json-server's `Link` header: the request's URL with `page=N` changed.
    fn link_header(&self, links: &PageLinks) -> Option<String> {
        let info = self.request.connection_info();
        let url = format!("{}://{}{}", info.scheme(), info.host(), self.request.uri());
        let current = format!("page={}", links.current);
        let parts: Vec<String> = [
            ("first", links.first),
            ("prev", links.prev),
            ("next", links.next),
            ("last", links.last),
        ]
        .into_iter()
        .filter_map(|(rel, page)| {
            let page = page?;
            Some(format!(
                "<{}>; rel=\"{rel}\"",
                url.replacen(&current, &format!("page={page}"), 1)
            ))
        })
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    async fn show(&self, index: usize, id: &str) -> Result<HttpResponse, Problem> {
        let spec = self.spec.clone();
        let (params, id) = (self.params.clone(), RecordId::Text(id.to_string()));
        let record = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                let mut record = Value::Object(store.get(resource, &id)?.fields);
                Related::new(&spec, store, &params).add(resource, &mut record)?;
                Ok(record)
            })
            .await?;
        if super::respond::wants_page(self.request, &self.spec)
            && let Value::Object(object) = &record
        {
            let shown = html::Shown {
                object,
                id_field: "id",
                etag: None,
                fields: None,
                href: None,
                embeds: &[],
                embedded: &[],
            };
            let resource = html::with_fields_of(&self.spec, &self.spec.resources[index], [object]);
            return Ok(super::pages::page(html::shown_page(
                &self.spec, &resource, &shown,
            )));
        }
        Ok(json(StatusCode::OK, &record))
    }

    async fn create(
        &self,
        index: usize,
        mut fields: Map<String, Value>,
    ) -> Result<HttpResponse, Problem> {
        let (spec, state) = (self.spec.clone(), self.state.clone());
        let (record, ticket) = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                if fields.get("id").is_none_or(is_falsy) {
                    let id = state.service.db_json_next_id(store, resource)?;
                    fields.insert("id".into(), id);
                }
                let id = RecordId::Text(id_text(&fields["id"]));
                let before = state.service.collection_generation(resource);
                let stored = store.create(&spec, resource, Some(id), fields.clone())?;
                let change = RecordChange::Created(&stored.fields);
                let ticket = state
                    .service
                    .db_json_wrote(store, resource, before, Some(change));
                Ok((fields, ticket))
            })
            .await?;
        self.written_back(ticket).await?;
        let info = self.request.connection_info();
        let location = format!(
            "{}://{}{}/{}",
            info.scheme(),
            info.host(),
            self.request.path().trim_end_matches('/'),
            id_text(&record["id"])
        );
        let mut response = HttpResponse::Created();
        response
            .insert_header((header::LOCATION, location))
            .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "Location"));
        Ok(with_json(response, &Value::Object(record)))
    }

    async fn update(
        &self,
        index: usize,
        id: &str,
        fields: Map<String, Value>,
        merge: bool,
    ) -> Result<HttpResponse, Problem> {
        let (spec, state) = (self.spec.clone(), self.state.clone());
        let id = RecordId::Text(id.to_string());
        let (record, ticket) = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                let before = state.service.collection_generation(resource);
                let record = store.update(&spec, resource, &id, |current| {
                    Ok::<_, Problem>(changed(&current.fields, fields, merge))
                })?;
                let change = RecordChange::Updated(&record.fields);
                let ticket = state
                    .service
                    .db_json_wrote(store, resource, before, Some(change));
                Ok((record.fields, ticket))
            })
            .await?;
        self.written_back(ticket).await?;
        Ok(json(StatusCode::OK, &Value::Object(record)))
    }

    async fn destroy(&self, index: usize, id: &str) -> Result<HttpResponse, Problem> {
        let (spec, state) = (self.spec.clone(), self.state.clone());
        let id = id.to_string();
        let ticket = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                let before = state.service.collection_generation(resource);
                store.delete(&spec, resource, &RecordId::Text(id.clone()), &|_| Ok(()))?;
                let change = RecordChange::Deleted(&id);
                let ticket = state
                    .service
                    .db_json_wrote(store, resource, before, Some(change));
                Ok(remove_dependants(&spec, store, &state.service)?.or(ticket))
            })
            .await?;
        self.written_back(ticket).await?;
        Ok(json(StatusCode::OK, &Value::Object(Map::new())))
    }

    /// The id of `parent`'s record `id` as stored (a number or a string).
    async fn parent_id(&self, parent: &str, id: &str) -> Result<Value, Problem> {
        let guess = id
            .parse::<i64>()
            .map_or_else(|_| Value::from(id), Value::from);
        let Some(index) = self.index(parent) else {
            return Ok(guess);
        };
        let spec = self.spec.clone();
        let key = RecordId::Text(id.to_string());
        self.state
            .blocking(move |store| {
                Ok(match store.get(&spec.resources[index], &key) {
                    Ok(record) => record.fields.get("id").cloned().unwrap_or(guess),
                    Err(_) => guess,
                })
            })
            .await
    }

    async fn singular(&self, index: usize, payload: web::Payload) -> Result<HttpResponse, Problem> {
        let method = self.request.method().clone();
        let (spec, state) = (self.spec.clone(), self.state.clone());
        if method == HttpMethod::GET || method == HttpMethod::HEAD {
            let object = state
                .blocking(move |store| {
                    Ok(crate::service::Service::db_json_object(
                        store,
                        &spec.resources[index],
                    )?)
                })
                .await?;
            if super::respond::wants_page(self.request, &self.spec)
                && let Value::Object(fields) = &object
            {
                let shown = html::Shown {
                    object: fields,
                    id_field: "id",
                    etag: None,
                    fields: None,
                    href: Some(self.request.path()),
                    embeds: &[],
                    embedded: &[],
                };
                let resource =
                    html::with_fields_of(&self.spec, &self.spec.resources[index], [fields]);
                return Ok(super::pages::page(html::shown_page(
                    &self.spec, &resource, &shown,
                )));
            }
            return Ok(json(StatusCode::OK, &object));
        }
        if !matches!(
            method,
            HttpMethod::POST | HttpMethod::PUT | HttpMethod::PATCH
        ) {
            return Err(self.not_allowed(&["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS"]));
        }
        let fields = self.body(payload).await?;
        let merge = method == HttpMethod::PATCH;
        let (object, ticket) = self
            .state
            .blocking(move |store| {
                let resource = &spec.resources[index];
                let before = state.service.collection_generation(resource);
                let id = RecordId::Text(crate::import::dbjson::SINGULAR_ID.to_string());
                let object = match store.update(&spec, resource, &id, |current| {
                    Ok::<_, Problem>(changed(&current.fields, fields.clone(), merge))
                }) {
                    Ok(record) => record.fields,
                    Err(Problem::NotFound { .. }) => {
                        store.create(&spec, resource, Some(id), fields.clone())?;
                        fields
                    }
                    Err(other) => return Err(other),
                };
                Ok((
                    object,
                    state.service.db_json_wrote(store, resource, before, None),
                ))
            })
            .await?;
        self.written_back(ticket).await?;
        let status = if method == HttpMethod::POST {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(json(status, &Value::Object(object)))
    }
}

/// A record after PUT (`merge` false: replaced, its id kept) or PATCH (merged).
fn changed(
    current: &Map<String, Value>,
    fields: Map<String, Value>,
    merge: bool,
) -> Map<String, Value> {
    let mut record = if merge { current.clone() } else { Map::new() };
    record.extend(fields);
    match current.get("id") {
        Some(id) => {
            record.insert("id".into(), id.clone());
        }
        None => {
            record.remove("id");
        }
    }
    record
}

fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(text) => text.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Form fields as body-parser reads them: strings, repeated names as arrays.
fn form_fields(bytes: &[u8]) -> Map<String, Value> {
    let mut fields = Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        let value = Value::String(value.into_owned());
        match fields.get_mut(key.as_ref()) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
            None => {
                fields.insert(key.into_owned(), value);
            }
        }
    }
    fields
}

/// json-server's removal of dependants: records whose `xxxId` names a
/// record of `xxxs` that no longer exists. Gives the ticket of the last
/// removal (see [`crate::service::Service::db_json_wrote`]), if any.
fn remove_dependants(
    spec: &Spec,
    store: &crate::store::Store,
    service: &Arc<crate::service::Service>,
) -> Result<Option<u64>, Problem> {
    let collections: Vec<&Resource> = spec
        .resources
        .iter()
        .filter(|resource| !is_singular(resource))
        .collect();
    let mut ids: std::collections::HashMap<&str, std::collections::HashSet<String>> =
        Default::default();
    for resource in &collections {
        let records = service.db_json_collection(store, resource)?;
        ids.insert(
            &resource.name,
            records
                .iter()
                .filter_map(|record| record.get("id"))
                .map(id_text)
                .collect(),
        );
    }
    let mut ticket = None;
    for resource in collections {
        let orphans: Vec<String> = service
            .db_json_collection(store, resource)?
            .iter()
            .filter_map(|record| record.as_object())
            .filter(|record| {
                record.iter().any(|(key, value)| {
                    let Some(stem) = key.strip_suffix("Id") else {
                        return false;
                    };
                    ids.get(plural(stem).as_str())
                        .is_some_and(|known| !known.contains(&id_text(value)))
                })
            })
            .filter_map(|record| record.get("id").map(id_text))
            .collect();
        for id in orphans {
            let before = service.collection_generation(resource);
            match store.delete(spec, resource, &RecordId::Text(id.clone()), &|_| Ok(())) {
                Ok(_) => {
                    let change = RecordChange::Deleted(&id);
                    ticket = service.db_json_wrote(store, resource, before, Some(change));
                }
                Err(crate::store::StoreError::NotFound) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(ticket)
}

/// `_embed` and `_expand` of a request, applied to records of one resource.
struct Related<'a> {
    spec: &'a Spec,
    store: &'a crate::store::Store,
    embed: Vec<&'a str>,
    expand: Vec<&'a str>,
    loaded: std::collections::HashMap<String, Vec<Map<String, Value>>>,
}

impl<'a> Related<'a> {
    fn new(
        spec: &'a Spec,
        store: &'a crate::store::Store,
        params: &'a [(String, String)],
    ) -> Related<'a> {
        let named = |name: &str| {
            params
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .collect()
        };
        Related {
            spec,
            store,
            embed: named("_embed"),
            expand: named("_expand"),
            loaded: Default::default(),
        }
    }

    fn records(&mut self, name: &str) -> Result<Option<&Vec<Map<String, Value>>>, Problem> {
        let Some(resource) = self
            .spec
            .resource(name)
            .filter(|resource| !is_singular(resource))
        else {
            return Ok(None);
        };
        if !self.loaded.contains_key(name) {
            let records = self.store.stored_in_order(resource)?;
            self.loaded.insert(name.to_string(), records);
        }
        Ok(self.loaded.get(name))
    }

    /// Adds the embedded and expanded records to `record` of `resource`.
    fn add(&mut self, resource: &Resource, record: &mut Value) -> Result<(), Problem> {
        if self.embed.is_empty() && self.expand.is_empty() {
            return Ok(());
        }
        let Some(id) = record.get("id").cloned() else {
            return Ok(());
        };
        let key = format!("{}Id", singular(&resource.name));
        for name in self.embed.clone() {
            let children: Vec<Value> = match self.records(name)? {
                Some(records) => records
                    .iter()
                    .filter(|child| child.get(&key) == Some(&id))
                    .cloned()
                    .map(Value::Object)
                    .collect(),
                None => Vec::new(),
            };
            record[name] = Value::Array(children);
        }
        for name in self.expand.clone() {
            let Some(parent_id) = record.get(format!("{name}Id")).map(id_text) else {
                continue;
            };
            let found = self.records(&plural(name))?.and_then(|records| {
                records
                    .iter()
                    .find(|parent| parent.get("id").map(id_text) == Some(parent_id.clone()))
                    .cloned()
            });
            if let Some(parent) = found {
                record[name] = Value::Object(parent);
            }
        }
        Ok(())
    }
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> HttpResponse {
    with_json(HttpResponse::build(status), value)
}

fn with_json(
    mut response: actix_web::HttpResponseBuilder,
    value: &impl serde::Serialize,
) -> HttpResponse {
    response
        .content_type("application/json; charset=utf-8")
        .body(serde_json::to_vec_pretty(value).expect("JSON values serialise"))
}
