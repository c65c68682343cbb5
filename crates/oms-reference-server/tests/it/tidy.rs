//! Architecture invariants of the server that a compiler does not check,
//! checked on its sources (rust-analyzer's tidy tests): fault injection is one
//! seam, the module graph is one-way with a domain that knows no wire format,
//! and CI builds, lints and tests the build without faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> PathBuf {
    crate_dir().join("../..")
}

/// Every `.rs` file under `src/`, as (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read src")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).expect("under src");
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((rel.to_string_lossy().replace('\\', "/"), text));
            }
        }
    }
    let src = crate_dir().join("src");
    let mut out = Vec::new();
    walk(&src, &src, &mut out);
    out
}

#[test]
fn only_the_faults_module_names_the_feature() {
    let mut sites = Vec::new();
    for (file, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            if line.contains("feature = \"faults\"") {
                sites.push(format!("{file}:{}", n + 1));
            }
        }
    }
    // The one switch: a `cfg_attr` pair picking live.rs or inert.rs.
    assert!(
        sites.iter().all(|s| s.starts_with("faults/mod.rs:")) && sites.len() <= 2,
        "the faults feature may be named only by the switch in faults/mod.rs; found {sites:?}"
    );
    assert!(!sites.is_empty(), "the switch in faults/mod.rs is missing");
}

/// The `pub` and `pub(crate)` items of a hook file, their signatures with
/// whitespace collapsed and the leading `_` of unused parameters dropped.
fn hook_items(text: &str) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_none()
            && (trimmed.starts_with("pub(crate) fn ")
                || trimmed.starts_with("pub fn ")
                || trimmed.starts_with("pub(crate) struct ")
                || trimmed.starts_with("pub(crate) enum "))
            && !line.starts_with("    ")
        {
            current = Some(String::new());
        }
        if let Some(sig) = current.as_mut() {
            sig.push_str(trimmed);
            sig.push(' ');
            if trimmed.ends_with('{') || trimmed.ends_with(';') || trimmed.ends_with("{}") {
                let sig = current.take().unwrap_or_default();
                let sig = sig.split_whitespace().collect::<Vec<_>>().join(" ");
                let sig = sig.replace("(_", "(").replace(" _", " ");
                // Only the head: an item's name and, for a function, its signature.
                let head = sig
                    .trim_end_matches("{}")
                    .trim_end_matches('{')
                    .trim_end_matches(';')
                    .trim();
                let head = head.split(" where ").next().unwrap_or(head).to_owned();
                items.insert(
                    head.split_once(" {")
                        .map_or(head.clone(), |(h, _)| h.to_owned()),
                );
            }
        }
    }
    items
}

#[test]
fn the_inert_hooks_are_twins_of_the_live_ones() {
    let dir = crate_dir().join("src/faults");
    let live = hook_items(&std::fs::read_to_string(dir.join("live.rs")).expect("live.rs"));
    let inert = hook_items(&std::fs::read_to_string(dir.join("inert.rs")).expect("inert.rs"));
    assert!(live.len() >= 10, "too few hooks found in live.rs: {live:?}");
    let only_live: Vec<_> = live.difference(&inert).collect();
    let only_inert: Vec<_> = inert.difference(&live).collect();
    assert!(
        only_live.is_empty() && only_inert.is_empty(),
        "the two builds must offer the same hooks with the same signatures\n\
         only in live.rs: {only_live:#?}\nonly in inert.rs: {only_inert:#?}"
    );
}

/// The module a `src/` file belongs to, for the graph: the top-level module,
/// except that the fault catalogue and the fault hooks are nodes of their own.
fn node_of_file(file: &str) -> String {
    match file {
        "faults/catalogue.rs" => "faults::catalogue".to_owned(),
        f if f.starts_with("faults/") => "faults".to_owned(),
        f => f
            .trim_end_matches(".rs")
            .split('/')
            .next()
            .unwrap_or(f)
            .to_owned(),
    }
}

/// The node a `crate::…` path names.
fn node_of_path(path: &str) -> String {
    let mut parts = path
        .split("::")
        .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'));
    let first = parts.next().unwrap_or_default().to_owned();
    if first == "faults" && parts.next() == Some("catalogue") {
        return "faults::catalogue".to_owned();
    }
    first
}

/// Who imports whom among the crate's modules (`use crate::…` and inline `crate::…` paths).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in sources() {
        let from = node_of_file(&file);
        if from == "lib" || from == "main" {
            continue;
        }
        let edges = graph.entry(from.clone()).or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (i, _) in code.match_indices("crate::") {
            let to = node_of_path(&code[i + "crate::".len()..]);
            if !to.is_empty() && to != from {
                edges.insert(to);
            }
        }
    }
    graph
}

/// A cycle of `graph`, if it has one (a depth-first search for a back edge).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn the_module_graph_is_one_way() {
    let graph = module_graph();
    assert!(graph.len() >= 15, "too few modules found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
    // The domain knows no wire format and no HTTP.
    for domain in ["model", "engine", "store", "bandwidth", "workload", "clock"] {
        let imports = graph.get(domain).cloned().unwrap_or_default();
        for outer in [
            "wire",
            "api",
            "error",
            "middleware",
            "state",
            "faults",
            "config",
        ] {
            assert!(
                !imports.contains(outer),
                "the domain module `{domain}` imports `{outer}`: {imports:?}"
            );
        }
    }
    assert_eq!(
        graph.get("faults::catalogue").cloned().unwrap_or_default(),
        BTreeSet::new(),
        "the fault catalogue must be a leaf"
    );
}

/// The connection layer is one module: only `conn/` drives hyper or parses
/// raw HTTP, and the API below it sees only axum requests.
#[test]
fn only_the_connection_layer_knows_hyper_and_raw_http() {
    let sources = sources();
    assert!(sources.iter().any(|(file, _)| file.starts_with("conn/")));
    for (file, text) in &sources {
        if file.starts_with("conn/") {
            continue;
        }
        for word in ["hyper::", "httparse::"] {
            assert!(!text.contains(word), "{file} names {word}: only conn/ may");
        }
    }
}

#[test]
fn the_domain_carries_no_serde() {
    for (file, text) in sources() {
        let domain = ["model", "engine", "store", "bandwidth", "workload"];
        // By module, so a domain module split into a folder is checked whole.
        if domain.contains(&node_of_file(&file).as_str()) {
            for needle in ["Serialize", "Deserialize", "serde::", "#[serde"] {
                assert!(
                    !text.contains(needle),
                    "{file} names `{needle}`: domain types carry no serde (the wire modules convert)"
                );
            }
        }
    }
}

#[test]
fn ci_builds_lints_and_tests_the_server_without_faults() {
    let ci = std::fs::read_to_string(workspace_root().join(".ci/run")).expect(".ci/run");
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for wanted in [
        "cargo clippy -p oms-reference-server --all-targets --locked -- -D warnings",
        "cargo test -p oms-reference-server --locked",
    ] {
        assert!(
            commands.contains(&wanted),
            ".ci/run must run `{wanted}` (the fault-free build, what users run)"
        );
    }
    let justfile = std::fs::read_to_string(workspace_root().join("justfile")).expect("justfile");
    let image = justfile
        .split("\nimage:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the justfile has an `image` recipe");
    assert!(
        !image.contains("faults"),
        "`just image` must build the fault-free server (the emulator users run):\n{image}"
    );
}
