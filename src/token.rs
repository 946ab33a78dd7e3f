//! Pure token logic: presign a Bedrock bearer token and decode one.
//!
//! A token is `bedrock-api-key-` + base64(presigned URL without `https://` + `&Version=1`).
//! The URL is a SigV4 query-presigned `POST https://bedrock.amazonaws.com/?Action=CallWithBearerToken`.
//! Signing is done by `aws-sigv4`; this module only lays the query out in the exact order and
//! encoding the reference generator (botocore's `SigV4QueryAuth`) produces, so tokens are
//! byte-identical to it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub const TOKEN_PREFIX: &str = "bedrock-api-key-";
const HOST: &str = "bedrock.amazonaws.com";
const SERVICE: &str = "bedrock";
const ACTION_QUERY: &str = "Action=CallWithBearerToken";
/// The longest lifetime Bedrock accepts for a short-term key.
pub const MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// The secret material a token is signed with.
pub struct SigningKey<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

#[derive(Debug)]
pub struct PresignError(String);

impl std::fmt::Display for PresignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not sign the token: {}", self.0)
    }
}

impl std::error::Error for PresignError {}

/// Presigns a bearer token for `region`, valid `expires_in` from `signing_time`.
pub fn presign(
    key: &SigningKey<'_>,
    region: &str,
    expires_in: Duration,
    signing_time: SystemTime,
) -> Result<String, PresignError> {
    let credentials = Credentials::new(
        key.access_key_id,
        key.secret_access_key,
        key.session_token.map(str::to_owned),
        None,
        "bedrock-env",
    );
    let identity: Identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(signing_time)
        .settings(settings)
        .build()
        .map_err(|e| PresignError(e.to_string()))?
        .into();
    let url = format!("https://{HOST}/?{ACTION_QUERY}");
    let request = SignableRequest::new(
        "POST",
        url.as_str(),
        std::iter::once(("host", HOST)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| PresignError(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| PresignError(e.to_string()))?
        .into_parts();

    // botocore order: the request's own query, then the auth parameters in insertion order,
    // with the signature appended last.
    let signed: Vec<(&str, &str)> = instructions
        .params()
        .iter()
        .map(|(k, v)| (*k, v.as_ref()))
        .collect();
    let find = |name: &str| {
        signed
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| PresignError(format!("signer did not produce {name}")))
    };
    let mut query = String::with_capacity(1024);
    query.push_str(ACTION_QUERY);
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
    ] {
        push_param(&mut query, name, find(name)?);
    }
    if key.session_token.is_some() {
        push_param(
            &mut query,
            "X-Amz-Security-Token",
            find("X-Amz-Security-Token")?,
        );
    }
    push_param(&mut query, "X-Amz-Signature", find("X-Amz-Signature")?);

    let presigned = format!("{HOST}/?{query}&Version=1");
    Ok(format!("{TOKEN_PREFIX}{}", STANDARD.encode(presigned)))
}

fn push_param(query: &mut String, name: &str, value: &str) {
    query.push('&');
    query.push_str(name);
    query.push('=');
    percent_encode_into(query, value);
}

/// RFC 3986 encoding with only the unreserved set left bare, as botocore's `quote(safe='-_.~')`.
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        }
    }
}

/// What a token says about itself. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub region: String,
    pub access_key_id: String,
    pub issued: SystemTime,
    pub expires_in: Duration,
    pub has_session_token: bool,
}

impl TokenInfo {
    pub fn expires(&self) -> SystemTime {
        self.issued + self.expires_in
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(&'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a Bedrock API key: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes a token without verifying its signature (that needs the secret).
pub fn decode(token: &str) -> Result<TokenInfo, DecodeError> {
    let token = token.trim();
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(DecodeError("it does not start with `bedrock-api-key-`"))?;
    let bytes = STANDARD
        .decode(body)
        .map_err(|_| DecodeError("the part after the prefix is not valid base64"))?;
    let url = String::from_utf8(bytes).map_err(|_| DecodeError("the decoded URL is not UTF-8"))?;
    let query = url
        .strip_prefix(HOST)
        .and_then(|rest| rest.strip_prefix("/?"))
        .ok_or(DecodeError(
            "the decoded URL is not for bedrock.amazonaws.com",
        ))?;

    let mut credential = None;
    let mut date = None;
    let mut expires = None;
    let mut has_session_token = false;
    let mut has_signature = false;
    let mut has_action = false;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "Action" => has_action = value == "CallWithBearerToken",
            "X-Amz-Credential" => credential = Some(percent_decode(value)?),
            "X-Amz-Date" => date = Some(value),
            "X-Amz-Expires" => expires = Some(value),
            "X-Amz-Security-Token" => has_session_token = !value.is_empty(),
            "X-Amz-Signature" => has_signature = !value.is_empty(),
            _ => {}
        }
    }
    if !has_action {
        return Err(DecodeError("Action=CallWithBearerToken is missing"));
    }
    if !has_signature {
        return Err(DecodeError("X-Amz-Signature is missing"));
    }
    let credential = credential.ok_or(DecodeError("X-Amz-Credential is missing"))?;
    // AKID/YYYYMMDD/REGION/bedrock/aws4_request
    let mut scope = credential.split('/');
    let access_key_id = scope.next().filter(|s| !s.is_empty());
    let _date = scope.next();
    let region = scope.next().filter(|s| !s.is_empty());
    let (Some(access_key_id), Some(region), Some(SERVICE), Some("aws4_request"), None) = (
        access_key_id,
        region,
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(DecodeError(
            "X-Amz-Credential is not a bedrock credential scope",
        ));
    };
    let issued = parse_amz_date(date.ok_or(DecodeError("X-Amz-Date is missing"))?)
        .ok_or(DecodeError("X-Amz-Date is not YYYYMMDDTHHMMSSZ"))?;
    let expires_in = expires
        .ok_or(DecodeError("X-Amz-Expires is missing"))?
        .parse::<u64>()
        .map_err(|_| DecodeError("X-Amz-Expires is not a number of seconds"))?;
    Ok(TokenInfo {
        region: region.to_owned(),
        access_key_id: access_key_id.to_owned(),
        issued,
        expires_in: Duration::from_secs(expires_in),
        has_session_token,
    })
}

fn percent_decode(value: &str) -> Result<String, DecodeError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(DecodeError("bad percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError("bad percent-encoding"))
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = time::PrimitiveDateTime::parse(value, format).ok()?;
    let seconds = u64::try_from(parsed.assume_utc().unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(session_token: Option<&str>) -> SigningKey<'_> {
        SigningKey {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token,
        }
    }

    #[test]
    fn decode_round_trips_presign() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let token = presign(
            &key(Some("a/b+c=")),
            "eu-west-1",
            Duration::from_secs(900),
            at,
        )
        .expect("presign");
        let info = decode(&token).expect("decode");
        assert_eq!(info.region, "eu-west-1");
        assert_eq!(info.access_key_id, "AKIDEXAMPLE");
        assert_eq!(info.issued, at);
        assert_eq!(info.expires_in, Duration::from_secs(900));
        assert!(info.has_session_token);
    }

    #[test]
    fn session_token_is_percent_encoded() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let token = presign(
            &key(Some("a/b+c=")),
            "us-east-1",
            Duration::from_secs(60),
            at,
        )
        .expect("presign");
        let url = String::from_utf8(
            STANDARD
                .decode(token.strip_prefix(TOKEN_PREFIX).expect("prefix"))
                .expect("base64"),
        )
        .expect("utf8");
        assert!(url.contains("X-Amz-Security-Token=a%2Fb%2Bc%3D&X-Amz-Signature="));
        assert!(url.ends_with("&Version=1"));
    }

    #[test]
    fn decode_rejects_garbage() {
        for bad in [
            "",
            "bedrock-api-key-",
            "bedrock-api-key-!!!",
            "hello",
            "bedrock-api-key-aGVsbG8=",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} decoded");
        }
    }
}
