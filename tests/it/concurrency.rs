//! Concurrent writers never lose an update.

use serde_json::{Map, Value, json};

use crate::helpers::{Storage, json, spawn_with};

#[tokio::test]
async fn many_clients_patching_one_record_lose_no_update() {
    let fields: String = (0..16)
        .map(|index| format!("      f{index}: integer\n"))
        .collect();
    let spec = format!(
        "standin: 1\nresources:\n  counters:\n    fields:\n{fields}    records:\n      - {{}}\n"
    );
    for storage in Storage::BOTH {
        let app = std::sync::Arc::new(spawn_with(&spec, storage));
        let mut tasks = Vec::new();
        for client in 0..16 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                for round in 1..=10 {
                    let body = json!({ format!("f{client}"): round });
                    let response = app
                        .send_json(reqwest::Method::PATCH, "/counters/1", body)
                        .await;
                    assert_eq!(response.status(), 200);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let record = json(app.get("/counters/1").await).await;
        let expected: Map<String, Value> = (0..16)
            .map(|index| (format!("f{index}"), json!(10)))
            .collect();
        for (field, value) in expected {
            assert_eq!(record[&field], value, "{storage:?}: {field} lost an update");
        }
    }
}
