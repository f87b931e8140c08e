//! Embedded records on pages (`embed=author`, `embed=comments.author`): on
//! a record's page, each embedded record in full, with what is embedded in
//! it in turn; in a collection's table, a column per embed linking to its
//! records, the deeper embeds nested under each link.

use std::fmt::Write;

use super::dialect::item_href;
use super::{display, escape};
use crate::query::Embed;
use crate::represent::record_object;
use crate::spec::{Resource, Spec};
use crate::store::{Embedded, EmbeddedRecord};

/// The most records of one embed a table cell links to; the record's page shows them all.
const CELL_RECORDS: usize = 10;

/// The "Embedded" section of a record's page: one entry per embed, each
/// embedded record's fields in full. Empty when nothing was embedded.
pub fn section(spec: &Spec, embeds: &[Embed], embedded: &[Embedded]) -> String {
    if embeds.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section aria-labelledby=\"embedded-heading\"><h2 id=\"embedded-heading\">Embedded</h2>",
    );
    entries(&mut out, spec, embeds, embedded);
    out.push_str("</section>");
    out
}

/// `<dl>` entries naming each embed, holding its records.
fn entries(out: &mut String, spec: &Spec, embeds: &[Embed], embedded: &[Embedded]) {
    out.push_str("<dl class=\"record\">");
    for (embed, related) in embeds.iter().zip(embedded) {
        let Some(target) = spec.resource(embed.resource()) else {
            continue;
        };
        let _ = write!(out, "<dt>{}</dt><dd>", escape(embed.name()));
        match related {
            Embedded::One(Some(record)) => full(out, spec, target, embed, record),
            Embedded::One(None) => out.push_str("<span class=\"none\">none</span>"),
            Embedded::Many(records) if records.is_empty() => {
                out.push_str("<span class=\"none\">none</span>");
            }
            Embedded::Many(records) => {
                out.push_str("<ol class=\"embedded\">");
                for record in records {
                    out.push_str("<li>");
                    full(out, spec, target, embed, record);
                    out.push_str("</li>");
                }
                out.push_str("</ol>");
            }
        }
        out.push_str("</dd>");
    }
    out.push_str("</dl>");
}

/// One embedded record: a link to its page, its fields, and its own embeds.
fn full(out: &mut String, spec: &Spec, target: &Resource, embed: &Embed, record: &EmbeddedRecord) {
    let object = record_object(target, &record.record);
    let _ = write!(
        out,
        "<div class=\"embedded-record\">{}",
        link(spec, target, record)
    );
    out.push_str("<dl class=\"record\">");
    for (name, value) in object.iter().filter(|(name, _)| *name != "id") {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            escape(name),
            super::item::value_html(spec, target.field(name), value)
        );
    }
    out.push_str("</dl>");
    if !embed.nested().is_empty() {
        entries(out, spec, embed.nested(), &record.embedded);
    }
    out.push_str("</div>");
}

/// A link to an embedded record's page, named by its resource and id.
fn link(spec: &Spec, target: &Resource, record: &EmbeddedRecord) -> String {
    let id = record.record.id.to_json();
    let text = escape(&format!("{} {}", target.name, display(&id)));
    match item_href(spec, target, &id) {
        Some(href) => format!("<a href=\"{}\">{text}</a>", escape(&href)),
        None => text,
    }
}

/// The table cell of one embed for one row: links to its records (at most
/// [`CELL_RECORDS`]), each with its own embeds nested under it.
pub fn cell(spec: &Spec, embed: &Embed, related: &Embedded) -> String {
    let mut out = String::from("<td>");
    if let Some(target) = spec.resource(embed.resource()) {
        links(&mut out, spec, target, embed, related);
    }
    out.push_str("</td>");
    out
}

/// The links of one embed's records, as a list where there can be several.
fn links(out: &mut String, spec: &Spec, target: &Resource, embed: &Embed, related: &Embedded) {
    let linked = |out: &mut String, record: &EmbeddedRecord| {
        out.push_str(&link(spec, target, record));
        nested_links(out, spec, embed, record);
    };
    match related {
        Embedded::One(Some(record)) => linked(out, record),
        Embedded::One(None) => {}
        Embedded::Many(records) => {
            if records.is_empty() {
                return;
            }
            out.push_str("<ul class=\"embedded\">");
            for record in records.iter().take(CELL_RECORDS) {
                out.push_str("<li>");
                linked(out, record);
                out.push_str("</li>");
            }
            if records.len() > CELL_RECORDS {
                let _ = write!(out, "<li>and {} more</li>", records.len() - CELL_RECORDS);
            }
            out.push_str("</ul>");
        }
    }
}

/// Under a linked record, the records of its own embeds, each named.
fn nested_links(out: &mut String, spec: &Spec, embed: &Embed, record: &EmbeddedRecord) {
    if embed.nested().is_empty() {
        return;
    }
    out.push_str("<ul class=\"embedded\">");
    for (nested, related) in embed.nested().iter().zip(&record.embedded) {
        let Some(target) = spec.resource(nested.resource()) else {
            continue;
        };
        let _ = write!(out, "<li>{}: ", escape(nested.name()));
        match related {
            Embedded::One(None) => out.push_str("none"),
            Embedded::Many(records) if records.is_empty() => out.push_str("none"),
            _ => links(out, spec, target, nested, related),
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}
