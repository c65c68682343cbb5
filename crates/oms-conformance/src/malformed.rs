//! Malformed task ids for OMS-DEL-009: the catalogue's fixed list, and a set
//! generated from proptest strategies with a seed that the report prints and
//! `--seed` replays. Every id is a path segment exactly as sent, percent-encoded
//! where a byte may not appear raw in a request target.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The generated ids for `seed`: `count` segments, each from one of the strategies
/// below in turn, none of them a well-formed task id.
pub fn generate(seed: u64, count: usize) -> Vec<String> {
    let mut bytes = [0_u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mixed = seed
            .wrapping_add(i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        chunk.copy_from_slice(&mixed.to_le_bytes());
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategies = strategies();
    let mut ids = Vec::with_capacity(count);
    let mut attempts = 0;
    while ids.len() < count && attempts < count * 10 {
        attempts += 1;
        let strategy = &strategies[attempts % strategies.len()];
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let segment = encode(&tree.current());
        if !is_well_formed(&segment) && !ids.contains(&segment) {
            ids.push(segment);
        }
    }
    ids
}

fn strategies() -> Vec<proptest::strategy::BoxedStrategy<String>> {
    let regex = |pattern: &str| {
        proptest::string::string_regex(pattern)
            .unwrap_or_else(|e| unreachable!("the pattern {pattern} is valid: {e}"))
            .boxed()
    };
    vec![
        regex("[a-zA-Z][a-zA-Z0-9_-]{0,12}"),
        regex("-[1-9][0-9]{0,17}"),
        regex("[0-9]{1,8}\\.[0-9]{1,4}"),
        regex("[1-9][0-9]{19,30}"),
        regex("[ \t][0-9]{1,8}|[0-9]{1,8}[ \t]"),
        regex("[0-9]{1,4}[a-z+*~!$]{1,3}[0-9]{0,4}"),
        proptest::collection::vec(proptest::char::range('\u{a1}', '\u{10fff}'), 1..4)
            .prop_map(|chars| chars.into_iter().collect::<String>())
            .boxed(),
    ]
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A decimal int64 with no sign and no leading zero: what a task id looks like.
fn is_well_formed(segment: &str) -> bool {
    !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && !(segment.len() > 1 && segment.starts_with('0'))
        && segment.parse::<i64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_ids() {
        let a = generate(42, 24);
        assert_eq!(a.len(), 24);
        assert_eq!(a, generate(42, 24));
        assert_ne!(a, generate(43, 24));
    }

    #[test]
    fn generated_ids_are_never_well_formed_and_safe_to_send() {
        for seed in 0..20 {
            for id in generate(seed, 24) {
                assert!(!is_well_formed(&id), "{id}");
                assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id}");
                assert!(!id.contains('/'), "{id}");
            }
        }
    }
}
