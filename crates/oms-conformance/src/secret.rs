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

/// Names of JSON fields whose values are secrets wherever they appear: the
/// keys of v1's create and start bodies, and those v2's create body may carry
/// beside its `ak`/`sk` (`oms-v2-api.md` §2.1: a node's `security_token`,
/// Azure's `connection_string`, Google's `json_auth_file`, a CDN's
/// `authentication_key`).
pub const SECRET_FIELDS: [&str; 10] = [
    "ak",
    "sk",
    "source_ak",
    "source_sk",
    "target_ak",
    "target_sk",
    "security_token",
    "connection_string",
    "json_auth_file",
    "authentication_key",
];

/// Keys of a profile's project tables that hold a credential.
pub const CREDENTIAL_KEYS: [&str; 4] = ["token", "ak", "sk", "security_token"];

/// A copy of `value` without any object key that `names` lists, at any depth and
/// whatever its value: what is left holds none of those secrets, nor a trace of
/// whether or how they were given.
pub fn without_keys(value: &serde_json::Value, names: &[&str]) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .filter(|(key, _)| !names.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), without_keys(value, names)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(|item| without_keys(item, names)).collect())
        }
        other => other.clone(),
    }
}

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
    fn the_secrets_of_a_v2_create_body_are_redacted_and_collected() {
        let body = serde_json::json!({
            "src_node": {"ak": "A1", "sk": "S1", "security_token": "T1", "bucket": "b"},
            "dst_node": {"ak": "A2", "sk": "S2", "security_token": "T2"},
            "source_cdn": {"authentication_key": "K1", "domain": "d"},
        });
        let shown = redacted(&body).to_string();
        for secret in ["A1", "S1", "T1", "A2", "S2", "T2", "K1"] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
        assert!(shown.contains("\"bucket\":\"b\"") && shown.contains("\"domain\":\"d\""));
        let mut collected = Vec::new();
        collect_secret_fields(&body, &mut collected);
        collected.sort();
        assert_eq!(collected, ["A1", "A2", "K1", "S1", "S2", "T1", "T2"]);
    }

    #[test]
    fn without_keys_drops_every_named_key_at_any_depth() {
        let value = serde_json::json!({
            "token": "t", "name": "n",
            "first_project": {"id": "p", "ak": {"nested": 1}, "sk": "s"},
            "list": [{"security_token": "x", "keep": true}],
        });
        let left = without_keys(&value, &CREDENTIAL_KEYS);
        assert_eq!(
            left,
            serde_json::json!({"name": "n", "first_project": {"id": "p"}, "list": [{"keep": true}]})
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = Secret::new("dev-token-a");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
