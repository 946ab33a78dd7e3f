//! A small reader for `~/.aws/config`: just the keys bedrock-env needs before (or instead of)
//! loading aws-config, so the per-prompt path can resolve a profile's region cheaply.

use std::collections::HashMap;
use std::path::PathBuf;

/// The key/value pairs of one `[profile NAME]` (or `[default]`) section.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProfileSection(HashMap<String, String>);

impl ProfileSection {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether this profile logs in through IAM Identity Center (SSO).
    pub fn uses_sso(&self) -> bool {
        self.get("sso_session").is_some() || self.get("sso_start_url").is_some()
    }
}

/// Where the AWS config file lives: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_path(getenv: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = getenv("AWS_CONFIG_FILE").filter(|p| !p.is_empty()) {
        return Some(expand_home(&path, getenv));
    }
    getenv("HOME").map(|home| PathBuf::from(home).join(".aws").join("config"))
}

fn expand_home(path: &str, getenv: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match (path.strip_prefix("~/"), getenv("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Where the shared credentials file lives: `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`.
pub fn credentials_path(getenv: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = getenv("AWS_SHARED_CREDENTIALS_FILE").filter(|p| !p.is_empty()) {
        return Some(expand_home(&path, getenv));
    }
    getenv("HOME").map(|home| PathBuf::from(home).join(".aws").join("credentials"))
}

/// Reads the section for `profile` from the config file, if the file and the section exist.
pub fn load(getenv: &dyn Fn(&str) -> Option<String>, profile: &str) -> Option<ProfileSection> {
    let text = std::fs::read_to_string(config_path(getenv)?).ok()?;
    find_section(&text, profile)
}

/// Whether `profile` is defined at all, in the config file or the credentials file. Only the
/// error paths ask: it reads both files.
pub fn is_defined(getenv: &dyn Fn(&str) -> Option<String>, profile: &str) -> bool {
    let read = |path: Option<PathBuf>| path.and_then(|p| std::fs::read_to_string(p).ok());
    read(config_path(getenv)).is_some_and(|text| find_section(&text, profile).is_some())
        || read(credentials_path(getenv))
            .is_some_and(|text| find_credentials_section(&text, profile).is_some())
}

/// The two files, as a person would name them in a message (`~` for the home directory).
pub fn files_for_humans(getenv: &dyn Fn(&str) -> Option<String>) -> String {
    let show = |path: Option<PathBuf>, fallback: &str| {
        let Some(path) = path else {
            return fallback.to_owned();
        };
        match getenv("HOME").and_then(|home| path.strip_prefix(home).ok().map(PathBuf::from)) {
            Some(rest) => format!("~/{}", rest.display()),
            None => path.display().to_string(),
        }
    };
    format!(
        "{} or {}",
        show(config_path(getenv), "~/.aws/config"),
        show(credentials_path(getenv), "~/.aws/credentials")
    )
}

/// Pure: finds `[profile NAME]` (or `[default]` / `[profile default]`) in config-file text.
pub fn find_section(text: &str, profile: &str) -> Option<ProfileSection> {
    find(text, profile, Kind::Config)
}

/// Pure: finds `[NAME]` in credentials-file text (no `profile ` prefix there).
pub fn find_credentials_section(text: &str, profile: &str) -> Option<ProfileSection> {
    find(text, profile, Kind::Credentials)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Credentials,
}

fn find(text: &str, profile: &str, kind: Kind) -> Option<ProfileSection> {
    let mut found: Option<HashMap<String, String>> = None;
    let mut in_wanted = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let header = header.trim();
            let name = match (kind, header.strip_prefix("profile ")) {
                (Kind::Credentials, _) => Some(header),
                (Kind::Config, Some(name)) => Some(name.trim()),
                (Kind::Config, None) if header == "default" => Some("default"),
                (Kind::Config, None) => None,
            };
            in_wanted = name == Some(profile);
            if in_wanted {
                found.get_or_insert_with(HashMap::new);
            }
            continue;
        }
        if !in_wanted {
            continue;
        }
        // Nested values (`s3 =` sub-sections) start with whitespace in the raw line; we only
        // want top-level keys, and a nested line has no effect on the keys we read.
        if let (Some(map), Some((key, value))) = (found.as_mut(), line.split_once('=')) {
            map.entry(key.trim().to_ascii_lowercase())
                .or_insert_with(|| value.trim().to_owned());
        }
    }
    found.map(ProfileSection)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[default]
region = us-east-1

[profile dev]
region=eu-west-1
role_arn = arn:aws:iam::123456789012:role/Dev
duration_seconds = 7200
# comment
[sso-session corp]
region = ap-south-1
[profile sso]
sso_session = corp
";

    #[test]
    fn finds_profiles() {
        let dev = find_section(CONFIG, "dev").expect("dev");
        assert_eq!(dev.get("region"), Some("eu-west-1"));
        assert_eq!(dev.get("duration_seconds"), Some("7200"));
        assert_eq!(
            find_section(CONFIG, "default")
                .expect("default")
                .get("region"),
            Some("us-east-1")
        );
        let sso = find_section(CONFIG, "sso").expect("sso");
        assert!(sso.uses_sso());
        assert_eq!(
            sso.get("region"),
            None,
            "sso-session keys are not the profile's"
        );
        assert!(find_section(CONFIG, "missing").is_none());
        assert!(find_section(CONFIG, "corp").is_none());
    }

    #[test]
    fn credentials_file_sections_have_no_prefix() {
        let text = "[default]\naws_access_key_id = A\n[work]\naws_access_key_id = B\n";
        assert_eq!(
            find_credentials_section(text, "work")
                .expect("work")
                .get("aws_access_key_id"),
            Some("B")
        );
        assert!(find_credentials_section(text, "default").is_some());
        assert!(find_credentials_section(text, "dev").is_none());
        // In the config file, `[work]` is not a profile.
        assert!(find_section(text, "work").is_none());
    }
}
