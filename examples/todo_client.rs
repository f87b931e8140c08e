//! A small client for a todo API, and its test suite, which runs against
//! standin in-process: the way a Rust project uses standin as a test double.
//!
//! `cargo run --example todo_client` talks to a fresh standin and prints the
//! open todos; `cargo test --example todo_client` runs the suite below (plain
//! `cargo test` runs it too).

use serde::Deserialize;
use serde_json::json;

/// A todo as the API returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Todo {
    pub id: i64,
    pub title: String,
    pub done: bool,
    pub priority: i64,
}

/// The client under test.
pub struct TodoClient {
    base: String,
    http: reqwest::Client,
}

impl TodoClient {
    pub fn new(base: &str) -> TodoClient {
        TodoClient {
            base: base.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// The open todos, most urgent first.
    pub async fn open(&self) -> reqwest::Result<Vec<Todo>> {
        self.http
            .get(format!(
                "{}/todos?done=false&sort=priority,id&per_page=100",
                self.base
            ))
            .header("accept", "application/json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Adds a todo and returns it.
    pub async fn add(&self, title: &str, priority: i64) -> reqwest::Result<Todo> {
        self.http
            .post(format!("{}/todos", self.base))
            .header("accept", "application/json")
            .json(&json!({ "title": title, "priority": priority }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Marks a todo done.
    pub async fn complete(&self, id: i64) -> reqwest::Result<Todo> {
        self.http
            .patch(format!("{}/todos/{id}", self.base))
            .header("accept", "application/json")
            .json(&json!({ "done": true }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = standin::Server::start_from_file("specs/todo.yaml")?;
    let client = TodoClient::new(server.url());
    client.add("Try standin", 1).await?;
    for todo in client.open().await?.iter().take(5) {
        println!("#{} [{}] {}", todo.id, todo.priority, todo.title);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> standin::Server {
        standin::Server::start_from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/todo.yaml"))
            .expect("the example spec is valid")
    }

    #[tokio::test]
    async fn open_todos_come_most_urgent_first() {
        let server = server();
        let todos = TodoClient::new(server.url()).open().await.unwrap();
        assert!(todos.iter().all(|todo| !todo.done));
        let priorities: Vec<i64> = todos.iter().map(|todo| todo.priority).collect();
        assert!(
            priorities.windows(2).all(|pair| pair[0] <= pair[1]),
            "{priorities:?}"
        );
    }

    #[tokio::test]
    async fn adding_sends_the_title_and_priority() {
        let server = server();
        let todo = TodoClient::new(server.url())
            .add("Ship it", 2)
            .await
            .unwrap();
        assert_eq!(
            (todo.title.as_str(), todo.priority, todo.done),
            ("Ship it", 2, false)
        );
        let received = server.received_requests();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].method, "POST");
        assert_eq!(
            received[0].body,
            json!({ "title": "Ship it", "priority": 2 })
        );
    }

    #[tokio::test]
    async fn completing_removes_a_todo_from_the_open_list_until_reset() {
        let server = server();
        let client = TodoClient::new(server.url());
        let first = client.open().await.unwrap()[0].clone();
        assert!(client.complete(first.id).await.unwrap().done);
        assert!(!client.open().await.unwrap().contains(&first));
        server.reset().unwrap();
        assert!(client.open().await.unwrap().contains(&first));
    }

    #[tokio::test]
    async fn a_server_error_surfaces_as_an_error() {
        let server = server();
        let result = TodoClient::new(server.url()).complete(9999).await;
        assert_eq!(
            result.unwrap_err().status().map(|status| status.as_u16()),
            Some(404)
        );
    }
}
