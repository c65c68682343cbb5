//! The few `check` helpers every judgement goes through. They look only at the raw
//! JSON and headers received, never at a server's types. A failed check says what
//! was expected and carries the redacted exchanges behind it; [`Halt`] is how a
//! step stops a scenario: failed, inconclusive (a precondition not reached), or
//! error (the kit could not run it).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::api::TaskState;
use crate::config::Answer;
use crate::http::{Exchange, Received};

/// The class of an answer's HTTP status. A transport failure is in no class.
pub trait StatusClass {
    /// The HTTP status, if there was an answer.
    fn http_status(&self) -> Option<u16>;

    /// A 2xx.
    fn is_success(&self) -> bool {
        self.http_status().is_some_and(|s| (200..300).contains(&s))
    }

    /// A 4xx.
    fn is_client_error(&self) -> bool {
        self.http_status().is_some_and(|s| (400..500).contains(&s))
    }
}

// On the types of `http.rs` from here, so that the answer classes live with the
// judgements that use them.
impl StatusClass for Exchange {
    fn http_status(&self) -> Option<u16> {
        self.status()
    }
}

impl StatusClass for Received {
    fn http_status(&self) -> Option<u16> {
        Some(self.status)
    }
}

/// A check that did not hold.
#[derive(Debug, Clone)]
pub struct CheckFailure {
    pub expectation: String,
    pub evidence: Vec<Arc<Exchange>>,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "expected: {}", self.expectation)?;
        for exchange in &self.evidence {
            f.write_str(&exchange.render())?;
        }
        Ok(())
    }
}

/// Why a scenario stopped before its last step.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Halt {
    #[error("{0}")]
    Failed(CheckFailure),
    #[error("inconclusive: {0}")]
    Inconclusive(String),
    #[error("error: {0}")]
    Error(String),
}

/// The one primitive: `holds`, or a failure that states `expectation` and shows
/// `evidence`.
pub fn check(
    holds: bool,
    expectation: impl FnOnce() -> String,
    evidence: &[&Arc<Exchange>],
) -> Result<(), CheckFailure> {
    if holds {
        Ok(())
    } else {
        Err(CheckFailure {
            expectation: expectation(),
            evidence: evidence.iter().map(|e| Arc::clone(e)).collect(),
        })
    }
}

/// What is wrong with a body that should be an *error body* (a JSON object whose
/// `error_code` and `error_msg` are non-empty strings), if anything.
pub fn error_body_problem(received: &Received) -> Option<String> {
    let Some(json) = &received.json else {
        return Some("the body is not JSON".to_owned());
    };
    let Some(object) = json.as_object() else {
        return Some("the body is not a JSON object".to_owned());
    };
    for field in ["error_code", "error_msg"] {
        match object.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => return Some(format!("`{field}` is not a non-empty string")),
            None => return Some(format!("`{field}` is missing")),
        }
    }
    None
}

fn response(exchange: &Arc<Exchange>) -> Result<&Received, CheckFailure> {
    exchange.response.as_ref().ok_or_else(|| CheckFailure {
        expectation: "an answer".to_owned(),
        evidence: vec![Arc::clone(exchange)],
    })
}

/// A successful delete: a 2xx (exactly `declared` in strict mode) with no body,
/// and `Content-Length: 0` when the header is present.
pub fn succeeded_without_body(
    exchange: &Arc<Exchange>,
    declared: Option<u16>,
) -> Result<(), CheckFailure> {
    let r = response(exchange)?;
    match declared {
        Some(status) => check(
            r.status == status,
            || format!("the declared success status {status} (got {})", r.status),
            &[exchange],
        )?,
        None => check(
            r.is_success(),
            || format!("a 2xx status (got {})", r.status),
            &[exchange],
        )?,
    }
    check(
        r.body_len == 0,
        || format!("no body, an empty entity (got {} bytes)", r.body_len),
        &[exchange],
    )?;
    let length = r.header("content-length").map(str::trim);
    check(
        length.is_none_or(|l| l == "0"),
        || {
            format!(
                "`Content-Length: 0` where the header is present (got {})",
                length.unwrap_or_default()
            )
        },
        &[exchange],
    )
}

/// A refusal: a 4xx with an error body; in strict mode one of the `declared`
/// answers.
pub fn refused(
    exchange: &Arc<Exchange>,
    what: &str,
    declared: Option<&[Answer]>,
) -> Result<(), CheckFailure> {
    let r = response(exchange)?;
    check(
        r.is_client_error(),
        || format!("{what}: a 4xx status (got {})", r.status),
        &[exchange],
    )?;
    if let Some(problem) = error_body_problem(r) {
        return Err(CheckFailure {
            expectation: format!("{what}: an error body ({problem})"),
            evidence: vec![Arc::clone(exchange)],
        });
    }
    if let Some(answers) = declared {
        check(
            answers.iter().any(|a| a.matches(r.status, r.error_code())),
            || {
                format!(
                    "{what}: the declared answer {} (got {})",
                    list(answers),
                    exchange.observed()
                )
            },
            &[exchange],
        )?;
    }
    Ok(())
}

/// An authentication refusal: 401 or 403 with an error body; in strict mode one of
/// the `declared` answers.
pub fn unauthenticated(
    exchange: &Arc<Exchange>,
    declared: Option<&[Answer]>,
) -> Result<(), CheckFailure> {
    let r = response(exchange)?;
    check(
        r.status == 401 || r.status == 403,
        || {
            format!(
                "a refusal without valid credentials: 401 (or 403) (got {})",
                r.status
            )
        },
        &[exchange],
    )?;
    refused(exchange, "a refusal without valid credentials", declared)
}

/// No 5xx among `exchanges` (at most five offenders are shown).
pub fn no_server_error<'a>(
    exchanges: impl IntoIterator<Item = &'a Arc<Exchange>>,
    what: &str,
) -> Result<(), CheckFailure> {
    let offenders: Vec<&Arc<Exchange>> = exchanges
        .into_iter()
        .filter(|e| e.status().is_some_and(|s| s >= 500))
        .collect();
    check(
        offenders.is_empty(),
        || format!("{what}: no 5xx ({} answered with one)", offenders.len()),
        &offenders.iter().take(5).copied().collect::<Vec<_>>(),
    )
}

/// The answer carries a non-empty `X-Request-Id`.
pub fn has_request_id(exchange: &Arc<Exchange>) -> Result<(), CheckFailure> {
    let r = response(exchange)?;
    check(
        r.header("x-request-id")
            .is_some_and(|v| !v.trim().is_empty()),
        || "an `X-Request-Id` header".to_owned(),
        &[exchange],
    )
}

/// An error answer (4xx or 5xx) is `application/json` with an error body.
pub fn json_error(exchange: &Arc<Exchange>) -> Result<(), CheckFailure> {
    let r = response(exchange)?;
    let json_type = r.header("content-type").is_some_and(|v| {
        v.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    check(
        json_type,
        || "an error answer with `Content-Type: application/json`".to_owned(),
        &[exchange],
    )?;
    match error_body_problem(r) {
        None => Ok(()),
        Some(problem) => Err(CheckFailure {
            expectation: format!("an error answer with an error body ({problem})"),
            evidence: vec![Arc::clone(exchange)],
        }),
    }
}

/// Whether a task moved from `before` to `after` by the engine's own progress
/// (never by a stop, a start or a reset, which are a client's), or did not
/// move. The moves, closed under succession, each with its source:
/// - initializing → waiting → running, by scheduling (`conformance-rules.md`
///   states 0–2; `oms-v2-api.md` §3: "create → 1 → 2 by itself");
/// - running ↔ retrying: retrying (v2's 6) is the engine re-transferring after
///   transient failures (§3, [I]), so a task enters and leaves it by itself,
///   and a task may be scheduled straight into it;
/// - running or retrying → failed or succeeded: "2 → 5 or 4 by the engine" (§3);
/// - pausing → stopped: a stop under way ends by itself (§3: "2 → 7 → 3",
///   the Terraform provider's pending 7, target 3).
///
/// Never running → stopped: only a client's stop does that.
pub fn status_consistent(before: TaskState, after: TaskState) -> bool {
    use TaskState::{
        Failed, Initializing, Pausing, Retrying, Running, Stopped, Succeeded, Waiting,
    };
    before == after
        || match before {
            Initializing => matches!(after, Waiting | Running | Retrying | Failed | Succeeded),
            Waiting => matches!(after, Running | Retrying | Failed | Succeeded),
            Running => matches!(after, Retrying | Failed | Succeeded),
            Retrying => matches!(after, Running | Failed | Succeeded),
            Pausing => after == Stopped,
            _ => false,
        }
}

/// What differs between a task's snapshot (in state `was`) and a later `GET` of
/// it (in state `is`), if anything: the *intact* of the catalogue.
pub fn intact_problem(
    snapshot: &Value,
    was: Option<TaskState>,
    now: &Received,
    is: Option<TaskState>,
) -> Option<String> {
    if now.status != 200 {
        return Some(format!("GET answered {} instead of 200", now.status));
    }
    let Some(json) = &now.json else {
        return Some("GET answered a body that is not JSON".to_owned());
    };
    for field in ["id", "name", "src_node", "dst_node"] {
        if json.get(field) != snapshot.get(field) {
            return Some(format!(
                "`{field}` changed from {} to {}",
                show(snapshot.get(field)),
                show(json.get(field))
            ));
        }
    }
    match (was, is) {
        (Some(b), Some(a)) if status_consistent(b, a) => None,
        (b, a) => Some(format!(
            "status went from {} to {}",
            show_state(b),
            show_state(a)
        )),
    }
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_owned(), Value::to_string)
}

fn show_state(state: Option<TaskState>) -> String {
    state.map_or_else(|| "nothing".to_owned(), |s| s.to_string())
}

fn list(answers: &[Answer]) -> String {
    answers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::http::Method;

    /// An exchange that got `status`, `headers` and `body`, for unit tests.
    pub(crate) fn exchange(status: u16, headers: &[(&str, &str)], body: &str) -> Arc<Exchange> {
        Arc::new(Exchange {
            seq: 0,
            method: Method::Delete,
            url: "http://t/v1/p/objectstorage/task/1".to_owned(),
            raw: false,
            request_headers: vec![],
            request_body: None,
            elapsed_ms: 1,
            response: Some(Received {
                status,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                body: body.to_owned(),
                body_len: body.len(),
                body_truncated: false,
                json: serde_json::from_str(body).ok(),
            }),
            error: None,
            curl: String::new(),
        })
    }

    #[test]
    fn a_body_on_a_successful_delete_fails() {
        assert!(
            succeeded_without_body(&exchange(200, &[("content-length", "0")], ""), None).is_ok()
        );
        assert!(succeeded_without_body(&exchange(204, &[], ""), None).is_ok());
        assert!(succeeded_without_body(&exchange(204, &[], ""), Some(200)).is_err());
        assert!(succeeded_without_body(&exchange(200, &[], "{}"), None).is_err());
        assert!(succeeded_without_body(&exchange(400, &[], ""), None).is_err());
    }

    #[test]
    fn refusals_need_a_4xx_and_an_error_body() {
        let good = r#"{"error_code":"OMS.0063","error_msg":"The task is in progress."}"#;
        assert!(refused(&exchange(400, &[], good), "x", None).is_ok());
        assert!(refused(&exchange(500, &[], good), "x", None).is_err());
        assert!(refused(&exchange(400, &[], r#"{"error_code":""}"#), "x", None).is_err());
        assert!(refused(&exchange(400, &[], "oops"), "x", None).is_err());
        let declared = [Answer {
            status: 400,
            code: Some("OMS.0063".to_owned()),
        }];
        assert!(refused(&exchange(400, &[], good), "x", Some(&declared)).is_ok());
        let other = r#"{"error_code":"OMS.1009","error_msg":"No resources found."}"#;
        assert!(refused(&exchange(400, &[], other), "x", Some(&declared)).is_err());
    }

    #[test]
    fn statuses_only_move_forward_by_the_engine() {
        use TaskState::*;
        assert!(status_consistent(Running, Running));
        assert!(status_consistent(Running, Succeeded));
        assert!(status_consistent(Initializing, Running));
        assert!(!status_consistent(Running, Stopped));
        assert!(!status_consistent(Succeeded, Running));
        assert!(status_consistent(Other(7), Other(7)));
        assert!(!status_consistent(Other(7), Other(8)));
    }

    #[test]
    fn retrying_is_progress_and_a_stop_is_not() {
        use TaskState::*;
        // 2 ↔ 6 by itself, and out of 6 to an end.
        for (from, to) in [
            (Running, Retrying),
            (Retrying, Running),
            (Retrying, Failed),
            (Retrying, Succeeded),
            (Waiting, Retrying),
            (Pausing, Stopped),
        ] {
            assert!(status_consistent(from, to), "{from} → {to}");
        }
        // Only a client moves a task into a stop, a pause or back to work.
        for (from, to) in [
            (Running, Stopped),
            (Retrying, Stopped),
            (Running, Pausing),
            (Retrying, Pausing),
            (Stopped, Running),
            (Failed, Retrying),
            (Pausing, Running),
        ] {
            assert!(!status_consistent(from, to), "{from} → {to}");
        }
    }

    #[test]
    fn every_move_by_itself_is_closed_under_succession() {
        use TaskState::*;
        let all = [
            Initializing,
            Waiting,
            Running,
            Stopped,
            Failed,
            Succeeded,
            Retrying,
            Pausing,
        ];
        for a in all {
            for b in all {
                for c in all {
                    if status_consistent(a, b) && status_consistent(b, c) {
                        assert!(status_consistent(a, c), "{a} → {b} → {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_5xx_anywhere_is_reported() {
        let ok = exchange(400, &[], "");
        let bad = exchange(503, &[], "");
        assert!(no_server_error([&ok], "x").is_ok());
        let failure = no_server_error([&ok, &bad], "x").unwrap_err();
        assert_eq!(failure.evidence.len(), 1);
    }
}
