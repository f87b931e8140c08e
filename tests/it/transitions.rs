//! State transitions: allowed changes of a field, initial states, and the
//! states generated records are put in.

use crate::helpers::{Storage, error_fields, json, problem, spawn, spawn_with};
use reqwest::Method;
use serde_json::json;

const ORDERS: &str = r#"
standin: 1
resources:
  orders:
    fields:
      status: { type: string, enum: [pending, paid, shipped, cancelled], default: pending }
      note: string
    transitions:
      status: { pending: [paid, cancelled], paid: [shipped, cancelled] }
    records: [{ note: first }]
"#;

#[tokio::test]
async fn transitions_allow_only_the_listed_changes() {
    for storage in Storage::BOTH {
        let app = spawn_with(ORDERS, storage);
        let response = app
            .send_json(Method::PATCH, "/orders/1", json!({ "status": "shipped" }))
            .await;
        let body = problem(response, 409).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("from 'pending' it may change to paid, cancelled"),
            "{detail}"
        );
        assert_eq!(error_fields(&body), ["status"]);
        assert_eq!(
            app.send_json(Method::PATCH, "/orders/1", json!({ "status": "paid" }))
                .await
                .status(),
            200
        );
        assert_eq!(
            app.send_json(
                Method::PATCH,
                "/orders/1",
                json!({ "note": "other fields change freely" })
            )
            .await
            .status(),
            200
        );
        let response = app
            .send_json(Method::PUT, "/orders/1", json!({ "status": "pending" }))
            .await;
        problem(response, 409).await;
        assert_eq!(
            app.send_json(Method::PUT, "/orders/1", json!({ "status": "shipped" }))
                .await
                .status(),
            200
        );
        let body = problem(
            app.send_json(Method::PATCH, "/orders/1", json!({ "status": "paid" }))
                .await,
            409,
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("'shipped' is final"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_record_starts_in_an_initial_state_the_first_by_default() {
    let app = spawn(ORDERS);
    let created = app.post("/orders", json!({ "note": "new" })).await;
    assert_eq!(created.status(), 201);
    assert_eq!(json(created).await["status"], "pending");
    for path in ["/orders"] {
        let body = problem(app.post(path, json!({ "status": "shipped" })).await, 409).await;
        assert_eq!(error_fields(&body), ["status"]);
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("a record starts as pending"),
            "{body}"
        );
    }
    // A record without a state may take only an initial one.
    let spec = ORDERS.replace(", default: pending }", " }");
    let app = spawn(&spec);
    let bare = json(app.post("/orders", json!({ "note": "bare" })).await).await;
    let path = format!("/orders/{}", bare["id"]);
    problem(
        app.send_json(Method::PATCH, &path, json!({ "status": "paid" }))
            .await,
        409,
    )
    .await;
    let response = app
        .send_json(Method::PATCH, &path, json!({ "status": "pending" }))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn initial_states_can_be_listed_and_generated_records_are_in_reachable_states() {
    let spec = ORDERS
        .replace(
            "status: { pending: [paid, cancelled], paid: [shipped, cancelled] }",
            "status: { pending: [paid, cancelled], paid: [shipped], held: [cancelled] }\n    initial_states: { status: [pending, paid] }",
        )
        .replace("[pending, paid, shipped, cancelled]", "[pending, paid, shipped, cancelled, held]")
        .replace("records: [{ note: first }]", "count: 60");
    let app = spawn(&spec);
    assert_eq!(
        app.post("/orders", json!({ "status": "paid" }))
            .await
            .status(),
        201
    );
    let body = problem(app.post("/orders", json!({ "status": "held" })).await, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("a record starts as pending or paid"),
        "{body}"
    );
    // `held` is a state, but no record can reach it: none is generated in it.
    let orders = json(app.get_json("/orders?per_page=100").await).await;
    let states: std::collections::BTreeSet<&str> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["cancelled", "paid", "pending", "shipped"]
    );
}

#[test]
fn initial_states_are_checked_against_the_transitions_and_the_default() {
    let spec = ORDERS.replace(
        "    records: [{ note: first }]",
        "    initial_states: { status: [paid, shiped] }\n    records: [{ note: first }]",
    );
    let errors = standin::parse("t.yaml", &spec).unwrap_err().to_string();
    assert!(
        errors.contains("'shiped' is not a state of status's transitions"),
        "{errors}"
    );
    assert!(errors.contains("did you mean 'shipped'?"), "{errors}");
    assert!(
        errors.contains("its default 'pending' is not a state a record may start in (paid)"),
        "{errors}"
    );
}

#[test]
fn transitions_are_checked_against_the_field() {
    let errors =
        standin::parse("t.yaml", &ORDERS.replace("paid: [shipped", "paid: [shiped")).unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("'shiped' is not one of the field's values"),
        "{errors}"
    );
    assert!(
        errors.to_string().contains("did you mean 'shipped'?"),
        "{errors}"
    );
}

#[tokio::test]
async fn clearing_a_final_state_is_a_disallowed_transition() {
    let spec = ORDERS.replace("      status: { type: string, enum: [pending, paid, shipped, cancelled], default: pending }", "      status: { type: string, enum: [pending, paid, shipped, cancelled] }");
    let app = spawn(&spec.replace(
        "records: [{ note: first }]",
        "records: [{ note: first, status: shipped }]",
    ));
    problem(
        app.send_json(Method::PATCH, "/orders/1", json!({ "status": null }))
            .await,
        409,
    )
    .await;
    let created = json(app.post("/orders", json!({ "note": "no state yet" })).await).await;
    let path = format!("/orders/{}", created["id"]);
    let skipping = app
        .send_json(Method::PATCH, &path, json!({ "status": "paid" }))
        .await;
    problem(skipping, 409).await;
    let response = app
        .send_json(Method::PATCH, &path, json!({ "status": "pending" }))
        .await;
    assert_eq!(response.status(), 200, "a first state is an initial one");
}
