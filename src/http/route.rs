//! Routing: maps a request path onto what it names (the home document, a
//! collection, an item, the admin API) or a redirect. Paths are matched
//! against the current spec, so a reloaded spec routes without re-registering.

use percent_encoding::percent_decode_str;

use super::problem::Problem;
use crate::spec::{IdKind, Inverse, Spec, did_you_mean};
use crate::store::RecordId;

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The home document.
    Home,
    /// A collection: the index of its resource in the spec.
    Collection(usize),
    /// An item: the index of its resource and the id.
    Item(usize, RecordId),
    /// An inverse collection, `/authors/3/books`: the records of `inverse`
    /// that reference item `id` of the resource at index `parent`.
    Inverse {
        /// Index of the referenced resource.
        parent: usize,
        /// The referenced item.
        id: RecordId,
        /// Which records reference it, and how.
        inverse: Inverse,
    },
    /// An action URI, `/posts/7/publish`: the resource's index, the item
    /// and the action's name (one of the resource's `actions`).
    Action(usize, RecordId, String),
    /// The admin API, with the path below `/_standin/`.
    Admin(String),
    /// The status monitor of an asynchronous create.
    Job(u64),
    /// A permanent redirect to this location.
    Redirect(String),
}

/// Where a path below the base that a resource's `moved_from` names lives now.
pub(super) fn moved(spec: &Spec, rest: &str, query: &str) -> Option<String> {
    if spec
        .resources
        .iter()
        .all(|resource| resource.moved_from.is_empty())
    {
        return None;
    }
    let path = format!("/{rest}");
    spec.resources.iter().find_map(|resource| {
        resource.moved_from.iter().find_map(|old| {
            let remainder = path.strip_prefix(old.as_str())?;
            if !remainder.is_empty() && !remainder.starts_with('/') {
                return None;
            }
            let location = format!("{}/{}{remainder}", spec.base_path, resource.name);
            Some(if query.is_empty() {
                location
            } else {
                format!("{location}?{query}")
            })
        })
    })
}

/// The path's segments, percent-decoded. Bytes that are not UTF-8 are
/// refused rather than replaced, so that two different ids never collapse
/// into one (`%FE` and `%FF` would both become U+FFFD).
fn decoded_segments(rest: &str) -> Result<Vec<String>, Problem> {
    rest.split('/')
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| {
                    Problem::bad_request(format!(
                        "the path segment '{segment}' is not UTF-8 once percent-decoded: ids and names are UTF-8 text"
                    ))
                })
        })
        .collect()
}

/// Resolves `path` (still percent-encoded) with `query` against `spec`.
pub fn resolve(spec: &Spec, path: &str, query: &str) -> Result<Target, Problem> {
    let home = if spec.base_path.is_empty() {
        "/"
    } else {
        spec.base_path.as_str()
    };
    if path.len() > 1 && path.ends_with('/') {
        // Leading slashes are collapsed too: `//host/` must not redirect off-site.
        let location = format!("/{}", path.trim_matches('/'));
        let location = if query.is_empty() {
            location
        } else {
            format!("{location}?{query}")
        };
        return Ok(Target::Redirect(location));
    }
    if path == "/" && home != "/" {
        // The server's root leads to the API's home document.
        return Ok(Target::Redirect(home.to_string()));
    }
    let rest = if path == home {
        ""
    } else if let Some(rest) = path
        .strip_prefix(spec.base_path.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
    {
        rest
    } else {
        return Err(Problem::not_found(format!(
            "no route {path}: the API is at {home}"
        )));
    };
    if rest.is_empty() {
        return Ok(Target::Home);
    }
    if let Some(location) = moved(spec, rest, query) {
        return Ok(Target::Redirect(location));
    }
    let segments = decoded_segments(rest)?;
    if segments[0] == "_standin" {
        return Ok(Target::Admin(segments[1..].join("/")));
    }
    if segments[0] == "_jobs" && segments.len() == 2 {
        return match segments[1].parse::<u64>() {
            Ok(job) => Ok(Target::Job(job)),
            Err(_) => Err(Problem::not_found(format!("no job '{}'", segments[1]))),
        };
    }
    if segments.iter().any(String::is_empty) {
        return Err(Problem::not_found(format!(
            "no route {path}: it has an empty segment"
        )));
    }
    let name = &segments[0];
    let Some(index) = spec
        .resources
        .iter()
        .position(|resource| &resource.name == name)
    else {
        let hint = did_you_mean(
            name,
            spec.resources.iter().map(|resource| resource.name.as_str()),
        )
        .map(|hint| format!(" ({hint})"))
        .unwrap_or_default();
        return Err(Problem::not_found(format!("no resource '{name}'{hint}")));
    };
    let resource = &spec.resources[index];
    if resource.singular {
        if segments.len() > 1 {
            return Err(Problem::not_found(format!(
                "no route {path}: '{name}' is a singular resource, its one record is at {}",
                crate::links::collection(spec, name)
            )));
        }
        return Ok(Target::Item(index, RecordId::singular(resource)));
    }
    if segments.len() > 3 {
        return Err(Problem::not_found(format!("no route {path}")));
    }
    let Some(segment) = segments.get(1) else {
        return Ok(Target::Collection(index));
    };
    let Some(id) = RecordId::parse(resource.id, segment) else {
        let expected = match resource.id {
            IdKind::Integer => "positive integers",
            IdKind::Uuid => "UUIDs",
            IdKind::String => "non-empty strings other than . and ..",
        };
        return Err(Problem::not_found(format!(
            "no {name} record has id '{segment}': ids of {name} are {expected}"
        )));
    };
    let Some(inverse_name) = segments.get(2) else {
        return Ok(Target::Item(index, id));
    };
    let inverses = spec.inverses(name);
    match inverses
        .iter()
        .find(|inverse| &inverse.name == inverse_name)
    {
        Some(inverse) => Ok(Target::Inverse {
            parent: index,
            id,
            inverse: inverse.clone(),
        }),
        None if resource.action(inverse_name).is_some() => {
            Ok(Target::Action(index, id, inverse_name.clone()))
        }
        None => {
            let hint = did_you_mean(
                inverse_name,
                inverses
                    .iter()
                    .map(|inverse| inverse.name.as_str())
                    .chain(resource.actions.iter().map(|action| action.name.as_str())),
            )
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
            let actions = if resource.actions.is_empty() {
                String::new()
            } else {
                format!(" and no action of {name} has that name")
            };
            Err(Problem::not_found(format!(
                "no route {path}: nothing named '{inverse_name}' references {name}{actions}{hint}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "standin: 1
base_path: /api
resources:
  authors:
    fields: { name: string }
  books:
    fields:
      title: string
      author: { ref: authors }
    moved_from: [/volumes]
  tags:
    id: string
    fields: { label: string }
";

    fn spec() -> Spec {
        crate::spec::parse("test.yaml", SPEC).expect("a valid spec")
    }

    fn inverse() -> Inverse {
        Inverse {
            name: "books".into(),
            resource: "books".into(),
            field: "author".into(),
        }
    }

    #[test]
    fn paths_name_what_they_route_to() {
        let spec = spec();
        let cases = [
            ("/api", "", Target::Home),
            ("/", "", Target::Redirect("/api".into())),
            ("/api/authors", "", Target::Collection(0)),
            ("/api/books/7", "", Target::Item(1, RecordId::Integer(7))),
            (
                "/api/tags/r%C3%A9sum%C3%A9",
                "",
                Target::Item(2, RecordId::Text("résumé".into())),
            ),
            (
                "/api/authors/3/books",
                "",
                Target::Inverse {
                    parent: 0,
                    id: RecordId::Integer(3),
                    inverse: inverse(),
                },
            ),
            ("/api/_standin/health", "", Target::Admin("health".into())),
            ("/api/_jobs/12", "", Target::Job(12)),
            (
                "/api/books/",
                "page=2",
                Target::Redirect("/api/books?page=2".into()),
            ),
            (
                "//evil.example/",
                "",
                Target::Redirect("/evil.example".into()),
            ),
            (
                "/api/volumes/7",
                "embed=author",
                Target::Redirect("/api/books/7?embed=author".into()),
            ),
            ("/api/volumes", "", Target::Redirect("/api/books".into())),
        ];
        for (path, query, expected) in cases {
            match resolve(&spec, path, query) {
                Ok(target) => assert_eq!(target, expected, "{path}?{query}"),
                Err(problem) => panic!("{path}?{query}: {problem}"),
            }
        }
    }

    #[test]
    fn paths_that_name_nothing_say_why() {
        let spec = spec();
        let cases = [
            ("/books", "the API is at /api"),
            ("/api/autors", "did you mean 'authors'?"),
            ("/api/books/0", "ids of books are positive integers"),
            ("/api/books/07", "ids of books are positive integers"),
            ("/api/tags/..", "non-empty strings other than . and .."),
            ("/api/authors/3/boks", "did you mean 'books'?"),
            ("/api/authors/3/books/1", "no route"),
            ("/api/authors//3", "empty segment"),
            ("/api/_jobs/x", "no job 'x'"),
            ("/api/tags/%FE", "not UTF-8"),
        ];
        for (path, expected) in cases {
            let problem = resolve(&spec, path, "").expect_err(path);
            assert!(problem.to_string().contains(expected), "{path}: {problem}");
        }
    }
}
