//! Parsing a query string into a [`ListQuery`] or [`ItemQuery`]: standin's
//! parameters, json-server's (`_page _limit _start _end _sort _order _embed
//! _expand field_gte ...`) and react-admin simple-rest's (`sort=["title","ASC"]`,
//! `range=[0,24]`, `filter={...}`), all mapped onto the same filters and window.
//! The clients' own parameters are read in `clients`, embeds and fieldsets in
//! `selection`.

use serde_json::Value;

use super::selection::{dedup_embeds, embeds, fields};
use super::values;
use super::{Column, Embed, Filter, ItemQuery, ListQuery, Operator, QueryError, Sort};
use crate::spec::{Resource, Spec, closest};

/// Parameters that choose the window; they are not repeated in page links.
const PAGING: &[&str] = &[
    "page",
    "per_page",
    "_page",
    "_per_page",
    "_limit",
    "_start",
    "_end",
    "range",
];
/// The other parameter names that are not filters.
const OPTIONS: &[&str] = &[
    "sort", "_sort", "_order", "q", "embed", "_embed", "_expand", "fields", "filter",
];

/// Parses the query string of a collection request.
pub fn parse_list(spec: &Spec, resource: &Resource, query: &str) -> Result<ListQuery, QueryError> {
    let mut parser = ListParser::new(spec, resource);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        parser.parameter(&name, &value)?;
        if !PAGING.contains(&name.as_ref()) {
            parser
                .link_parameters
                .push((name.into_owned(), value.into_owned()));
        }
    }
    parser.finish()
}

/// Parses the query string of an item request: only `embed` and `fields`.
pub fn parse_item(spec: &Spec, resource: &Resource, query: &str) -> Result<ItemQuery, QueryError> {
    let mut item = ItemQuery::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "embed" | "_embed" | "_expand" => {
                item.embed.extend(embeds(spec, resource, &name, &value)?)
            }
            "fields" => item.fields = Some(fields(resource, &name, &value)?),
            other => {
                let hint = suggestion(other, ["embed", "fields"]);
                return Err(QueryError::new(
                    other,
                    format!(
                        "unknown query parameter '{other}'{hint}: an item takes only embed and fields"
                    ),
                ));
            }
        }
    }
    item.embed = dedup_embeds(item.embed);
    Ok(item)
}

/// The parameters of a list request, gathered before they are checked together.
pub(super) struct ListParser<'a> {
    pub(super) spec: &'a Spec,
    pub(super) resource: &'a Resource,
    pub(super) filters: Vec<Filter>,
    pub(super) search: Option<String>,
    pub(super) sort: Option<Vec<Sort>>,
    pub(super) json_server_sort: Vec<String>,
    pub(super) json_server_order: Vec<String>,
    pub(super) page: Option<u64>,
    pub(super) per_page: Option<u32>,
    pub(super) start: Option<u64>,
    pub(super) end: Option<(String, u64)>,
    pub(super) embed: Vec<Embed>,
    pub(super) fields: Option<Vec<String>>,
    pub(super) link_parameters: Vec<(String, String)>,
}

impl<'a> ListParser<'a> {
    fn new(spec: &'a Spec, resource: &'a Resource) -> ListParser<'a> {
        ListParser {
            spec,
            resource,
            filters: Vec::new(),
            search: None,
            sort: None,
            json_server_sort: Vec::new(),
            json_server_order: Vec::new(),
            page: None,
            per_page: None,
            start: None,
            end: None,
            embed: Vec::new(),
            fields: None,
            link_parameters: Vec::new(),
        }
    }

    fn parameter(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        let max = u64::from(self.spec.max_page_size);
        match name {
            "page" | "_page" => {
                self.page = Some(whole_number(name, value, 1, u64::from(u32::MAX))?)
            }
            "per_page" | "_per_page" | "_limit" => {
                self.per_page = Some(whole_number(name, value, 1, max)? as u32)
            }
            "_start" => self.start = Some(whole_number(name, value, 0, u64::MAX >> 1)?),
            "_end" => {
                self.end = Some((
                    name.to_string(),
                    whole_number(name, value, 0, u64::MAX >> 1)?,
                ))
            }
            "range" => self.range(value)?,
            "sort" => self.sort = Some(self.sort_parameter(name, value)?),
            "_sort" => self
                .json_server_sort
                .extend(value.split(',').map(|key| key.trim().to_string())),
            "_order" => self
                .json_server_order
                .extend(value.split(',').map(|key| key.trim().to_ascii_lowercase())),
            "q" => self.set_search(name, value)?,
            "embed" | "_embed" | "_expand" => {
                self.embed
                    .extend(embeds(self.spec, self.resource, name, value)?)
            }
            "fields" => self.fields = Some(fields(self.resource, name, value)?),
            "filter" => self.filter_object(value)?,
            _ => self.filter(name, value)?,
        }
        Ok(())
    }

    pub(super) fn set_search(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        if self.resource.search.is_empty() {
            return Err(QueryError::new(
                name,
                format!("{} has no text fields to search", self.resource.name),
            ));
        }
        let words = value.trim();
        let count = words
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .count();
        if count > super::MAX_SEARCH_WORDS || words.chars().count() > super::MAX_SEARCH_LENGTH {
            return Err(QueryError::new(
                name,
                format!(
                    "a search takes at most {} words and {} characters; this one has {count} words and {} characters",
                    super::MAX_SEARCH_WORDS,
                    super::MAX_SEARCH_LENGTH,
                    words.chars().count()
                ),
            ));
        }
        self.search = (!words.is_empty()).then(|| words.to_string());
        Ok(())
    }

    /// `sort=-year,title`, or react-admin's `sort=["title","ASC"]`.
    fn sort_parameter(&self, name: &str, value: &str) -> Result<Vec<Sort>, QueryError> {
        if value.trim_start().starts_with('[') {
            let pair: Vec<String> = serde_json::from_str(value).map_err(|_| {
                QueryError::new(
                    name,
                    format!("sort must be [\"field\", \"ASC\" or \"DESC\"], not '{value}'"),
                )
            })?;
            let [field, order] = pair.as_slice() else {
                return Err(QueryError::new(
                    name,
                    format!("sort must be [\"field\", \"ASC\" or \"DESC\"], not '{value}'"),
                ));
            };
            let descending = order_is_descending(name, order)?;
            return Ok(vec![self.sort_key(name, field, descending)?]);
        }
        value
            .split(',')
            .map(|key| {
                let key = key.trim();
                match key.strip_prefix('-') {
                    Some(field) => self.sort_key(name, field, true),
                    None => self.sort_key(name, key.strip_prefix('+').unwrap_or(key), false),
                }
            })
            .collect()
    }

    fn sort(&self, column: Column, descending: bool) -> Sort {
        let as_instants =
            values::column_kind(self.spec, self.resource, &column) == values::ColumnKind::DateTime;
        Sort {
            column,
            descending,
            as_instants,
        }
    }

    pub(super) fn sort_key(
        &self,
        name: &str,
        field: &str,
        descending: bool,
    ) -> Result<Sort, QueryError> {
        match crate::spec::SortKey::column_error(field, &self.resource.fields) {
            None => Ok(self.sort(Column::named(field), descending)),
            Some((message, candidates)) => {
                let hint = suggestion(field, candidates.iter().map(String::as_str));
                Err(QueryError::new(
                    name,
                    format!("cannot sort on '{field}': {message}{hint}"),
                ))
            }
        }
    }

    /// The column and operator a filter parameter names.
    pub(super) fn resolve_filter_name(&self, name: &str) -> Result<(Column, Operator), QueryError> {
        if is_column(self.resource, name) {
            return Ok((Column::named(name), Operator::Eq));
        }
        if let Some((field, suffix)) = name.rsplit_once("__") {
            if !is_column(self.resource, field) {
                return Err(self.unknown(name, field));
            }
            return match Operator::SUFFIXES
                .iter()
                .find(|(known, _)| *known == suffix)
            {
                Some((_, operator)) => Ok((Column::named(field), *operator)),
                None => {
                    let hint =
                        suggestion(suffix, Operator::SUFFIXES.iter().map(|(known, _)| *known));
                    Err(QueryError::new(
                        name,
                        format!(
                            "unknown operator '__{suffix}'{hint}: use one of __ne __lt __lte __gt __gte __in __contains __startswith __isnull"
                        ),
                    ))
                }
            };
        }
        // json-server's suffixes: field_gte, field_lte, field_ne, field_like.
        for (suffix, operator) in [
            ("_gte", Operator::Gte),
            ("_lte", Operator::Lte),
            ("_ne", Operator::Ne),
            ("_like", Operator::Like),
        ] {
            if let Some(field) = name.strip_suffix(suffix)
                && is_column(self.resource, field)
            {
                return Ok((Column::named(field), operator));
            }
        }
        Err(self.unknown(name, name))
    }

    fn unknown(&self, parameter: &str, field: &str) -> QueryError {
        let mut candidates: Vec<&str> = PAGING.iter().chain(OPTIONS).copied().collect();
        candidates.extend(["id", "created_at", "updated_at"]);
        candidates.extend(self.resource.fields.iter().map(|field| field.name.as_str()));
        let hint = suggestion(field, candidates);
        let message = if parameter == field {
            format!(
                "unknown query parameter '{parameter}'{hint}: not a field of {} nor a known parameter",
                self.resource.name
            )
        } else {
            format!("unknown field '{field}' in '{parameter}'{hint}")
        };
        QueryError::new(parameter, message)
    }

    pub(super) fn filter(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        let (column, operator) = self.resolve_filter_name(name)?;
        let kind = values::column_kind(self.spec, self.resource, &column);
        values::check_operator(name, &kind, operator)?;
        let operator = match (operator, &kind) {
            (Operator::Contains, values::ColumnKind::Array(_)) => Operator::Includes,
            _ => operator,
        };
        let raw_values: Vec<&str> = if name.ends_with("__in") {
            let values: Vec<&str> = value.split(',').collect();
            if values.iter().any(|value| value.is_empty()) {
                return Err(QueryError::new(
                    name,
                    format!(
                        "{name} takes a comma-separated list of values, none of them empty, not '{value}'"
                    ),
                ));
            }
            values
        } else {
            vec![value]
        };
        let typed = raw_values
            .into_iter()
            .map(|raw| values::typed(name, &kind, operator, raw))
            .collect::<Result<Vec<Value>, QueryError>>()?;
        // Repeating an equality means any of the values.
        if operator == Operator::Eq
            && let Some(existing) = self
                .filters
                .iter_mut()
                .find(|filter| filter.column == column && filter.operator == Operator::Eq)
        {
            existing.values.extend(typed);
        } else {
            let as_instants = kind == values::ColumnKind::DateTime;
            self.filters.push(Filter {
                column,
                operator,
                values: typed,
                as_instants,
            });
        }
        // Checked as filters arrive, so that a huge query stops early.
        self.check_size()
    }

    fn finish(mut self) -> Result<ListQuery, QueryError> {
        if self.sort.is_some() && !self.json_server_sort.is_empty() {
            return Err(QueryError::new(
                "_sort",
                "_sort and sort both set an order: send one of them",
            ));
        }
        // `_start` takes a size from `_limit`/`per_page` or from `_end`, not both;
        // and a page number cannot be combined with a start.
        let windowed = self.start.is_some() || self.end.is_some();
        let conflict = if windowed && self.page.is_some() {
            Some("page")
        } else if self.end.is_some() && self.per_page.is_some() {
            Some("per_page")
        } else {
            None
        };
        if let Some(name) = conflict {
            return Err(QueryError::new(
                name,
                format!(
                    "{name} and _start/_end/range both choose the records: send one way of paging"
                ),
            ));
        }
        self.check_size()?;
        let sort = self
            .json_server_sorts()?
            .or(self.sort.take())
            .unwrap_or_else(|| {
                self.resource
                    .default_sort
                    .iter()
                    .map(|key| self.sort(Column::named(&key.column), key.descending))
                    .collect()
            });
        let (offset, limit) = self.window()?;
        Ok(ListQuery {
            filters: self.filters,
            search: self.search,
            sort,
            offset,
            limit,
            embed: dedup_embeds(self.embed),
            fields: self.fields,
            link_parameters: self.link_parameters,
        })
    }

    /// Refuses a query over the limits of sort keys, filters and values, which
    /// keep every query's SQL small enough to plan and run quickly.
    fn check_size(&self) -> Result<(), QueryError> {
        let (sort_name, sort_keys) = if self.json_server_sort.is_empty() {
            ("sort", self.sort.as_ref().map_or(0, Vec::len))
        } else {
            ("_sort", self.json_server_sort.len())
        };
        if sort_keys > super::MAX_SORT_KEYS {
            return Err(QueryError::new(
                sort_name,
                format!(
                    "a query sorts by at most {} keys; this one gives {sort_keys}",
                    super::MAX_SORT_KEYS
                ),
            ));
        }
        if let Some(filter) = self.filters.get(super::MAX_FILTERS) {
            return Err(QueryError::new(
                filter.column.name(),
                format!(
                    "a query has at most {} filters; this one has {}",
                    super::MAX_FILTERS,
                    self.filters.len()
                ),
            ));
        }
        let values: usize = self.filters.iter().map(|filter| filter.values.len()).sum();
        if values > super::MAX_FILTER_VALUES {
            let widest = self
                .filters
                .iter()
                .max_by_key(|filter| filter.values.len())
                .expect("values come from filters");
            return Err(QueryError::new(
                widest.column.name(),
                format!(
                    "a query's filters list at most {} values together; this one lists {values}",
                    super::MAX_FILTER_VALUES
                ),
            ));
        }
        Ok(())
    }

    fn window(&self) -> Result<(u64, u32), QueryError> {
        let per_page = self.per_page.unwrap_or(self.spec.page_size);
        if let Some(start) = self.start.or(self.end.as_ref().map(|_| 0)) {
            let limit = match &self.end {
                Some((name, end)) => {
                    if *end <= start {
                        return Err(QueryError::new(
                            name,
                            format!("{name} must be after the start ({start})"),
                        ));
                    }
                    let span = end - start;
                    if span > u64::from(self.spec.max_page_size) {
                        return Err(QueryError::new(
                            name,
                            format!(
                                "at most {} records fit in one response; asked for {span}",
                                self.spec.max_page_size
                            ),
                        ));
                    }
                    span as u32
                }
                None => per_page,
            };
            return Ok((start, limit));
        }
        let page = self.page.unwrap_or(1);
        Ok(((page - 1).saturating_mul(u64::from(per_page)), per_page))
    }
}

pub(super) fn order_is_descending(name: &str, order: &str) -> Result<bool, QueryError> {
    match order.to_ascii_lowercase().as_str() {
        "asc" => Ok(false),
        "desc" => Ok(true),
        _ => Err(QueryError::new(
            name,
            format!("the order must be asc or desc, not '{order}'"),
        )),
    }
}

pub(super) fn is_column(resource: &Resource, name: &str) -> bool {
    ["id", "created_at", "updated_at"].contains(&name) || resource.field(name).is_some()
}

fn whole_number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, QueryError> {
    match value.trim().parse::<u64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(QueryError::new(
            name,
            format!("{name} must be a whole number from {min} to {max}, not '{value}'"),
        )),
    }
}

/// ` (did you mean 'x'?)`, or nothing.
pub(super) fn suggestion<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates)
        .map(|candidate| format!(" (did you mean '{candidate}'?)"))
        .unwrap_or_default()
}
