//! The server's wire formats, one module per API dialect. Each converts its
//! request bodies into the domain types of `model` (validating them on the way
//! and dropping secrets at the edge) and renders domain views back, and owns
//! the dialect's status codes. The harness never sees these types: it judges
//! the JSON it receives.
//!
//! This module holds what every dialect's bodies share: JSON parsing with OMS
//! error codes, and the field checks of the create and start bodies.
//!
//! Every body of both dialects ignores the fields it does not know, at every
//! level (bandwidth windows included): "A server should ignore unknown
//! fields" (`oms-v2-api.md` §2.1, inferred there from the 2020 docs and
//! Terraform still sending `enable_kms`, which SDK 3.1.219 no longer has). The
//! official SDK also sends every field of its models that a caller sets, more
//! than this server reads (`kms_key_id`, `list_file_num`, …): refusing them
//! would refuse the SDK. No struct here denies unknown fields.
//!
//! A known field's `null` is a wrong type (`OMS.0064`), an optional field's
//! too: no request schema of the OpenAPI documents admits `null`, and the
//! official SDK never sends it (its `sanitize_for_serialization` drops every
//! unset attribute; no captured body holds one). So every optional field is
//! read through [`present`], never as a bare `Option`, which serde fills with
//! `None` for `null`.

pub mod v1;
pub mod v2;

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Deserializer, Serialize, de};
use serde_json::value::RawValue;

use crate::bandwidth::{PolicyError, WindowSpec};
use crate::error::ApiError;
use crate::model::{ListFile, Status, StatusSet, TaskType};

const MAX_KEY_LEN: usize = 100;

/// The states a dialect's status code names (several where the dialect
/// shows several states as one code), if it names any.
pub(crate) fn states_named(code: u8, status_code: fn(Status) -> u8) -> Option<StatusSet> {
    let states: Vec<Status> = Status::ALL
        .into_iter()
        .filter(|s| status_code(*s) == code)
        .collect();
    (!states.is_empty()).then(|| StatusSet::of(&states))
}

/// Parses a JSON body, mapping serde's failure to the OMS code for it. A
/// refusal names the field it is about by its path in the body
/// (`src_node.region`, `bandwidth_policy[0].max_bandwidth`); it never quotes
/// the value, which may be a secret.
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| refusal(err, bytes))?;
    // As `serde_json::from_slice` does: nothing but whitespace may follow.
    de.end().map_err(|err| not_json(&err))?;
    Ok(value)
}

/// A body that is no JSON, at the position where it stops being JSON.
fn not_json(err: &serde_json::Error) -> ApiError {
    ApiError::not_json(format_args!("line {} column {}", err.line(), err.column()))
}

fn refusal(err: serde_path_to_error::Error<serde_json::Error>, bytes: &[u8]) -> ApiError {
    let path = err.path().to_string();
    let err = err.into_inner();
    // serde_json calls a value that is no enum's variant (`null`, `true`, a
    // number where a string is read) a syntax error, as it calls bad JSON;
    // only a body that is no JSON at all is "not JSON".
    if !err.is_data() && serde_json::from_slice::<de::IgnoredAny>(bytes).is_err() {
        return not_json(&err);
    }
    // serde's "missing field `x`" is raised by the object that lacks `x`, so
    // the path is that object's.
    let message = err.to_string();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
    {
        return match path.as_str() {
            "." => ApiError::missing_param(format_args!("`{field}`")),
            object => ApiError::missing_param(format_args!("`{object}.{field}`")),
        };
    }
    let subject = match path.as_str() {
        "." => "the body".to_owned(),
        field => format!("`{field}`"),
    };
    // serde gives no position for an error it finds in content it buffered
    // first (an internally tagged or untagged enum): only a real one is shown.
    match err.line() {
        0 => ApiError::invalid_params(format_args!("{subject} has a wrong type or value")),
        line => ApiError::invalid_params(format_args!(
            "{subject} has a wrong type or value at line {line} column {}",
            err.column()
        )),
    }
}

pub(crate) fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::missing_param(format_args!("`{field}`"))),
    }
}

pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_param(format_args!("`{field}`")));
    }
    Ok(())
}

/// A required key: non-empty, at most 100 characters.
pub(crate) fn key_len(field: &'static str, value: &str) -> Result<(), ApiError> {
    non_empty(field, value)?;
    optional_key(field, Some(value))
}

/// An optional key: at most 100 characters when given. An empty one is
/// accepted, as no key, never called a missing required parameter: the spec
/// gives optional keys a maximum and no minimum length (`oms-v1-api.md` §1,
/// `oms-v2-api.md` §2.3), and the SDK sends whatever a caller set, validating
/// nothing (`oms-v2-api.md` §2.1). (An optional field with documented values
/// is another matter: "" is none of them, `OMS.0064`, see `documented`.)
pub(crate) fn optional_key(field: &'static str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(key) if key.chars().count() > MAX_KEY_LEN => Err(ApiError::invalid_params(
            format_args!("`{field}` is longer than {MAX_KEY_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

/// The source's keys: required unless the task reads URLs, which need none;
/// then they are optional keys.
pub(crate) fn source_keys(
    task_type: TaskType,
    ak: Option<&str>,
    sk: Option<&str>,
) -> Result<(), ApiError> {
    for (field, key) in [("src_node.ak", ak), ("src_node.sk", sk)] {
        match task_type {
            TaskType::UrlList => optional_key(field, key)?,
            _ => key_len(field, key.unwrap_or_default())?,
        }
    }
    Ok(())
}

/// An optional field, as `#[serde(default, deserialize_with = "present")]`:
/// absent is `None` (the `default`), and anything given must be a `T`, so
/// `null` is a wrong type like any other value that is no `T`.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A field that must be a JSON object: serde reads a struct from an array
/// too (its fields in order), which no client means and no document allows.
#[derive(Debug)]
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Members<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Members(std::marker::PhantomData))
            .map(Object)
    }
}

/// `src_node.list_file` of either dialect (v2 adds `list_file_num`, which its
/// own form reads, `wire::v2`).
#[derive(Debug, Deserialize)]
pub(crate) struct ListFileJson {
    pub(crate) obs_bucket: String,
    pub(crate) list_file_key: String,
}

/// The list file of a create body: required for a list or url_list task,
/// and whenever it is given its two keys are required, so empty is missing.
pub(crate) fn list_file(
    task_type: TaskType,
    list_file: Option<ListFileJson>,
) -> Result<Option<ListFile>, ApiError> {
    let Some(list_file) = list_file else {
        if matches!(task_type, TaskType::List | TaskType::UrlList) {
            return Err(ApiError::missing_param("`src_node.list_file`"));
        }
        return Ok(None);
    };
    non_empty("src_node.list_file.obs_bucket", &list_file.obs_bucket)?;
    non_empty("src_node.list_file.list_file_key", &list_file.list_file_key)?;
    Ok(Some(ListFile {
        obs_bucket: list_file.obs_bucket,
        list_file_key: list_file.list_file_key,
        list_file_num: None,
    }))
}

/// An integer field as the body wrote it: any JSON integer, however large
/// or negative, so that one outside the field's range gets the field's range
/// error (serde_json reads an integer past 64 bits as a float, which an
/// integer field would refuse as a wrong type). A number with a fraction or an
/// exponent is no integer: like a string or `null` it is a wrong type
/// (`OMS.0064`), as for any field.
#[derive(Debug, Clone)]
pub struct Integer(Box<str>);

impl Integer {
    /// The value, if it fits a `T`.
    pub(crate) fn get<T: TryFrom<i128>>(&self) -> Option<T> {
        self.0
            .parse::<i128>()
            .ok()
            .and_then(|n| T::try_from(n).ok())
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(de::Error::custom("expected an integer"));
        }
        Ok(Self(text.into()))
    }
}

/// A bandwidth window as a body of either dialect states it: `start`, `end`
/// and `max_bandwidth`, all required.
#[derive(Debug, Deserialize)]
pub struct WindowIn {
    start: String,
    end: String,
    max_bandwidth: Integer,
}

/// The windows a body states, for `Policy::parse`. An empty `start` or `end`
/// is as missing as any empty required string (`OMS.1004`), not a bad
/// `hh:mm`; a `max_bandwidth` outside the dialect's `bandwidth` range, however
/// large or negative, is the dialect's `range_code`.
pub(crate) fn windows(
    stated: Vec<WindowIn>,
    bandwidth: RangeInclusive<u64>,
    range_code: &'static str,
) -> Result<Vec<WindowSpec>, ApiError> {
    let mut specs = Vec::with_capacity(stated.len());
    for (i, window) in stated.into_iter().enumerate() {
        for (name, time) in [("start", &window.start), ("end", &window.end)] {
            if time.is_empty() {
                return Err(ApiError::missing_param(format_args!(
                    "`bandwidth_policy[{i}].{name}`"
                )));
            }
        }
        let max_bandwidth = window
            .max_bandwidth
            .get::<u64>()
            .filter(|b| bandwidth.contains(b))
            .ok_or_else(|| {
                ApiError::bandwidth(
                    range_code,
                    format_args!(
                        "window {i} has max_bandwidth {}, outside {}–{} bytes/s",
                        window.max_bandwidth,
                        bandwidth.start(),
                        bandwidth.end()
                    ),
                )
            })?;
        specs.push(WindowSpec {
            start: window.start,
            end: window.end,
            max_bandwidth,
        });
    }
    Ok(specs)
}

/// Checks that `value` is one of the values the spec documents for `field`
/// (`OMS.0064` otherwise; `kind` names what they are in the message).
pub(crate) fn documented(
    field: &'static str,
    value: &str,
    values: &[&str],
    kind: &str,
) -> Result<(), ApiError> {
    if values.contains(&value) {
        return Ok(());
    }
    Err(ApiError::invalid_params(format_args!(
        "`{field}` is not a documented {kind}"
    )))
}

/// The language of a notification, in either dialect's SMN settings:
/// "可以选择zh-cn或者en-us" (the v1 create page; v2's `smn_config` the same).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum SmnLanguage {
    #[serde(rename = "zh-cn")]
    ZhCn,
    #[serde(rename = "en-us")]
    EnUs,
}

/// Maps a policy refusal to its code (OMS.0083–0087, the reference's choice).
pub fn policy_error(err: PolicyError) -> ApiError {
    let code = match err {
        PolicyError::BadTime(_) => "OMS.0083",
        PolicyError::EmptyWindow(_) => "OMS.0084",
        PolicyError::Overlap(_) => "OMS.0085",
        PolicyError::TooMany(_) => "OMS.0086",
        PolicyError::ZeroBandwidth(_) => "OMS.0087",
    };
    ApiError::bandwidth(code, err)
}
