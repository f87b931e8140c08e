//! A differential test of query semantics: random filters, sorts and windows
//! over a seeded collection, each compared with the same query evaluated here
//! over all the records.

use std::cmp::Ordering;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json, spawn};

const ITEMS: &str = r#"
standin: 1
seed: 3
max_page_size: 500
resources:
  items:
    fields:
      name: { type: string, fake: word }
      rank: { type: integer, minimum: 0, maximum: 20 }
      score: { type: number, minimum: 0, maximum: 10 }
      active: boolean
      kind: { type: string, enum: [a, b, c] }
      day: date
    count: 300
"#;

const FIELDS: [&str; 7] = ["id", "name", "rank", "score", "active", "kind", "day"];

/// Orders values as SQLite does: NULL, then numbers (booleans are 0/1), then text.
fn sql_order(a: &Value, b: &Value) -> Ordering {
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Null => 0,
            Value::Bool(_) | Value::Number(_) => 1,
            _ => 2,
        }
    }
    fn number(value: &Value) -> f64 {
        match value {
            Value::Bool(flag) => f64::from(u8::from(*flag)),
            other => other.as_f64().unwrap_or(0.0),
        }
    }
    match (rank(a), rank(b)) {
        (1, 1) => number(a).total_cmp(&number(b)),
        (2, 2) => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
        (x, y) => x.cmp(&y),
    }
}

#[derive(Debug, Clone)]
struct Condition {
    field: &'static str,
    operator: &'static str,
    values: Vec<Value>,
}

impl Condition {
    fn parameter(&self) -> (String, String) {
        let text = |value: &Value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let name = if self.operator == "eq" {
            self.field.to_string()
        } else {
            format!("{}__{}", self.field, self.operator)
        };
        let value = self.values.iter().map(text).collect::<Vec<_>>().join(",");
        (name, value)
    }

    fn holds(&self, record: &Value) -> bool {
        let value = &record[self.field];
        let target = &self.values[0];
        let fold = |value: &Value| value.as_str().unwrap_or_default().to_lowercase();
        match self.operator {
            "eq" | "in" => {
                !value.is_null()
                    && self
                        .values
                        .iter()
                        .any(|target| sql_order(value, target) == Ordering::Equal)
            }
            "ne" => value.is_null() || sql_order(value, target) != Ordering::Equal,
            "lt" => !value.is_null() && sql_order(value, target) == Ordering::Less,
            "lte" => !value.is_null() && sql_order(value, target) != Ordering::Greater,
            "gt" => !value.is_null() && sql_order(value, target) == Ordering::Greater,
            "gte" => !value.is_null() && sql_order(value, target) != Ordering::Less,
            "contains" => value.is_string() && fold(value).contains(&fold(target)),
            "startswith" => value.is_string() && fold(value).starts_with(&fold(target)),
            "isnull" => value.is_null() == target.as_bool().unwrap(),
            other => unreachable!("{other}"),
        }
    }
}

fn random_condition(rng: &mut ChaCha8Rng, records: &[Value]) -> Condition {
    let field = FIELDS[rng.random_range(0..FIELDS.len())];
    let pick = |rng: &mut ChaCha8Rng| {
        let value = records[rng.random_range(0..records.len())][field].clone();
        if value.is_null() {
            records[0][field].clone()
        } else {
            value
        }
    };
    let operators: &[&str] = match field {
        "name" => &[
            "eq",
            "ne",
            "lt",
            "gt",
            "contains",
            "startswith",
            "isnull",
            "in",
        ],
        "active" => &["eq", "ne", "isnull"],
        _ => &["eq", "ne", "lt", "lte", "gt", "gte", "isnull", "in"],
    };
    let operator = operators[rng.random_range(0..operators.len())];
    let values = match operator {
        "isnull" => vec![Value::Bool(rng.random_bool(0.5))],
        "in" => vec![pick(rng), pick(rng)],
        "contains" | "startswith" => {
            let word = pick(rng).as_str().unwrap_or("a").to_uppercase();
            let length = rng.random_range(1..=word.chars().count().max(1));
            vec![Value::from(word.chars().take(length).collect::<String>())]
        }
        _ => vec![pick(rng)],
    };
    Condition {
        field,
        operator,
        values,
    }
}

async fn all_items(app: &TestApp) -> Vec<Value> {
    let body = json(app.get_json("/items?per_page=500").await).await;
    body.as_array().unwrap().clone()
}

#[tokio::test]
async fn random_queries_match_the_same_queries_evaluated_here() {
    let app = spawn(ITEMS);
    // Records with missing values, so that nulls take part.
    for index in 0..20 {
        let response = app
            .post("/items", json!({ "name": format!("Gap{index}") }))
            .await;
        assert_eq!(response.status(), 201);
    }
    let records = all_items(&app).await;
    assert_eq!(records.len(), 320);

    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for round in 0..250 {
        let conditions: Vec<Condition> = (0..rng.random_range(0..=3))
            .map(|_| random_condition(&mut rng, &records))
            .collect();
        let sort: Vec<(&str, bool)> = (0..rng.random_range(0..=2))
            .map(|_| {
                (
                    FIELDS[rng.random_range(0..FIELDS.len())],
                    rng.random_bool(0.5),
                )
            })
            .collect();
        let per_page = rng.random_range(1..=60u64);

        // Repeated equalities on one field mean any of their values.
        let mut merged: Vec<Condition> = Vec::new();
        for condition in &conditions {
            let earlier = merged.iter_mut().find(|earlier| {
                condition.operator == "eq"
                    && earlier.operator == "eq"
                    && earlier.field == condition.field
            });
            match earlier {
                Some(earlier) => earlier.values.extend(condition.values.clone()),
                None => merged.push(condition.clone()),
            }
        }
        let mut expected: Vec<&Value> = records
            .iter()
            .filter(|record| merged.iter().all(|condition| condition.holds(record)))
            .collect();
        expected.sort_by(|a, b| {
            for (field, descending) in &sort {
                let order = sql_order(&a[*field], &b[*field]);
                let order = if *descending { order.reverse() } else { order };
                if order != Ordering::Equal {
                    return order;
                }
            }
            a["id"].as_i64().cmp(&b["id"].as_i64())
        });
        let pages = (expected.len() as u64).div_ceil(per_page).max(1);
        let page = rng.random_range(1..=pages + 1);
        let window: Vec<i64> = expected
            .iter()
            .skip(((page - 1) * per_page) as usize)
            .take(per_page as usize)
            .map(|record| record["id"].as_i64().unwrap())
            .collect();

        let mut query = form_urlencoded::Serializer::new(String::new());
        for condition in &conditions {
            let (name, value) = condition.parameter();
            query.append_pair(&name, &value);
        }
        if !sort.is_empty() {
            let keys: Vec<String> = sort
                .iter()
                .map(|(field, descending)| format!("{}{field}", if *descending { "-" } else { "" }))
                .collect();
            query.append_pair("sort", &keys.join(","));
        }
        query.append_pair("per_page", &per_page.to_string());
        query.append_pair("page", &page.to_string());
        let query = query.finish();
        let response = app.get_json(&format!("/items?{query}")).await;
        assert_eq!(response.status(), 200, "round {round}: {query}");
        let total: usize = response.headers()["x-total-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let found: Vec<i64> = json(response)
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["id"].as_i64().unwrap())
            .collect();
        assert_eq!(total, expected.len(), "round {round}: total of {query}");
        assert_eq!(found, window, "round {round}: {query}");
    }
}
