//! Verification of Huawei Cloud AK/SK request signatures (SDK-HMAC-SHA256),
//! as `shared/spec/signing.md` defines them: the canonical request (method,
//! canonical URI ending in `/`, sorted query, the headers the client lists,
//! the body's SHA-256), the string to sign, and HMAC-SHA256 keyed with the SK.
//! This is the server's own implementation; the harness signs with another,
//! and both are pinned to the same known-answer vectors.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The scheme name in `Authorization` and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// How far `X-Sdk-Date` may be from the server's clock.
pub const MAX_SKEW_MS: u64 = 15 * 60 * 1000;

/// The parts of an `Authorization: SDK-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub access: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`;
    /// `None` for anything else.
    pub fn parse(header: &'a str) -> Option<Self> {
        let rest = header.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=')?;
            match key {
                "Access" => access = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let signed_headers: Vec<&str> = signed?.split(';').collect();
        if signed_headers.iter().any(|h| h.is_empty()) {
            return None;
        }
        Some(Self {
            access: access.filter(|a| !a.is_empty())?,
            signed_headers,
            signature: signature?,
        })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Decodes `%XX` escapes; a stray `%` stays as it is.
fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The canonical URI as the official SDK builds it
/// (`signer._process_canonical_uri`): the whole path percent-decoded, then
/// split on `/`, each segment re-encoded, always ending in `/`. So an encoded
/// slash (`%2F`) is a separator here, as it is for the SDK that signed it.
pub fn canonical_uri(raw_path: &str) -> String {
    let mut out = String::with_capacity(raw_path.len() + 1);
    for (i, segment) in decode(raw_path).split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode(segment, &mut out);
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query: pairs decoded, re-encoded, sorted by key then value.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (mut key, mut value) = (String::new(), String::new());
            encode(&decode(k), &mut key);
            encode(&decode(v), &mut value);
            (key, value)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The canonical request. `header` looks a signed header up by its lowercase
/// name; a signed header the request lacks makes the signature unverifiable.
pub fn canonical_request<'h>(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    signed_headers: &[&str],
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
) -> Option<String> {
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    let mut canonical_headers = String::new();
    for name in &names {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(header(name)?.trim());
        canonical_headers.push('\n');
    }
    Some(format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{}",
        canonical_uri(raw_path),
        canonical_query(raw_query),
        names.join(";"),
        hex(&Sha256::digest(body)),
    ))
}

/// The string to sign for a canonical request made at `sdk_date`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

fn mac(secret: &str, string_to_sign: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// The hex signature of `string_to_sign` under `secret`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    hex(&mac(secret, string_to_sign).finalize().into_bytes())
}

/// Whether `signature_hex` signs `string_to_sign` under `secret`, compared in constant time.
pub fn verify(secret: &str, string_to_sign: &str, signature_hex: &str) -> bool {
    unhex(signature_hex).is_some_and(|sig| mac(secret, string_to_sign).verify_slice(&sig).is_ok())
}

/// `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, UTC) as milliseconds since the epoch.
pub fn parse_sdk_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signs a request of the vectors: `headers` are (name, value) pairs, all signed
    /// except those whose name holds `_`, as the Python SDK does.
    fn signature(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sk: &str,
    ) -> String {
        let signed: Vec<&str> = headers
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !n.contains('_'))
            .collect();
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let date = lookup("x-sdk-date").unwrap();
        let canonical = canonical_request(method, path, query, &signed, lookup, body).unwrap();
        sign(sk, &string_to_sign(date, &canonical))
    }

    const GO: [(&str, &str); 2] = [
        ("X-Sdk-Date", "20060102T150405Z"),
        ("TEST_UNDERSCORE", "TEST_VALUE"),
    ];
    const H: [(&str, &str); 5] = [
        ("Content-Type", "application/json"),
        ("User-Agent", "huaweicloud-usdk-python/3.0"),
        ("X-Project-Id", "0123456789abcdef0123456789abcdef"),
        ("X-Sdk-Date", "20240101T000000Z"),
        ("Host", "127.0.0.1:18080"),
    ];

    #[test]
    fn known_answer_vectors_of_signing_md() {
        assert_eq!(
            signature("GET", "/path", "limit=1", &GO, b"", "SecretKey"),
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
        assert_eq!(
            signature(
                "POST",
                "/path",
                "key=value",
                &GO,
                b"{\"Name\":\"test\",\"Id\":1}\n",
                "SecretKey"
            ),
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
        );
        assert_eq!(
            signature(
                "DELETE",
                "/v2/0123456789abcdef0123456789abcdef/tasks/1",
                "",
                &H,
                b"",
                "DUMMYSK"
            ),
            "a68a52835b443c2ab468d36cac57f5a744988339c22899521cfe154028dceff7"
        );
        assert_eq!(
            signature(
                "DELETE",
                "/v1/0123456789abcdef0123456789abcdef/objectstorage/task/1",
                "",
                &H,
                b"",
                "DUMMYSK"
            ),
            "aaacdda82d5d381c93d5f00df5cadd26cf488a991862edd0c5e43ed9cd31819b"
        );
        assert_eq!(
            signature(
                "GET",
                "/v2/0123456789abcdef0123456789abcdef/tasks",
                "offset=0&status=2&limit=10",
                &H,
                b"",
                "DUMMYSK"
            ),
            "70788b0f1af98455bd525edceb86ccbf5a927fedd3cf4c1c55e7375d7f971064"
        );
    }

    /// The v2 known-answer signatures of `oms-v2-api.md` §5.1: H with the
    /// `Content-Type` of each operation.
    #[test]
    fn known_answer_vectors_of_the_v2_api() {
        const PID: &str = "0123456789abcdef0123456789abcdef";
        let with_type = |content_type: &'static str| {
            let mut headers = H;
            headers[0] = ("Content-Type", content_type);
            headers
        };
        let json = with_type("application/json");
        let utf8 = with_type("application/json;charset=utf-8");
        type Case<'a> = (
            &'a str,
            String,
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [u8],
            &'a str,
        );
        let cases: [Case<'_>; 6] = [
            (
                "DELETE",
                format!("/v2/{PID}/tasks/1"),
                "",
                &json,
                b"",
                "a68a52835b443c2ab468d36cac57f5a744988339c22899521cfe154028dceff7",
            ),
            (
                "POST",
                format!("/v2/{PID}/tasks/1/stop"),
                "",
                &json,
                b"",
                "40734b3c3bed0a1e8303ec118e16867a3f499dad61701695117d731227a046e0",
            ),
            (
                "GET",
                format!("/v2/{PID}/tasks/1"),
                "",
                &json,
                b"",
                "349c07648dbf664c8c2d6bd589ae1b06e221f3314d15158b163721393c16b034",
            ),
            (
                "POST",
                format!("/v2/{PID}/tasks/1/start"),
                "",
                &utf8,
                br#"{"dst_ak": "DSTAK", "dst_sk": "DSTSK"}"#,
                "33bdbc4b1f53200c2ce3b052f4c7ce643eaea8debd43ad3df91e2f1c2087fdcd",
            ),
            (
                "PUT",
                format!("/v2/{PID}/tasks/1/bandwidth-policy"),
                "",
                &utf8,
                br#"{"bandwidth_policy": [{"end": "12:00", "max_bandwidth": 1048576, "start": "00:00"}]}"#,
                "ac9253f423659bafb0a6ccc2a414c44caa28da91e403fe9c40a48d9d7a8202e8",
            ),
            (
                "GET",
                format!("/v2/{PID}/tasks"),
                "limit=10&offset=0&status=2",
                &json,
                b"",
                "70788b0f1af98455bd525edceb86ccbf5a927fedd3cf4c1c55e7375d7f971064",
            ),
        ];
        for (method, path, query, headers, body, expected) in cases {
            assert_eq!(
                signature(method, &path, query, headers, body, "DUMMYSK"),
                expected,
                "{method} {path}?{query}"
            );
        }
    }

    #[test]
    fn verification_is_exact() {
        let sts = string_to_sign("20240101T000000Z", "x");
        let good = sign("sk", &sts);
        assert!(verify("sk", &sts, &good));
        assert!(!verify("other", &sts, &good));
        let mut tampered = good.clone().into_bytes();
        tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
        assert!(!verify("sk", &sts, std::str::from_utf8(&tampered).unwrap()));
        assert!(!verify("sk", &sts, "zz"));
        assert!(!verify("sk", &sts, ""));
    }

    #[test]
    fn parses_the_authorization_header() {
        let header = "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abcd";
        assert_eq!(
            Authorization::parse(header),
            Some(Authorization {
                access: "AK",
                signed_headers: vec!["host", "x-sdk-date"],
                signature: "abcd"
            })
        );
        for bad in [
            "",
            "SDK-HMAC-SHA256",
            "Basic abc",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=a, Signature=b",
            "SDK-HMAC-SHA256 Access=A, SignedHeaders=a;;b, Signature=b",
            "SDK-HMAC-SHA256 Access=A, Bogus=1",
        ] {
            assert_eq!(Authorization::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical_uri("/v1/p/task/1"), "/v1/p/task/1/");
        assert_eq!(canonical_uri("/a%20b/c/"), "/a%20b/c/");
        // The SDK decodes the whole path before splitting: `%2F` separates.
        assert_eq!(
            canonical_uri("/v2/p/tasks/a%20b%2Fc"),
            "/v2/p/tasks/a%20b/c/"
        );
        assert_eq!(
            canonical_uri("/v2/p/tasks/%7Btask_id%7D"),
            "/v2/p/tasks/%7Btask_id%7D/"
        );
        assert_eq!(canonical_query("b=2&a=&c"), "a=&b=2&c=");
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_sdk_date("20240101T000000Z"), Some(1_704_067_200_000));
        assert_eq!(parse_sdk_date("20241301T000000Z"), None);
        assert_eq!(parse_sdk_date("2024-01-01T00:00"), None);
    }
}
