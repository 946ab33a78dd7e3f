//! `bedrock-env doctor` against good and broken set-ups, and `doctor --live` against a loopback
//! HTTP server standing in for Bedrock Runtime.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use bedrock_env::token::{self, SigningKey};
use support::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, Sandbox, run};

const DEFAULT_MODEL_PATH: &str = "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse";

struct Report {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Report {
    /// The line for one check, e.g. `line("cache")`.
    fn line(&self, name: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| {
                l.get(5..)
                    .is_some_and(|rest| rest.starts_with(&format!("{name}:")))
            })
            .unwrap_or_else(|| panic!("no {name} line in:\n{}", self.stdout))
    }

    fn assert_level(&self, name: &str, level: &str) -> &str {
        let line = self.line(name);
        assert!(
            line.starts_with(level),
            "want {level} for {name}:\n{}",
            self.stdout
        );
        line
    }

    fn assert_failed(&self, failures: usize) {
        assert_eq!(self.code, Some(1), "{}\n{}", self.stdout, self.stderr);
        let want = if failures == 1 {
            "bedrock-env: 1 check failed\n".to_owned()
        } else {
            format!("bedrock-env: {failures} checks failed\n")
        };
        assert_eq!(self.stderr, want, "{}", self.stdout);
        assert_eq!(
            self.stdout
                .lines()
                .filter(|l| l.starts_with("FAIL"))
                .count(),
            failures,
            "{}",
            self.stdout
        );
    }

    fn assert_passed(&self) {
        assert_eq!(self.code, Some(0), "{}\n{}", self.stdout, self.stderr);
        assert!(!self.stdout.contains("FAIL"), "{}", self.stdout);
    }
}

/// Runs `bedrock-env doctor ARGS` with `cmd`'s environment.
fn doctor(cmd: &mut Command, args: &[&str]) -> Report {
    let (output, stdout, stderr) = run(cmd.arg("doctor").args(args));
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A report is one line per check, never a secret.
    assert!(!stdout.contains(SECRET_ACCESS_KEY) && !stderr.contains(SECRET_ACCESS_KEY));
    assert!(!stdout.contains("bedrock-api-key-") && !stderr.contains("bedrock-api-key-"));
    for line in stdout.lines() {
        assert!(
            ["ok   ", "warn ", "FAIL "]
                .iter()
                .any(|p| line.starts_with(p)),
            "unexpected line {line:?}"
        );
    }
    Report {
        code: output.status.code(),
        stdout,
        stderr,
    }
}

fn mint(sandbox: &Sandbox, region: &str) -> String {
    let (output, stdout, stderr) = run(sandbox.env_creds_cmd().args(["token", "--region", region]));
    assert!(output.status.success(), "{stderr}");
    stdout.trim_end().to_owned()
}

#[test]
fn good_setup_passes() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox, "us-east-1");
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("BEDROCK_ENV_HOOK", "zsh")
            .env("AWS_BEARER_TOKEN_BEDROCK", &token),
        &[],
    );
    report.assert_passed();
    assert_eq!(report.stderr, "");
    assert!(
        report.stdout.lines().all(|l| l.starts_with("ok")),
        "{}",
        report.stdout
    );
    assert!(report.line("hook").contains("zsh"));
    assert!(
        report
            .line("region")
            .contains("us-east-1 (from AWS_REGION)")
    );
    assert!(report.line("credentials").contains(ACCESS_KEY_ID));
    assert!(
        report.line("cache").contains("private"),
        "{}",
        report.stdout
    );
    report.assert_level("clock", "ok");
    let line = report.line("token");
    assert!(
        line.contains("us-east-1") && line.contains("left"),
        "{line}"
    );
}

#[test]
fn missing_hook_is_a_warning_with_the_install_line() {
    let sandbox = Sandbox::new();
    for (shell, want) in [
        ("/bin/zsh", r#"eval "$(bedrock-env hook zsh)"` to ~/.zshrc"#),
        (
            "/usr/bin/bash",
            r#"eval "$(bedrock-env hook bash)"` to ~/.bashrc"#,
        ),
        ("/usr/bin/fish", "bedrock-env hook fish | source"),
    ] {
        let report = doctor(sandbox.env_creds_cmd().env("SHELL", shell), &[]);
        report.assert_passed();
        let line = report.assert_level("hook", "warn");
        assert!(line.contains(want), "{shell}: {line}");
    }
}

#[test]
fn missing_region_fails_and_says_how_to_set_one() {
    let sandbox = Sandbox::new();
    let report = doctor(sandbox.env_creds_cmd().env_remove("AWS_REGION"), &[]);
    report.assert_failed(1);
    let line = report.assert_level("region", "FAIL");
    assert!(
        line.contains("no AWS region") && line.contains("AWS_REGION"),
        "{line}"
    );

    // The region from the profile resolves, and doctor says where it came from.
    sandbox.aws_config("[default]\nregion = eu-central-1\n");
    let report = doctor(sandbox.env_creds_cmd().env_remove("AWS_REGION"), &[]);
    report.assert_passed();
    assert!(
        report
            .line("region")
            .contains("eu-central-1 (from profile default")
    );
}

#[test]
fn bad_region_and_duration_fail() {
    let sandbox = Sandbox::new();
    let report = doctor(sandbox.env_creds_cmd().env("AWS_REGION", "US_EAST"), &[]);
    report.assert_failed(1);
    report.assert_level("region", "FAIL");
    let report = doctor(
        sandbox.env_creds_cmd().env("BEDROCK_ENV_DURATION", "13h"),
        &[],
    );
    report.assert_failed(1);
    assert!(report.assert_level("region", "FAIL").contains("duration"));
}

#[test]
fn missing_credentials_fail() {
    let sandbox = Sandbox::new();
    let report = doctor(sandbox.cmd().env("AWS_REGION", "us-east-1"), &[]);
    report.assert_failed(1);
    let line = report.assert_level("credentials", "FAIL");
    assert!(line.contains("no AWS credentials"), "{line}");
}

#[test]
fn sso_failure_names_the_login_command() {
    let sandbox = Sandbox::new();
    sandbox.aws_config(
        "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\n\
         sso_role_name = Dev\nregion = us-east-1\n\
         [sso-session corp]\nsso_start_url = https://example.invalid/start\nsso_region = us-east-1\n",
    );
    // No cached SSO token: aws-config fails before any network call.
    let report = doctor(&mut sandbox.cmd(), &["--profile", "corp"]);
    report.assert_failed(1);
    let line = report.assert_level("credentials", "FAIL");
    assert!(
        line.contains("fix: run `aws sso login --profile corp`"),
        "{line}"
    );
    assert_eq!(line.matches("aws sso login").count(), 1, "{line}");
}

#[test]
fn open_cache_directory_and_records_fail() {
    let sandbox = Sandbox::new();
    mint(&sandbox, "us-east-1");
    let dir = sandbox.cache_dir();
    let report = doctor(&mut sandbox.env_creds_cmd(), &[]);
    report.assert_passed();
    assert!(
        report.line("cache").contains("1 record(s)"),
        "{}",
        report.stdout
    );

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let report = doctor(&mut sandbox.env_creds_cmd(), &[]);
    report.assert_failed(1);
    let line = report.assert_level("cache", "FAIL");
    assert!(line.contains("writable by group or others"), "{line}");
    assert!(
        line.contains(&format!("chmod 700 {}", dir.display())),
        "{line}"
    );

    // Readable by others only: a warning (the next mint tightens it).
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let report = doctor(&mut sandbox.env_creds_cmd(), &[]);
    report.assert_passed();
    report.assert_level("cache", "warn");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let record = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .expect("record")
        .path();
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let report = doctor(&mut sandbox.env_creds_cmd(), &[]);
    report.assert_failed(1);
    let line = report.assert_level("cache", "FAIL");
    assert!(
        line.contains("0644") && line.contains("chmod 600"),
        "{line}"
    );
}

#[test]
fn expired_token_in_the_environment_fails() {
    let sandbox = Sandbox::new();
    let key = SigningKey {
        access_key_id: ACCESS_KEY_ID,
        secret_access_key: SECRET_ACCESS_KEY,
        session_token: None,
    };
    let issued = SystemTime::now() - Duration::from_secs(2 * 3600);
    let expired =
        token::presign(&key, "us-east-1", Duration::from_secs(3600), issued).expect("presign");
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_BEARER_TOKEN_BEDROCK", &expired),
        &[],
    );
    report.assert_failed(1);
    let line = report.assert_level("token", "FAIL");
    assert!(line.contains("expired at"), "{line}");
    assert!(
        line.contains(r#"eval "$(bedrock-env export --region us-east-1)""#),
        "{line}"
    );

    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-bm9wZQ=="),
        &[],
    );
    report.assert_failed(1);
    assert!(
        report
            .assert_level("token", "FAIL")
            .contains("not a Bedrock API key")
    );
}

#[test]
fn token_for_another_region_fails_with_the_classic_message() {
    let sandbox = Sandbox::new();
    let west = mint(&sandbox, "us-west-2");
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_REGION", "us-east-1")
            .env("AWS_BEARER_TOKEN_BEDROCK", &west),
        &[],
    );
    report.assert_failed(1);
    let line = report.assert_level("token", "FAIL");
    assert!(
        line.contains("is for us-west-2 but the region here is us-east-1"),
        "{line}"
    );
    assert!(line.contains("Authentication failed: Please make sure your API Key is valid"));
    assert!(line.contains("export --region us-east-1"), "{line}");
}

/// What the loopback server saw.
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One-shot HTTP/1.1 server on 127.0.0.1: answers one request with `status` and `body`.
fn serve_once(status: &str, date: String, body: &'static str) -> (String, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let status = status.to_owned();
    let handle = std::thread::spawn(move || {
        // Never hang the suite: give up if the client does not come within 30 s.
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "doctor --live never connected"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().expect("length"));
        let mut received = vec![0; length];
        reader.read_exact(&mut received).expect("body");
        let response = format!(
            "HTTP/1.1 {status}\r\nDate: {date}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = stream;
        stream.write_all(response.as_bytes()).expect("respond");
        Seen {
            request_line: request_line.trim_end().to_owned(),
            headers,
            body: String::from_utf8(received).expect("utf-8 body"),
        }
    });
    (url, handle)
}

fn http_date(at: SystemTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from(at)
        .format(&format)
        .expect("date")
}

const REPLY: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi from loopback!"}]}},"stopReason":"end_turn","usage":{"inputTokens":9,"outputTokens":5,"totalTokens":14}}"#;

#[test]
fn live_call_sends_the_token_from_the_environment() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox, "us-east-1");
    let (url, server) = serve_once("200 OK", http_date(SystemTime::now()), REPLY);
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("BEDROCK_ENV_HOOK", "bash")
            .env("AWS_BEARER_TOKEN_BEDROCK", &token)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", format!("{url}/")),
        &["--live"],
    );
    let seen = server.join().expect("server");
    assert_eq!(
        seen.request_line,
        format!("POST {DEFAULT_MODEL_PATH} HTTP/1.1")
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&seen.body).expect("json body");
    assert_eq!(
        body,
        serde_json::json!({"messages":[{"role":"user","content":[{"text":"Say hi"}]}]})
    );
    report.assert_passed();
    let line = report.assert_level("live", "ok");
    assert!(line.contains(r#"replied "Hi from loopback!""#), "{line}");
    assert!(line.contains("us-east-1"), "{line}");
    assert!(
        report
            .stdout
            .lines()
            .any(|l| l.starts_with("ok   clock: within")),
        "{}",
        report.stdout
    );
}

#[test]
fn live_call_without_a_token_in_the_shell_uses_the_cache_and_the_model_flag() {
    let sandbox = Sandbox::new();
    let cached = mint(&sandbox, "eu-west-1");
    let (url, server) = serve_once("200 OK", http_date(SystemTime::now()), REPLY);
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &url),
        &[
            "--live",
            "--model",
            "arn:aws:bedrock:eu-west-1::foundation-model/x:0",
        ],
    );
    let seen = server.join().expect("server");
    assert_eq!(
        seen.request_line,
        "POST /model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A%3Afoundation-model%2Fx%3A0/converse HTTP/1.1"
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {cached}").as_str())
    );
    report.assert_passed();
    assert!(
        report.line("live").contains("token from the cache"),
        "{}",
        report.stdout
    );
}

#[test]
fn live_call_reports_the_servers_error() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox, "us-east-1");
    let (url, server) = serve_once(
        "403 Forbidden",
        http_date(SystemTime::now()),
        r#"{"Message":"Authentication failed: Please make sure your API Key is valid."}"#,
    );
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_BEARER_TOKEN_BEDROCK", &token)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &url),
        &["--live"],
    );
    server.join().expect("server");
    report.assert_failed(1);
    let line = report.assert_level("live", "FAIL");
    assert!(
        line.contains("HTTP 403")
            && line.contains("Authentication failed: Please make sure your API Key is valid."),
        "{line}"
    );
    assert!(
        line.contains("fix: the token is not accepted in us-east-1"),
        "{line}"
    );
}

#[test]
fn live_call_compares_the_clock_with_the_server() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox, "us-east-1");
    let skewed = SystemTime::now() + Duration::from_secs(2 * 3600);
    let (url, server) = serve_once("200 OK", http_date(skewed), REPLY);
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_BEARER_TOKEN_BEDROCK", &token)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &url),
        &["--live"],
    );
    server.join().expect("server");
    report.assert_failed(1);
    let clock = report
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL clock:"))
        .unwrap_or_else(|| panic!("no failing clock line:\n{}", report.stdout));
    assert!(clock.contains("behind the server's"), "{clock}");
    report.assert_level("live", "ok");
}

#[test]
fn live_call_to_a_closed_port_fails_cleanly() {
    let sandbox = Sandbox::new();
    let token = mint(&sandbox, "us-east-1");
    // Bind then drop: the port is very likely closed for the moment the test runs.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let report = doctor(
        sandbox
            .env_creds_cmd()
            .env("AWS_BEARER_TOKEN_BEDROCK", &token)
            .env(
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
                format!("http://127.0.0.1:{port}"),
            ),
        &["--live"],
    );
    report.assert_failed(1);
    assert!(
        report
            .assert_level("live", "FAIL")
            .contains("could not reach")
    );
}
