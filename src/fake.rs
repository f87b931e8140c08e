//! Deterministic fake values for a resource's fields: the generator is named
//! by `fake:` or inferred from the field's name, format and type, and every
//! value satisfies the field's constraints. Same seed, same values, on every
//! machine. Knows nothing of storage; references and uniqueness are the
//! seeder's business.

use fake::Fake;
use fake::faker::{address, company, internet, job, lorem, name, phone_number};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Value, json};

use crate::clock;
use crate::fingerprint;
use crate::spec::{Field, FieldType, Format, Resource, Values, infer_generator, number_range};

/// Days from the Unix epoch to 2025-01-01, the fixed "today" of generated
/// dates, so that data does not depend on when it is generated.
const REFERENCE_DAY: i64 = 20_089;

/// A seeded source of fake records for one resource.
pub struct Faker {
    rng: ChaCha8Rng,
    /// The generator inferred from each field name met so far.
    inferred: std::collections::HashMap<String, &'static str>,
    /// The value each field falls back on when random ones keep missing its constraints.
    fallbacks: std::collections::HashMap<String, Option<Value>>,
}

impl Faker {
    /// A generator for `resource`'s records; each resource gets its own stream,
    /// so adding a resource to a spec does not change the others' data.
    pub fn new(seed: u64, resource: &str) -> Faker {
        let mixed = fingerprint::fnv1a(seed ^ fingerprint::START, resource.bytes());
        Faker {
            rng: ChaCha8Rng::seed_from_u64(mixed),
            inferred: std::collections::HashMap::new(),
            fallbacks: std::collections::HashMap::new(),
        }
    }

    /// A random index below `len` (which must not be zero).
    pub fn index(&mut self, len: usize) -> usize {
        self.rng.random_range(0..len)
    }

    /// A random version 4 UUID.
    pub fn uuid(&mut self) -> String {
        let mut bytes: [u8; 16] = self.rng.random();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// Values for every non-reference field of `resource` that satisfy its constraints.
    pub fn record(&mut self, resource: &Resource) -> Result<Map<String, Value>, String> {
        let mut record = Map::with_capacity(resource.fields.len());
        for field in resource
            .fields
            .iter()
            .filter(|field| field.reference.is_none() && !field.is_computed())
        {
            let value = self.valid_value(resource, field)?;
            record.insert(field.name.clone(), value);
        }
        Ok(record)
    }

    /// A value for `field` that passes the resource's validation: a random
    /// one, else (a pattern random strings keep missing) the first value the
    /// field's constraints allow, which the spec check made sure exists.
    pub fn valid_value(&mut self, resource: &Resource, field: &Field) -> Result<Value, String> {
        for _ in 0..50 {
            let value = self.value(field);
            if is_valid_by_construction(field) || self.accepts(resource, field, &value) {
                return Ok(value);
            }
        }
        let fallback = match self.fallbacks.get(&field.name) {
            Some(fallback) => fallback.clone(),
            None => {
                let fallback = Values::of(field, 1)
                    .take(1_000)
                    .find(|value| self.accepts(resource, field, value));
                self.fallbacks.insert(field.name.clone(), fallback.clone());
                fallback
            }
        };
        fallback.ok_or_else(|| format!(
            "cannot generate a value for resources.{}.fields.{} that satisfies its constraints: set `fake:` or loosen them",
            resource.name, field.name
        ))
    }

    /// Whether `value` passes the resource's validation of `field`.
    pub fn accepts(&self, resource: &Resource, field: &Field, value: &Value) -> bool {
        let mut candidate = Map::new();
        candidate.insert(field.name.clone(), value.clone());
        let about_this_field = |error: &crate::spec::FieldError| {
            error.field == field.name || error.field.starts_with(&format!("{}/", field.name))
        };
        match resource.validate(&mut candidate) {
            Ok(()) => true,
            Err(errors) => !errors.iter().any(about_this_field),
        }
    }

    /// A value of `field`'s type, shaped by its constraints.
    pub fn value(&mut self, field: &Field) -> Value {
        // A state field takes only states a record can reach.
        if let Some(allowed) = field.reachable_states.as_ref().or(field.allowed.as_ref()) {
            return allowed[self.index(allowed.len())].clone();
        }
        match field.kind {
            FieldType::Boolean => json!(self.rng.random_bool(0.5)),
            FieldType::Integer => json!(self.integer(field)),
            FieldType::Number => json!(self.number(field)),
            FieldType::Date => json!(self.date(is_future(field))),
            FieldType::DateTime => {
                let day = self.day(is_future(field));
                let seconds = self.rng.random_range(0..86_400);
                json!(clock::format_timestamp(day * 86_400 + seconds, 0))
            }
            FieldType::Object => json!({}),
            FieldType::Array => {
                let len = self.rng.random_range(0..=3);
                let items: Vec<Value> = match &field.items {
                    Some(items) => (0..len).map(|_| self.value(items)).collect(),
                    None => (0..len).map(|_| json!(self.word())).collect(),
                };
                json!(items)
            }
            FieldType::String => json!(self.string(field)),
        }
    }

    fn integer(&mut self, field: &Field) -> i64 {
        let lower = field.name.to_lowercase();
        let (low, high) = match () {
            _ if lower.contains("year") => (1950, 2025),
            _ if lower.contains("age") => (18, 90),
            _ if lower.contains("rating") || lower.contains("stars") => (1, 5),
            _ if lower.contains("price") || lower.contains("amount") => (1, 500),
            _ => (0, 1000),
        };
        let minimum = field
            .minimum
            .map_or(i64::MIN, |minimum| minimum.ceil() as i64);
        let maximum = field
            .maximum
            .map_or(i64::MAX, |maximum| maximum.floor() as i64);
        // The name's usual range where it fits the constraints, else near the constraints.
        let (low, high) = if low.max(minimum) <= high.min(maximum) {
            (low.max(minimum), high.min(maximum))
        } else if minimum > high {
            (minimum, minimum.saturating_add(1000).min(maximum))
        } else {
            (maximum.saturating_sub(1000).max(minimum), maximum)
        };
        if low >= high {
            return low;
        }
        self.rng.random_range(low..=high)
    }

    fn number(&mut self, field: &Field) -> f64 {
        let (low, high) = number_range(field);
        if low >= high {
            return low;
        }
        let value = if (high - low).is_finite() {
            self.rng.random_range(low..=high)
        } else {
            // The width overflows (bounds near ±1.8e308): interpolate instead.
            let share: f64 = self.rng.random_range(0.0..=1.0);
            (low * (1.0 - share) + high * share).clamp(low, high)
        };
        let rounded = (value * 100.0).round() / 100.0;
        if rounded < low || rounded > high {
            value
        } else {
            rounded
        }
    }

    fn day(&mut self, future: bool) -> i64 {
        let offset = if future {
            self.rng.random_range(1..=365)
        } else {
            -self.rng.random_range(0..=3650)
        };
        REFERENCE_DAY + offset
    }

    fn date(&mut self, future: bool) -> String {
        let day = self.day(future);
        clock::format_timestamp(day * 86_400, 0)[..10].to_string()
    }

    fn word(&mut self) -> String {
        lorem::en::Word().fake_with_rng(&mut self.rng)
    }

    fn string(&mut self, field: &Field) -> String {
        let generator = field
            .fake
            .as_deref()
            .or(match field.format {
                Some(Format::Email) => Some("email"),
                Some(Format::Uri) => Some("url"),
                Some(Format::Uuid) => Some("uuid"),
                None => None,
            })
            .unwrap_or_else(|| match self.inferred.get(&field.name) {
                Some(generator) => generator,
                None => self
                    .inferred
                    .entry(field.name.clone())
                    .or_insert_with(|| infer_generator(&field.name)),
            });
        let mut text = self.generate(generator);
        if let Some(pattern) = &field.pattern
            && !pattern.is_match(&text)
        {
            text = self.matching(pattern.as_str()).unwrap_or(text);
        }
        self.fit_length(text, field.min_length, field.max_length)
    }

    fn generate(&mut self, generator: &str) -> String {
        let rng = &mut self.rng;
        match generator {
            "name" => name::en::Name().fake_with_rng(rng),
            "first_name" => name::en::FirstName().fake_with_rng(rng),
            "last_name" => name::en::LastName().fake_with_rng(rng),
            "email" => internet::en::SafeEmail().fake_with_rng(rng),
            "username" => internet::en::Username().fake_with_rng(rng),
            "phone" => phone_number::en::PhoneNumber().fake_with_rng(rng),
            "paragraph" => {
                let mut text = String::with_capacity(256);
                let sentences: usize = (2..5).fake_with_rng(rng);
                for index in 0..sentences {
                    if index > 0 {
                        text.push('\n');
                    }
                    push_sentence(rng, 4..10, &mut text);
                }
                text
            }
            "word" => lorem::en::Word().fake_with_rng(rng),
            "words" => {
                let mut text = String::with_capacity(32);
                push_words(rng, 1..4, &mut text);
                text
            }
            "title" => {
                let mut text = String::with_capacity(48);
                push_sentence(rng, 2..6, &mut text);
                text.truncate(text.trim_end_matches('.').len());
                text
            }
            "company" => company::en::CompanyName().fake_with_rng(rng),
            "job" => job::en::Title().fake_with_rng(rng),
            "street" => {
                let number: String = address::en::BuildingNumber().fake_with_rng(rng);
                let street: String = address::en::StreetName().fake_with_rng(rng);
                format!("{number} {street}")
            }
            "city" => address::en::CityName().fake_with_rng(rng),
            "country" => address::en::CountryName().fake_with_rng(rng),
            "zip" => address::en::ZipCode().fake_with_rng(rng),
            "url" => {
                let word: String = lorem::en::Word().fake_with_rng(rng);
                let suffix: String = internet::en::DomainSuffix().fake_with_rng(rng);
                format!("https://{word}.{suffix}/")
            }
            "uuid" => self.uuid(),
            "ipv4" => internet::en::IPv4().fake_with_rng(rng),
            "color" => {
                let rgb: u32 = rng.random_range(0..0x0100_0000);
                format!("#{rgb:06x}")
            }
            "isbn" => fake::faker::barcode::en::Isbn13().fake_with_rng(rng),
            "date_past" | "date_future" => self.date(generator == "date_future"),
            "price" => format!("{:.2}", rng.random_range(1.0..500.0)),
            _ => {
                let mut text = String::with_capacity(64);
                push_sentence(rng, 3..8, &mut text);
                text
            }
        }
    }

    fn fit_length(&mut self, mut text: String, min: Option<u64>, max: Option<u64>) -> String {
        let min = min.unwrap_or(0) as usize;
        // Most generated text is ASCII, whose characters are its bytes.
        let characters = |text: &str| match text.is_ascii() {
            true => text.len(),
            false => text.chars().count(),
        };
        let mut length = characters(&text);
        while length < min {
            let word: &str = lorem::en::Word().fake_with_rng(&mut self.rng);
            if !text.is_empty() {
                text.push(' ');
                length += 1;
            }
            text.push_str(word);
            length += word.chars().count();
        }
        if let Some(max) = max.map(|max| max as usize)
            && length > max
        {
            let end = match text.is_ascii() {
                true => max,
                false => text
                    .char_indices()
                    .nth(max)
                    .map_or(text.len(), |(at, _)| at),
            };
            text.truncate(end);
            let trimmed = text.trim_end().len();
            if characters(&text[..trimmed]) >= min {
                text.truncate(trimmed);
            }
        }
        text
    }

    /// A string matching `pattern`, built by walking the regex's syntax tree.
    fn matching(&mut self, pattern: &str) -> Option<String> {
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let mut out = String::new();
        self.walk(&hir, &mut out).then_some(out)
    }

    fn walk(&mut self, hir: &Hir, out: &mut String) -> bool {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => true,
            HirKind::Literal(literal) => match std::str::from_utf8(&literal.0) {
                Ok(text) => {
                    out.push_str(text);
                    true
                }
                Err(_) => false,
            },
            HirKind::Class(Class::Unicode(class)) => {
                let ranges = class.ranges();
                if ranges.is_empty() {
                    return false;
                }
                // Prefer printable ASCII where the class allows it.
                let ascii: Vec<(char, char)> = ranges
                    .iter()
                    .filter(|range| range.start() <= '~' && range.end() >= ' ')
                    .map(|range| (range.start().max(' '), range.end().min('~')))
                    .collect();
                let (start, end) = if ascii.is_empty() {
                    let range = ranges[self.index(ranges.len())];
                    (range.start(), range.end())
                } else {
                    ascii[self.index(ascii.len())]
                };
                let code = self.rng.random_range(u32::from(start)..=u32::from(end));
                out.push(char::from_u32(code).unwrap_or(start));
                true
            }
            HirKind::Class(Class::Bytes(_)) => false,
            HirKind::Repetition(repetition) => {
                let max = repetition
                    .max
                    .unwrap_or(repetition.min + 8)
                    .min(repetition.min + 8);
                let times = self.rng.random_range(repetition.min..=max);
                (0..times).all(|_| self.walk(&repetition.sub, out))
            }
            HirKind::Capture(capture) => self.walk(&capture.sub, out),
            HirKind::Concat(parts) => parts.iter().all(|part| self.walk(part, out)),
            HirKind::Alternation(choices) => {
                let choice = &choices[self.index(choices.len())];
                self.walk(choice, out)
            }
        }
    }
}

/// Appends `words` lorem words (a count drawn from the range), separated by
/// spaces: what the `fake` crate's `Words` makes, joined, drawing the same
/// random numbers, without a string per word.
fn push_words(rng: &mut ChaCha8Rng, words: std::ops::Range<usize>, text: &mut String) {
    let count: usize = words.fake_with_rng(rng);
    for index in 0..count {
        if index > 0 {
            text.push(' ');
        }
        let word: &str = lorem::en::Word().fake_with_rng(rng);
        text.push_str(word);
    }
}

/// Appends a lorem sentence: what the `fake` crate's `Sentence` makes (its
/// words, then a full stop), drawing the same random numbers.
fn push_sentence(rng: &mut ChaCha8Rng, words: std::ops::Range<usize>, text: &mut String) {
    push_words(rng, words, text);
    text.push('.');
}

/// Whether every value `value` makes for `field` is valid without checking:
/// enums, booleans, numbers within bounds, dates, and text without length,
/// pattern or format constraints. Checking costs a schema validation per value.
fn is_valid_by_construction(field: &Field) -> bool {
    // Reachable states are checked against the enum, where there is one.
    if field.allowed.is_some() {
        return true;
    }
    match field.kind {
        FieldType::Boolean
        | FieldType::Integer
        | FieldType::Number
        | FieldType::Date
        | FieldType::DateTime
        | FieldType::Object => true,
        // Lengths are fitted by construction (fit_length); patterns and formats are not certain.
        FieldType::String => field.pattern.is_none() && field.format.is_none(),
        FieldType::Array => field.items.as_deref().is_none_or(is_valid_by_construction),
    }
}

fn is_future(field: &Field) -> bool {
    field.fake.as_deref() == Some("date_future")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let first: Vec<String> = {
            let mut faker = Faker::new(7, "books");
            (0..5).map(|_| faker.generate("name")).collect()
        };
        let second: Vec<String> = {
            let mut faker = Faker::new(7, "books");
            (0..5).map(|_| faker.generate("name")).collect()
        };
        assert_eq!(first, second);
        let other: Vec<String> = {
            let mut faker = Faker::new(8, "books");
            (0..5).map(|_| faker.generate("name")).collect()
        };
        assert_ne!(first, other);
    }

    #[test]
    fn patterns_are_followed() {
        let mut faker = Faker::new(1, "x");
        let pattern = regex::Regex::new("^[0-9-]{10,17}$").unwrap();
        for _ in 0..20 {
            let text = faker.matching(pattern.as_str()).unwrap();
            assert!(pattern.is_match(&text), "{text}");
        }
    }

    #[test]
    fn generators_keep_to_the_longest_text_the_spec_check_assumes() {
        let mut faker = Faker::new(3, "x");
        for generator in crate::spec::GENERATORS {
            for _ in 0..2_000 {
                let text = faker.generate(generator);
                let written = Value::from(text.as_str()).to_string().len() - 2;
                assert!(
                    written <= crate::spec::longest_text(generator),
                    "{generator}: {text:?}"
                );
                // Cut at maxLength, a character takes two bytes at most.
                assert!(written <= 2 * text.chars().count(), "{generator}: {text:?}");
            }
        }
    }

    #[test]
    fn lorem_text_is_the_fake_crates_with_the_same_draws() {
        for seed in 0..300 {
            let mut ours = ChaCha8Rng::seed_from_u64(seed);
            let mut theirs = ChaCha8Rng::seed_from_u64(seed);
            let mut text = String::new();
            push_sentence(&mut ours, 2..6, &mut text);
            let sentence: String = lorem::en::Sentence(2..6).fake_with_rng(&mut theirs);
            assert_eq!(text, sentence);
            let mut text = String::new();
            push_words(&mut ours, 1..4, &mut text);
            let words: Vec<String> = lorem::en::Words(1..4).fake_with_rng(&mut theirs);
            assert_eq!(text, words.join(" "));
            assert_eq!(ours.random::<u64>(), theirs.random::<u64>());
        }
        let mut ours = Faker::new(5, "posts");
        let mut theirs =
            ChaCha8Rng::seed_from_u64(fingerprint::fnv1a(5 ^ fingerprint::START, "posts".bytes()));
        for _ in 0..300 {
            let paragraph: String = lorem::en::Paragraph(2..5).fake_with_rng(&mut theirs);
            assert_eq!(ours.generate("paragraph"), paragraph);
            let title: String = lorem::en::Sentence(2..6).fake_with_rng(&mut theirs);
            assert_eq!(ours.generate("title"), title.trim_end_matches('.'));
            let sentence: String = lorem::en::Sentence(3..8).fake_with_rng(&mut theirs);
            assert_eq!(ours.generate("sentence"), sentence);
        }
    }

    #[test]
    fn numbers_between_the_largest_bounds_are_drawn_without_panicking() {
        let mut faker = Faker::new(1, "x");
        let mut field = crate::spec::parse(
            "spec.yaml",
            "standin: 1\nresources:\n  x:\n    fields:\n      n: number\n",
        )
        .unwrap()
        .resources[0]
            .fields[0]
            .clone();
        field.minimum = Some(-f64::MAX);
        field.maximum = Some(f64::MAX);
        for _ in 0..100 {
            assert!(faker.number(&field).is_finite());
        }
    }

    #[test]
    fn lengths_are_respected() {
        let mut faker = Faker::new(1, "x");
        for _ in 0..20 {
            let sentence = faker.generate("sentence");
            let text = faker.fit_length(sentence, Some(5), Some(12));
            let len = text.chars().count();
            assert!((5..=12).contains(&len), "{text:?}");
        }
    }
}
