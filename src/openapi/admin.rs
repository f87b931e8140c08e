//! The admin API in the OpenAPI document: health, the spec, this document,
//! the journal and reset (tag `admin`), and the test double's routes (tag
//! `test-double`): verification, one-off stubs and isolated sessions, with
//! the schemas of what they take and answer. Those schemas say what the
//! serde types of `matcher`, `stubs`, `journal` and `service::sessions`
//! read and write; tests/it/admin_openapi.rs holds them to the server.

use serde_json::{Map, Value, json};

use super::{JSON, problem, schemas::reference};
use crate::spec::Spec;

/// The tag of the test double's routes.
const TEST_DOUBLE: &str = "test-double";

/// A `$ref` to one of the admin API's component schemas. Their names carry a
/// `standin.` prefix, which no resource's component name can have (those are
/// letters and digits), so a resource named `verification` keeps its own.
fn admin_schema(name: &str) -> Value {
    reference(&format!("standin.{name}"))
}

/// The tags the document declares, with what each groups.
pub fn tags() -> Value {
    json!([{
        "name": TEST_DOUBLE,
        "description": "The test double's admin routes: verification of received requests, one-off stubs and isolated sessions. Each changes what the server answers next (a stub answers ahead of the spec), so conformance runs leave them out.",
    }])
}

/// The admin API's paths, under `/_standin/`.
pub fn paths(spec: &Spec, paths: &mut Map<String, Value>) {
    // Every admin route refuses a web page of another site, and a request
    // without the admin token when the server was started with one
    // (`--admin-token`, which this document does not know of).
    let with_auth = |mut responses: Value| {
        match spec.auth {
            Some(_) => {
                responses["401"] = problem(
                    "no token, or an unknown one (the spec's, or the admin token with --admin-token)",
                );
                responses["403"] = problem(
                    "the token lacks the admin scope, or a web page of another site sent it",
                );
            }
            None => {
                responses["401"] = problem("with --admin-token: no admin token, or another one");
                responses["403"] = problem("a web page of another site sent it");
            }
        }
        responses
    };
    // This document is for every client: only the spec's auth guards it.
    let with_read_auth = |mut responses: Value| {
        if spec.auth.is_some() {
            responses["401"] = problem("no token, or an unknown one");
            responses["403"] = problem("the token lacks the read scope");
        }
        responses
    };
    service_paths(paths, &with_auth, &with_read_auth);
    test_double_paths(paths, &with_auth);
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "200": { "description": description, "content": { JSON: { "schema": schema } } } })
}

/// Health, the spec, this document, the journal and reset: each within the
/// session the request names, if any (which starts it if it is new).
fn service_paths(
    paths: &mut Map<String, Value>,
    with_auth: &dyn Fn(Value) -> Value,
    with_read_auth: &dyn Fn(Value) -> Value,
) {
    let operation = |id: &str, summary: &str, responses: Value| json!({ "operationId": id, "summary": summary, "tags": ["admin"], "responses": with_auth(in_session(responses)) });
    let get = |id: &str, summary: &str, responses: Value| json!({ "get": operation(id, summary, refusing(responses, "")) });
    paths.insert(
        "/_standin/health".into(),
        get(
            "health",
            "Status, spec, last reload error, record counts",
            ok("health", reference("standin.Object")),
        ),
    );
    paths.insert(
        "/_standin/spec".into(),
        get(
            "spec",
            "The normalised spec",
            ok("the spec", reference("standin.Object")),
        ),
    );
    let document = in_session(refusing(ok("OpenAPI 3.1", reference("standin.Object")), ""));
    paths.insert(
        "/_standin/openapi.json".into(),
        json!({ "get": { "operationId": "openapi", "summary": "This document", "tags": ["admin"], "responses": with_read_auth(document) } }),
    );
    let mut listed = ok(
        "requests, oldest first",
        json!({ "type": "array", "items": admin_schema("ReceivedRequest") }),
    );
    listed["400"] = problem("a bad filter, or a query parameter it does not take");
    let mut requests = json!({
        "get": operation("requests", "The journal of received requests", listed),
        "delete": operation(
            "clear_requests",
            "Forget the journal",
            refusing(json!({ "204": { "description": "cleared" } }), ""),
        ),
    });
    requests["get"]["parameters"] = json!([
        { "name": "method", "in": "query", "schema": { "type": "string" } },
        { "name": "path", "in": "query", "schema": { "type": "string" } },
        { "name": "status", "in": "query", "schema": { "type": "integer", "minimum": 100, "maximum": 599 } },
    ]);
    paths.insert("/_standin/requests".into(), requests);
    let mut reset = refusing(
        ok("the resources restored", reference("standin.Object")),
        "",
    );
    reset["500"] = problem("the database failed");
    paths.insert(
        "/_standin/reset".into(),
        json!({ "post": operation("reset", "Back to the seeded records", reset) }),
    );
}

/// What an admin route that takes no query parameter answers to one.
const NO_PARAMETERS: &str = "a query parameter (this route takes none)";

/// Verification, stubs and sessions.
fn test_double_paths(paths: &mut Map<String, Value>, with_auth: &dyn Fn(Value) -> Value) {
    let operation = |id: &str, summary: &str, responses: Value| json!({ "operationId": id, "summary": summary, "tags": [TEST_DOUBLE], "responses": with_auth(responses) });
    verification_path(paths, &operation);
    stub_paths(paths, &operation);
    session_paths(paths, &operation);
}

/// `responses` with a 400 for `refused`, and for a query parameter.
fn refusing(mut responses: Value, refused: &str) -> Value {
    let description = match refused {
        "" => NO_PARAMETERS.to_string(),
        refused => format!("{refused}, or {NO_PARAMETERS}"),
    };
    responses["400"] = problem(&description);
    responses
}

/// `responses` of a route whose stubs or journal are a session's own when
/// the request names one (`Standin-Session`), which starts it if it is new.
fn in_session(mut responses: Value) -> Value {
    if let Some(refused) = responses["400"]["description"].as_str() {
        responses["400"]["description"] =
            json!(format!("{refused}, or a session key standin does not take"));
    }
    responses["503"] = problem(
        "the session the request names cannot start: as many as allowed are alive, or their data takes the memory allowed",
    );
    let failed = match responses["500"]["description"].as_str() {
        Some(failed) => format!("{failed}, or the session's data could not be made"),
        None => "the session's data could not be made".to_string(),
    };
    responses["500"] = problem(&failed);
    responses
}

/// `operation` taking a JSON body of `schema`, refused past the body limit.
fn with_body(mut operation: Value, schema: Value) -> Value {
    operation["requestBody"] =
        json!({ "required": true, "content": { JSON: { "schema": schema } } });
    operation["responses"]["413"] = problem("the body is over the body limit");
    operation
}

type Operation<'a> = dyn Fn(&str, &str, Value) -> Value + 'a;

fn verification_path(paths: &mut Map<String, Value>, operation: &Operation) {
    let matched = ok(
        "how many journaled requests match, which, and the closest of the others",
        admin_schema("Verification"),
    );
    let matched = refusing(
        matched,
        "the body is not a request pattern (or its path pattern cannot be compiled)",
    );
    paths.insert(
        "/_standin/requests/match".into(),
        json!({ "post": with_body(operation("match_requests", "Verification: the journaled requests a pattern matches, and near misses", in_session(matched)), admin_schema("RequestPattern")) }),
    );
}

fn stub_paths(paths: &mut Map<String, Value>, operation: &Operation) {
    let created = json!({ "201": {
        "description": "the stub in place, with its id",
        "headers": { "Location": { "description": "the stub's URI", "required": true, "schema": { "type": "string" } } },
        "content": { JSON: { "schema": admin_schema("Stub") } },
        "links": {
            "stub": { "operationId": "stub", "parameters": { "id": "$response.body#/id" } },
            "remove_stub": { "operationId": "remove_stub", "parameters": { "id": "$response.body#/id" } },
        },
    } });
    let created = refusing(
        created,
        "the body is not a stub, its path pattern cannot be compiled, or 1,000 stubs are in place already",
    );
    let listed = ok(
        "the stubs in place, oldest first",
        json!({ "type": "array", "items": admin_schema("Stub") }),
    );
    let cleared = json!({ "204": { "description": "every stub removed" } });
    paths.insert(
        "/_standin/stubs".into(),
        json!({
            "get": operation("stubs", "The stubs in place", in_session(refusing(listed, ""))),
            "post": with_body(operation("add_stub", "Answer the next requests a pattern matches as given, ahead of the spec", in_session(created)), admin_schema("StubDefinition")),
            "delete": operation("clear_stubs", "Remove every stub", in_session(refusing(cleared, ""))),
        }),
    );
    let mut one = refusing(ok("the stub", admin_schema("Stub")), "");
    one["404"] = problem("no stub has this id");
    let mut removed = refusing(json!({ "204": { "description": "the stub removed" } }), "");
    removed["404"] = problem("no stub has this id");
    paths.insert(
        "/_standin/stubs/{id}".into(),
        json!({
            "parameters": [{ "name": "id", "in": "path", "required": true, "description": "the stub's id (another value is 404)", "schema": { "type": "integer", "minimum": 1 } }],
            "get": operation("stub", "One stub", in_session(one)),
            "delete": operation("remove_stub", "Remove one stub", in_session(removed)),
        }),
    );
}

/// Listing and ending sessions, which happens outside any: no session starts.
fn session_paths(paths: &mut Map<String, Value>, operation: &Operation) {
    let listed = ok(
        "the sessions alive, by key, and their limits",
        admin_schema("Sessions"),
    );
    let ended = json!({ "204": { "description": "every session ended" } });
    paths.insert(
        "/_standin/sessions".into(),
        json!({
            "get": operation("sessions", "The isolated sessions alive, and their limits", refusing(listed, "")),
            "delete": operation("end_sessions", "End every session", refusing(ended, "")),
        }),
    );
    let mut one = refusing(ok("the session", admin_schema("SessionInfo")), "");
    one["404"] = problem("no session of this key is alive");
    let mut ended = refusing(json!({ "204": { "description": "the session ended" } }), "");
    ended["404"] = problem("no session of this key is alive");
    paths.insert(
        "/_standin/sessions/{key}".into(),
        json!({
            "parameters": [{ "name": "key", "in": "path", "required": true, "description": "the session's key (another value is 404)", "schema": { "type": "string", "pattern": SESSION_KEY } }],
            "get": operation("session", "One session", one),
            "delete": operation("end_session", "End one session", ended),
        }),
    );
}

/// The paths a request pattern's `path` may be: `/` first, `\` escaping the
/// next character, no `(` unescaped, no `:name(`, `:name+` or `:name*`
/// (what `rewrite::path_pattern` refuses, but for a pattern too large to
/// compile).
const PATH_PATTERN: &str =
    r"^/(?:[^\\(:]|\\[\s\S]|:[A-Za-z0-9_]+(?![A-Za-z0-9_(+*])|:(?![A-Za-z0-9_]))*$";
/// The header names a stub may send (those `http::HeaderName` takes).
const HEADER_NAME: &str = r##"^[!"#$%&'*+\-.0-9A-Z^_`a-z|~]+$"##;
/// The header values a stub may send (no control characters but tab).
const HEADER_VALUE: &str = r"^[^\x00-\x08\x0A-\x1F\x7F]*$";
/// A session's key.
const SESSION_KEY: &str = r"^[A-Za-z0-9._-]{1,64}$";

/// The admin API's component schemas: what the test double's routes take and answer.
pub fn components(schemas: &mut Map<String, Value>) {
    let strings = |description: &str| json!({ "type": "object", "description": description, "additionalProperties": { "type": "string" } });
    let count =
        |description: &str| json!({ "type": "integer", "minimum": 0, "description": description });
    let mut insert = |name: &str, schema: Value| {
        schemas.insert(format!("standin.{name}"), schema);
    };
    insert(
        "RequestPattern",
        json!({
            "type": "object",
            "description": "Which requests: every part given must hold (an absent or null one holds for any request).",
            "additionalProperties": false,
            "properties": {
                "method": { "type": ["string", "null"], "description": "the method, case-insensitive" },
                "path": { "type": ["string", "null"], "pattern": PATH_PATTERN, "description": "the path as sent, base path included: exact, or a pattern with :name (one segment) and * (anything), as custom routes read them; \\ escapes the next character" },
                "query": strings("query parameters the request has (one of its values, if repeated)"),
                "headers": strings("headers the request has: names case-insensitive, values exact"),
                "body": { "description": "a JSON value the body contains: an object may have more keys, arrays and scalars are equal (null: any body)" },
            },
        }),
    );
    insert(
        "StubResponse",
        json!({
            "type": "object",
            "description": "What a stub answers.",
            "additionalProperties": false,
            "properties": {
                "status": { "type": "integer", "minimum": 100, "maximum": 599, "default": 200 },
                "headers": {
                    "type": "object",
                    "description": "headers to send",
                    "propertyNames": { "pattern": HEADER_NAME, "maxLength": 65535 },
                    "additionalProperties": { "type": "string", "pattern": HEADER_VALUE },
                },
                "body": { "description": "a string is sent as it is (text/plain unless a Content-Type header says otherwise), any other JSON value as JSON; null or absent: no body" },
                "delay_ms": { "type": "integer", "minimum": 0, "maximum": crate::stubs::MAX_DELAY_MS, "default": 0, "description": "how long to wait before answering" },
                "drop_connection": { "type": "boolean", "default": false, "description": "end the connection without answering (after the delay)" },
            },
        }),
    );
    insert(
        "StubDefinition",
        json!({
            "type": "object",
            "description": "A stub: the answer to the next requests a pattern matches, ahead of the spec.",
            "additionalProperties": false,
            "properties": {
                "request": admin_schema("RequestPattern"),
                "response": admin_schema("StubResponse"),
                "times": { "type": ["integer", "null"], "minimum": 1, "maximum": u32::MAX, "description": "how many requests it answers before it is gone (absent or null: every one)" },
            },
        }),
    );
    insert(
        "Stub",
        json!({
            "type": "object",
            "description": "A stub in place.",
            "additionalProperties": false,
            "required": ["id", "request", "response", "remaining"],
            "properties": {
                "id": { "type": "integer", "minimum": 1 },
                "request": admin_schema("RequestPattern"),
                "response": admin_schema("StubResponse"),
                "remaining": { "type": ["integer", "null"], "minimum": 1, "description": "how many more requests it answers (null: every one)" },
            },
        }),
    );
    insert(
        "ReceivedRequest",
        json!({
            "type": "object",
            "description": "A request in the journal, and the status it was answered with.",
            "additionalProperties": false,
            "required": ["sequence", "time", "method", "path", "query", "headers", "body", "status", "duration_ms"],
            "properties": {
                "sequence": { "type": "integer", "minimum": 1, "description": "its position since the start" },
                "time": { "type": "string", "format": "date-time" },
                "method": { "type": "string" },
                "path": { "type": "string", "description": "as sent (percent-encoded)" },
                "query": { "type": "string", "description": "without ? (empty if none)" },
                "headers": strings("names lower-case, repeated ones joined with \", \", credentials redacted"),
                "body": { "description": "JSON if it parses, else text; null when empty" },
                "status": { "type": "integer", "minimum": 100, "maximum": 599 },
                "duration_ms": { "type": "number", "minimum": 0 },
                "stub": { "type": "integer", "minimum": 1, "description": "the stub that answered it" },
                "forwarded": {
                    "type": "object",
                    "description": "where it was forwarded to (an upstream), and what that answered (null: nothing)",
                    "additionalProperties": false,
                    "required": ["url", "status"],
                    "properties": { "url": { "type": "string" }, "status": { "type": ["integer", "null"], "minimum": 100, "maximum": 599 } },
                },
            },
        }),
    );
    insert(
        "NearMiss",
        json!({
            "type": "object",
            "description": "A request a pattern does not match, and why.",
            "additionalProperties": false,
            "required": ["request", "differences"],
            "properties": {
                "request": admin_schema("ReceivedRequest"),
                "differences": { "type": "array", "minItems": 1, "items": { "type": "string" }, "description": "each part of the pattern it does not satisfy" },
            },
        }),
    );
    insert(
        "Verification",
        json!({
            "type": "object",
            "description": "The journaled requests a pattern matches, and the closest of the others.",
            "additionalProperties": false,
            "required": ["count", "requests", "near_misses"],
            "properties": {
                "count": count("how many requests match"),
                "requests": { "type": "array", "items": admin_schema("ReceivedRequest"), "description": "the matching requests, oldest first" },
                "near_misses": { "type": "array", "maxItems": crate::matcher::MAX_NEAR_MISSES, "items": admin_schema("NearMiss"), "description": "fewest differences first, newest first among equals" },
            },
        }),
    );
    insert(
        "SessionInfo",
        json!({
            "type": "object",
            "description": "An isolated session alive.",
            "additionalProperties": false,
            "required": ["key", "created_at", "idle_ms", "requests", "bytes"],
            "properties": {
                "key": { "type": "string", "pattern": SESSION_KEY },
                "created_at": { "type": "string", "format": "date-time" },
                "idle_ms": count("how long it has gone unused"),
                "requests": count("the requests its journal holds"),
                "bytes": count("the bytes its data takes, measured after its last write"),
            },
        }),
    );
    insert(
        "Sessions",
        json!({
            "type": "object",
            "description": "The sessions alive, by key, and their limits.",
            "additionalProperties": false,
            "required": ["sessions", "limits"],
            "properties": {
                "sessions": { "type": "array", "items": admin_schema("SessionInfo") },
                "limits": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["max_sessions", "memory_bytes", "idle_seconds"],
                    "properties": {
                        "max_sessions": count("the most sessions alive at once"),
                        "memory_bytes": count("the most bytes their data may take together"),
                        "idle_seconds": count("how long a session may go unused before it ends"),
                    },
                },
            },
        }),
    );
}
