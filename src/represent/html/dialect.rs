//! What the pages must know of the dialect an API is served in (standin's
//! own, a json-server db.json, an OpenAPI document): the hrefs of its
//! collections and items, and the query parameters its lists understand, so
//! that every link and control on a page is one that API really answers.

use serde_json::{Map, Value};

use super::display;
use crate::import::openapi::api::{Segment, segments};
use crate::links;
use crate::spec::{Dialect, Field, FieldType, OnDelete, Reference, Resource, Spec};
use crate::store::RecordId;

/// How a list is sorted by one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sorting {
    /// `name=field` ascending, `name=-field` descending (standin's `sort`).
    Signed(String),
    /// `_sort=field&_order=asc|desc` (json-server's).
    Ordered,
}

/// Suffixes of a field's range and text filters (`price__gte`, `price_gte`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operators {
    /// At least.
    pub gte: &'static str,
    /// At most.
    pub lte: &'static str,
    /// Contains the text.
    pub contains: &'static str,
}

/// The query parameters a collection's list understands, for the page's controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    /// How to sort, if the list sorts.
    pub sorting: Option<Sorting>,
    /// The page-size parameter, if any.
    pub per_page: Option<String>,
    /// The page-number parameter, if any.
    pub page: Option<String>,
    /// Whether `q` searches.
    pub search: bool,
    /// Range and text filter operators, if the list has them.
    pub operators: Option<Operators>,
    /// The equality filters as (parameter, field); `None`: every scalar field by its name.
    pub equality: Option<Vec<(String, String)>>,
    /// The parameters that shape each record (embeds, fieldsets), which the
    /// filter form keeps as they are.
    pub shaping: &'static [&'static str],
}

impl Vocabulary {
    /// standin's own query language.
    pub fn standin(resource: &Resource) -> Self {
        Self {
            sorting: Some(Sorting::Signed("sort".into())),
            per_page: Some("per_page".into()),
            page: Some("page".into()),
            search: !resource.search.is_empty(),
            operators: Some(Operators {
                gte: "__gte",
                lte: "__lte",
                contains: "__contains",
            }),
            equality: None,
            shaping: &["embed", "fields"],
        }
    }

    /// json-server 0.17's.
    pub fn json_server() -> Self {
        Self {
            sorting: Some(Sorting::Ordered),
            per_page: Some("_limit".into()),
            page: Some("_page".into()),
            search: true,
            operators: Some(Operators {
                gte: "_gte",
                lte: "_lte",
                contains: "_like",
            }),
            equality: None,
            shaping: &["_embed", "_expand"],
        }
    }

    /// Whether parameter `name` chooses a page or an order (which a new sort or filter resets).
    pub fn is_window(&self, name: &str) -> bool {
        let sort = match &self.sorting {
            Some(Sorting::Signed(sort)) => name == sort,
            Some(Sorting::Ordered) => matches!(name, "_sort" | "_order"),
            None => false,
        };
        // standin also reads json-server's names.
        sort || self.page.as_deref() == Some(name)
            || matches!(name, "_page" | "_start" | "_end" | "_sort" | "_order")
    }

    /// The sort in force: its first field and whether it descends.
    pub fn sorted_by(&self, parameters: &[(String, String)]) -> Option<(String, bool)> {
        let current = |name: &str| {
            parameters
                .iter()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.as_str())
                .filter(|value| !value.is_empty())
        };
        match self.sorting.as_ref()? {
            Sorting::Signed(name) => {
                let first = current(name)?.split(',').next().unwrap_or_default();
                Some(match first.strip_prefix('-') {
                    Some(column) => (column.to_string(), true),
                    None => (first.to_string(), false),
                })
            }
            Sorting::Ordered => {
                let field = current("_sort")?.split(',').next().unwrap_or_default();
                let order = current("_order").unwrap_or_default();
                let descending = order
                    .split(',')
                    .next()
                    .is_some_and(|order| order.eq_ignore_ascii_case("desc"));
                Some((field.to_string(), descending))
            }
        }
    }

    /// The parameters that sort by `field`.
    pub fn sort_by(&self, field: &str, descending: bool) -> Vec<(String, String)> {
        match &self.sorting {
            Some(Sorting::Signed(name)) => {
                let sign = if descending { "-" } else { "" };
                vec![(name.clone(), format!("{sign}{field}"))]
            }
            Some(Sorting::Ordered) => vec![
                ("_sort".into(), field.into()),
                (
                    "_order".into(),
                    if descending { "desc" } else { "asc" }.into(),
                ),
            ],
            None => Vec::new(),
        }
    }
}

/// The href of a resource's collection, if it has one without parameters.
pub fn collection_href(spec: &Spec, resource: &str) -> Option<String> {
    match &spec.dialect {
        Dialect::OpenApi(api) => {
            let map = api.resources.iter().find(|map| map.name == resource)?;
            let parts = segments(&map.collection);
            let fixed = parts.iter().all(|part| matches!(part, Segment::Literal(_)));
            fixed.then(|| format!("{}{}", api.base_path, map.collection))
        }
        _ => Some(links::collection(spec, resource)),
    }
}

/// The href of the record of `resource` whose id is `id`, if it has one.
pub fn item_href(spec: &Spec, resource: &Resource, id: &Value) -> Option<String> {
    let text = display(id);
    if text.is_empty() {
        return None;
    }
    match &spec.dialect {
        Dialect::OpenApi(api) => {
            let map = api.resources.iter().find(|map| map.name == resource.name)?;
            let mut path = api.base_path.clone();
            let mut filled = false;
            for part in segments(map.item.as_deref()?) {
                path.push('/');
                match part {
                    Segment::Literal(literal) => path.push_str(&literal),
                    // The item's own id is the template's last parameter.
                    Segment::Parameter(_) if filled => return None,
                    Segment::Parameter(_) => {
                        filled = true;
                        path.push_str(
                            &percent_encoding::utf8_percent_encode(
                                &text,
                                percent_encoding::NON_ALPHANUMERIC,
                            )
                            .to_string(),
                        );
                    }
                }
            }
            filled.then_some(path)
        }
        Dialect::JsonServer => Some(links::item(spec, &resource.name, &RecordId::Text(text))),
        _ => RecordId::from_json(resource.id, id).map(|id| links::item(spec, &resource.name, &id)),
    }
}

/// The href of the item `id` of a collection listed at `collection_href`:
/// its own ([`item_href`]), or, for an OpenAPI document's nested collection
/// (whose path names its parent: `/articles/{slug}/comments`), the listed
/// collection's path and the id, where the item path is the collection's
/// and one parameter.
pub fn listed_item_href(
    spec: &Spec,
    resource: &Resource,
    collection_href: &str,
    id: &Value,
) -> Option<String> {
    item_href(spec, resource, id).or_else(|| {
        let Dialect::OpenApi(api) = &spec.dialect else {
            return None;
        };
        let map = api.resources.iter().find(|map| map.name == resource.name)?;
        let collection = segments(&map.collection);
        let item = segments(map.item.as_deref()?);
        let text = display(id);
        let nested = item.len() == collection.len() + 1
            && item.starts_with(&collection)
            && matches!(item.last(), Some(Segment::Parameter(_)));
        (nested && !text.is_empty()).then(|| {
            format!(
                "{}/{}",
                collection_href.trim_end_matches('/'),
                percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
            )
        })
    })
}

/// `resource` with fields read off `records` where it declares none (a
/// db.json's collections): each property but the id, typed by its first
/// non-null value; `xxxId` names a record of `xxxs` where the spec has that
/// collection, as json-server relates them.
pub fn with_fields_of<'a>(
    spec: &Spec,
    resource: &Resource,
    records: impl IntoIterator<Item = &'a Map<String, Value>>,
) -> Resource {
    let mut shaped = resource.clone();
    if !resource.fields.is_empty() {
        return shaped;
    }
    for record in records {
        for (name, value) in record {
            if name == "id" || value.is_null() || shaped.field(name).is_some() {
                continue;
            }
            let kind = match value {
                Value::Bool(_) => FieldType::Boolean,
                Value::Number(number) if number.is_i64() || number.is_u64() => FieldType::Integer,
                Value::Number(_) => FieldType::Number,
                Value::Array(_) => FieldType::Array,
                Value::Object(_) => FieldType::Object,
                _ => FieldType::String,
            };
            let reference = name
                .strip_suffix("Id")
                .map(crate::json_server::plural)
                .filter(|target| spec.resource(target).is_some())
                .map(|target| Reference {
                    resource: target,
                    on_delete: OnDelete::Cascade,
                });
            shaped.fields.push(Field {
                name: name.clone(),
                kind,
                required: false,
                unique: false,
                default: None,
                allowed: None,
                minimum: None,
                maximum: None,
                min_length: None,
                max_length: None,
                pattern: None,
                format: None,
                items: None,
                fake: None,
                reference,
                reachable_states: None,
                computed: None,
            });
        }
    }
    shaped
}

#[cfg(test)]
mod tests {
    use super::{Sorting, Vocabulary};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn json_servers_sort_is_sort_and_order() {
        let vocabulary = Vocabulary::json_server();
        let current = pairs(&[("_sort", "views,title"), ("_order", "desc,asc")]);
        assert_eq!(vocabulary.sorted_by(&current), Some(("views".into(), true)));
        assert_eq!(
            vocabulary.sort_by("views", false),
            pairs(&[("_sort", "views"), ("_order", "asc")])
        );
        assert!(vocabulary.is_window("_page") && vocabulary.is_window("_order"));
        assert!(!vocabulary.is_window("sort") && !vocabulary.is_window("title_like"));
    }

    #[test]
    fn a_signed_sort_is_one_parameter_and_no_sorting_has_none() {
        let declared = Vocabulary {
            sorting: Some(Sorting::Signed("sort_by".into())),
            per_page: None,
            page: None,
            search: false,
            operators: None,
            equality: Some(Vec::new()),
            shaping: &[],
        };
        assert_eq!(
            declared.sorted_by(&pairs(&[("sort_by", "-name")])),
            Some(("name".into(), true))
        );
        assert_eq!(
            declared.sort_by("name", true),
            pairs(&[("sort_by", "-name")])
        );
        let unsorted = Vocabulary {
            sorting: None,
            ..declared
        };
        assert_eq!(unsorted.sorted_by(&pairs(&[("sort", "name")])), None);
        assert!(unsorted.sort_by("name", false).is_empty());
    }
}
