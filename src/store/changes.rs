//! What the writes to each resource's records changed, generation by
//! generation, so that an answer read at one generation can be known to
//! hold at a later one. A read cache keeps an item or a page with what it
//! read ([`Basis`]); after writes to its resource, it is served again when
//! none of them changed a record it shows, a field that decides which
//! records it shows or in what order, or which records it counts. Only a
//! full page of every record in integer id order may hold with another
//! total (records created come after it): its body holds, its total does not.

use std::collections::HashMap;

use super::RecordId;
use super::counts::{Reads, Totals, Written};
use super::select::Compiled;
use crate::query::{Column, Filter, ListQuery};
use crate::spec::{IdKind, Resource};

/// The most records whose last change is remembered per resource; past it,
/// answers read before are no longer carried.
const MOST_RECORDS: usize = 65_536;

/// What is known of the writes to one resource's records.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// The generation its records last changed at.
    pub at: u64,
    /// The number of its live records at `at`, when known.
    live: Option<u64>,
    /// Before this generation, what changed is not known (a delete, a bulk
    /// write, more changes than are remembered).
    known_since: u64,
    /// The generation each record last changed at, staying live.
    records: HashMap<RecordId, u64, foldhash::fast::RandomState>,
    /// The generation each field last changed at, in any record.
    fields: HashMap<String, u64>,
    /// The last generation any field changed at.
    any_field: u64,
    /// The last generation a record was created at.
    created: u64,
    /// One record created at each of the last generations records were
    /// created at (at most [`MOST_CREATIONS`]), live after its commit and
    /// not before: whether a snapshot holds it tells whether it holds the
    /// commit.
    creations: std::collections::VecDeque<(u64, RecordId)>,
}

/// How many of the last generations that created records are remembered
/// with one of them.
const MOST_CREATIONS: usize = 8;

impl Changes {
    /// Records what a group `written` at `generation`, after which the
    /// resource has `live` records (when known) and `created` is one of
    /// those it created that is live.
    pub(super) fn record(
        &mut self,
        generation: u64,
        written: &Written,
        live: Option<u64>,
        created: Option<&RecordId>,
    ) {
        self.at = generation;
        self.live = live;
        if written.unknown || self.records.len() + written.records.len() > MOST_RECORDS {
            self.forget(generation);
            return;
        }
        for id in &written.records {
            self.records.insert(id.clone(), generation);
        }
        for field in &written.fields {
            self.fields.insert(field.clone(), generation);
        }
        if !written.fields.is_empty() {
            self.any_field = generation;
        }
        if !written.created.is_empty() {
            self.created = generation;
        }
        if let Some(id) = created {
            if self.creations.len() == MOST_CREATIONS {
                self.creations.pop_front();
            }
            // Live after the commit, and not before it (it was created).
            self.creations.push_back((generation, id.clone()));
        }
    }

    /// A record the writes at `generation` created, if they created any and
    /// it is remembered.
    pub(super) fn created_at(&self, generation: u64) -> Option<&RecordId> {
        self.creations
            .iter()
            .find(|(at, _)| *at == generation)
            .map(|(_, id)| id)
    }

    /// Forgets what changed: answers read before `generation` are not carried.
    pub(super) fn forget(&mut self, generation: u64) {
        *self = Changes {
            at: generation,
            live: self.live,
            known_since: generation,
            any_field: generation,
            created: generation,
            ..Changes::default()
        };
    }

    /// How an answer read at generation `from` with `basis` holds now, if
    /// it does; `totals` tells whether a filtered page's records still match.
    pub(super) fn holds(&self, basis: &Basis, from: u64, totals: &Totals) -> Option<Carried> {
        if self.known_since > from {
            return None;
        }
        let changed_since = |id: &RecordId| self.records.get(id).is_some_and(|&at| at > from);
        let page = match basis {
            Basis::Item { id, .. } => return (!changed_since(id)).then_some(Carried::AsItWas),
            Basis::Page(page) => page,
        };
        if page.ids.iter().any(changed_since) {
            return None;
        }
        let reordered = match &page.order_reads {
            Reads::Everything => self.any_field > from,
            Reads::Fields(fields) => fields
                .iter()
                .any(|field| self.fields.get(field).is_some_and(|&at| at > from)),
        };
        if reordered {
            return None;
        }
        match &page.matches {
            Matches::Counted(key) => {
                let same_since = totals.same_since(key, self.at)?;
                (same_since <= from).then_some(Carried::AsItWas)
            }
            _ if self.created <= from => Some(Carried::AsItWas),
            Matches::All => None,
            Matches::AllBeforeCreated => self.live.map(Carried::WithTotal),
        }
    }
}

/// What a kept answer read, for telling whether writes since changed it.
#[derive(Debug, Clone)]
pub enum Basis {
    /// One live record (with no embeds or counts of others).
    Item {
        /// Its resource.
        resource: String,
        /// Its id.
        id: RecordId,
    },
    /// A page of one resource's records.
    Page(PageReads),
}

impl Basis {
    /// The resource whose records the answer read.
    pub fn resource(&self) -> &str {
        match self {
            Basis::Item { resource, .. } => resource,
            Basis::Page(page) => &page.resource,
        }
    }
}

/// What a page of one resource's records read.
#[derive(Debug, Clone, PartialEq)]
pub struct PageReads {
    pub(super) resource: String,
    /// The records shown, in order.
    pub(super) ids: Vec<RecordId>,
    /// How many records a full page shows.
    pub(super) per_page: usize,
    /// Which records it is a page of.
    pub(super) matches: Matches,
    /// What of a record decides whether it is among them and where it comes.
    pub(super) order_reads: Reads,
}

impl PageReads {
    /// What a page of `query` on `resource`'s records (`scope` too), read
    /// as `compiled`, reads besides the records it shows.
    pub(super) fn of(
        resource: &Resource,
        query: &ListQuery,
        scope: &[Filter],
        compiled: &Compiled,
    ) -> PageReads {
        let whole = query.filters.is_empty() && scope.is_empty() && query.search.is_none();
        let by_id = query
            .sort
            .iter()
            .all(|key| key.column == Column::Id && !key.descending);
        let matches = match whole {
            false => Matches::Counted(compiled.total_key()),
            true if by_id && resource.id == IdKind::Integer => Matches::AllBeforeCreated,
            true => Matches::All,
        };
        PageReads {
            resource: resource.name.clone(),
            ids: Vec::new(),
            per_page: usize::try_from(query.limit).unwrap_or(usize::MAX),
            matches,
            order_reads: compiled.order_reads.clone(),
        }
    }

    /// How many records the page shows.
    pub fn shown(&self) -> usize {
        self.ids.len()
    }

    /// Sets the records shown.
    pub fn showing(mut self, ids: Vec<RecordId>) -> PageReads {
        // A page not full: records created after it come into it.
        if self.matches == Matches::AllBeforeCreated && ids.len() != self.per_page {
            self.matches = Matches::All;
        }
        self.ids = ids;
        self
    }
}

/// Which records a page is of.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Matches {
    /// Those counted by the total kept under this key (filtered, searched).
    Counted(String),
    /// Every live record, in ascending order of integer ids, a full page:
    /// records created come after it (ids are assigned ascending, never
    /// reused, and a delete is a change of unknown effect).
    AllBeforeCreated,
    /// Every live record, in another order.
    All,
}

/// How a kept answer holds after writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// As it was.
    AsItWas,
    /// Its records as they were, with this many in all now.
    WithTotal(u64),
}
