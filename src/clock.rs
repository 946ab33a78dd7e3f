//! Wall-clock time as bedrock-env uses it: Unix seconds, and RFC 3339 in and out. Never a
//! monotonic clock: a laptop waking from sleep must see an expired token as expired.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in Unix seconds.
pub fn now_secs() -> u64 {
    unix(SystemTime::now())
}

/// A time in Unix seconds (0 for times before 1970).
pub fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `2026-11-25T13:00:00Z`: UTC, whole seconds, as `AWS_BEARER_TOKEN_BEDROCK_EXPIRATION` is written.
pub fn rfc3339(secs: u64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.format(&format).unwrap_or_default()
}

/// Parses RFC 3339 with any offset (`Z`, `+01:00`), as credential tools export expiry times.
pub fn parse_rfc3339(value: &str) -> Option<SystemTime> {
    let at = OffsetDateTime::parse(value.trim(), &Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_accepts_offsets() {
        let z = parse_rfc3339("2026-11-25T13:00:00Z").expect("Z");
        let offset = parse_rfc3339("2026-11-25T14:00:00+01:00").expect("offset");
        assert_eq!(z, offset);
        assert_eq!(rfc3339(unix(z)), "2026-11-25T13:00:00Z");
        assert!(parse_rfc3339("yesterday").is_none());
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_none());
    }
}
