//! AK/SK request signing (SDK-HMAC-SHA256) as `shared/spec/signing.md` defines
//! it: the canonical request (method, canonical URI ending in `/`, sorted query,
//! the signed headers, the body's SHA-256), the string to sign, the HMAC-SHA256
//! signature keyed with the SK, and the headers that carry it. Pure functions of
//! their inputs; the HTTP client module supplies the clock and the request as it
//! goes on the wire. This is the harness's own signer: the reference server
//! verifies with an implementation of its own, and both are pinned to the
//! known-answer vectors of `signing.md` (the tests below), so that a mistake
//! shared by the two cannot hide. The canonical forms of the URI, the query and
//! the headers, and the encodings, live in `signing/canonical.rs`.

mod canonical;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Lower-case hex is re-exported: `provenance` names it as `signing::hex`.
pub(crate) use self::canonical::hex;
pub use self::canonical::{canonical_headers, canonical_query, canonical_uri};

/// The scheme name, in `Authorization` and in the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// One request, as it goes on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path exactly as sent, percent-escapes and all.
    pub path: &'a str,
    /// The query exactly as sent, without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header the request sends besides the ones [`sign`] adds. Each is
    /// signed unless its name contains `_`, as the Python SDK does.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// An access key and what goes with it.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub ak: &'a str,
    pub sk: &'a str,
    /// A temporary AK/SK's `X-Security-Token`, sent and signed.
    pub security_token: Option<&'a str>,
}

impl std::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key is a secret whole: not even the AK is shown.
        f.write_str("Key(***)")
    }
}

/// What signing adds to a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// `X-Sdk-Date`, `X-Security-Token` when the key has one, and `Authorization`,
    /// to send as they are.
    pub headers: Vec<(&'static str, String)>,
    /// The lowercase signed header names joined by `;`.
    pub signed_headers: String,
    /// The hex signature, for redacting any echo of it.
    pub signature: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"***")
            .finish()
    }
}

/// Signs `request` at `sdk_date` (`YYYYMMDDTHHMMSSZ`) with `key`.
pub fn sign(request: &Request<'_>, sdk_date: &str, key: &Key<'_>) -> Signed {
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.push(("X-Sdk-Date", sdk_date));
    if let Some(token) = key.security_token {
        headers.push(("X-Security-Token", token));
    }
    let (canonical_headers, signed_headers) = canonical_headers(&headers);
    let canonical = canonical_request(request, &canonical_headers, &signed_headers);
    let signature = signature(key.sk, &string_to_sign(sdk_date, &canonical));
    let mut added = vec![("X-Sdk-Date", sdk_date.to_owned())];
    if let Some(token) = key.security_token {
        added.push(("X-Security-Token", token.to_owned()));
    }
    added.push((
        "Authorization",
        authorization(key.ak, &signed_headers, &signature),
    ));
    Signed {
        headers: added,
        signed_headers,
        signature,
    }
}

/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>`.
pub fn authorization(ak: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Access={ak}, SignedHeaders={signed_headers}, Signature={signature}")
}

/// The canonical request: method, canonical URI, canonical query, canonical
/// headers (each line ends in `\n`, and a blank line follows them), signed
/// headers, and the hex SHA-256 of the body.
pub fn canonical_request(
    request: &Request<'_>,
    canonical_headers: &str,
    signed_headers: &str,
) -> String {
    format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        hex(&Sha256::digest(request.body)),
    )
}

/// `SDK-HMAC-SHA256 \n date \n hex(sha256(canonical request))`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The hex HMAC-SHA256 of `string_to_sign` keyed with `sk`.
pub fn signature(sk: &str, string_to_sign: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(sk.as_bytes()) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// A signature that is still 64 hex digits but wrong: its first digit changed.
pub fn tampered(signature: &str) -> String {
    let mut chars: Vec<char> = signature.chars().collect();
    if let Some(first) = chars.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

/// `X-Sdk-Date` for a Unix time: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn sdk_date(unix_seconds: u64) -> String {
    let date = crate::time::civil_date(unix_seconds).replace('-', "");
    let seconds = unix_seconds % 86_400;
    format!(
        "{date}T{:02}{:02}{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_AK: Key<'static> = Key {
        ak: "AccessKey",
        sk: "SecretKey",
        security_token: None,
    };
    const DUMMY: Key<'static> = Key {
        ak: "DUMMYAK",
        sk: "DUMMYSK",
        security_token: None,
    };
    /// H of `signing.md`, without `X-Sdk-Date` (which `sign` adds).
    const H: [(&str, &str); 4] = [
        ("Content-Type", "application/json"),
        ("User-Agent", "huaweicloud-usdk-python/3.0"),
        ("X-Project-Id", "0123456789abcdef0123456789abcdef"),
        ("Host", "127.0.0.1:18080"),
    ];

    fn request<'a>(
        method: &'a str,
        target: &'a str,
        headers: &'a [(&'a str, &'a str)],
        body: &'a [u8],
    ) -> Request<'a> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// A body-less request with the headers `H`, signed with `DUMMY` at the
    /// date of the known answers.
    fn signed_by_dummy(method: &str, target: &str) -> Signed {
        sign(
            &request(method, target, &H, b""),
            "20240101T000000Z",
            &DUMMY,
        )
    }

    fn authorization_of(signed: &Signed) -> &str {
        signed
            .headers
            .iter()
            .find(|(name, _)| *name == "Authorization")
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    #[test]
    fn vector_1_go_sdk_get_with_an_unsigned_underscore_header() {
        let headers = [("TEST_UNDERSCORE", "TEST_VALUE")];
        let signed = sign(
            &request("GET", "/path?limit=1", &headers, b""),
            "20060102T150405Z",
            &GO_AK,
        );
        assert_eq!(signed.signed_headers, "x-sdk-date");
        assert_eq!(
            signed.signature,
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
        assert_eq!(
            authorization_of(&signed),
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, \
             Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    #[test]
    fn vector_2_go_sdk_post_with_a_body() {
        let headers = [("TEST_UNDERSCORE", "TEST_VALUE")];
        let body = b"{\"Name\":\"test\",\"Id\":1}\n";
        let signed = sign(
            &request("POST", "/path?key=value", &headers, body),
            "20060102T150405Z",
            &GO_AK,
        );
        assert_eq!(
            signed.signature,
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
        );
    }

    #[test]
    fn vector_3_python_sdk_v2_delete() {
        let signed = signed_by_dummy("DELETE", "/v2/0123456789abcdef0123456789abcdef/tasks/1");
        assert_eq!(
            signed.signed_headers,
            "content-type;host;user-agent;x-project-id;x-sdk-date"
        );
        assert_eq!(
            signed.signature,
            "a68a52835b443c2ab468d36cac57f5a744988339c22899521cfe154028dceff7"
        );
    }

    #[test]
    fn vector_4_python_sdk_v1_delete() {
        let signed = signed_by_dummy(
            "DELETE",
            "/v1/0123456789abcdef0123456789abcdef/objectstorage/task/1",
        );
        assert_eq!(
            signed.signature,
            "aaacdda82d5d381c93d5f00df5cadd26cf488a991862edd0c5e43ed9cd31819b"
        );
        assert_eq!(
            authorization_of(&signed),
            "SDK-HMAC-SHA256 Access=DUMMYAK, \
             SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, \
             Signature=aaacdda82d5d381c93d5f00df5cadd26cf488a991862edd0c5e43ed9cd31819b"
        );
        assert_eq!(signed.headers[0], ("X-Sdk-Date", "20240101T000000Z".into()));
    }

    #[test]
    fn vector_5_python_sdk_list_with_a_query() {
        let signed = signed_by_dummy(
            "GET",
            "/v2/0123456789abcdef0123456789abcdef/tasks?limit=10&offset=0&status=2",
        );
        assert_eq!(
            signed.signature,
            "70788b0f1af98455bd525edceb86ccbf5a927fedd3cf4c1c55e7375d7f971064"
        );
        // The order of the query on the wire does not matter.
        let shuffled = signed_by_dummy(
            "GET",
            "/v2/0123456789abcdef0123456789abcdef/tasks?status=2&offset=0&limit=10",
        );
        assert_eq!(shuffled.signature, signed.signature);
    }

    /// The v2 known answers of `oms-v2-api.md` §5.1 that `signing.md` does not
    /// list: stop, show, start and bandwidth, as the SDK 3.1.219 signs them.
    #[test]
    fn v2_known_answers_of_the_sdk() {
        const UTF8: [(&str, &str); 4] = [
            ("Content-Type", "application/json;charset=utf-8"),
            H[1],
            H[2],
            H[3],
        ];
        /// Method, target, headers, body, the SDK's signature.
        type Case<'a> = (&'a str, String, &'a [(&'a str, &'a str)], &'a [u8], &'a str);
        let pid = "0123456789abcdef0123456789abcdef";
        let cases: [Case<'_>; 4] = [
            (
                "POST",
                format!("/v2/{pid}/tasks/1/stop"),
                &H,
                b"",
                "40734b3c3bed0a1e8303ec118e16867a3f499dad61701695117d731227a046e0",
            ),
            (
                "GET",
                format!("/v2/{pid}/tasks/1"),
                &H,
                b"",
                "349c07648dbf664c8c2d6bd589ae1b06e221f3314d15158b163721393c16b034",
            ),
            (
                "POST",
                format!("/v2/{pid}/tasks/1/start"),
                &UTF8,
                br#"{"dst_ak": "DSTAK", "dst_sk": "DSTSK"}"#,
                "33bdbc4b1f53200c2ce3b052f4c7ce643eaea8debd43ad3df91e2f1c2087fdcd",
            ),
            (
                "PUT",
                format!("/v2/{pid}/tasks/1/bandwidth-policy"),
                &UTF8,
                br#"{"bandwidth_policy": [{"end": "12:00", "max_bandwidth": 1048576, "start": "00:00"}]}"#,
                "ac9253f423659bafb0a6ccc2a414c44caa28da91e403fe9c40a48d9d7a8202e8",
            ),
        ];
        for (method, target, headers, body, want) in cases {
            let signed = sign(
                &request(method, &target, headers, body),
                "20240101T000000Z",
                &DUMMY,
            );
            assert_eq!(signed.signature, want, "{method} {target}");
        }
    }

    #[test]
    fn every_part_of_the_request_is_signed() {
        let base = request("DELETE", "/v1/p/objectstorage/task/1", &H, b"");
        let date = "20240101T000000Z";
        let reference = sign(&base, date, &DUMMY).signature;
        let other_headers = [("Content-Type", "application/json"), ("Host", "h:1")];
        let variants = [
            sign(
                &Request {
                    method: "GET",
                    ..base
                },
                date,
                &DUMMY,
            ),
            sign(
                &Request {
                    path: "/v1/p/objectstorage/task/2",
                    ..base
                },
                date,
                &DUMMY,
            ),
            sign(
                &Request {
                    query: "a=1",
                    ..base
                },
                date,
                &DUMMY,
            ),
            sign(
                &Request {
                    headers: &other_headers,
                    ..base
                },
                date,
                &DUMMY,
            ),
            sign(
                &Request {
                    body: b"{}",
                    ..base
                },
                date,
                &DUMMY,
            ),
            sign(&base, "20240101T000001Z", &DUMMY),
            sign(
                &base,
                date,
                &Key {
                    sk: "DUMMYSKB",
                    ..DUMMY
                },
            ),
            sign(
                &base,
                date,
                &Key {
                    security_token: Some("t"),
                    ..DUMMY
                },
            ),
        ];
        for variant in variants {
            assert_ne!(variant.signature, reference, "{variant:?}");
        }
    }

    #[test]
    fn a_security_token_is_sent_and_signed() {
        let key = Key {
            security_token: Some("TEMP-TOKEN"),
            ..DUMMY
        };
        let signed = sign(&request("GET", "/x", &H, b""), "20240101T000000Z", &key);
        assert!(signed.signed_headers.contains("x-security-token"));
        assert!(
            signed
                .headers
                .contains(&("X-Security-Token", "TEMP-TOKEN".to_owned()))
        );
    }

    #[test]
    fn sdk_dates_are_utc_timestamps() {
        assert_eq!(sdk_date(0), "19700101T000000Z");
        assert_eq!(sdk_date(1_136_214_245), "20060102T150405Z");
        assert_eq!(sdk_date(1_704_067_199), "20231231T235959Z");
    }

    #[test]
    fn a_tampered_signature_differs_and_keeps_its_shape() {
        for signature in ["0abc", "abc0", "f00"] {
            let tampered = tampered(signature);
            assert_ne!(tampered, signature);
            assert_eq!(tampered.len(), signature.len());
            assert!(tampered.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn keys_and_signatures_do_not_show_in_debug() {
        let signed = signed_by_dummy("GET", "/x");
        let debug = format!("{DUMMY:?} {signed:?}");
        assert!(!debug.contains("DUMMY"), "{debug}");
        assert!(!debug.contains(&signed.signature), "{debug}");
    }
}
