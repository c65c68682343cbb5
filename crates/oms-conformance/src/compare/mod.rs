//! `oms-conformance compare`: sets two or more `results.json` side by side, a
//! row per (rule, dialect) and a column per run, each cell the verdict and the
//! observed answers (status and error code), as text, Markdown or one HTML page.
//! A row is marked where the runs differ: `!` the verdicts differ, `~` only the
//! answers do, `?` a run did not judge the rule. It reads only the JSON: a run
//! of any target, made anywhere, compares with any other judged by the same kit
//! version and catalogue (their `provenance`); others are refused, or compared
//! with a warning under `--allow-mixed`. Every refusal is one line.
//!
//! Here: the options and the whole job ([`run`]); `results` reads the runs,
//! `rows` compares them, `render` writes the comparison, `error` says why not.

mod error;
mod render;
mod results;
mod rows;

use std::path::{Path, PathBuf};

pub use self::error::CompareError;
pub use self::render::{html, markdown, text};
pub use self::results::{Judged, RunResults, labels, load, parse};
pub use self::rows::{Comparison, Mark, Row, compare};

/// How the comparison is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    /// The format named on the command line.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text" => Some(Self::Text),
            "markdown" | "md" => Some(Self::Markdown),
            "html" => Some(Self::Html),
            _ => None,
        }
    }

    /// The format a file's extension names: `.md` Markdown, `.html` HTML,
    /// anything else text.
    pub fn of_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("md" | "markdown") => Self::Markdown,
            Some("html" | "htm") => Self::Html,
            _ => Self::Text,
        }
    }
}

/// What `main.rs` hands over.
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Vec<PathBuf>,
    /// The format asked for; without one, the output file's extension decides.
    pub format: Option<Format>,
    /// Where the comparison goes; stdout without it.
    pub output: Option<PathBuf>,
    /// Compare runs of different kit versions or catalogues, with a warning.
    pub allow_mixed: bool,
    /// Exit 1 when the verdicts of some row differ.
    pub fail_on_difference: bool,
}

/// What a finished comparison hands back to `main`.
#[derive(Debug)]
pub struct Outcome {
    pub warnings: Vec<String>,
    /// The document, when it goes to stdout.
    pub stdout: Option<String>,
    pub exit_code: u8,
}

/// Reads the runs, compares them, and writes the comparison to `--output` (or
/// hands it back for stdout).
pub fn run(options: &Options) -> Result<Outcome, CompareError> {
    let comparison = compare(load(&options.files)?, options.allow_mixed)?;
    let format = options
        .format
        .or_else(|| options.output.as_deref().map(Format::of_path))
        .unwrap_or(Format::Text);
    let document = match format {
        Format::Text => text(&comparison),
        Format::Markdown => markdown(&comparison),
        Format::Html => html(&comparison),
    };
    let stdout = match &options.output {
        Some(path) => {
            std::fs::write(path, &document).map_err(|source| CompareError::Write {
                path: path.display().to_string(),
                source,
            })?;
            None
        }
        None => Some(document),
    };
    let differs = comparison.count(Mark::Verdicts) > 0;
    Ok(Outcome {
        warnings: comparison.warnings,
        stdout,
        exit_code: u8::from(options.fail_on_difference && differs),
    })
}
