//! The list parameters of json-server's and react-admin's clients, beside
//! standin's own: react-admin's `range` and `filter`, json-server's
//! `_sort`/`_order`.

use serde_json::Value;

use super::QueryError;
use super::parse::{ListParser, order_is_descending};
use super::{Filter, Operator, Sort};

impl ListParser<'_> {
    /// react-admin's `range=[0,24]`: the first and last index, inclusive.
    pub(super) fn range(&mut self, value: &str) -> Result<(), QueryError> {
        let bounds: Option<(u64, u64)> = serde_json::from_str::<Vec<u64>>(value)
            .ok()
            .filter(|bounds| bounds.len() == 2 && bounds[0] <= bounds[1])
            .map(|bounds| (bounds[0], bounds[1]));
        let Some((first, last)) = bounds else {
            return Err(QueryError::new(
                "range",
                format!("range must be [first, last] with first <= last, not '{value}'"),
            ));
        };
        self.start = Some(first);
        self.end = Some(("range".into(), last.saturating_add(1)));
        Ok(())
    }

    /// react-admin's `filter={"q": "x", "status": "draft", "id": [1, 2]}`.
    pub(super) fn filter_object(&mut self, value: &str) -> Result<(), QueryError> {
        let Ok(Value::Object(conditions)) = serde_json::from_str::<Value>(value) else {
            return Err(QueryError::new(
                "filter",
                format!("filter must be a JSON object, not '{value}'"),
            ));
        };
        for (key, condition) in conditions {
            let texts: Vec<String> = match condition {
                Value::Array(items) => items.iter().map(json_text).collect(),
                other => vec![json_text(&other)],
            };
            if key == "q" {
                self.set_search(
                    "filter",
                    texts.first().map(String::as_str).unwrap_or_default(),
                )?;
                continue;
            }
            if texts.is_empty() {
                // An empty list of allowed values matches nothing.
                let (column, _) = self.resolve_filter_name(&key)?;
                self.filters.push(Filter {
                    column,
                    operator: Operator::Eq,
                    values: Vec::new(),
                    as_instants: false,
                });
            }
            for text in texts {
                self.filter(&key, &text)?;
            }
        }
        Ok(())
    }

    /// json-server's `_sort=title,year&_order=asc,desc` (or `_sort=-year`).
    pub(super) fn json_server_sorts(&self) -> Result<Option<Vec<Sort>>, QueryError> {
        if self.json_server_sort.is_empty() {
            if !self.json_server_order.is_empty() {
                return Err(QueryError::new(
                    "_order",
                    "_order needs _sort to say what to order by",
                ));
            }
            return Ok(None);
        }
        let mut sorts = Vec::new();
        for (index, key) in self.json_server_sort.iter().enumerate() {
            let (field, mut descending) = match key.strip_prefix('-') {
                Some(field) => (field, true),
                None => (key.as_str(), false),
            };
            if let Some(order) = self.json_server_order.get(index) {
                descending = order_is_descending("_order", order)?;
            }
            sorts.push(self.sort_key("_sort", field, descending)?);
        }
        Ok(Some(sorts))
    }
}

/// The text of a JSON value as if it came from a query string.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
