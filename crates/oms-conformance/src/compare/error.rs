//! Why `compare` compared nothing ([`CompareError`]): each refusal is one line.

/// Why nothing was compared. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("compare needs two or more results.json files, got {0}")]
    TooFew(usize),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not JSON: {message}")]
    NotJson { path: String, message: String },
    #[error("{path} is not a results.json of oms-conformance: {message}")]
    NotResults { path: String, message: String },
    #[error(
        "{path} was written before results.json recorded what judged it (it has no `provenance`): \
         run that target again with this kit to compare it"
    )]
    NoProvenance { path: String },
    #[error(
        "refusing to compare runs judged by different {what}: {first} ({first_value}) and {other} \
         ({other_value}); --allow-mixed compares them anyway"
    )]
    Mixed {
        what: &'static str,
        first: String,
        first_value: String,
        other: String,
        other_value: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
