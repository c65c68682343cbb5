//! Records the git commit the kit is built from, for `results.json`'s
//! `provenance.kit.commit`: a vendor cites the kit by version and commit. A
//! build outside a git checkout (a source tarball, a vendored copy) records
//! `unknown`. Only the commit is read, not whether the tree was clean: asking
//! `git status` would rerun this script, and relink the kit, at every edit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let commit = git(&["rev-parse", "--verify", "HEAD"])
        .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    // A new commit moves HEAD, or the branch HEAD names (loose, or packed).
    if let (Some(git_dir), Some(common)) = (
        git(&["rev-parse", "--git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) {
        let (git_dir, common) = (absolute(&git_dir), absolute(&common));
        let mut watched = vec![git_dir.join("HEAD"), common.join("packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(common.join(branch));
        }
        // Cargo reruns a script at every build while a path it watches is
        // missing (a branch only in `packed-refs`, or no `packed-refs` yet).
        for path in watched.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rustc-env=OMS_CONFORMANCE_GIT_COMMIT={commit}");
}

/// What `git ARGS` prints in the package's folder, trimmed; `None` when git is
/// missing, fails, or the folder is not in a checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A path git printed, relative to the package's folder unless absolute.
fn absolute(path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_owned()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }
}
