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
    let year = moment.year();
    let (Ok(year @ 0..=9999), 0..=999) = (u32::try_from(year), millis) else {
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            u8::from(moment.month()),
            moment.day(),
            moment.hour(),
            moment.minute(),
            moment.second(),
        );
    };
    // Written digit by digit: seeding stamps every record, and `format!`
    // took an eighth of generating one.
    let mut text = String::with_capacity(TIMESTAMP_LENGTH);
    let mut digits = |value: u32, width: u32, then: char| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
        text.push(then);
    };
    digits(year, 4, '-');
    digits(u32::from(u8::from(moment.month())), 2, '-');
    digits(u32::from(moment.day()), 2, 'T');
    digits(u32::from(moment.hour()), 2, ':');
    digits(u32::from(moment.minute()), 2, ':');
    digits(u32::from(moment.second()), 2, '.');
    digits(millis, 3, 'Z');
    text
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
    fn timestamps_are_written_digit_by_digit_as_format_writes_them() {
        let formatted = |seconds: i64, millis: u32| {
            let moment = OffsetDateTime::from_unix_timestamp(seconds).unwrap();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z",
                moment.year(),
                u8::from(moment.month()),
                moment.day(),
                moment.hour(),
                moment.minute(),
                moment.second(),
            )
        };
        let edges = [-62_135_596_800, -1, 0, 59, 951_782_400, 253_402_300_799];
        let spread = (0..2_000).map(|step: i64| -80_000_000_000 + step * 160_000_003);
        for seconds in edges.into_iter().chain(spread) {
            for millis in [0, 7, 250, 999, 1_000] {
                assert_eq!(
                    format_timestamp(seconds, millis),
                    formatted(seconds, millis),
                    "{seconds} {millis}"
                );
            }
        }
        assert_eq!(
            format_timestamp(-62_135_596_801, 0),
            "0000-12-31T23:59:59.000Z"
        );
    }

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
