//! Plain JSON objects written straight from a record's stored text, with no
//! tree of values in between: the bytes [`super::record_object`] would
//! serialise to, for the reads of items and pages that ask for no embeds and
//! no sparse fieldset. Where the stored text holds something whose bytes
//! serde_json would write otherwise (an escape, a float, a nested value), that
//! value alone goes through a `Value`; where the text is not what serde_json
//! writes for an object at all, the caller parses the record as before.

use serde_json::Value;

use crate::spec::Resource;
use crate::store::{RecordId, StoredRow};

/// Appends `record` as [`super::record_object`] serialises it; `None` (and
/// `out` as it was) when its stored text is not one this can read, where the
/// caller parses the record instead.
pub fn record(resource: &Resource, record: &StoredRow<'_>, out: &mut Vec<u8>) -> Option<()> {
    let start = out.len();
    let written = write_record(resource, record, out);
    if written.is_none() {
        out.truncate(start);
    }
    written
}

fn write_record(resource: &Resource, record: &StoredRow<'_>, out: &mut Vec<u8>) -> Option<()> {
    let text = record.data.as_bytes();
    out.push(b'{');
    if !resource.singular {
        out.extend_from_slice(b"\"id\":");
        match &record.id {
            RecordId::Integer(id) => serde_json::to_writer(&mut *out, id).ok()?,
            RecordId::Text(id) => write_str(id, out)?,
        }
        out.push(b',');
    }
    if is_as_written(resource, text) {
        // Its members are the fields' own, in their order: copied whole.
        out.extend_from_slice(&text[1..text.len() - 1]);
        out.push(b',');
    } else {
        write_fields(resource, &members(text)?, out)?;
    }
    out.extend_from_slice(b"\"created_at\":");
    write_str(record.created_at, out)?;
    out.extend_from_slice(b",\"updated_at\":");
    write_str(record.updated_at, out)?;
    out.push(b'}');
    Some(())
}

/// Whether a stored object's text is what writing its fields one by one
/// gives: a member for each of the resource's fields, in their order, each
/// written back as it is (as seeding and most writes store records). Names
/// standin sets itself are never among them.
fn is_as_written(resource: &Resource, text: &[u8]) -> bool {
    let mut fields = resource.fields.iter();
    let mut matched = !resource.fields.is_empty();
    let scanned = scan_members(text, |member| {
        matched = fields.next().is_some_and(|field| {
            member.verbatim
                && member.key == field.name.as_bytes()
                && !matches!(member.key, b"id" | b"created_at" | b"updated_at")
        });
        matched
    });
    scanned.is_some() && matched && fields.next().is_none()
}

/// Writes each field of `resource` from the stored `members`, each followed by a comma.
fn write_fields(resource: &Resource, members: &[Member<'_>], out: &mut Vec<u8>) -> Option<()> {
    for field in &resource.fields {
        // A field named as a member standin sets would take that member's place.
        if matches!(field.name.as_str(), "id" | "created_at" | "updated_at") {
            return None;
        }
        write_str(&field.name, out)?;
        out.push(b':');
        // The last of equal keys is the one a parse keeps.
        let stored = members
            .iter()
            .rev()
            .find(|member| member.key == field.name.as_bytes());
        match stored {
            Some(member) if member.verbatim => out.extend_from_slice(member.value),
            Some(member) => write_parsed(member.value, out)?,
            None => match &field.default {
                Some(value) => serde_json::to_writer(&mut *out, value).ok()?,
                None => out.extend_from_slice(b"null"),
            },
        }
        out.push(b',');
    }
    Some(())
}

/// Writes a string as serde_json does: as it is, quoted, when nothing in it
/// needs an escape.
fn write_str(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let bytes = text.as_bytes();
    if memchr::memchr2(b'"', b'\\', bytes).is_none() && !has_control(bytes) {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return Some(());
    }
    serde_json::to_writer(&mut *out, text).ok()
}

/// Writes a stored value as serde_json writes the value it parses to.
fn write_parsed(value: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let text = std::str::from_utf8(value).ok()?;
    let parsed: Value = serde_json::from_str(text).ok()?;
    serde_json::to_writer(&mut *out, &parsed).ok()
}

/// Whether serde_json writes back a value's text (not a string's) unchanged:
/// an integer it reads as one (no `-0`, no more digits than any 64-bit
/// integer has), `true`, `false` or `null`.
fn verbatim(value: &[u8]) -> bool {
    match value {
        b"true" | b"false" | b"null" | b"0" => true,
        _ => {
            let digits = value.strip_prefix(b"-").unwrap_or(value);
            matches!(digits.first(), Some(b'1'..=b'9'))
                && digits.len() <= 18
                && digits.iter().all(u8::is_ascii_digit)
        }
    }
}

/// A member of a stored object.
struct Member<'a> {
    /// Its key, with no escape in it.
    key: &'a [u8],
    /// The text of its value.
    value: &'a [u8],
    /// Whether serde_json writes the value back as this text.
    verbatim: bool,
}

/// The members of a JSON object's text; `None` unless the text is one
/// compact object with no escape in its keys.
fn members(text: &[u8]) -> Option<Vec<Member<'_>>> {
    let mut members = Vec::with_capacity(8);
    scan_members(text, |member| {
        members.push(member);
        true
    })?;
    Some(members)
}

/// Gives each member of a JSON object's text to `visit` in order, until it
/// answers false; `None` unless the text is one compact object with no
/// escape in its keys (as far as it was read).
fn scan_members<'a>(text: &'a [u8], mut visit: impl FnMut(Member<'a>) -> bool) -> Option<()> {
    if text.first() != Some(&b'{') {
        return None;
    }
    if text.get(1) == Some(&b'}') {
        return (text.len() == 2).then_some(());
    }
    let mut at = 1;
    loop {
        if text.get(at) != Some(&b'"') {
            return None;
        }
        let (key_end, plain) = skip_string(text, at)?;
        if !plain || text.get(key_end) != Some(&b':') {
            return None;
        }
        let key = &text[at + 1..key_end - 1];
        let value_start = key_end + 1;
        let (value_end, verbatim) = match text.get(value_start) {
            Some(b'"') => skip_string(text, value_start)?,
            _ => {
                let end = skip_value(text, value_start)?;
                (end, verbatim(&text[value_start..end]))
            }
        };
        let more = visit(Member {
            key,
            value: &text[value_start..value_end],
            verbatim,
        });
        match text.get(value_end) {
            Some(b',') if more => at = value_end + 1,
            Some(b',') => return Some(()),
            Some(b'}') if value_end + 1 == text.len() => return Some(()),
            _ => return None,
        }
    }
}

/// Where the value starting at `at` ends: at the first `,`, `}` or `]`
/// outside strings, objects and arrays. What is inside is checked when it is
/// written ([`write_parsed`] parses what is not copied).
fn skip_value(text: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut position = at;
    loop {
        match *text.get(position)? {
            b'"' => position = skip_string(text, position)?.0,
            b'{' | b'[' => {
                depth += 1;
                position += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                position += 1;
            }
            b',' | b'}' | b']' if depth == 0 => return (position > at).then_some(position),
            _ => position += 1,
        }
    }
}

/// The position after the string starting at `at`, and whether it is plain
/// (no escape, no control character): serde_json writes a plain string
/// back as it is.
fn skip_string(text: &[u8], at: usize) -> Option<(usize, bool)> {
    let mut position = at + 1;
    let mut plain = true;
    loop {
        let rest = text.get(position..)?;
        let found = memchr::memchr2(b'"', b'\\', rest)?;
        plain &= !has_control(&rest[..found]);
        if rest[found] == b'"' {
            return Some((position + found + 1, plain));
        }
        // A backslash and the byte it escapes.
        plain = false;
        position += found + 2;
    }
}

/// Whether any byte of `bytes` is a control character, which serde_json
/// escapes (a loop the compiler writes with vector instructions).
fn has_control(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |found, &byte| found | (byte < 0x20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Record;

    fn resource() -> Resource {
        let spec = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  posts:\n    fields:\n      title: string\n      views: integer\n      tags: { type: array, items: { type: string } }\n      score: number\n      kind: { type: string, default: plain }\n",
        )
        .expect("the spec is valid");
        spec.resource("posts").expect("posts").clone()
    }

    /// The bytes written from the stored text, and those of the parsed record (`None` when it does not parse).
    fn both(data: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let resource = resource();
        let stored = StoredRow {
            id: RecordId::Integer(7),
            data,
            created_at: "2024-01-01T00:00:00Z",
            updated_at: "2024-01-02T00:00:00Z",
        };
        let mut out = Vec::new();
        let direct = record(&resource, &stored, &mut out).map(|()| out);
        let parsed = serde_json::from_str(data).ok().map(|fields| Record {
            id: stored.id.clone(),
            fields,
            created_at: stored.created_at.to_string(),
            updated_at: stored.updated_at.to_string(),
        });
        let slow = parsed.map(|parsed| {
            serde_json::to_vec(&super::super::record_object(&resource, &parsed))
                .expect("serialises")
        });
        (direct, slow)
    }

    #[test]
    fn writes_what_the_parsed_record_serialises_to() {
        let mut written = 0;
        for data in [
            r#"{"title":"plain","views":12,"tags":["a","b"],"score":1.5}"#,
            r#"{"title":"esc\"aped \u00e9 \n","views":-3,"score":1e3}"#,
            r#"{"views":123456789012345678901,"score":-0,"title":"é ✓"}"#,
            r#"{"title":"one","title":"two","gone":{"a":[1,{"b":"}"}]},"kind":null}"#,
            r#"{ "title" : "spaced" , "tags" : [ 1 , 2 ] }"#,
            r#"{"tags":[],"score":0.1,"views":0,"title":"x"}"#,
            r#"{}"#,
            "{\"title\":\"del \u{7f} \u{1}\"}",
            "{\"title\":\"del \u{7f}\"}",
            r#"{"title":"as written","views":12,"tags":null,"score":2,"kind":"k"}"#,
            r#"{"title":"as written","views":12,"tags":null,"score":2,"kind":"k","more":1}"#,
        ] {
            let (direct, slow) = both(data);
            match (direct, slow) {
                (Some(direct), Some(slow)) => {
                    written += 1;
                    assert_eq!(
                        String::from_utf8(direct).expect("utf-8"),
                        String::from_utf8(slow).expect("utf-8"),
                        "{data}"
                    );
                }
                (Some(_), None) => panic!("{data} was written but does not parse"),
                (None, _) => {}
            }
        }
        // All but the spaced object and the raw control character.
        assert_eq!(written, 9);
    }

    #[test]
    fn copies_whole_only_the_objects_written_field_by_field_in_order() {
        let resource = resource();
        let as_written = |data: &str| is_as_written(&resource, data.as_bytes());
        assert!(as_written(
            r#"{"title":"t","views":1,"tags":null,"score":2,"kind":"k"}"#
        ));
        for other in [
            r#"{"views":1,"title":"t","tags":null,"score":2,"kind":"k"}"#,
            r#"{"title":"t","views":1,"tags":null,"score":2}"#,
            r#"{"title":"t","views":1,"tags":null,"score":2,"kind":"k","more":1}"#,
            r#"{"title":"t","views":1,"tags":["a"],"score":2,"kind":"k"}"#,
            r#"{"title":"t\"","views":1,"tags":null,"score":2,"kind":"k"}"#,
            r#"{"title":"t","views":1.0,"tags":null,"score":2,"kind":"k"}"#,
            r#"{"title":"t","views":1,"tags":null,"score":2,"kind":"k"} "#,
            "{}",
        ] {
            assert!(!as_written(other), "{other}");
        }
    }

    #[test]
    fn reads_compact_objects_without_parsing_them_whole() {
        let (direct, slow) = both(r#"{"title":"a \"q\"","views":5,"tags":["x"],"score":2.50}"#);
        assert_eq!(direct, slow);
        assert!(
            direct.is_some(),
            "a compact object is written from its text"
        );
        let (direct, _) = both(r#"{ "title" : "spaced" }"#);
        assert_eq!(
            direct, None,
            "a text that is not compact is parsed by the caller"
        );
    }

    #[test]
    fn finds_the_end_of_strings_and_whether_they_are_plain_at_any_position() {
        for special in [b'"', b'\\', 0x01, 0x1f, b' ', 0x7f, 0xc3] {
            for position in 0..20 {
                let mut text = vec![b'"'];
                text.extend(std::iter::repeat_n(b'a', position));
                text.push(special);
                text.extend(std::iter::repeat_n(b'b', 20 - position));
                text.push(b'"');
                let naive_plain = special >= 0x20 && special != b'\\';
                let expected = match special {
                    b'"' => (position + 2, true),
                    _ => (text.len(), naive_plain),
                };
                assert_eq!(
                    skip_string(&text, 0),
                    Some(expected),
                    "{special:#x} at {position}"
                );
            }
        }
    }
}
