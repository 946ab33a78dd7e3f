//! The live check: one minimal Bedrock Converse call ("Say hi") with a bearer token, through
//! the same HTTP connector aws-config uses (no second HTTP or TLS stack).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LIVE_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REPLY_BYTES: usize = 1 << 20;
const SAY_HI: &str = r#"{"messages":[{"role":"user","content":[{"text":"Say hi"}]}]}"#;

/// The result of one HTTP exchange, as much as the report needs.
pub struct Reply {
    pub status: u16,
    pub date: Option<String>,
    pub body: Vec<u8>,
}

/// POSTs the "Say hi" Converse request to `url` with the bearer token, bounded in time.
pub fn say_hi(url: &str, bearer: &str) -> Result<Reply, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async {
        tokio::time::timeout(LIVE_TIMEOUT, post_async(url, bearer))
            .await
            .unwrap_or_else(|_| Err(format!("no answer in {}s", LIVE_TIMEOUT.as_secs())))
    })
}

async fn post_async(url: &str, bearer: &str) -> Result<Reply, String> {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Connector, proxy::ProxyConfig};
    use aws_smithy_runtime_api::client::http::HttpConnector;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::byte_stream::ByteStream;

    // The very connector aws-config uses (hyper + rustls + aws-lc-rs, the system's roots), so
    // no second HTTP or TLS stack is compiled in; HTTPS_PROXY/NO_PROXY are honoured.
    let connector = Connector::builder()
        .proxy_config(ProxyConfig::from_env())
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build();
    let mut request = HttpRequest::new(SdkBody::from(SAY_HI));
    request
        .set_method("POST")
        .map_err(|e| format!("bad request: {e}"))?;
    request
        .set_uri(url)
        .map_err(|e| format!("bad endpoint URL {url:?}: {e}"))?;
    let headers = request.headers_mut();
    for (name, value) in [
        ("authorization", format!("Bearer {bearer}")),
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json".to_owned()),
        (
            "user-agent",
            concat!("bedrock-env/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
    ] {
        headers.try_insert(name, value).map_err(|_| {
            format!("the {name} header would not be valid (is the token one line?)")
        })?;
    }
    let response = connector.call(request).await.map_err(|e| chain(&e))?;
    let status = response.status().as_u16();
    let date = response.headers().get("date").map(str::to_owned);
    let body = ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| format!("reading the reply: {}", chain(&e)))?
        .into_bytes();
    if body.len() > MAX_REPLY_BYTES {
        return Err(format!("the reply is larger than {MAX_REPLY_BYTES} bytes"));
    }
    Ok(Reply {
        status,
        date,
        body: body.to_vec(),
    })
}

/// An error and its causes, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The text of a Converse reply: `output.message.content[].text`.
pub fn reply_text(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let content = value
        .get("output")?
        .get("message")?
        .get("content")?
        .as_array()?;
    let text: Vec<&str> = content
        .iter()
        .filter_map(|part| part.get("text")?.as_str())
        .collect();
    (!text.is_empty()).then(|| text.join(" "))
}

/// The message of an AWS error reply (`message` or `Message`), else the body itself.
pub fn error_message(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            ["message", "Message"]
                .iter()
                .find_map(|k| v.get(*k)?.as_str().map(str::to_owned))
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = one_line(&text);
    if text.is_empty() {
        "(empty reply)".to_owned()
    } else {
        text
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate, the form servers send).
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()?
        .assume_utc();
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Path-segment encoding: only RFC 3986's unreserved characters stay bare (`:` and `/` in model
/// ids and ARNs are encoded, as the AWS SDKs do).
pub fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() * 3);
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::unix;

    #[test]
    fn http_dates() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        assert_eq!(unix(at), 784_111_777);
        assert!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").is_none());
        assert!(parse_http_date("").is_none());
    }

    #[test]
    fn model_ids_are_encoded_as_one_segment() {
        assert_eq!(
            percent_encode("us.anthropic.claude-3-5-haiku-20241022-v1:0"),
            "us.anthropic.claude-3-5-haiku-20241022-v1%3A0"
        );
        assert_eq!(
            percent_encode("arn:aws:bedrock:us-east-1::foundation-model/x"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Fx"
        );
    }

    #[test]
    fn converse_replies_and_errors() {
        let reply = br#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi!"},{"text":"there"}]}},"stopReason":"end_turn"}"#;
        assert_eq!(reply_text(reply).as_deref(), Some("Hi! there"));
        assert_eq!(reply_text(br#"{"output":{}}"#), None);
        assert_eq!(
            error_message(
                br#"{"Message":"Authentication failed: Please make sure your API Key is valid."}"#
            ),
            "Authentication failed: Please make sure your API Key is valid."
        );
        assert_eq!(error_message(b"  bad\n gateway "), "bad gateway");
        assert_eq!(error_message(b""), "(empty reply)");
    }
}
