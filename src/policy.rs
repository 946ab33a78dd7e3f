//! Pure: given a record and "now", decide whether to reuse, refresh or mint, and how long to
//! back off after failures. Times are Unix seconds from the wall clock, never a monotonic clock:
//! a laptop waking from sleep must see its token as expired.

use crate::record::Record;

/// A token with less than this left is treated as already expired: it would die in flight.
pub const EXPIRY_MARGIN: u64 = 10;
/// Minimum spacing between mints while the token is still valid. This bounds the re-mint rate
/// when the credentials themselves cap the lifetime below the threshold.
pub const MIN_REMINT_INTERVAL: u64 = 60;
const BACKOFF_BASE: u64 = 15;
const BACKOFF_MAX: u64 = 300;
/// How far the clock may appear to run backwards before a token's age is distrusted.
const CLOCK_SKEW_TOLERANCE: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The token is good for longer than the threshold.
    Fresh,
    /// Valid, within the threshold: use it, and refresh now (foreground) or in the background.
    Refresh,
    /// Valid, within the threshold, but a mint was tried recently: use it, retry at `retry_at`.
    Wait { retry_at: u64 },
    /// No usable token: mint now.
    Mint,
    /// No usable token, and recent attempts failed: report the last error until `retry_at`.
    BackingOff { retry_at: u64 },
}

impl Decision {
    /// Whether the record's token can be handed out.
    pub fn token_usable(self) -> bool {
        matches!(
            self,
            Decision::Fresh | Decision::Refresh | Decision::Wait { .. }
        )
    }
}

/// Seconds to wait after `failures` consecutive failures: 15 s, 30 s, 60 s, ... up to 5 min.
pub fn backoff(failures: u32) -> u64 {
    if failures == 0 {
        return 0;
    }
    BACKOFF_BASE
        .saturating_mul(1u64 << failures.saturating_sub(1).min(16))
        .min(BACKOFF_MAX)
}

pub fn decide(record: Option<&Record>, now: u64, threshold: u64, force: bool) -> Decision {
    let Some(record) = record else {
        return Decision::Mint;
    };
    let failure_retry_at = (record.failures > 0)
        .then(|| {
            record
                .last_attempt_at
                .saturating_add(backoff(record.failures))
        })
        .filter(|&at| now < at && record.last_attempt_at <= now);
    let usable = record.minted.as_ref().filter(|m| {
        // A clock that jumped back must not make an old token look younger than it is.
        let clock_sane = now.saturating_add(CLOCK_SKEW_TOLERANCE) >= m.issued_at;
        clock_sane && m.expires_at > now.saturating_add(EXPIRY_MARGIN)
    });
    let Some(minted) = usable else {
        return match (force, failure_retry_at) {
            (false, Some(retry_at)) => Decision::BackingOff { retry_at },
            _ => Decision::Mint,
        };
    };
    if force {
        return Decision::Refresh;
    }
    let left = minted.expires_at - now;
    if left > threshold {
        return Decision::Fresh;
    }
    if let Some(retry_at) = failure_retry_at {
        return Decision::Wait { retry_at };
    }
    // After failures the backoff above is the spacing; after a success, at most one a minute.
    let next_mint = record.last_attempt_at.saturating_add(MIN_REMINT_INTERVAL);
    if record.failures == 0 && now < next_mint && record.last_attempt_at <= now {
        return Decision::Wait {
            retry_at: next_mint,
        };
    }
    Decision::Refresh
}

/// When a shell holding this record's token should next ask again (Unix seconds).
pub fn next_check(record: &Record, decision: Decision, threshold: u64) -> u64 {
    let expires = record.minted.as_ref().map_or(0, |m| m.expires_at);
    let expiring = expires.saturating_sub(EXPIRY_MARGIN);
    match decision {
        Decision::Fresh => expires.saturating_sub(threshold).min(expiring),
        Decision::Wait { retry_at } | Decision::BackingOff { retry_at } => {
            if record.minted.is_some() && expiring > 0 {
                retry_at.min(expiring)
            } else {
                retry_at
            }
        }
        Decision::Refresh | Decision::Mint => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Cap, Minted};

    const T0: u64 = 1_800_000_000;
    const THRESHOLD: u64 = 900;

    fn record(issued: u64, expires: u64) -> Record {
        let mut r = Record::new("id".into(), None, "us-east-1".into());
        r.minted = Some(Minted {
            token: "t".into(),
            access_key_id: "AKID".into(),
            issued_at: issued,
            expires_at: expires,
            credentials_expire_at: None,
            capped_by: Cap::Duration,
        });
        r.last_attempt_at = issued;
        r
    }

    #[test]
    fn missing_record_mints() {
        assert_eq!(decide(None, T0, THRESHOLD, false), Decision::Mint);
    }

    #[test]
    fn fresh_until_threshold_then_refresh_then_mint() {
        let r = record(T0, T0 + 3600);
        assert_eq!(
            decide(Some(&r), T0 + 100, THRESHOLD, false),
            Decision::Fresh
        );
        assert_eq!(
            decide(Some(&r), T0 + 3600 - THRESHOLD, THRESHOLD, false),
            Decision::Refresh
        );
        assert_eq!(
            decide(Some(&r), T0 + 3600 - EXPIRY_MARGIN, THRESHOLD, false),
            Decision::Mint
        );
        assert_eq!(
            decide(Some(&r), T0 + 7200, THRESHOLD, false),
            Decision::Mint
        );
    }

    #[test]
    fn force_always_mints() {
        let r = record(T0, T0 + 3600);
        assert_eq!(decide(Some(&r), T0 + 1, THRESHOLD, true), Decision::Refresh);
    }

    #[test]
    fn short_credentials_remint_at_most_once_a_minute() {
        // The credentials allowed only 5 minutes: below the 15-minute threshold from the start.
        let r = record(T0, T0 + 300);
        assert_eq!(
            decide(Some(&r), T0 + 10, THRESHOLD, false),
            Decision::Wait {
                retry_at: T0 + MIN_REMINT_INTERVAL
            }
        );
        assert_eq!(
            decide(Some(&r), T0 + MIN_REMINT_INTERVAL, THRESHOLD, false),
            Decision::Refresh
        );
    }

    #[test]
    fn failures_back_off_but_keep_serving_a_valid_token() {
        let mut r = record(T0, T0 + 3600);
        r.failures = 2;
        r.last_attempt_at = T0 + 3000;
        r.last_error = Some("boom".into());
        assert_eq!(
            decide(Some(&r), T0 + 3010, THRESHOLD, false),
            Decision::Wait {
                retry_at: T0 + 3030
            }
        );
        assert_eq!(
            decide(Some(&r), T0 + 3030, THRESHOLD, false),
            Decision::Refresh
        );
    }

    #[test]
    fn failures_without_a_token_back_off() {
        let mut r = Record::new("id".into(), None, "us-east-1".into());
        r.failures = 1;
        r.last_attempt_at = T0;
        assert_eq!(
            decide(Some(&r), T0 + 5, THRESHOLD, false),
            Decision::BackingOff { retry_at: T0 + 15 }
        );
        assert_eq!(decide(Some(&r), T0 + 15, THRESHOLD, false), Decision::Mint);
        assert_eq!(decide(Some(&r), T0 + 5, THRESHOLD, true), Decision::Mint);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), 0);
        assert_eq!(backoff(1), 15);
        assert_eq!(backoff(2), 30);
        assert_eq!(backoff(3), 60);
        assert_eq!(backoff(10), 300);
        assert_eq!(backoff(u32::MAX), 300);
    }

    #[test]
    fn clock_jumping_back_does_not_extend_a_token() {
        let r = record(T0, T0 + 3600);
        // The clock now reads an hour before the token was issued.
        assert_eq!(
            decide(Some(&r), T0 - 3600, THRESHOLD, false),
            Decision::Mint
        );
        // Small skew is tolerated.
        assert_eq!(decide(Some(&r), T0 - 10, THRESHOLD, false), Decision::Fresh);
    }

    #[test]
    fn a_clock_that_jumped_back_does_not_prolong_a_backoff() {
        // The last attempt is "in the future": waiting for it would block minting for as
        // long as the clock was set back. Treat it as long past instead.
        let mut r = Record::new("id".into(), None, "us-east-1".into());
        r.failures = 5;
        r.last_attempt_at = T0 + 86_400;
        assert_eq!(decide(Some(&r), T0, THRESHOLD, false), Decision::Mint);
        let mut r = record(T0 - 3000, T0 + 600);
        r.last_attempt_at = T0 + 86_400;
        assert_eq!(decide(Some(&r), T0, THRESHOLD, false), Decision::Refresh);
    }

    #[test]
    fn next_check_is_refresh_time_for_fresh_tokens() {
        let r = record(T0, T0 + 3600);
        assert_eq!(
            next_check(&r, Decision::Fresh, THRESHOLD),
            T0 + 3600 - THRESHOLD
        );
        assert_eq!(
            next_check(
                &r,
                Decision::Wait {
                    retry_at: T0 + 4000
                },
                THRESHOLD
            ),
            T0 + 3600 - EXPIRY_MARGIN
        );
    }
}
