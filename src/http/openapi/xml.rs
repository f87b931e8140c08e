//! XML request bodies read into JSON, guided by the body's schema: child
//! elements become properties (named by `xml.name` where declared), repeated
//! or wrapped elements become arrays, text is typed as the schema says.
//! Attributes, namespaces and mixed content are not read.

use serde_json::{Map, Value};

use super::request::{scalar, schema_kind};

/// How deep elements may nest.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

/// The XML document `bytes` as the JSON value `schema` describes.
pub fn read(bytes: &[u8], schema: &Value) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|error| error.to_string())?;
    let mut parser = Parser { text, at: 0 };
    parser.skip_prolog();
    let root = parser.element(0)?;
    parser.skip_prolog();
    if !parser.rest().is_empty() {
        return Err("content after the root element".into());
    }
    Ok(value(&root, schema))
}

fn value(element: &Element, schema: &Value) -> Value {
    let text = element.text.trim();
    match schema_kind(schema).as_str() {
        // Text where elements belong stays text, for validation to refuse.
        "object" | "array" if element.children.is_empty() && !text.is_empty() => Value::from(text),
        "object" => {
            let mut object = Map::new();
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, property) in properties.into_iter().flatten() {
                let tag = xml_name(property).unwrap_or(name);
                if schema_kind(property) == "array" {
                    let items = property.get("items").cloned().unwrap_or_default();
                    let item_tag = xml_name(&items).unwrap_or(tag).to_string();
                    let wrapped = property.pointer("/xml/wrapped") == Some(&Value::Bool(true));
                    let holder = if wrapped {
                        element.children.iter().find(|child| child.name == tag)
                    } else {
                        Some(element)
                    };
                    // A wrapper holding text, or elements other than the
                    // items, holds no array: the validator refuses what it is.
                    let foreign = |holder: &Element| {
                        holder.children.is_empty() && !holder.text.trim().is_empty()
                            || holder.children.iter().any(|child| child.name != item_tag)
                    };
                    if let Some(holder) = holder.filter(|holder| wrapped && foreign(holder)) {
                        let any_object = serde_json::json!({"type": "object"});
                        object.insert(name.clone(), value(holder, &any_object));
                    } else if let Some(holder) = holder {
                        let values: Vec<Value> = holder
                            .children
                            .iter()
                            .filter(|child| child.name == item_tag)
                            .map(|child| value(child, &items))
                            .collect();
                        if wrapped || !values.is_empty() {
                            object.insert(name.clone(), Value::Array(values));
                        }
                    }
                } else if let Some(child) = element.children.iter().find(|child| child.name == tag)
                {
                    object.insert(name.clone(), value(child, property));
                }
            }
            Value::Object(object)
        }
        "array" => {
            let items = schema.get("items").cloned().unwrap_or_default();
            Value::Array(
                element
                    .children
                    .iter()
                    .map(|child| value(child, &items))
                    .collect(),
            )
        }
        kind => scalar(kind, text),
    }
}

fn xml_name(schema: &Value) -> Option<&str> {
    schema.pointer("/xml/name").and_then(Value::as_str)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    /// Skips whitespace, the XML declaration, comments and doctypes.
    fn skip_prolog(&mut self) {
        loop {
            let trimmed = self.rest().trim_start();
            self.at = self.text.len() - trimmed.len();
            if trimmed.starts_with("<?") || trimmed.starts_with("<!") {
                let end = if trimmed.starts_with("<!--") {
                    "-->"
                } else {
                    ">"
                };
                match trimmed.find(end) {
                    Some(index) => self.at += index + end.len(),
                    None => return,
                }
            } else {
                return;
            }
        }
    }

    fn element(&mut self, depth: usize) -> Result<Element, String> {
        if depth > MAX_DEPTH {
            return Err(format!("elements nest more than {MAX_DEPTH} deep"));
        }
        let rest = self.rest();
        if !rest.starts_with('<') {
            return Err("expected an element".into());
        }
        let close = rest.find('>').ok_or("an unclosed tag")?;
        let tag = &rest[1..close];
        let self_closing = tag.ends_with('/');
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .ok_or("a tag without a name")?
            .to_string();
        self.at += close + 1;
        let mut element = Element {
            name,
            ..Element::default()
        };
        if self_closing {
            return Ok(element);
        }
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(format!("<{}> is never closed", element.name));
            }
            if let Some(after) = rest.strip_prefix("</") {
                let close = after.find('>').ok_or("an unclosed end tag")?;
                if after[..close].trim() != element.name {
                    return Err(format!(
                        "<{}> is closed by </{}>",
                        element.name,
                        &after[..close]
                    ));
                }
                self.at += close + 3;
                return Ok(element);
            }
            if rest.starts_with("<!--") || rest.starts_with("<?") {
                self.skip_prolog();
                continue;
            }
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or("an unclosed CDATA section")?;
                element.text.push_str(&after[..end]);
                self.at += 9 + end + 3;
                continue;
            }
            if rest.starts_with('<') {
                element.children.push(self.element(depth + 1)?);
                continue;
            }
            let end = rest.find('<').unwrap_or(rest.len());
            element.text.push_str(&unescape(&rest[..end]));
            self.at += end;
        }
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_become_the_properties_the_schema_names() {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "photoUrls": {"type": "array", "xml": {"wrapped": true}, "items": {"type": "string", "xml": {"name": "photoUrl"}}},
            "done": {"type": "boolean"}
        }});
        let xml = b"<?xml version=\"1.0\"?><pet><id>10</id><name>R &amp; R</name><photoUrls><photoUrl>a</photoUrl><photoUrl>b</photoUrl></photoUrls><done>true</done></pet>";
        assert_eq!(
            read(xml, &schema).unwrap(),
            json!({"id": 10, "name": "R & R", "photoUrls": ["a", "b"], "done": true})
        );
        assert!(read(b"<pet><id>1</pet>", &schema).is_err());
    }

    #[test]
    fn a_wrapper_of_text_or_other_elements_is_no_array() {
        let schema = json!({"type": "object", "properties": {
            "tags": {"type": "array", "xml": {"wrapped": true}, "items": {"type": "string", "xml": {"name": "tag"}}}
        }});
        let read_tags = |xml: &[u8]| read(xml, &schema).unwrap()["tags"].clone();
        assert_eq!(read_tags(b"<pet><tags>AAA</tags></pet>"), json!("AAA"));
        assert_eq!(read_tags(b"<pet><tags><id>1</id></tags></pet>"), json!({}));
        assert_eq!(read_tags(b"<pet><tags></tags></pet>"), json!([]));
        assert_eq!(
            read_tags(b"<pet><tags> <tag>a</tag> </tags></pet>"),
            json!(["a"])
        );
    }
}
