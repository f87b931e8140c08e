//! The states of fields with `transitions`: which a record may start in
//! (`initial_states`, by default the first state listed), which it can reach
//! from them (generated records are put in one), and which changes of state
//! a write may make.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::behaviour::Transitions;
use super::checker::{Checker, describe, join};
use super::model::{Field, Resource};
use super::suggest::did_you_mean;

impl Checker {
    /// A resource's `initial_states`, defaulting to the first state of each
    /// field's `transitions`; marks on each such field the states a record
    /// can reach, and checks that the field's `default` is an initial state.
    pub(super) fn initial_states(
        &mut self,
        path: &str,
        map: &Map<String, Value>,
        transitions: &Transitions,
        fields: &mut [Field],
    ) -> BTreeMap<String, Vec<String>> {
        let mut initial = BTreeMap::new();
        // The first state each field's transitions list, in the spec's order.
        if let Some(Value::Object(written)) = map.get("transitions") {
            for (field, states) in written {
                if let Some(first) = states.as_object().and_then(|states| states.keys().next()) {
                    initial.insert(field.clone(), vec![first.clone()]);
                }
            }
        }
        initial.retain(|field, _| transitions.contains_key(field));
        let states_path = join(path, "initial_states");
        if let Some(value) = map.get("initial_states")
            && let Some(given) = self.mapping(&states_path, value)
        {
            for (field, states) in given {
                let field_path = join(&states_path, field);
                let Some(allowed) = transitions.get(field) else {
                    let hint = did_you_mean(field, transitions.keys().map(String::as_str));
                    self.error_with(
                        &field_path,
                        format!("'{field}' has no transitions: initial states belong to fields that list them"),
                        hint,
                    );
                    continue;
                };
                let known = states_of(allowed);
                let mut listed = Vec::new();
                for (index, state) in states.as_array().into_iter().flatten().enumerate() {
                    match state.as_str() {
                        Some(state) if known.contains(state) => listed.push(state.to_owned()),
                        Some(state) => {
                            let hint = did_you_mean(state, known.iter().map(String::as_str));
                            self.error_with(
                                &join(&field_path, &index.to_string()),
                                format!("'{state}' is not a state of {field}'s transitions"),
                                hint,
                            );
                        }
                        None => self.error(
                            &join(&field_path, &index.to_string()),
                            format!("expected a state, found {}", describe(state)),
                        ),
                    }
                }
                if states.as_array().is_none_or(Vec::is_empty) {
                    self.error(
                        &field_path,
                        format!(
                            "expected a non-empty list of the states a record may start in, found {}",
                            describe(states)
                        ),
                    );
                }
                if !listed.is_empty() {
                    initial.insert(field.clone(), listed);
                }
            }
        }
        for (name, starts) in &initial {
            let Some(field) = fields.iter_mut().find(|field| &field.name == name) else {
                continue;
            };
            if let Some(Value::String(default)) = &field.default
                && !starts.contains(default)
            {
                self.error(
                    &join(&join(path, "fields"), name),
                    format!(
                        "its default '{default}' is not a state a record may start in ({}): list it in initial_states",
                        starts.join(", ")
                    ),
                );
            }
            let reachable = reachable(&transitions[name], starts);
            field.reachable_states = Some(reachable.into_iter().map(Value::String).collect());
        }
        initial
    }
}

/// Every state `transitions` names, as a source or a target.
fn states_of(transitions: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    transitions
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .cloned()
        .collect()
}

/// The states reachable from `starts`, in the order they are reached.
fn reachable(transitions: &BTreeMap<String, Vec<String>>, starts: &[String]) -> Vec<String> {
    let mut reached: Vec<String> = Vec::new();
    let mut queue: VecDeque<&String> = starts.iter().collect();
    while let Some(state) = queue.pop_front() {
        if reached.contains(state) {
            continue;
        }
        reached.push(state.clone());
        queue.extend(transitions.get(state).into_iter().flatten());
    }
    reached
}

impl Resource {
    /// Why a write turning `before` (`None` for a create) into `after`
    /// breaks the resource's transitions, if it does: a record starts in an
    /// initial state (or none), and changes state only as `transitions` list.
    pub fn disallowed_transition(
        &self,
        before: Option<&Map<String, Value>>,
        after: &Map<String, Value>,
    ) -> Option<(String, String)> {
        for (field, allowed) in &self.transitions {
            let to = match after.get(field) {
                Some(Value::String(to)) => Some(to.as_str()),
                _ => None,
            };
            let from = match before.and_then(|before| before.get(field)) {
                Some(Value::String(from)) => Some(from.as_str()),
                _ => None,
            };
            let message = match (from, to) {
                (None, None) => continue,
                (Some(from), Some(to)) if from == to => continue,
                // A record without a state takes one of the initial ones.
                (None, Some(to)) => {
                    let starts = self
                        .initial_states
                        .get(field)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    if starts.iter().any(|state| state == to) {
                        continue;
                    }
                    format!(
                        "{field} cannot start as '{to}': a record starts as {}",
                        starts.join(" or ")
                    )
                }
                // Clearing a state is a change like any other (else a final
                // state could be left through null).
                (Some(from), to) => {
                    let to = to.unwrap_or("null");
                    let next = allowed.get(from).map(Vec::as_slice).unwrap_or_default();
                    if next.iter().any(|state| state == to) {
                        continue;
                    }
                    let options = if next.is_empty() {
                        format!("'{from}' is final")
                    } else {
                        format!("from '{from}' it may change to {}", next.join(", "))
                    };
                    format!("{field} cannot change from '{from}' to '{to}': {options}")
                }
            };
            return Some((field.clone(), message));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::reachable;
    use std::collections::BTreeMap;

    #[test]
    fn reachable_states_follow_the_transitions_from_the_initial_ones() {
        let transitions: BTreeMap<String, Vec<String>> = [
            ("draft", vec!["published"]),
            ("published", vec!["archived", "draft"]),
            ("withdrawn", vec!["archived"]),
        ]
        .into_iter()
        .map(|(from, to)| (from.to_string(), to.into_iter().map(String::from).collect()))
        .collect();
        let starts = ["draft".to_string()];
        assert_eq!(
            reachable(&transitions, &starts),
            ["draft", "published", "archived"]
        );
    }
}
