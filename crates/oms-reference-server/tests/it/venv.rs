//! Cached Python virtual environments for the tests that drive the server
//! with a Python tool (the official SDK in `sdk`, schemathesis in `openapi`):
//! one venv per requirements file, built on first use from PyPI with exact
//! pins and reused after, under `target/tmp/`. Provisioning has deadlines;
//! without `python3`, its venv module or a reachable package index it fails
//! the test saying which, and never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::process::{run_with_deadline, tail};

/// pip retries a dead index with back-off for minutes; this bounds the whole
/// install so an unreachable index fails the test instead of hanging it.
const INSTALL_DEADLINE: Duration = Duration::from_secs(600);
const VENV_DEADLINE: Duration = Duration::from_secs(120);
const PROBE_DEADLINE: Duration = Duration::from_secs(30);

/// A virtual environment holding exactly the packages a requirements file
/// pins, provisioned once per test process (the tests that share it run in
/// parallel threads) and cached across runs.
pub struct Venv {
    /// The cache directory's name under `target/tmp/`.
    cache: &'static str,
    /// The requirements file, with exact pins.
    requirements: &'static str,
    /// What needs it, for the failure messages.
    user: &'static str,
    python: OnceLock<PathBuf>,
}

impl Venv {
    pub const fn new(cache: &'static str, requirements: &'static str, user: &'static str) -> Self {
        Self {
            cache,
            requirements,
            user,
            python: OnceLock::new(),
        }
    }

    /// The venv's interpreter, provisioning the venv on first use. Run a
    /// tool as `python -m <module>`: the venv is renamed into place, so its
    /// console scripts' shebangs name a path that no longer exists.
    pub fn python(&self) -> PathBuf {
        self.python.get_or_init(|| self.provision()).clone()
    }

    /// The cached venv's interpreter, building the venv first when the cache
    /// has none for this Python and these pins. The directory is named by a
    /// hash of the requirements and the base interpreter's version, so a
    /// changed pin or a new Python gets a new venv, and a run never deletes a
    /// venv another test process may be using. A venv is built under a
    /// temporary name and renamed into place only once complete, so an
    /// interrupted install is never mistaken for a cached one.
    fn provision(&self) -> PathBuf {
        let user = self.user;
        let requirements = std::fs::read_to_string(self.requirements)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.requirements));
        let probe = run_with_deadline(
            {
                let mut c = Command::new("python3");
                c.arg("--version");
                c
            },
            PROBE_DEADLINE,
            "python3 --version",
        );
        assert!(
            probe.status.success(),
            "python3 --version failed; {user} needs Python 3:\n{}{}",
            probe.stdout,
            probe.stderr
        );
        let python_version = format!("{}{}", probe.stdout, probe.stderr)
            .trim()
            .to_owned();

        let stamp = format!("{python_version}\n{requirements}");
        let key: String = Sha256::digest(stamp.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(self.cache);
        let venv = root.join(&key);
        let python = venv.join("bin").join("python");
        let complete = |dir: &Path| {
            dir.join("bin").join("python").exists()
                && std::fs::read_to_string(dir.join("stamp")).is_ok_and(|s| s == stamp)
        };
        if complete(&venv) {
            return python;
        }

        let building = root.join(format!("{key}.building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        std::fs::create_dir_all(&root).expect("create the venv cache directory");
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&building);
        let created = run_with_deadline(create, VENV_DEADLINE, "python3 -m venv");
        if !created.status.success() {
            let _ = std::fs::remove_dir_all(&building);
            panic!(
                "python3 -m venv {} failed ({}); {user} needs Python 3 with the venv module \
                 (Debian: apt install python3-venv):\n{}{}",
                building.display(),
                created.status,
                created.stdout,
                created.stderr
            );
        }

        let mut install = Command::new(building.join("bin").join("python"));
        install
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            // Per-connection timeout and retries; INSTALL_DEADLINE bounds the total.
            .args(["--timeout", "30", "--retries", "2", "-r"])
            .arg(self.requirements);
        let file = Path::new(self.requirements)
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let installed =
            run_with_deadline(install, INSTALL_DEADLINE, &format!("pip install -r {file}"));
        if !installed.status.success() {
            let _ = std::fs::remove_dir_all(&building);
            panic!(
                "pip could not install the pinned packages of {file} ({}); is the Python \
                 package index reachable from here? {user} cannot run without them.\n\
                 --- pip stderr\n{}\n--- pip stdout (tail)\n{}",
                installed.status,
                installed.stderr,
                tail(&installed.stdout, 20)
            );
        }
        std::fs::write(building.join("stamp"), &stamp).expect("write the venv stamp");

        // A venv's `bin/python` finds its site-packages through the `pyvenv.cfg`
        // beside it, so the renamed venv works; only its console scripts (which
        // the tests never run) keep the old path in their shebangs.
        if complete(&venv) {
            // Another test process finished the same venv first; use theirs.
            let _ = std::fs::remove_dir_all(&building);
        } else {
            // Whatever is there is a leftover without its interpreter.
            let _ = std::fs::remove_dir_all(&venv);
            if std::fs::rename(&building, &venv).is_err() {
                let _ = std::fs::remove_dir_all(&building);
            }
        }
        assert!(
            complete(&venv),
            "the venv at {} is incomplete after provisioning",
            venv.display()
        );
        python
    }
}
