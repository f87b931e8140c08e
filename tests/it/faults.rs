//! Fault injection: `Prefer: status=`, seeded error rates and latency.

use crate::helpers::{LIBRARY, problem, spawn};
use reqwest::Method;

#[tokio::test]
async fn prefer_status_injects_that_status() {
    let app = spawn(LIBRARY);
    for (preference, status) in [
        ("status=503", 503),
        ("code=404", 404),
        ("return=minimal, status=500", 500),
    ] {
        let response = app
            .request(Method::GET, "/books/1")
            .header("prefer", preference)
            .send()
            .await
            .unwrap();
        let body = problem(response, status).await;
        assert_eq!(body["type"], "urn:standin:problem:injected");
    }
    let response = app
        .request(Method::GET, "/books/1")
        .header("prefer", "status=200")
        .send()
        .await
        .unwrap();
    problem(response, 400).await;
}

#[tokio::test]
async fn error_rate_fails_a_seeded_share_of_requests() {
    let spec = "standin: 1\nseed: 5\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n    error_rate: 0.5\n    latency: 1ms..3ms\n";
    let pattern = |app: crate::helpers::TestApp| async move {
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(app.get("/notes/1").await.status().as_u16());
        }
        statuses
    };
    let first = pattern(spawn(spec)).await;
    let second = pattern(spawn(spec)).await;
    assert_eq!(first, second, "the same seed fails the same requests");
    let failures = first.iter().filter(|status| **status == 500).count();
    assert!((5..=35).contains(&failures), "{failures} of 40 failed");
    assert!(first.iter().all(|status| *status == 200 || *status == 500));
}

#[tokio::test]
async fn latency_and_error_rate_are_checked_in_the_spec() {
    for (setting, fragment) in [
        ("latency: soon", "is not a duration"),
        ("latency: 200ms..20ms", "start is after its end"),
        ("error_rate: 2", "expected a share from 0 to 1"),
    ] {
        let spec = format!(
            "standin: 1\n{setting}\nresources:\n  notes:\n    fields: {{ text: string }}\n"
        );
        let errors = standin::parse("f.yaml", &spec).unwrap_err().to_string();
        assert!(errors.contains(fragment), "{setting}: {errors}");
    }
    let app = spawn(
        "standin: 1\nlatency: 1ms..2ms\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n",
    );
    assert_eq!(app.get("/notes/1").await.status(), 200);
}

#[tokio::test]
async fn a_resource_can_turn_a_global_error_rate_off() {
    let spec = "standin: 1\nerror_rate: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 1\n    error_rate: 0\n  tags:\n    fields: { name: string }\n    count: 1\n";
    let app = spawn(spec);
    assert_eq!(app.get("/notes/1").await.status(), 200);
    problem(app.get("/tags/1").await, 500).await;
}
