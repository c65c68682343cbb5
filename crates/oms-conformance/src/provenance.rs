//! Provenance: what judged a run, as `results.json` records it under
//! `provenance`, so that a result says which kit, rules, scenarios and profile
//! produced it, and `compare` can refuse to set side by side runs judged by
//! different kits or catalogues. The kit's name and version, and three SHA-256
//! digests, each over a defined byte sequence:
//!
//! - **catalogue**: the bytes of the catalogue the run used (the one the kit
//!   embeds, `fixtures/catalogue.toml` at build time);
//! - **features**: the feature files the run used (built in, or
//!   `--features-dir`), in the byte order of their names relative to their
//!   folder, each as its name, a NUL byte, its length in bytes in decimal, a NUL
//!   byte, and its bytes; the built-in features and a copy of `features/` hash
//!   alike;
//! - **profile**: the canonical JSON ([`canonical_json`]) of the profile as the
//!   run used it, with every secret removed first (`RunConfig::profile_as_used`):
//!   the same profile with other secrets has the same digest, and no secret can
//!   be recovered or confirmed from it, since none is hashed.
//!
//! A leaf: the caller hands in the texts and the secret-free profile.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::signing::hex;

/// The kit's name, as `results.json` records it.
pub const KIT_NAME: &str = env!("CARGO_PKG_NAME");
/// The kit's version, as `results.json` records it.
pub const KIT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the kit was built from, or `unknown` for a build outside a
/// git checkout (`build.rs`).
pub const KIT_COMMIT: &str = env!("OMS_CONFORMANCE_GIT_COMMIT");

/// What judged a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub kit: Kit,
    pub catalogue: Digest,
    pub features: FeaturesDigest,
    pub profile: ProfileDigest,
}

/// The kit that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kit {
    pub name: String,
    pub version: String,
    /// The git commit the kit was built from, or `unknown`.
    pub commit: String,
}

/// A SHA-256 digest, in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Digest {
    pub sha256: String,
}

/// The features' digest and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeaturesDigest {
    pub sha256: String,
    /// `built-in`, or the folder given with `--features-dir`.
    pub source: String,
    /// The files hashed, by name, in the order hashed.
    pub files: Vec<String>,
}

/// The profile's digest, and its name (which the digest covers too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileDigest {
    pub sha256: String,
    pub name: String,
}

/// One feature file as hashed: its name relative to its folder, and its text.
#[derive(Debug, Clone, Copy)]
pub struct FeatureFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Provenance {
    /// The provenance of a run that used this catalogue text, these features
    /// (from `features_source`), and this profile (its name, and the profile as
    /// used with its secrets already removed).
    pub fn new(
        catalogue: &str,
        features_source: &str,
        features: &[FeatureFile<'_>],
        profile_name: &str,
        profile_as_used: &serde_json::Value,
    ) -> Self {
        let mut files: Vec<String> = features.iter().map(|f| f.name.to_owned()).collect();
        files.sort();
        Self {
            kit: Kit {
                name: KIT_NAME.to_owned(),
                version: KIT_VERSION.to_owned(),
                commit: KIT_COMMIT.to_owned(),
            },
            catalogue: Digest {
                sha256: sha256_hex(catalogue.as_bytes()),
            },
            features: FeaturesDigest {
                sha256: features_digest(features),
                source: features_source.to_owned(),
                files,
            },
            profile: ProfileDigest {
                sha256: profile_digest(profile_as_used),
                name: profile_name.to_owned(),
            },
        }
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The features digest: the files in the byte order of their names, each as
/// `name NUL length NUL bytes` (the length in decimal), so that no two sets of
/// files give the same sequence.
pub fn features_digest(files: &[FeatureFile<'_>]) -> String {
    let mut sorted: Vec<&FeatureFile<'_>> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut hasher = Sha256::new();
    for file in sorted {
        hasher.update(file.name.as_bytes());
        hasher.update([0]);
        hasher.update(file.text.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(file.text.as_bytes());
    }
    hex(&hasher.finalize())
}

/// The profile digest: SHA-256 of the canonical JSON of the profile as used,
/// which must already be free of secrets.
pub fn profile_digest(profile_as_used: &serde_json::Value) -> String {
    sha256_hex(canonical_json(profile_as_used).as_bytes())
}

/// JSON with one spelling per value: object keys in the byte order of their
/// UTF-8, no whitespace, strings and numbers as `serde_json` writes them.
/// Independent of whether `serde_json` keeps keys sorted or in insertion order.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_the_empty_string_is_the_known_one() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_has_no_whitespace() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{ "b": [ {"z": 1, "a": "x\"y"} ], "a": null }"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":null,"b":[{"a":"x\"y","z":1}]}"#
        );
    }

    fn file<'a>(name: &'a str, text: &'a str) -> FeatureFile<'a> {
        FeatureFile { name, text }
    }

    #[test]
    fn the_features_digest_follows_its_definition_and_ignores_the_order_given() {
        let a = file("a.feature", "Feature: A\n");
        let b = file("b.feature", "Feature: B\n");
        let expected =
            sha256_hex(b"a.feature\x0011\x00Feature: A\nb.feature\x0011\x00Feature: B\n");
        assert_eq!(features_digest(&[a, b]), expected);
        assert_eq!(features_digest(&[b, a]), expected);
        // Moving a byte from one file to the next changes the digest: the
        // lengths keep the files apart.
        let a2 = file("a.feature", "Feature: A\nF");
        let b2 = file("b.feature", "eature: B\n");
        assert_ne!(features_digest(&[a2, b2]), expected);
    }

    #[test]
    fn each_digest_changes_with_what_it_covers() {
        let feature = [file("x.feature", "Feature: X\n")];
        let profile = serde_json::json!({"profile": {"name": "p"}});
        let base = Provenance::new("catalogue", "built-in", &feature, "p", &profile);
        assert_eq!(
            base,
            Provenance::new("catalogue", "built-in", &feature, "p", &profile),
            "stable"
        );
        let other_catalogue = Provenance::new("catalogue!", "built-in", &feature, "p", &profile);
        assert_ne!(other_catalogue.catalogue, base.catalogue);
        assert_eq!(other_catalogue.features, base.features);
        let edited = [file("x.feature", "Feature: Y\n")];
        let other_features = Provenance::new("catalogue", "built-in", &edited, "p", &profile);
        assert_ne!(other_features.features.sha256, base.features.sha256);
        let other_profile = Provenance::new(
            "catalogue",
            "built-in",
            &feature,
            "p",
            &serde_json::json!({"profile": {"name": "q"}}),
        );
        assert_ne!(other_profile.profile, base.profile);
        assert_eq!(base.kit.name, "oms-conformance");
    }
}
