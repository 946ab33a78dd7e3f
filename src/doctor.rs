//! `bedrock-env doctor`: checks the set-up end to end and names the fix for each problem.
//!
//! One line per check (`ok`, `warn` or `FAIL`, then the fix); the exit status is non-zero when
//! any check fails. Nothing secret is printed: key ids and regions, never a token or a secret.
//! `--live` makes one real Bedrock Converse call with the token, over the HTTP connector
//! aws-config already compiles in (aws-smithy-http-client: hyper + rustls with aws-lc-rs), and
//! compares the clock with the server's `Date` header.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::cache::{self, Cache};
use crate::cli::TargetArgs;
use crate::clock::{self, unix};
use crate::converse;
use crate::credentials;
use crate::duration::compact;
use crate::refresh::{self, WhenRefreshDue};
use crate::shell::{EXPIRATION_VAR, TOKEN_VAR};
use crate::target::{Request, Source, Target};
use crate::token;

/// Set by the prompt hooks to the shell's name; its absence means no hook runs in this shell.
pub const HOOK_VAR: &str = "BEDROCK_ENV_HOOK";
/// The standard per-service endpoint override (and the global one) for Bedrock Runtime.
const ENDPOINT_VARS: [&str; 2] = ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"];
/// SigV4 rejects requests more than 5 minutes off; a token signed by a skewed clock fares alike.
const MAX_SKEW: Duration = Duration::from_secs(300);
/// Bedrock API keys were introduced in July 2025: a clock before that is certainly wrong.
const EARLIEST_SANE_TIME: u64 = 1_751_328_000; // 2025-07-01T00:00:00Z

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    pub name: &'static str,
    pub message: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, message: impl Into<String>) -> Check {
        Check {
            level: Level::Ok,
            name,
            message: message.into(),
            fix: None,
        }
    }

    fn warn(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Warn,
            name,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    fn fail(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Fail,
            name,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// `ok   region: ...` / `FAIL region: ... -- fix: ...`, always a single line.
    pub fn line(&self) -> String {
        let level = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let mut line = format!("{level} {}: {}", self.name, one_line(&self.message));
        if let Some(fix) = &self.fix {
            let _ = write!(line, " -- fix: {}", one_line(fix));
        }
        line
    }
}

pub fn run(args: &TargetArgs, live: bool, model: &str) -> Result<ExitCode, String> {
    let getenv = |name: &str| std::env::var(name).ok();
    let checks = checks(args, live, model, &getenv, SystemTime::now());
    let mut out = String::new();
    for check in &checks {
        out.push_str(&check.line());
        out.push('\n');
    }
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush());
    }
    match checks.iter().filter(|c| c.level == Level::Fail).count() {
        0 => Ok(ExitCode::SUCCESS),
        1 => Err("1 check failed".to_owned()),
        n => Err(format!("{n} checks failed")),
    }
}

/// Every check, in order. Later checks use what earlier ones found (the target, the token).
pub fn checks(
    args: &TargetArgs,
    live: bool,
    model: &str,
    getenv: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Vec<Check> {
    let mut checks = vec![hook(getenv)];
    let target = match resolve(args, getenv) {
        Ok((target, check)) => {
            checks.push(check);
            Some(target)
        }
        Err(check) => {
            checks.push(check);
            None
        }
    };
    if let Some(target) = &target {
        checks.push(signing_credentials(target, getenv, now));
    }
    checks.push(cache(getenv));
    checks.push(clock(now));
    checks.push(shell_token(target.as_ref(), getenv, now));
    if live {
        checks.extend(live_call(target.as_ref(), model, getenv, now));
    }
    checks
}

fn nonempty(getenv: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    getenv(name).filter(|v| !v.trim().is_empty())
}

fn hook(getenv: &dyn Fn(&str) -> Option<String>) -> Check {
    if let Some(shell) = nonempty(getenv, HOOK_VAR) {
        return Check::ok(
            "hook",
            format!("the {shell} prompt hook is active in this shell"),
        );
    }
    let shell = nonempty(getenv, "SHELL").unwrap_or_default();
    let fix = match shell.rsplit('/').next().unwrap_or_default() {
        "zsh" => r#"add `eval "$(bedrock-env hook zsh)"` to ~/.zshrc and open a new shell"#,
        "bash" => r#"add `eval "$(bedrock-env hook bash)"` to ~/.bashrc and open a new shell"#,
        "fish" => {
            "add `bedrock-env hook fish | source` to ~/.config/fish/config.fish and open a new shell"
        }
        _ => {
            r#"add `eval "$(bedrock-env hook zsh)"` (or bash) to your shell's rc file, or `bedrock-env hook fish | source` for fish"#
        }
    };
    Check::warn(
        "hook",
        "no prompt hook in this shell (BEDROCK_ENV_HOOK is not set): tokens are not renewed at each prompt",
        fix,
    )
}

fn resolve(
    args: &TargetArgs,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<(Target, Check), Check> {
    let request = Request {
        profile: args.profile.clone(),
        region: args.region.clone(),
        duration: args.duration.clone(),
        threshold: args.threshold.clone(),
    };
    let target = Target::resolve(&request, getenv).map_err(|e| {
        let message = e.to_string();
        let fix = if message.contains("no AWS region") {
            "pass --region, or `export AWS_REGION=us-east-1` (a region where Bedrock runs), or add `region = us-east-1` to the profile in ~/.aws/config"
        } else if message.contains("region") {
            "use a region name such as us-east-1 or eu-west-1"
        } else {
            "use a duration such as 90s, 15m, 1h30m or 12h (at most 12h)"
        };
        Check::fail("region", message, fix)
    })?;
    let from = if args.region.as_ref().is_some_and(|r| !r.is_empty()) {
        if getenv("BEDROCK_ENV_REGION") == args.region {
            "BEDROCK_ENV_REGION".to_owned()
        } else {
            "--region".to_owned()
        }
    } else if nonempty(getenv, "AWS_REGION").is_some() {
        "AWS_REGION".to_owned()
    } else if nonempty(getenv, "AWS_DEFAULT_REGION").is_some() {
        "AWS_DEFAULT_REGION".to_owned()
    } else {
        format!(
            "profile {} in the AWS config file",
            target.profile_name().unwrap_or("default")
        )
    };
    let check = Check::ok(
        "region",
        format!(
            "{} (from {from}); tokens last {}, renewed {} before expiry",
            target.region,
            compact(target.duration),
            compact(target.threshold)
        ),
    );
    Ok((target, check))
}

fn source_label(target: &Target) -> String {
    match &target.source {
        Source::Environment { .. } => "environment (AWS_ACCESS_KEY_ID)".to_owned(),
        Source::ExplicitProfile(p) => format!("profile {p}"),
        Source::DefaultChain { profile } => format!("default chain (profile {profile})"),
    }
}

fn sso_profile(target: &Target) -> Option<&str> {
    target
        .profile_section
        .as_ref()
        .filter(|s| s.uses_sso())
        .and(target.profile_name())
}

fn signing_credentials(
    target: &Target,
    getenv: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Check {
    let source = source_label(target);
    let creds = match credentials::load(target, getenv) {
        Ok(creds) => creds,
        Err(message) => {
            let fix = match (sso_profile(target), &target.source) {
                (Some(profile), _) => format!("run `aws sso login --profile {profile}`"),
                (None, Source::Environment { .. }) => {
                    "export both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or unset them to use a profile".to_owned()
                }
                (None, Source::ExplicitProfile(p)) => format!(
                    "check `[profile {p}]` in ~/.aws/config (`aws configure list --profile {p}`)"
                ),
                (None, Source::DefaultChain { .. }) => {
                    "set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned()
                }
            };
            // The fix names the login; do not say it twice on one line.
            let message = match sso_profile(target) {
                Some(p) => message
                    .trim_end_matches(&format!(" (run `aws sso login --profile {p}`)"))
                    .to_owned(),
                None => message,
            };
            return Check::fail("credentials", format!("{source}: {message}"), fix);
        }
    };
    let kind = if creds.session_token.is_some() {
        "temporary"
    } else {
        "long-term"
    };
    let mut message = format!("{source}, key id {}, {kind}", creds.access_key_id);
    let Some(expiry) = creds.expiry else {
        return Check::ok("credentials", message);
    };
    let renew = match sso_profile(target) {
        Some(profile) => format!("run `aws sso login --profile {profile}`"),
        None => "renew the credentials (log in again, or re-export them)".to_owned(),
    };
    let Ok(left) = expiry.duration_since(now) else {
        let _ = write!(message, ", expired at {}", rfc3339(expiry));
        return Check::fail("credentials", message, renew);
    };
    let _ = write!(
        message,
        ", expire {} ({} left)",
        rfc3339(expiry),
        compact(left)
    );
    if left < target.threshold {
        return Check::warn(
            "credentials",
            format!("{message}: too soon to mint a useful token"),
            renew,
        );
    }
    if left < target.duration {
        let _ = write!(
            message,
            "; tokens are capped at that time, not {} from minting",
            compact(target.duration)
        );
    }
    Check::ok("credentials", message)
}

fn cache(getenv: &dyn Fn(&str) -> Option<String>) -> Check {
    let cache = match Cache::locate(getenv) {
        Ok(cache) => cache,
        Err(e) => {
            return Check::fail(
                "cache",
                e.to_string(),
                "set HOME, or BEDROCK_ENV_CACHE_DIR to a private directory",
            );
        }
    };
    let dir = cache.dir();
    let shown = dir.display();
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::ok(
                "cache",
                format!("{shown} does not exist yet (made 0700 at the first mint)"),
            );
        }
        Err(e) => {
            return Check::fail(
                "cache",
                format!("{shown}: {e}"),
                format!("make {shown} a directory of yours with mode 0700"),
            );
        }
    };
    if !meta.is_dir() {
        return Check::fail(
            "cache",
            format!("{shown} is not a directory (a link or a file)"),
            format!("remove {shown}; bedrock-env recreates it"),
        );
    }
    if meta.uid() != cache::current_uid() {
        return Check::fail(
            "cache",
            format!("{shown} belongs to uid {}, not to you", meta.uid()),
            "point BEDROCK_ENV_CACHE_DIR (or XDG_CACHE_HOME) at a directory of yours",
        );
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Check::fail(
            "cache",
            format!(
                "{shown} is writable by group or others (mode {mode:04o}): cached tokens there are ignored"
            ),
            format!("chmod 700 {shown}"),
        );
    }
    let mut open_files = Vec::new();
    let mut records = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return Check::fail(
                "cache",
                format!("{shown}: {e}"),
                format!("chmod 700 {shown}"),
            );
        }
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if name.ends_with(".json") && !name.starts_with('.') {
            records += 1;
        }
        let file_mode = meta.mode() & 0o7777;
        if meta.file_type().is_symlink() {
            open_files.push(format!("{name} (a symbolic link)"));
        } else if meta.uid() != cache::current_uid() {
            open_files.push(format!("{name} (owned by uid {})", meta.uid()));
        } else if meta.is_file() && file_mode & 0o077 != 0 {
            open_files.push(format!("{name} ({file_mode:04o})"));
        }
    }
    if !open_files.is_empty() {
        return Check::fail(
            "cache",
            format!(
                "not private in {shown}: {}",
                open_files
                    .into_iter()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("chmod 600 {shown}/*, or `bedrock-env clear --all`"),
        );
    }
    if mode & 0o077 != 0 {
        return Check::warn(
            "cache",
            format!("{shown} is readable by others (mode {mode:04o})"),
            format!("chmod 700 {shown}"),
        );
    }
    Check::ok(
        "cache",
        format!("{shown} is private (0700, yours), {records} record(s), all 0600"),
    )
}

fn clock(now: SystemTime) -> Check {
    let secs = unix(now);
    let fix = "turn on time sync (`timedatectl set-ntp true`, or System Settings > Date & Time)";
    if secs < EARLIEST_SANE_TIME {
        return Check::fail(
            "clock",
            format!(
                "the system clock says {}, before this program existed",
                rfc3339(now)
            ),
            fix,
        );
    }
    // The binary cannot have been built (or installed) in the future.
    let built = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok();
    if let Some(built) = built
        && let Ok(behind) = built.duration_since(now)
        && behind > MAX_SKEW
    {
        return Check::warn(
            "clock",
            format!(
                "the system clock ({}) is {} behind this binary's modification time",
                rfc3339(now),
                compact(behind)
            ),
            fix,
        );
    }
    Check::ok(
        "clock",
        format!("{} (compare with the server's with --live)", rfc3339(now)),
    )
}

fn shell_token(
    target: Option<&Target>,
    getenv: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Check {
    let Some(value) = nonempty(getenv, TOKEN_VAR) else {
        return Check::ok(
            "token",
            format!("{TOKEN_VAR} is not set in this shell (the hook sets it at the next prompt)"),
        );
    };
    let info = match token::decode(&value) {
        Ok(info) => info,
        Err(e) => {
            return Check::fail(
                "token",
                format!("{TOKEN_VAR}: {e}"),
                format!(r#"unset {TOKEN_VAR} {EXPIRATION_VAR}; eval "$(bedrock-env export)""#),
            );
        }
    };
    let region_flag = target.map_or(String::new(), |t| format!(" --region {}", t.region));
    let remint = format!(
        r#"eval "$(bedrock-env export{region_flag})", or press Enter if the hook is installed"#
    );
    if let Ok(ahead) = info.issued.duration_since(now)
        && ahead > MAX_SKEW
    {
        return Check::fail(
            "token",
            format!(
                "{TOKEN_VAR} was issued {} in the future ({}): one of the clocks is wrong",
                compact(ahead),
                rfc3339(info.issued)
            ),
            "turn on time sync, then mint again",
        );
    }
    let expires = info.expires();
    let Ok(left) = expires.duration_since(now) else {
        return Check::fail(
            "token",
            format!(
                "{TOKEN_VAR} (key id {}, {}) expired at {}",
                info.access_key_id,
                info.region,
                rfc3339(expires)
            ),
            remint,
        );
    };
    if left.is_zero() {
        return Check::fail(
            "token",
            format!("{TOKEN_VAR} expired at {}", rfc3339(expires)),
            remint,
        );
    }
    if let Some(target) = target
        && info.region != target.region
    {
        return Check::fail(
            "token",
            format!(
                "{TOKEN_VAR} is for {} but the region here is {}: Bedrock in {} answers \"Authentication failed: Please make sure your API Key is valid\"",
                info.region, target.region, target.region
            ),
            format!(
                r#"eval "$(bedrock-env export --region {})" (or set AWS_REGION={} to keep this token)"#,
                target.region, info.region
            ),
        );
    }
    Check::ok(
        "token",
        format!(
            "{TOKEN_VAR}: region {}, key id {}, {} left (expires {})",
            info.region,
            info.access_key_id,
            compact(left),
            rfc3339(expires)
        ),
    )
}

fn live_call(
    target: Option<&Target>,
    model: &str,
    getenv: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Vec<Check> {
    // The token this shell's tools would send; else the one bedrock-env would give them.
    let (bearer, whence) = match nonempty(getenv, TOKEN_VAR) {
        Some(value) => (value.trim().to_owned(), format!("${TOKEN_VAR}")),
        None => {
            let Some(target) = target else {
                return vec![Check::fail(
                    "live",
                    "no token to try: no region",
                    "fix the region check above",
                )];
            };
            let obtained = Cache::locate(getenv)
                .map_err(|e| e.to_string())
                .and_then(|cache| {
                    refresh::obtain(&cache, target, getenv, false, WhenRefreshDue::MintNow)
                        .map_err(|f| f.describe())
                });
            match obtained.map(|o| o.record.minted) {
                Ok(Some(minted)) => (minted.token, "the cache".to_owned()),
                Ok(None) => {
                    return vec![Check::fail(
                        "live",
                        "no token was minted",
                        "fix the checks above",
                    )];
                }
                Err(message) => {
                    return vec![Check::fail(
                        "live",
                        format!("could not get a token: {message}"),
                        "fix the credentials check above",
                    )];
                }
            }
        }
    };
    let region = match token::decode(&bearer) {
        Ok(info) => info.region,
        Err(e) => {
            return vec![Check::fail(
                "live",
                format!("the token from {whence}: {e}"),
                format!("unset {TOKEN_VAR}"),
            )];
        }
    };
    let endpoint = ENDPOINT_VARS
        .iter()
        .find_map(|name| nonempty(getenv, name))
        .map_or_else(
            || format!("https://bedrock-runtime.{region}.amazonaws.com"),
            |url| url.trim().trim_end_matches('/').to_owned(),
        );
    let url = format!(
        "{endpoint}/model/{}/converse",
        converse::percent_encode(model)
    );
    let started = std::time::Instant::now();
    let reply = match converse::say_hi(&url, &bearer) {
        Ok(reply) => reply,
        Err(e) => {
            return vec![Check::fail(
                "live",
                format!("could not reach {endpoint}: {e}"),
                "check the network or proxy, or AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
            )];
        }
    };
    let elapsed = started.elapsed();
    let mut checks = vec![converse_check(&reply, model, &region, &whence, elapsed)];
    if let Some(check) = reply
        .date
        .as_deref()
        .and_then(|d| server_clock(d, now + elapsed / 2))
    {
        checks.push(check);
    }
    checks
}

fn converse_check(
    reply: &converse::Reply,
    model: &str,
    region: &str,
    whence: &str,
    elapsed: Duration,
) -> Check {
    if (200..300).contains(&reply.status) {
        return match converse::reply_text(&reply.body) {
            Some(text) => Check::ok(
                "live",
                format!(
                    "{model} in {region} replied {:?} ({} ms, token from {whence})",
                    truncate(&one_line(&text), 120),
                    elapsed.as_millis()
                ),
            ),
            None => Check::warn(
                "live",
                format!(
                    "HTTP {} from {model} in {region}, but the reply has no text",
                    reply.status
                ),
                "check AWS_ENDPOINT_URL_BEDROCK_RUNTIME points at Bedrock Runtime",
            ),
        };
    }
    let message = converse::error_message(&reply.body);
    let fix = if message.contains("Authentication failed") || reply.status == 401 {
        format!(
            r#"the token is not accepted in {region}: mint one for the region you call (eval "$(bedrock-env export --region {region})"), check the clock, and check the signing identity may call bedrock:CallWithBearerToken"#
        )
    } else if reply.status == 403 {
        format!(
            "allow bedrock:InvokeModel for {model} to the signing identity, and enable access to the model in {region}"
        )
    } else if reply.status == 404 || message.to_lowercase().contains("model") {
        format!("pick a model offered in {region} with --model")
    } else if reply.status == 429 {
        "throttled: try again in a minute".to_owned()
    } else {
        "see the message; try again later".to_owned()
    };
    Check::fail(
        "live",
        format!(
            "HTTP {} from {model} in {region} (token from {whence}): {}",
            reply.status,
            truncate(&message, 300)
        ),
        fix,
    )
}

fn server_clock(date: &str, local: SystemTime) -> Option<Check> {
    let server = converse::parse_http_date(date)?;
    let (skew, direction) = match local.duration_since(server) {
        Ok(ahead) => (ahead, "ahead of"),
        Err(e) => (e.duration(), "behind"),
    };
    let skew = Duration::from_secs(skew.as_secs());
    Some(if skew > MAX_SKEW {
        Check::fail(
            "clock",
            format!(
                "this machine's clock is {} {direction} the server's ({date})",
                compact(skew)
            ),
            "turn on time sync (`timedatectl set-ntp true`, or System Settings > Date & Time)",
        )
    } else {
        Check::ok("clock", format!("within {} of the server's", compact(skew)))
    })
}

fn rfc3339(at: SystemTime) -> String {
    clock::rfc3339(unix(at))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_single() {
        let check = Check::fail("x", "a\nb", "c\n d");
        assert_eq!(check.line(), "FAIL x: a b -- fix: c d");
        assert_eq!(truncate("abcdef", 3), "abc...");
    }

    #[test]
    fn server_clock_skew() {
        let server = converse::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        let fine = server_clock(
            "Sun, 06 Nov 1994 08:49:37 GMT",
            server + Duration::from_secs(30),
        )
        .expect("check");
        assert_eq!(fine.level, Level::Ok);
        let off = server_clock(
            "Sun, 06 Nov 1994 08:49:37 GMT",
            server - Duration::from_secs(3600),
        )
        .expect("check");
        assert_eq!(off.level, Level::Fail);
        assert!(off.message.contains("1h behind"), "{}", off.message);
    }
}
