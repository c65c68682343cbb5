//! The [`Redactor`] every logged text goes through: the run's known secret
//! values replaced in text, and secret JSON fields hidden in bodies.

use crate::secret::{Secret, redacted};

/// Replaces known secret values in text, and secret JSON fields in bodies.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    pub fn new(mut secrets: Vec<String>) -> Self {
        // Longest first, so that a secret that contains another (an AK `DUMMYAKB`
        // beside `DUMMYAK`) is hidden whole, not left with a tail.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            secrets: secrets.into_iter().map(Secret::new).collect(),
        }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "***");
            }
        }
        out
    }

    pub(super) fn body(&self, bytes: &[u8]) -> String {
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => self.text(&redacted(&value).to_string()),
            Err(_) => self.text(&String::from_utf8_lossy(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_secret_values_and_fields() {
        let redactor = Redactor::new(vec!["dev-token-a".to_owned()]);
        assert_eq!(redactor.text("token dev-token-a here"), "token *** here");
        let body = br#"{"src_node":{"ak":"AKVALUE","bucket":"b"},"source_sk":"x"}"#;
        let text = redactor.body(body);
        assert!(!text.contains("AKVALUE"), "{text}");
        assert!(text.contains(r#""bucket":"b""#), "{text}");
        assert!(text.contains(r#""source_sk":"***""#), "{text}");
    }
}
