//! What a target declares for the values the spec leaves open: the answer it
//! gives to each kind of refused delete ([`Answer`], `STATUS` or `STATUS CODE`),
//! its success status and whether it ignores unexpected input. The defaults are
//! the OMS documentation's; strict mode checks them.

use std::fmt;

use super::profile::{DeclaredFile, OneOrMany};

/// An expected answer, `STATUS` or `STATUS CODE` (`"400 OMS.0063"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
}

impl Answer {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split_whitespace();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| format!("`{text}` does not start with an HTTP status"))?;
        let code = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return Err(format!("`{text}` is not `STATUS` or `STATUS CODE`"));
        }
        Ok(Self { status, code })
    }

    /// Whether an answer with this status and error code matches.
    pub fn matches(&self, status: u16, code: Option<&str>) -> bool {
        self.status == status && self.code.as_deref().is_none_or(|c| Some(c) == code)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} {code}", self.status),
            None => write!(f, "{}", self.status),
        }
    }
}

/// What the target declares for the values the spec leaves open; checked in
/// strict mode only.
#[derive(Debug, Clone)]
pub struct Declared {
    pub delete_status: u16,
    pub running: Vec<Answer>,
    pub missing: Vec<Answer>,
    pub malformed: Vec<Answer>,
    /// The empty task id (`…/task/`), which a router may treat as another route.
    pub empty_segment: Vec<Answer>,
    pub cross_project: Vec<Answer>,
    pub unauthenticated: Vec<Answer>,
    /// A correctly signed request whose `X-Sdk-Date` is more than 15 minutes off.
    pub skewed_date: Vec<Answer>,
    /// `true`: a delete with an unexpected body or query is handled as without it.
    pub unexpected_input_ignored: bool,
}

fn answers(value: &Option<OneOrMany>, name: &str, default: &[&str]) -> Result<Vec<Answer>, String> {
    let texts: Vec<String> = match value {
        None => default.iter().map(|s| (*s).to_owned()).collect(),
        Some(OneOrMany::One(one)) => vec![one.clone()],
        Some(OneOrMany::Many(many)) => many.clone(),
    };
    if texts.is_empty() {
        return Err(format!("declared.{name} is empty"));
    }
    texts
        .iter()
        .map(|t| Answer::parse(t).map_err(|m| format!("declared.{name}: {m}")))
        .collect()
}

pub(super) fn declared(file: &DeclaredFile) -> Result<Declared, String> {
    let unexpected_input_ignored = match file.unexpected_input.as_deref() {
        None | Some("ignored") => true,
        Some("refused") => false,
        Some(other) => {
            return Err(format!(
                "declared.unexpected_input is `{other}`; expected `ignored` or `refused`"
            ));
        }
    };
    let delete_status = file.delete_status.unwrap_or(200);
    if !(200..300).contains(&delete_status) {
        return Err(format!(
            "declared.delete_status {delete_status} is not a 2xx"
        ));
    }
    Ok(Declared {
        delete_status,
        running: answers(&file.running, "running", &["400 OMS.0063"])?,
        missing: answers(&file.missing, "missing", &["400 OMS.1009"])?,
        malformed: answers(&file.malformed, "malformed", &["400 OMS.0054"])?,
        empty_segment: answers(&file.empty_segment, "empty_segment", &["404 APIGW.0101"])?,
        cross_project: answers(
            &file.cross_project,
            "cross_project",
            &["403", "400 OMS.1009"],
        )?,
        unauthenticated: answers(
            &file.unauthenticated,
            "unauthenticated",
            &["401 APIGW.0301"],
        )?,
        skewed_date: answers(&file.skewed_date, "skewed_date", &["401 APIGW.0303"])?,
        unexpected_input_ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_status_and_code() {
        assert_eq!(
            Answer::parse("400 OMS.0063"),
            Ok(Answer {
                status: 400,
                code: Some("OMS.0063".to_owned())
            })
        );
        assert!(Answer::parse("4xx").is_err());
        assert!(Answer::parse("400 A B").is_err());
        let any_code = Answer::parse("403").unwrap();
        assert!(any_code.matches(403, Some("OMS.0072")));
        assert!(!any_code.matches(401, None));
    }
}
