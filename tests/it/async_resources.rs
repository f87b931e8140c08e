//! Asynchronous resources: a create answers 202 and a monitor, which answers
//! 303 to the record once it is made.

use crate::helpers::{header, json, problem, spawn};
use serde_json::json;

#[tokio::test]
async fn an_async_resource_answers_202_then_its_monitor_303() {
    // `reports` stays pending for the whole test; `exports` ends at once.
    let spec = "standin: 1\nresources:\n  reports:\n    fields: { name: { type: string, required: true } }\n    async: 60s\n  exports:\n    fields: { name: { type: string, required: true } }\n    async: 10ms\n";
    let app = spawn(spec);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = app.post("/reports", json!({ "name": "quarterly" })).await;
    assert_eq!(response.status(), 202);
    let monitor = header(&response, "location").unwrap();
    assert!(monitor.starts_with("/_jobs/"), "{monitor}");
    let origin = app.url("");
    let pending = client
        .get(format!("{origin}{monitor}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 200);
    assert!(header(&pending, "retry-after").is_some());
    assert_eq!(json(pending).await["status"], "pending");
    let response = app.post("/exports", json!({ "name": "quarterly" })).await;
    assert_eq!(response.status(), 202);
    let monitor = header(&response, "location").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let done = loop {
        let response = client
            .get(format!("{origin}{monitor}"))
            .send()
            .await
            .unwrap();
        if response.status() == 303 {
            break response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(header(&done, "location").as_deref(), Some("/exports/1"));
    assert_eq!(json(app.get("/exports/1").await).await["name"], "quarterly");
    assert_eq!(app.get("/reports/1").await.status(), 404, "still pending");
    problem(app.post("/reports", json!({})).await, 400).await;
    problem(
        client
            .get(format!("{origin}/_jobs/999"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}
