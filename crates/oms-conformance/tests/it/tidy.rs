//! Tidiness of the suite: every catalogue rule has a scenario, every scenario
//! names one known rule and cites sentences of that rule's basis, every tag is in
//! the closed vocabulary of `features/README.md`, every step has a definition, and
//! the catalogue's sentence ids are those of the shared spec.

use std::collections::BTreeSet;

use oms_conformance::api::Dialect;
use oms_conformance::catalogue::Catalogue;
use oms_conformance::config::CAPABILITIES;
use oms_conformance::suite::{self, PLAIN_TAGS};

use oms_tidy::ModuleGraph;

use crate::support::root;

fn features() -> Vec<suite::Planned> {
    let features =
        suite::load_features(Some(&root().join("features"))).expect("the features parse");
    assert!(
        suite::unmatched_steps(&features).is_empty(),
        "{:?}",
        suite::unmatched_steps(&features)
    );
    suite::plan(&features)
}

#[test]
fn every_rule_has_a_scenario_and_every_scenario_a_known_rule() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let planned = features();
    for scenario in &planned {
        let (ids, restrictions): (Vec<&String>, Vec<&String>) = scenario
            .rule_tags
            .iter()
            .partition(|t| !t.starts_with(suite::API_TAG));
        assert_eq!(
            ids.len(),
            1,
            "{} must sit in one tagged Rule",
            scenario.name
        );
        let rule = catalogue
            .rule(scenario.rule())
            .unwrap_or_else(|| panic!("{} names unknown rule {}", scenario.name, scenario.rule()));
        // The Rule's @api tags are the catalogue's dialects, written only when
        // the rule does not apply to all; a scenario narrows them, never widens.
        let named = |tags: &[&String]| -> Vec<Dialect> {
            tags.iter()
                .filter_map(|t| t.strip_prefix(suite::API_TAG))
                .map(|d| Dialect::parse(d).unwrap_or_else(|| panic!("@api:{d} names no dialect")))
                .collect()
        };
        let of_rule = named(&restrictions);
        if rule.api == Dialect::ALL {
            assert!(
                of_rule.is_empty(),
                "{} applies to every dialect: its Rule carries no @api tag",
                rule.id
            );
        } else {
            assert_eq!(
                of_rule, rule.api,
                "the Rule of {} carries the catalogue's dialects as @api tags",
                rule.id
            );
        }
        let of_scenario = named(&scenario.tags.iter().collect::<Vec<_>>());
        assert!(
            of_scenario.iter().all(|d| rule.applies_to(*d)),
            "{} runs in a dialect its rule {} does not apply to",
            scenario.name,
            rule.id
        );
        let spec = scenario.spec();
        assert!(!spec.is_empty(), "{} cites no spec sentence", scenario.name);
        for id in spec {
            assert!(
                catalogue.sentence(id).is_some(),
                "{} cites unknown sentence {id}",
                scenario.name
            );
            assert!(
                rule.basis.contains(id),
                "{} cites {id}, outside the basis of {}",
                scenario.name,
                rule.id
            );
        }
    }
    for rule in &catalogue.rules {
        assert!(
            planned.iter().any(|s| s.rule() == rule.id),
            "catalogue rule {} has no scenario",
            rule.id
        );
    }
}

#[test]
fn every_tag_is_in_the_closed_vocabulary_of_the_phrasebook() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let readme =
        std::fs::read_to_string(root().join("features/README.md")).expect("features/README.md");
    let mut used = BTreeSet::new();
    for scenario in features() {
        for tag in &scenario.feature_tags {
            assert!(tag.starts_with(suite::OPERATION_TAG), "feature tag @{tag}");
            used.insert(tag.clone());
        }
        for tag in &scenario.tags {
            let known = PLAIN_TAGS.contains(&tag.as_str())
                || tag
                    .strip_prefix(suite::API_TAG)
                    .is_some_and(|d| Dialect::parse(d).is_some())
                || tag
                    .strip_prefix("spec:")
                    .is_some_and(|id| catalogue.sentence(id).is_some())
                || tag
                    .strip_prefix("needs:")
                    .is_some_and(|c| CAPABILITIES.contains(&c));
            assert!(
                known,
                "scenario {} has tag @{tag} outside the vocabulary",
                scenario.name
            );
            used.insert(tag.clone());
        }
        for tag in &scenario.rule_tags {
            if tag.starts_with(suite::API_TAG) {
                used.insert(tag.clone());
            }
        }
    }
    for tag in used {
        assert!(
            readme.contains(&format!("`@{tag}`")),
            "features/README.md does not list `@{tag}`"
        );
    }
}

#[test]
fn the_catalogue_sentences_are_those_of_the_shared_spec() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let spec = root().join("../shared/spec/delete-task.en.md");
    let Ok(text) = std::fs::read_to_string(&spec) else {
        eprintln!(
            "WARNING: {} is absent; the sentence ids were not compared",
            spec.display()
        );
        return;
    };
    let in_spec: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| S"))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|n| format!("S{n}"))
        .collect();
    let in_catalogue: BTreeSet<String> = catalogue
        .sentences
        .iter()
        .filter(|s| s.source == "delete-task.en.md")
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(in_spec, in_catalogue);
}

/// The id and level of each rule row (`| OMS-DEL-… | LEVEL | …`) of a spec file.
fn rule_rows(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| OMS-DEL-"))
        .map(|rest| {
            let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
            (format!("OMS-DEL-{}", cells[0]), cells[1].to_owned())
        })
        .collect()
}

/// The rules of `conformance-rules.md`, then the v2-only rules of
/// `oms-v2-api.md` §7 (a `PROFILE` rule, run only where a capability allows,
/// is a SHOULD here), less OMS-DEL-022: task groups are an API the reference
/// server does not serve, so that rule is not encoded (the guide, `docs/src/rules.md`).
#[test]
fn the_catalogue_rules_are_those_of_the_shared_spec() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let spec = root().join("../shared/spec/conformance-rules.md");
    let v2_spec = root().join("../shared/spec/oms-v2-api.md");
    let (Ok(text), Ok(v2_text)) = (
        std::fs::read_to_string(&spec),
        std::fs::read_to_string(&v2_spec),
    ) else {
        eprintln!(
            "WARNING: {} or {} is absent; the rule ids were not compared",
            spec.display(),
            v2_spec.display()
        );
        return;
    };
    let mut in_spec = rule_rows(&text);
    let v2_only = rule_rows(&v2_text)
        .into_iter()
        .filter(|(id, _)| id != "OMS-DEL-022")
        .map(|(id, level)| {
            let level = match level.as_str() {
                "PROFILE" | "SHOULD/PROFILE" => "SHOULD".to_owned(),
                other => other.to_owned(),
            };
            (id, level)
        });
    in_spec.extend(v2_only);
    // The kit's own rules, which no page of the spec pack numbers (the guide, `docs/src/rules.md`).
    in_spec.push(("OMS-DEL-024".to_owned(), "MUST".to_owned()));
    let in_catalogue: Vec<(String, String)> = catalogue
        .rules
        .iter()
        .map(|r| (r.id.clone(), format!("{:?}", r.level).to_uppercase()))
        .collect();
    assert_eq!(in_spec, in_catalogue);
}

/// The harness's sources, each with its path below `src/`, without their
/// unit tests and without comment lines (doc comments may name the dialect
/// they describe).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = root().join("crates/oms-conformance/src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            let code = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or(&text)
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let name = p.strip_prefix(&src).unwrap_or(&p).display().to_string();
            (name, code)
        })
        .collect()
}

/// Where a needle appears in a file that `allowed` does not admit.
pub(crate) fn outside(allowed: &[&str], needles: &[&str]) -> Vec<String> {
    let files = sources();
    assert!(files.len() > 20, "too few sources found: {}", files.len());
    let mut found = Vec::new();
    for (file, code) in files.iter().filter(|(f, _)| !allowed.contains(&f.as_str())) {
        for needle in needles {
            let hits = code.lines().filter(|l| l.contains(needle)).count();
            if hits > 0 {
                found.push(format!("{file}: {needle} ({hits}×)"));
            }
        }
    }
    found
}

#[test]
fn only_the_v1_dialect_knows_v1_paths_codes_and_shapes() {
    // Its paths, its count and paging queries, its stop body.
    let found = outside(
        &["api/v1.rs"],
        &[
            "objectstorage",
            "taskcount",
            "totalcount",
            "start=",
            "\"operation\": \"stop\"",
            "\"operation\":\"stop\"",
        ],
    );
    assert!(
        found.is_empty(),
        "v1 wire details outside api/v1.rs (the dialect seam): {found:#?}"
    );
}

#[test]
fn only_the_v2_dialect_knows_v2_paths_paging_and_shapes() {
    // Its paths and actions, its paging and envelope, its start keys.
    let found = outside(
        &["api/v2.rs"],
        &[
            "/tasks",
            "offset=",
            "\"count\"",
            "\"tasks\"",
            "/stop",
            "/start",
            "bandwidth-policy",
            "batch-update",
            "dst_ak",
            "successful_num",
        ],
    );
    assert!(
        found.is_empty(),
        "v2 wire details outside api/v2.rs (the dialect seam): {found:#?}"
    );
}

#[test]
fn only_the_dialects_read_task_objects() {
    // The fields of a task object: what the World and the checks learn of a
    // state or a progress, they learn through the dialect.
    let found = outside(
        &["api/v1.rs", "api/v2.rs"],
        &[
            "[\"status\"]",
            "get(\"status\")",
            "[\"progress\"]",
            "get(\"progress\")",
        ],
    );
    assert!(
        found.is_empty(),
        "task-object fields outside the dialect modules: {found:#?}"
    );
}

/// The harness's module graph is one-way: no file imports, through any
/// chain of others, a file that imports it (`oms_tidy::ModuleGraph`, the same
/// reading the server's tidy test uses).
#[test]
fn the_module_graph_is_one_way() {
    let graph = ModuleGraph::of_crate(&root().join("crates/oms-conformance/src"));
    assert!(
        graph.edges.len() >= 30,
        "too few source files read: {:?}",
        graph.edges.keys()
    );
    let circles = graph.circles();
    assert!(
        circles.is_empty(),
        "import circles among the harness's files (each group imports itself through the others):\n{}",
        circles
            .iter()
            .map(|c| format!("  {}", c.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// No source file of the harness (src, tests, benches) is over the house's
/// limit: a file that long holds more than one concern.
#[test]
fn no_source_file_is_over_600_lines() {
    oms_tidy::assert_no_long_files(&root().join("crates/oms-conformance"));
}

/// Only `main.rs` reads the process environment and arguments; everything
/// below it receives a typed configuration.
#[test]
fn only_main_reads_the_environment() {
    oms_tidy::assert_only_main_reads_the_environment(&root().join("crates/oms-conformance/src"));
}

/// Each outside library the harness uses has one home: the HTTP client
/// module owns reqwest, hyper and the resolver, `container.rs` testcontainers,
/// `suite/` cucumber, and `embedded.rs` is the one place that names the
/// reference server (which the harness only launches: no wire type is shared).
#[test]
fn each_outside_library_has_one_home() {
    let src = root().join("crates/oms-conformance/src");
    for (library, home) in [
        ("reqwest", "http/"),
        ("hyper", "http/"),
        ("hyper_util", "http/"),
        ("http_body_util", "http/"),
        ("hickory_resolver", "http/resolve.rs"),
        ("testcontainers", "container.rs"),
        ("cucumber", "suite/"),
        ("gherkin", "suite/"),
        ("oms_reference_server", "embedded.rs"),
    ] {
        let users = oms_tidy::files_naming(&src, library);
        assert!(
            users.iter().all(|f| f.starts_with(home)),
            "`{library}` lives in `{home}` alone; also named in {users:?}"
        );
    }
    assert!(
        !oms_tidy::files_naming(&src, "reqwest").is_empty(),
        "the home check found no use of reqwest at all: it reads nothing"
    );
}
