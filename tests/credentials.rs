//! Every credential source, for real and offline: the real binary with a private HOME, the
//! real aws-config providers, and loopback servers standing in for the SSO portal, STS (moto),
//! the container credentials endpoint and a metadata service that never answers.
//!
//! What is checked each time: where the credentials came from (the token's access key id and
//! region), and the token's real lifetime: min(signing time + duration, credentials' expiry).

#[path = "support/servers.rs"]
mod servers;
mod support;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use servers::{HttpServer, Moto, Response, SilentServer, closed_port_url};
use support::{
    ACCESS_KEY_ID, SECRET_ACCESS_KEY, Sandbox, inspect_json, moto_server, require_tool, run,
};

const TWELVE_HOURS: u64 = 12 * 3600;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// RFC 3339 (UTC, whole seconds) for `secs` after the epoch.
fn rfc3339(secs: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(secs as i64).expect("valid time");
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// `cmd` (a sandbox command: clean environment) with `subcommand` before its own arguments,
/// so callers can write `export_json(sandbox.cmd().args(["--profile", "x"]))`.
fn with_subcommand(cmd: &Command, subcommand: &[&str]) -> Command {
    let mut new = Command::new(cmd.get_program());
    new.env_clear().args(subcommand).args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => new.env(key, value),
            None => new.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        new.current_dir(dir);
    }
    new
}

/// Runs `export --format json` with `cmd`'s arguments and environment; it must succeed.
fn export_json(cmd: &mut Command) -> Value {
    let (output, stdout, stderr) = run(&mut with_subcommand(cmd, &["export", "--format", "json"]));
    assert!(
        output.status.success(),
        "export failed: {stderr}\nstdout: {stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("export JSON ({e}): {stdout}"))
}

/// Runs a command that must fail cleanly: non-zero, nothing on stdout, one line on stderr.
fn clean_failure(cmd: &mut Command) -> String {
    let (output, stdout, stderr) = run(cmd);
    assert!(!output.status.success(), "expected failure, got {stdout}");
    assert_eq!(stdout, "", "nothing on stdout on failure");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {stderr}");
    assert!(lines[0].starts_with("bedrock-env: "), "{stderr}");
    println!("{}", lines[0]);
    lines[0].to_owned()
}

/// The status record for the (only) cached token, as JSON; checks the token is not in it.
fn status_record(sandbox: &Sandbox, token: &str) -> Value {
    let (output, stdout, stderr) = run(sandbox.cmd().args(["status", "--json"]));
    assert!(output.status.success(), "status failed: {stderr}");
    assert!(!stdout.contains(token), "status must never show the token");
    let value: Value = serde_json::from_str(&stdout).expect("status JSON");
    let records = value["records"].as_array().expect("records").clone();
    assert_eq!(records.len(), 1, "one cached token: {stdout}");
    records[0].clone()
}

fn u64_of(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

/// `expires_at` is `expected`, allowing for the seconds the command took.
fn assert_near(actual: u64, expected: u64, slack: u64, what: &str) {
    assert!(
        actual.abs_diff(expected) <= slack,
        "{what}: {actual} is not within {slack}s of {expected}"
    );
}

/// Checks a token end to end: its key id and region (decoded by `inspect`), the export's
/// expiry fields agreeing with each other, and status's account of what capped it.
fn check_token(
    sandbox: &Sandbox,
    export: &Value,
    access_key_id: &str,
    region: &str,
    expected_cap: &str,
) -> Value {
    let token = str_of(export, "token");
    assert!(token.starts_with("bedrock-api-key-"), "{token}");
    let decoded = inspect_json(sandbox, token);
    assert_eq!(str_of(&decoded, "access_key_id"), access_key_id);
    assert_eq!(str_of(&decoded, "region"), region);
    assert_eq!(str_of(export, "access_key_id"), access_key_id);
    assert_eq!(str_of(export, "region"), region);
    let expires_at = u64_of(export, "expires_at");
    assert_eq!(str_of(export, "expiration"), rfc3339(expires_at));
    let record = status_record(sandbox, token);
    assert_eq!(str_of(&record, "capped_by"), expected_cap, "{record}");
    assert_eq!(str_of(&record, "expires"), rfc3339(expires_at));
    record
}

fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn write_script(path: &Path, text: &str) {
    write_file(path, text);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn aws_credentials_file(sandbox: &Sandbox, text: &str) {
    write_file(&sandbox.home().join(".aws").join("credentials"), text);
}

// ---------------------------------------------------------------------------------------------
// Environment variables

#[test]
fn environment_credentials_without_a_hint_last_the_requested_duration() {
    let sandbox = Sandbox::new();
    let before = now();
    let export = export_json(&mut sandbox.env_creds_cmd());
    let record = check_token(&sandbox, &export, ACCESS_KEY_ID, "us-east-1", "duration");
    assert_near(
        u64_of(&export, "expires_at"),
        before + TWELVE_HOURS,
        5,
        "12h default",
    );
    assert!(record["credentials_expire"].is_null(), "{record}");

    let sandbox = Sandbox::new();
    let export = export_json(sandbox.env_creds_cmd().args(["--duration", "1h"]));
    assert_near(
        u64_of(&export, "expires_at"),
        now() + 3600,
        5,
        "--duration 1h",
    );
}

#[test]
fn each_environment_expiry_hint_caps_the_token() {
    for hint in [
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_SESSION_EXPIRATION",
        "AWS_SSO_SESSION_EXPIRATION",
    ] {
        let sandbox = Sandbox::new();
        let expiry = now() + 40 * 60;
        let export = export_json(
            sandbox
                .env_creds_cmd()
                .env("AWS_SESSION_TOKEN", "session-token-from-env")
                .env(hint, rfc3339(expiry)),
        );
        assert_eq!(
            u64_of(&export, "expires_at"),
            expiry,
            "{hint} caps the token"
        );
        let record = check_token(&sandbox, &export, ACCESS_KEY_ID, "us-east-1", "credentials");
        assert_eq!(str_of(&record, "credentials_expire"), rfc3339(expiry));
        assert_eq!(
            inspect_json(&sandbox, str_of(&export, "token"))["session_token"],
            true
        );
    }
}

#[test]
fn environment_hints_take_the_earliest_and_a_later_one_leaves_the_duration() {
    let sandbox = Sandbox::new();
    let early = now() + 50 * 60;
    // Offsets other than Z are accepted.
    let later = time::OffsetDateTime::from_unix_timestamp((early + 3600) as i64)
        .expect("time")
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).expect("offset"))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let export = export_json(
        sandbox
            .env_creds_cmd()
            .env("AWS_CREDENTIAL_EXPIRATION", &later)
            .env("AWS_SESSION_EXPIRATION", rfc3339(early)),
    );
    assert_eq!(u64_of(&export, "expires_at"), early);

    // Credentials outliving the requested duration leave the duration in charge.
    let sandbox = Sandbox::new();
    let export = export_json(
        sandbox
            .env_creds_cmd()
            .env("AWS_CREDENTIAL_EXPIRATION", rfc3339(now() + 20 * 3600))
            .args(["--duration", "2h"]),
    );
    assert_near(u64_of(&export, "expires_at"), now() + 7200, 5, "2h");
    check_token(&sandbox, &export, ACCESS_KEY_ID, "us-east-1", "duration");
}

#[test]
fn bad_or_expired_environment_hints_fail_cleanly() {
    let sandbox = Sandbox::new();
    let line = clean_failure(
        sandbox
            .env_creds_cmd()
            .env("AWS_CREDENTIAL_EXPIRATION", "tomorrow")
            .arg("token"),
    );
    assert!(
        line.contains("AWS_CREDENTIAL_EXPIRATION") && line.contains("RFC 3339"),
        "{line}"
    );

    let sandbox = Sandbox::new();
    let line = clean_failure(
        sandbox
            .env_creds_cmd()
            .env("AWS_SESSION_EXPIRATION", rfc3339(now() - 60))
            .arg("token"),
    );
    assert!(
        line.contains("expired") && line.contains("AWS_SESSION_EXPIRATION"),
        "{line}"
    );
}

#[test]
fn environment_credentials_need_both_halves() {
    let sandbox = Sandbox::new();
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_REGION", "us-east-1")
            .arg("token"),
    );
    assert!(line.contains("AWS_SECRET_ACCESS_KEY"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Static profiles

#[test]
fn static_profile_in_the_credentials_file() {
    let sandbox = Sandbox::new();
    sandbox.aws_config("[profile work]\nregion = eu-central-1\n");
    aws_credentials_file(
        &sandbox,
        &format!(
            "[default]\naws_access_key_id = AKIADEFAULTDEFAULT00\naws_secret_access_key = x\n\n\
             [work]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET_ACCESS_KEY}\n"
        ),
    );
    let export = export_json(sandbox.cmd().args(["--profile", "work"]));
    assert_eq!(export["profile"], "work");
    check_token(&sandbox, &export, ACCESS_KEY_ID, "eu-central-1", "duration");

    // Defined only in the credentials file (no config section), region from the flag.
    let sandbox = Sandbox::new();
    aws_credentials_file(
        &sandbox,
        &format!(
            "[only]\naws_access_key_id = AKIACREDSONLY0000001\naws_secret_access_key = {SECRET_ACCESS_KEY}\n"
        ),
    );
    let export = export_json(
        sandbox
            .cmd()
            .args(["--profile", "only", "--region", "us-west-1"]),
    );
    check_token(
        &sandbox,
        &export,
        "AKIACREDSONLY0000001",
        "us-west-1",
        "duration",
    );
}

#[test]
fn static_profile_in_the_config_file() {
    let sandbox = Sandbox::new();
    sandbox.aws_config(&format!(
        "[profile cfg]\nregion = ap-southeast-2\naws_access_key_id = AKIACONFIGFILE000001\n\
         aws_secret_access_key = {SECRET_ACCESS_KEY}\n"
    ));
    let export = export_json(sandbox.cmd().env("AWS_PROFILE", "cfg"));
    check_token(
        &sandbox,
        &export,
        "AKIACONFIGFILE000001",
        "ap-southeast-2",
        "duration",
    );
}

// ---------------------------------------------------------------------------------------------
// Which profile and region: flags, BEDROCK_ENV_*, AWS_*, the profile's own region

fn three_profiles(sandbox: &Sandbox) {
    sandbox.aws_config(
        "[default]\nregion = us-east-2\n\
         [profile flag]\nregion = eu-west-1\n\
         [profile benv]\nregion = eu-west-2\n\
         [profile awsp]\nregion = eu-west-3\n",
    );
    aws_credentials_file(
        sandbox,
        "[default]\naws_access_key_id = AKIADEFAULT000000000\naws_secret_access_key = s\n\
         [flag]\naws_access_key_id = AKIAFLAG000000000000\naws_secret_access_key = s\n\
         [benv]\naws_access_key_id = AKIABENV000000000000\naws_secret_access_key = s\n\
         [awsp]\naws_access_key_id = AKIAAWSP000000000000\naws_secret_access_key = s\n",
    );
}

#[test]
fn profile_precedence_flag_then_bedrock_env_then_aws_profile_then_default() {
    let sandbox = Sandbox::new();
    three_profiles(&sandbox);
    let pick = |cmd: &mut Command| {
        let export = export_json(cmd);
        (
            str_of(&export, "access_key_id").to_owned(),
            str_of(&export, "region").to_owned(),
        )
    };
    let all = |cmd: &mut Command| {
        cmd.env("BEDROCK_ENV_PROFILE", "benv")
            .env("AWS_PROFILE", "awsp");
    };
    let mut cmd = sandbox.cmd();
    all(&mut cmd);
    cmd.args(["--profile", "flag"]);
    assert_eq!(
        pick(&mut cmd),
        ("AKIAFLAG000000000000".into(), "eu-west-1".into())
    );

    let mut cmd = sandbox.cmd();
    all(&mut cmd);
    assert_eq!(
        pick(&mut cmd),
        ("AKIABENV000000000000".into(), "eu-west-2".into())
    );

    let mut cmd = sandbox.cmd();
    cmd.env("AWS_PROFILE", "awsp");
    assert_eq!(
        pick(&mut cmd),
        ("AKIAAWSP000000000000".into(), "eu-west-3".into())
    );

    assert_eq!(
        pick(&mut sandbox.cmd()),
        ("AKIADEFAULT000000000".into(), "us-east-2".into())
    );
}

#[test]
fn region_precedence_flag_then_bedrock_env_then_aws_region_then_default_region_then_profile() {
    let sandbox = Sandbox::new();
    three_profiles(&sandbox);
    let region = |extra: &[(&str, &str)], flag: Option<&str>| {
        let mut cmd = sandbox.cmd();
        cmd.args(["--profile", "flag"]);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        if let Some(flag) = flag {
            cmd.args(["--region", flag]);
        }
        str_of(&export_json(&mut cmd), "region").to_owned()
    };
    let all = [
        ("BEDROCK_ENV_REGION", "ap-south-1"),
        ("AWS_REGION", "sa-east-1"),
        ("AWS_DEFAULT_REGION", "ca-central-1"),
    ];
    assert_eq!(region(&all, Some("us-west-1")), "us-west-1");
    assert_eq!(region(&all, None), "ap-south-1");
    assert_eq!(region(&all[1..], None), "sa-east-1");
    assert_eq!(region(&all[2..], None), "ca-central-1");
    assert_eq!(region(&[], None), "eu-west-1");
}

#[test]
fn environment_credentials_take_the_region_of_aws_profile() {
    // The AWS CLI signs with environment keys even when AWS_PROFILE is set, and still reads
    // that profile's region.
    let sandbox = Sandbox::new();
    three_profiles(&sandbox);
    let export = export_json(
        sandbox
            .cmd()
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_PROFILE", "awsp"),
    );
    assert_eq!(str_of(&export, "access_key_id"), ACCESS_KEY_ID);
    assert_eq!(str_of(&export, "region"), "eu-west-3");
}

// ---------------------------------------------------------------------------------------------
// credential_process

fn credential_process_profile(sandbox: &Sandbox, expiration: Option<u64>) {
    let expiration = expiration
        .map(|at| format!(", \"Expiration\": \"{}\"", rfc3339(at)))
        .unwrap_or_default();
    let script = sandbox.home().join("bin").join("creds.sh");
    write_script(
        &script,
        &format!(
            "#!/bin/sh\nprintf '%s\\n' '{{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS000000001\", \
             \"SecretAccessKey\": \"process-secret\", \"SessionToken\": \"process-session\"{expiration}}}'\n"
        ),
    );
    sandbox.aws_config(&format!(
        "[profile cp]\nregion = us-west-2\ncredential_process = {}\n",
        script.display()
    ));
}

#[test]
fn credential_process_with_expiration_caps_the_token() {
    let sandbox = Sandbox::new();
    let expiry = now() + 45 * 60;
    credential_process_profile(&sandbox, Some(expiry));
    let export = export_json(sandbox.cmd().args(["--profile", "cp"]));
    assert_eq!(u64_of(&export, "expires_at"), expiry);
    let record = check_token(
        &sandbox,
        &export,
        "ASIAPROCESS000000001",
        "us-west-2",
        "credentials",
    );
    assert_eq!(str_of(&record, "credentials_expire"), rfc3339(expiry));
    assert_eq!(
        inspect_json(&sandbox, str_of(&export, "token"))["session_token"],
        true
    );
}

#[test]
fn credential_process_without_expiration_lasts_the_duration() {
    let sandbox = Sandbox::new();
    credential_process_profile(&sandbox, None);
    let before = now();
    let export = export_json(sandbox.cmd().args(["--profile", "cp", "--duration", "3h"]));
    assert_near(u64_of(&export, "expires_at"), before + 3 * 3600, 5, "3h");
    let record = check_token(
        &sandbox,
        &export,
        "ASIAPROCESS000000001",
        "us-west-2",
        "duration",
    );
    assert!(record["credentials_expire"].is_null(), "{record}");
}

#[test]
fn credential_process_failure_is_one_line() {
    let sandbox = Sandbox::new();
    let script = sandbox.home().join("bin").join("fail.sh");
    write_script(
        &script,
        "#!/bin/sh\necho 'token has expired, please log in' >&2\nexit 3\n",
    );
    sandbox.aws_config(&format!(
        "[profile broken]\nregion = us-west-2\ncredential_process = {}\n",
        script.display()
    ));
    let line = clean_failure(sandbox.cmd().args(["token", "--profile", "broken"]));
    assert!(
        line.contains("credential_process") || line.contains("exit"),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------------
// SSO (IAM Identity Center), through aws-config's real flow against a loopback portal

const SSO_ACCESS_TOKEN: &str = "sso-access-token-from-the-cache";

fn sha1_hex(text: &str) -> String {
    let sha1sum = require_tool("sha1sum");
    let mut child = Command::new(sha1sum)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha1sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("sha1sum");
    String::from_utf8(output.stdout).expect("utf8")[..40].to_owned()
}

/// An SSO profile using an `sso-session`, and the login cache `aws sso login` would leave.
fn sso_profile(sandbox: &Sandbox, token_expires_at: u64) {
    sandbox.aws_config(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n\
         sso_role_name = BedrockUser\nregion = us-west-2\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    let cache = sandbox
        .home()
        .join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex("corp")));
    write_file(
        &cache,
        &format!(
            "{{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"us-east-1\", \
             \"accessToken\": \"{SSO_ACCESS_TOKEN}\", \"expiresAt\": \"{}\"}}\n",
            rfc3339(token_expires_at)
        ),
    );
}

/// What the portal answers for an access token it no longer accepts.
fn unauthorized() -> Response {
    Response::json(401, r#"{"message":"Session token not found or invalid"}"#)
        .header("x-amzn-ErrorType", "UnauthorizedException")
}

fn sso_portal(role_expires_at_ms: u64) -> HttpServer {
    HttpServer::start(move |request| {
        let ok = request.method == "GET"
            && request.path() == "/federation/credentials"
            && request.header("x-amz-sso_bearer_token") == Some(SSO_ACCESS_TOKEN)
            && request.query("role_name") == Some("BedrockUser")
            && request.query("account_id") == Some("111122223333");
        if !ok {
            return unauthorized();
        }
        Response::json(
            200,
            format!(
                r#"{{"roleCredentials":{{"accessKeyId":"ASIASSO0000000000001","secretAccessKey":"sso-secret","sessionToken":"sso-session-token","expiration":{role_expires_at_ms}}}}}"#
            ),
        )
    })
}

#[test]
fn sso_profile_through_the_portal() {
    let sandbox = Sandbox::new();
    sso_profile(&sandbox, now() + 8 * 3600);
    let role_expiry = now() + 55 * 60;
    let portal = sso_portal(role_expiry * 1000 + 999);
    let export = export_json(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", portal.url())
            .args(["--profile", "sso"]),
    );
    let requests = portal.requests();
    assert_eq!(
        requests.len(),
        1,
        "one GetRoleCredentials call: {requests:?}"
    );
    assert_eq!(
        requests[0].header("x-amz-sso_bearer_token"),
        Some(SSO_ACCESS_TOKEN)
    );
    assert_eq!(u64_of(&export, "expires_at"), role_expiry);
    let record = check_token(
        &sandbox,
        &export,
        "ASIASSO0000000000001",
        "us-west-2",
        "credentials",
    );
    assert_eq!(str_of(&record, "credentials_expire"), rfc3339(role_expiry));
}

#[test]
fn expired_sso_login_says_how_to_log_in() {
    let sandbox = Sandbox::new();
    sso_profile(&sandbox, now() - 600);
    let portal = sso_portal((now() + 3600) * 1000);
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", portal.url())
            .args(["token", "--profile", "sso"]),
    );
    assert!(line.contains("aws sso login --profile sso"), "{line}");
    assert!(
        portal.requests().is_empty(),
        "no portal call with a dead login"
    );
    // Through AWS_PROFILE (the default chain) the hint is the same.
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", portal.url())
            .env("AWS_PROFILE", "sso")
            .arg("token"),
    );
    assert!(line.contains("aws sso login --profile sso"), "{line}");

    // A role whose source_profile is the SSO profile: the hint names the SSO profile.
    let config = std::fs::read_to_string(sandbox.home().join(".aws/config")).expect("config");
    sandbox.aws_config(&format!(
        "{config}\n[profile onsso]\nregion = us-west-2\nsource_profile = sso\n\
         role_arn = arn:aws:iam::111122223333:role/Chained\n"
    ));
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", portal.url())
            .env("AWS_ENDPOINT_URL_STS", closed_port_url())
            .args(["token", "--profile", "onsso"]),
    );
    assert!(line.contains("aws sso login --profile sso`"), "{line}");
}

#[test]
fn sso_portal_rejecting_the_login_says_how_to_log_in() {
    let sandbox = Sandbox::new();
    sso_profile(&sandbox, now() + 3600);
    // A portal that no longer accepts the cached access token (signed out elsewhere).
    let portal = HttpServer::start(|_| unauthorized());
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", portal.url())
            .args(["token", "--profile", "sso"]),
    );
    assert!(line.contains("aws sso login --profile sso"), "{line}");
    assert!(!line.contains(SSO_ACCESS_TOKEN), "{line}");
}

#[test]
fn sso_profile_without_a_login_cache_says_how_to_log_in() {
    let sandbox = Sandbox::new();
    sso_profile(&sandbox, now() + 3600);
    std::fs::remove_dir_all(sandbox.home().join(".aws/sso")).expect("rm sso cache");
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ENDPOINT_URL_SSO", closed_port_url())
            .args(["token", "--profile", "sso"]),
    );
    assert!(line.contains("aws sso login --profile sso"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Container credentials

#[test]
fn container_credentials_endpoint() {
    let sandbox = Sandbox::new();
    let expiry = now() + 5 * 3600;
    let server = HttpServer::start(move |request| {
        if request.path() != "/creds" || request.header("authorization") != Some("container-auth") {
            return Response::json(403, r#"{"message":"forbidden"}"#);
        }
        Response::json(
            200,
            format!(
                r#"{{"AccessKeyId":"ASIACONTAINER0000001","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"{}"}}"#,
                rfc3339(expiry)
            ),
        )
    });
    let export = export_json(
        sandbox
            .cmd()
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{}/creds", server.url()),
            )
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth")
            .env("AWS_REGION", "eu-north-1"),
    );
    assert!(!server.requests().is_empty(), "the endpoint was called");
    assert_eq!(u64_of(&export, "expires_at"), expiry);
    check_token(
        &sandbox,
        &export,
        "ASIACONTAINER0000001",
        "eu-north-1",
        "credentials",
    );
}

// ---------------------------------------------------------------------------------------------
// Assume-role and web identity against moto's STS on loopback

fn role_profiles(sandbox: &Sandbox) {
    sandbox.aws_config(
        "[profile base]\nregion = us-east-1\n\
         [profile long]\nregion = us-east-1\nsource_profile = base\n\
         role_arn = arn:aws:iam::123456789012:role/Bedrock\nduration_seconds = 7200\n\
         [profile plain]\nregion = us-east-1\nsource_profile = base\n\
         role_arn = arn:aws:iam::123456789012:role/Bedrock\n\
         [profile fromenv]\nregion = us-east-1\ncredential_source = Environment\n\
         role_arn = arn:aws:iam::123456789012:role/Bedrock\nduration_seconds = 5400\n",
    );
    aws_credentials_file(
        sandbox,
        &format!(
            "[base]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET_ACCESS_KEY}\n"
        ),
    );
}

/// Assumes through `profile` and returns (token key id, credentials' expiry in Unix seconds).
fn assume(sandbox: &Sandbox, sts: &str, cmd: &mut Command) -> (String, u64) {
    let export = export_json(cmd.env("AWS_ENDPOINT_URL_STS", sts));
    let key = str_of(&export, "access_key_id").to_owned();
    assert_ne!(
        key, ACCESS_KEY_ID,
        "the token is signed with the role's keys"
    );
    let record = check_token(sandbox, &export, &key, "us-east-1", "credentials");
    let expires = time::OffsetDateTime::parse(
        str_of(&record, "credentials_expire"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("credentials_expire")
    .unix_timestamp() as u64;
    assert_eq!(u64_of(&export, "expires_at"), expires);
    (key, expires)
}

#[test]
fn assume_role_and_web_identity_against_moto_sts() {
    let moto = Moto::start(&moto_server());

    // duration_seconds reaches STS: moto's credentials last exactly as long as asked; without
    // it, STS's default of one hour. Each case in a fresh sandbox (its own cache).
    type Configure<'a> = &'a dyn Fn(&mut Command);
    let cases: [(&str, Configure, u64); 4] = [
        (
            "duration_seconds = 7200",
            &|cmd| {
                cmd.args(["--profile", "long"]);
            },
            7200,
        ),
        (
            "AWS_PROFILE with duration_seconds",
            &|cmd| {
                cmd.env("AWS_PROFILE", "long");
            },
            7200,
        ),
        (
            "STS default",
            &|cmd| {
                cmd.args(["--profile", "plain"]);
            },
            3600,
        ),
        (
            "credential_source = Environment",
            &|cmd| {
                cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
                    .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
                    .args(["--profile", "fromenv"]);
            },
            5400,
        ),
    ];
    for (label, configure, lifetime) in cases {
        let sandbox = Sandbox::new();
        role_profiles(&sandbox);
        let before = now();
        let mut cmd = sandbox.cmd();
        configure(&mut cmd);
        let (_, expires) = assume(&sandbox, moto.url(), &mut cmd);
        assert_near(expires, before + lifetime, 60, label);
    }

    // Web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), as on EKS.
    let sandbox = Sandbox::new();
    let token_file = sandbox.home().join("web-identity-token");
    write_file(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl");
    let before = now();
    let (_, expires) = assume(
        &sandbox,
        moto.url(),
        sandbox
            .cmd()
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/Bedrock")
            .env("AWS_ROLE_SESSION_NAME", "bedrock-env-test")
            .env("AWS_REGION", "us-east-1"),
    );
    assert_near(expires, before + 3600, 60, "web identity");
}

#[test]
fn unreachable_sts_fails_cleanly() {
    let sandbox = Sandbox::new();
    role_profiles(&sandbox);
    for profile in ["long", "plain"] {
        let started = Instant::now();
        let line = clean_failure(
            sandbox
                .cmd()
                .env("AWS_ENDPOINT_URL_STS", closed_port_url())
                .args(["token", "--profile", profile]),
        );
        println!(
            "unreachable STS ({profile}): failed in {:?}: {line}",
            started.elapsed()
        );
        assert!(
            line.contains(
                "could not reach STS to assume role arn:aws:iam::123456789012:role/Bedrock"
            ) && line.contains(&format!("profile {profile}")),
            "{line}"
        );
    }
}

#[test]
fn an_sts_that_never_answers_is_given_up_on() {
    let sandbox = Sandbox::new();
    role_profiles(&sandbox);
    let sts = SilentServer::start();
    // Both paths: aws-config's own role provider, and ours for duration_seconds.
    std::thread::scope(|scope| {
        for profile in ["long", "plain"] {
            let (sandbox, sts) = (&sandbox, &sts);
            scope.spawn(move || {
                let started = Instant::now();
                let line =
                    clean_failure(sandbox.cmd().env("AWS_ENDPOINT_URL_STS", sts.url()).args([
                        "token",
                        "--profile",
                        profile,
                    ]));
                println!(
                    "silent STS ({profile}): gave up after {:?}",
                    started.elapsed()
                );
                assert!(
                    line.contains("could not reach STS") && line.contains("timed out"),
                    "{line}"
                );
            });
        }
    });
    assert!(sts.connections() >= 2, "both tried STS");
}

// ---------------------------------------------------------------------------------------------
// Errors: no credentials, no profile, no region, a metadata service that never answers

#[test]
fn no_credentials_at_all() {
    let sandbox = Sandbox::new();
    let line = clean_failure(sandbox.cmd().env("AWS_REGION", "us-east-1").arg("token"));
    assert!(line.contains("no AWS credentials"), "{line}");
    assert!(
        line.contains("--profile") || line.contains("AWS_PROFILE"),
        "{line}"
    );
}

#[test]
fn a_missing_profile_says_what_to_do() {
    let sandbox = Sandbox::new();
    // No AWS files at all.
    let line = clean_failure(sandbox.cmd().env("AWS_REGION", "us-east-1").args([
        "token",
        "--profile",
        "nope",
    ]));
    assert!(!line.contains("not enabled"), "{line}");
    assert!(
        line.contains("profile nope") && line.contains("not"),
        "{line}"
    );
    assert!(line.contains("aws configure"), "{line}");

    // Files exist, the profile is not in them; and through AWS_PROFILE. (A fresh sandbox each
    // time: a failure is remembered in the cache for a while, and that is not tested here.)
    let sandbox = Sandbox::new();
    three_profiles(&sandbox);
    let line = clean_failure(sandbox.cmd().env("AWS_REGION", "us-east-1").args([
        "token",
        "--profile",
        "nope",
    ]));
    assert!(
        line.contains("profile nope") && line.contains("aws configure"),
        "{line}"
    );
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_REGION", "us-east-1")
            .env("AWS_PROFILE", "nope")
            .arg("token"),
    );
    assert!(
        line.contains("nope") && line.contains("AWS_PROFILE"),
        "{line}"
    );

    // Without a region anywhere, the missing profile is still what is reported.
    let sandbox = Sandbox::new();
    let line = clean_failure(sandbox.cmd().env("AWS_PROFILE", "nope").arg("token"));
    assert!(
        line.contains("profile nope (from AWS_PROFILE) is not in"),
        "{line}"
    );

    // A profile that exists but has no credentials in it.
    let sandbox = Sandbox::new();
    sandbox.aws_config("[profile empty]\nregion = us-east-1\n");
    let line = clean_failure(sandbox.cmd().args(["token", "--profile", "empty"]));
    assert!(!line.contains("not enabled"), "{line}");
    assert!(line.contains("profile empty"), "{line}");
}

#[test]
fn no_region_anywhere() {
    let sandbox = Sandbox::new();
    let line = clean_failure(
        sandbox
            .cmd()
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .arg("token"),
    );
    assert!(
        line.contains("no AWS region") && line.contains("--region"),
        "{line}"
    );
    sandbox.aws_config("[profile r]\naws_access_key_id = A\naws_secret_access_key = B\n");
    let line = clean_failure(sandbox.cmd().args(["token", "--profile", "r"]));
    assert!(
        line.contains("no AWS region") && line.contains("profile r"),
        "{line}"
    );
}

#[test]
fn a_metadata_service_that_never_answers_is_given_up_on() {
    let sandbox = Sandbox::new();
    let imds = SilentServer::start();
    let mut cmd = sandbox.cmd();
    cmd.env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())
        .env("AWS_REGION", "us-east-1")
        .arg("token");
    let started = Instant::now();
    let line = clean_failure(&mut cmd);
    let elapsed = started.elapsed();
    println!("silent IMDS: gave up after {elapsed:?}: {line}");
    assert!(
        imds.connections() > 0,
        "the chain did try the metadata service"
    );
    assert!(line.contains("no AWS credentials"), "{line}");
}

#[test]
fn secrets_never_reach_stderr_or_status() {
    let sandbox = Sandbox::new();
    let export = export_json(&mut sandbox.env_creds_cmd());
    let token = str_of(&export, "token").to_owned();
    let (output, stdout, stderr) = run(sandbox.cmd().arg("status"));
    assert!(output.status.success());
    for text in [&stdout, &stderr] {
        assert!(!text.contains(&token) && !text.contains(SECRET_ACCESS_KEY));
    }
    assert!(
        stdout.contains(ACCESS_KEY_ID),
        "status shows the key id: {stdout}"
    );
}
