//! Reliability and security under hostile conditions, through the real binary: caches that
//! must not be trusted, damaged records, unusable directories, crashes at any moment, many
//! processes at once, failing credentials, clocks that jump, and secrets that must stay out of
//! every process's argv and out of `status`.
//!
//! Credentials come from the environment (no network) or from a `credential_process` script
//! that counts its calls, so "one mint" and "no AWS call" are measured, not assumed.

mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bedrock_env::target::Request;
use support::{ACCESS_KEY_ID, BIN, Sandbox, inspect_json, require_tool, run};

/// A hang guard, not a performance assertion: a process that is blocked forever fails the test
/// instead of hanging the suite.
const HANG_GUARD: Duration = Duration::from_secs(90);

/// The credential_process script. Flag files in HOME change what it does:
/// `fail` makes it fail, `slow` makes it take a while, `hang` makes it block (recording its pid
/// in `hang.pid`), `linger` makes it leave a background `sleep` behind (pid in `linger.pid`)
/// that inherits every descriptor not marked close-on-exec.
const CREDENTIAL_SCRIPT: &str = r#"#!/bin/sh
H="$(dirname "$0")"
echo call >> "$H/count"
if [ -f "$H/hang" ]; then echo $$ > "$H/hang.pid"; exec sleep 120; fi
if [ -f "$H/slow" ]; then sleep "$(cat "$H/slow")"; fi
if [ -f "$H/linger" ]; then
  sleep 120 >/dev/null 2>&1 </dev/null &
  echo $! > "$H/linger.pid"
fi
if [ -f "$H/fail" ]; then echo "credentials revoked" >&2; exit 1; fi
echo '{"Version":1,"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}'
"#;

/// A sandbox whose profile `p` gets credentials from the counting script.
fn profile_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    let script = sb.home().join("creds.sh");
    fs::write(&script, CREDENTIAL_SCRIPT).expect("write script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod script");
    sb.aws_config(&format!(
        "[profile p]\nregion = us-east-1\ncredential_process = {}\n",
        script.display()
    ));
    sb
}

fn calls(sb: &Sandbox) -> usize {
    fs::read_to_string(sb.home().join("count"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn flag(sb: &Sandbox, name: &str, value: &str) {
    fs::write(sb.home().join(name), value).expect("write flag");
}

fn unflag(sb: &Sandbox, name: &str) {
    let _ = fs::remove_file(sb.home().join(name));
}

fn token_cmd(sb: &Sandbox, extra: &[&str]) -> Command {
    let mut cmd = sb.cmd();
    cmd.args(["token", "--profile", "p"]).args(extra);
    cmd
}

fn record_path(sb: &Sandbox, extra: &[&str]) -> PathBuf {
    let (out, stdout, stderr) = run(sb.cmd().args(["cache-path", "--profile", "p"]).args(extra));
    assert!(out.status.success(), "cache-path: {stderr}");
    PathBuf::from(stdout.trim())
}

fn stderr_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// A successful run printed one complete, valid token for us-east-1, and nothing else.
fn assert_token(sb: &Sandbox, out: &Output, stdout: &str) -> String {
    assert!(out.status.success(), "exit {:?}", out.status);
    let token = stdout.trim_end_matches('\n');
    assert!(!token.contains('\n'), "one line expected: {stdout:?}");
    let info = inspect_json(sb, token);
    assert_eq!(info["region"], "us-east-1", "{info}");
    assert_eq!(info["expired"], false, "{info}");
    token.to_owned()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).expect("stat").mode() & 0o777
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn wait_with_guard(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} was still blocked after {HANG_GUARD:?}");
        }
        sleep(Duration::from_millis(20));
    }
}

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text.trim().to_owned();
        }
        assert!(
            start.elapsed() < HANG_GUARD,
            "{} never appeared",
            path.display()
        );
        sleep(Duration::from_millis(20));
    }
}

/// Kills a process we started (by its pid, read from a file our script wrote).
fn kill_pid(pid: &str) {
    if let Ok(pid) = pid.parse::<i32>() {
        // SAFETY: kill has no memory effects; the pid is one our own script recorded.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Descriptors a process holds that point at a `.lock` file.
fn lock_fds(pid: &str) -> Vec<PathBuf> {
    let dir = format!("/proc/{pid}/fd");
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    entries
        .filter_map(Result::ok)
        .filter_map(|e| fs::read_link(e.path()).ok())
        .filter(|target| target.to_string_lossy().ends_with(".lock"))
        .collect()
}

/// Plants a record through the library's own cache code, with a token signed at `issued`.
fn plant_record(
    sb: &Sandbox,
    env: &[(&str, &str)],
    profile: Option<&str>,
    issued: u64,
    duration: u64,
) -> String {
    let home = sb.home().to_string_lossy().into_owned();
    let getenv = |name: &str| -> Option<String> {
        if name == "HOME" {
            return Some(home.clone());
        }
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let request = Request {
        profile: profile.map(str::to_owned),
        ..Request::default()
    };
    support::plant_record(&getenv, &request, issued, duration)
}

// ---------------------------------------------------------------------------------------------
// Trust

#[test]
fn private_modes_whatever_the_umask() {
    let sb = Sandbox::new();
    let mut cmd = sb.env_creds_cmd();
    // The wrapper sets a umask of 000 for the child, then execs the real binary.
    let mut wrapped = Command::new(require_tool("sh"));
    wrapped
        .args(["-c", "umask 000 && exec \"$@\"", "sh", BIN, "token"])
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(sb.home());
    let (out, stdout, stderr) = run(&mut wrapped);
    assert!(stderr.is_empty(), "{stderr}");
    assert_token(&sb, &out, &stdout);
    let dir = sb.cache_dir();
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 2, "a record and its lock: {files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // Still quiet and private the second time (reads the record it wrote).
    let (_, _, stderr) = run(cmd.arg("token"));
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_directory_others_can_write_is_not_read_then_made_private() {
    let sb = profile_sandbox();
    let (out, _, _) = run(&mut token_cmd(&sb, &[]));
    assert!(out.status.success());
    assert_eq!(calls(&sb), 1);
    fs::set_permissions(sb.cache_dir(), fs::Permissions::from_mode(0o777)).expect("chmod");

    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
    assert_token(&sb, &out, &stdout);
    let lines = stderr_lines(&stderr);
    assert_eq!(lines.len(), 1, "one warning: {stderr}");
    assert!(lines[0].contains("writable by group or others"), "{stderr}");
    assert_eq!(
        calls(&sb),
        2,
        "the record in an open directory must not be used"
    );
    assert_eq!(mode(&sb.cache_dir()), 0o700, "tightened before writing");

    // Now private again: the new record is used without a word.
    let (_, _, stderr) = run(&mut token_cmd(&sb, &[]));
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(calls(&sb), 2);
}

#[test]
fn a_record_writable_by_group_or_others_is_not_read() {
    for open_mode in [0o620, 0o602, 0o666] {
        let sb = profile_sandbox();
        let (out, _, _) = run(&mut token_cmd(&sb, &[]));
        assert!(out.status.success());
        let path = record_path(&sb, &[]);
        fs::set_permissions(&path, fs::Permissions::from_mode(open_mode)).expect("chmod");

        let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
        assert_token(&sb, &out, &stdout);
        assert_eq!(stderr_lines(&stderr).len(), 1, "{open_mode:o}: {stderr}");
        assert!(stderr.contains("not trusting"), "{stderr}");
        assert_eq!(calls(&sb), 2, "{open_mode:o}: re-minted");
        assert_eq!(
            mode(&path),
            0o600,
            "{open_mode:o}: replaced by a private record"
        );
    }
}

#[test]
fn a_symlinked_record_is_never_read_nor_written_through() {
    let sb = profile_sandbox();
    let (out, _, _) = run(&mut token_cmd(&sb, &[]));
    assert!(out.status.success());
    let path = record_path(&sb, &[]);
    // The link points at a perfectly valid record: it must still not be trusted...
    let elsewhere = sb.home().join("elsewhere.json");
    fs::rename(&path, &elsewhere).expect("move record");
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o600)).expect("chmod");
    let original = fs::read(&elsewhere).expect("read");
    symlink(&elsewhere, &path).expect("symlink");

    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
    assert_token(&sb, &out, &stdout);
    assert_eq!(stderr_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(calls(&sb), 2, "re-minted instead of following the link");
    // ...nor written through: the target is untouched and the link is replaced by a file.
    assert_eq!(fs::read(&elsewhere).expect("read"), original);
    assert!(fs::symlink_metadata(&path).expect("stat").is_file());

    // A link to something precious is not overwritten either.
    let precious = sb.home().join("precious");
    fs::write(&precious, "do not touch\n").expect("write");
    fs::remove_file(&path).expect("rm");
    symlink(&precious, &path).expect("symlink");
    let (out, stdout, _) = run(&mut token_cmd(&sb, &["--force"]));
    assert_token(&sb, &out, &stdout);
    assert_eq!(
        fs::read_to_string(&precious).expect("read"),
        "do not touch\n"
    );
}

#[test]
fn a_symlinked_lock_file_is_not_followed() {
    let sb = profile_sandbox();
    let (out, _, _) = run(&mut token_cmd(&sb, &[]));
    assert!(out.status.success());
    let lock = PathBuf::from(format!("{}.lock", record_path(&sb, &[]).display()));
    let precious = sb.home().join("precious");
    fs::write(&precious, "keep\n").expect("write");
    fs::set_permissions(&precious, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::remove_file(&lock).expect("rm lock");
    symlink(&precious, &lock).expect("symlink");
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &["--force"]));
    assert_token(&sb, &out, &stdout);
    assert_eq!(stderr_lines(&stderr).len(), 1, "{stderr}");
    assert_eq!(fs::read_to_string(&precious).expect("read"), "keep\n");
    assert_eq!(mode(&precious), 0o644, "the link's target was not chmodded");
}

// ---------------------------------------------------------------------------------------------
// Corruption

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn edit_json(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).expect("record json");
    edit(&mut value);
    serde_json::to_vec_pretty(&value).expect("json")
}

/// Flips one base64 character of the token inside the signature's part of the URL.
fn tamper_token(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = bytes.len() - 20;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[test]
fn every_kind_of_damaged_record_is_reminted_with_exit_0() {
    let sb = profile_sandbox();
    let (out, _, _) = run(&mut token_cmd(&sb, &[]));
    assert!(out.status.success());
    let path = record_path(&sb, &[]);
    let good = fs::read(&path).expect("record");
    // A record for another target, written by the real binary.
    let (out, _, _) = run(&mut token_cmd(&sb, &["--region", "us-west-2"]));
    assert!(out.status.success());
    let other_target = fs::read(record_path(&sb, &["--region", "us-west-2"])).expect("record");

    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("random bytes", noise(7, 600)),
        ("random bytes, long", noise(11, 5000)),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one byte short", good[..good.len() - 3].to_vec()),
        ("nul bytes", vec![0; 300]),
        ("too large", vec![b' '; 100 * 1024]),
        ("not an object", b"[1, 2, 3]\n".to_vec()),
        (
            "wrong type: version",
            edit_json(&good, |v| v["version"] = "1".into()),
        ),
        (
            "wrong type: expires_at",
            edit_json(&good, |v| v["minted"]["expires_at"] = "tomorrow".into()),
        ),
        (
            "wrong type: minted",
            edit_json(&good, |v| v["minted"] = 42.into()),
        ),
        (
            "negative time",
            edit_json(&good, |v| v["minted"]["issued_at"] = (-5).into()),
        ),
        (
            "future version",
            edit_json(&good, |v| v["version"] = 99.into()),
        ),
        ("another target", other_target.clone()),
        (
            "another region claimed",
            edit_json(&good, |v| v["region"] = "us-west-2".into()),
        ),
        (
            "token for another region",
            edit_json(&good, |v| {
                let other: serde_json::Value = serde_json::from_slice(&other_target).expect("json");
                v["minted"]["token"] = other["minted"]["token"].clone();
                v["token_sha256"] = other["token_sha256"].clone();
            }),
        ),
        (
            "tampered token",
            edit_json(&good, |v| {
                let token = v["minted"]["token"].as_str().expect("token").to_owned();
                v["minted"]["token"] = tamper_token(&token).into();
            }),
        ),
        (
            "claims a longer life",
            edit_json(&good, |v| {
                let at = v["minted"]["expires_at"].as_u64().expect("expires");
                v["minted"]["expires_at"] = (at + 3600).into();
            }),
        ),
        (
            "not a token",
            edit_json(&good, |v| v["minted"]["token"] = "hunter2".into()),
        ),
    ];
    for (name, bytes) in damages {
        fs::write(&path, &bytes).expect("write damage");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let before = calls(&sb);
        let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
        assert!(out.status.success(), "{name}: {stderr}");
        assert_token(&sb, &out, &stdout);
        let lines = stderr_lines(&stderr);
        assert_eq!(lines.len(), 1, "{name}: exactly one warning: {stderr}");
        assert!(lines[0].contains("damaged"), "{name}: {stderr}");
        assert_eq!(calls(&sb), before + 1, "{name}: re-minted");
        // The record was replaced by a good one: the next run uses it silently.
        let (out, again, stderr) = run(&mut token_cmd(&sb, &[]));
        assert!(
            out.status.success() && stderr.is_empty(),
            "{name}: {stderr}"
        );
        assert_eq!(again, stdout, "{name}");
        assert_eq!(
            calls(&sb),
            before + 1,
            "{name}: the repaired record is used"
        );
    }
}

#[test]
fn a_directory_or_fifo_in_place_of_the_record_does_not_hang_or_break() {
    let sb = profile_sandbox();
    let path = record_path(&sb, &[]);
    fs::create_dir_all(sb.cache_dir()).expect("mkdir");
    fs::set_permissions(sb.cache_dir(), fs::Permissions::from_mode(0o700)).expect("chmod");

    let status = Command::new(require_tool("mkfifo"))
        .arg(&path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let child = token_cmd(&sb, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_with_guard(child, "token with a fifo as its record");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_token(&sb, &out, &stdout);
    assert_eq!(stderr_lines(&stderr).len(), 1, "{stderr}");
    assert!(
        fs::symlink_metadata(&path).expect("stat").is_file(),
        "fifo replaced"
    );

    fs::remove_file(&path).expect("rm");
    fs::create_dir(&path).expect("mkdir in place of the record");
    for _ in 0..2 {
        let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
        assert_token(&sb, &out, &stdout);
        assert_eq!(stderr_lines(&stderr).len(), 1, "one warning: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Unusable caches: a token anyway, and exactly one warning

fn assert_one_warning_and_a_token(sb: &Sandbox, cmd: &mut Command, what: &str) {
    let (out, stdout, stderr) = run(cmd);
    assert!(out.status.success(), "{what}: {stderr}");
    assert_token(sb, &out, &stdout);
    let lines = stderr_lines(&stderr);
    assert_eq!(lines.len(), 1, "{what}: exactly one warning: {stderr}");
}

#[test]
fn the_cache_path_is_a_file() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.home().join(".cache")).expect("mkdir");
    fs::write(sb.cache_dir(), "not a directory\n").expect("write");
    for _ in 0..2 {
        assert_one_warning_and_a_token(&sb, sb.env_creds_cmd().arg("token"), "file as dir");
    }
    assert_eq!(
        fs::read_to_string(sb.cache_dir()).expect("read"),
        "not a directory\n"
    );
}

#[test]
fn the_cache_path_is_under_a_file() {
    let sb = Sandbox::new();
    let file = sb.home().join("file");
    fs::write(&file, "x").expect("write");
    let mut cmd = sb.env_creds_cmd();
    cmd.env("BEDROCK_ENV_CACHE_DIR", file.join("cache"))
        .arg("token");
    assert_one_warning_and_a_token(&sb, &mut cmd, "dir under a file");
}

#[test]
fn a_damaged_record_in_a_directory_that_cannot_be_written() {
    // Two problems in one run: a damaged record, then a lock that cannot be taken (a
    // directory stands where the lock file goes). Still one warning.
    let sb = Sandbox::new();
    let (out, _, _) = run(sb.env_creds_cmd().arg("token"));
    assert!(out.status.success());
    let record = fs::read_dir(sb.cache_dir())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("record");
    fs::write(&record, "{ damaged").expect("damage");
    let lock = PathBuf::from(format!("{}.lock", record.display()));
    fs::remove_file(&lock).expect("rm lock");
    fs::create_dir(&lock).expect("a directory where the lock goes");
    assert_one_warning_and_a_token(&sb, sb.env_creds_cmd().arg("token"), "damaged + no lock");
}

/// Runs `script` in a private mount namespace (`unshare -m`): mounts there vanish with it.
fn in_mount_namespace(sb: &Sandbox, script: &str, args: &[&Path]) -> Command {
    let unshare = require_tool("unshare");
    let base = sb.env_creds_cmd();
    let mut cmd = Command::new(unshare);
    cmd.args(["-m", "sh", "-c", script, "sh"])
        .args(args)
        .args([BIN, "token"])
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(sb.home());
    cmd
}

#[test]
fn disk_full_on_a_small_tmpfs() {
    require_tool("mount");
    let sb = Sandbox::new();
    let dir = sb.cache_dir();
    fs::create_dir_all(&dir).expect("mkdir");
    // A 64 KiB tmpfs, filled up; the record cannot be written (ENOSPC).
    let script = r#"set -e
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1"
dd if=/dev/zero of="$1/filler" bs=4096 count=1000 2>/dev/null || true
shift
exec "$@""#;
    for _ in 0..2 {
        let mut cmd = in_mount_namespace(&sb, script, &[&dir]);
        let (out, stdout, stderr) = run(&mut cmd);
        assert_token(&sb, &out, &stdout);
        let lines = stderr_lines(&stderr);
        assert_eq!(lines.len(), 1, "exactly one warning: {stderr}");
        assert!(lines[0].contains("No space left"), "{stderr}");
    }
}

#[test]
fn file_size_limit_makes_every_write_fail() {
    // Another way to a full disk, without mount: RLIMIT_FSIZE 0 (EFBIG; SIGXFSZ ignored).
    let sb = Sandbox::new();
    let base = sb.env_creds_cmd();
    let mut cmd = Command::new(require_tool("sh"));
    cmd.args([
        "-c",
        "trap '' XFSZ; ulimit -f 0 && exec \"$@\"",
        "sh",
        BIN,
        "token",
    ])
    .env_clear()
    .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
    .current_dir(sb.home());
    assert_one_warning_and_a_token(&sb, &mut cmd, "ulimit -f 0");
    // Nothing half-written was left behind: no record, no temp file.
    let left: Vec<String> = fs::read_dir(sb.cache_dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn read_only_cache_even_for_root() {
    require_tool("mount");
    let sb = Sandbox::new();
    let dir = sb.cache_dir();
    fs::create_dir_all(&dir).expect("mkdir");
    // Empty and read-only (EROFS: root's privileges do not help).
    let script = r#"set -e
mount -t tmpfs -o ro,size=64k,mode=0700 tmpfs "$1"
shift
exec "$@""#;
    let mut cmd = in_mount_namespace(&sb, script, &[&dir]);
    assert_one_warning_and_a_token(&sb, &mut cmd, "read-only tmpfs");

    // A read-only bind mount over a directory holding a damaged record: the damage and the
    // unwritable cache are still one warning.
    let (out, _, _) = run(sb.env_creds_cmd().arg("token"));
    assert!(out.status.success());
    for entry in fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            fs::write(&path, "garbage").expect("damage");
        }
    }
    let script = r#"set -e
mount --bind "$1" "$1"
mount -o remount,ro,bind "$1"
shift
exec "$@""#;
    for _ in 0..2 {
        let mut cmd = in_mount_namespace(&sb, script, &[&dir]);
        assert_one_warning_and_a_token(&sb, &mut cmd, "read-only bind mount");
    }
}

// ---------------------------------------------------------------------------------------------
// A failing mint never clobbers a good token, and backs off

#[test]
fn failing_credentials_keep_the_current_token_and_back_off() {
    let sb = profile_sandbox();
    // A good 1-hour token minted two minutes ago (older than the one-a-minute re-mint limit).
    let good = plant_record(&sb, &[], Some("p"), now() - 120, 3600);
    flag(&sb, "fail", "");
    // Within the threshold: a refresh is due, and it fails.
    let inside = ["--duration", "1h", "--threshold", "2h"];
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &inside));
    assert_eq!(
        assert_token(&sb, &out, &stdout),
        good,
        "the old token is kept"
    );
    let lines = stderr_lines(&stderr);
    assert_eq!(lines.len(), 1, "one warning: {stderr}");
    assert!(lines[0].contains("keeping the current one"), "{stderr}");
    assert_eq!(calls(&sb), 1, "AWS was tried once");

    // The failure is recorded: the next runs do not call AWS again right away.
    for _ in 0..3 {
        let (out, stdout, _) = run(&mut token_cmd(&sb, &inside));
        assert_eq!(assert_token(&sb, &out, &stdout), good);
    }
    assert_eq!(calls(&sb), 1, "backing off");
    let (_, status, _) = run(sb.cmd().args(["status", "--json"]));
    let status: serde_json::Value = serde_json::from_str(&status).expect("status json");
    assert_eq!(status["records"][0]["failures"], 1, "{status}");
    assert!(!status.to_string().contains(&good));

    // Forced, it tries again, fails again, and still keeps the token.
    let (out, stdout, _) = run(&mut token_cmd(&sb, &["--duration", "1h", "--force"]));
    assert_eq!(assert_token(&sb, &out, &stdout), good);
    assert_eq!(calls(&sb), 2);

    // Once the credentials work again a forced mint replaces it.
    unflag(&sb, "fail");
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &["--duration", "1h", "--force"]));
    assert_token(&sb, &out, &stdout);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn failing_without_a_token_is_one_error_then_backs_off() {
    let sb = profile_sandbox();
    flag(&sb, "fail", "");
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
    assert!(!out.status.success());
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr_lines(&stderr).len(), 1, "{stderr}");
    assert_eq!(calls(&sb), 1);
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
    assert!(!out.status.success() && stdout.is_empty());
    assert!(stderr.contains("next attempt in"), "{stderr}");
    assert_eq!(calls(&sb), 1, "no second call while backing off");
}

// ---------------------------------------------------------------------------------------------
// Crashes

#[test]
fn kill_9_while_minting_leaves_no_stale_lock() {
    let sb = profile_sandbox();
    flag(&sb, "hang", "");
    let child = token_cmd(&sb, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // The credential script is running: the mint lock is held.
    let script_pid = wait_for_file(&sb.home().join("hang.pid"));
    let mut child = child;
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    // The orphaned credential script did not inherit the lock descriptor.
    assert_eq!(lock_fds(&script_pid), Vec::<PathBuf>::new());

    unflag(&sb, "hang");
    let next = token_cmd(&sb, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_with_guard(next, "a mint after kill -9");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_token(&sb, &out, &stdout);
    kill_pid(&script_pid);
}

#[test]
fn a_credential_process_that_leaves_a_child_behind_cannot_hold_the_lock() {
    let sb = profile_sandbox();
    flag(&sb, "linger", "");
    let (out, stdout, stderr) = run(&mut token_cmd(&sb, &[]));
    assert!(stderr.is_empty(), "{stderr}");
    assert_token(&sb, &out, &stdout);
    let lingering = wait_for_file(&sb.home().join("linger.pid"));
    assert!(
        Path::new(&format!("/proc/{lingering}")).exists(),
        "the background sleep is still running"
    );
    assert_eq!(lock_fds(&lingering), Vec::<PathBuf>::new());
    unflag(&sb, "linger");

    let second = token_cmd(&sb, &["--force"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_with_guard(second, "a second mint while the sleep lives");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_token(&sb, &out, &stdout);
    assert_eq!(calls(&sb), 2);
    kill_pid(&lingering);
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_partial_record() {
    let sb = Sandbox::new();
    let (out, _, _) = run(sb.env_creds_cmd().arg("token"));
    assert!(out.status.success());
    let delays = noise(3, 40);
    for (i, delay) in delays.iter().enumerate() {
        let mut child = sb
            .env_creds_cmd()
            .args(["token", "--force"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // From "at once" to "probably done": 0 to ~25 ms.
        sleep(Duration::from_micros(u64::from(*delay) * 100));
        let _ = child.kill();
        child.wait().expect("reap");
        // Whatever moment it died at, the record is whole: read silently, or re-minted.
        let (out, stdout, stderr) = run(sb.env_creds_cmd().arg("token"));
        assert!(stderr.is_empty(), "after kill {i}: {stderr}");
        assert_token(&sb, &out, &stdout);
    }
    // A temp file left by a writer that died is removed by the next writer.
    let record = fs::read_dir(sb.cache_dir())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("record");
    let name = record
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let stale = sb.cache_dir().join(format!(".{name}.999999.tmp"));
    fs::write(&stale, "{ half a rec").expect("stale temp");
    let (out, stdout, _) = run(sb.env_creds_cmd().args(["token", "--force"]));
    assert_token(&sb, &out, &stdout);
    let temps: Vec<String> = fs::read_dir(sb.cache_dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[test]
fn dozens_of_processes_mint_once_per_round_and_never_see_a_torn_record() {
    const PROCESSES: usize = 24;
    const ROUNDS: usize = 3;
    let sb = profile_sandbox();
    // A slow credential source widens the window in which everyone piles onto the lock.
    flag(&sb, "slow", "0.3");
    for round in 0..ROUNDS {
        let children: Vec<Child> = (0..PROCESSES)
            .map(|_| {
                token_cmd(&sb, &[])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| wait_with_guard(c, "a concurrent mint"))
            .collect();
        let mut tokens = Vec::new();
        for out in &outputs {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(stderr.is_empty(), "round {round}: {stderr}");
            tokens.push(assert_token(&sb, out, &stdout));
        }
        tokens.dedup();
        assert_eq!(tokens.len(), 1, "round {round}: everyone got the one token");
        assert_eq!(calls(&sb), round + 1, "round {round}: exactly one mint");
        let (out, _, _) = run(sb.cmd().args(["clear", "--all"]));
        assert!(out.status.success());
    }
}

#[test]
fn readers_racing_expiry_rounds_get_whole_tokens() {
    // Tokens that live 12 s (2 s usable after the 10 s safety margin) with no threshold:
    // every round, the readers find an expired record and one of them mints.
    const PROCESSES: usize = 16;
    const ROUNDS: usize = 3;
    let sb = profile_sandbox();
    let args = ["--duration", "12s", "--threshold", "0s"];
    let mut previous = String::new();
    for round in 0..ROUNDS {
        let before = calls(&sb);
        let started = Instant::now();
        let children: Vec<Child> = (0..PROCESSES)
            .map(|_| {
                token_cmd(&sb, &args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut tokens = Vec::new();
        for child in children {
            let out = wait_with_guard(child, "a reader");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(stderr.is_empty(), "round {round}: {stderr}");
            tokens.push(assert_token(&sb, &out, &stdout));
        }
        let minted = calls(&sb) - before;
        // One mint per window of usable life (1 to 2 s): usually one, more only if this
        // round took longer than a window on a slow machine.
        let allowed = 1 + started.elapsed().as_secs() as usize;
        assert!(
            (1..=allowed).contains(&minted),
            "round {round}: {minted} mints"
        );
        assert!(
            !tokens.contains(&previous),
            "round {round}: an expired token was served"
        );
        previous = tokens.last().cloned().unwrap_or_default();
        // Let this round's token expire (12 s life, 10 s margin).
        sleep(Duration::from_secs(3));
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Every process's argv, as (pid, cmdline with NULs shown as spaces).
fn all_cmdlines() -> Vec<(String, String)> {
    fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            let raw = fs::read(e.path().join("cmdline")).ok()?;
            Some((pid, String::from_utf8_lossy(&raw).replace('\0', " ")))
        })
        .collect()
}

fn environ_contains(pid: &str, needle: &str) -> bool {
    fs::read(format!("/proc/{pid}/environ"))
        .map(|env| String::from_utf8_lossy(&env).contains(needle))
        .unwrap_or(false)
}

#[test]
fn exec_puts_the_token_in_the_environment_never_in_argv() {
    let sb = Sandbox::new();
    let (out, stdout, _) = run(sb.env_creds_cmd().arg("token"));
    let token = assert_token(&sb, &out, &stdout);
    let marker = format!("7.{}", std::process::id());
    let mut child = sb
        .env_creds_cmd()
        .args(["exec", "--", "sleep", &marker])
        .spawn()
        .expect("spawn exec");
    let start = Instant::now();
    let mut seen = None;
    while seen.is_none() && start.elapsed() < HANG_GUARD {
        for (pid, cmdline) in all_cmdlines() {
            assert!(
                !cmdline.contains(&token),
                "token in argv of {pid}: {cmdline}"
            );
            if cmdline.trim_end() == format!("sleep {marker}") && environ_contains(&pid, &token) {
                seen = Some(pid);
            }
        }
        sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.is_some(),
        "the exec'd process was never seen with the token"
    );
}

#[test]
fn a_hook_background_refresh_carries_no_token_in_argv() {
    let sb = profile_sandbox();
    // A record for the hook's target (the default chain with AWS_PROFILE=p, 12 h) with 10
    // minutes left: inside the 15-minute threshold, so the hook spawns a background refresh.
    let now = now();
    let token = plant_record(
        &sb,
        &[("AWS_PROFILE", "p"), ("AWS_REGION", "us-east-1")],
        None,
        now - 43200 + 600,
        43200,
    );
    flag(&sb, "slow", "3");
    let (out, script, stderr) = run(sb
        .cmd()
        .env("AWS_PROFILE", "p")
        .env("AWS_REGION", "us-east-1")
        .args(["hook-env", "bash"]));
    assert!(out.status.success(), "{stderr}");
    assert!(script.contains(&token), "the hook exports the cached token");

    let start = Instant::now();
    let mut refresher = None;
    while refresher.is_none() && start.elapsed() < HANG_GUARD {
        for (pid, cmdline) in all_cmdlines() {
            assert!(
                !cmdline.contains(&token),
                "token in argv of {pid}: {cmdline}"
            );
            if cmdline.contains("background-refresh")
                && environ_contains(&pid, sb.home().to_str().expect("utf8"))
            {
                refresher = Some((pid, cmdline));
            }
        }
        sleep(Duration::from_millis(20));
    }
    let (pid, cmdline) = refresher.expect("the background refresh was never seen running");
    assert!(cmdline.contains("--region us-east-1"), "{cmdline}");
    // Let it finish: it mints exactly once and replaces the record.
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && start.elapsed() < HANG_GUARD {
        for (other, cmdline) in all_cmdlines() {
            assert!(
                !cmdline.contains(&token),
                "token in argv of {other}: {cmdline}"
            );
        }
        sleep(Duration::from_millis(50));
    }
    assert_eq!(calls(&sb), 1);
    let (_, script, _) = run(sb
        .cmd()
        .env("AWS_PROFILE", "p")
        .env("AWS_REGION", "us-east-1")
        .args(["hook-env", "bash"]));
    assert!(
        !script.contains(&token),
        "the refreshed token replaced the old one"
    );
}

#[test]
fn status_never_shows_a_token_and_clear_all_removes_every_record() {
    let sb = profile_sandbox();
    let mut tokens = Vec::new();
    for extra in [
        &["--region", "us-east-1"][..],
        &["--region", "us-west-2"],
        &["--duration", "1h"],
    ] {
        let (out, stdout, _) = run(&mut token_cmd(&sb, extra));
        assert!(out.status.success());
        tokens.push(stdout.trim().to_owned());
    }
    let (out, stdout, _) = run(sb.env_creds_cmd().arg("token"));
    assert!(out.status.success());
    tokens.push(stdout.trim().to_owned());

    for args in [&["status"][..], &["status", "--json"]] {
        let (out, stdout, stderr) = run(sb.cmd().args(args));
        assert!(out.status.success(), "{stderr}");
        assert!(
            stdout.contains("us-west-2"),
            "{args:?} lists the records: {stdout}"
        );
        for token in &tokens {
            assert!(!stdout.contains(token.as_str()) && !stderr.contains(token.as_str()));
            // Not even a recognisable piece of one.
            let piece = &token[token.len() - 40..];
            assert!(!stdout.contains(piece), "{args:?}");
        }
    }
    let (_, json, _) = run(sb.cmd().args(["status", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json["records"].as_array().map(Vec::len), Some(4), "{json}");

    let (out, _, stderr) = run(sb.cmd().args(["clear", "--all"]));
    assert!(out.status.success());
    assert!(stderr.contains("removed 4"), "{stderr}");
    let left: Vec<String> = fs::read_dir(sb.cache_dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let (_, status, _) = run(sb.cmd().arg("status"));
    assert!(status.contains("no cached tokens"), "{status}");
}

// ---------------------------------------------------------------------------------------------
// Clock

#[test]
fn a_clock_that_jumped_back_does_not_extend_a_token() {
    let sb = Sandbox::new();
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_REGION", "us-east-1"),
    ];
    // Issued an hour "in the future": the clock has since been set back by an hour, so the
    // token's real age is unknown. It must not be served as if it had 12 hours left.
    let future = plant_record(&sb, &env, None, now() + 3600, 43200);
    let (out, stdout, _) = run(sb.env_creds_cmd().arg("token"));
    let served = assert_token(&sb, &out, &stdout);
    assert_ne!(served, future, "a token from the future was served");

    // A token that expired by the wall clock is not served either.
    let expired = plant_record(&sb, &env, None, now() - 43200 - 60, 43200);
    let (out, stdout, _) = run(sb.env_creds_cmd().arg("token"));
    assert_ne!(assert_token(&sb, &out, &stdout), expired);

    // Small skew (a few seconds ahead) is tolerated: that record is used as is.
    let skewed = plant_record(&sb, &env, None, now() + 5, 43200);
    let (out, stdout, stderr) = run(sb.env_creds_cmd().arg("token"));
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(assert_token(&sb, &out, &stdout), skewed);
}
