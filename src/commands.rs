//! One function per command: resolve the target, obtain a token, render it for the caller.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use clap::CommandFactory;

use crate::cache::Cache;
use crate::cli::{Cli, Command, ExportFormat, HookShell, MintArgs, PromptFormat, TargetArgs};
use crate::clock::{now_secs, parse_rfc3339, rfc3339};
use crate::duration::compact;
use crate::policy::{self, Decision};
use crate::record::{Cap, Record};
use crate::refresh::{self, Failure, Obtained, WhenRefreshDue, warn};
use crate::shell::{self, Exported, Script};
use crate::target::{Request, Target};
use crate::token;

type Result<T> = std::result::Result<T, String>;

fn getenv(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Export { mint, format } => export(&mint, format),
        Command::Token { mint } => print_token(&mint),
        Command::Exec { mint, command } => exec(&mint, command),
        Command::Status { json } => status(json),
        Command::Inspect { json } => inspect(json),
        Command::Clear { target, all } => clear(&target, all),
        Command::Hook { shell } => print(shell::hook_script(shell)),
        Command::Direnv => print(shell::DIRENV_LIB),
        Command::Prompt { format, expired } => prompt(format, &expired),
        Command::Doctor {
            target,
            live,
            model,
        } => crate::doctor::run(&target, live, &model),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "bedrock-env", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| format!("could not render the man page: {e}"))?;
            write_stdout(&out)
        }
        Command::CachePath { target } => {
            let (cache, target) = resolve(&target)?;
            print(&format!("{}\n", cache.record_path(&target).display()))
        }
        Command::HookEnv { shell } => Ok(hook_env(shell)),
        Command::BackgroundRefresh { target } => background_refresh(&target),
    }
}

fn print(text: &str) -> Result<ExitCode> {
    write_stdout(text.as_bytes())
}

/// Writes all of stdout at once, so a failure never leaves half a script for `eval`.
fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is the reader's choice, not our error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(format!("could not write to stdout: {e}")),
    }
}

fn request(args: &TargetArgs) -> Request {
    Request {
        profile: args.profile.clone(),
        region: args.region.clone(),
        duration: args.duration.clone(),
        threshold: args.threshold.clone(),
    }
}

fn resolve(args: &TargetArgs) -> Result<(Cache, Target)> {
    let target = Target::resolve(&request(args), &getenv).map_err(|e| e.to_string())?;
    let cache = Cache::locate(&getenv).map_err(|e| e.to_string())?;
    Ok((cache, target))
}

fn obtain(args: &MintArgs) -> Result<(Target, Obtained)> {
    let (cache, target) = resolve(&args.target)?;
    let obtained = refresh::obtain(
        &cache,
        &target,
        &getenv,
        args.force,
        WhenRefreshDue::MintNow,
    )
    .map_err(|f| f.describe())?;
    Ok((target, obtained))
}

fn export(args: &MintArgs, format: ExportFormat) -> Result<ExitCode> {
    let (target, obtained) = obtain(args)?;
    let minted = obtained
        .record
        .minted
        .as_ref()
        .ok_or("no token was minted")?;
    let expiration = rfc3339(minted.expires_at);
    print(&shell::render_export(
        format,
        &Exported {
            token: &minted.token,
            expiration: &expiration,
            expires_at: minted.expires_at,
            region: &target.region,
            profile: target.profile_name(),
            access_key_id: &minted.access_key_id,
        },
    ))
}

fn print_token(args: &MintArgs) -> Result<ExitCode> {
    let (_, obtained) = obtain(args)?;
    let minted = obtained.record.minted.ok_or("no token was minted")?;
    print(&format!("{}\n", minted.token))
}

fn exec(args: &MintArgs, command: Vec<OsString>) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let (_, obtained) = obtain(args)?;
    let minted = obtained.record.minted.ok_or("no token was minted")?;
    let (program, rest) = command.split_first().ok_or("no command to run")?;
    // exec replaces this process: the command's exit status and signals are its own.
    let error = std::process::Command::new(program)
        .args(rest)
        .env(shell::TOKEN_VAR, &minted.token)
        .env(shell::EXPIRATION_VAR, rfc3339(minted.expires_at))
        .exec();
    Err(format!(
        "could not run {}: {error}",
        program.to_string_lossy()
    ))
}

/// The hook's per-prompt step. Always exits 0 with valid shell code: a prompt must not break.
fn hook_env(shell: HookShell) -> ExitCode {
    let mut script = Script::for_hook(shell);
    // The hooks run `hook-env` with no flags: the target comes from the environment alone,
    // `BEDROCK_ENV_*` included (as clap would read them for the other commands).
    let args = TargetArgs::from_env();
    let outcome = resolve(&args)
        .map_err(Failure::from)
        .and_then(|(cache, target)| {
            let obtained = refresh::obtain(&cache, &target, &getenv, false, WhenRefreshDue::Defer)?;
            if obtained.refresh_deferred {
                spawn_background_refresh(&target);
            }
            Ok((target, obtained))
        });
    match outcome {
        Ok((target, obtained)) => {
            let record = &obtained.record;
            if let Some(minted) = &record.minted {
                let check_at = match obtained.decision {
                    // The background refresh is running: look again shortly to pick it up.
                    Decision::Refresh => now_secs() + 5,
                    decision => policy::next_check(record, decision, target.threshold.as_secs()),
                };
                script
                    .export(shell::TOKEN_VAR, &minted.token)
                    .export(shell::EXPIRATION_VAR, &rfc3339(minted.expires_at))
                    .set_global(shell::EXPIRES_VAR, &minted.expires_at.to_string())
                    .set_global(shell::CHECK_AT_VAR, &check_at.to_string())
                    .unset(&[shell::ERROR_VAR]);
            }
        }
        Err(failure) => {
            // Say it once per shell and per distinct error, not at every prompt. The hooks pass
            // their unexported `__BEDROCK_ENV_ERROR` back as `BEDROCK_ENV_LAST_ERROR`.
            // The fingerprint is of the error itself, not of "next attempt in ...", so a
            // shell that asks during the backoff is not told the same thing again.
            let fingerprint = fingerprint(&failure.message);
            if getenv("BEDROCK_ENV_LAST_ERROR").as_deref() != Some(fingerprint.as_str()) {
                warn(&failure.describe());
            }
            let retry_at = failure.retry_at.unwrap_or_else(|| now_secs() + 30);
            script
                .unset(&[shell::TOKEN_VAR, shell::EXPIRATION_VAR, shell::EXPIRES_VAR])
                .set_global(shell::CHECK_AT_VAR, &retry_at.to_string())
                .set_global(shell::ERROR_VAR, &fingerprint);
        }
    }
    let _ = print(&script.finish());
    ExitCode::SUCCESS
}

fn fingerprint(message: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(message.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts `bedrock-env background-refresh` detached from the shell: its own session, no
/// terminal, no job-control messages. The target travels as flags, never the token.
fn spawn_background_refresh(target: &Target) {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = std::process::Command::new(exe);
    command
        .arg("background-refresh")
        .args(["--region", &target.region])
        .args(["--duration", &format!("{}s", target.duration.as_secs())])
        .args(["--threshold", &format!("{}s", target.threshold.as_secs())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let crate::target::Source::ExplicitProfile(profile) = &target.source {
        command.args(["--profile", profile]);
    }
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let _ = command.spawn();
}

fn background_refresh(args: &TargetArgs) -> Result<ExitCode> {
    let (cache, target) = resolve(args)?;
    // Another process is minting: it will do the job.
    let Ok(Some(lock)) = cache.try_lock(&target) else {
        return Ok(ExitCode::SUCCESS);
    };
    drop(lock);
    refresh::obtain(&cache, &target, &getenv, false, WhenRefreshDue::MintNow)
        .map(|_| ExitCode::SUCCESS)
        .map_err(|f| f.describe())
}

fn prompt(format: PromptFormat, expired: &str) -> Result<ExitCode> {
    let Some(expiration) = getenv(shell::EXPIRATION_VAR).filter(|v| !v.is_empty()) else {
        return Ok(ExitCode::SUCCESS);
    };
    if getenv(shell::TOKEN_VAR).is_none_or(|t| t.is_empty()) {
        return Ok(ExitCode::SUCCESS);
    }
    let Some(expires) = parse_rfc3339(&expiration) else {
        return Ok(ExitCode::SUCCESS);
    };
    // Whole seconds on both sides, as the hooks' `bedrock_env_prompt` computes it.
    let expires = expires
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let left = Duration::from_secs(expires.saturating_sub(now_secs()));
    if left.is_zero() {
        return print(&format!("{expired}\n"));
    }
    print(&match format {
        PromptFormat::Compact => format!("{}\n", compact(left)),
        PromptFormat::Minutes => format!("{}\n", left.as_secs() / 60),
        PromptFormat::Seconds => format!("{}\n", left.as_secs()),
    })
}

fn status(json: bool) -> Result<ExitCode> {
    let cache = Cache::locate(&getenv).map_err(|e| e.to_string())?;
    let files = cache
        .record_files()
        .map_err(|e| format!("{}: {e}", cache.dir().display()))?;
    let now = now_secs();
    let records: Vec<(String, std::result::Result<Record, String>)> = files
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, cache.read_any(path))
        })
        .collect();
    if json {
        let entries: Vec<serde_json::Value> = records
            .iter()
            .map(|(file, record)| match record {
                Ok(record) => status_json(file, record, now),
                Err(e) => serde_json::json!({ "file": file, "error": e }),
            })
            .collect();
        let value = serde_json::json!({ "cache_dir": cache.dir(), "records": entries });
        return print(&format!("{value:#}\n"));
    }
    let mut out = format!("cache: {}\n", cache.dir().display());
    if records.is_empty() {
        out.push_str("no cached tokens\n");
    }
    for (file, record) in &records {
        match record {
            Ok(record) => out.push_str(&status_text(record, now)),
            Err(e) => out.push_str(&format!("{file}: unusable ({e})\n")),
        }
    }
    print(&out)
}

fn status_json(file: &str, record: &Record, now: u64) -> serde_json::Value {
    let minted = record.minted.as_ref();
    serde_json::json!({
        "file": file,
        "profile": record.profile,
        "region": record.region,
        "access_key_id": minted.map(|m| &m.access_key_id),
        "issued": minted.map(|m| rfc3339(m.issued_at)),
        "expires": minted.map(|m| rfc3339(m.expires_at)),
        "seconds_left": minted.map(|m| m.expires_at.saturating_sub(now)),
        "minutes_left": minted.map(|m| m.expires_at.saturating_sub(now) / 60),
        "capped_by": minted.map(|m| m.capped_by),
        "credentials_expire": minted.and_then(|m| m.credentials_expire_at).map(rfc3339),
        "failures": record.failures,
        "last_error": record.last_error,
    })
}

fn status_text(record: &Record, now: u64) -> String {
    let who = record
        .profile
        .as_deref()
        .map_or("env credentials".to_owned(), |p| format!("profile {p}"));
    let mut out = format!("{who}, {}:\n", record.region);
    match &record.minted {
        Some(m) => {
            let left = m.expires_at.saturating_sub(now);
            let state = if left == 0 {
                "expired".to_owned()
            } else {
                format!("{} left", compact(Duration::from_secs(left)))
            };
            let cap = match m.capped_by {
                Cap::Duration => "the requested duration",
                Cap::Credentials => "the credentials' expiry",
            };
            out.push_str(&format!(
                "  key id {}\n  issued {}\n  expires {} ({state}; {} minutes), capped by {cap}\n",
                m.access_key_id,
                rfc3339(m.issued_at),
                rfc3339(m.expires_at),
                left / 60,
            ));
        }
        None => out.push_str("  no token\n"),
    }
    if let Some(error) = &record.last_error {
        out.push_str(&format!(
            "  last error ({} in a row): {error}\n",
            record.failures
        ));
    }
    out
}

fn inspect(json: bool) -> Result<ExitCode> {
    let mut input = String::new();
    let stdin = std::io::stdin();
    if stdin_is_piped() {
        // Bounded: a token is a few KiB; refuse to slurp a huge stream.
        stdin
            .lock()
            .take(1 << 20)
            .read_to_string(&mut input)
            .map_err(|e| format!("could not read stdin: {e}"))?;
    }
    let token = match input.trim() {
        "" => getenv(shell::TOKEN_VAR).filter(|t| !t.trim().is_empty()).ok_or(
            "no token: set AWS_BEARER_TOKEN_BEDROCK or pipe one on stdin (tokens are never taken from arguments)",
        )?,
        piped => piped.to_owned(),
    };
    let info = token::decode(&token).map_err(|e| e.to_string())?;
    let issued = info
        .issued
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let expires = issued + info.expires_in.as_secs();
    let now = now_secs();
    if json {
        let value = serde_json::json!({
            "region": info.region,
            "access_key_id": info.access_key_id,
            "issued": rfc3339(issued),
            "expires": rfc3339(expires),
            "duration_seconds": info.expires_in.as_secs(),
            "seconds_left": expires.saturating_sub(now),
            "expired": expires <= now,
            "session_token": info.has_session_token,
        });
        return print(&format!("{value:#}\n"));
    }
    let state = if expires <= now {
        "expired".to_owned()
    } else {
        format!("{} left", compact(Duration::from_secs(expires - now)))
    };
    print(&format!(
        "region:        {}\naccess key id: {}\nissued:        {}\nexpires:       {} ({state}; at most, the signing credentials may expire sooner)\nsession token: {}\n",
        info.region,
        info.access_key_id,
        rfc3339(issued),
        rfc3339(expires),
        if info.has_session_token {
            "present"
        } else {
            "absent (long-term keys)"
        },
    ))
}

/// A pipe or a file on stdin carries a token; a terminal or /dev/null does not, and reading
/// them would wait for typing or get nothing.
fn stdin_is_piped() -> bool {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata("/dev/stdin") else {
        return false;
    };
    let kind = meta.file_type();
    kind.is_fifo() || kind.is_file()
}

fn clear(args: &TargetArgs, all: bool) -> Result<ExitCode> {
    let cache = Cache::locate(&getenv).map_err(|e| e.to_string())?;
    if all {
        let removed = cache
            .remove_all()
            .map_err(|e| format!("{}: {e}", cache.dir().display()))?;
        eprintln!("bedrock-env: removed {removed} cached token(s)");
        return Ok(ExitCode::SUCCESS);
    }
    let target = Target::resolve(&request(args), &getenv).map_err(|e| e.to_string())?;
    let removed = cache.remove(&target).map_err(|e| e.to_string())?;
    eprintln!(
        "bedrock-env: {}",
        if removed {
            "removed the cached token"
        } else {
            "no cached token for this target"
        }
    );
    Ok(ExitCode::SUCCESS)
}
