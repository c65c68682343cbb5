//! Architecture invariants of the server that a compiler does not check,
//! checked on its sources (rust-analyzer's tidy tests): fault injection is one
//! seam, the module graph is one-way with a domain that knows no wire format,
//! and CI builds, lints and tests the build without faults.

use std::collections::BTreeSet;
use std::path::PathBuf;

use oms_tidy::ModuleGraph;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> PathBuf {
    crate_dir().join("../..")
}

/// Every `.rs` file under `src/`, as (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    oms_tidy::rust_files(&crate_dir().join("src"))
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

#[test]
fn the_module_graph_is_one_way() {
    let files = ModuleGraph::of_crate(&crate_dir().join("src"));
    let circles = files.circles();
    assert!(
        circles.is_empty(),
        "import circles among the server's files: {circles:?}"
    );
    // One-way between the top-level modules too (a folder is one module).
    let modules = files.collapse(node_of_file);
    assert!(
        modules.edges.len() >= 15,
        "too few modules found: {:?}",
        modules.edges
    );
    let circles = modules.circles();
    assert!(
        circles.is_empty(),
        "import circles among the server's modules: {circles:?}"
    );
    let graph = modules.edges;
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

/// No source file of the server (src, tests, benches) is over the house's
/// limit: a file that long holds more than one concern.
#[test]
fn no_source_file_is_over_600_lines() {
    oms_tidy::assert_no_long_files(&crate_dir());
}

/// Only `main.rs` reads the process environment and arguments; the library
/// receives a typed `Config`.
#[test]
fn only_main_reads_the_environment() {
    oms_tidy::assert_only_main_reads_the_environment(&crate_dir().join("src"));
}
