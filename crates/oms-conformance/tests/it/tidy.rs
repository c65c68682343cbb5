//! Tidiness of the suite: every catalogue rule has a scenario, every scenario
//! names one known rule and cites sentences of that rule's basis, every tag is in
//! the closed vocabulary of `features/README.md`, every step has a definition, and
//! the catalogue's sentence ids are those of the shared spec.

use std::collections::BTreeSet;

use oms_conformance::catalogue::Catalogue;
use oms_conformance::config::CAPABILITIES;
use oms_conformance::suite::{self, PLAIN_TAGS};

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
        assert_eq!(
            scenario.rule_tags.len(),
            1,
            "{} must sit in one tagged Rule",
            scenario.name
        );
        let rule = catalogue
            .rule(scenario.rule())
            .unwrap_or_else(|| panic!("{} names unknown rule {}", scenario.name, scenario.rule()));
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

#[test]
fn the_catalogue_rules_are_those_of_the_shared_spec() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let spec = root().join("../shared/spec/conformance-rules.md");
    let Ok(text) = std::fs::read_to_string(&spec) else {
        eprintln!(
            "WARNING: {} is absent; the rule ids were not compared",
            spec.display()
        );
        return;
    };
    let in_spec: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| OMS-DEL-"))
        .map(|rest| {
            let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
            (format!("OMS-DEL-{}", cells[0]), cells[1].to_owned())
        })
        .collect();
    let in_catalogue: Vec<(String, String)> = catalogue
        .rules
        .iter()
        .map(|r| (r.id.clone(), format!("{:?}", r.level).to_uppercase()))
        .collect();
    assert_eq!(in_spec, in_catalogue);
}

/// The harness's sources outside `api/v1.rs`, without their unit tests.
fn sources_outside_the_v1_dialect() -> Vec<(String, String)> {
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
        .filter(|p| !p.ends_with("api/v1.rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            let code = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or(&text)
                .to_owned();
            let name = p.strip_prefix(&src).unwrap_or(&p).display().to_string();
            (name, code)
        })
        .collect()
}

#[test]
fn only_the_v1_dialect_knows_v1_paths_codes_and_shapes() {
    let files = sources_outside_the_v1_dialect();
    assert!(files.len() > 20, "too few sources found: {}", files.len());
    // What only `api/v1.rs` may name: its paths, its count and paging queries,
    // its task fields, its stop body.
    let v1_only = [
        "objectstorage",
        "taskcount",
        "totalcount",
        "start=",
        "[\"status\"]",
        "get(\"status\")",
        "[\"progress\"]",
        "get(\"progress\")",
        "\"operation\": \"stop\"",
        "\"operation\":\"stop\"",
    ];
    let mut found = Vec::new();
    for (file, code) in &files {
        for needle in v1_only {
            // Doc comments may name the dialect they describe.
            let hits = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .filter(|l| l.contains(needle))
                .count();
            if hits > 0 {
                found.push(format!("{file}: {needle} ({hits}×)"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "v1 wire details outside api/v1.rs (the dialect seam): {found:#?}"
    );
}
