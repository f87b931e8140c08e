//! A resource's `actions`: named changes of state (`publish: { status:
//! published }`), each performed by `POST /{resource}/{id}/{action}` and
//! advertised on a record only while its `transitions` allow it.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::behaviour::Transitions;
use super::checker::{Checker, describe, join};
use super::model::{Method, Resource};
use super::resources::is_resource_name;
use super::suggest::did_you_mean;

/// One named change of state: setting `field` to `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The action's name, the last segment of its URI.
    pub name: String,
    /// The field of `transitions` it changes.
    pub field: String,
    /// The state it sets the field to.
    pub state: String,
}

impl Checker {
    /// A resource's `actions`: `{ name: { field: state } }`, each field one
    /// with `transitions` and each state one they list as a target.
    pub(super) fn actions(
        &mut self,
        path: &str,
        value: &Value,
        transitions: &Transitions,
        methods: &BTreeSet<Method>,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(map) = self.mapping(path, value) else {
            return actions;
        };
        if !methods.contains(&Method::Patch) && !map.is_empty() {
            self.error_at_key(
                path,
                "actions change records as PATCH does, which this resource's methods leave out: add PATCH to methods",
            );
        }
        for (name, change) in map {
            let action_path = join(path, name);
            if !is_resource_name(name) {
                self.error_at_key(
                    &action_path,
                    format!("'{name}' cannot be an action name: it is a path segment, so use letters, digits, '_' and '-', starting with a letter"),
                );
                continue;
            }
            let Some(change) = self.mapping(&action_path, change) else {
                continue;
            };
            if change.len() != 1 {
                self.error(
                    &action_path,
                    format!(
                        "an action sets one field with transitions to one state, like {{ status: published }}; found {} keys",
                        change.len()
                    ),
                );
                continue;
            }
            let (field, state) = change.iter().next().expect("one key");
            let field_path = join(&action_path, field);
            let Some(allowed) = transitions.get(field) else {
                let hint = did_you_mean(field, transitions.keys().map(String::as_str));
                let message = if transitions.is_empty() {
                    format!(
                        "'{field}' has no transitions: an action changes a field that lists them, and this resource lists none"
                    )
                } else {
                    format!(
                        "'{field}' has no transitions: an action changes a field that lists them ({})",
                        transitions.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                self.report(&field_path, message, hint, true);
                continue;
            };
            let Some(state) = state.as_str() else {
                self.error(
                    &field_path,
                    format!(
                        "expected the state the action sets, found {}",
                        describe(state)
                    ),
                );
                continue;
            };
            let targets: BTreeSet<&str> = allowed.values().flatten().map(String::as_str).collect();
            if !targets.contains(state) {
                let known: BTreeSet<&str> = allowed
                    .iter()
                    .flat_map(|(from, to)| std::iter::once(from).chain(to))
                    .map(String::as_str)
                    .collect();
                let hint = did_you_mean(state, targets.iter().copied());
                let message = if known.contains(state) {
                    format!(
                        "no transition of {field} leads to '{state}', so the action could never be taken"
                    )
                } else {
                    format!(
                        "'{state}' is not a state of {field}'s transitions ({})",
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                self.error_with(&field_path, message, hint);
                continue;
            }
            actions.push(Action {
                name: name.clone(),
                field: field.clone(),
                state: state.to_string(),
            });
        }
        actions
    }
}

/// Reports an action named like an inverse collection of its resource
/// (`/posts/7/comments`: both would be the same path) or like another link
/// of its records (`self`, a reference field).
pub(super) fn check_names(checker: &mut Checker, resources: &[Resource]) {
    for resource in resources {
        for action in &resource.actions {
            let collides = resources.iter().find_map(|other| {
                let fields: Vec<&str> = other
                    .references()
                    .filter(|(_, reference)| reference.resource == resource.name)
                    .map(|(field, _)| field.name.as_str())
                    .collect();
                fields.iter().find_map(|field| {
                    let inverse = if fields.len() == 1 {
                        other.name.clone()
                    } else {
                        format!("{}_by_{field}", other.name)
                    };
                    (inverse == action.name).then(|| (other.name.clone(), field.to_string()))
                })
            });
            let link = ["self", "collection", "describedby"].contains(&action.name.as_str())
                || resource
                    .references()
                    .any(|(field, _)| field.name == action.name);
            if link {
                checker.error_at_key(
                    &format!("resources.{}.actions.{}", resource.name, action.name),
                    format!(
                        "the action '{}' has the name of another link of each {} record (self, collection, describedby and its reference fields): rename the action",
                        action.name, resource.name
                    ),
                );
            }
            if let Some((other, field)) = collides {
                checker.error_at_key(
                    &format!("resources.{}.actions.{}", resource.name, action.name),
                    format!(
                        "the action '{}' has the path of the inverse collection {}/{{id}}/{} ({other} whose {field} is the record): rename the action",
                        action.name, resource.name, action.name
                    ),
                );
            }
        }
    }
}

impl Resource {
    /// The action called `name`.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|action| action.name == name)
    }

    /// Whether a record with these fields may take `action` now: it changes
    /// the field's value, in a way its `transitions` allow.
    pub fn may_take(&self, fields: &Map<String, Value>, action: &Action) -> bool {
        let current = fields.get(&action.field);
        if current.and_then(Value::as_str) == Some(action.state.as_str()) {
            return false;
        }
        let mut after = fields.clone();
        after.insert(action.field.clone(), Value::String(action.state.clone()));
        self.disallowed_transition(Some(fields), &after).is_none()
    }

    /// The actions a record with these fields may take now, in spec order.
    pub fn actions_allowed(&self, fields: &Map<String, Value>) -> Vec<&Action> {
        self.actions
            .iter()
            .filter(|action| self.may_take(fields, action))
            .collect()
    }
}
