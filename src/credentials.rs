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
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::target::{Source, Target};

/// How long a credential lookup may take in all, whatever the source.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
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
        return from_environment(getenv);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(LOAD_TIMEOUT, from_providers(target)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "timed out after {}s loading AWS credentials{}",
                LOAD_TIMEOUT.as_secs(),
                login_hint(target)
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

pub fn parse_rfc3339(value: &str) -> Option<SystemTime> {
    let at = OffsetDateTime::parse(value.trim(), &Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

async fn from_providers(target: &Target) -> Result<SigningCredentials, String> {
    let region = Region::new(target.region.clone());
    let provider_config = ProviderConfig::default().with_region(Some(region.clone()));
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
        .map_err(|e| describe(&e, target))?;
    Ok(SigningCredentials {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().map(str::to_owned),
        expiry: credentials.expiry(),
    })
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
            let config = ProviderConfig::default().with_region(Some(region));
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

/// For SSO profiles every failure ends the same way for the user: log in again.
fn login_hint(target: &Target) -> String {
    match (target.profile_name(), &target.profile_section) {
        (Some(profile), Some(section)) if section.uses_sso() => {
            format!(" (run `aws sso login --profile {profile}`)")
        }
        _ => String::new(),
    }
}

/// One line a person can act on: the error and its causes (Display only, no debug dumps).
fn describe(error: &CredentialsError, target: &Target) -> String {
    if let CredentialsError::CredentialsNotLoaded(_) = error {
        if let Source::DefaultChain { .. } = target.source {
            return "no AWS credentials found: set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned();
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    format!(
        "could not load AWS credentials: {}{}",
        parts.join(": "),
        login_hint(target)
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offsets() {
        let z = parse_rfc3339("2026-11-25T13:00:00Z").expect("Z");
        let offset = parse_rfc3339("2026-11-25T14:00:00+01:00").expect("offset");
        assert_eq!(z, offset);
        assert!(parse_rfc3339("yesterday").is_none());
    }

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
