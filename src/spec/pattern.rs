//! The strings a pattern describes, as the fake-data generator walks its
//! regular expression: repetitions go at most eight past their minimum and
//! classes prefer printable ASCII. Counts them, writes the n-th, and bounds
//! their size; whether a string really matches is for the validator to say.

use regex_syntax::hir::{Class, Hir, HirKind};

use super::values::power;

/// A regular expression as the generator walks it, with how many strings
/// each part can produce (saturating): repetitions go at most eight past
/// their minimum and classes prefer printable ASCII, as in `fake`.
pub(super) struct Node {
    /// How many strings it describes (saturating).
    pub(super) count: u64,
    shape: Shape,
}

enum Shape {
    Text(String),
    Chars(Vec<(u32, u32)>),
    Repeat { sub: Box<Node>, min: u32, max: u32 },
    Concat(Vec<Node>),
    Choice(Vec<Node>),
}

impl Node {
    /// A pattern no string matches.
    pub(super) fn never() -> Node {
        Node {
            count: 0,
            shape: Shape::Choice(Vec::new()),
        }
    }

    fn text(text: &str) -> Node {
        Node {
            count: 1,
            shape: Shape::Text(text.to_string()),
        }
    }

    /// The strings `hir` describes.
    pub(super) fn of(hir: &Hir) -> Node {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Node::text(""),
            HirKind::Literal(literal) => match std::str::from_utf8(&literal.0) {
                Ok(text) => Node::text(text),
                Err(_) => Node::never(),
            },
            HirKind::Class(Class::Unicode(class)) => {
                let ranges = preferred_ranges(class.ranges());
                let count = ranges
                    .iter()
                    .map(|(start, end)| u64::from(end - start + 1))
                    .fold(0u64, u64::saturating_add);
                Node {
                    count,
                    shape: Shape::Chars(ranges),
                }
            }
            HirKind::Class(Class::Bytes(_)) => Node::never(),
            HirKind::Repetition(repetition) => {
                let sub = Node::of(&repetition.sub);
                let min = repetition.min;
                let max = repetition
                    .max
                    .unwrap_or(min.saturating_add(8))
                    .min(min.saturating_add(8));
                let count = (min..=max)
                    .map(|times| power(sub.count, u64::from(times)))
                    .fold(0u64, u64::saturating_add);
                Node {
                    count,
                    shape: Shape::Repeat {
                        sub: Box::new(sub),
                        min,
                        max,
                    },
                }
            }
            HirKind::Capture(capture) => Node::of(&capture.sub),
            HirKind::Concat(parts) => {
                let parts: Vec<Node> = parts.iter().map(Node::of).collect();
                let count = parts
                    .iter()
                    .fold(1u64, |total, part| total.saturating_mul(part.count));
                Node {
                    count,
                    shape: Shape::Concat(parts),
                }
            }
            HirKind::Alternation(choices) => {
                let choices: Vec<Node> = choices.iter().map(Node::of).collect();
                let count = choices
                    .iter()
                    .fold(0u64, |total, choice| total.saturating_add(choice.count));
                Node {
                    count,
                    shape: Shape::Choice(choices),
                }
            }
        }
    }

    /// Writes the `index`-th string (`index` below `count`).
    pub(super) fn write(&self, mut index: u64, out: &mut String) {
        match &self.shape {
            Shape::Text(text) => out.push_str(text),
            Shape::Chars(ranges) => {
                for (start, end) in ranges {
                    let size = u64::from(end - start + 1);
                    if index < size {
                        if let Some(c) = char::from_u32(start + index as u32) {
                            out.push(c);
                        }
                        return;
                    }
                    index -= size;
                }
            }
            Shape::Repeat { sub, min, max } => {
                for times in *min..=*max {
                    let block = power(sub.count, u64::from(times));
                    if index < block {
                        let digits = digits(index, sub.count, times as usize);
                        for digit in digits {
                            sub.write(digit, out);
                        }
                        return;
                    }
                    index -= block;
                }
            }
            Shape::Concat(parts) => {
                let mut chosen = vec![0; parts.len()];
                for (slot, part) in chosen.iter_mut().zip(parts).rev() {
                    *slot = index % part.count.max(1);
                    index /= part.count.max(1);
                }
                for (part, digit) in parts.iter().zip(chosen) {
                    part.write(digit, out);
                }
            }
            Shape::Choice(choices) => {
                for choice in choices {
                    if index < choice.count {
                        choice.write(index, out);
                        return;
                    }
                    index -= choice.count;
                }
            }
        }
    }
}

/// `index` written in base `base` with `places` digits, most significant first.
fn digits(mut index: u64, base: u64, places: usize) -> Vec<u64> {
    let mut digits = vec![0; places];
    for digit in digits.iter_mut().rev() {
        *digit = index % base.max(1);
        index /= base.max(1);
    }
    digits
}

/// A class's ranges, limited to printable ASCII where they include some.
fn preferred_ranges(ranges: &[regex_syntax::hir::ClassUnicodeRange]) -> Vec<(u32, u32)> {
    let ascii: Vec<(u32, u32)> = ranges
        .iter()
        .filter(|range| range.start() <= '~' && range.end() >= ' ')
        .map(|range| {
            (
                u32::from(range.start().max(' ')),
                u32::from(range.end().min('~')),
            )
        })
        .collect();
    if ascii.is_empty() {
        ranges
            .iter()
            .map(|range| (u32::from(range.start()), u32::from(range.end())))
            .collect()
    } else {
        ascii
    }
}

/// The most bytes of JSON a string built from the pattern can take, as `fake` walks it.
pub(super) fn pattern_bytes(hir: &Hir) -> u64 {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(literal) => match std::str::from_utf8(&literal.0) {
            Ok(text) => serde_json::Value::from(text).to_string().len() as u64 - 2,
            Err(_) => 0,
        },
        HirKind::Class(Class::Unicode(class)) => {
            let printable = preferred_ranges(class.ranges())
                .iter()
                .all(|(_, end)| *end <= u32::from('~'));
            // A quote or backslash is escaped; other characters may take
            // four bytes of UTF-8, or six as a \u escape.
            if printable { 2 } else { 6 }
        }
        HirKind::Class(Class::Bytes(_)) => 0,
        HirKind::Repetition(repetition) => {
            let most = repetition
                .max
                .unwrap_or(repetition.min.saturating_add(8))
                .min(repetition.min.saturating_add(8));
            pattern_bytes(&repetition.sub).saturating_mul(u64::from(most))
        }
        HirKind::Capture(capture) => pattern_bytes(&capture.sub),
        HirKind::Concat(parts) => parts.iter().map(pattern_bytes).fold(0, u64::saturating_add),
        HirKind::Alternation(choices) => choices.iter().map(pattern_bytes).max().unwrap_or(0),
    }
}
