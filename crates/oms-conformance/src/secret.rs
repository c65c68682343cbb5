//! Secrets and their redaction: [`Secret`], whose `Debug` never shows the value,
//! and the JSON fields ([`SECRET_FIELDS`]) whose values are secrets wherever they
//! appear (the source and target AK/SK of a create body). A leaf module: the
//! configuration holds secrets, the HTTP client and the signer use them, and
//! nothing here knows either.

use std::fmt;

/// A credential or other secret value. `Debug` prints `***`; the value is reached
/// only through [`Secret::expose`], by the HTTP client module.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Names of JSON fields whose values are secrets wherever they appear.
pub const SECRET_FIELDS: [&str; 6] = [
    "ak",
    "sk",
    "source_ak",
    "source_sk",
    "target_ak",
    "target_sk",
];

/// A copy of `value` with every [`SECRET_FIELDS`] string replaced by `***`.
pub fn redacted(value: &serde_json::Value) -> serde_json::Value {
    let mut copy = value.clone();
    redact_fields(&mut copy);
    copy
}

fn redact_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && value.is_string() {
                    *value = serde_json::Value::String("***".to_owned());
                } else {
                    redact_fields(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_fields),
        _ => {}
    }
}

/// Appends to `out` the value of every [`SECRET_FIELDS`] string in `value`, so
/// that they can be hidden wherever else they show up (an echoed body, an error).
pub fn collect_secret_fields(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value {
                    serde_json::Value::String(s) if SECRET_FIELDS.contains(&key.as_str()) => {
                        out.push(s.clone());
                    }
                    other => collect_secret_fields(other, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_secret_fields(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = Secret::new("dev-token-a");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
