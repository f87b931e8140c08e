//! The docs' examples are executable: every `curl` command shown in README.md
//! and docs/*.md with an expected answer (a `# 304` or `# ETag: "..."`
//! comment, or the response printed after a `$ curl` in a console block) is
//! run against a fresh server of specs/blog.yaml, the spec the docs serve at
//! localhost:8080, and its status, headers and body shape are compared.

use std::path::Path;

use crate::helpers::spawn;

/// One shown request and what the docs say it answers.
#[derive(Debug)]
struct Example {
    place: String,
    arguments: Vec<String>,
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body_keys: Vec<String>,
}

/// Splits a command line as a POSIX shell would, for the quoting docs use.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The expectation of a `# ...` comment: a status, or a header and its value.
fn expectation(comment: &str, example: &mut Example) {
    let comment = comment.trim();
    if let Ok(status) = comment.get(..3).unwrap_or_default().parse::<u16>() {
        example.status = Some(status);
    } else if let Some((name, value)) = comment.split_once(": ") {
        example
            .headers
            .push((name.to_ascii_lowercase(), value.to_string()));
    }
}

/// The examples of one file's `sh` and `console` blocks.
fn examples(file: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut found = Vec::new();
    // The kind of block we are in: `sh` or `console` (whose commands are
    // followed by their output).
    let mut block: Option<&str> = None;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((number, line)) = lines.next() {
        if let Some(fence) = line.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(fence),
            };
            continue;
        }
        let command = line.trim_start_matches("$ ");
        if !matches!(block, Some("sh" | "console")) || !command.starts_with("curl ") {
            continue;
        }
        let mut command = command.to_string();
        while command.ends_with('\\') {
            command.pop();
            command.push_str(lines.next().map_or("", |(_, next)| next));
        }
        let (request, comment) = match command.split_once(" # ") {
            Some((request, comment)) => (request.to_string(), Some(comment.to_string())),
            None => (command.clone(), None),
        };
        let mut example = Example {
            place: format!("{}:{}", file.display(), number + 1),
            arguments: words(&request),
            status: None,
            headers: Vec::new(),
            body_keys: Vec::new(),
        };
        if let Some(comment) = comment {
            expectation(&comment, &mut example);
        }
        // A console block prints the answer after the command, up to a blank line.
        while let Some((_, output)) = lines.peek().copied().filter(|_| block == Some("console")) {
            if output.is_empty() || output.starts_with("$ ") || output.starts_with("```") {
                break;
            }
            lines.next();
            if let Some(status) = output.strip_prefix("HTTP/1.1 ") {
                example.status = status.get(..3).and_then(|code| code.parse().ok());
            } else if let Some((name, value)) = output
                .split_once(": ")
                .filter(|_| !output.starts_with(['{', ' ', '"']))
            {
                example.headers.push((name.to_string(), value.to_string()));
            } else {
                for key in output.split('"').skip(1).step_by(2) {
                    if output.contains(&format!("\"{key}\":")) {
                        example.body_keys.push(key.to_string());
                    }
                }
            }
        }
        if example.status.is_some() || !example.headers.is_empty() || !example.body_keys.is_empty()
        {
            found.push(example);
        }
    }
    found
}

/// Sends the request `curl` would, to the server at `origin`.
async fn send(client: &reqwest::Client, origin: &str, arguments: &[String]) -> reqwest::Response {
    let mut method = None;
    let mut headers = Vec::new();
    let mut body = None;
    let mut url = None;
    let mut rest = arguments.iter().skip(1);
    while let Some(argument) = rest.next() {
        match argument.as_str() {
            "-X" => method = rest.next().cloned(),
            "-H" => headers.extend(rest.next().and_then(|header| header.split_once(": "))),
            "-d" => body = rest.next().cloned(),
            flag if flag.starts_with('-') => {}
            address => url = Some(address.replacen("localhost:8080", origin, 1)),
        }
    }
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
    let mut request = client.request(method.parse().unwrap(), url.expect("a URL"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.expect("answered")
}

#[tokio::test]
async fn every_curl_example_in_the_docs_answers_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(root.join("specs/blog.yaml")).unwrap();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    crate::helpers::tls_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut checked = 0;
    for file in files {
        // A fresh server per file: each file's examples run in order.
        let app = spawn(&spec);
        let origin = app
            .url("")
            .trim_end_matches("/api")
            .trim_start_matches("http://")
            .to_string();
        for example in examples(&file) {
            let response = send(&client, &format!("http://{origin}"), &example.arguments).await;
            let status = response.status().as_u16();
            if let Some(expected) = example.status {
                assert_eq!(
                    status, expected,
                    "{}: {:?}",
                    example.place, example.arguments
                );
            }
            for (name, value) in &example.headers {
                let actual = response
                    .headers()
                    .get(name)
                    .map(|actual| actual.to_str().unwrap().to_string());
                assert_eq!(
                    actual.as_deref(),
                    Some(value.as_str()),
                    "{}: header {name}",
                    example.place
                );
            }
            let text = response.text().await.unwrap();
            for key in &example.body_keys {
                assert!(
                    text.contains(&format!("\"{key}\":")),
                    "{}: no {key} in {text}",
                    example.place
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
}
