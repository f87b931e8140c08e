//! Reading OpenAPI 3.0 and 3.1 documents: their operations (`api`), local
//! references and `allOf` (`refs`), their schemas as JSON Schema (`schema`),
//! the resources their paths describe (`infer`) and generated values
//! (`generate`). The result is a standin [`Spec`] whose dialect carries the
//! document, so that the HTTP layer answers in the document's own shapes.

pub mod api;
pub mod bundle;
pub mod generate;
pub mod infer;
pub mod refs;
pub mod schema;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use api::ResourceMap;
pub use api::{Api, Note, Role};

use crate::spec::{self, Diagnostic, Dialect, Spec, SpecErrors};

/// Records generated for each inferred resource.
pub const SEEDED_RECORDS: usize = 10;

/// Reads the OpenAPI document `document` (the text `source` of `file`) into a spec.
pub fn parse(file: &str, source: &str, document: Value) -> Result<Spec, SpecErrors> {
    read(file, source, document).map(|(spec, _)| spec)
}

/// The spec of the OpenAPI document `document`, and the standin spec (as
/// JSON) its resources were read from.
fn read(file: &str, source: &str, mut document: Value) -> Result<(Spec, Value), SpecErrors> {
    let version = document
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let failure = |path: &str, message: String| SpecErrors {
        diagnostics: vec![diagnostic(file, source, path, message)],
        source: source.to_string(),
        included: Vec::new(),
    };
    let mut notes = Vec::new();
    let directory = std::path::Path::new(file)
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let files = bundle::bundle(&mut document, &directory, &mut notes);
    if version.starts_with("3.0") {
        schema::convert_3_0(&mut document);
    } else if !version.starts_with("3.1") {
        return Err(failure(
            "openapi",
            format!("OpenAPI {version} is not supported: standin reads OpenAPI 3.0 and 3.1"),
        ));
    }
    schema::bound_integer_formats(&mut document);
    schema::honour_discriminators(&mut document);
    let mut operations = api::operations(&document, &mut notes);
    let inferred = infer::resources(&document, &mut operations, &mut notes);
    let base_path = base_path(&document);
    let title = document
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("OpenAPI document")
        .to_string();
    let mut resources = Map::new();
    for resource in &inferred {
        resources.insert(resource.map.name.clone(), resource.definition.clone());
    }
    // standin specs describe at least one resource; a document may map none.
    let placeholder = resources.is_empty();
    if placeholder {
        resources.insert("placeholder".into(), json!({"fields": {}}));
    }
    let standin = json!({
        "standin": 1,
        "title": title,
        // Set below: a document's base path may hold characters a spec's may not.
        "base_path": "/",
        "max_page_size": 10000,
        "defaults": {"accept": "application/json"},
        "resources": resources,
    });
    let mut spec = spec::parse(file, &standin.to_string()).map_err(|errors| SpecErrors {
        diagnostics: errors
            .diagnostics
            .into_iter()
            .map(|inner| Diagnostic {
                file: file.to_string(),
                position: None,
                path: String::new(),
                message: format!(
                    "the resources inferred from this document are not a valid standin spec ({}: {})",
                    inner.path, inner.message
                ),
                suggestion: None,
            })
            .collect(),
        source: source.to_string(),
        included: Vec::new(),
    })?;
    if placeholder {
        spec.resources.clear();
    }
    spec.base_path = base_path.clone();
    // Each resource's seeded ids, for the records of collections nested in it.
    let mut seeded_ids: Vec<Vec<Value>> = Vec::new();
    for (resource, inferred) in spec.resources.iter_mut().zip(&inferred) {
        let examples = example_records(&document, &operations, seeded_ids.len(), &inferred.map);
        let (records, ids) = records(
            &document,
            &inferred.map,
            &examples,
            spec.seed,
            &seeded_ids,
            &mut notes,
        );
        resource.records = records;
        seeded_ids.push(ids);
    }
    spec.dialect = Dialect::OpenApi(Arc::new(Api {
        base_path,
        operations,
        resources: inferred.into_iter().map(|resource| resource.map).collect(),
        notes,
        document,
        files,
    }));
    Ok((spec, standin))
}

/// The standin spec for the OpenAPI document `document` (the text `source` of
/// `file`): its resources with their ids, fields, methods and seed records,
/// with warnings for what a standin spec cannot say.
pub fn standin_spec(
    file: &str,
    source: &str,
    document: Value,
) -> Result<(Value, Vec<Diagnostic>), SpecErrors> {
    let (spec, mut standin) = read(file, source, document)?;
    let Dialect::OpenApi(api) = &spec.dialect else {
        return Ok((standin, Vec::new()));
    };
    if spec.resources.is_empty() {
        return Err(SpecErrors {
            diagnostics: vec![diagnostic(
                file,
                source,
                "paths",
                "no resource is inferred from this document (a collection path with an item \
                 path below it): a standin spec would have nothing to describe"
                    .into(),
            )],
            source: source.to_string(),
            included: Vec::new(),
        });
    }
    let warn = |pointer: &str, message: String| diagnostic(file, source, pointer, message);
    let mut warnings: Vec<Diagnostic> = api
        .notes
        .iter()
        .map(|note| warn(&note.pointer, note.message.clone()))
        .collect();
    let valid = |standin: &Value| spec::parse(file, &standin.to_string()).is_ok();
    if !api.base_path.is_empty() {
        standin["base_path"] = Value::from(api.base_path.as_str());
        if !valid(&standin) {
            standin["base_path"] = Value::from("/");
            warnings.push(warn(
                "servers",
                format!(
                    "the base path {} is not one a standin spec may have: the spec's is /",
                    api.base_path
                ),
            ));
        }
    }
    for resource in &spec.resources {
        if resource.records.is_empty() {
            continue;
        }
        let Some(definition) = standin
            .get_mut("resources")
            .and_then(|resources| resources.get_mut(&resource.name))
        else {
            continue;
        };
        definition["records"] = Value::from(resource.records.clone());
        if !valid(&standin) {
            standin["resources"][&resource.name]["count"] = Value::from(SEEDED_RECORDS);
            if let Some(Value::Object(definition)) = standin["resources"].get_mut(&resource.name) {
                definition.remove("records");
            }
            warnings.push(warn(
                "",
                format!(
                    "the records generated for '{}' from the document are not valid for the \
                     spec's fields: it has {SEEDED_RECORDS} generated by standin instead",
                    resource.name
                ),
            ));
        }
    }
    for operation in &api.operations {
        if operation.role == Role::Other {
            warnings.push(warn(
                &operation.pointer,
                format!(
                    "{} {} is not an operation on a resource: a standin spec has no place \
                     for it, it is left out",
                    operation.method, operation.template
                ),
            ));
        }
    }
    if let Some(secured) = api
        .operations
        .iter()
        .find(|operation| !operation.security.is_empty())
    {
        let pointer = if api.document.get("security").is_some() {
            "security".to_string()
        } else {
            format!("{}/security", secured.pointer)
        };
        warnings.push(warn(
            &pointer,
            "the document's security requirements are left out: add the spec's `auth` \
             where credentials are needed"
                .into(),
        ));
    }
    warnings.push(warn(
        "",
        "the document's answers (their statuses, envelopes, error bodies and headers) are \
         not carried over: the spec answers in standin's own shapes"
            .into(),
    ));
    Ok((standin, warnings))
}

/// The path of the first server's URL, without a trailing slash (`""` for none).
fn base_path(document: &Value) -> String {
    let Some(url) = document.pointer("/servers/0/url").and_then(Value::as_str) else {
        return String::new();
    };
    let after_scheme = match url.find("://") {
        Some(index) => &url[index + 3..],
        None => url,
    };
    let path = if url.contains("://") {
        after_scheme
            .find('/')
            .map_or("", |index| &after_scheme[index..])
    } else {
        after_scheme
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if path.contains('{') {
        return String::new();
    }
    path.trim_end_matches('/').to_string()
}

/// Generates the seed records of `spec`, a served OpenAPI document, anew with
/// `seed` (its records are generated with seed 0 when the document is read).
pub fn reseed(spec: &mut Spec, seed: u64) {
    let Dialect::OpenApi(api) = &spec.dialect else {
        return;
    };
    if spec.seed == seed {
        return;
    }
    let api = Arc::clone(api);
    let mut notes = Vec::new();
    let mut seeded_ids: Vec<Vec<Value>> = Vec::new();
    for (resource, map) in spec.resources.iter_mut().zip(&api.resources) {
        let examples = example_records(&api.document, &api.operations, seeded_ids.len(), map);
        let (records, ids) = records(&api.document, map, &examples, seed, &seeded_ids, &mut notes);
        resource.records = records;
        seeded_ids.push(ids);
    }
    spec.seed = seed;
}

/// The records the document shows of resource `index` (`map`), to seed it
/// with: its item schema's `example`, and the examples of the answers of its
/// list, read and create operations and of its create bodies; an item from
/// its one-property wrapper (`{"article": {...}}`), a list's items from an
/// array or an envelope's arrays (`{"data": [...], "links": ...}`). Whether
/// each fits is for the item schema to say.
fn example_records(
    document: &Value,
    operations: &[api::Operation],
    index: usize,
    map: &ResourceMap,
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut lists = Vec::new();
    items.extend(map.item_schema.get("example").cloned());
    for operation in operations {
        let (list, create) = match operation.role {
            api::Role::List(of) if of == index => (true, false),
            api::Role::Read(of) if of == index => (false, false),
            api::Role::Create(of) if of == index => (false, true),
            _ => continue,
        };
        let answers = operation
            .responses
            .iter()
            .filter(|response| match response.status {
                api::Status::Code(code) => (200..300).contains(&code),
                api::Status::Class(class) => class == 2,
                api::Status::Default => false,
            })
            .flat_map(|response| &response.content)
            .flat_map(|content| content.examples.iter().map(|(_, example)| example.clone()));
        match list {
            true => lists.extend(answers),
            false => items.extend(answers),
        }
        if create {
            let body = document
                .pointer(&format!("{}/requestBody", operation.pointer))
                .map(|body| refs::resolve(document, body));
            let declared = body
                .as_ref()
                .and_then(|body| body.get("content"))
                .and_then(Value::as_object);
            for content in declared.into_iter().flat_map(|content| content.values()) {
                items.extend(content.get("example").cloned());
                for example in content
                    .get("examples")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|examples| examples.values())
                {
                    items.extend(refs::resolve(document, example).get("value").cloned());
                }
            }
        }
    }
    let mut records = Vec::new();
    for item in items {
        match item {
            Value::Object(object) if object.len() == 1 => {
                records.extend(
                    object
                        .into_iter()
                        .map(|(_, inner)| inner)
                        .filter(Value::is_object),
                );
            }
            Value::Object(_) => records.push(item),
            _ => {}
        }
    }
    for list in lists {
        let arrays = match list {
            Value::Array(items) => vec![items],
            Value::Object(envelope) => envelope
                .into_iter()
                .filter_map(|(_, value)| match value {
                    Value::Array(items) => Some(items),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        records.extend(arrays.into_iter().flatten().filter(Value::is_object));
    }
    records
}

/// Seed records of a resource, each valid against its item schema, with
/// their ids: the document's `examples` that fit, then records generated from
/// the schema; a nested collection's records are shared out among the
/// records of its parent (`seeded_ids`, by resource).
fn records(
    document: &Value,
    map: &ResourceMap,
    examples: &[Value],
    seed: u64,
    seeded_ids: &[Vec<Value>],
    notes: &mut Vec<Note>,
) -> (Vec<Map<String, Value>>, Vec<Value>) {
    let item_schema = &map.item_schema;
    let Ok(validator) = schema::validator(&schema::for_responses(document), item_schema) else {
        return (Vec::new(), Vec::new());
    };
    let parents = match &map.parent {
        Some(link) => {
            let parents = seeded_ids.get(link.resource).cloned().unwrap_or_default();
            if parents.is_empty() {
                return (Vec::new(), Vec::new());
            }
            Some((link.field.clone(), parents))
        }
        None => None,
    };
    let mut ids_faker = crate::fake::Faker::new(seed, &format!("{}-ids", map.name));
    let mut seeded = Vec::new();
    let mut generator = generate::Generator::new(document, seed, &map.name);
    let mut records = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let examples: Vec<Map<String, Value>> = examples
        .iter()
        .filter_map(Value::as_object)
        .cloned()
        .collect();
    let attempts = SEEDED_RECORDS * 5 + examples.len();
    let mut examples = examples.into_iter();
    for _ in 0..attempts {
        if records.len() == SEEDED_RECORDS {
            break;
        }
        let example = examples.next();
        let from_example = example.is_some();
        let mut record = match example {
            Some(example)
                if records.iter().any(|seen: &Map<String, Value>| {
                    without_id(seen, map) == without_id(&example, map)
                }) =>
            {
                continue;
            }
            Some(example) => example,
            None => match generator.value(item_schema, &map.name) {
                Value::Object(record) => record,
                _ => break,
            },
        };
        // Integer ids are the store's, counted from 1: the record takes the one it will get.
        if map.id_kind == "integer" {
            record.insert(map.id_field.clone(), Value::from(records.len() as u64 + 1));
        }
        if !validator.is_valid(&Value::Object(record.clone())) {
            continue;
        }
        let id = record.remove(&map.id_field);
        let id = match (map.id_kind, id) {
            ("string", Some(Value::String(id))) if !id.is_empty() && ids.insert(id.clone()) => {
                Value::String(id)
            }
            ("string", _) => continue,
            ("integer", _) => Value::from(records.len() as u64 + 1),
            // An example's own UUID, where it is one and not taken.
            ("uuid", Some(Value::String(id)))
                if from_example && spec::is_uuid(&id) && ids.insert(id.to_ascii_lowercase()) =>
            {
                Value::String(id.to_ascii_lowercase())
            }
            // Known ahead, so that nested records can reference it.
            _ => Value::String(ids_faker.uuid()),
        };
        if map.id_kind != "integer" {
            record.insert("id".into(), id.clone());
        }
        if let Some((field, parents)) = &parents {
            record.insert(
                field.clone(),
                parents[records.len() % parents.len()].clone(),
            );
        }
        seeded.push(id);
        records.push(record);
    }
    if records.is_empty() {
        notes.push(Note {
            pointer: String::new(),
            message: format!(
                "no record generated for '{}' validates against its schema: it starts empty",
                map.name
            ),
        });
    }
    (records, seeded)
}

/// `record` without its id, to tell records apart by their fields.
fn without_id(record: &Map<String, Value>, map: &ResourceMap) -> Map<String, Value> {
    record
        .iter()
        .filter(|(key, _)| **key != map.id_field && key.as_str() != "id")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// A diagnostic at `pointer` (a JSON pointer, or a dotted path) of the document.
pub fn diagnostic(file: &str, source: &str, pointer: &str, message: String) -> Diagnostic {
    let dotted: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|part| part.replace("~1", "/").replace("~0", "~"))
        .collect();
    let position = spec::Locations::of(source).key(&dotted.join("."));
    Diagnostic {
        file: file.to_string(),
        position,
        path: pointer.to_string(),
        message,
        suggestion: None,
    }
}

/// What standin understood of the document: each resource with its routes,
/// fields and id, each operation served from examples, and what was not mapped.
pub fn describe(spec: &Spec, file: &str, source: &str) -> String {
    let Dialect::OpenApi(api) = &spec.dialect else {
        return String::new();
    };
    let mut out = String::new();
    let base = &api.base_path;
    for (resource, map) in spec.resources.iter().zip(&api.resources) {
        out.push_str(&format!(
            "resource {} (id: {}, {:?}, {} seeded records)\n",
            resource.name,
            map.id_field,
            resource.id,
            resource.records.len()
        ));
        for operation in &api.operations {
            let role = match operation.role {
                Role::List(i) if i == spec_index(spec, &resource.name) => "list",
                Role::Create(i) if i == spec_index(spec, &resource.name) => "create",
                Role::Read(i) if i == spec_index(spec, &resource.name) => "read",
                Role::Replace(i) if i == spec_index(spec, &resource.name) => "replace",
                Role::ReplaceInBody(i) if i == spec_index(spec, &resource.name) => "replace",
                Role::Update(i) if i == spec_index(spec, &resource.name) => "update",
                Role::Delete(i) if i == spec_index(spec, &resource.name) => "delete",
                _ => continue,
            };
            out.push_str(&format!(
                "  {} {base}{}  ({role})\n",
                operation.method, operation.template
            ));
        }
        let fields: Vec<String> = resource
            .fields
            .iter()
            .map(|field| {
                let kind = format!("{:?}", field.kind).to_lowercase();
                format!("{}: {kind}", field.name)
            })
            .collect();
        out.push_str(&format!("  fields: {}\n", fields.join(", ")));
        if let Some(link) = &map.parent {
            let parent = &api.resources[link.resource].name;
            let own = if link.hidden {
                " (standin's own field, never sent)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  nested in {parent}: {} holds the {parent} record's id{own}\n",
                link.field
            ));
        }
    }
    let others: Vec<&api::Operation> = api
        .operations
        .iter()
        .filter(|operation| operation.role == Role::Other)
        .collect();
    if !others.is_empty() {
        out.push_str("served from examples and schemas:\n");
        for operation in others {
            out.push_str(&format!(
                "  {} {base}{}\n",
                operation.method, operation.template
            ));
        }
    }
    for note in &api.notes {
        out.push_str(&format!(
            "{}\n",
            diagnostic(
                file,
                source,
                &note.pointer,
                format!("not mapped: {}", note.message)
            )
            .render(source)
        ));
    }
    out
}

fn spec_index(spec: &Spec, name: &str) -> usize {
    spec.resources
        .iter()
        .position(|resource| resource.name == name)
        .unwrap_or(usize::MAX)
}
