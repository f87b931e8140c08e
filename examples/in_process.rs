//! Starts standin in-process from an example spec, creates a todo and lists
//! the todos: the way a Rust test suite uses standin as a test double.
//!
//! Run with `cargo run --example in_process`.

use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = standin::Server::start_from_file("specs/todo.yaml")?;
    println!("standin is serving at {}", server.url());

    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/todos", server.url()))
        .json(&json!({ "title": "Try standin", "priority": 1 }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("created todo {} ({})", created["id"], created["title"]);

    let response = client
        .get(format!("{}/todos?per_page=5", server.url()))
        .send()
        .await?;
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("?")
        .to_string();
    let todos: Vec<Value> = response.json().await?;
    println!("{total} todos; the first five:");
    for todo in todos {
        println!(
            "  #{} {} (done: {})",
            todo["id"], todo["title"], todo["done"]
        );
    }
    Ok(())
    // `server` is dropped here, which stops it.
}
