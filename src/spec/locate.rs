//! Maps paths in a spec document (`resources.books.fields.title`) to their
//! line and column in the file, so that diagnostics found on the parsed value
//! can point at the source. Works for YAML and JSON (JSON is YAML's flow style).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

use super::diagnostic::Position;

/// Positions of every key and value in a document, by spec path.
#[derive(Debug, Default)]
pub struct Locations {
    keys: HashMap<String, Position>,
    values: HashMap<String, Position>,
}

impl Locations {
    /// Reads the positions out of `source`; an unparsable document yields what was read before the error.
    pub fn of(source: &str) -> Locations {
        let mut walker = Walker::default();
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            walker.event(event, span);
        }
        walker.locations
    }

    /// Where the key of `path` is written, else its value, else the nearest enclosing path.
    pub fn key(&self, path: &str) -> Option<Position> {
        self.lookup(path, true)
    }

    /// Where the value of `path` is written, else its key, else the nearest enclosing path.
    pub fn value(&self, path: &str) -> Option<Position> {
        self.lookup(path, false)
    }

    fn lookup(&self, path: &str, key_first: bool) -> Option<Position> {
        let mut current = path;
        loop {
            let (first, second) = if key_first {
                (&self.keys, &self.values)
            } else {
                (&self.values, &self.keys)
            };
            if let Some(position) = first.get(current).or_else(|| second.get(current)) {
                return Some(*position);
            }
            if current.is_empty() {
                return None;
            }
            current = current.rfind('.').map_or("", |dot| &current[..dot]);
        }
    }
}

enum Frame {
    Mapping {
        path: String,
        pending_key: Option<String>,
    },
    Sequence {
        path: String,
        next_index: usize,
    },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    locations: Locations,
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

fn position(span: Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

impl Walker {
    /// The path of the node that starts now, or `None` if this node is a mapping key.
    fn enter_node(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Mapping { path, pending_key }) => {
                pending_key.take().map(|key| join(path, &key))
            }
            Some(Frame::Sequence { path, next_index }) => {
                let child = join(path, &next_index.to_string());
                *next_index += 1;
                Some(child)
            }
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) {
        match event {
            Event::Scalar(text, ..) => match self.enter_node() {
                Some(path) => {
                    self.locations.values.insert(path, position(span));
                }
                None => {
                    if let Some(Frame::Mapping { path, pending_key }) = self.stack.last_mut() {
                        let key_path = join(path, &text);
                        self.locations.keys.insert(key_path, position(span));
                        *pending_key = Some(text.into_owned());
                    }
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A collection used as a mapping key has no path of its own.
                let path = self.enter_node().unwrap_or_default();
                self.locations.values.insert(path.clone(), position(span));
                self.stack.push(match event {
                    Event::MappingStart(..) => Frame::Mapping {
                        path,
                        pending_key: None,
                    },
                    _ => Frame::Sequence {
                        path,
                        next_index: 0,
                    },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(..) => {
                self.enter_node();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn finds_keys_and_values_in_yaml() {
        let source = "title: Blog\nresources:\n  posts:\n    fields:\n      title: strng\n    records:\n      - { title: x }\n";
        let locations = Locations::of(source);
        assert_eq!(locations.key("resources.posts.fields.title"), at(5, 7));
        assert_eq!(locations.value("resources.posts.fields.title"), at(5, 14));
        assert_eq!(
            locations.value("resources.posts.records.0.title"),
            at(7, 18)
        );
    }

    #[test]
    fn finds_keys_in_json() {
        let source = "{\n  \"resources\": {\n    \"posts\": {\"count\": 3}\n  }\n}";
        let locations = Locations::of(source);
        assert_eq!(locations.key("resources.posts.count"), at(3, 15));
    }

    #[test]
    fn falls_back_to_the_enclosing_path() {
        let locations = Locations::of("resources:\n  posts: {}\n");
        assert_eq!(locations.key("resources.posts.fields"), at(2, 3));
    }
}
