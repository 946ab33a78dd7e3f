//! Pure: the cache record for one target, as stored on disk (JSON).

use serde::{Deserialize, Serialize};

use crate::token;

pub const VERSION: u32 = 1;

/// What capped a token's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// The requested duration.
    Duration,
    /// The signing credentials expire first.
    Credentials,
}

/// A minted token and what is known about it. Times are Unix seconds (wall clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minted {
    pub token: String,
    pub access_key_id: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub credentials_expire_at: Option<u64>,
    pub capped_by: Cap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// `Target::identity()` of the target this record belongs to.
    pub identity: String,
    pub profile: Option<String>,
    pub region: String,
    pub minted: Option<Minted>,
    /// When a mint was last attempted, successful or not.
    pub last_attempt_at: u64,
    /// Failed attempts since the last success.
    pub failures: u32,
    pub last_error: Option<String>,
    /// Set once the user was told the credentials cap the token below the threshold.
    pub warned_short_credentials: bool,
    /// A fingerprint of the credential inputs when the last attempt failed. When they change
    /// (a new `aws sso login`, an edited config, other keys exported), the backoff is lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_inputs: Option<String>,
}

impl Record {
    pub fn new(identity: String, profile: Option<String>, region: String) -> Record {
        Record {
            version: VERSION,
            identity,
            profile,
            region,
            minted: None,
            last_attempt_at: 0,
            failures: 0,
            last_error: None,
            warned_short_credentials: false,
            failure_inputs: None,
        }
    }

    /// Parses a record and checks it belongs to `identity` and is internally consistent:
    /// its token matches the checksum stored beside it (a flipped byte anywhere in the token is
    /// caught, even in the signature, which cannot be verified without the secret), decodes, is
    /// for the record's region and key, and lasts as long as it claims.
    pub fn parse_for(bytes: &[u8], identity: &str) -> Result<Record, String> {
        let OnDisk {
            record,
            token_sha256,
        } = serde_json::from_slice(bytes).map_err(|e| format!("unreadable record ({e})"))?;
        if record.version != VERSION {
            return Err(format!(
                "record version {} is not {VERSION}",
                record.version
            ));
        }
        if record.identity != identity {
            return Err("record belongs to another target".to_owned());
        }
        if let Some(minted) = &record.minted {
            if token_sha256.as_deref() != Some(checksum(&minted.token).as_str()) {
                return Err("the token does not match its checksum".to_owned());
            }
            let info = token::decode(&minted.token).map_err(|e| e.to_string())?;
            let issued = info
                .issued
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| "token issued before 1970".to_owned())?
                .as_secs();
            let consistent = info.region == record.region
                && info.access_key_id == minted.access_key_id
                && issued == minted.issued_at
                && minted.expires_at > minted.issued_at
                && minted.expires_at <= issued.saturating_add(info.expires_in.as_secs());
            if !consistent {
                return Err("record does not match its token".to_owned());
            }
        }
        Ok(record)
    }

    /// The identity a record claims, without checking anything else (for `status`, which lists
    /// every record whatever its target).
    pub fn claimed_identity(bytes: &[u8]) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Claim {
            identity: String,
        }
        serde_json::from_slice::<Claim>(bytes)
            .map(|c| c.identity)
            .map_err(|e| format!("unreadable record ({e})"))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let on_disk = OnDiskRef {
            record: self,
            token_sha256: self.minted.as_ref().map(|m| checksum(&m.token)),
        };
        // Serializing plain data cannot fail; fall back to an empty object rather than panic.
        let mut bytes = serde_json::to_vec_pretty(&on_disk).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        bytes
    }
}

/// The record as written: its fields plus a checksum of the token. The checksum is not a
/// secret (a SHA-256 of a high-entropy token reveals nothing) and guards against damage, not
/// against an attacker, who is kept out by the file's owner and mode checks (see cache.rs).
#[derive(Serialize)]
struct OnDiskRef<'a> {
    #[serde(flatten)]
    record: &'a Record,
    token_sha256: Option<String>,
}

#[derive(Deserialize)]
struct OnDisk {
    #[serde(flatten)]
    record: Record,
    #[serde(default)]
    token_sha256: Option<String>,
}

fn checksum(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const T0: u64 = 1_800_000_000;

    fn minted_record() -> Record {
        let token = token::presign(
            &token::SigningKey {
                access_key_id: "AKIAIOSFODNN7EXAMPLE",
                secret_access_key: "secret",
                session_token: None,
            },
            "us-east-1",
            Duration::from_secs(3600),
            UNIX_EPOCH + Duration::from_secs(T0),
        )
        .expect("presign");
        let mut record = Record::new("id".into(), None, "us-east-1".into());
        record.minted = Some(Minted {
            token,
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            issued_at: T0,
            expires_at: T0 + 3600,
            credentials_expire_at: None,
            capped_by: Cap::Duration,
        });
        record
    }

    #[test]
    fn round_trips_through_json() {
        let record = minted_record();
        let parsed = Record::parse_for(&record.to_json(), "id").expect("parse");
        assert_eq!(parsed, record);
        assert_eq!(
            Record::claimed_identity(&record.to_json()).as_deref(),
            Ok("id")
        );
    }

    #[test]
    fn refuses_another_identity() {
        let err = Record::parse_for(&minted_record().to_json(), "other").expect_err("identity");
        assert!(err.contains("another target"), "{err}");
    }

    #[test]
    fn a_changed_signature_is_caught_by_the_checksum() {
        let record = minted_record();
        let mut json: serde_json::Value = serde_json::from_slice(&record.to_json()).expect("json");
        // Re-encode the token with one signature digit changed: it still decodes, and only
        // the checksum can tell.
        let token = record.minted.as_ref().expect("minted").token.clone();
        let body = token.strip_prefix(token::TOKEN_PREFIX).expect("prefix");
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let url = String::from_utf8(engine.decode(body).expect("b64")).expect("utf8");
        let at = url.find("X-Amz-Signature=").expect("sig") + "X-Amz-Signature=".len();
        let mut bytes = url.into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        let tampered = format!("{}{}", token::TOKEN_PREFIX, engine.encode(&bytes));
        assert!(token::decode(&tampered).is_ok());
        json["minted"]["token"] = serde_json::Value::String(tampered);
        let bytes = serde_json::to_vec(&json).expect("json");
        let err = Record::parse_for(&bytes, "id").expect_err("tampered");
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn a_missing_checksum_is_refused() {
        let mut json: serde_json::Value =
            serde_json::from_slice(&minted_record().to_json()).expect("json");
        json.as_object_mut().expect("object").remove("token_sha256");
        let bytes = serde_json::to_vec(&json).expect("json");
        assert!(Record::parse_for(&bytes, "id").is_err());
    }

    #[test]
    fn a_record_without_a_token_needs_no_checksum() {
        let record = Record::new("id".into(), None, "us-east-1".into());
        assert_eq!(Record::parse_for(&record.to_json(), "id"), Ok(record));
    }

    #[test]
    fn claimed_expiry_beyond_the_token_is_refused() {
        let mut record = minted_record();
        if let Some(m) = record.minted.as_mut() {
            m.expires_at += 1;
        }
        assert!(Record::parse_for(&record.to_json(), "id").is_err());
    }
}
