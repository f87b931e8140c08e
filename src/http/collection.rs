//! Collection routes: list a page (GET, HEAD), create an item (POST), OPTIONS;
//! for a resource's own collection and for inverse collections
//! (`/authors/3/books`), which are filtered views of the same records.

use std::sync::Arc;

use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::cache::Hit;
use super::respond::{self, ItemResponse};
use super::{AppState, Problem, body, method_not_allowed};
use crate::links::{self, PageLinks, Pagination};
use crate::query::{self, Column, Filter, ListQuery, Operator};
use crate::represent::{self, ItemView, PageView, Representation, Shape};
use crate::service::Reach;
use crate::spec::{FieldError, IdKind, Inverse, Method, Resource, Return, Spec, strip_server_set};
use crate::store::{Basis, PageReads, Record, RecordId};

/// An inverse collection: the records referencing item `id` of `parent`.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Index of the referenced resource.
    pub parent: usize,
    /// The referenced item.
    pub id: RecordId,
    /// How the records reference it.
    pub inverse: Inverse,
}

impl Scope {
    /// The filter selecting the collection's records.
    fn filter(&self) -> Filter {
        Filter {
            column: Column::Field(self.inverse.field.clone()),
            operator: Operator::Eq,
            values: vec![self.id.to_json()],
            as_instants: false,
        }
    }
}

/// A plain page as the reading thread gives it: written from the records'
/// stored text, or parsed where one of them could not be.
enum PlainPage {
    Written {
        body: Vec<u8>,
        count: usize,
        total: u64,
        reads: PageReads,
    },
    Parsed(Vec<Record>, u64),
}

/// A collection request's target: the listed resource, and the scope for inverse collections.
struct Collection<'a> {
    state: &'a Arc<AppState>,
    spec: &'a Arc<Spec>,
    index: usize,
    scope: Option<Scope>,
}

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

/// Answers a request to the collection of `spec.resources[index]`, scoped for inverse collections.
pub async fn handle(
    request: HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    spec: Arc<Spec>,
    index: usize,
    scope: Option<Scope>,
) -> Result<HttpResponse, Problem> {
    let collection = Collection {
        state: &state,
        spec: &spec,
        index,
        scope,
    };
    let resource = collection.resource();
    match *request.method() {
        HttpMethod::GET | HttpMethod::HEAD if resource.allows(Method::Get) => {
            collection.list(&request).await
        }
        HttpMethod::POST if resource.allows(Method::Post) => {
            super::refuse_query_on_write(&request)?;
            collection.create(&request, payload).await
        }
        HttpMethod::OPTIONS => Ok(respond::options(&request, &spec, &allowed(resource))),
        _ => Err(method_not_allowed(&request, allowed(resource))),
    }
}

impl Collection<'_> {
    fn resource(&self) -> &Resource {
        &self.spec.resources[self.index]
    }

    fn href(&self) -> String {
        match &self.scope {
            Some(scope) => {
                let parent = &self.spec.resources[scope.parent];
                links::inverse(self.spec, &parent.name, &scope.id, &scope.inverse.name)
            }
            None => links::collection(self.spec, &self.resource().name),
        }
    }

    /// For inverse collections: fails unless the referenced item exists.
    async fn check_parent(&self) -> Result<(), Problem> {
        let Some(scope) = &self.scope else {
            return Ok(());
        };
        let (parent, id) = (scope.parent, scope.id.clone());
        self.state
            .read(self.spec, Reach::Record, move |store, spec| {
                Ok(store.get(&spec.resources[parent], &id).map(|_| ())?)
            })
            .await
    }

    async fn list(&self, request: &HttpRequest) -> Result<HttpResponse, Problem> {
        let resource = self.resource();
        let representation =
            respond::representation_among(request, self.spec, &Representation::PAGES)?;
        let query = query::parse_list(self.spec, resource, request.query_string())?;
        // The answer reads this collection, its parent's item and its embeds' records.
        let parent = self
            .scope
            .as_ref()
            .map(|scope| self.spec.resources[scope.parent].name.as_str());
        let read_resources = std::iter::once(resource.name.as_str())
            .chain(parent)
            .chain(query.embed.iter().flat_map(query::Embed::resources));
        let version = self.state.version_of(self.spec, read_resources);
        let read = self
            .state
            .cached_read(version, request, representation.media_type());
        match read.hit() {
            Some(Hit::Kept(hit)) => return Ok(hit),
            // A plain page's total is told in its headers alone.
            Some(Hit::Retotalled {
                body,
                etag,
                total,
                basis,
            }) if representation == Representation::Json => {
                let Basis::Page(reads) = &basis else {
                    unreachable!("only pages are retotalled")
                };
                let (pagination, _, page_links) = self.paging(&query, total);
                let response = respond::rendered_page(
                    request,
                    resource,
                    &page_links,
                    pagination,
                    reads.shown(),
                    representation,
                    body,
                    etag,
                );
                return Ok(read.keep(response, Some(basis)));
            }
            _ => {}
        }
        // A page of this collection's records alone holds until a write changes what it read.
        let alone = self.scope.is_none()
            && query.embed.is_empty()
            && resource.counted_resources().next().is_none();
        self.check_parent().await?;
        let scope: Vec<Filter> = self.scope.iter().map(Scope::filter).collect();
        let index = self.index;
        let shared_query = query.clone();
        // Plain items with no embeds and no fieldset are written from the
        // records' stored text, with no values parsed from it in between.
        let (records, total, embedded, reads) = if representation == Representation::Json
            && query.embed.is_empty()
            && query.fields.is_none()
        {
            let read_page = self
                .state
                .read(self.spec, Reach::Page, move |store, spec| {
                    let resource = &spec.resources[index];
                    let mut body = Vec::with_capacity(512 * shared_query.limit as usize);
                    body.push(b'[');
                    let mut written = true;
                    let (count, total, reads) =
                        store.list_stored(resource, &shared_query, &scope, |row| {
                            if written {
                                if body.len() > 1 {
                                    body.push(b',');
                                }
                                written =
                                    represent::stored_object(resource, row, &mut body).is_some();
                            }
                        })?;
                    if written {
                        body.push(b']');
                        return Ok(PlainPage::Written {
                            body,
                            count,
                            total,
                            reads,
                        });
                    }
                    // In the same read transaction: the same records.
                    let page = store.list(resource, &shared_query, &scope)?;
                    Ok(PlainPage::Parsed(page.records, page.total))
                })
                .await?;
            match read_page {
                PlainPage::Written {
                    body,
                    count,
                    total,
                    reads,
                } => {
                    let (pagination, _, page_links) = self.paging(&query, total);
                    let response = respond::rendered_page(
                        request,
                        resource,
                        &page_links,
                        pagination,
                        count,
                        representation,
                        body.into(),
                        None,
                    );
                    return Ok(read.keep(response, alone.then_some(Basis::Page(reads))));
                }
                PlainPage::Parsed(records, total) => (records, total, Vec::new(), None),
            }
        } else {
            let (page, embedded) = self
                .state
                .read(self.spec, Reach::Page, move |store, spec| {
                    let resource = &spec.resources[index];
                    let page = store.list(resource, &shared_query, &scope)?;
                    let embedded = store.embedded(
                        spec,
                        &page.records,
                        &shared_query.embed,
                        spec.max_page_size,
                    )?;
                    Ok((page, embedded))
                })
                .await?;
            (page.records, page.total, embedded, Some(page.reads))
        };
        let (pagination, href, page_links) = self.paging(&query, total);
        let view = PageView {
            items: records
                .iter()
                .enumerate()
                .map(|(position, record)| ItemView {
                    record,
                    embedded: embedded
                        .get(position)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                })
                .collect(),
            shape: Shape {
                embeds: &query.embed,
                fields: query.fields.as_deref(),
            },
            pagination,
            links: &page_links,
            collection_href: &href,
        };
        let response = respond::page(
            request,
            self.spec,
            resource,
            &view,
            query.offset,
            representation,
        );
        let basis = reads.filter(|_| alone).map(Basis::Page);
        Ok(read.keep(response, basis))
    }

    /// Where a page of `total` matches sits, the collection's href and the page's links.
    fn paging(&self, query: &ListQuery, total: u64) -> (Pagination, String, PageLinks) {
        let pagination = Pagination {
            page: query.page(),
            per_page: query.limit,
            total,
            offset: query.offset,
        };
        let href = self.href();
        let page_links = links::page_links(&href, &query.link_parameters, pagination);
        (pagination, href, page_links)
    }

    async fn create(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
    ) -> Result<HttpResponse, Problem> {
        let resource = self.resource();
        let (format, representation, bytes) =
            body::incoming_document(request, payload, self.spec, self.state.body_limit).await?;
        let mut fields = body::fields(&bytes, format)?;
        let id = match strip_server_set(&mut fields) {
            None => None,
            Some(value) => Some(client_id(resource, &value)?),
        };
        // Computed fields are the server's: a value sent is ignored, as timestamps are.
        resource.strip_computed(&mut fields);
        if let Some(scope) = &self.scope {
            set_scope_reference(&mut fields, scope)?;
        }
        resource
            .validate_whole(&mut fields)
            .map_err(|errors| Problem::Invalid { errors })?;
        super::item::check_transition(resource, None, &fields)?;
        self.check_parent().await?;
        if let Some(delay) = resource.async_delay {
            let state = Arc::clone(self.state);
            return super::jobs::accept(state, self.spec.clone(), self.index, id, fields, delay)
                .await;
        }
        let index = self.index;
        let record = self
            .state
            .on_store(self.spec, move |store, spec| {
                let resource = &spec.resources[index];
                Ok(store.create(spec, resource, id, fields)?)
            })
            .await?;
        let (returns, preference_applied) =
            respond::write_return(request, self.spec, Return::Representation);
        let response = ItemResponse {
            status: StatusCode::CREATED,
            returns,
            preference_applied,
            location: Some(links::item(self.spec, &resource.name, &record.id)),
            record: &record,
        };
        Ok(response.render(self.spec, resource, representation))
    }
}

/// Sets the reference of a record created in an inverse collection; a body may
/// repeat it but not name another record.
fn set_scope_reference(
    fields: &mut serde_json::Map<String, Value>,
    scope: &Scope,
) -> Result<(), Problem> {
    let parent = scope.id.to_json();
    match fields.get(&scope.inverse.field) {
        Some(value) if !value.is_null() && *value != parent => Err(Problem::Invalid {
            errors: vec![FieldError::new(
                &scope.inverse.field,
                format!("{value} differs from the record in the URL ({parent})"),
            )],
        }),
        _ => {
            fields.insert(scope.inverse.field.clone(), parent);
            Ok(())
        }
    }
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
            .ok_or_else(|| invalid("must be a non-empty string other than . and ..")),
        IdKind::Integer | IdKind::Uuid => Err(invalid(
            "is assigned by the server: leave it out (ids are chosen by clients only with `id: string`)",
        )),
    }
}
