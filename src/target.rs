//! What token is wanted: whose credentials, which region, how long, when to refresh.
//! Resolution reads only environment variables and, when needed, the AWS config file.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::duration;
use crate::profile::{self, ProfileSection};
use crate::token::MAX_DURATION;

pub const DEFAULT_DURATION: Duration = MAX_DURATION;
pub const DEFAULT_THRESHOLD: Duration = Duration::from_secs(15 * 60);

/// Where the signing credentials come from, as far as the cache key is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A named profile, chosen explicitly with `--profile`/`BEDROCK_ENV_PROFILE`.
    ExplicitProfile(String),
    /// Credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; keyed by a hash of the id only.
    Environment { access_key_id: String },
    /// The default chain, with `AWS_PROFILE` (or `default`) as its profile.
    DefaultChain { profile: String },
}

#[derive(Debug, Clone)]
pub struct Target {
    pub source: Source,
    pub region: String,
    pub duration: Duration,
    pub threshold: Duration,
    /// The profile's config section, when one was read (region, role settings, SSO hints).
    pub profile_section: Option<ProfileSection>,
}

/// Target options as given on the command line (clap has already folded in `BEDROCK_ENV_*`).
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub duration: Option<String>,
    pub threshold: Option<String>,
}

#[derive(Debug)]
pub struct TargetError(pub String);

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

impl Target {
    pub fn resolve(
        request: &Request,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, TargetError> {
        let nonempty = |name: &str| getenv(name).filter(|v| !v.is_empty());
        // As in the AWS CLI: an explicit profile beats environment keys, which beat AWS_PROFILE
        // (AWS_PROFILE still supplies the region when environment keys sign).
        let env_profile = || {
            nonempty("AWS_PROFILE")
                .or_else(|| nonempty("AWS_DEFAULT_PROFILE"))
                .unwrap_or_else(|| "default".to_owned())
        };
        let source = match request.profile.clone().filter(|p| !p.is_empty()) {
            Some(profile) => Source::ExplicitProfile(profile),
            None => match nonempty("AWS_ACCESS_KEY_ID") {
                Some(access_key_id) => Source::Environment { access_key_id },
                None => Source::DefaultChain {
                    profile: env_profile(),
                },
            },
        };

        let duration = match &request.duration {
            Some(text) => {
                duration::parse_within("duration", text, Duration::from_secs(1), MAX_DURATION)
                    .map_err(|e| TargetError(e.to_string()))?
            }
            None => DEFAULT_DURATION,
        };
        let threshold = match &request.threshold {
            Some(text) => duration::parse_within("threshold", text, Duration::ZERO, MAX_DURATION)
                .map_err(|e| TargetError(e.to_string()))?,
            None => DEFAULT_THRESHOLD,
        };

        let explicit_region = request
            .region
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| nonempty("AWS_REGION"))
            .or_else(|| nonempty("AWS_DEFAULT_REGION"));
        // The config file is read only when it can matter: for the region, or for a profile's
        // role and SSO settings (which only a mint needs, and a mint reads them again).
        let profile_section = match (&source, &explicit_region) {
            (Source::Environment { .. }, Some(_)) => None,
            (Source::Environment { .. }, None) => profile::load(getenv, &env_profile()),
            (Source::ExplicitProfile(p) | Source::DefaultChain { profile: p }, _) => {
                profile::load(getenv, p)
            }
        };
        let region = explicit_region
            .or_else(|| profile_section.as_ref()?.get("region").map(str::to_owned))
            .ok_or_else(|| no_region(&source, profile_section.is_some(), getenv))?;
        if !is_valid_region(&region) {
            return Err(TargetError(format!("invalid AWS region {region:?}")));
        }
        Ok(Target {
            source,
            region,
            duration,
            threshold,
            profile_section,
        })
    }

    /// The profile aws-config should use, if any.
    pub fn profile_name(&self) -> Option<&str> {
        match &self.source {
            Source::ExplicitProfile(p) | Source::DefaultChain { profile: p } => Some(p),
            Source::Environment { .. } => None,
        }
    }

    /// A human label for the credential source: a profile name or `env`.
    pub fn label(&self) -> &str {
        self.profile_name().unwrap_or("env")
    }

    /// Identifies the target inside its record, so a record for another target is never used.
    /// Environment credentials are identified by a hash of the access key id, never the secret.
    pub fn identity(&self) -> String {
        let source = match &self.source {
            Source::ExplicitProfile(p) => format!("profile:{p}"),
            Source::DefaultChain { profile } => format!("chain:{profile}"),
            Source::Environment { access_key_id } => {
                format!(
                    "env:{}",
                    &hex(&Sha256::digest(access_key_id.as_bytes()))[..16]
                )
            }
        };
        format!("{source}|{}|{}", self.region, self.duration.as_secs())
    }

    /// The record's file name: readable, and unique per identity.
    pub fn cache_file_name(&self) -> String {
        let label: String = self
            .label()
            .chars()
            .take(40)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let digest = hex(&Sha256::digest(self.identity().as_bytes()));
        format!(
            "{label}.{}.{}.{}.json",
            self.region,
            self.duration.as_secs(),
            &digest[..12]
        )
    }
}

/// The missing-region message, naming the profile to fix; a profile that does not exist at
/// all is the real problem, so that is said instead.
fn no_region(
    source: &Source,
    has_config_section: bool,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> TargetError {
    let named = match source {
        Source::ExplicitProfile(p) => Some((p, "")),
        Source::DefaultChain { profile } if profile != "default" => {
            Some((profile, " (from AWS_PROFILE)"))
        }
        _ => None,
    };
    if let Some((profile, from)) = named
        && !has_config_section
        && !profile::is_defined(getenv, profile)
    {
        return TargetError(format!(
            "profile {profile}{from} is not in {}: create it with `aws configure --profile {profile}` (or `aws configure sso`), or name another profile",
            profile::files_for_humans(getenv)
        ));
    }
    TargetError(format!(
        "no AWS region: pass --region, set AWS_REGION, or add `region = ...` to {}",
        match source {
            Source::ExplicitProfile(p) | Source::DefaultChain { profile: p } =>
                format!("profile {p} in the AWS config file"),
            Source::Environment { .. } => "the AWS config file".to_owned(),
        }
    ))
}

fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn flag_beats_environment() {
        let getenv = env(&[("AWS_REGION", "us-west-2"), ("AWS_PROFILE", "dev")]);
        let request = Request {
            profile: Some("prod".into()),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let target = Target::resolve(&request, &getenv).expect("target");
        assert_eq!(target.source, Source::ExplicitProfile("prod".into()));
        assert_eq!(target.region, "eu-west-1");
        assert_eq!(target.duration, DEFAULT_DURATION);
        assert_eq!(target.threshold, DEFAULT_THRESHOLD);
    }

    #[test]
    fn environment_keys_are_hashed_not_stored() {
        let getenv = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]);
        let target = Target::resolve(&Request::default(), &getenv).expect("target");
        let identity = target.identity();
        assert!(!identity.contains("AKIAEXAMPLE") && !identity.contains("very-secret"));
        let other = Target::resolve(
            &Request::default(),
            &env(&[
                ("AWS_ACCESS_KEY_ID", "AKIAOTHER"),
                ("AWS_REGION", "us-east-1"),
            ]),
        )
        .expect("target");
        assert_ne!(target.cache_file_name(), other.cache_file_name());
    }

    #[test]
    fn missing_region_is_a_clear_error() {
        let getenv = env(&[("HOME", "/nonexistent")]);
        let err = Target::resolve(&Request::default(), &getenv).expect_err("no region");
        assert!(err.0.contains("no AWS region"), "{err}");
    }

    #[test]
    fn a_profile_defined_nowhere_is_named_instead_of_the_region() {
        let getenv = env(&[("HOME", "/nonexistent"), ("AWS_PROFILE", "ghost")]);
        let err = Target::resolve(&Request::default(), &getenv).expect_err("no profile");
        assert!(
            err.0.contains("profile ghost (from AWS_PROFILE) is not in"),
            "{err}"
        );
        let request = Request {
            profile: Some("ghost".into()),
            ..Default::default()
        };
        let err = Target::resolve(&request, &getenv).expect_err("no profile");
        assert!(err.0.contains("aws configure --profile ghost"), "{err}");
    }

    #[test]
    fn bad_duration_is_rejected() {
        let getenv = env(&[("AWS_REGION", "us-east-1")]);
        let request = Request {
            duration: Some("13h".into()),
            ..Default::default()
        };
        assert!(Target::resolve(&request, &getenv).is_err());
    }
}
