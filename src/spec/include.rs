//! Several files: `include:` reads other spec files (fragments holding
//! `resources`, `definitions`, `records` of resources defined anywhere, and
//! further `include`s), by relative path or glob, and merges them into the
//! main document, remembering which file every resource, definition and
//! added record came from so that diagnostics name it.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::checker::{Checker, SourceFile, describe, join};
use super::locate::Locations;
use super::suggest::did_you_mean;

/// The keys an included file may have.
const FRAGMENT_KEYS: &[&str] = &["include", "resources", "definitions", "records", "$schema"];
/// The sections an included file adds to the main document.
const MERGED: &[&str] = &["resources", "definitions"];
/// How many files a spec may include, in all.
const MAX_FILES: usize = 256;

/// The files a spec was read from besides its main file, for reloading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Included {
    /// Every included file, in the order read.
    pub files: Vec<PathBuf>,
    /// Every directory a glob listed: a file added there may be included now.
    pub directories: Vec<PathBuf>,
    /// The text of every included file as it was read, in the same order.
    pub texts: Vec<String>,
}

/// What reading the includes gathers as it goes.
#[derive(Default)]
struct Walk {
    /// The files being read, outermost first (a cycle returns to one).
    chain: Vec<PathBuf>,
    /// The files read and directories listed.
    included: Included,
    /// Each included file's `records`, added to their resources once every
    /// resource is known: (file, resource name, its records).
    records: Vec<(usize, String, Value)>,
}

impl Checker {
    /// Reads the main document's `include`s (and theirs), merges their
    /// `resources` and `definitions` into `document`, and adds their
    /// `records` to the resources they name.
    pub(super) fn include(&mut self, document: &mut Value, main: &Path) -> Included {
        let Some(top) = document.as_object_mut() else {
            return Included::default();
        };
        let Some(list) = top.remove("include") else {
            return Included::default();
        };
        for section in MERGED {
            if let Some(Value::Object(map)) = top.get(*section) {
                let names: Vec<String> = map.keys().cloned().collect();
                for name in names {
                    let path = join(section, &name);
                    self.add_origin(&path, 0, &path);
                }
            }
        }
        let mut walk = Walk {
            chain: vec![canonical(main)],
            ..Walk::default()
        };
        self.includes(0, main, &list, top, &mut walk);
        for (file, resource, records) in std::mem::take(&mut walk.records) {
            self.add_records(file, &resource, records, top);
        }
        walk.included
    }

    /// Adds the records an included file lists under `records.{resource}`
    /// to that resource's `records`, each remembered as written there.
    fn add_records(
        &mut self,
        file: usize,
        resource: &str,
        records: Value,
        top: &mut Map<String, Value>,
    ) {
        let written_at = join("records", resource);
        let Value::Array(records) = records else {
            self.report_in(
                file,
                &written_at,
                format!("expected a list of records, found {}", describe(&records)),
                None,
                false,
            );
            return;
        };
        let resources = top.get_mut("resources").and_then(Value::as_object_mut);
        let definition = match resources {
            Some(resources) => match resources.get_mut(resource) {
                Some(Value::Object(definition)) => definition,
                // Not a mapping: the resource is reported where it is written.
                Some(_) => return,
                None => {
                    let names: Vec<&str> = resources.keys().map(String::as_str).collect();
                    let hint = did_you_mean(resource, names.iter().copied());
                    self.unknown_resource(file, &written_at, resource, hint);
                    return;
                }
            },
            None => {
                self.unknown_resource(file, &written_at, resource, None);
                return;
            }
        };
        let Value::Array(own) = definition
            .entry("records")
            .or_insert_with(|| Value::Array(Vec::new()))
        else {
            // Its own `records` is not a list: reported where it is written.
            return;
        };
        let resource_path = join(&join("resources", resource), "records");
        for (index, record) in records.into_iter().enumerate() {
            let merged = join(&resource_path, &own.len().to_string());
            self.add_origin(&merged, file, &join(&written_at, &index.to_string()));
            own.push(record);
        }
    }

    /// Reports records listed for a resource no file defines.
    fn unknown_resource(&mut self, file: usize, path: &str, resource: &str, hint: Option<String>) {
        self.report_in(
            file,
            path,
            format!("records for '{resource}', which no file defines as a resource"),
            hint,
            true,
        );
    }

    /// Reads the `include` list `list` of file `file` (at `path` on disk).
    fn includes(
        &mut self,
        file: usize,
        path: &Path,
        list: &Value,
        top: &mut Map<String, Value>,
        walk: &mut Walk,
    ) {
        let entries: Vec<(String, &str)> = match list {
            Value::String(entry) => vec![("include".to_string(), entry.as_str())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let item_path = join("include", &index.to_string());
                    match item.as_str() {
                        Some(entry) => Some((item_path, entry)),
                        None => {
                            self.report_in(
                                file,
                                &item_path,
                                format!("expected a file path or glob, found {}", describe(item)),
                                None,
                                false,
                            );
                            None
                        }
                    }
                })
                .collect(),
            other => {
                self.report_in(
                    file,
                    "include",
                    format!(
                        "expected a file path, a glob or a list of them, found {}",
                        describe(other)
                    ),
                    None,
                    false,
                );
                return;
            }
        };
        let directory = path.parent().unwrap_or(Path::new("")).to_path_buf();
        for (entry_path, entry) in entries {
            let targets = if is_glob(entry) {
                let matches = glob(&directory, entry, &mut walk.included.directories);
                if matches.is_empty() {
                    self.report_in(
                        file,
                        &entry_path,
                        format!(
                            "'{entry}' matches no file (globs are relative to {})",
                            shown(&directory)
                        ),
                        None,
                        false,
                    );
                }
                matches
            } else {
                vec![directory.join(entry)]
            };
            for target in targets {
                self.include_file(file, &entry_path, &target, top, walk);
            }
        }
    }

    /// Reads one included file and merges it.
    fn include_file(
        &mut self,
        file: usize,
        entry_path: &str,
        target: &Path,
        top: &mut Map<String, Value>,
        walk: &mut Walk,
    ) {
        let resolved = canonical(target);
        if let Some(start) = walk.chain.iter().position(|seen| *seen == resolved) {
            let cycle: Vec<String> = walk.chain[start..]
                .iter()
                .chain(std::iter::once(&resolved))
                .map(|path| shown(path))
                .collect();
            self.report_in(
                file,
                entry_path,
                format!(
                    "files include each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
                None,
                false,
            );
            return;
        }
        // A file included twice (from two places) is read once.
        let name = shown(target);
        if self.files.iter().any(|source| source.name == name)
            || walk
                .included
                .files
                .iter()
                .any(|seen| canonical(seen) == resolved)
        {
            return;
        }
        if self.files.len() > MAX_FILES {
            self.report_in(
                file,
                entry_path,
                format!("more than {MAX_FILES} files included: merge some"),
                None,
                false,
            );
            return;
        }
        let source = match super::read_text(target) {
            Ok(source) => source,
            Err(error) => {
                self.report_in(
                    file,
                    entry_path,
                    format!("cannot read the included file '{name}': {error}"),
                    None,
                    false,
                );
                return;
            }
        };
        walk.included.files.push(target.to_path_buf());
        walk.included.texts.push(source.clone());
        let index = self.files.len();
        self.files.push(SourceFile {
            name: name.clone(),
            locations: Locations::of(&source),
            source: source.clone(),
        });
        let mut document = match super::source::document(&name, &source) {
            Ok(document) => document,
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                return;
            }
        };
        let Some(fragment) = document.as_object_mut() else {
            self.report_in(
                index,
                "",
                format!(
                    "an included file is a mapping (of include, resources, definitions and records), found {}",
                    describe(&document)
                ),
                None,
                false,
            );
            return;
        };
        for key in fragment.keys() {
            if FRAGMENT_KEYS.contains(&key.as_str()) {
                continue;
            }
            let hint = if super::parse::TOP_LEVEL_KEYS.contains(&key.as_str()) {
                Some(format!(
                    "'{key}' is set in the main spec file: an included file holds only include, resources, definitions and records"
                ))
            } else {
                did_you_mean(key, FRAGMENT_KEYS.iter().copied())
            };
            self.report_in(index, key, format!("unknown key '{key}'"), hint, true);
        }
        for section in MERGED {
            let Some(value) = fragment.remove(*section) else {
                continue;
            };
            let Value::Object(entries) = value else {
                self.report_in(
                    index,
                    section,
                    format!("expected a mapping, found {}", describe(&value)),
                    None,
                    false,
                );
                continue;
            };
            let merged = top
                .entry(section.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(merged) = merged else {
                // The main file's section is not a mapping: reported there.
                continue;
            };
            for (key, value) in entries {
                let path = join(section, &key);
                if merged.contains_key(&key) {
                    let (other, original) = self.resolve(&path);
                    let other_file = &self.files[other];
                    let place = match other_file.locations.key(&original) {
                        Some(position) => {
                            format!("{}:{}:{}", other_file.name, position.line, position.column)
                        }
                        None => other_file.name.clone(),
                    };
                    let what = if *section == "resources" {
                        "resource"
                    } else {
                        "definition"
                    };
                    self.report_in(
                        index,
                        &path,
                        format!("{what} '{key}' is defined twice: here and at {place}"),
                        None,
                        true,
                    );
                    continue;
                }
                self.add_origin(&path, index, &path);
                merged.insert(key, value);
            }
        }
        match fragment.remove("records") {
            Some(Value::Object(records)) => walk.records.extend(
                records
                    .into_iter()
                    .map(|(resource, records)| (index, resource, records)),
            ),
            Some(other) => self.report_in(
                index,
                "records",
                format!(
                    "expected a mapping of resource names to lists of records, found {}",
                    describe(&other)
                ),
                None,
                false,
            ),
            None => {}
        }
        if let Some(list) = fragment.remove("include") {
            walk.chain.push(resolved);
            self.includes(index, target, &list, top, walk);
            walk.chain.pop();
        }
    }
}

/// The path as diagnostics show it.
fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}

/// The path with links and `..` resolved, when it exists.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether an `include` entry is a glob rather than a path.
fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?'])
}

/// The files below `directory` matching `pattern` (`*` and `?` within one
/// level, `**` any number of levels, links to directories not followed),
/// sorted; the directories listed are added to `listed`. Names starting with
/// a dot match only a pattern that does.
fn glob(directory: &Path, pattern: &str, listed: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    let segments: Vec<&str> = pattern
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .collect();
    let base = if pattern.starts_with('/') {
        PathBuf::from("/")
    } else {
        directory.to_path_buf()
    };
    let mut found = Vec::new();
    walk(&base, &segments, &mut found, listed, 0);
    found.sort();
    found.dedup();
    found
}

fn walk(
    directory: &Path,
    segments: &[&str],
    found: &mut Vec<PathBuf>,
    listed: &mut Vec<PathBuf>,
    depth: usize,
) {
    let Some((segment, rest)) = segments.split_first() else {
        return;
    };
    if depth > 32 {
        return;
    }
    if !is_glob(segment) {
        let next = directory.join(segment);
        if rest.is_empty() {
            if next.is_file() {
                found.push(next);
            }
        } else if next.is_dir() {
            walk(&next, rest, found, listed, depth + 1);
        }
        return;
    }
    let listing = if directory.as_os_str().is_empty() {
        Path::new(".")
    } else {
        directory
    };
    let Ok(entries) = std::fs::read_dir(listing) else {
        return;
    };
    if !listed.iter().any(|seen| seen == directory) {
        listed.push(directory.to_path_buf());
    }
    // Each entry's name, path, and whether it is a directory itself (not a
    // link to one).
    let mut entries: Vec<(String, PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                directory.join(entry.file_name()),
                entry.file_type().is_ok_and(|kind| kind.is_dir()),
            )
        })
        .filter(|(name, _, _)| !name.starts_with('.'))
        .collect();
    entries.sort();
    if *segment == "**" {
        // Zero levels, then one level more with `**` still to match. Links
        // to directories are not followed: a link to a parent would make
        // the walk endless.
        walk(directory, rest, found, listed, depth + 1);
        for (_, path, directory) in &entries {
            if *directory {
                walk(path, segments, found, listed, depth + 1);
            }
        }
        return;
    }
    for (name, path, _) in entries {
        if !matches(segment.as_bytes(), name.as_bytes()) {
            continue;
        }
        if rest.is_empty() {
            if path.is_file() {
                found.push(path);
            }
        } else if path.is_dir() {
            walk(&path, rest, found, listed, depth + 1);
        }
    }
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(b'?') => {
                // One character, not one byte.
                n += utf8_length(name[n]);
                p += 1;
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    let next = star_n + utf8_length(name[star_n]);
                    star = Some((star_p, next));
                    p = star_p + 1;
                    n = next;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn utf8_length(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_within_a_name() {
        assert!(matches(b"*.yaml", b"users.yaml"));
        assert!(matches(b"*.yaml", b".yaml"));
        assert!(!matches(b"*.yaml", b"users.yml"));
        assert!(matches(b"u?ers.*", b"users.json"));
        assert!(!matches(b"u?ers", b"uers"));
        assert!(matches(b"*s*s*", b"sass"));
        assert!(!matches(b"a*b", b"acbd"));
        assert!(matches("ä?.yaml".as_bytes(), "äö.yaml".as_bytes()));
    }

    #[test]
    fn globs_walk_levels() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let root = directory.path();
        std::fs::create_dir_all(root.join("parts/deep")).unwrap();
        for file in [
            "a.yaml",
            "parts/b.yaml",
            "parts/deep/c.yaml",
            "parts/.d.yaml",
        ] {
            std::fs::write(root.join(file), "resources: {}\n").unwrap();
        }
        let mut listed = Vec::new();
        let names = |found: Vec<PathBuf>| -> Vec<String> {
            found
                .iter()
                .map(|path| path.strip_prefix(root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names(glob(root, "parts/*.yaml", &mut listed)),
            ["parts/b.yaml"]
        );
        assert_eq!(
            names(glob(root, "**/*.yaml", &mut listed)),
            ["a.yaml", "parts/b.yaml", "parts/deep/c.yaml"]
        );
        assert!(glob(root, "*.json", &mut listed).is_empty());
        assert!(listed.contains(&root.join("parts")));
    }

    #[test]
    fn a_double_star_does_not_follow_links_to_directories() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let root = directory.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/c.yaml"), "resources: {}\n").unwrap();
        // A link back up: followed, `**` would find c.yaml again through it
        // at every level (and with two such links, 2^32 paths).
        std::os::unix::fs::symlink(root, root.join("a/up")).unwrap();
        let found = glob(root, "**/*.yaml", &mut Vec::new());
        assert_eq!(found, [root.join("a/b/c.yaml")]);
        // A link named in the pattern is followed as any path is.
        let through = glob(root, "a/up/a/b/*.yaml", &mut Vec::new());
        assert_eq!(through, [root.join("a/up/a/b/c.yaml")]);
    }
}
