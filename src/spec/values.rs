//! The values a field's constraints allow, one after another in a fixed
//! order: what the fake-data generator falls back on when its random values
//! keep missing a pattern or run out of distinct values for a unique field,
//! and what the spec check counts to know that seeding will find enough.
//! Realistic random values are `fake`'s business; this is the guaranteed supply.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::fields::{compile, field_schema};
use super::model::{Field, FieldType, Format};
use super::pattern::Node;

/// Candidates a supply that must check them (a pattern's) looks at beyond
/// four per value it was asked for, before giving up.
const SCAN_MARGIN: u64 = 10_000;
/// How many numbers a number field's supply spreads over its range.
const NUMBER_STEPS: i128 = 1 << 32;
/// How many days back from 2025-01-01 dates and date-times are supplied from.
const DAYS: u64 = 100_000;
/// 2025-01-01T00:00:00Z in seconds since the Unix epoch.
const REFERENCE_SECONDS: i64 = 1_735_689_600;

/// Distinct values of one field, each satisfying its constraints, in a fixed order.
pub struct Values {
    supply: Supply,
    /// Index of the next candidate.
    next: u64,
    /// Number of candidates.
    size: u64,
    /// Candidates not valid by construction are checked against the field.
    check: Option<Check>,
}

/// What a supply that is not valid by construction checks its candidates with.
struct Check {
    validator: jsonschema::Validator,
    seen: HashSet<String>,
    budget: u64,
}

enum Supply {
    Listed(Vec<Value>),
    Integers {
        low: i64,
        high: i64,
        start: i64,
    },
    Numbers {
        low: i128,
        stride: i128,
        steps: u64,
    },
    Days,
    Seconds,
    Letters(Letters),
    Uuids,
    /// Strings a pattern describes, padded with `a` up to `min_length` characters.
    Pattern {
        node: Node,
        min_length: u64,
    },
}

/// Strings of letters between a prefix and a suffix, shortest first.
struct Letters {
    prefix: &'static str,
    suffix: &'static str,
    shortest: u64,
    longest: Option<u64>,
}

impl Values {
    /// The supply of `field`'s values, for a caller that needs `wanted` of them.
    pub fn of(field: &Field, wanted: u64) -> Values {
        let supply = supply(field);
        let mut size = match &supply {
            Supply::Listed(values) => values.len() as u64,
            Supply::Integers { low, high, .. } => {
                let span = (i128::from(*high) - i128::from(*low) + 1).max(0);
                u64::try_from(span).unwrap_or(u64::MAX)
            }
            Supply::Numbers { steps, .. } => *steps,
            Supply::Days => DAYS,
            Supply::Seconds => DAYS * 86_400,
            Supply::Letters(letters) => letters.count(),
            Supply::Uuids => {
                let fits = field.min_length.is_none_or(|min| min <= 36)
                    && field.max_length.is_none_or(|max| max >= 36);
                if fits { 1 << 48 } else { 0 }
            }
            Supply::Pattern { node, .. } => node.count,
        };
        let mut check = None;
        if let Supply::Pattern { .. } = supply {
            match compile(&field_schema(field)) {
                Ok(validator) => {
                    check = Some(Check {
                        validator,
                        seen: HashSet::new(),
                        budget: wanted.saturating_mul(4).saturating_add(SCAN_MARGIN),
                    });
                }
                Err(_) => size = 0,
            }
        }
        Values {
            supply,
            next: 0,
            size,
            check,
        }
    }

    /// How many values the supply gives, counting no further than `wanted`.
    pub fn count_up_to(mut self, wanted: u64) -> u64 {
        if self.check.is_none() {
            return self.size.min(wanted);
        }
        let mut found = 0;
        while found < wanted && self.next().is_some() {
            found += 1;
        }
        found
    }

    fn candidate(&self, index: u64) -> Option<Value> {
        Some(match &self.supply {
            Supply::Listed(values) => values.get(index as usize)?.clone(),
            Supply::Integers { low, high, start } => {
                let above = i128::from(*high) - i128::from(*start) + 1;
                let index = i128::from(index);
                let value = if index < above {
                    i128::from(*start) + index
                } else {
                    i128::from(*start) - 1 - (index - above)
                };
                json!(i64::try_from(value).ok().filter(|value| *value >= *low)?)
            }
            Supply::Numbers { low, stride, .. } => {
                json!(from_ordinal(low + i128::from(index) * stride))
            }
            Supply::Days => {
                let seconds = REFERENCE_SECONDS - 86_400 * index as i64;
                Value::String(timestamp(seconds)?[..10].to_string())
            }
            Supply::Seconds => json!(timestamp(REFERENCE_SECONDS - index as i64)?),
            Supply::Letters(letters) => json!(letters.nth(index)?),
            Supply::Uuids => json!(format!("00000000-0000-4000-8000-{index:012x}")),
            Supply::Pattern { node, min_length } => {
                let mut text = String::new();
                node.write(index, &mut text);
                let length = text.chars().count() as u64;
                if length < *min_length {
                    text.extend(std::iter::repeat_n('a', (min_length - length) as usize));
                }
                json!(text)
            }
        })
    }
}

impl Iterator for Values {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        while self.next < self.size {
            let index = self.next;
            self.next += 1;
            let candidate = self.candidate(index)?;
            let Some(check) = &mut self.check else {
                return Some(candidate);
            };
            if check.budget == 0 {
                return None;
            }
            check.budget -= 1;
            if check.validator.is_valid(&candidate) && check.seen.insert(candidate.to_string()) {
                return Some(candidate);
            }
        }
        None
    }
}

fn supply(field: &Field) -> Supply {
    if let Some(allowed) = field.reachable_states.as_ref().or(field.allowed.as_ref()) {
        let mut seen = HashSet::new();
        let distinct = allowed
            .iter()
            .filter(|value| seen.insert(value.to_string()))
            .cloned()
            .collect();
        return Supply::Listed(distinct);
    }
    match field.kind {
        FieldType::Boolean => Supply::Listed(vec![json!(false), json!(true)]),
        FieldType::Object => Supply::Listed(vec![json!({})]),
        FieldType::Array => Supply::Listed(vec![json!([])]),
        FieldType::Integer => {
            let (low, high) = integer_bounds(field).unwrap_or((1, 0));
            Supply::Integers {
                low,
                high,
                start: 0.clamp(low, high.max(low)),
            }
        }
        FieldType::Number => {
            let (steps, low, stride) = number_steps(field);
            Supply::Numbers {
                low,
                stride,
                steps: steps as u64,
            }
        }
        FieldType::Date => Supply::Days,
        FieldType::DateTime => Supply::Seconds,
        FieldType::String => match (&field.pattern, field.format) {
            (Some(pattern), _) => Supply::Pattern {
                node: regex_syntax::Parser::new()
                    .parse(pattern.as_str())
                    .map_or_else(|_| Node::never(), |hir| Node::of(&hir)),
                min_length: field.min_length.unwrap_or(0),
            },
            (None, Some(Format::Uuid)) => Supply::Uuids,
            (None, Some(Format::Email)) => {
                Supply::Letters(Letters::between(field, "", "@example.com", 1))
            }
            (None, Some(Format::Uri)) => {
                Supply::Letters(Letters::between(field, "https://example.com/", "", 0))
            }
            (None, None) => Supply::Letters(Letters::between(field, "", "", 0)),
        },
    }
}

/// The smallest and largest integer an integer field allows, if it allows any.
pub fn integer_bounds(field: &Field) -> Option<(i64, i64)> {
    // 2^63 is exactly representable; anything at or above it is beyond i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let low = field.minimum.map_or(-LIMIT, f64::ceil);
    let high = field.maximum.map_or(LIMIT - 1024.0, f64::floor);
    if low > high || low >= LIMIT || high < -LIMIT {
        return None;
    }
    Some((low as i64, high as i64))
}

/// The range a number field's values are drawn from, as `fake` draws them.
pub fn number_range(field: &Field) -> (f64, f64) {
    match (field.minimum, field.maximum) {
        (Some(low), Some(high)) => (low, high),
        (Some(low), None) => (low, low.max(0.0) + 500.0),
        (None, Some(high)) => (high.min(0.0) - 500.0, high),
        (None, None) => (0.0, 500.0),
    }
}

/// How many numbers the supply spreads over the range, the first one's
/// ordinal and the distance between ordinals of successive ones.
fn number_steps(field: &Field) -> (i128, i128, i128) {
    let (low, high) = number_range(field);
    let (low, high) = (ordinal(low), ordinal(high));
    if high <= low {
        return (1, low, 1);
    }
    let span = high - low;
    if span < NUMBER_STEPS {
        (span + 1, low, 1)
    } else {
        (NUMBER_STEPS, low, span / (NUMBER_STEPS - 1))
    }
}

/// The position of a finite float among all floats, in order (-0 is 0).
fn ordinal(number: f64) -> i128 {
    let number = number + 0.0;
    if number >= 0.0 {
        i128::from(number.to_bits())
    } else {
        -i128::from((-number).to_bits())
    }
}

fn from_ordinal(ordinal: i128) -> f64 {
    let bits = |magnitude: i128| f64::from_bits(u64::try_from(magnitude).unwrap_or(0));
    if ordinal >= 0 {
        bits(ordinal)
    } else {
        -bits(-ordinal)
    }
}

/// An RFC 3339 timestamp, `2025-01-01T00:00:00.000Z`.
fn timestamp(seconds: i64) -> Option<String> {
    let moment = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        moment.year(),
        u8::from(moment.month()),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second(),
    ))
}

impl Letters {
    /// Letters whose whole text fits the field's length bounds, at least `fewest` of them.
    fn between(field: &Field, prefix: &'static str, suffix: &'static str, fewest: u64) -> Letters {
        let fixed = (prefix.len() + suffix.len()) as u64;
        Letters {
            prefix,
            suffix,
            shortest: field
                .min_length
                .unwrap_or(0)
                .saturating_sub(fixed)
                .max(fewest),
            // A bound below the fixed text leaves no room: -1 letters.
            longest: field.max_length.map(|max| max.wrapping_sub(fixed)),
        }
    }

    fn fits(&self, length: u64) -> bool {
        self.longest
            .is_none_or(|longest| longest < (1 << 62) && length <= longest)
    }

    fn count(&self) -> u64 {
        let mut total: u64 = 0;
        let mut length = self.shortest;
        while self.fits(length) && total < u64::MAX {
            total = total.saturating_add(power(26, length));
            length += 1;
        }
        total
    }

    fn nth(&self, mut index: u64) -> Option<String> {
        let mut length = self.shortest;
        loop {
            if !self.fits(length) {
                return None;
            }
            let block = power(26, length);
            if index < block {
                break;
            }
            index -= block;
            length += 1;
        }
        let mut letters = vec![b'a'; length as usize];
        for slot in letters.iter_mut().rev() {
            if index == 0 {
                break;
            }
            *slot = b'a' + (index % 26) as u8;
            index /= 26;
        }
        let letters = String::from_utf8(letters).expect("ASCII letters");
        Some(format!("{}{letters}{}", self.prefix, self.suffix))
    }
}

/// `base` to the power `exponent`, saturating.
pub(super) fn power(base: u64, exponent: u64) -> u64 {
    u32::try_from(exponent)
        .ok()
        .and_then(|exponent| base.checked_pow(exponent))
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(source: &str) -> Field {
        let spec = super::super::parse(
            "spec.yaml",
            &format!("standin: 1\nresources:\n  things:\n    fields:\n      x: {source}\n"),
        )
        .expect("a valid spec");
        spec.resources[0].fields[0].clone()
    }

    fn first(source: &str, wanted: usize) -> Vec<Value> {
        Values::of(&field(source), wanted as u64)
            .take(wanted)
            .collect()
    }

    #[test]
    fn enums_give_each_value_once() {
        assert_eq!(
            first("{ type: string, enum: [a, b, a] }", 5),
            [json!("a"), json!("b")]
        );
    }

    #[test]
    fn integers_start_at_zero_within_bounds() {
        assert_eq!(
            first("{ type: integer, minimum: -2, maximum: 1 }", 9),
            [json!(0), json!(1), json!(-1), json!(-2)]
        );
        let mut huge = field("{ type: integer }");
        huge.minimum = Some(1e300);
        assert_eq!(Values::of(&huge, 1).count_up_to(1), 0);
    }

    #[test]
    fn numbers_are_distinct_and_within_bounds() {
        let values = first("{ type: number, minimum: -1e308, maximum: 1e308 }", 1000);
        let numbers: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
        assert_eq!(numbers.len(), 1000);
        assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(numbers.iter().all(|n| (-1e308..=1e308).contains(n)));
        assert_eq!(
            first("{ type: number, minimum: 2, maximum: 2 }", 3),
            [json!(2.0)]
        );
    }

    #[test]
    fn strings_fit_their_lengths_and_formats() {
        assert_eq!(
            first("{ type: string, minLength: 2, maxLength: 3 }", 2),
            [json!("aa"), json!("ab")]
        );
        assert_eq!(
            first("{ type: string, format: email, maxLength: 13 }", 1),
            [json!("a@example.com")]
        );
        assert!(first("{ type: string, format: email, maxLength: 5 }", 1).is_empty());
        assert_eq!(
            Values::of(&field("{ type: string, maxLength: 1 }"), 100).count_up_to(100),
            27
        );
    }

    #[test]
    fn patterns_give_matching_strings_shortest_first() {
        assert_eq!(
            first("{ type: string, pattern: '^(x|y)[0-9]$' }", 3),
            [json!("x0"), json!("x1"), json!("x2")]
        );
        assert_eq!(
            Values::of(&field("{ type: string, pattern: '^[ab]{2}$' }"), 10).count_up_to(10),
            4
        );
        assert!(first("{ type: string, pattern: '^a{5}$', maxLength: 3 }", 1).is_empty());
    }
}
