//! Property-based fuzzing of everything that parses outside input: tokens (from the
//! environment, stdin and the cache), cache records (from disk) and durations (from flags and
//! the environment). None may panic on any input, and valid inputs round-trip.
//!
//! The case count is proptest's default (256 per property) unless `PROPTEST_CASES` is set;
//! docs/fuzzing.md records a long run.

use std::time::{Duration, UNIX_EPOCH};

use bedrock_env::duration::{compact, parse};
use bedrock_env::record::{Cap, Minted, Record};
use bedrock_env::token::{SigningKey, TOKEN_PREFIX, decode, presign};
use proptest::prelude::*;

const IDENTITY: &str = "profile:p|us-east-1|3600";

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("us-east-1".to_owned()),
        Just("eu-central-1".to_owned()),
        "[a-z]{2}-[a-z]{4,9}-[1-9]",
    ]
}

/// Parameters of a valid token: key id, secret, optional session token, region, lifetime,
/// signing time (2001 to 2286).
fn token_params() -> impl Strategy<Value = (String, String, Option<String>, String, u64, u64)> {
    (
        "AKIA[A-Z0-9]{16}",
        "[A-Za-z0-9/+]{40}",
        proptest::option::of("[A-Za-z0-9/+=]{16,400}"),
        region(),
        1u64..=43_200,
        1_000_000_000u64..10_000_000_000,
    )
}

fn mint(params: &(String, String, Option<String>, String, u64, u64)) -> String {
    let (key, secret, session, region, expires_in, at) = params;
    presign(
        &SigningKey {
            access_key_id: key,
            secret_access_key: secret,
            session_token: session.as_deref(),
        },
        region,
        Duration::from_secs(*expires_in),
        UNIX_EPOCH + Duration::from_secs(*at),
    )
    .expect("presign")
}

/// One edit to a byte string: flip, replace, insert, delete, truncate or duplicate a piece.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, b) if len > 0 => bytes[i % len] ^= b,
            Mutation::Set(i, b) if len > 0 => bytes[i % len] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Delete(i) if len > 0 => {
                bytes.remove(i % len);
            }
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::Repeat(i, n) if len > 0 => {
                let start = i % len;
                let end = (start + n).min(len);
                let piece = bytes[start..end].to_vec();
                bytes.splice(end..end, piece);
            }
            _ => {}
        }
    }
    bytes
}

fn record_json(params: &(String, String, Option<String>, String, u64, u64)) -> (Record, Vec<u8>) {
    let token = mint(params);
    let mut record = Record::new(IDENTITY.to_owned(), Some("p".into()), params.3.clone());
    record.minted = Some(Minted {
        token,
        access_key_id: params.0.clone(),
        issued_at: params.5,
        expires_at: params.5 + params.4,
        credentials_expire_at: None,
        capped_by: Cap::Duration,
    });
    record.last_attempt_at = params.5;
    let json = record.to_json();
    (record, json)
}

/// Whatever `parse_for` accepts is internally consistent: the token decodes and matches.
fn assert_consistent(record: &Record) {
    assert_eq!(record.identity, IDENTITY);
    if let Some(minted) = &record.minted {
        let info = decode(&minted.token).expect("an accepted record's token decodes");
        assert_eq!(info.region, record.region);
        assert_eq!(info.access_key_id, minted.access_key_id);
        assert!(minted.expires_at > minted.issued_at);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn decode_never_panics_on_any_string(text in any::<String>()) {
        let _ = decode(&text);
        let _ = decode(&format!("{TOKEN_PREFIX}{text}"));
    }

    #[test]
    fn decode_never_panics_on_base64_of_anything(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let _ = decode(&format!("{TOKEN_PREFIX}{body}"));
    }

    #[test]
    fn decode_never_panics_on_url_like_queries(query in "[A-Za-z0-9%&=_./-]{0,300}") {
        use base64::Engine;
        let url = format!("bedrock.amazonaws.com/?Action=CallWithBearerToken&{query}");
        let body = base64::engine::general_purpose::STANDARD.encode(url.as_bytes());
        let _ = decode(&format!("{TOKEN_PREFIX}{body}"));
    }

    #[test]
    fn valid_tokens_decode_to_what_was_signed(params in token_params()) {
        let token = mint(&params);
        let info = decode(&token).expect("decode");
        prop_assert_eq!(&info.access_key_id, &params.0);
        prop_assert_eq!(&info.region, &params.3);
        prop_assert_eq!(info.expires_in, Duration::from_secs(params.4));
        prop_assert_eq!(info.issued, UNIX_EPOCH + Duration::from_secs(params.5));
        prop_assert_eq!(info.has_session_token, params.2.is_some());
    }

    #[test]
    fn decode_never_panics_on_mutated_tokens(
        params in token_params(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let token = mint(&params);
        let mutated = mutate(token.into_bytes(), &mutations);
        let _ = decode(&String::from_utf8_lossy(&mutated));
        // Also mutate the decoded URL and re-encode it, to get past the base64 layer.
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let url = engine
            .decode(mint(&params).strip_prefix(TOKEN_PREFIX).expect("prefix"))
            .expect("base64");
        let body = engine.encode(mutate(url, &mutations));
        let _ = decode(&format!("{TOKEN_PREFIX}{body}"));
    }

    #[test]
    fn record_parsing_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(record) = Record::parse_for(&bytes, IDENTITY) {
            assert_consistent(&record);
        }
        let _ = Record::claimed_identity(&bytes);
    }

    #[test]
    fn record_parsing_never_panics_on_json_shaped_noise(text in r#"[{}\[\]":,0-9a-z_ .-]{0,400}"#) {
        if let Ok(record) = Record::parse_for(text.as_bytes(), IDENTITY) {
            assert_consistent(&record);
        }
    }

    #[test]
    fn valid_records_round_trip(params in token_params()) {
        let (record, json) = record_json(&params);
        prop_assert_eq!(Record::parse_for(&json, IDENTITY), Ok(record));
        prop_assert!(Record::parse_for(&json, "profile:q|us-east-1|3600").is_err());
    }

    #[test]
    fn mutated_records_never_panic_and_never_pass_inconsistent(
        params in token_params(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let (_, json) = record_json(&params);
        let mutated = mutate(json, &mutations);
        if let Ok(record) = Record::parse_for(&mutated, IDENTITY) {
            assert_consistent(&record);
        }
    }

    #[test]
    fn a_record_whose_token_changed_at_all_is_refused(
        params in token_params(),
        at in any::<usize>(),
        with in "[A-Za-z0-9+/]",
    ) {
        let (record, json) = record_json(&params);
        let token = record.minted.as_ref().expect("minted").token.clone();
        let mut chars: Vec<char> = token.chars().collect();
        let i = TOKEN_PREFIX.len() + at % (chars.len() - TOKEN_PREFIX.len());
        let mut replacement = with.chars().next().expect("a char");
        if chars[i] == replacement {
            replacement = if replacement == 'A' { 'B' } else { 'A' };
        }
        chars[i] = replacement;
        let tampered: String = chars.into_iter().collect();
        let text = String::from_utf8(json).expect("utf8").replace(&token, &tampered);
        prop_assert!(Record::parse_for(text.as_bytes(), IDENTITY).is_err());
    }

    #[test]
    fn duration_parse_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn duration_parse_never_panics_on_duration_shaped_text(text in "[0-9hms ]{0,40}") {
        let _ = parse(&text);
    }

    #[test]
    fn durations_round_trip(
        h in proptest::option::of(0u64..100_000),
        m in proptest::option::of(0u64..100_000),
        s in proptest::option::of(0u64..100_000),
    ) {
        // At least one unit (no rejection, so huge case counts do not hit proptest's limit).
        let s = if h.is_none() && m.is_none() { Some(s.unwrap_or(0)) } else { s };
        let mut text = String::new();
        let mut secs = 0;
        if let Some(h) = h { text.push_str(&format!("{h}h")); secs += h * 3600; }
        if let Some(m) = m { text.push_str(&format!("{m}m")); secs += m * 60; }
        if let Some(s) = s { text.push_str(&format!("{s}s")); secs += s; }
        prop_assert_eq!(parse(&text), Ok(Duration::from_secs(secs)));
        prop_assert_eq!(parse(&format!("  {text}\t")), Ok(Duration::from_secs(secs)));
    }

    #[test]
    fn bare_seconds_round_trip(secs in any::<u64>()) {
        prop_assert_eq!(parse(&secs.to_string()), Ok(Duration::from_secs(secs)));
    }

    #[test]
    fn compact_display_parses_back_to_within_a_minute(secs in 0u64..10_000_000) {
        let shown = compact(Duration::from_secs(secs));
        let back = parse(&shown).expect("compact output parses").as_secs();
        prop_assert!(back <= secs && secs - back < 60, "{secs} -> {shown} -> {back}");
        if secs < 60 {
            prop_assert_eq!(back, secs);
        }
    }

    #[test]
    fn units_out_of_order_or_repeated_are_refused(a in 1u64..1000, b in 1u64..1000) {
        for text in [format!("{a}m{b}h"), format!("{a}s{b}m"), format!("{a}h{b}h"), format!("{a}h{b}")] {
            prop_assert!(parse(&text).is_err(), "{} parsed", text);
        }
    }
}
