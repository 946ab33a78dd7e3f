//! Signing credentials from any AWS source, with the best known expiry.
//!
//! Environment credentials are read directly (no async runtime needed); everything else goes
//! through aws-config's real providers: profiles, SSO, credential_process, assume-role, web
//! identity, container and IMDS. Network waits are bounded so a prompt never hangs.

use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::clock::parse_rfc3339;
use crate::profile;
use crate::target::{Source, Target};

/// How long a credential lookup may take in all, whatever the source (a credential_process
/// included, which no HTTP timeout covers).
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// STS, the SSO portal and the container endpoint answer in well under a second; one that
/// accepts and never answers must not hold a prompt for the whole LOAD_TIMEOUT.
const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const HTTP_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const HTTP_OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
/// IMDS is the last resort of the default chain and, off EC2, never answers: keep it short.
const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const IMDS_READ_TIMEOUT: Duration = Duration::from_millis(1000);
const IMDS_OPERATION_TIMEOUT: Duration = Duration::from_millis(2000);

/// Environment variables that tools exporting session credentials use for their expiry.
const ENV_EXPIRY_HINTS: [&str; 3] = [
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_SSO_SESSION_EXPIRATION",
];

pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expiry: Option<SystemTime>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

/// Loads credentials for `target`. Runs a small async runtime only when a provider needs one.
pub fn load(
    target: &Target,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<SigningCredentials, String> {
    if let Source::Environment { .. } = target.source {
        let credentials = from_environment(getenv)?;
        if let Some(expiry) = credentials.expiry.filter(|e| *e <= SystemTime::now()) {
            let hints: Vec<&str> = ENV_EXPIRY_HINTS
                .into_iter()
                .filter(|name| getenv(name).and_then(|v| parse_rfc3339(&v)) == Some(expiry))
                .collect();
            return Err(format!(
                "the AWS credentials in the environment have expired ({} is in the past): export fresh ones, or unset AWS_ACCESS_KEY_ID to use a profile",
                hints.join(", ")
            ));
        }
        return Ok(credentials);
    }
    check_profile_exists(target, getenv)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(LOAD_TIMEOUT, from_providers(target, getenv)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "timed out after {}s loading AWS credentials{}",
                LOAD_TIMEOUT.as_secs(),
                login_hint(target, getenv)
            )),
        }
    })
}

/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, with an expiry hint if any.
pub fn from_environment(
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<SigningCredentials, String> {
    let nonempty = |name: &str| getenv(name).filter(|v| !v.is_empty());
    let access_key_id = nonempty("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?;
    let secret_access_key = nonempty("AWS_SECRET_ACCESS_KEY").ok_or(
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: export both, or unset both to use a profile",
    )?;
    let mut expiry = None;
    for name in ENV_EXPIRY_HINTS {
        if let Some(value) = nonempty(name) {
            let at = parse_rfc3339(&value)
                .ok_or_else(|| format!("{name} is not an RFC 3339 time: {value:?}"))?;
            expiry = Some(expiry.map_or(at, |e: SystemTime| e.min(at)));
        }
    }
    Ok(SigningCredentials {
        access_key_id,
        secret_access_key,
        session_token: nonempty("AWS_SESSION_TOKEN").or_else(|| nonempty("AWS_SECURITY_TOKEN")),
        expiry,
    })
}

/// A fingerprint of what decides whether loading credentials can succeed: the config and
/// credentials files and the SSO token cache (by size and modification time), and the
/// environment variables credential providers read (the secret only as present or not).
/// A few `stat` calls: it is computed only when a failure is recorded or being backed off.
pub fn inputs_fingerprint(getenv: &dyn Fn(&str) -> Option<String>) -> String {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let mut hasher = Sha256::new();
    let home = getenv("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        getenv(var)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    for path in [
        file("AWS_CONFIG_FILE", ".aws/config"),
        file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
        home.as_ref().map(|h| h.join(".aws/sso/cache")),
        file("AWS_WEB_IDENTITY_TOKEN_FILE", ".aws/no-web-identity-token"),
    ]
    .into_iter()
    .flatten()
    {
        let stamp = std::fs::metadata(&path)
            .map(|m| format!("{}:{}:{}", m.len(), m.mtime(), m.mtime_nsec()))
            .unwrap_or_default();
        hasher.update(format!("{}={stamp}\n", path.display()));
    }
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_SESSION_EXPIRATION",
        "AWS_SSO_SESSION_EXPIRATION",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        hasher.update(format!("{name}={}\n", getenv(name).unwrap_or_default()));
    }
    let secret_set = getenv("AWS_SECRET_ACCESS_KEY").is_some_and(|s| !s.is_empty());
    hasher.update(format!("secret={secret_set}\n"));
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A profile that is named but defined nowhere is the user's mistake to fix, not something for
/// the rest of the chain to paper over (the AWS CLI refuses too).
fn check_profile_exists(
    target: &Target,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let (profile, from) = match &target.source {
        Source::ExplicitProfile(p) => (p, ""),
        Source::DefaultChain { profile } if profile != "default" => {
            (profile, " (from AWS_PROFILE)")
        }
        _ => return Ok(()),
    };
    if target.profile_section.is_some() || profile::is_defined(getenv, profile) {
        return Ok(());
    }
    Err(format!(
        "profile {profile}{from} is not in {}: create it with `aws configure --profile {profile}` (or `aws configure sso`), or name another profile",
        profile::files_for_humans(getenv)
    ))
}

async fn from_providers(
    target: &Target,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<SigningCredentials, String> {
    let region = Region::new(target.region.clone());
    let provider_config = ProviderConfig::default()
        .with_region(Some(region.clone()))
        .with_timeout_config(http_timeouts());
    let provider: SharedCredentialsProvider = match &target.source {
        Source::Environment { .. } => {
            SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
        }
        Source::ExplicitProfile(profile) => match role_with_duration(target) {
            Some(role) => assume_role(target, profile, role).await?,
            None => SharedCredentialsProvider::new(
                ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(profile)
                    .build(),
            ),
        },
        Source::DefaultChain { profile } => match role_with_duration(target) {
            Some(role) => assume_role(target, profile, role).await?,
            None => {
                let imds = aws_config::imds::Client::builder()
                    .configure(&provider_config)
                    .connect_timeout(IMDS_CONNECT_TIMEOUT)
                    .read_timeout(IMDS_READ_TIMEOUT)
                    .operation_timeout(IMDS_OPERATION_TIMEOUT)
                    .max_attempts(1)
                    .build();
                SharedCredentialsProvider::new(
                    DefaultCredentialsChain::builder()
                        .configure(provider_config.clone())
                        .region(region)
                        .profile_name(profile)
                        .imds_client(imds)
                        .build()
                        .await,
                )
            }
        },
    };
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| describe(&e, target, getenv))?;
    Ok(SigningCredentials {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().map(str::to_owned),
        expiry: credentials.expiry(),
    })
}

fn http_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(HTTP_CONNECT_TIMEOUT)
        .operation_attempt_timeout(HTTP_ATTEMPT_TIMEOUT)
        .operation_timeout(HTTP_OPERATION_TIMEOUT)
        .build()
}

/// A role profile's settings, when it asks for a session length (`duration_seconds`).
struct RoleSettings {
    role_arn: String,
    duration: Duration,
    source_profile: Option<String>,
    external_id: Option<String>,
    session_name: Option<String>,
}

/// aws-config ignores `duration_seconds`; the AWS CLI honours it, so we do too, by assuming the
/// role ourselves with an explicit session length.
fn role_with_duration(target: &Target) -> Option<RoleSettings> {
    let section = target.profile_section.as_ref()?;
    let duration = section.get("duration_seconds")?.parse::<u64>().ok()?;
    let credential_source = section.get("credential_source");
    let source_profile = section.get("source_profile").map(str::to_owned);
    // Only the sources we can build exactly; anything else falls back to aws-config's own flow.
    if source_profile.is_none() && credential_source != Some("Environment") {
        return None;
    }
    Some(RoleSettings {
        role_arn: section.get("role_arn")?.to_owned(),
        duration: Duration::from_secs(duration),
        source_profile,
        external_id: section.get("external_id").map(str::to_owned),
        session_name: section.get("role_session_name").map(str::to_owned),
    })
}

async fn assume_role(
    target: &Target,
    profile: &str,
    role: RoleSettings,
) -> Result<SharedCredentialsProvider, String> {
    let region = Region::new(target.region.clone());
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .profile_name(profile)
        .timeout_config(http_timeouts())
        .load()
        .await;
    let mut builder = AssumeRoleProvider::builder(role.role_arn)
        .session_length(role.duration)
        .region(region.clone())
        .configure(&sdk_config)
        .session_name(role.session_name.unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            format!("bedrock-env-{}", now.as_millis())
        }));
    if let Some(id) = role.external_id {
        builder = builder.external_id(id);
    }
    let provider = match role.source_profile {
        Some(source) if source != profile => {
            let config = ProviderConfig::default()
                .with_region(Some(region))
                .with_timeout_config(http_timeouts());
            builder
                .build_from_provider(
                    ProfileFileCredentialsProvider::builder()
                        .configure(&config)
                        .profile_name(source)
                        .build(),
                )
                .await
        }
        Some(_) => {
            return Err(format!(
                "profile {profile} names itself as its source_profile: set source_profile to the profile holding the base credentials"
            ));
        }
        None => {
            builder
                .build_from_provider(EnvironmentVariableCredentialsProvider::new())
                .await
        }
    };
    Ok(SharedCredentialsProvider::new(provider))
}

/// For SSO every failure ends the same way for the user: log in again. The SSO profile may be
/// the target's own or, for a role profile, its `source_profile`.
fn login_hint(target: &Target, getenv: &dyn Fn(&str) -> Option<String>) -> String {
    let (Some(profile), Some(section)) = (target.profile_name(), &target.profile_section) else {
        return String::new();
    };
    if section.uses_sso() {
        return format!(" (run `aws sso login --profile {profile}`)");
    }
    match section.get("source_profile") {
        Some(source) if profile::load(getenv, source).is_some_and(|s| s.uses_sso()) => {
            format!(" (run `aws sso login --profile {source}`)")
        }
        _ => String::new(),
    }
}

/// What the SDK's error wrappers say without saying anything: left out of messages.
const FILLER: [&str; 9] = [
    "the credential provider was not enabled",
    "an error occurred while loading an access token",
    "the credentials provider was not properly configured",
    "an error occurred while loading credentials",
    "unexpected credentials error",
    "service error",
    "unhandled error",
    "dispatch failure",
    "io error",
];

/// One line a person can act on: what was being done, the error and its causes (Display
/// only, no debug dumps), and for SSO the login command.
fn describe(
    error: &CredentialsError,
    target: &Target,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> String {
    if let CredentialsError::CredentialsNotLoaded(_) = error {
        match &target.source {
            Source::DefaultChain { profile } if profile == "default" => {
                return "no AWS credentials found: pass --profile (or set AWS_PROFILE), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned();
            }
            Source::ExplicitProfile(profile) | Source::DefaultChain { profile } => {
                return format!(
                    "profile {profile} has no credentials in {}: add aws_access_key_id and aws_secret_access_key, sso_session, credential_process or role_arn to it (`aws configure --profile {profile}`)",
                    profile::files_for_humans(getenv)
                );
            }
            Source::Environment { .. } => {}
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut unreachable = false;
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        unreachable |= text == "dispatch failure" || text == "request has timed out";
        let filler = FILLER.contains(&text.as_str());
        if !text.is_empty() && !filler && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.is_empty() {
        parts.push(one_line(&error.to_string()));
    }
    let section = target.profile_section.as_ref();
    let what = match (
        target.profile_name(),
        section.and_then(|s| s.get("role_arn")),
    ) {
        (Some(profile), Some(role)) => {
            let verb = if unreachable {
                "could not reach STS to assume"
            } else {
                "could not assume"
            };
            format!("{verb} role {role} for profile {profile}")
        }
        (Some(profile), None) if section.is_some_and(|s| s.uses_sso()) => {
            let verb = if unreachable {
                "could not reach the SSO portal for"
            } else {
                "could not get SSO credentials for"
            };
            format!("{verb} profile {profile}")
        }
        (Some(profile), None) => format!("could not load AWS credentials for profile {profile}"),
        (None, _) => "could not load AWS credentials".to_owned(),
    };
    format!("{what}: {}{}", parts.join(": "), login_hint(target, getenv))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_expiry_takes_the_earliest_hint() {
        let getenv = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            "AWS_CREDENTIAL_EXPIRATION" => Some("2026-11-25T13:00:00Z".to_owned()),
            "AWS_SESSION_EXPIRATION" => Some("2026-11-25T12:00:00Z".to_owned()),
            _ => None,
        };
        let creds = from_environment(&getenv).expect("creds");
        assert_eq!(creds.expiry, parse_rfc3339("2026-11-25T12:00:00Z"));
        assert!(!format!("{creds:?}").contains("secret"));
    }

    #[test]
    fn secret_without_id_is_explained() {
        let getenv = |name: &str| (name == "AWS_ACCESS_KEY_ID").then(|| "AKID".to_owned());
        let err = from_environment(&getenv).expect_err("no secret");
        assert!(err.contains("AWS_SECRET_ACCESS_KEY"));
    }
}
