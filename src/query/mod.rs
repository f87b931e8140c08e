//! Query strings of collection and item requests, typed against the spec:
//! filters with operators, sorting, full-text search, paging, embedding and
//! sparse fieldsets, in standin's own dialect and in json-server's and
//! react-admin's. Every parameter is understood or rejected with its name;
//! nothing is silently ignored. Knows nothing of SQL or HTTP.

mod clients;
mod parse;
mod selection;
mod values;

use serde_json::Value;

pub use parse::{parse_item, parse_list};
pub use selection::embed_paths;
pub use values::{ColumnKind, check_operator, column_kind};

/// Most sort keys a query may give.
pub const MAX_SORT_KEYS: usize = 16;
/// Most filter conditions a query may give (each operator on a field is one;
/// repeated equalities on one field count once).
pub const MAX_FILTERS: usize = 500;
/// Most values all filters may list together (`id=1&id=2`, `__in`).
pub const MAX_FILTER_VALUES: usize = 1000;
/// Most words a search (`q`) may have.
pub const MAX_SEARCH_WORDS: usize = 32;
/// Longest search (`q`), in characters.
pub const MAX_SEARCH_LENGTH: usize = 1000;

/// Compiles a `_like` pattern as the SQL `REGEXP` function does: ignoring
/// case, and bounded in size (the query parser and the store share it, so a
/// pattern the parser accepts always compiles in SQL).
pub fn like_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// A rejected query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The parameter's name.
    pub parameter: String,
    /// What is wrong with it, with a suggestion where one helps.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(parameter: &str, message: impl Into<String>) -> QueryError {
        QueryError {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }
}

/// What a filter or sort key reads from a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The record's id.
    Id,
    /// When it was created.
    CreatedAt,
    /// When it last changed.
    UpdatedAt,
    /// One of the spec's fields.
    Field(String),
}

impl Column {
    /// The column named `name`, if the resource has one.
    pub fn named(name: &str) -> Column {
        match name {
            "id" => Column::Id,
            "created_at" => Column::CreatedAt,
            "updated_at" => Column::UpdatedAt,
            other => Column::Field(other.to_string()),
        }
    }

    /// Its name in URLs and records.
    pub fn name(&self) -> &str {
        match self {
            Column::Id => "id",
            Column::CreatedAt => "created_at",
            Column::UpdatedAt => "updated_at",
            Column::Field(name) => name,
        }
    }
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal to any of the values.
    Eq,
    /// Different from the value (records without a value match).
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Text containing the value, ignoring case.
    Contains,
    /// An array containing the value (`__contains` on an array field).
    Includes,
    /// Text starting with the value, ignoring case.
    StartsWith,
    /// Whether there is no value (the value is a boolean).
    IsNull,
    /// Text matching a regular expression, ignoring case (json-server's `_like`).
    Like,
}

impl Operator {
    /// The operators by their suffix (`year__gte`); `__in` is `Eq` with several values.
    pub const SUFFIXES: [(&'static str, Operator); 10] = [
        ("ne", Operator::Ne),
        ("lt", Operator::Lt),
        ("lte", Operator::Lte),
        ("gt", Operator::Gt),
        ("gte", Operator::Gte),
        ("in", Operator::Eq),
        ("contains", Operator::Contains),
        ("startswith", Operator::StartsWith),
        ("isnull", Operator::IsNull),
        ("like", Operator::Like),
    ];
}

/// One condition on the records of a collection; all filters must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// What is compared.
    pub column: Column,
    /// How.
    pub operator: Operator,
    /// With what, typed like the column (several for `Eq`: any of them).
    pub values: Vec<Value>,
    /// Compare as points in time (date-time fields, whose values may be
    /// written with any offset) rather than as stored.
    pub as_instants: bool,
}

/// One key of an ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// What to order by.
    pub column: Column,
    /// Largest first.
    pub descending: bool,
    /// Order as points in time (date-time fields, written with any offset).
    pub as_instants: bool,
}

/// The most segments an embed path may have (`comments.author.company` is 3).
pub const MAX_EMBED_DEPTH: usize = 3;

/// Related records to include in each item, with what to embed in each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embed {
    /// The record a reference field points at.
    Reference {
        /// The name it was asked for by (`author` for a field `authorId`).
        name: String,
        /// The reference field.
        field: String,
        /// The referenced resource.
        resource: String,
        /// What to embed in the referenced record (`company` of `author.company`).
        nested: Vec<Embed>,
    },
    /// The records of another resource that reference the item.
    Inverse {
        /// The inverse.
        inverse: crate::spec::Inverse,
        /// What to embed in each referencing record (`author` of `comments.author`).
        nested: Vec<Embed>,
    },
}

impl Embed {
    /// The name it was asked for by and is embedded under.
    pub fn name(&self) -> &str {
        match self {
            Embed::Reference { name, .. } => name,
            Embed::Inverse { inverse, .. } => &inverse.name,
        }
    }

    /// The resource whose records it holds.
    pub fn resource(&self) -> &str {
        match self {
            Embed::Reference { resource, .. } => resource,
            Embed::Inverse { inverse, .. } => &inverse.resource,
        }
    }

    /// What to embed in each of its records.
    pub fn nested(&self) -> &[Embed] {
        match self {
            Embed::Reference { nested, .. } | Embed::Inverse { nested, .. } => nested,
        }
    }

    /// Every resource it reads: its own and those of its nested embeds.
    pub fn resources(&self) -> Vec<&str> {
        let mut found = vec![self.resource()];
        for nested in self.nested() {
            found.extend(nested.resources());
        }
        found
    }
}

/// Which records of a collection to return, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Conditions every record must meet.
    pub filters: Vec<Filter>,
    /// Words to find in the resource's search fields.
    pub search: Option<String>,
    /// Ordering (ties are always broken by id).
    pub sort: Vec<Sort>,
    /// Records to skip.
    pub offset: u64,
    /// Records to return.
    pub limit: u32,
    /// Related records to include.
    pub embed: Vec<Embed>,
    /// The only fields to include, if restricted.
    pub fields: Option<Vec<String>>,
    /// The request's parameters other than paging, repeated in page links.
    pub link_parameters: Vec<(String, String)>,
}

impl ListQuery {
    /// The 1-based page the window starts on.
    pub fn page(&self) -> u64 {
        self.offset / u64::from(self.limit) + 1
    }
}

/// What an item request may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemQuery {
    /// Related records to include.
    pub embed: Vec<Embed>,
    /// The only fields to include, if restricted.
    pub fields: Option<Vec<String>>,
}

#[cfg(test)]
mod tests;
