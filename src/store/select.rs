//! Compiling a [`ListQuery`] into SQL: filters, search, order and window.
//! Values are only ever bound parameters; the only names spliced in are the
//! spec's field names, which are identifiers.

use rusqlite::types::Value as Sql;

use super::counts::{Membership, Reads};
use super::{field_expression, search, sql_value, value_expression};
use crate::query::{Column, Filter, ListQuery, Operator, Sort};
use crate::spec::{IdKind, Resource};

/// The SQL expression of a column.
pub(super) fn column_sql(resource: &Resource, column: &Column) -> String {
    match column {
        Column::Id => "id".to_string(),
        Column::CreatedAt => "created_at".to_string(),
        Column::UpdatedAt => "updated_at".to_string(),
        Column::Field(name) => value_expression(resource, name),
    }
}

/// Whether `column` is a computed field of `resource` (no index can hold it).
fn is_computed(resource: &Resource, column: &Column) -> bool {
    match column {
        Column::Field(name) => resource
            .field(name)
            .is_some_and(|field| field.is_computed()),
        _ => false,
    }
}

/// Folds text for case-insensitive comparison, as `standin_fold()` does in SQL.
pub(super) fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn filter_sql(resource: &Resource, filter: &Filter, parameters: &mut Vec<Sql>) -> String {
    if filter.as_instants && filter.operator != Operator::IsNull {
        return instant_filter_sql(resource, filter, parameters);
    }
    let column = column_sql(resource, &filter.column);
    let value = filter.values.first().cloned().unwrap_or_default();
    match filter.operator {
        Operator::Eq => match filter.values.len() {
            0 => "0".to_string(),
            1 => {
                parameters.push(sql_value(&value));
                format!("{column} = ?")
            }
            count => {
                parameters.extend(filter.values.iter().map(sql_value));
                format!("{column} IN ({})", vec!["?"; count].join(", "))
            }
        },
        Operator::Ne => {
            parameters.push(sql_value(&value));
            format!("({column} IS NULL OR {column} <> ?)")
        }
        Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte => {
            parameters.push(sql_value(&value));
            let symbol = match filter.operator {
                Operator::Lt => "<",
                Operator::Lte => "<=",
                Operator::Gt => ">",
                _ => ">=",
            };
            format!("{column} {symbol} ?")
        }
        Operator::Contains => {
            parameters.push(Sql::Text(fold(value.as_str().unwrap_or_default())));
            format!("instr(standin_fold({column}), ?) > 0")
        }
        Operator::Includes => {
            parameters.push(sql_value(&value));
            let name = filter.column.name();
            format!("EXISTS (SELECT 1 FROM json_each(data, '$.{name}') WHERE value = ?)")
        }
        Operator::StartsWith => {
            parameters.push(Sql::Text(fold(value.as_str().unwrap_or_default())));
            format!("instr(standin_fold({column}), ?) = 1")
        }
        Operator::IsNull => {
            if value.as_bool().unwrap_or(true) {
                format!("{column} IS NULL")
            } else {
                format!("{column} IS NOT NULL")
            }
        }
        Operator::Like => {
            parameters.push(sql_value(&value));
            format!("{column} REGEXP ?")
        }
    }
}

/// A filter on a date-time field, comparing points in time: values may carry
/// any offset, so they are compared through SQLite's `julianday()`.
fn instant_filter_sql(resource: &Resource, filter: &Filter, parameters: &mut Vec<Sql>) -> String {
    let column = format!("julianday({})", column_sql(resource, &filter.column));
    let symbol = match filter.operator {
        Operator::Lt => "<",
        Operator::Lte => "<=",
        Operator::Gt => ">",
        Operator::Gte => ">=",
        Operator::Ne => {
            parameters.extend(filter.values.iter().map(sql_value));
            return format!("({column} IS NULL OR {column} <> julianday(?))");
        }
        _ => {
            parameters.extend(filter.values.iter().map(sql_value));
            let any = vec!["julianday(?)"; filter.values.len()].join(", ");
            return if filter.values.is_empty() {
                "0".to_string()
            } else {
                format!("{column} IN ({any})")
            };
        }
    };
    parameters.extend(filter.values.first().map(sql_value));
    format!("{column} {symbol} julianday(?)")
}

/// A list query compiled to SQL: the statement of its page, whose parameters
/// end with LIMIT and OFFSET, and the statement counting its matches.
pub(super) struct Compiled {
    /// Selects the page's rows, as [`super::read::COLUMNS`].
    pub page: String,
    /// The page's parameters, but for LIMIT and OFFSET.
    pub parameters: Vec<Sql>,
    /// Counts the matching records.
    pub count: String,
    /// The count's parameters.
    pub count_parameters: Vec<Sql>,
    /// How to tell whether a record created matches.
    pub membership: Membership,
    /// What of a record decides whether it matches.
    pub reads: Reads,
    /// The page's FROM, WHERE (its parameters are the page's) and ORDER BY.
    pub from: String,
    pub condition: String,
    pub order: String,
    /// The expressions the page's order compares, each with whether it is
    /// descending, ending with `id`, when none can be null (so a page can be
    /// read from the place of a record in that order, [`at_or_after`]); a
    /// search, or a sort on a field, has none.
    pub order_keys: Option<Vec<(String, bool)>>,
    /// What of a record decides whether it matches and where it comes.
    pub order_reads: Reads,
}

/// Compiles a list query on `resource`, with `extra` filters (an inverse
/// collection's scope). A search is driven by the search index: its matches
/// are joined to their records and, ordered by an integer id, come in the
/// index's own order, so that a page stops after its last record; a search
/// alone is counted from the index, which holds live records only.
pub(super) fn compile(resource: &Resource, query: &ListQuery, extra: &[Filter]) -> Compiled {
    let table = super::table(resource);
    let mut parameters = Vec::new();
    let mut conditions = vec!["deleted_at IS NULL".to_string()];
    let mut one = vec![format!("{table}.id = ?"), "deleted_at IS NULL".to_string()];
    let mut from = table.clone();
    let mut order = order_clause(resource, &query.sort);
    let mut search_count = None;
    if let Some(words) = &query.search {
        let index = search::index_table(resource);
        let matches = search::match_parameter(words);
        from = format!("{index} CROSS JOIN {table} ON {table}.rowid = {index}.rowid");
        conditions.push(format!("{index} MATCH ?"));
        parameters.push(matches.clone());
        if resource.id == IdKind::Integer && query.sort.iter().all(|key| key.column == Column::Id) {
            let descending = query.sort.first().is_some_and(|key| key.descending);
            order = format!("{index}.rowid {}", if descending { "DESC" } else { "ASC" });
        }
        search_count = Some((
            format!("SELECT count(*) FROM {index} WHERE {index} MATCH ?"),
            vec![matches],
        ));
    }
    let searched_only = query.filters.is_empty() && extra.is_empty();
    for filter in query.filters.iter().chain(extra) {
        let sql = filter_sql(resource, filter, &mut parameters);
        one.push(sql.clone());
        conditions.push(sql);
    }
    let condition = conjunction(&conditions);
    let membership = match &query.search {
        Some(words) => Membership::Search(search::searched_text(resource), words.clone()),
        None => Membership::Query(
            format!("SELECT count(*) FROM {table} WHERE {}", conjunction(&one)),
            parameters.clone(),
        ),
    };
    let (count, count_parameters) = match search_count {
        Some(count) if searched_only => count,
        _ => (
            format!("SELECT count(*) FROM {from} WHERE {condition}"),
            parameters.clone(),
        ),
    };
    let reads = reads(resource, query, extra);
    let order_reads = order_reads(resource, &query.sort, &reads);
    Compiled {
        page: format!(
            "SELECT {} FROM {from} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
            super::record_columns(resource)
        ),
        parameters,
        count,
        count_parameters,
        membership,
        reads,
        order_keys: order_keys(resource, query),
        order_reads,
        from,
        condition,
        order,
    }
}

/// The keys of `query`'s order when each is a column no record leaves null
/// (`id`, `created_at`, `updated_at`), ending with `id`; else none.
fn order_keys(resource: &Resource, query: &ListQuery) -> Option<Vec<(String, bool)>> {
    if query.search.is_some() {
        return None;
    }
    let mut keys = Vec::new();
    for key in &query.sort {
        if !matches!(
            key.column,
            Column::Id | Column::CreatedAt | Column::UpdatedAt
        ) {
            return None;
        }
        keys.push((sort_expression(resource, key), key.descending));
    }
    if !query.sort.iter().any(|key| key.column == Column::Id) {
        keys.push(("id".to_string(), false));
    }
    Some(keys)
}

/// The condition that a record comes at or after the one whose order keys
/// are `values`, in the order of `keys` ([`Compiled::order_keys`]), with its
/// parameters: a range on the first key, which an index seeks to, and the
/// whole comparison, key by key (the last, `id`, tells every record apart).
pub(super) fn at_or_after(keys: &[(String, bool)], values: &[Sql]) -> (String, Vec<Sql>) {
    let mut parameters = Vec::new();
    let mut alternatives = Vec::new();
    for (index, (expression, descending)) in keys.iter().enumerate() {
        let mut terms: Vec<String> = keys[..index]
            .iter()
            .map(|(before, _)| format!("{before} = ?"))
            .collect();
        parameters.extend(values[..index].iter().cloned());
        let last = index + 1 == keys.len();
        let comparison = match (descending, last) {
            (true, false) => "<",
            (false, false) => ">",
            (true, true) => "<=",
            (false, true) => ">=",
        };
        terms.push(format!("{expression} {comparison} ?"));
        parameters.push(values[index].clone());
        alternatives.push(format!("({})", terms.join(" AND ")));
    }
    let (first, descending) = &keys[0];
    let range = format!("{first} {} ?", if *descending { "<=" } else { ">=" });
    parameters.insert(0, values[0].clone());
    (
        format!("{range} AND ({})", alternatives.join(" OR ")),
        parameters,
    )
}

impl Compiled {
    /// The key its total is kept under: the count's SQL and parameters.
    pub(super) fn total_key(&self) -> String {
        format!("{}\u{0}{:?}", self.count, self.count_parameters)
    }
}

/// What of a record decides whether it matches `query` and `extra`: the
/// fields its filters compare and its search reads.
fn reads(resource: &Resource, query: &ListQuery, extra: &[Filter]) -> Reads {
    let mut fields: Vec<String> = match query.search {
        Some(_) => resource.search.clone(),
        None => Vec::new(),
    };
    for filter in query.filters.iter().chain(extra) {
        if !reads_column(resource, &filter.column, &mut fields) {
            return Reads::Everything;
        }
    }
    Reads::Fields(fields)
}

/// Adds to `fields` what of a record `column` reads: none for `id` and
/// `created_at` (neither changes while a record lives), `updated_at`, or a
/// field's top-level name (a nested path changes with it); false for a
/// computed field, which may read anything of the record.
fn reads_column(resource: &Resource, column: &Column, fields: &mut Vec<String>) -> bool {
    match column {
        Column::Id | Column::CreatedAt => {}
        Column::UpdatedAt => fields.push("updated_at".to_string()),
        Column::Field(_) if is_computed(resource, column) => return false,
        Column::Field(name) => fields.push(name.split('.').next().unwrap_or(name).to_string()),
    }
    true
}

/// What of a record decides whether it matches (`reads`) and where it
/// comes in the order `sort`.
fn order_reads(resource: &Resource, sort: &[Sort], reads: &Reads) -> Reads {
    let Reads::Fields(fields) = reads else {
        return Reads::Everything;
    };
    let mut fields = fields.clone();
    for key in sort {
        if !reads_column(resource, &key.column, &mut fields) {
            return Reads::Everything;
        }
    }
    Reads::Fields(fields)
}

/// `conditions` joined with AND, nested as a balanced tree: SQLite refuses
/// expressions deeper than 1,000, and a flat chain is as deep as it is long.
/// (Nesting changes no plan: SQLite splits a WHERE into all its AND terms.)
fn conjunction(conditions: &[String]) -> String {
    if conditions.len() <= 16 {
        return conditions.join(" AND ");
    }
    let (left, right) = conditions.split_at(conditions.len() / 2);
    format!("({}) AND ({})", conjunction(left), conjunction(right))
}

/// The index (name and SQL) on one field of a resource, for filters on it.
pub(super) fn column_index(resource: &Resource, field: &str) -> (String, String) {
    let name = format!("ix_{}.{field}", resource.name);
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS \"{name}\" ON {} ({}) WHERE deleted_at IS NULL",
        super::table(resource),
        field_expression(resource, field)
    );
    (name, sql)
}

/// The single-column indexes serving a query's filters.
pub(super) fn filter_indexes(
    resource: &Resource,
    query: &ListQuery,
    scope: &[Filter],
) -> Vec<(String, String)> {
    query
        .filters
        .iter()
        .chain(scope)
        .filter(|filter| {
            !filter.as_instants
                && !is_computed(resource, &filter.column)
                && !matches!(filter.operator, Operator::Contains | Operator::Includes | Operator::Like)
        })
        .filter_map(|filter| match &filter.column {
            Column::Field(name) => Some(column_index(resource, name)),
            Column::CreatedAt | Column::UpdatedAt => {
                let column = filter.column.name();
                let name = format!("ix_{}.{column}", resource.name);
                let sql = format!(
                    "CREATE INDEX IF NOT EXISTS \"{name}\" ON {} ({column}) WHERE deleted_at IS NULL",
                    super::table(resource)
                );
                Some((name, sql))
            }
            Column::Id => None,
        })
        .collect()
}

/// Most indexes made automatically for one resource's query patterns.
pub(super) const MAX_AUTO_INDEXES: usize = 16;

/// The composite index (name and SQL) serving a query's single-value
/// equality filters and its order: `(status, created_at DESC, id)` for
/// `status=published&sort=-created_at`. None when the order is by id alone.
pub(super) fn auto_index(
    resource: &Resource,
    query: &ListQuery,
    scope: &[Filter],
) -> Option<(String, String)> {
    if query.sort.iter().all(|key| key.column == Column::Id) {
        return None;
    }
    // A computed value cannot be indexed: such a query is served without.
    let computed = query
        .filters
        .iter()
        .chain(scope)
        .map(|filter| &filter.column);
    if computed
        .chain(query.sort.iter().map(|key| &key.column))
        .any(|column| is_computed(resource, column))
    {
        return None;
    }
    let mut equalities: Vec<String> = query
        .filters
        .iter()
        .chain(scope)
        .filter(|filter| {
            filter.operator == Operator::Eq && filter.values.len() == 1 && !filter.as_instants
        })
        .map(|filter| column_sql(resource, &filter.column))
        .collect();
    equalities.sort();
    equalities.dedup();
    let mut columns = equalities;
    columns.extend(query.sort.iter().map(|key| {
        format!(
            "{} {}",
            sort_expression(resource, key),
            if key.descending { "DESC" } else { "ASC" }
        )
    }));
    if !query.sort.iter().any(|key| key.column == Column::Id) {
        columns.push("id ASC".to_string());
    }
    let list = columns.join(", ");
    let name = format!(
        "\"ax_{}_{}\"",
        resource.name,
        crate::fingerprint::hex(list.as_bytes())
    );
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS {name} ON {} ({list}) WHERE deleted_at IS NULL",
        super::table(resource)
    );
    Some((name, sql))
}

/// The SQL expression a sort key orders by.
fn sort_expression(resource: &Resource, key: &Sort) -> String {
    if key.as_instants {
        format!("julianday({})", column_sql(resource, &key.column))
    } else {
        column_sql(resource, &key.column)
    }
}

/// The ORDER BY clause: the sort keys, then id to break ties.
fn order_clause(resource: &Resource, sort: &[Sort]) -> String {
    let mut keys: Vec<String> = sort
        .iter()
        .map(|key| {
            let direction = if key.descending { "DESC" } else { "ASC" };
            format!("{} {direction}", sort_expression(resource, key))
        })
        .collect();
    if !sort.iter().any(|key| key.column == Column::Id) {
        keys.push("id ASC".to_string());
    }
    keys.join(", ")
}
