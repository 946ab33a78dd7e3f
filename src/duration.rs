//! Pure: human durations such as `90s`, `15m`, `1h30m`, and their compact display.

use std::time::Duration;

#[derive(Debug, PartialEq, Eq)]
pub struct ParseDurationError(String);

impl std::fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseDurationError {}

/// Parses `1h30m`, `15m`, `90s`, `3600s`, `2h`, or a bare number of seconds.
pub fn parse(text: &str) -> Result<Duration, ParseDurationError> {
    let bad = || {
        ParseDurationError(format!(
            "invalid duration {text:?}: use a number with h, m or s, e.g. 90s, 15m, 1h30m"
        ))
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut last_unit = u64::MAX;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        // Units must come largest first and once each: `1h30m`, not `30m1h` or `1m1m`.
        if unit >= last_unit {
            return Err(bad());
        }
        last_unit = unit;
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// Parses a duration and checks it lies within `min..=max`.
pub fn parse_within(
    what: &str,
    text: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, ParseDurationError> {
    let value = parse(text).map_err(|e| ParseDurationError(format!("{what}: {e}")))?;
    if value < min || value > max {
        return Err(ParseDurationError(format!(
            "{what} {text:?} is out of range: it must be between {} and {}",
            compact(min),
            compact(max)
        )));
    }
    Ok(value)
}

/// Compact display: `45s`, `42m`, `1h05m`, `12h`.
pub fn compact(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs % 3600 < 60 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        for (text, secs) in [
            ("90s", 90),
            ("3600s", 3600),
            ("15m", 900),
            ("1h", 3600),
            ("1h30m", 5400),
            ("12h", 43200),
            ("1h0m5s", 3605),
            ("45", 45),
            (" 2m ", 120),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "h",
            "1x",
            "1.5h",
            "-1h",
            "30m1h",
            "1m1m",
            "1h30",
            "1 h",
            "99999999999999999999h",
        ] {
            assert!(parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn range_is_enforced() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(43200));
        assert!(parse_within("duration", "0s", min, max).is_err());
        assert!(parse_within("duration", "12h1s", min, max).is_err());
        assert!(parse_within("duration", "12h", min, max).is_ok());
        assert!(parse_within("duration", "1s", min, max).is_ok());
    }

    #[test]
    fn compact_display() {
        assert_eq!(compact(Duration::from_secs(5)), "5s");
        assert_eq!(compact(Duration::from_secs(42 * 60 + 59)), "42m");
        assert_eq!(compact(Duration::from_secs(3600 + 5 * 60)), "1h05m");
        assert_eq!(compact(Duration::from_secs(12 * 3600)), "12h");
    }
}
