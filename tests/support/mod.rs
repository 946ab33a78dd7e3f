//! Shared by the integration tests: a private HOME per test, the real binary with a clean
//! environment, and tools that must exist (a missing tool fails the test, never skips it).
#![allow(dead_code)]

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use bedrock_env::cache::Cache;
use bedrock_env::record::{Cap, Minted, Record};
use bedrock_env::target::{Request, Target};
use bedrock_env::token;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_bedrock-env");

/// Fake credentials, shaped like real ones.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A temporary HOME with nothing from the developer's machine in it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("bedrock-env-test.")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home().join(".cache").join("bedrock-env")
    }

    /// Writes `~/.aws/config`.
    pub fn aws_config(&self, text: &str) -> PathBuf {
        let dir = self.home().join(".aws");
        std::fs::create_dir_all(&dir).expect("mkdir .aws");
        let path = dir.join("config");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// The binary with a clean environment: PATH, HOME and nothing AWS unless added.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            // Never reach a real metadata service from a test.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(self.home());
        cmd
    }

    /// `cmd()` with static environment credentials and a region.
    pub fn env_creds_cmd(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1");
        cmd
    }
}

/// Runs and returns the output, with stdout/stderr as text for assertions.
pub fn run(cmd: &mut Command) -> (Output, String, String) {
    let output = cmd.output().expect("run bedrock-env");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// Writes `input` to the command's stdin and returns the output, as `run` does.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> (Output, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bedrock-env");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for bedrock-env");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// `bedrock-env inspect --json` on a token fed on stdin (tokens never go on a command line).
pub fn inspect_json(sandbox: &Sandbox, token: &str) -> serde_json::Value {
    let (output, stdout, stderr) = run_with_stdin(sandbox.cmd().args(["inspect", "--json"]), token);
    assert!(
        output.status.success(),
        "inspect refused the token: {stderr}"
    );
    serde_json::from_slice(stdout.as_bytes()).expect("inspect JSON")
}

/// The path of a tool the tests need. Missing tools fail loudly: CI installs them
/// (scripts/install-test-deps.sh), and a test that silently skips proves nothing.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run scripts/install-test-deps.sh (or scripts/test.sh)")
        })
}

/// The moto server from the test venv (scripts/install-test-deps.sh makes it).
pub fn moto_server() -> PathBuf {
    let venv = std::env::var_os("BEDROCK_ENV_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/bedrock-env-test-venv")
        });
    let path = venv.join("bin").join("moto_server");
    assert!(
        path.is_file(),
        "moto_server not found at {}: run scripts/install-test-deps.sh",
        path.display()
    );
    path
}

/// Plants a cache record through the library's own cache code: a token for `request` (resolved
/// with `getenv`), signed with the fake keys at `issued` (Unix seconds) for `duration` seconds,
/// as if minted then. Returns the token.
pub fn plant_record(
    getenv: &dyn Fn(&str) -> Option<String>,
    request: &Request,
    issued: u64,
    duration: u64,
) -> String {
    let request = Request {
        duration: Some(format!("{duration}s")),
        ..request.clone()
    };
    let target = Target::resolve(&request, getenv).expect("target");
    let cache = Cache::locate(getenv).expect("cache");
    let token = token::presign(
        &token::SigningKey {
            access_key_id: ACCESS_KEY_ID,
            secret_access_key: SECRET_ACCESS_KEY,
            session_token: None,
        },
        &target.region,
        Duration::from_secs(duration),
        UNIX_EPOCH + Duration::from_secs(issued),
    )
    .expect("presign");
    let mut record = Record::new(
        target.identity(),
        target.profile_name().map(str::to_owned),
        target.region.clone(),
    );
    record.minted = Some(Minted {
        token: token.clone(),
        access_key_id: ACCESS_KEY_ID.to_owned(),
        issued_at: issued,
        expires_at: issued + duration,
        credentials_expire_at: None,
        capped_by: Cap::Duration,
    });
    record.last_attempt_at = issued;
    let lock = cache.lock(&target).expect("lock");
    cache.write(&lock, &target, &record).expect("write record");
    token
}
