//! Content negotiation: picks the representation to send from the `Accept`
//! header's media ranges and q-values (RFC 9110 §12.5.1). Wildcards and `q=0`
//! are honoured; more specific ranges override less specific ones.

/// One media range of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    subtype: String,
    /// Parameters other than `q`, lower-cased.
    parameters: Vec<(String, String)>,
    quality: f32,
}

impl MediaRange {
    fn parse(text: &str) -> Option<MediaRange> {
        let mut parts = text.split(';');
        let essence = parts.next()?.trim().to_ascii_lowercase();
        let (kind, subtype) = essence.split_once('/')?;
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut quality = 1.0;
        let mut parameters = Vec::new();
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim().trim_matches('"').to_ascii_lowercase();
            if name == "q" {
                quality = value
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            } else {
                parameters.push((name, value));
            }
        }
        Some(MediaRange {
            kind: kind.to_string(),
            subtype: subtype.to_string(),
            parameters,
            quality,
        })
    }

    /// How specifically this range matches `offer` (higher is more specific), if it does.
    fn specificity(&self, offer: &str) -> Option<u8> {
        let (kind, subtype) = offer.split_once('/')?;
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") => Some(0),
            (range_kind, "*") if range_kind == kind => Some(1),
            (range_kind, range_subtype) if range_kind == kind && range_subtype == subtype => {
                // Parameters we do not produce (e.g. a profile) make the range not match.
                let charset_only = self
                    .parameters
                    .iter()
                    .all(|(name, value)| name == "charset" && value == "utf-8");
                charset_only.then_some(if self.parameters.is_empty() { 2 } else { 3 })
            }
            _ => None,
        }
    }
}

/// The offer to send for `accept`, the `Accept` header's value (or `None` if absent).
/// `offers` are in the server's order of preference; the first wins ties.
pub fn choose<'a>(accept: Option<&str>, offers: &[&'a str]) -> Option<&'a str> {
    let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
        return offers.first().copied();
    };
    let ranges: Vec<MediaRange> = accept.split(',').filter_map(MediaRange::parse).collect();
    if ranges.is_empty() {
        // Nothing parsable names an acceptable type.
        return None;
    }
    // Each offer's quality comes from the most specific range matching it;
    // among equal qualities, a type the client named beats one it reached
    // only through a wildcard (`application/json, */*` is JSON), and then
    // the server's order decides.
    let mut best: Option<(&str, f32, u8)> = None;
    for offer in offers {
        let Some((specificity, quality)) = ranges
            .iter()
            .filter_map(|range| {
                range
                    .specificity(offer)
                    .map(|specificity| (specificity, range.quality))
            })
            .max_by_key(|(specificity, _)| *specificity)
        else {
            continue;
        };
        let better = best.is_none_or(|(_, best_quality, best_specificity)| {
            quality > best_quality || (quality == best_quality && specificity > best_specificity)
        });
        if quality > 0.0 && better {
            best = Some((offer, quality, specificity));
        }
    }
    best.map(|(offer, _, _)| offer)
}

#[cfg(test)]
mod tests {
    use super::choose;

    const OFFERS: &[&str] = &["application/hal+json", "application/json"];

    #[test]
    fn no_accept_gets_the_first_offer() {
        assert_eq!(choose(None, OFFERS), Some("application/hal+json"));
        assert_eq!(choose(Some("*/*"), OFFERS), Some("application/hal+json"));
    }

    #[test]
    fn exact_types_win() {
        assert_eq!(
            choose(Some("application/json"), OFFERS),
            Some("application/json")
        );
        assert_eq!(
            choose(Some("application/json; charset=utf-8"), OFFERS),
            Some("application/json")
        );
    }

    #[test]
    fn q_values_are_honoured() {
        let accept = "application/hal+json;q=0.5, application/json;q=0.9";
        assert_eq!(choose(Some(accept), OFFERS), Some("application/json"));
    }

    #[test]
    fn q_zero_excludes_a_type_even_under_a_wildcard() {
        let accept = "application/hal+json;q=0, */*;q=0.1";
        assert_eq!(choose(Some(accept), OFFERS), Some("application/json"));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(choose(Some("text/csv"), OFFERS), None);
        assert_eq!(choose(Some("application/*;q=0"), OFFERS), None);
    }

    #[test]
    fn an_unparsable_accept_accepts_nothing() {
        assert_eq!(choose(Some("json"), OFFERS), None);
        assert_eq!(choose(Some("application/json;q=2"), OFFERS), None);
    }

    #[test]
    fn a_named_type_beats_one_reached_through_a_wildcard() {
        // axios's and Angular's default Accept.
        let accept = "application/json, text/plain, */*";
        assert_eq!(choose(Some(accept), OFFERS), Some("application/json"));
        assert_eq!(
            choose(Some("application/*, application/json"), OFFERS),
            Some("application/json")
        );
        // A higher q-value still wins over specificity.
        let accept = "application/json;q=0.5, */*";
        assert_eq!(choose(Some(accept), OFFERS), Some("application/hal+json"));
    }

    #[test]
    fn browsers_get_pages_and_wildcards_never_do() {
        // The read offers: HTML last, so that it wins only when named.
        let pages = &[
            "application/hal+json",
            "application/json",
            "application/vnd.collection+json",
            "text/html",
        ];
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert_eq!(choose(Some(chromium), pages), Some("text/html"));
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(choose(Some(firefox), pages), Some("text/html"));
        assert_eq!(choose(None, pages), Some("application/hal+json"));
        assert_eq!(choose(Some("*/*"), pages), Some("application/hal+json"));
        assert_eq!(
            choose(Some("application/json, text/plain, */*"), pages),
            Some("application/json")
        );
        assert_eq!(
            choose(Some("text/html;q=0.5, application/json"), pages),
            Some("application/json")
        );
        // A page script's fetch names JSON.
        assert_eq!(
            choose(Some("application/json"), pages),
            Some("application/json")
        );
    }

    #[test]
    fn subtype_wildcards_match() {
        assert_eq!(
            choose(Some("application/*"), OFFERS),
            Some("application/hal+json")
        );
    }
}
