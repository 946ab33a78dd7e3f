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
        }
    }

    /// Parses a record and checks it belongs to `identity` and is internally consistent:
    /// its token decodes, is for the record's region and key, and lasts as long as it claims.
    pub fn parse_for(bytes: &[u8], identity: &str) -> Result<Record, String> {
        let record: Record =
            serde_json::from_slice(bytes).map_err(|e| format!("unreadable record ({e})"))?;
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

    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain data cannot fail; fall back to an empty object rather than panic.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        bytes
    }
}
