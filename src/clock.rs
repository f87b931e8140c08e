//! Timestamps as standin writes them: RFC 3339 in UTC with milliseconds
//! (`2025-01-01T12:00:00.000Z`), fixed width so that they sort as text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// The current time as a timestamp.
pub fn now() -> String {
    timestamp_of(SystemTime::now())
}

/// A moment as a timestamp.
pub fn timestamp_of(moment: SystemTime) -> String {
    let elapsed = moment.duration_since(UNIX_EPOCH).unwrap_or_default();
    format_timestamp(elapsed.as_secs() as i64, elapsed.subsec_millis())
}

/// How long every timestamp is (`2025-01-01T12:00:00.000Z`).
pub const TIMESTAMP_LENGTH: usize = 24;

/// Formats seconds since the Unix epoch (plus milliseconds) as a timestamp.
pub fn format_timestamp(seconds: i64, millis: u32) -> String {
    let moment = OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        moment.year(),
        u8::from(moment.month()),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second(),
        millis
    )
}

/// The moment a timestamp written by [`format_timestamp`] names.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let format = time::format_description::well_known::Rfc3339;
    let moment = OffsetDateTime::parse(text, &format).ok()?;
    let seconds = u64::try_from(moment.unix_timestamp()).ok()?;
    Some(
        UNIX_EPOCH
            + Duration::from_secs(seconds)
            + Duration::from_millis(u64::from(moment.millisecond())),
    )
}

/// A date-time (RFC 3339, any offset) or date (`YYYY-MM-DD`, midnight UTC)
/// in the form [`format_timestamp`] writes, so that it compares as text.
pub fn canonical(text: &str) -> Option<String> {
    let moment = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, &format)
                .ok()
                .map(|date| date.midnight().assume_utc())
        })?;
    let utc = moment.to_offset(time::UtcOffset::UTC);
    Some(format_timestamp(
        utc.unix_timestamp(),
        u32::from(utc.millisecond()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let text = format_timestamp(1_735_732_800, 250);
        assert_eq!(text, "2025-01-01T12:00:00.250Z");
        let moment = parse_timestamp(&text).unwrap();
        assert_eq!(
            moment.duration_since(UNIX_EPOCH).unwrap().as_millis(),
            1_735_732_800_250
        );
    }
}
