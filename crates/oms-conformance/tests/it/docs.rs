//! The guide cannot drift from the kit: its rules chapter is generated from the
//! catalogue and the features (`docs/src/rules/catalogue.md`, rewritten by this
//! test outside CI, compared under it), and every `console` example of
//! `README.md` and `docs/src/` is run as written and its output compared
//! (snapbox runs each command under a deadline and matches `...` and `[..]`).
//!
//! A `console` block holds `$ command` lines, each followed by its expected
//! output (stdout and stderr merged, as a terminal shows them) and optionally a
//! last line `? N`, the exit status (0 when absent). The commands understood are
//! the harness (`cargo run -p oms-conformance [-- ARGS]`, or `oms-conformance
//! ARGS` as installed) and `curl`, after optional `NAME=value` assignments. Each
//! block runs in a scratch folder holding the repository's `fixtures/` and
//! `features/`, beside two fresh servers of its own: `127.0.0.1:8080`, the
//! emulator, and `127.0.0.1:8081`, the emulator with the `delete-running` fault.
//! The addresses in a command are rewritten to theirs, and back in the output.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cucumber::gherkin;
use oms_conformance::catalogue::Catalogue;
use oms_conformance::suite;
use oms_reference_server::faults::Fault;

use crate::support::{reference_server, reference_server_with, root, runtime, scratch};

/// Where the generated rules chapter lives.
const RULES_PAGE: &str = "docs/src/rules/catalogue.md";
/// How long one command of an example may take.
const COMMAND_DEADLINE: Duration = Duration::from_secs(120);
/// The addresses the examples use, and what each stands for.
const EMULATOR: &str = "127.0.0.1:8080";
const FAULTY: &str = "127.0.0.1:8081";

#[test]
fn the_rules_chapter_is_generated() {
    let page = rules_page();
    let path = root().join(RULES_PAGE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == page {
        return;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{RULES_PAGE} is not what the catalogue and the features give: run \
             `cargo test -p oms-conformance --test it docs::` outside CI and commit the page"
        );
    }
    std::fs::write(&path, &page).expect("write the rules chapter");
    panic!("{RULES_PAGE} was out of date and has been rewritten: review and commit it");
}

/// The rules chapter: a table of every rule, then each rule with its level,
/// dialects, basis, statement (and v2 wording), reference answer and the
/// scenarios that judge it, then the spec sentences the rules rest on.
fn rules_page() -> String {
    let catalogue = Catalogue::embedded().expect("the catalogue parses");
    let features =
        suite::load_features(Some(&root().join("features"))).expect("the features parse");
    let mut page = String::new();
    page.push_str(
        "<!-- Generated from fixtures/catalogue.toml and features/ by \
         `cargo test -p oms-conformance --test it docs::`; do not edit. -->\n\n\
         # The rule catalogue\n\n\
         Every rule the kit judges, as the catalogue (`fixtures/catalogue.toml`) \
         states it and the features (`features/`) check it. A rule's verdict is \
         reported per dialect; *reference* is what the reference server answers.\n\n\
         | rule | level | dialects | statement |\n|---|---|---|---|\n",
    );
    for rule in &catalogue.rules {
        let _ = writeln!(
            page,
            "| [{id}](#{anchor}) | {level} | {api} | {statement} |",
            id = rule.id,
            anchor = anchor(&rule.id),
            level = level(rule),
            api = dialects(rule),
            statement = cell(&rule.rule),
        );
    }
    for rule in &catalogue.rules {
        let _ = write!(
            page,
            "\n## {id}\n\n**{level}** · dialects: {api} · basis: {basis}\n\n{statement}\n",
            id = rule.id,
            level = level(rule),
            api = dialects(rule),
            basis = rule
                .basis
                .iter()
                .map(|s| format!("[{s}](#{})", anchor(s)))
                .collect::<Vec<_>>()
                .join(", "),
            statement = rule.rule,
        );
        if let Some(v2) = &rule.v2_rule {
            let _ = write!(page, "\n*In v2:* {v2}\n");
        }
        let reference = if rule.reference.is_empty() {
            "none stated (the rule judges a behaviour, not one answer)"
        } else {
            &rule.reference
        };
        let _ = write!(page, "\nReference answer: {reference}.\n\nScenarios:\n\n");
        page.push_str(&scenarios_of(&features, &rule.id).join("\n"));
    }
    page.push_str("\n## Spec sentences\n\nThe sentences of the spec pack the rules rest on, cited by the scenarios as `@spec:` tags.\n");
    for sentence in &catalogue.sentences {
        let _ = write!(
            page,
            "\n### {id}\n\n{text} *({source})*\n",
            id = sentence.id,
            text = sentence.text,
            source = sentence.source,
        );
    }
    page
}

fn level(rule: &oms_conformance::catalogue::Rule) -> &'static str {
    rule.level.as_str()
}

fn dialects(rule: &oms_conformance::catalogue::Rule) -> String {
    rule.api
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The id mdBook gives a heading of this text: lower case, spaces as hyphens,
/// nothing but letters, digits, `-` and `_` kept (`API2-2.4` is `api2-24`).
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            c if c.is_whitespace() => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A table cell: one line, no bar left unescaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The scenarios of the rule tagged `id`, each as a list item with its
/// dialects (where narrowed) and citations, and its steps as Gherkin.
fn scenarios_of(features: &[gherkin::Feature], id: &str) -> Vec<String> {
    let tag = id.to_owned();
    features
        .iter()
        .flat_map(|f| &f.rules)
        .filter(|r| r.tags.contains(&tag))
        .flat_map(|r| &r.scenarios)
        .map(|scenario| {
            let tags: Vec<String> = scenario.tags.iter().map(|t| format!("`@{t}`")).collect();
            let mut item = format!(
                "- **{}** ({})\n\n  ```gherkin\n",
                scenario.name,
                tags.join(" ")
            );
            for step in &scenario.steps {
                let _ = writeln!(item, "  {}{}", step.keyword, step.value);
                if let Some(table) = &step.table {
                    for row in &table.rows {
                        let _ = writeln!(item, "    | {} |", row.join(" | "));
                    }
                }
            }
            for table in scenario.examples.iter().filter_map(|e| e.table.as_ref()) {
                item.push_str("  Examples:\n");
                for row in &table.rows {
                    let _ = writeln!(item, "    | {} |", row.join(" | "));
                }
            }
            item.push_str("  ```\n");
            item
        })
        .collect()
}

/// One `$ command` of a `console` block, with what it must print and exit with.
#[derive(Debug)]
struct Example {
    /// `file:line` of the command.
    at: String,
    command: String,
    expected: String,
    status: i32,
}

/// The `console` blocks of a Markdown text, each as its commands in order.
fn console_blocks(file: &str, text: &str) -> Vec<Vec<Example>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let fence_is_console = info.trim() == "console";
        let mut block: Vec<Example> = Vec::new();
        let mut pending_continuation = false;
        for (n, raw) in lines.by_ref() {
            let body = raw
                .get(indent.min(raw.len() - raw.trim_start().len())..)
                .unwrap_or(raw);
            if body.trim_start().starts_with("```") {
                break;
            }
            if !fence_is_console {
                continue;
            }
            if pending_continuation {
                let last = block.last_mut().expect("a command to continue");
                let piece = body.trim();
                pending_continuation = piece.ends_with('\\');
                last.command.push(' ');
                last.command.push_str(piece.trim_end_matches('\\').trim());
            } else if let Some(command) = body.strip_prefix("$ ") {
                pending_continuation = command.trim_end().ends_with('\\');
                block.push(Example {
                    at: format!("{file}:{}", n + 1),
                    command: command.trim_end().trim_end_matches('\\').trim().to_owned(),
                    expected: String::new(),
                    status: 0,
                });
            } else if let Some(example) = block.last_mut() {
                example.expected.push_str(body);
                example.expected.push('\n');
            } else {
                panic!(
                    "{file}:{}: a console block must begin with a `$ ` command",
                    n + 1
                );
            }
        }
        for example in &mut block {
            let trimmed = example.expected.trim_end_matches('\n');
            let (rest, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
            if let Some(code) = last.strip_prefix("? ") {
                example.status = code
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{}: `? {code}` is not an exit status", example.at));
                example.expected = if rest.is_empty() {
                    String::new()
                } else {
                    format!("{rest}\n")
                };
            }
        }
        if fence_is_console {
            blocks.push(block);
        }
    }
    blocks
}

/// Every Markdown file whose examples are run: the README and the guide's sources.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read docs/src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![root().join("README.md")];
    walk(&root().join("docs/src"), &mut files);
    files.sort();
    files
}

/// The program and arguments a command line stands for, its environment
/// assignments apart.
fn program(
    example: &Example,
    servers: &[(&str, SocketAddr)],
) -> (PathBuf, Vec<String>, Vec<(String, String)>) {
    let words = shlex::split(&example.command)
        .unwrap_or_else(|| panic!("{}: cannot split `{}`", example.at, example.command));
    let mut words = words.into_iter().peekable();
    let mut env = Vec::new();
    while let Some((name, value)) = words.peek().and_then(|w| w.split_once('=')) {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            break;
        }
        env.push((name.to_owned(), value.to_owned()));
        words.next();
    }
    let words: Vec<String> = words
        .map(|w| {
            servers
                .iter()
                .fold(w, |w, (shown, real)| w.replace(shown, &real.to_string()))
        })
        .collect();
    let harness = PathBuf::from(env!("CARGO_BIN_EXE_oms-conformance"));
    let (program, args) = match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["cargo", "run", "-p", "oms-conformance"] => (harness, Vec::new()),
        ["cargo", "run", "-p", "oms-conformance", "--", ..] => (harness, words[5..].to_vec()),
        ["oms-conformance", ..] => (harness, words[1..].to_vec()),
        ["curl", ..] => (PathBuf::from("curl"), words[1..].to_vec()),
        _ => panic!(
            "{}: `{}` is not a command the console examples run (the harness, by `cargo run -p \
             oms-conformance` or `oms-conformance`, or `curl`); write it as an `sh` block",
            example.at, example.command
        ),
    };
    (program, args, env)
}

#[test]
fn the_console_examples_run_as_written() {
    let mut examples = Vec::new();
    let mut failures = Vec::new();
    for path in documents() {
        let file = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("read a document");
        for (b, block) in console_blocks(&file, &text).into_iter().enumerate() {
            let dir = scratch(&format!("docs-{}-{b}", file.replace(['/', '.'], "-")));
            for shared in ["fixtures", "features"] {
                std::os::unix::fs::symlink(root().join(shared), dir.join(shared))
                    .expect("link the repository's folder into the scratch folder");
            }
            // Fresh servers for each block: its answers (ids among them) are its own.
            let rt = runtime();
            let faulty = oms_reference_server::Config {
                fault: Some("delete-running".parse::<Fault>().expect("a known fault")),
                ..oms_reference_server::Config::default()
            };
            let servers = [
                (EMULATOR, reference_server(&rt)),
                (FAULTY, reference_server_with(&rt, faulty)),
            ];
            for example in block {
                if let Err(failure) = run(&example, &dir, &servers) {
                    failures.push(failure);
                }
                examples.push(example.command);
            }
        }
    }
    // The examples the guide promises are there, so this test cannot pass by
    // finding none.
    let promised: [(&str, Promise); 5] = [
        ("the whole run", |c| c == "cargo run -p oms-conformance"),
        ("a --rule run", |c| c.contains("--rule ")),
        ("--help", |c| c.contains("--help")),
        ("compare", |c| c.contains(" compare ")),
        ("an emulator curl", |c| c.starts_with("curl ")),
    ];
    for (what, is_one) in promised {
        assert!(
            examples.iter().any(|c| is_one(c)),
            "no console example of {what} in README.md or docs/src: {examples:#?}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} console examples did not run as written:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}

/// Whether a command is the example a page promises.
type Promise = fn(&str) -> bool;

/// Runs one example in `dir`; what went wrong, if anything.
fn run(example: &Example, dir: &Path, servers: &[(&str, SocketAddr)]) -> Result<(), String> {
    let (program, args, env) = program(example, servers);
    let assert = snapbox::cmd::Command::new(&program)
        .args(&args)
        .envs(env)
        .current_dir(dir)
        .stderr_to_stdout()
        .timeout(COMMAND_DEADLINE)
        .assert();
    let output = assert.get_output();
    let mut actual = String::from_utf8_lossy(&output.stdout).into_owned();
    for (shown, real) in servers {
        actual = actual.replace(&real.to_string(), shown);
    }
    // A terminal puts the next prompt on a line of its own.
    if !actual.is_empty() && !actual.ends_with('\n') {
        actual.push('\n');
    }
    let status = output.status.code();
    let mut problems = Vec::new();
    if status != Some(example.status) {
        problems.push(format!(
            "exit status {status:?}, expected {}",
            example.status
        ));
    }
    if let Err(e) = snapbox::Assert::new().try_eq(
        Some(&"the output"),
        snapbox::Data::text(actual.clone()),
        snapbox::Data::text(example.expected.clone()),
    ) {
        problems.push(format!("its output differs from the document's:\n{e}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: $ {}\n{}\n--- printed\n{actual}",
            example.at,
            example.command,
            problems.join("\n")
        ))
    }
}

/// The newest release of `CHANGELOG.md` is the kit's version and records the
/// digest of the catalogue it embeds: a change of the rules cannot ship under
/// a version that named other rules.
#[test]
fn the_changelog_names_this_version_and_its_catalogue() {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).expect("CHANGELOG.md");
    let releases: Vec<(&str, &str)> = changelog
        .split("\n## [")
        .skip(1)
        .filter_map(|section| {
            let (version, rest) = section.split_once(']')?;
            (version != "Unreleased").then_some((version, rest))
        })
        .collect();
    let (version, section) = releases.first().expect("CHANGELOG.md has a release");
    assert_eq!(
        *version,
        env!("CARGO_PKG_VERSION"),
        "the newest release of CHANGELOG.md is the crates' version"
    );
    assert!(
        section.lines().next().is_some_and(|l| {
            let date = l.trim_start_matches(" - ").as_bytes();
            date.len() == 10
                && date.iter().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        *b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        }),
        "release {version} has a date (`## [{version}] - YYYY-MM-DD`)"
    );
    // The digest results.json records as `provenance.catalogue.sha256`.
    let digest = oms_conformance::provenance::sha256_hex(
        oms_conformance::catalogue::embedded_text().as_bytes(),
    );
    let recorded = section
        .lines()
        .find_map(|l| l.strip_prefix("Catalogue: `")?.strip_suffix('`'))
        .unwrap_or_else(|| panic!("release {version} records no `Catalogue: `sha256``"));
    assert_eq!(
        recorded, digest,
        "the catalogue changed since {version} was released: bump the version in Cargo.toml \
         and add a CHANGELOG.md release recording the new catalogue's digest"
    );
    let mut versions: Vec<&str> = releases.iter().map(|(v, _)| *v).collect();
    versions.dedup();
    assert_eq!(
        versions.len(),
        releases.len(),
        "each version is released once"
    );
}
