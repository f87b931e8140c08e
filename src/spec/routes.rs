//! A spec's custom routes (`routes:`): json-server's `routes.json` rewrites
//! written in the spec, each pattern read as `--routes` reads it
//! (`crate::rewrite`), each literal target checked against the resources.

use serde_json::Value;

use super::checker::{Checker, describe, join};
use super::model::Resource;
use super::suggest::did_you_mean;
use crate::rewrite::{self, CustomRoutes};

impl Checker {
    /// The rules of `routes`, in order, each pattern and target checked.
    pub(super) fn routes(
        &mut self,
        value: &Value,
        base_path: &str,
        resources: &[Resource],
    ) -> Option<CustomRoutes> {
        let map = self.mapping("routes", value)?;
        if map.len() > rewrite::MAX_RULES {
            self.error_at_key(
                "routes",
                format!(
                    "{} custom routes: a spec has at most {}",
                    map.len(),
                    rewrite::MAX_RULES
                ),
            );
        }
        let mut rules = Vec::new();
        for (pattern, target) in map {
            let path = join("routes", pattern);
            let Some(target) = target.as_str() else {
                self.error(
                    &path,
                    format!(
                        "expected the path '{pattern}' is served as, like /posts, found {}",
                        describe(target)
                    ),
                );
                continue;
            };
            if let Err(message) = rewrite::check_rule(pattern, target) {
                // A target's own mistakes are at the target, the pattern's at its key.
                let at_target = message.starts_with(&format!("'{target}'"));
                self.report(&path, message, None, !at_target);
                continue;
            }
            if let Some((message, hint)) = target_problem(target, base_path, resources) {
                self.error_with(&path, message, hint);
                continue;
            }
            rules.push((pattern.clone(), target.to_string()));
        }
        Some(CustomRoutes::from_checked(&rules))
    }
}

/// Why a target's literal resource segment names nothing served, if it does not.
fn target_problem(
    target: &str,
    base_path: &str,
    resources: &[Resource],
) -> Option<(String, Option<String>)> {
    let path = target.split('?').next().unwrap_or_default();
    let Some(rest) = path
        .strip_prefix(base_path)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return Some((
            format!(
                "'{target}' is outside the API at {base_path}: targets are paths as sent, like {base_path}/posts"
            ),
            None,
        ));
    };
    let segment = rest
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if segment.is_empty() || segment.contains(['$', ':']) {
        return None;
    }
    if resources.iter().any(|resource| resource.name == segment) {
        return None;
    }
    let hint = did_you_mean(
        segment,
        resources.iter().map(|resource| resource.name.as_str()),
    );
    Some((
        format!("'{target}' names no resource: there is no resource '{segment}'"),
        hint,
    ))
}
