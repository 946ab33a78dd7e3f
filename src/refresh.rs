//! The one flow every command shares: read the record, decide, and mint only when needed,
//! under the lock, re-reading inside it so many shells starting at once mint exactly once.

use std::time::{Duration, UNIX_EPOCH};

use crate::cache::{Cache, Lookup};
use crate::clock::now_secs;
use crate::credentials;
use crate::duration::compact;
use crate::policy::{self, Decision};
use crate::record::{Cap, Minted, Record};
use crate::target::Target;
use crate::token::{self, SigningKey};

/// The environment as a lookup function, so tests and callers can substitute it.
pub type GetEnv<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How a caller wants a token that is valid but inside the refresh threshold handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenRefreshDue {
    /// Re-mint now, before returning (export, token, exec).
    MintNow,
    /// Return the current token at once and leave the refresh to a background process (hooks).
    Defer,
}

pub struct Obtained {
    pub record: Record,
    /// The decision for the record as returned (after any mint).
    pub decision: Decision,
    /// The refresh was due and the caller asked to defer it.
    pub refresh_deferred: bool,
}

pub struct Failure {
    /// What went wrong, the same words each time the same thing goes wrong.
    pub message: String,
    /// When trying again makes sense (Unix seconds), if known.
    pub retry_at: Option<u64>,
    /// The message repeats a recent failure without calling AWS (backing off).
    pub repeated: bool,
}

impl Failure {
    /// The message for a person; a repeated failure says when the next attempt will be.
    pub fn describe(&self) -> String {
        match (self.repeated, self.retry_at) {
            (true, Some(at)) => format!(
                "{} (next attempt in {})",
                self.message,
                compact(Duration::from_secs(at.saturating_sub(now_secs())))
            ),
            _ => self.message.clone(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            message,
            retry_at: None,
            repeated: false,
        }
    }
}

/// Warnings go to stderr, one line each, prefixed so the user knows who is talking.
pub fn warn(message: &str) {
    eprintln!("bedrock-env: {message}");
}

pub fn obtain(
    cache: &Cache,
    target: &Target,
    getenv: GetEnv<'_>,
    force: bool,
    when_due: WhenRefreshDue,
) -> Result<Obtained, Failure> {
    let threshold = target.threshold.as_secs();
    let mut run = Run::default();
    let mut record = read_record(cache, target, &mut run);
    if let Some(record) = record.as_mut() {
        lift_backoff_if_inputs_changed(record, getenv);
    }
    let decision = policy::decide(record.as_ref(), now_secs(), threshold, force);
    match (decision, record) {
        (Decision::Fresh | Decision::Wait { .. }, Some(record)) => {
            return Ok(Obtained {
                record,
                decision,
                refresh_deferred: false,
            });
        }
        (Decision::Refresh, Some(record)) if when_due == WhenRefreshDue::Defer && !force => {
            return Ok(Obtained {
                record,
                decision,
                refresh_deferred: true,
            });
        }
        (Decision::BackingOff { retry_at }, Some(record)) => {
            return Err(backing_off(&record, retry_at));
        }
        _ => {}
    }
    mint_locked(cache, target, getenv, force, &mut run)
}

/// What one run has already learnt about the cache. A broken cache is reported once per run,
/// not once per step (read, lock, write), and a record that was distrusted is never re-read
/// and trusted inside the lock.
#[derive(Default)]
struct Run {
    cache_warned: bool,
    distrusted: bool,
}

impl Run {
    fn cache_warning(&mut self, message: &str) {
        if !self.cache_warned {
            self.cache_warned = true;
            warn(message);
        }
    }
}

fn backing_off(record: &Record, retry_at: u64) -> Failure {
    Failure {
        message: record
            .last_error
            .clone()
            .unwrap_or_else(|| "the last attempt failed".to_owned()),
        retry_at: Some(retry_at),
        repeated: true,
    }
}

/// Reads the record, turning damage and distrust into a warning and a fresh mint.
fn read_record(cache: &Cache, target: &Target, run: &mut Run) -> Option<Record> {
    match cache.read(target) {
        Lookup::Found(record) => Some(*record),
        Lookup::Missing => None,
        Lookup::Damaged(why) => {
            run.cache_warning(&format!(
                "ignoring a damaged cache record ({why}); minting a new token"
            ));
            None
        }
        Lookup::Untrusted(why) => {
            run.distrusted = true;
            run.cache_warning(&format!(
                "not trusting the cache ({why}); minting a new token"
            ));
            None
        }
    }
}

/// Mints under the lock. When the cache cannot be used at all, mints without it.
fn mint_locked(
    cache: &Cache,
    target: &Target,
    getenv: GetEnv<'_>,
    force: bool,
    run: &mut Run,
) -> Result<Obtained, Failure> {
    let lock = match cache.lock(target) {
        Ok(lock) => Some(lock),
        Err(e) => {
            run.cache_warning(&format!(
                "the cache at {} is unusable ({e}); the token will not be shared",
                cache.dir().display()
            ));
            None
        }
    };
    // Someone may have minted while we waited for the lock: look again before calling AWS.
    // What was distrusted outside the lock stays distrusted: only a record we write is used.
    let existing = match (&lock, run.distrusted) {
        (Some(_), false) => match cache.read(target) {
            Lookup::Found(mut record) => {
                lift_backoff_if_inputs_changed(&mut record, getenv);
                Some(*record)
            }
            _ => None,
        },
        _ => None,
    };
    let now = now_secs();
    let threshold = target.threshold.as_secs();
    if let (Some(record), false) = (&existing, force) {
        match policy::decide(Some(record), now, threshold, false) {
            decision @ (Decision::Fresh | Decision::Wait { .. }) => {
                return Ok(Obtained {
                    record: record.clone(),
                    decision,
                    refresh_deferred: false,
                });
            }
            Decision::BackingOff { retry_at } => return Err(backing_off(record, retry_at)),
            Decision::Refresh | Decision::Mint => {}
        }
    }

    let mut record = existing.unwrap_or_else(|| {
        Record::new(
            target.identity(),
            target.profile_name().map(str::to_owned),
            target.region.clone(),
        )
    });
    record.last_attempt_at = now;
    match mint(target, getenv, now) {
        Ok(minted) => {
            let lifetime = minted.expires_at.saturating_sub(minted.issued_at);
            let short = minted.capped_by == Cap::Credentials && lifetime <= threshold;
            if short && !record.warned_short_credentials {
                warn(&format!(
                    "the credentials{} expire in {}, so the token cannot outlive them; renew the credentials for a longer-lived token{}",
                    target
                        .profile_name()
                        .map(|p| format!(" of profile {p}"))
                        .unwrap_or_default(),
                    compact(Duration::from_secs(lifetime)),
                    sso_hint(target),
                ));
            }
            record.warned_short_credentials = short;
            record.minted = Some(minted);
            record.failures = 0;
            record.last_error = None;
            record.failure_inputs = None;
            if let Some(lock) = &lock
                && let Err(e) = cache.write(lock, target, &record)
            {
                run.cache_warning(&format!(
                    "could not save the token in the cache at {}: {e}",
                    cache.dir().display()
                ));
            }
            let decision = policy::decide(Some(&record), now, threshold, false);
            Ok(Obtained {
                record,
                decision,
                refresh_deferred: false,
            })
        }
        Err(message) => {
            record.failures = record.failures.saturating_add(1);
            record.last_error = Some(message.clone());
            record.failure_inputs = Some(credentials::inputs_fingerprint(getenv));
            if let Some(lock) = &lock {
                // Keeps the previous token (a failing mint never clobbers a good one) and
                // records the failure, so the next run backs off instead of calling AWS again.
                let _ = cache.write(lock, target, &record);
            }
            let retry_at = now.saturating_add(policy::backoff(record.failures));
            let decision = policy::decide(Some(&record), now, threshold, false);
            if decision.token_usable() {
                let left = record
                    .minted
                    .as_ref()
                    .map_or(0, |m| m.expires_at.saturating_sub(now));
                warn(&format!(
                    "could not refresh the token: {message}; keeping the current one ({} left)",
                    compact(Duration::from_secs(left))
                ));
                return Ok(Obtained {
                    record,
                    decision,
                    refresh_deferred: false,
                });
            }
            Err(Failure {
                message,
                retry_at: Some(retry_at),
                repeated: false,
            })
        }
    }
}

/// Backing off protects AWS from a prompt that fails thousands of times a day, but once the user
/// has done something about it (logged in, fixed the config, exported other keys), the next
/// call should try at once instead of repeating the old error.
fn lift_backoff_if_inputs_changed(record: &mut Record, getenv: GetEnv<'_>) {
    if record.failures > 0
        && record.failure_inputs.as_deref() != Some(&credentials::inputs_fingerprint(getenv))
    {
        record.failures = 0;
    }
}

fn sso_hint(target: &Target) -> String {
    match (&target.profile_section, target.profile_name()) {
        (Some(section), Some(profile)) if section.uses_sso() => {
            format!(" (aws sso login --profile {profile})")
        }
        _ => String::new(),
    }
}

/// Loads credentials and presigns a token, with its real lifetime.
fn mint(target: &Target, getenv: GetEnv<'_>, now: u64) -> Result<Minted, String> {
    let creds = credentials::load(target, getenv)?;
    let credentials_expire_at = creds
        .expiry
        .and_then(|e| e.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    if let Some(at) = credentials_expire_at
        && at <= now + policy::EXPIRY_MARGIN
    {
        return Err(format!(
            "the AWS credentials{} have expired; renew them{}",
            target
                .profile_name()
                .map(|p| format!(" of profile {p}"))
                .unwrap_or_default(),
            sso_hint(target)
        ));
    }
    let signing_time = UNIX_EPOCH + Duration::from_secs(now);
    let token = token::presign(
        &SigningKey {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            session_token: creds.session_token.as_deref(),
        },
        &target.region,
        target.duration,
        signing_time,
    )
    .map_err(|e| e.to_string())?;
    let by_duration = now + target.duration.as_secs();
    let (expires_at, capped_by) = match credentials_expire_at {
        Some(at) if at < by_duration => (at, Cap::Credentials),
        _ => (by_duration, Cap::Duration),
    };
    Ok(Minted {
        token,
        access_key_id: creds.access_key_id,
        issued_at: now,
        expires_at,
        credentials_expire_at,
        capped_by,
    })
}
