//! The create bodies of a run ([`CreateBodies`]): the JSON objects the profile
//! names for each dialect judged (`[create]` for v1, `[create.v2]` for v2),
//! read once; their `Debug` hides the source and target keys they carry.

use std::fmt;

use super::error::ConfigError;
use super::profile::{CreateFile, CreateSetFile, Origin};
use crate::dialect::Dialect;
use crate::secret::redacted;

/// The three create bodies a profile names for one dialect. They carry the source and target
/// AK/SK, so `Debug` shows them with those fields redacted.
#[derive(Clone)]
pub struct CreateBodies {
    pub running: serde_json::Value,
    pub succeeding: serde_json::Value,
    pub failing: Option<serde_json::Value>,
    /// A task that succeeds by itself, seen running well before its end (the
    /// end race of OMS-DEL-024); the succeeding body where the profile names
    /// none.
    pub ending: serde_json::Value,
    /// A task that retries until stopped (v2 only).
    pub retrying: Option<serde_json::Value>,
}

impl fmt::Debug for CreateBodies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateBodies")
            .field("running", &redacted(&self.running))
            .field("succeeding", &redacted(&self.succeeding))
            .field("failing", &self.failing.as_ref().map(redacted))
            .field("ending", &redacted(&self.ending))
            .field("retrying", &self.retrying.as_ref().map(redacted))
            .finish()
    }
}

/// The create bodies the profile names for each dialect judged: `[create]` for
/// v1, `[create.v2]` for v2.
pub(super) fn bodies(
    origin: &Origin,
    create: &CreateFile,
    apis: &[Dialect],
) -> Result<Vec<(Dialect, CreateBodies)>, ConfigError> {
    let mut sets = Vec::new();
    for dialect in apis {
        let set = match dialect {
            Dialect::V1 => match (&create.running, &create.succeeding) {
                (Some(running), Some(succeeding)) => CreateSetFile {
                    running: running.clone(),
                    succeeding: succeeding.clone(),
                    failing: create.failing.clone(),
                    ending: create.ending.clone(),
                    retrying: None,
                },
                _ => {
                    return Err(origin.error(
                        "v1 is judged but [create] does not name `running` and `succeeding` bodies"
                            .to_owned(),
                    ));
                }
            },
            Dialect::V2 => match &create.v2 {
                Some(set) => CreateSetFile {
                    running: set.running.clone(),
                    succeeding: set.succeeding.clone(),
                    failing: set.failing.clone(),
                    ending: set.ending.clone(),
                    retrying: set.retrying.clone(),
                },
                None => {
                    return Err(origin.error(
                        "v2 is judged but the profile has no [create.v2] bodies".to_owned(),
                    ));
                }
            },
        };
        sets.push((*dialect, bodies_of(origin, &set)?));
    }
    Ok(sets)
}

/// One dialect's create bodies, each a JSON object.
fn bodies_of(origin: &Origin, create: &CreateSetFile) -> Result<CreateBodies, ConfigError> {
    let body = |relative: &str| -> Result<serde_json::Value, ConfigError> {
        let (path, text) = origin.read(relative, "create body")?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ConfigError::CreateBody {
                path: path.clone(),
                source,
            })?;
        if !value.is_object() {
            return Err(origin.error(format!("create body {path} is not a JSON object")));
        }
        Ok(value)
    };
    let succeeding = body(&create.succeeding)?;
    Ok(CreateBodies {
        running: body(&create.running)?,
        ending: match &create.ending {
            Some(ending) => body(ending)?,
            None => succeeding.clone(),
        },
        succeeding,
        failing: create.failing.as_deref().map(body).transpose()?,
        retrying: create.retrying.as_deref().map(body).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies_do_not_show_secret_fields_in_debug() {
        let body =
            serde_json::json!({"src_node": {"ak": "REAL-AK", "sk": "REAL-SK", "bucket": "b"}});
        let bodies = CreateBodies {
            running: body.clone(),
            succeeding: body.clone(),
            ending: body,
            failing: None,
            retrying: None,
        };
        let debug = format!("{bodies:?}");
        assert!(
            !debug.contains("REAL-AK") && !debug.contains("REAL-SK") && debug.contains("bucket"),
            "{debug}"
        );
    }
}
