//! The rule catalogue as data: `fixtures/catalogue.toml`, embedded at compile time.
//! Reports take each rule's level, basis and statement from here; OMS-DEL-009 takes
//! its fixed list of malformed task ids from here; the tidy test checks the features
//! against it.

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;

const CATALOGUE: &str = include_str!("../../../fixtures/catalogue.toml");

/// How much a rule weighs in the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
}

impl Level {
    /// The level as the catalogue and every report write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// A spec sentence a rule rests on.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sentence {
    pub id: String,
    pub source: String,
    pub text: String,
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub level: Level,
    pub basis: Vec<String>,
    pub rule: String,
    /// The reference profile's value, where the rule has one.
    pub reference: String,
    /// The dialects the rule applies to (`oms-v2-api.md` §7).
    pub api: Vec<Dialect>,
    /// How the rule reads in v2, where its wording changes there. The
    /// reference value is the same in both dialects for every rule that
    /// applies to both (`oms-v2-api.md` §7), so it is stated once.
    #[serde(default)]
    pub v2_rule: Option<String>,
}

impl Rule {
    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.api.contains(&dialect)
    }

    /// The rule's statement in `dialect`.
    pub fn statement(&self, dialect: Dialect) -> &str {
        match (dialect, &self.v2_rule) {
            (Dialect::V2, Some(v2)) => v2,
            _ => &self.rule,
        }
    }
}

/// A malformed task id of the fixed list, as the exact path segment to send.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MalformedId {
    pub segment: String,
    pub kind: String,
    /// The dialects it is malformed in; all when absent.
    #[serde(default)]
    pub api: Option<Vec<Dialect>>,
    /// A router may take it for another route (the empty segment, a sibling
    /// route's name): strict mode holds its answer to the declared
    /// `empty_segment` answers, not the `malformed` ones.
    #[serde(default)]
    pub route: bool,
}

impl MalformedId {
    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.api.as_ref().is_none_or(|api| api.contains(&dialect))
    }
}

/// The whole catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(rename = "sentence")]
    pub sentences: Vec<Sentence>,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
    #[serde(rename = "malformed_id")]
    pub malformed_ids: Vec<MalformedId>,
}

/// The embedded catalogue does not parse: a build of the kit that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("the embedded rule catalogue is invalid: {0}")]
pub struct CatalogueError(String);

/// The text of the catalogue this build embeds, as the catalogue digest of
/// `results.json` hashes it.
pub fn embedded_text() -> &'static str {
    CATALOGUE
}

impl Catalogue {
    /// The catalogue this build embeds.
    pub fn embedded() -> Result<Self, CatalogueError> {
        Self::parse(CATALOGUE)
    }

    /// Parses a catalogue and checks that every basis names a known sentence.
    pub fn parse(text: &str) -> Result<Self, CatalogueError> {
        let catalogue: Self = toml::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        for rule in &catalogue.rules {
            for basis in &rule.basis {
                if catalogue.sentence(basis).is_none() {
                    return Err(CatalogueError(format!(
                        "{} rests on unknown sentence {basis}",
                        rule.id
                    )));
                }
            }
        }
        Ok(catalogue)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn sentence(&self, id: &str) -> Option<&Sentence> {
        self.sentences.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_has_its_rules_each_with_its_dialects() {
        let catalogue = Catalogue::embedded().unwrap();
        assert_eq!(catalogue.rules.len(), 23);
        let v1 = catalogue.rules.iter().filter(|r| r.applies_to(Dialect::V1));
        assert_eq!(
            v1.count(),
            18,
            "OMS-DEL-001 to 017 and the kit's own OMS-DEL-024 apply to v1"
        );
        let v2_only: Vec<&str> = catalogue
            .rules
            .iter()
            .filter(|r| r.api == [Dialect::V2])
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            v2_only,
            [
                "OMS-DEL-018",
                "OMS-DEL-019",
                "OMS-DEL-020",
                "OMS-DEL-021",
                "OMS-DEL-023"
            ]
        );
        let d2 = catalogue.rule("OMS-DEL-002").unwrap();
        assert_ne!(d2.statement(Dialect::V2), d2.statement(Dialect::V1));
        assert_eq!(catalogue.rules[0].id, "OMS-DEL-001");
        assert_eq!(catalogue.rule("OMS-DEL-006").unwrap().level, Level::Should);
        assert!(
            catalogue
                .malformed_ids
                .iter()
                .any(|m| m.segment == "%2E%2E")
        );
    }

    #[test]
    fn an_unknown_basis_is_rejected() {
        let text = r#"
            sentence = []
            malformed_id = []
            [[rule]]
            id = "X"
            level = "MUST"
            basis = ["S9"]
            rule = "r"
            reference = ""
            api = ["v1"]
        "#;
        assert!(Catalogue::parse(text).is_err());
    }
}
