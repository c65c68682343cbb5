//! `oms-conformance compare`: sets two or more `results.json` side by side, a
//! row per (rule, dialect) and a column per run, each cell the verdict and the
//! observed answers (status and error code), as text, Markdown or one HTML page.
//! A row is marked where the runs differ: `!` the verdicts differ, `~` only the
//! answers do, `?` a run did not judge the rule. It reads only the JSON: a run
//! of any target, made anywhere, compares with any other judged by the same kit
//! version and catalogue (their `provenance`); others are refused, or compared
//! with a warning under `--allow-mixed`. Every refusal is one line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::report::xml;
use crate::summary::{inline, short};

/// The most characters of a cell (its verdict and answers) as shown.
const CELL_CAP: usize = 300;

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

/// One run as its `results.json` tells it.
#[derive(Debug, Clone)]
pub struct RunResults {
    pub path: PathBuf,
    /// The column's name: the run's folder, made unique.
    pub label: String,
    /// `name version` of the kit that judged it.
    pub kit: String,
    pub catalogue: String,
    pub features: String,
    pub profile: String,
    pub profile_digest: String,
    pub target: String,
    pub exit_code: Option<i64>,
    /// `N passed, N failed, N inconclusive, N skipped`, as the run's closing line.
    pub counts: String,
    pub rules: Vec<Judged>,
}

/// One rule in one dialect, as a run judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub id: String,
    pub dialect: String,
    pub level: String,
    /// The verdict, or `not run` where `--rule` left the rule out.
    pub verdict: String,
    pub observed: Vec<String>,
}

/// How a row's runs differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Same,
    /// Only the observed answers differ.
    Answers,
    /// Some run did not judge the rule (not run, or not in its dialects), and
    /// the verdicts of those that did agree.
    Unjudged,
    /// The verdicts differ.
    Verdicts,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Self::Same => " ",
            Self::Answers => "~",
            Self::Unjudged => "?",
            Self::Verdicts => "!",
        }
    }
}

/// One row: a rule in a dialect, and each run's cell.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub dialect: String,
    pub level: String,
    /// Per run, in order; `None` where the run did not judge the dialect.
    pub cells: Vec<Option<Judged>>,
    pub mark: Mark,
}

/// The comparison of two or more runs.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub runs: Vec<RunResults>,
    pub rows: Vec<Row>,
    /// Said once each on stderr and in the document.
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Rows of each kind.
    pub fn count(&self, mark: Mark) -> usize {
        self.rows.iter().filter(|r| r.mark == mark).count()
    }
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

/// Reads each file as a `results.json`, and names its column.
pub fn load(files: &[PathBuf]) -> Result<Vec<RunResults>, CompareError> {
    if files.len() < 2 {
        return Err(CompareError::TooFew(files.len()));
    }
    let mut runs = files
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = labels(&runs.iter().map(|r| r.path.clone()).collect::<Vec<_>>());
    for (run, label) in runs.iter_mut().zip(labels) {
        run.label = label;
    }
    Ok(runs)
}

fn read(path: &Path) -> Result<RunResults, CompareError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CompareError::Read {
        path: shown.clone(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| CompareError::NotJson {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    parse(path, &value)
}

/// A run from its `results.json` document.
pub fn parse(path: &Path, value: &Value) -> Result<RunResults, CompareError> {
    let shown = path.display().to_string();
    let not_results = |message: String| CompareError::NotResults {
        path: shown.clone(),
        message,
    };
    if !value.is_object() {
        return Err(not_results("it is not a JSON object".to_owned()));
    }
    if !value["kit"].is_string() {
        return Err(not_results("it names no `kit`".to_owned()));
    }
    let Some(rules) = value["rules"].as_array() else {
        return Err(not_results("it has no `rules`".to_owned()));
    };
    let provenance = &value["provenance"];
    if provenance.is_null() {
        return Err(CompareError::NoProvenance { path: shown });
    }
    let field = |pointer: &str| -> Result<String, CompareError> {
        provenance
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_results(format!("its provenance has no `{pointer}`")))
    };
    let kit = format!("{} {}", field("/kit/name")?, field("/kit/version")?);
    let catalogue = field("/catalogue/sha256")?;
    let features = field("/features/sha256")?;
    let profile_digest = field("/profile/sha256")?;
    let mut judged = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let text = |key: &str| -> Result<String, CompareError> {
            rule[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| not_results(format!("rules[{i}] has no `{key}`")))
        };
        let ran = rule["scenarios"].as_array().is_some_and(|s| !s.is_empty());
        judged.push(Judged {
            id: text("id")?,
            dialect: text("dialect")?,
            level: rule["level"].as_str().unwrap_or_default().to_owned(),
            verdict: if ran {
                text("verdict")?
            } else {
                "not run".to_owned()
            },
            observed: rule["observed"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let summary = &value["summary"];
    let number = |key: &str| summary[key].as_u64().unwrap_or(0);
    Ok(RunResults {
        path: path.to_owned(),
        label: String::new(),
        kit,
        catalogue,
        features,
        profile: value["profile"].as_str().unwrap_or_default().to_owned(),
        profile_digest,
        target: value["base_url"].as_str().unwrap_or_default().to_owned(),
        exit_code: value["exit_code"].as_i64(),
        counts: crate::report::counts(
            number("passed"),
            number("failed"),
            number("inconclusive") + number("errors"),
            number("skipped"),
        ),
        rules: judged,
    })
}

/// Each run's column name: the name of the folder holding its file (its own
/// name for a file not called `results.json`); where several share one, as
/// many more folders above it as tell them apart, then a number.
pub fn labels(paths: &[PathBuf]) -> Vec<String> {
    // The path's components from the file's folder upwards.
    let parts: Vec<Vec<String>> = paths
        .iter()
        .map(|path| {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let mut parts: Vec<String> = absolute
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            if parts.last().is_some_and(|name| name == "results.json") {
                parts.pop();
            }
            parts.reverse();
            parts
        })
        .collect();
    let name = |i: usize, depth: usize| -> String {
        let mut taken: Vec<&str> = parts[i].iter().take(depth).map(String::as_str).collect();
        taken.reverse();
        if taken.is_empty() {
            "results".to_owned()
        } else {
            taken.join("/")
        }
    };
    let mut depth = vec![1; paths.len()];
    // Deepen every label that collides with another file's, until none does
    // or none can grow; the same file twice is numbered instead.
    loop {
        let current: Vec<String> = (0..paths.len()).map(|i| name(i, depth[i])).collect();
        let mut grew = false;
        for i in 0..paths.len() {
            let collides = (0..paths.len())
                .any(|k| k != i && current[k] == current[i] && parts[k] != parts[i]);
            if collides && depth[i] < parts[i].len() {
                depth[i] += 1;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut labels: Vec<String> = Vec::new();
    for (i, depth) in depth.iter().enumerate() {
        let base = name(i, *depth);
        let mut label = base.clone();
        let mut n = 2;
        while labels.contains(&label) {
            label = format!("{base} ({n})");
            n += 1;
        }
        labels.push(label);
    }
    labels
}

/// Compares runs: refuses (or, with `allow_mixed`, warns about) runs judged by
/// different kit versions or catalogues, warns about different features, and
/// builds a row per (rule, dialect) in the order the runs list them.
pub fn compare(runs: Vec<RunResults>, allow_mixed: bool) -> Result<Comparison, CompareError> {
    if runs.len() < 2 {
        return Err(CompareError::TooFew(runs.len()));
    }
    let mut warnings = Vec::new();
    let first = &runs[0];
    type Of = fn(&RunResults) -> &str;
    let checks: [(&'static str, Of, bool); 3] = [
        ("kit versions", |r| r.kit.as_str(), true),
        ("catalogues", |r| r.catalogue.as_str(), true),
        ("features", |r| r.features.as_str(), false),
    ];
    for (what, of, refused) in checks {
        let Some(other) = runs.iter().find(|r| of(r) != of(first)) else {
            continue;
        };
        if refused && !allow_mixed {
            return Err(CompareError::Mixed {
                what,
                first: first.path.display().to_string(),
                first_value: of(first).to_owned(),
                other: other.path.display().to_string(),
                other_value: of(other).to_owned(),
            });
        }
        let values: Vec<String> = runs
            .iter()
            .map(|r| format!("{} {}", r.label, of(r)))
            .collect();
        let consequence = if what == "features" {
            "a rule's verdicts may rest on different scenarios"
        } else {
            "compared anyway (--allow-mixed)"
        };
        warnings.push(format!(
            "warning: the runs were judged by different {what} ({}): {consequence}",
            values.join(", ")
        ));
    }
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for run in &runs {
        for rule in &run.rules {
            if !keys
                .iter()
                .any(|(id, dialect, _)| *id == rule.id && *dialect == rule.dialect)
            {
                keys.push((rule.id.clone(), rule.dialect.clone(), rule.level.clone()));
            }
        }
    }
    let rows = keys
        .into_iter()
        .map(|(id, dialect, level)| {
            let cells: Vec<Option<Judged>> = runs
                .iter()
                .map(|run| {
                    run.rules
                        .iter()
                        .find(|r| r.id == id && r.dialect == dialect)
                        .cloned()
                })
                .collect();
            let mark = mark(&cells);
            Row {
                id,
                dialect,
                level,
                cells,
                mark,
            }
        })
        .collect();
    Ok(Comparison {
        runs,
        rows,
        warnings,
    })
}

/// How a row's cells differ: the verdicts of the runs that judged the rule
/// first, then whether every run judged it, then the answers.
fn mark(cells: &[Option<Judged>]) -> Mark {
    let judged: Vec<&Judged> = cells
        .iter()
        .flatten()
        .filter(|c| c.verdict != "not run")
        .collect();
    if judged.iter().any(|c| c.verdict != judged[0].verdict) {
        Mark::Verdicts
    } else if judged.len() < cells.len() && !judged.is_empty() {
        Mark::Unjudged
    } else if judged.iter().any(|c| c.observed != judged[0].observed) {
        Mark::Answers
    } else {
        Mark::Same
    }
}

/// A cell as text: the verdict, then the answers; `–` where the run did not
/// judge the dialect at all.
fn cell_text(cell: &Option<Judged>) -> String {
    let text = match cell {
        None => "–".to_owned(),
        Some(c) if c.observed.is_empty() => c.verdict.clone(),
        Some(c) => format!("{} ({})", c.verdict, c.observed.join(", ")),
    };
    cut(&text, CELL_CAP)
}

fn cut(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        one_line.chars().take(max).chain(['…']).collect()
    }
}

/// The legend and the count of each kind of row.
fn legend(c: &Comparison) -> String {
    format!(
        "! verdicts differ: {} · ~ only the answers differ: {} · ? not judged by every run: {} · rows: {}",
        c.count(Mark::Verdicts),
        c.count(Mark::Answers),
        c.count(Mark::Unjudged),
        c.rows.len()
    )
}

/// The digests every run shares, or a note that they differ.
fn shared(c: &Comparison) -> String {
    let first = &c.runs[0];
    let all = |of: fn(&RunResults) -> &str| c.runs.iter().all(|r| of(r) == of(first));
    format!(
        "kit {} · catalogue {} · features {}",
        if all(|r| r.kit.as_str()) {
            first.kit.clone()
        } else {
            "mixed".to_owned()
        },
        if all(|r| r.catalogue.as_str()) {
            short(&first.catalogue)
        } else {
            "mixed".to_owned()
        },
        if all(|r| r.features.as_str()) {
            short(&first.features)
        } else {
            "mixed".to_owned()
        },
    )
}

fn exit_text(run: &RunResults) -> String {
    run.exit_code
        .map_or_else(|| "?".to_owned(), |code| code.to_string())
}

/// The comparison as plain text: the runs, then the table in aligned columns.
pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "oms-conformance compare: {} runs ({})",
        c.runs.len(),
        shared(c)
    );
    for warning in &c.warnings {
        let _ = writeln!(out, "{warning}");
    }
    let label_width = c.runs.iter().map(|r| width(&r.label)).max().unwrap_or(0);
    for run in &c.runs {
        let _ = writeln!(
            out,
            "  {}  {} · {} · profile {} ({}) · exit {} · {}",
            pad(&run.label, label_width),
            run.path.display(),
            cut(&run.target, CELL_CAP),
            cut(&run.profile, CELL_CAP),
            short(&run.profile_digest),
            exit_text(run),
            run.counts
        );
    }
    out.push('\n');
    let mut table: Vec<Vec<String>> = vec![
        ["", "rule", "dialect", "level"]
            .into_iter()
            .map(str::to_owned)
            .chain(c.runs.iter().map(|r| r.label.clone()))
            .collect(),
    ];
    for row in &c.rows {
        table.push(
            [
                row.mark.symbol(),
                row.id.as_str(),
                row.dialect.as_str(),
                row.level.as_str(),
            ]
            .into_iter()
            .map(|s| cut(s, CELL_CAP))
            .chain(row.cells.iter().map(cell_text))
            .collect(),
        );
    }
    let columns = table[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|k| table.iter().map(|line| width(&line[k])).max().unwrap_or(0))
        .collect();
    for line in &table {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| pad(cell, *w))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out.push('\n');
    let _ = writeln!(out, "{}", legend(c));
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad(text: &str, width: usize) -> String {
    format!(
        "{text}{}",
        " ".repeat(width.saturating_sub(self::width(text)))
    )
}

/// The comparison as Markdown (GitHub's tables): the runs, then the rule table,
/// a differing verdict in bold.
pub fn markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# OMS conformance: {} runs compared\n", c.runs.len());
    let _ = writeln!(out, "{}\n", inline(&shared(c), CELL_CAP));
    for warning in &c.warnings {
        let _ = writeln!(out, "> {}\n", inline(warning, 4 * CELL_CAP));
    }
    out.push_str(
        "| run | results | target | profile | exit | scenarios |\n|---|---|---|---|---|---|\n",
    );
    for run in &c.runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} ({}) | {} | {} |",
            inline(&run.label, CELL_CAP),
            inline(&run.path.display().to_string(), CELL_CAP),
            inline(&run.target, CELL_CAP),
            inline(&run.profile, CELL_CAP),
            short(&run.profile_digest),
            exit_text(run),
            run.counts
        );
    }
    out.push('\n');
    let _ = write!(out, "|   | rule | dialect | level |");
    for run in &c.runs {
        let _ = write!(out, " {} |", inline(&run.label, CELL_CAP));
    }
    out.push_str("\n|---|---|---|---|");
    out.push_str(&"---|".repeat(c.runs.len()));
    out.push('\n');
    for row in &c.rows {
        let symbol = match row.mark {
            Mark::Same => "",
            mark => mark.symbol(),
        };
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            inline(symbol, 1),
            inline(&row.id, CELL_CAP),
            inline(&row.dialect, CELL_CAP),
            inline(&row.level, CELL_CAP)
        );
        for cell in &row.cells {
            let text = inline(&cell_text(cell), CELL_CAP + 1);
            if row.mark == Mark::Verdicts {
                let _ = write!(out, " **{text}** |");
            } else {
                let _ = write!(out, " {text} |");
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", inline(&legend(c), 4 * CELL_CAP));
    out
}

/// The background of a verdict's cell in the HTML page.
fn verdict_colour(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "#dafbe1",
        "fail" => "#ffebe9",
        "inconclusive" => "#fff8c5",
        "error" => "#fbefff",
        _ => "#f6f8fa",
    }
}

/// The comparison as one self-contained HTML page: the runs, then the rule
/// table with verdict colours and the differing rows outlined.
pub fn html(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OMS conformance: runs compared</title>\n<style>\n");
    out.push_str(
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}\
         tr.differ td{border-top:2px solid #cf222e;border-bottom:2px solid #cf222e}\
         td.mark{font-weight:700;text-align:center}.warning{color:#9a6700}\n",
    );
    out.push_str("</style></head><body>\n");
    let _ = writeln!(
        out,
        "<h1>OMS conformance: {} runs compared</h1>\n<p>{}</p>",
        c.runs.len(),
        xml(&shared(c))
    );
    for warning in &c.warnings {
        let _ = writeln!(out, "<p class=\"warning\">{}</p>", xml(warning));
    }
    out.push_str("<table><tr><th>run</th><th>results</th><th>target</th><th>profile</th><th>exit</th><th>scenarios</th></tr>\n");
    for run in &c.runs {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} <small>({})</small></td><td>{}</td><td>{}</td></tr>",
            xml(&run.label),
            xml(&run.path.display().to_string()),
            xml(&cut(&run.target, CELL_CAP)),
            xml(&cut(&run.profile, CELL_CAP)),
            xml(&short(&run.profile_digest)),
            exit_text(run),
            xml(&run.counts)
        );
    }
    out.push_str(
        "</table>\n<h2>Rules</h2>\n<table><tr><th></th><th>rule</th><th>dialect</th><th>level</th>",
    );
    for run in &c.runs {
        let _ = write!(out, "<th>{}</th>", xml(&run.label));
    }
    out.push_str("</tr>\n");
    for row in &c.rows {
        let class = if row.mark == Mark::Same {
            ""
        } else {
            " class=\"differ\""
        };
        let _ = write!(
            out,
            "<tr{class}><td class=\"mark\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>",
            xml(row.mark.symbol()),
            xml(&row.id),
            xml(&row.dialect),
            xml(&row.level)
        );
        for cell in &row.cells {
            let colour = verdict_colour(cell.as_ref().map_or("", |c| c.verdict.as_str()));
            let _ = write!(
                out,
                "<td style=\"background:{colour}\">{}</td>",
                xml(&cell_text(cell))
            );
        }
        out.push_str("</tr>\n");
    }
    let _ = writeln!(out, "</table>\n<p>{}</p>\n</body></html>", xml(&legend(c)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: &str, verdict: &str, observed: &[&str]) -> Judged {
        Judged {
            id: id.to_owned(),
            dialect: "v1".to_owned(),
            level: "MUST".to_owned(),
            verdict: verdict.to_owned(),
            observed: observed.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn a_row_is_marked_by_how_its_runs_differ() {
        let pass = Some(judged("R", "pass", &["200"]));
        let pass_other = Some(judged("R", "pass", &["204"]));
        let fail = Some(judged("R", "fail", &["200"]));
        let not_run = Some(judged("R", "not run", &[]));
        assert_eq!(mark(&[pass.clone(), pass.clone()]), Mark::Same);
        assert_eq!(mark(&[pass.clone(), pass_other]), Mark::Answers);
        assert_eq!(mark(&[pass.clone(), fail.clone()]), Mark::Verdicts);
        assert_eq!(mark(&[pass.clone(), None]), Mark::Unjudged);
        assert_eq!(mark(&[pass.clone(), not_run.clone()]), Mark::Unjudged);
        // A verdict that differs outweighs a run that did not judge the rule.
        assert_eq!(mark(&[pass, fail, None]), Mark::Verdicts);
        assert_eq!(mark(&[not_run.clone(), not_run]), Mark::Same);
    }

    #[test]
    fn labels_are_folder_names_made_unique() {
        let labels = labels(&[
            PathBuf::from("/r/reference/results.json"),
            PathBuf::from("/r/vendor/results.json"),
        ]);
        assert_eq!(labels, ["reference", "vendor"]);
        let labels = super::labels(&[
            PathBuf::from("/a/run-1/reports/results.json"),
            PathBuf::from("/a/run-2/reports/results.json"),
            PathBuf::from("/a/other.json"),
        ]);
        assert_eq!(labels, ["run-1/reports", "run-2/reports", "other.json"]);
        let labels = super::labels(&[
            PathBuf::from("/a/x/results.json"),
            PathBuf::from("/a/x/results.json"),
        ]);
        assert_eq!(labels, ["x", "x (2)"]);
    }
}
