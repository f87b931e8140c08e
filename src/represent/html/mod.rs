//! `text/html`: the browsable API. Every page is built from the model
//! (`Spec`, `Resource`, `Field`) and the API's own links, so navigating the
//! pages is navigating the API. Every value written into a page goes through
//! [`escape`]; the page's CSS and JavaScript are embedded in the binary and
//! served from `/_standin/assets/` (no inline script, so the pages' CSP
//! allows scripts from the server only).

mod collection;
mod dialect;
mod embedded;
mod form;
mod item;

pub use collection::{Listing, collection, listing_page};
pub use dialect::{Sorting, Vocabulary, with_fields_of};
pub use item::{Shown, item, shown_page};

use std::fmt::Write;

use serde_json::Value;

use crate::links;
use crate::spec::Spec;

/// The pages' stylesheet.
pub const CSS: &str = include_str!("standin.css");
/// The pages' script: forms, the JSON view, the admin page's refresh.
pub const JS: &str = include_str!("standin.js");

/// The `Content-Security-Policy` of every page: nothing but this server's own
/// scripts, styles and fetches.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// An asset of the pages by its name under `/_standin/assets/`: its bytes and media type.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "standin.css" => Some((CSS, "text/css; charset=utf-8")),
        "standin.js" => Some((JS, "text/javascript; charset=utf-8")),
        _ => None,
    }
}

/// `text` with the characters HTML gives a meaning to replaced by references,
/// safe in element content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// `text` cut to at most `limit` characters, marked with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A JSON value as text for a person: strings bare, `null` empty, others as JSON.
fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The href of an asset of the pages.
fn asset_href(spec: &Spec, name: &str) -> String {
    format!("{}/_standin/assets/{name}", spec.base_path)
}

/// A breadcrumb: its text and, but for the current page, its href.
type Crumb = (String, Option<String>);

/// A whole page around `main` (already escaped HTML).
fn layout(spec: &Spec, title: &str, crumbs: &[Crumb], main: &str) -> String {
    let mut page = String::with_capacity(main.len() + 2048);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">\
         <title>{title} · {api}</title>\
         <link rel=\"stylesheet\" href=\"{css}\">\
         <script src=\"{js}\" defer></script></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><nav aria-label=\"Breadcrumb\"><ol>",
        title = escape(title),
        api = escape(&spec.title),
        css = escape(&asset_href(spec, "standin.css")),
        js = escape(&asset_href(spec, "standin.js")),
    );
    for (text, href) in crumbs {
        match href {
            Some(href) => {
                let _ = write!(
                    page,
                    "<li><a href=\"{}\">{}</a></li>",
                    escape(href),
                    escape(text)
                );
            }
            None => {
                let _ = write!(page, "<li aria-current=\"page\">{}</li>", escape(text));
            }
        }
    }
    let _ = write!(
        page,
        "</ol></nav><button type=\"button\" data-raw-json aria-expanded=\"false\" \
         aria-controls=\"raw-json\">View JSON</button></header><main id=\"main\">\
         <pre id=\"raw-json\" aria-label=\"JSON\" hidden></pre>{main}</main>\
         <footer><a href=\"{home}\">{api}</a> · <a href=\"{openapi}\">OpenAPI</a> · \
         <a href=\"{admin}\">Admin</a></footer></body></html>",
        home = escape(&links::home(spec)),
        api = escape(&spec.title),
        openapi = escape(&links::description(spec)),
        admin = escape(&admin_href(spec)),
    );
    page
}

/// The href of the admin page.
fn admin_href(spec: &Spec) -> String {
    format!("{}/_standin", spec.base_path)
}

/// The crumb of the home page.
fn home_crumb(spec: &Spec) -> Crumb {
    (spec.title.clone(), Some(links::home(spec)))
}

/// The home page: every collection with its count of records (when known).
pub fn home(spec: &Spec, counts: &[Option<u64>]) -> String {
    let mut main = format!(
        "<h1>{}</h1><table><caption>Collections</caption><thead><tr>\
         <th scope=\"col\">Collection</th><th scope=\"col\" class=\"number\">Records</th>\
         </tr></thead><tbody>",
        escape(&spec.title)
    );
    for (position, resource) in spec.resources.iter().enumerate() {
        let count = counts
            .get(position)
            .copied()
            .flatten()
            .map(|count| count.to_string())
            .unwrap_or_default();
        let name = match dialect::collection_href(spec, &resource.name) {
            Some(href) => format!(
                "<a href=\"{}\">{}</a>",
                escape(&href),
                escape(&resource.name)
            ),
            None => escape(&resource.name),
        };
        let _ = write!(
            main,
            "<tr><td>{name}</td><td class=\"number\">{count}</td></tr>"
        );
    }
    main.push_str("</tbody></table>");
    layout(spec, "Home", &[(spec.title.clone(), None)], &main)
}

/// The admin page: health, the request journal (refreshed live) and reset.
/// Its data is fetched by the page's script, with the admin token if one is set.
pub fn admin(spec: &Spec) -> String {
    let base = admin_href(spec);
    let main = format!(
        "<h1>Admin</h1><div data-admin=\"{base}\">\
         <p><label for=\"admin-token\">Admin token (if the server has one)</label> \
         <input id=\"admin-token\" type=\"password\" autocomplete=\"off\"></p>\
         <p><button type=\"button\" data-admin-reset>Reset to the seeded data</button> \
         <span role=\"status\" data-admin-status></span></p>\
         <h2>Health</h2><pre data-admin-health>Loading…</pre>\
         <h2>Requests</h2><p><label><input type=\"checkbox\" data-admin-live checked> \
         Refresh every 2 seconds</label> \
         <button type=\"button\" data-admin-clear>Clear the journal</button></p>\
         <div class=\"scroll\"><table><thead><tr><th scope=\"col\">#</th>\
         <th scope=\"col\">Time</th><th scope=\"col\">Method</th><th scope=\"col\">Path</th>\
         <th scope=\"col\" class=\"number\">Status</th><th scope=\"col\" class=\"number\">ms</th>\
         </tr></thead><tbody data-admin-requests></tbody></table></div></div>",
        base = escape(&base),
    );
    layout(
        spec,
        "Admin",
        &[home_crumb(spec), ("Admin".into(), None)],
        &main,
    )
}

/// The page of a problem (RFC 9457 problem+json `body`) answering a browser.
pub fn problem(spec: &Spec, body: &Value) -> String {
    let text = |key: &str| body.get(key).map(display).unwrap_or_default();
    let title = format!("{} {}", text("status"), text("title"));
    let mut main = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(&title),
        escape(&text("detail"))
    );
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        main.push_str("<ul>");
        for error in errors {
            let field = error.get("field").map(display).unwrap_or_default();
            let message = error.get("message").map(display).unwrap_or_default();
            let _ = write!(
                main,
                "<li><strong>{}</strong> {}</li>",
                escape(&field),
                escape(&message)
            );
        }
        main.push_str("</ul>");
    }
    let _ = write!(
        main,
        "<p><a href=\"{}\">Back to {}</a></p>",
        escape(&links::home(spec)),
        escape(&spec.title)
    );
    layout(
        spec,
        &title,
        &[home_crumb(spec), (title.clone(), None)],
        &main,
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_what_html_gives_a_meaning() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }

    #[test]
    fn shortens_by_characters() {
        assert_eq!(super::shorten("ééééé", 3), "ééé…");
        assert_eq!(super::shorten("abc", 3), "abc");
    }
}
