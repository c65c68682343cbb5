//! The canonical forms of a request's parts as `signing.md` defines them (the
//! URI, the query, the signed headers) and the percent and hex encodings they
//! are made with.

/// The canonical URI of a path as sent, as the Python SDK makes it
/// (`signer._process_canonical_uri`, `oms-v2-api.md` §5.1): the whole path
/// percent-decoded, then split on `/`, each segment re-encoded keeping only
/// unreserved bytes, ending in `/`. So an encoded `%2F` counts as a segment
/// separator, exactly as it does for the SDK and for a server that verifies
/// what the SDK signs.
pub fn canonical_uri(path: &str) -> String {
    let mut out: String = decode(path)
        .split(|b| *b == b'/')
        .map(encode)
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query of a query as sent: `key=value` pairs (a pair without
/// `=` has an empty value, and keeps its `=`), each side decoded and
/// re-encoded, sorted by key and then by value, joined by `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(key)), encode(&decode(value)))
        })
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical headers (`name:value\n` per signed header, sorted, names
/// lowercase, values trimmed) and the signed header list. Names with `_` are
/// left out, as the Python SDK leaves them out.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut signed: Vec<(String, &str)> = headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    signed.sort();
    let canonical = signed
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let names = signed
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, names)
}

/// Decodes `%XX` escapes into bytes; a `%` not followed by two hex digits stays.
fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = match tail {
            [high, low, ..] if first == b'%' => hex_value(*high).zip(hex_value(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                out.push(high << 4 | low);
                rest = &tail[2..];
            }
            None => {
                out.push(first);
                rest = tail;
            }
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// Percent-encodes every byte but RFC 3986's unreserved ones, upper-case hex.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Lower-case hex of `bytes` (signatures here, digests in `provenance`).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uris_keep_only_unreserved_bytes_and_end_in_a_slash() {
        for (path, canonical) in [
            ("/path", "/path/"),
            ("/path/", "/path/"),
            ("/v1/p/task/%2e%2e", "/v1/p/task/../"),
            // As the SDK: the whole path decoded before it is split.
            ("/t/%2F", "/t//"),
            ("/t/1%2f1", "/t/1/1/"),
            ("/v2/p/tasks/a%20b%2Fc", "/v2/p/tasks/a%20b/c/"),
            ("/t/+1", "/t/%2B1/"),
            ("/t/%E4%B8%80", "/t/%E4%B8%80/"),
            ("/t/%e4%b8%80", "/t/%E4%B8%80/"),
            ("/t/%00", "/t/%00/"),
            ("/t/%", "/t/%25/"),
            ("/t/%4", "/t/%254/"),
            ("/t/%zz", "/t/%25zz/"),
            ("/t/a~b_c-d.e", "/t/a~b_c-d.e/"),
            ("/t/", "/t/"),
            ("/t//x", "/t//x/"),
        ] {
            assert_eq!(canonical_uri(path), canonical, "{path}");
        }
    }

    #[test]
    fn canonical_queries_are_sorted_and_keep_empty_values() {
        for (query, canonical) in [
            ("", ""),
            ("b=2&a=1", "a=1&b=2"),
            ("flag&a=", "a=&flag="),
            ("a=2&a=1", "a=1&a=2"),
            ("q=a%20b&r=x y", "q=a%20b&r=x%20y"),
            ("k=a+b", "k=a%2Bb"),
        ] {
            assert_eq!(canonical_query(query), canonical, "{query}");
        }
    }

    #[test]
    fn canonical_headers_are_lowercase_trimmed_and_sorted() {
        let (canonical, names) =
            canonical_headers(&[("X-B", "  two "), ("x-a", "one"), ("Not_Signed", "x")]);
        assert_eq!(canonical, "x-a:one\nx-b:two\n");
        assert_eq!(names, "x-a;x-b");
    }
}
