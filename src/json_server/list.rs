//! Listing a collection as json-server 0.17's `GET /name` does: parameters
//! that no record has are dropped, then full-text `q`, filters (`a.b=`,
//! `_ne`, `_lte`, `_gte`, `_like`), `_sort`/`_order`, and a window by
//! `_page`/`_limit` or `_start`/`_end`/`_limit`.

use serde_json::Value;

use super::{get_path, js_compare, js_string, parse_int};

/// Parameters json-server reads itself rather than as filters.
const OWN: &[&str] = &[
    "q", "_start", "_end", "_page", "_sort", "_order", "_limit", "_embed", "_expand", "_delay",
];

/// Page numbers for the `Link` header of a `_page` request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageLinks {
    /// The page asked for.
    pub current: u64,
    /// The first page.
    pub first: Option<u64>,
    /// The page before.
    pub prev: Option<u64>,
    /// The page after.
    pub next: Option<u64>,
    /// The last page.
    pub last: Option<u64>,
}

/// What a list request answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ListAnswer {
    /// The records in the window, in order.
    pub records: Vec<Value>,
    /// The number of records before the window, where the request asked for one.
    pub total: Option<usize>,
    /// Page links, for `_page` requests.
    pub links: Option<PageLinks>,
}

/// The first value of parameter `name`.
fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Lists `records` as json-server answers a request with `params` (in
/// order, repeated ones included); an error names a parameter that cannot apply.
pub fn list<R: std::borrow::Borrow<Value>>(
    records: &[R],
    params: &[(String, String)],
) -> Result<ListAnswer, (String, String)> {
    let mut chain: Vec<&Value> = records.iter().map(R::borrow).collect();
    // Parameters no record has are dropped, as json-server drops them.
    let mut filters: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, value) in params {
        if OWN.contains(&key.as_str()) || key == "callback" || key == "_" {
            continue;
        }
        let operator = ["_lte", "_gte", "_ne", "_like"]
            .iter()
            .any(|suffix| key.ends_with(suffix));
        if !operator && !chain.iter().any(|record| get_path(record, key).is_some()) {
            continue;
        }
        match filters.iter_mut().find(|(known, _)| *known == key) {
            Some((_, values)) => values.push(value),
            None => filters.push((key, vec![value])),
        }
    }
    if let Some(q) = first(params, "q").filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        chain.retain(|record| match record {
            Value::Object(object) => object.values().any(|value| deep_query(value, &q)),
            _ => false,
        });
    }
    for (key, values) in &filters {
        let filter = Filter::new(key, values)?;
        chain.retain(|record| filter.keeps(record));
    }
    if let Some(sort) = first(params, "_sort") {
        let orders: Vec<String> = first(params, "_order")
            .unwrap_or_default()
            .split(',')
            .map(str::to_lowercase)
            .collect();
        let keys: Vec<(&str, bool)> = sort
            .split(',')
            .enumerate()
            .map(|(index, path)| (path, orders.get(index).is_some_and(|order| order == "desc")))
            .collect();
        // Each record's values looked up once, not at each comparison.
        let mut sorted: Vec<(Vec<Option<&Value>>, &Value)> = chain
            .into_iter()
            .map(|record| {
                let values = keys.iter().map(|(path, _)| get_path(record, path));
                (values.collect(), record)
            })
            .collect();
        sorted.sort_by(|(a, _), (b, _)| {
            keys.iter()
                .zip(a.iter().zip(b))
                .map(|((_, descending), (a, b))| {
                    let order = compare_ascending(*a, *b);
                    if *descending { order.reverse() } else { order }
                })
                .find(|order| order.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        chain = sorted.into_iter().map(|(_, record)| record).collect();
    }
    let (page, limit, start, end) = (
        first(params, "_page"),
        first(params, "_limit"),
        first(params, "_start"),
        first(params, "_end"),
    );
    let total = (end.is_some() || limit.is_some() || page.is_some()).then_some(chain.len());
    let start_at = || start.and_then(parse_int).unwrap_or(0);
    let mut links = None;
    if let Some(page) = page {
        let page = parse_int(page).filter(|page| *page >= 1).unwrap_or(1);
        let per_page = limit
            .and_then(parse_int)
            .filter(|limit| *limit != 0)
            .unwrap_or(10);
        let (items, page_links) = paginate(chain, page, per_page);
        chain = items;
        links = Some(page_links);
    } else if let Some(end) = end {
        chain = js_slice(chain, start_at(), parse_int(end).unwrap_or(0));
    } else if let Some(limit) = limit {
        let start = start_at();
        chain = js_slice(
            chain,
            start,
            start.saturating_add(parse_int(limit).unwrap_or(0)),
        );
    }
    Ok(ListAnswer {
        records: chain.into_iter().cloned().collect(),
        total,
        links,
    })
}

/// Whether `q` (lower case) is in a string form of `value` or of anything in it.
fn deep_query(value: &Value, q: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| deep_query(item, q)),
        Value::Object(object) => object.values().any(|item| deep_query(item, q)),
        // Falsy values are never searched.
        Value::Null | Value::Bool(false) | Value::String(_) | Value::Number(_)
            if is_falsy(value) =>
        {
            false
        }
        Value::String(text) => contains_lower_case(text, q),
        other => js_string(other).to_lowercase().contains(q),
    }
}

/// Whether `text` in lower case contains `q` (in lower case), without
/// making a lower-case copy of text that is all ASCII.
fn contains_lower_case(text: &str, q: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(q);
    }
    let (haystack, needle) = (text.as_bytes(), q.as_bytes());
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    // Where the first letter is, in either case, then the rest compared.
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(found) = memchr::memchr2(lower, upper, &haystack[from..]) {
        let at = from + found;
        match haystack.get(at + 1..at + needle.len()) {
            Some(following) if following.eq_ignore_ascii_case(rest) => return true,
            Some(_) => from = at + 1,
            None => return false,
        }
    }
    false
}

fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(text) => text.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
        _ => false,
    }
}

/// One filtering parameter with its values.
struct Filter<'a> {
    path: &'a str,
    kind: Kind,
    values: &'a [&'a str],
    patterns: Vec<regex::Regex>,
}

#[derive(PartialEq)]
enum Kind {
    Equal,
    NotEqual,
    AtMost,
    AtLeast,
    Like,
}

impl<'a> Filter<'a> {
    fn new(key: &'a str, values: &'a [&'a str]) -> Result<Filter<'a>, (String, String)> {
        let (path, kind) = [
            ("_lte", Kind::AtMost),
            ("_gte", Kind::AtLeast),
            ("_ne", Kind::NotEqual),
            ("_like", Kind::Like),
        ]
        .into_iter()
        .find_map(|(suffix, kind)| key.strip_suffix(suffix).map(|path| (path, kind)))
        .unwrap_or((key, Kind::Equal));
        let mut patterns = Vec::new();
        if kind == Kind::Like {
            for value in values {
                let pattern = regex::RegexBuilder::new(value)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|error| {
                        (
                            key.to_string(),
                            format!("'{key}' is not a regular expression: {error}"),
                        )
                    })?;
                patterns.push(pattern);
            }
        }
        Ok(Filter {
            path,
            kind,
            values,
            patterns,
        })
    }

    fn keeps(&self, record: &Value) -> bool {
        let Some(found) = get_path(record, self.path).filter(|value| !value.is_null()) else {
            return false;
        };
        let text = match found {
            Value::String(text) => std::borrow::Cow::Borrowed(text.as_str()),
            other => std::borrow::Cow::Owned(js_string(other)),
        };
        let matches = |index: usize, value: &str| match self.kind {
            Kind::Equal => value == text,
            Kind::NotEqual => value != text,
            Kind::AtLeast => {
                js_compare(&Value::from(value), found).is_some_and(|order| order.is_le())
            }
            Kind::AtMost => {
                js_compare(&Value::from(value), found).is_some_and(|order| order.is_ge())
            }
            Kind::Like => self.patterns[index].is_match(&text),
        };
        let mut each = self
            .values
            .iter()
            .enumerate()
            .map(|(index, value)| matches(index, value));
        if self.kind == Kind::NotEqual {
            each.all(|kept| kept)
        } else {
            each.any(|kept| kept)
        }
    }
}

/// lodash's ascending order: values JavaScript can order, then the others,
/// `null`, and missing ones last.
fn compare_ascending(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |value: Option<&Value>| match value {
        None => 2,
        Some(Value::Null) => 1,
        Some(_) => 0,
    };
    match (a, b) {
        (Some(x), Some(y)) if rank(a) == 0 && rank(b) == 0 => {
            js_compare(x, y).unwrap_or(Ordering::Equal)
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// JavaScript's `array.slice(start, end)`.
fn js_slice<T>(items: Vec<T>, start: i64, end: i64) -> Vec<T> {
    let length = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let clamp = |index: i64| {
        if index < 0 {
            (length + index).max(0)
        } else {
            index.min(length)
        }
    };
    let (start, end) = (clamp(start), clamp(end));
    if start >= end {
        return Vec::new();
    }
    items
        .into_iter()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

/// json-server's `getPage`: the items of `page` and the neighbouring pages.
fn paginate<T>(items: Vec<T>, page: i64, per_page: i64) -> (Vec<T>, PageLinks) {
    let length = items.len() as i64;
    let start = (page - 1).saturating_mul(per_page);
    let end = page.saturating_mul(per_page);
    let window = js_slice(items, start, end);
    let mut links = PageLinks {
        current: page as u64,
        ..PageLinks::default()
    };
    if window.is_empty() {
        return (window, links);
    }
    if page > 1 {
        links.prev = Some(page as u64 - 1);
    }
    if end < length {
        links.next = Some(page as u64 + 1);
    }
    if window.len() as i64 != length && per_page > 0 {
        links.first = Some(1);
        links.last = Some(((length + per_page - 1) / per_page) as u64);
    } else {
        // getPage only sets the current page where there are several.
        links.current = 0;
    }
    (window, links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ids(answer: &ListAnswer) -> Vec<i64> {
        answer
            .records
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    }

    fn books() -> Vec<Value> {
        vec![
            json!({"id": 1, "title": "Photography", "views": 10, "author": {"name": "b"}}),
            json!({"id": 2, "title": "Cooking", "views": 200, "author": {"name": "a"}, "tags": ["x"]}),
            json!({"id": 3, "title": "Gardening", "author": {"name": "c"}}),
        ]
    }

    #[test]
    fn filters_follow_json_server() {
        let run = |pairs: &[(&str, &str)]| ids(&list(&books(), &params(pairs)).unwrap());
        assert_eq!(run(&[("nosuch", "1")]), [1, 2, 3]);
        assert_eq!(run(&[("views", "10")]), [1]);
        assert_eq!(run(&[("views_gte", "20")]), [2]);
        assert_eq!(run(&[("views_ne", "10")]), [2]);
        assert_eq!(
            run(&[("title_like", "^c"), ("title_like", "graph")]),
            [1, 2]
        );
        assert_eq!(run(&[("q", "GRAPH"), ("q", "cook")]), [1]);
        assert_eq!(run(&[("author.name", "c")]), [3]);
        assert_eq!(run(&[("_sort", "author.name")]), [2, 1, 3]);
        assert_eq!(run(&[("_sort", "views"), ("_order", "desc")]), [3, 2, 1]);
        assert_eq!(run(&[("_", "123"), ("callback", "f")]), [1, 2, 3]);
        assert!(list(&books(), &params(&[("title_like", "(")])).is_err());
    }

    #[test]
    fn a_search_ignores_case_in_any_script() {
        let records = vec![
            json!({"id": 1, "title": "ÉCOLE du Soir"}),
            json!({"id": 2, "title": "Straße", "views": 1234}),
            json!({"id": 3, "title": "plain ASCII Title"}),
        ];
        let run = |q: &str| ids(&list(&records, &params(&[("q", q)])).unwrap());
        assert_eq!(run("école"), [1]);
        assert_eq!(run("SOIR"), [1]);
        assert_eq!(run("STRASSE"), [] as [i64; 0]);
        assert_eq!(run("straße"), [2]);
        assert_eq!(run("23"), [2]);
        assert_eq!(run("ascii t"), [3]);
        assert_eq!(run("title!"), [] as [i64; 0]);
    }

    #[test]
    fn windows_and_pages_follow_json_server() {
        let many: Vec<Value> = (1..=25).map(|id| json!({"id": id})).collect();
        let all = list(&many, &[]).unwrap();
        assert_eq!((all.records.len(), all.total), (25, None));
        let page = list(&many, &params(&[("_page", "3")])).unwrap();
        assert_eq!(ids(&page), [21, 22, 23, 24, 25]);
        assert_eq!(page.total, Some(25));
        assert_eq!(
            page.links,
            Some(PageLinks {
                current: 3,
                first: Some(1),
                prev: Some(2),
                next: None,
                last: Some(3)
            })
        );
        let limited = list(&many, &params(&[("_limit", "200")])).unwrap();
        assert_eq!(limited.records.len(), 25);
        let window = list(&many, &params(&[("_start", "5"), ("_end", "8")])).unwrap();
        assert_eq!(ids(&window), [6, 7, 8]);
    }
}
