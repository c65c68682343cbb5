//! What went wrong while building the configuration ([`ConfigError`]), each
//! problem one line.

use std::path::PathBuf;

/// What went wrong while building the configuration. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad profile {path}: {message}")]
    Profile { path: String, message: String },
    #[error("bad expectations file {path}: {message}")]
    Expectations { path: String, message: String },
    #[error("bad create body {path}: {source}")]
    CreateBody {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("bad option {option}: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
}

/// A TOML parser's message on one line, as every refusal is.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
