//! A comparison written out: as plain text in aligned columns ([`text`]), as
//! Markdown tables ([`markdown`]) and as one self-contained HTML page
//! ([`html`]); a cell cut to [`CELL_CAP`] characters in each.

use std::fmt::Write as _;

use super::results::{Judged, RunResults};
use super::rows::{Comparison, Mark};
use crate::markdown::{self, inline};
use crate::report::xml;
use crate::reported::short;

/// The most characters of a cell (its verdict and answers) as shown.
const CELL_CAP: usize = 300;

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
    let runs = c.runs.iter().map(|run| {
        vec![
            inline(&run.label, CELL_CAP),
            inline(&run.path.display().to_string(), CELL_CAP),
            inline(&run.target, CELL_CAP),
            format!(
                "{} ({})",
                inline(&run.profile, CELL_CAP),
                short(&run.profile_digest)
            ),
            exit_text(run),
            run.counts.clone(),
        ]
    });
    markdown::table(
        &mut out,
        &["run", "results", "target", "profile", "exit", "scenarios"],
        runs,
    );
    out.push('\n');
    // The mark column's header is one space (`|   |`), as the document has
    // always written it.
    let header: Vec<String> = [" ", "rule", "dialect", "level"]
        .into_iter()
        .map(str::to_owned)
        .chain(c.runs.iter().map(|run| inline(&run.label, CELL_CAP)))
        .collect();
    let rows = c.rows.iter().map(|row| {
        let symbol = match row.mark {
            Mark::Same => "",
            mark => mark.symbol(),
        };
        let cells = row.cells.iter().map(|cell| {
            let text = inline(&cell_text(cell), CELL_CAP + 1);
            if row.mark == Mark::Verdicts {
                format!("**{text}**")
            } else {
                text
            }
        });
        [
            inline(symbol, 1),
            inline(&row.id, CELL_CAP),
            inline(&row.dialect, CELL_CAP),
            inline(&row.level, CELL_CAP),
        ]
        .into_iter()
        .chain(cells)
        .collect()
    });
    markdown::table(&mut out, &header, rows);
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
