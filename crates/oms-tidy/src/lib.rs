//! The house's promises as code, shared by the tidy tests of both crates
//! (`tests/it/tidy.rs` in each), so that one implementation judges both:
//!
//! - [`ModuleGraph`]: which source file of a crate imports which, read as Rust
//!   with `syn` (`use` trees and every path in the code, `crate::`, `super::`,
//!   `self::` and a child module's name; a name a module re-exports counts as
//!   that module's, as importing through a face is importing the face), and
//!   [`ModuleGraph::circles`], the import circles if there are any. A child's use of its own ancestors' faces
//!   (`super::` into its `mod.rs`, `crate::` into `lib.rs`) is not an arrow:
//!   the face declares the child, and a loop through it is the module itself;
//! - [`long_files`]: the source files over the length limit;
//! - [`files_naming`]: the files whose code names a crate or a path, to keep a
//!   library (or the environment) in its one home.
//!
//! A file's `#[cfg(test)]` items are left out: a unit test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use syn::visit::Visit;

/// The most lines a source file may have.
pub const MAX_LINES: usize = 600;

/// Every `.rs` file below `dir`, as (path relative to `dir` with `/`
/// separators, text), in path order.
pub fn rust_files(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                let rel = path.strip_prefix(base).unwrap_or(&path);
                out.push((rel.to_string_lossy().replace('\\', "/"), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The files below `src` whose code (comments left out) names `path`, a
/// crate or a path such as `std::env` followed by `::`, as paths relative to
/// `src`: where a library is used, or the environment read.
pub fn files_naming(src: &Path, path: &str) -> Vec<String> {
    let needle = format!("{path}::");
    rust_files(src)
        .into_iter()
        .filter(|(_, text)| {
            text.lines().any(|line| {
                let code = line.split("//").next().unwrap_or_default();
                code.match_indices(&needle).any(|(at, _)| {
                    // A whole name: `hyper::` is not `oms_hyper::`.
                    !code[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
        })
        .map(|(file, _)| file)
        .collect()
}

/// The source files of a crate (its `src/`, `tests/`, `benches/` and
/// `build.rs`) with more than `max` lines, as (path relative to the crate,
/// lines).
pub fn long_files(crate_dir: &Path, max: usize) -> Vec<(String, usize)> {
    let mut long = Vec::new();
    for part in ["src", "tests", "benches"] {
        for (file, text) in rust_files(&crate_dir.join(part)) {
            let lines = text.lines().count();
            if lines > max {
                long.push((format!("{part}/{file}"), lines));
            }
        }
    }
    if let Ok(text) = fs::read_to_string(crate_dir.join("build.rs")) {
        let lines = text.lines().count();
        if lines > max {
            long.push(("build.rs".to_owned(), lines));
        }
    }
    long
}

/// Fails, naming them, when a crate has source files over [`MAX_LINES`]: a
/// file that long holds more than one concern.
pub fn assert_no_long_files(crate_dir: &Path) {
    let long = long_files(crate_dir, MAX_LINES);
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines; split them along their seams: {long:?}"
    );
}

/// Fails, naming them, when a file of `src` other than `main.rs` reads the
/// process environment or arguments (`std::env::…`, `env::…`).
pub fn assert_only_main_reads_the_environment(src: &Path) {
    for path in ["std::env", "env"] {
        let readers = files_naming(src, path);
        assert!(
            readers.iter().all(|f| f == "main.rs"),
            "only main.rs may read the environment (`{path}::`): {readers:?}"
        );
    }
}

/// Who imports whom among a crate's source files: a node per file of `src/`
/// (its path relative to `src/`), an edge from a file to each other file whose
/// module or items it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleGraph {
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

/// One source file as the graph reads it.
struct Module {
    /// Its module path below the crate root (`["suite", "race"]`).
    path: Vec<String>,
    /// Its file, relative to `src/`.
    file: String,
    /// Every path the file names outside its `#[cfg(test)]` items.
    paths: Vec<Vec<String>>,
}

impl ModuleGraph {
    /// The graph of the library crate rooted at `src/lib.rs` (`main.rs`, a
    /// crate of its own that reaches the library by its name, is left out).
    pub fn of_crate(src: &Path) -> Self {
        let mut modules: BTreeMap<Vec<String>, Module> = BTreeMap::new();
        for (file, text) in rust_files(src) {
            if file == "main.rs" || file.starts_with("bin/") {
                continue;
            }
            let syntax =
                syn::parse_file(&text).unwrap_or_else(|e| panic!("src/{file} does not parse: {e}"));
            let path = module_path(&file);
            let mut collector = Collector::default();
            collector.visit_file(&syntax);
            let module = Module {
                path: path.clone(),
                file,
                paths: collector.paths,
            };
            modules.insert(path, module);
        }
        let mut graph = ModuleGraph::default();
        for module in modules.values() {
            let edges = graph.edges.entry(module.file.clone()).or_default();
            for named in &module.paths {
                let Some(target) = resolve(&modules, &module.path, named) else {
                    continue;
                };
                // A module's own face (its `mod.rs`, or the crate's `lib.rs`)
                // declares it and hands its names on: reaching up into an
                // ancestor is how a child sees its parent, not an arrow back.
                // Its own path is not an arrow either.
                if !module.path.starts_with(&target) {
                    edges.insert(modules[&target].file.clone());
                }
            }
        }
        graph
    }

    /// The graph with each node renamed by `node` (several files may become
    /// one node), edges within a node dropped.
    pub fn collapse(&self, node: impl Fn(&str) -> String) -> Self {
        let mut graph = ModuleGraph::default();
        for (from, tos) in &self.edges {
            let from = node(from);
            let edges = graph.edges.entry(from.clone()).or_default();
            for to in tos {
                let to = node(to);
                if to != from {
                    edges.insert(to);
                }
            }
        }
        graph
    }

    /// Every circle, one per strongly connected group of files, each as the
    /// files in it (sorted): what a failing test shows.
    pub fn circles(&self) -> Vec<Vec<String>> {
        let reach = |from: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.to_owned()];
            while let Some(n) = todo.pop() {
                for next in self.edges.get(&n).into_iter().flatten() {
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            seen
        };
        let reached: BTreeMap<&String, BTreeSet<String>> =
            self.edges.keys().map(|n| (n, reach(n))).collect();
        let mut circles: BTreeSet<Vec<String>> = BTreeSet::new();
        for (node, from_node) in &reached {
            let group: Vec<String> = from_node
                .iter()
                .filter(|other| reached.get(other).is_some_and(|r| r.contains(*node)))
                .cloned()
                .collect();
            if !group.is_empty() {
                circles.insert(group);
            }
        }
        circles.into_iter().collect()
    }
}

/// The module path of a file below `src/`: `lib.rs` is the root, `a.rs` and
/// `a/mod.rs` are `a`, `a/b.rs` is `a::b`.
fn module_path(file: &str) -> Vec<String> {
    let trimmed = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The module a path names, seen from the module `from`: the deepest module
/// along it. A name a module re-exports is its own: importing through a face
/// is importing the face. `None` for a path outside the crate.
fn resolve(
    modules: &BTreeMap<Vec<String>, Module>,
    from: &[String],
    named: &[String],
) -> Option<Vec<String>> {
    if named.is_empty() {
        return None;
    }
    let (mut at, rest): (Vec<String>, &[String]) = match named[0].as_str() {
        "crate" => (Vec::new(), &named[1..]),
        "self" => (from.to_vec(), &named[1..]),
        "super" => {
            let mut at = from.to_vec();
            let mut rest = named;
            while rest.first().is_some_and(|s| s == "super") {
                at.pop();
                rest = &rest[1..];
            }
            (at, rest)
        }
        first => {
            let mut child = from.to_vec();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            (from.to_vec(), named)
        }
    };
    let mut rest = rest;
    while let Some(next) = rest.first() {
        let mut child = at.clone();
        child.push(next.clone());
        if modules.contains_key(&child) {
            at = child;
            rest = &rest[1..];
        } else {
            break;
        }
    }
    modules.contains_key(&at).then_some(at)
}

/// Whether the attributes make an item test-only (`#[cfg(test)]`).
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// Collects the paths a file names.
#[derive(Default)]
struct Collector {
    paths: Vec<Vec<String>>,
}

impl Collector {
    /// Every full path of a `use` tree.
    fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_paths(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(syn::UseName { ident })
            | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                let mut path = prefix.clone();
                if ident != "self" {
                    path.push(ident.to_string());
                }
                out.push(path);
            }
            syn::UseTree::Glob(_) => out.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    Self::use_paths(tree, prefix, out);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut found = Vec::new();
        let mut prefix = Vec::new();
        if item.leading_colon.is_none() {
            Self::use_paths(&item.tree, &mut prefix, &mut found);
        }
        self.paths.extend(found);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            self.paths
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        // A test-only item (a `#[cfg(test)] mod tests`, a test helper) may
        // reach anywhere; every other item, nested ones too, counts.
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // A macro's arguments are tokens, not syntax: read the paths in them
        // (`format!("{}", crate::x::y())`) where they parse as expressions.
        syn::visit::visit_macro(self, mac);
        if let Ok(args) = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for expr in &args {
                self.visit_expr(expr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> ModuleGraph {
        let mut g = ModuleGraph::default();
        for (a, b) in edges {
            g.edges
                .entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        g
    }

    #[test]
    fn the_cycle_finder_finds_cycles() {
        assert!(
            graph(&[("a", "b"), ("b", "c"), ("a", "c")])
                .circles()
                .is_empty()
        );
        assert_eq!(
            graph(&[("a", "b"), ("b", "c"), ("c", "a")]).circles(),
            vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
        );
        assert_eq!(
            graph(&[("a", "b"), ("b", "a"), ("c", "d"), ("d", "c"), ("a", "c")]).circles(),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["c".to_owned(), "d".to_owned()]
            ]
        );
    }

    #[test]
    fn module_paths_follow_the_file_layout() {
        assert_eq!(module_path("lib.rs"), Vec::<String>::new());
        assert_eq!(module_path("api/mod.rs"), vec!["api"]);
        assert_eq!(module_path("suite/race.rs"), vec!["suite", "race"]);
    }
}
