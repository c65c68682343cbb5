//! The words of the phrasebook (`features/README.md`) that vary within a step,
//! each declared once: its phrases as the regex of a cucumber parameter, and
//! `FromStr` into the value a step hands the World. A phrase no regex admits
//! never reaches a World method.

use std::str::FromStr;

use crate::api::BadCredentials;

/// A phrase outside the vocabulary (cucumber's regex admitted it, `FromStr` did not).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not in the vocabulary of the steps")]
pub struct Unknown(String);

fn unknown<T>(phrase: &str) -> Result<T, Unknown> {
    Err(Unknown(phrase.to_owned()))
}

/// What a "Given" asks a task to be: `{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "running|stopped|failed|succeeded", name = "kind")]
pub enum Kind {
    Running,
    Stopped,
    Failed,
    Succeeded,
}

impl FromStr for Kind {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "running" => Ok(Self::Running),
            "stopped" => Ok(Self::Stopped),
            "failed" => Ok(Self::Failed),
            "succeeded" => Ok(Self::Succeeded),
            _ => unknown(phrase),
        }
    }
}

/// One of the profile's projects: `{project}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "first|second", name = "project")]
pub enum Which {
    First,
    Second,
}

impl Which {
    /// The project's index in the profile.
    pub fn index(self) -> usize {
        match self {
            Self::First => 0,
            Self::Second => 1,
        }
    }
}

impl FromStr for Which {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "first" => Ok(Self::First),
            "second" => Ok(Self::Second),
            _ => unknown(phrase),
        }
    }
}

/// A task of the scenario's trio, by its place: `{position}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "first|middle", name = "position")]
pub enum Position {
    First,
    Middle,
}

impl Position {
    /// The task's index among the scenario's tasks.
    pub fn index(self) -> usize {
        match self {
            Self::First => 0,
            Self::Middle => 1,
        }
    }
}

impl FromStr for Position {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "first" => Ok(Self::First),
            "middle" => Ok(Self::Middle),
            _ => unknown(phrase),
        }
    }
}

/// The credentials of a delete that must be refused: `{credentials}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    regex = r"no credentials|a bad token|a bad AK/SK signature|a tampered signature|a signature made with a wrong secret key|a signature dated \d+ minutes (?:ago|ahead)",
    name = "credentials"
)]
pub struct Credentials(pub BadCredentials);

impl FromStr for Credentials {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        let bad = match phrase {
            "no credentials" => BadCredentials::Missing,
            "a bad token" => BadCredentials::BadToken,
            "a bad AK/SK signature" => BadCredentials::UnknownKey,
            "a tampered signature" => BadCredentials::TamperedSignature,
            "a signature made with a wrong secret key" => BadCredentials::WrongSecret,
            _ => {
                return skewed(phrase)
                    .map(Self)
                    .ok_or_else(|| Unknown(phrase.to_owned()));
            }
        };
        Ok(Self(bad))
    }
}

/// "a signature dated N minutes ago" or "… ahead".
fn skewed(phrase: &str) -> Option<BadCredentials> {
    let rest = phrase.strip_prefix("a signature dated ")?;
    let (minutes, way) = rest.split_once(" minutes ")?;
    let seconds = minutes.parse::<i64>().ok()?.saturating_mul(60);
    match way {
        "ago" => Some(BadCredentials::SkewedDate(-seconds)),
        "ahead" => Some(BadCredentials::SkewedDate(seconds)),
        _ => None,
    }
}

/// Unexpected input on a delete (OMS-DEL-015): `{extra}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "JSON body|query string", name = "extra")]
pub enum Extra {
    Body,
    Query,
}

impl FromStr for Extra {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "JSON body" => Ok(Self::Body),
            "query string" => Ok(Self::Query),
            _ => unknown(phrase),
        }
    }
}

/// How a delete is expected to be refused: `{refusal}`. [`Refusal::Any`] is
/// the plain "the delete is refused", which names no way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    regex = "as a running task|as a missing task|as unauthenticated|as signed at the wrong time|across projects",
    name = "refusal"
)]
pub enum Refusal {
    Any,
    Running,
    Missing,
    CrossProject,
    Unauthenticated,
    /// Unauthenticated for its `X-Sdk-Date` (strict: `declared.skewed_date`).
    SkewedDate,
}

impl FromStr for Refusal {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "as a running task" => Ok(Self::Running),
            "as a missing task" => Ok(Self::Missing),
            "as unauthenticated" => Ok(Self::Unauthenticated),
            "as signed at the wrong time" => Ok(Self::SkewedDate),
            "across projects" => Ok(Self::CrossProject),
            _ => unknown(phrase),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skewed_date_is_signed_seconds_off_either_way() {
        let parse = |p: &str| p.parse::<Credentials>().map(|c| c.0).ok();
        assert_eq!(
            parse("a signature dated 30 minutes ago"),
            Some(BadCredentials::SkewedDate(-1800))
        );
        assert_eq!(
            parse("a signature dated 2 minutes ahead"),
            Some(BadCredentials::SkewedDate(120))
        );
        assert_eq!(
            parse("a bad AK/SK signature"),
            Some(BadCredentials::UnknownKey)
        );
        assert_eq!(parse("a signature dated soon"), None);
    }

    /// Every alternative of `T`'s regex, but those that are patterns.
    fn phrases<T: cucumber::Parameter>() -> impl Iterator<Item = &'static str> {
        T::REGEX
            .split('|')
            .filter(|p| !p.contains(['\\', '(', ')']))
    }

    #[test]
    fn every_phrase_of_a_regex_parses() {
        phrases::<Kind>().for_each(|p| assert!(p.parse::<Kind>().is_ok(), "{p}"));
        phrases::<Which>().for_each(|p| assert!(p.parse::<Which>().is_ok(), "{p}"));
        phrases::<Position>().for_each(|p| assert!(p.parse::<Position>().is_ok(), "{p}"));
        phrases::<Credentials>().for_each(|p| assert!(p.parse::<Credentials>().is_ok(), "{p}"));
        phrases::<Extra>().for_each(|p| assert!(p.parse::<Extra>().is_ok(), "{p}"));
        phrases::<Refusal>().for_each(|p| assert!(p.parse::<Refusal>().is_ok(), "{p}"));
        assert_eq!(phrases::<Credentials>().count(), 5);
    }

    #[test]
    fn words_outside_the_vocabulary_are_refused() {
        assert!("initializing".parse::<Kind>().is_err());
        assert!("third".parse::<Which>().is_err());
        assert_eq!("second".parse::<Which>().map(Which::index).ok(), Some(1));
        assert_eq!(
            "middle".parse::<Position>().map(Position::index).ok(),
            Some(1)
        );
    }
}

/// A dialect named by a rule about two of them: `{dialect}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "v1|v2", name = "dialect")]
pub struct DialectName(pub crate::api::Dialect);

impl FromStr for DialectName {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        crate::api::Dialect::parse(phrase)
            .map(Self)
            .ok_or_else(|| Unknown(phrase.to_owned()))
    }
}

/// Whose request a delete imitates: `{client}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(regex = "SDK|Terraform", name = "client")]
pub struct Client(pub crate::http::Shape);

impl FromStr for Client {
    type Err = Unknown;

    fn from_str(phrase: &str) -> Result<Self, Unknown> {
        match phrase {
            "SDK" => Ok(Self(crate::http::Shape::Sdk)),
            "Terraform" => Ok(Self(crate::http::Shape::Terraform)),
            _ => unknown(phrase),
        }
    }
}
