//! The served model of an OpenAPI document: every operation with what it
//! accepts (parameters, body, credentials) and what it may answer, and the
//! role inference gave it on a resource.

use serde_json::Value;

use super::refs;
use super::schema;

/// An OpenAPI document as standin serves it.
#[derive(Debug)]
pub struct Api {
    /// The document, its schemas converted to JSON Schema.
    pub document: Value,
    /// Prefix of every path (from the first server's URL), without a trailing slash.
    pub base_path: String,
    /// Every operation, in document order.
    pub operations: Vec<Operation>,
    /// The resources inferred, in the order of the spec's resources.
    pub resources: Vec<ResourceMap>,
    /// What could not be mapped, and why.
    pub notes: Vec<Note>,
    /// The other files the document references (watched for reloads).
    pub files: Vec<std::path::PathBuf>,
}

/// Something in the document standin could not map (the rest still serves).
#[derive(Debug, Clone)]
pub struct Note {
    /// JSON pointer of the place in the document.
    pub pointer: String,
    /// Why.
    pub message: String,
}

/// How an inferred resource appears in the document.
#[derive(Debug)]
pub struct ResourceMap {
    /// The resource's name in the spec.
    pub name: String,
    /// The collection's path template (`/pets`).
    pub collection: String,
    /// The item's path template (`/pets/{id}`), if the document has one.
    pub item: Option<String>,
    /// The property of items holding the record's id.
    pub id_field: String,
    /// The items' schema, references inlined and wrappers removed.
    pub item_schema: Value,
    /// How ids are made: `integer`, `uuid` or `string`.
    pub id_kind: &'static str,
    /// For a nested collection (`/articles/{slug}/comments`): the record its records belong to.
    pub parent: Option<ParentLink>,
}

/// How the records of a nested collection belong to a record of another resource.
#[derive(Debug, Clone)]
pub struct ParentLink {
    /// The parent resource, by index.
    pub resource: usize,
    /// The field of the child records holding the parent's id (a reference).
    pub field: String,
    /// Whether that field is standin's own rather than a property of the document's items (never sent).
    pub hidden: bool,
}

/// What an operation does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Lists resource `0`'s records.
    List(usize),
    /// Creates a record of resource `0`.
    Create(usize),
    /// Reads one record.
    Read(usize),
    /// Replaces one record.
    Replace(usize),
    /// Replaces the record whose id the body carries (`PUT /pet` with the pet).
    ReplaceInBody(usize),
    /// Changes part of one record.
    Update(usize),
    /// Deletes one record.
    Delete(usize),
    /// Answers from the document's examples and schemas.
    Other,
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Matched exactly.
    Literal(String),
    /// A path parameter, by name.
    Parameter(String),
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the path.
    Path,
    /// In the query string.
    Query,
    /// In a header.
    Header,
    /// In a cookie.
    Cookie,
}

/// A declared parameter.
#[derive(Debug)]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// Where it is sent.
    pub location: Location,
    /// Whether a request must send it.
    pub required: bool,
    /// Its schema (converted), for typing the text sent.
    pub schema: Value,
    /// The schema's validator, where it compiles.
    pub validator: Option<jsonschema::Validator>,
}

/// A declared request body.
#[derive(Debug)]
pub struct Body {
    /// Whether a request must send one.
    pub required: bool,
    /// The media types accepted, each with its validator where it compiles.
    pub content: Vec<(String, Option<jsonschema::Validator>)>,
    /// Each media type's schema, references inlined (for typing form and XML fields).
    pub shapes: Vec<(String, Value)>,
}

/// Which statuses a declared response covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// One status code.
    Code(u16),
    /// A class (`4XX` is `Class(4)`).
    Class(u16),
    /// Every status not declared otherwise.
    Default,
}

/// A declared response.
#[derive(Debug)]
pub struct Response {
    /// The statuses it covers.
    pub status: Status,
    /// Declared headers: name, whether required, schema.
    pub headers: Vec<(String, bool, Value)>,
    /// Declared bodies by media type.
    pub content: Vec<Content>,
}

/// One media type of a response.
#[derive(Debug)]
pub struct Content {
    /// The media type as declared.
    pub media_type: String,
    /// Its schema (converted), if declared.
    pub schema: Option<Value>,
    /// Named examples (`example` is named `example`).
    pub examples: Vec<(String, Value)>,
    /// The schema with its references inlined and `allOf` merged, for shaping answers.
    pub inlined: Option<Value>,
    /// The schema's validator, where it compiles.
    pub validator: Option<jsonschema::Validator>,
}

/// A scheme's credential a request must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An `Authorization` header with this scheme (`bearer`, `basic`), or any scheme where empty.
    Authorization(String),
    /// An API key in a header.
    Header(String),
    /// An API key in the query string.
    Query(String),
    /// An API key in a cookie.
    Cookie(String),
}

/// One operation of the document.
#[derive(Debug)]
pub struct Operation {
    /// The method, upper case.
    pub method: String,
    /// The path template as written.
    pub template: String,
    /// The template's segments.
    pub segments: Vec<Segment>,
    /// JSON pointer of the operation in the document.
    pub pointer: String,
    /// The parameters (path item's and operation's).
    pub parameters: Vec<Parameter>,
    /// The request body, if declared.
    pub body: Option<Body>,
    /// The declared responses.
    pub responses: Vec<Response>,
    /// Alternatives of credentials (one must be present entirely); empty if open.
    pub security: Vec<Vec<Credential>>,
    /// What it does to the store.
    pub role: Role,
    /// For an operation below a resource's item (`/articles/{slug}/comments`):
    /// that resource, whose record must exist.
    pub parent: Option<usize>,
}

/// HTTP methods an OpenAPI path item may declare.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Operation {
    /// The declared response covering `status`: exact, then class, then default.
    pub fn response(&self, status: u16) -> Option<&Response> {
        let find = |wanted: Status| self.responses.iter().find(|r| r.status == wanted);
        find(Status::Code(status))
            .or_else(|| find(Status::Class(status / 100)))
            .or_else(|| find(Status::Default))
    }

    /// The declared success response: the lowest 2xx code (`preferred` first), else a 2XX class or default.
    pub fn success(&self, preferred: &[u16]) -> (u16, Option<&Response>) {
        for code in preferred {
            if let Some(response) = self
                .responses
                .iter()
                .find(|r| r.status == Status::Code(*code))
            {
                return (*code, Some(response));
            }
        }
        let mut codes: Vec<(u16, &Response)> = self
            .responses
            .iter()
            .filter_map(|r| match r.status {
                Status::Code(code) if (200..300).contains(&code) => Some((code, r)),
                _ => None,
            })
            .collect();
        codes.sort_by_key(|(code, _)| *code);
        if let Some((code, response)) = codes.first() {
            return (*code, Some(response));
        }
        let fallback = self
            .responses
            .iter()
            .find(|r| r.status == Status::Class(2))
            .or_else(|| self.responses.iter().find(|r| r.status == Status::Default));
        (preferred.first().copied().unwrap_or(200), fallback)
    }

    /// The path parameters' names, in template order.
    pub fn path_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Parameter(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }
}

/// The segments of a path template (`/pets/{id}` is `pets`, `{id}`).
pub fn segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            match segment
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
            {
                Some(name) => Segment::Parameter(name.to_string()),
                None => Segment::Literal(segment.to_string()),
            }
        })
        .collect()
}

/// Whether two templates' segments are alike but for their parameters' names.
pub fn same_shape(left: &[Segment], right: &[Segment]) -> bool {
    left.len() == right.len()
        && left.iter().zip(right).all(|pair| match pair {
            (Segment::Literal(a), Segment::Literal(b)) => a == b,
            (Segment::Parameter(_), Segment::Parameter(_)) => true,
            _ => false,
        })
}

/// Escapes a key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Reads every operation of `document` (already converted to JSON Schema).
pub fn operations(document: &Value, notes: &mut Vec<Note>) -> Vec<Operation> {
    let mut operations = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return operations;
    };
    let global_security = document.get("security");
    let request_document = schema::for_requests(document);
    for (template, item) in paths {
        let item_pointer = format!("/paths/{}", escape(template));
        let item = refs::resolve(document, item);
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let pointer = format!("{item_pointer}/{method}");
            let mut parameters = Vec::new();
            let lists = [shared, operation.get("parameters")];
            for list in lists.into_iter().flatten().filter_map(Value::as_array) {
                for declared in list {
                    let declared = refs::resolve(document, declared);
                    if let Some(parameter) = parameter(document, declared, &pointer, notes) {
                        parameters.retain(|p: &Parameter| {
                            p.name != parameter.name || p.location != parameter.location
                        });
                        parameters.push(parameter);
                    }
                }
            }
            let security = operation
                .get("security")
                .or(global_security)
                .map(|requirements| security(document, requirements))
                .unwrap_or_default();
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: segments(template),
                body: operation.get("requestBody").map(|body| {
                    request_body(
                        &request_document,
                        refs::resolve(document, body),
                        &pointer,
                        notes,
                    )
                }),
                responses: responses(document, operation.get("responses")),
                parameters,
                security,
                pointer,
                role: Role::Other,
                parent: None,
            });
        }
    }
    operations
}

fn parameter(
    document: &Value,
    declared: &Value,
    pointer: &str,
    notes: &mut Vec<Note>,
) -> Option<Parameter> {
    let name = declared.get("name")?.as_str()?.to_string();
    let location = match declared.get("in")?.as_str()? {
        "path" => Location::Path,
        "query" => Location::Query,
        "header" => Location::Header,
        "cookie" => Location::Cookie,
        _ => return None,
    };
    // Content-typed parameters (`content:`) are accepted as they come.
    let schema = declared
        .get("schema")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let validator = match schema::validator(document, &schema) {
        Ok(validator) => Some(validator),
        Err(error) => {
            notes.push(Note {
                pointer: format!("{pointer}/parameters"),
                message: format!(
                    "parameter '{name}' is not validated: its schema does not compile: {error}"
                ),
            });
            None
        }
    };
    Some(Parameter {
        required: location == Location::Path
            || declared.get("required").and_then(Value::as_bool) == Some(true),
        name,
        location,
        schema,
        validator,
    })
}

fn request_body(document: &Value, body: &Value, pointer: &str, notes: &mut Vec<Note>) -> Body {
    let mut content = Vec::new();
    let mut shapes = Vec::new();
    if let Some(types) = body.get("content").and_then(Value::as_object) {
        for (media_type, declared) in types {
            let validator = declared.get("schema").and_then(|schema| {
                schema::validator(document, schema)
                    .map_err(|error| {
                        notes.push(Note {
                            pointer: format!(
                                "{pointer}/requestBody/content/{}",
                                escape(media_type)
                            ),
                            message: format!(
                                "the body is not validated: its schema does not compile: {error}"
                            ),
                        })
                    })
                    .ok()
            });
            content.push((media_type.clone(), validator));
            if let Some(schema) = declared.get("schema") {
                shapes.push((media_type.clone(), refs::inline(document, schema)));
            }
        }
    }
    Body {
        required: body.get("required").and_then(Value::as_bool) == Some(true),
        content,
        shapes,
    }
}

fn responses(document: &Value, declared: Option<&Value>) -> Vec<Response> {
    let Some(declared) = declared.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut responses = Vec::new();
    for (key, response) in declared {
        let status = match key.to_ascii_uppercase().as_str() {
            "DEFAULT" => Status::Default,
            class if class.len() == 3 && class.ends_with("XX") => match class[..1].parse() {
                Ok(digit) => Status::Class(digit),
                Err(_) => continue,
            },
            code => match code.parse() {
                Ok(code) if (100..600).contains(&code) => Status::Code(code),
                _ => continue,
            },
        };
        let response = refs::resolve(document, response);
        let headers = response
            .get("headers")
            .and_then(Value::as_object)
            .map(|headers| {
                headers
                    .iter()
                    .map(|(name, header)| {
                        let header = refs::resolve(document, header);
                        (
                            name.clone(),
                            header.get("required").and_then(Value::as_bool) == Some(true),
                            header.get("schema").cloned().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let content = response
            .get("content")
            .and_then(Value::as_object)
            .map(|types| {
                types
                    .iter()
                    .map(|(media_type, declared)| content(document, media_type, declared))
                    .collect()
            })
            .unwrap_or_default();
        responses.push(Response {
            status,
            headers,
            content,
        });
    }
    responses
}

fn content(document: &Value, media_type: &str, declared: &Value) -> Content {
    let mut examples = Vec::new();
    if let Some(example) = declared.get("example") {
        examples.push(("example".to_string(), example.clone()));
    }
    if let Some(named) = declared.get("examples").and_then(Value::as_object) {
        for (name, example) in named {
            let example = refs::resolve(document, example);
            if let Some(value) = example.get("value") {
                examples.push((name.clone(), value.clone()));
            }
        }
    }
    let schema = declared.get("schema");
    let inlined = schema.map(|schema| refs::inline(document, schema));
    let validator = schema.and_then(|schema| schema::validator(document, schema).ok());
    // An example its own schema refuses would make the answer break the contract.
    if let (Some(inlined), Some(validator)) = (&inlined, &validator) {
        let write_only = schema::write_only_names(inlined);
        examples.retain(|(_, example)| {
            validator.is_valid(example) && !has_any_key(example, &write_only)
        });
    }
    Content {
        media_type: media_type.to_string(),
        schema: schema.cloned(),
        examples,
        inlined,
        validator,
    }
}

fn security(document: &Value, requirements: &Value) -> Vec<Vec<Credential>> {
    let schemes = document.pointer("/components/securitySchemes");
    let mut alternatives = Vec::new();
    for requirement in requirements.as_array().into_iter().flatten() {
        let Some(names) = requirement.as_object() else {
            continue;
        };
        let mut credentials = Vec::new();
        for name in names.keys() {
            let Some(scheme) = schemes.and_then(|schemes| schemes.get(name)) else {
                continue;
            };
            let scheme = refs::resolve(document, scheme);
            let text = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or_default();
            let credential = match text("type") {
                "http" => Credential::Authorization(text("scheme").to_ascii_lowercase()),
                "apiKey" => match text("in") {
                    "header" => Credential::Header(text("name").to_string()),
                    "query" => Credential::Query(text("name").to_string()),
                    "cookie" => Credential::Cookie(text("name").to_string()),
                    _ => continue,
                },
                "oauth2" | "openIdConnect" => Credential::Authorization(String::new()),
                _ => continue,
            };
            credentials.push(credential);
        }
        alternatives.push(credentials);
    }
    // An empty requirement (`{}`) makes credentials optional.
    if alternatives.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    alternatives
}

/// Whether `value` holds, at any depth, an object with one of the keys `names`.
fn has_any_key(value: &Value, names: &[String]) -> bool {
    match value {
        Value::Object(object) => object
            .iter()
            .any(|(key, member)| names.contains(key) || has_any_key(member, names)),
        Value::Array(items) => items.iter().any(|item| has_any_key(item, names)),
        _ => false,
    }
}
