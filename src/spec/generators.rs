//! The fake-data generators a spec may name with `fake:`, the one a field's
//! format or name suggests without it, and the longest text each makes (what
//! the spec check bounds a generated record's size with). The generators
//! themselves live in `fake`; this is what the spec knows of them.

use super::model::{Field, Format};

/// Every generator a spec may name with `fake:`.
pub const GENERATORS: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "email",
    "username",
    "phone",
    "sentence",
    "paragraph",
    "word",
    "words",
    "title",
    "company",
    "job",
    "street",
    "city",
    "country",
    "zip",
    "url",
    "uuid",
    "ipv4",
    "color",
    "isbn",
    "date_past",
    "date_future",
    "price",
];

/// Whether `name` is a generator a spec may name.
pub fn is_generator(name: &str) -> bool {
    GENERATORS.contains(&name)
}

/// The generator of a string field's values: its `fake:`, else its format's,
/// else the one its name suggests.
pub fn generator_of(field: &Field) -> &'static str {
    if let Some(named) = field.fake.as_deref()
        && let Some(known) = GENERATORS.iter().find(|known| **known == named)
    {
        return known;
    }
    match field.format {
        Some(Format::Email) => "email",
        Some(Format::Uri) => "url",
        Some(Format::Uuid) => "uuid",
        None => infer_generator(&field.name),
    }
}

/// The longest text `generator` makes, in bytes once written as a JSON
/// string (without its quotes), with a margin; `fake`'s tests hold the
/// generators to it.
pub fn longest_text(generator: &str) -> usize {
    match generator {
        "paragraph" => 800,
        "sentence" | "title" => 160,
        "words" | "company" | "job" | "street" | "country" | "email" | "url" | "name" => 100,
        _ => 60,
    }
}

/// The generator a field's name suggests.
pub fn infer_generator(field_name: &str) -> &'static str {
    let name = field_name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| name.contains(word));
    match () {
        _ if has(&["email"]) => "email",
        _ if has(&["first_name", "firstname", "given_name"]) => "first_name",
        _ if has(&["last_name", "lastname", "surname", "family_name"]) => "last_name",
        _ if has(&["username", "login", "handle", "nickname"]) => "username",
        _ if has(&["company", "organisation", "organization", "employer"]) => "company",
        _ if has(&["city", "town"]) => "city",
        _ if has(&["country"]) => "country",
        _ if has(&["street", "address"]) => "street",
        _ if has(&["zip", "postal", "postcode"]) => "zip",
        _ if has(&["phone", "mobile", "fax"]) => "phone",
        _ if has(&["url", "website", "homepage", "link"]) => "url",
        _ if has(&["uuid", "guid"]) => "uuid",
        _ if has(&["ip_address", "ipv4"]) || name == "ip" => "ipv4",
        _ if has(&["color", "colour"]) => "color",
        _ if has(&["isbn"]) => "isbn",
        _ if has(&["job", "occupation", "profession", "position", "role"]) => "job",
        _ if has(&["title", "headline", "subject", "heading"]) => "title",
        _ if has(&[
            "description",
            "body",
            "content",
            "text",
            "bio",
            "summary",
            "comment",
            "note",
            "message",
        ]) =>
        {
            "paragraph"
        }
        _ if has(&["name"]) => "name",
        _ if has(&[
            "tag", "slug", "category", "label", "word", "keyword", "status", "type", "kind",
        ]) =>
        {
            "word"
        }
        _ => "words",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_generators() {
        assert_eq!(infer_generator("email"), "email");
        assert_eq!(infer_generator("contact_email"), "email");
        assert_eq!(infer_generator("city"), "city");
        assert_eq!(infer_generator("name"), "name");
        assert_eq!(infer_generator("body"), "paragraph");
    }
}
