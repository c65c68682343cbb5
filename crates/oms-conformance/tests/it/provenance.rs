//! What judged a run: `results.json`'s `provenance` (the kit, and the digests
//! of the catalogue, the features and the profile) follows its documented
//! definition, is stable from run to run, changes with what it covers and not
//! with a secret; and no report of a failing run holds a secret.

use std::path::{Path, PathBuf};

use oms_conformance::catalogue::Catalogue;
use oms_conformance::config::{CredentialOverrides, Overrides, RunConfig};
use oms_conformance::provenance::profile_digest;
use oms_conformance::secret::Secret;
use oms_reference_server::faults::Fault;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::run::reference_run;
use crate::support::{self, Ran, run_binary, run_binary_env};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The features digest as the guide defines it (`docs/src/reports.md`), computed here independently:
/// the files in the byte order of their names, each as name, NUL, length in
/// decimal, NUL, bytes.
fn features_digest(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("features folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let bytes = std::fs::read(&file).expect("feature");
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(bytes.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
    }
    hex(&hasher.finalize())
}

fn provenance(ran: &Ran) -> Value {
    let results = ran.results();
    assert!(results["provenance"].is_object(), "{}", ran.explain());
    results["provenance"].clone()
}

#[test]
fn the_provenance_names_the_kit_and_hashes_the_catalogue_and_the_features_as_defined() {
    let p = provenance(reference_run());
    assert_eq!(p["kit"]["name"], "oms-conformance");
    assert_eq!(p["kit"]["version"], env!("CARGO_PKG_VERSION"));
    // The commit the kit was built from: cargo rebuilds it when HEAD moves, so
    // it is the checkout's HEAD (and `unknown` where there is no git).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "HEAD"])
        .current_dir(support::root())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    assert_eq!(
        p["kit"]["commit"],
        head.as_deref().unwrap_or("unknown"),
        "{p:#}"
    );
    let catalogue =
        std::fs::read(support::root().join("fixtures/catalogue.toml")).expect("catalogue");
    assert_eq!(p["catalogue"]["sha256"], hex(&Sha256::digest(&catalogue)));
    assert_eq!(
        p["features"]["sha256"],
        features_digest(&support::root().join("features"))
    );
    assert_eq!(p["features"]["source"], "built-in");
    assert_eq!(
        p["features"]["files"],
        serde_json::json!(["delete-task.feature"])
    );
    assert_eq!(p["profile"]["name"], "reference");
    let profile = p["profile"]["sha256"].as_str().unwrap_or_default();
    assert!(
        profile.len() == 64 && profile.bytes().all(|b| b.is_ascii_hexdigit()),
        "{p:#}"
    );
}

/// A copy of `features/` in a scratch folder, with `extra` appended to the
/// feature file.
fn features_copy(name: &str, extra: &str) -> String {
    let dir = support::scratch(name);
    let text = std::fs::read_to_string(support::root().join("features/delete-task.feature"))
        .expect("feature");
    std::fs::write(dir.join("delete-task.feature"), text + extra).expect("copy");
    dir.display().to_string()
}

#[test]
fn the_digests_are_stable_and_the_features_digest_follows_the_files() {
    let args = |dir: &str| {
        vec![
            "--features-dir".to_owned(),
            dir.to_owned(),
            "--api".to_owned(),
            "v1".to_owned(),
            "--rule".to_owned(),
            "OMS-DEL-008".to_owned(),
        ]
    };
    let run = |name: &str, dir: &str| {
        let args = args(dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = run_binary(name, &args);
        assert_eq!(ran.code, 0, "{}", ran.explain());
        provenance(&ran)
    };
    let copy = run("features-copy", &features_copy("features-copy", ""));
    let again = run(
        "features-copy-again",
        &features_copy("features-copy-again", ""),
    );
    let edited = run(
        "features-edited",
        &features_copy("features-edited", "# one more comment\n"),
    );
    let built_in = provenance(reference_run());
    // A copy of the built-in features, in any folder, hashes as they do.
    assert_eq!(copy["features"]["sha256"], built_in["features"]["sha256"]);
    assert_eq!(again["features"]["sha256"], copy["features"]["sha256"]);
    assert_ne!(copy["features"]["source"], again["features"]["source"]);
    // Run to run, everything else is the same too.
    for key in ["kit", "catalogue", "profile"] {
        assert_eq!(again[key], copy[key], "{key}");
        assert_eq!(edited[key], copy[key], "{key}");
    }
    // One byte more, even a comment, is other features.
    assert_ne!(edited["features"]["sha256"], copy["features"]["sha256"]);
    assert_eq!(
        edited["features"]["sha256"],
        features_digest(Path::new(
            edited["features"]["source"].as_str().unwrap_or_default()
        ))
    );
    // The profile as used covers the create bodies of the dialects judged:
    // v1 alone is not both.
    assert_ne!(copy["profile"]["sha256"], built_in["profile"]["sha256"]);
}

/// A profile in `dir` whose projects authenticate as `credentials` says (TOML
/// lines for each project), with create bodies `running` and `succeeding`.
fn write_profile(dir: &Path, credentials: [&str; 2], running: &Path, extra: &str) -> PathBuf {
    let fixtures = support::root().join("fixtures/create");
    let text = format!(
        r#"name = "digest"
api = ["v1"]
[first_project]
id = "0123456789abcdef0123456789abcdef"
{first}
[second_project]
id = "fedcba9876543210fedcba9876543210"
{second}
[create]
running = "{running}"
succeeding = "{succeeding}"
{extra}
"#,
        first = credentials[0],
        second = credentials[1],
        running = running.display(),
        succeeding = fixtures.join("succeeding.json").display(),
    );
    let path = dir.join(format!("profile-{}.toml", hex(&Sha256::digest(&text)[..8])));
    std::fs::write(&path, text).expect("profile");
    path
}

/// A running body like the fixture's, with these source and destination keys
/// and a security token for the source.
fn write_body(dir: &Path, name: &str, secret: &str, bucket: &str) -> PathBuf {
    let mut body: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("fixtures/create/running.json"))
            .expect("body"),
    )
    .expect("json");
    body["src_node"]["ak"] = format!("SRC-AK-{secret}").into();
    body["src_node"]["sk"] = format!("SRC-SK-{secret}").into();
    body["src_node"]["security_token"] = format!("SRC-STS-{secret}").into();
    body["src_node"]["bucket"] = bucket.into();
    body["dst_node"]["ak"] = format!("DST-AK-{secret}").into();
    body["dst_node"]["sk"] = format!("DST-SK-{secret}").into();
    let path = dir.join(name);
    std::fs::write(&path, body.to_string()).expect("body");
    path
}

fn resolve(profile: &Path, credentials: [CredentialOverrides; 2]) -> RunConfig {
    let catalogue = Catalogue::embedded().expect("catalogue");
    RunConfig::resolve(
        Overrides {
            profile: Some(profile.to_owned()),
            credentials,
            now_unix: 1_795_824_000,
            ..Overrides::default()
        },
        &catalogue,
    )
    .expect("the profile resolves")
}

fn tokens(first: &str, second: &str) -> [CredentialOverrides; 2] {
    let token = |t: &str| CredentialOverrides {
        token: Some(Secret::new(t)),
        ..CredentialOverrides::default()
    };
    [token(first), token(second)]
}

fn keys(suffix: &str, security_token: bool) -> [CredentialOverrides; 2] {
    let pair = |n: &str| CredentialOverrides {
        ak: Some(Secret::new(format!("AK{n}-{suffix}"))),
        sk: Some(Secret::new(format!("SK{n}-{suffix}"))),
        security_token: security_token.then(|| Secret::new(format!("STS{n}-{suffix}"))),
        ..CredentialOverrides::default()
    };
    [pair("1"), pair("2")]
}

#[test]
fn the_profile_digest_changes_with_the_profile_and_never_with_a_secret() {
    let dir = support::scratch("profile-digest");
    // One body file, rewritten with other secrets or another bucket below.
    let body_a = write_body(&dir, "running.json", "Qw7Zp1", "long-source");
    let none = ["", ""];
    let digest = |config: &RunConfig| profile_digest(&config.profile_as_used);

    // Tokens: in the file, from the environment, other values: one digest.
    let in_file = write_profile(
        &dir,
        ["token = \"tok-in-file-1\"", "token = \"tok-in-file-2\""],
        &body_a,
        "",
    );
    let base = resolve(&in_file, Default::default());
    let from_env = resolve(
        &write_profile(&dir, none, &body_a, ""),
        tokens("tok-env-1", "tok-env-2"),
    );
    let other_tokens = resolve(&in_file, tokens("tok-other-1", "tok-other-2"));
    assert_eq!(digest(&from_env), digest(&base));
    assert_eq!(digest(&other_tokens), digest(&base));
    // Other secrets in the create body: the same digest.
    write_body(&dir, "running.json", "Hn4Kx9", "long-source");
    let other_body_secrets = resolve(&in_file, Default::default());
    assert_eq!(digest(&other_body_secrets), digest(&base));

    // AK/SK: in the file or given, other values: one digest, another kind's.
    let aksk_in_file = write_profile(
        &dir,
        [
            "ak = \"AK-F1\"\nsk = \"SK-F1\"",
            "ak = \"AK-F2\"\nsk = \"SK-F2\"",
        ],
        &body_a,
        "",
    );
    let aksk = resolve(&aksk_in_file, Default::default());
    assert_eq!(
        digest(&resolve(
            &write_profile(&dir, none, &body_a, ""),
            keys("x", false)
        )),
        digest(&aksk)
    );
    assert_eq!(
        digest(&resolve(&aksk_in_file, keys("y", false))),
        digest(&aksk)
    );
    assert_ne!(digest(&aksk), digest(&base), "a token is not an AK/SK");
    // A temporary AK/SK (with a security token) is a kind of its own, whatever its token.
    let temporary = resolve(&write_profile(&dir, none, &body_a, ""), keys("x", true));
    assert_eq!(
        digest(&resolve(
            &write_profile(&dir, none, &body_a, ""),
            keys("z", true)
        )),
        digest(&temporary)
    );
    assert_ne!(digest(&temporary), digest(&aksk));

    // What the profile says, and what its bodies ask for, changes it.
    let deadline = resolve(
        &write_profile(&dir, none, &body_a, "[deadlines]\nstate = \"20s\""),
        tokens("t1", "t2"),
    );
    assert_ne!(digest(&deadline), digest(&base));
    write_body(&dir, "running.json", "Qw7Zp1", "long-elsewhere");
    let bucket = resolve(&in_file, Default::default());
    assert_ne!(digest(&bucket), digest(&base));

    // None of the secrets is in what is hashed.
    for config in [
        &base,
        &from_env,
        &other_tokens,
        &other_body_secrets,
        &aksk,
        &temporary,
    ] {
        let hashed = config.profile_as_used.to_string();
        for secret in [
            "tok-", "AK-F", "SK-F", "AK1-", "SK1-", "STS1-", "Qw7Zp1", "Hn4Kx9",
        ] {
            assert!(!hashed.contains(secret), "{secret} is hashed: {hashed}");
        }
        assert!(hashed.contains("long-source"), "{hashed}");
    }
}

#[test]
fn no_report_of_a_failing_signed_run_holds_a_secret() {
    // A server that deletes running tasks, with credentials of this test's own.
    let rt = support::runtime();
    let aksk = |ak: &str, sk: &str, project: &str| oms_reference_server::AkSkBinding {
        ak: ak.to_owned(),
        sk: oms_reference_server::Secret::new(sk),
        project_id: project.to_owned(),
    };
    let addr = support::reference_server_with(
        &rt,
        oms_reference_server::Config {
            fault: Some(Fault::DeleteRunning),
            tokens: Vec::new(),
            aksk: vec![
                aksk(
                    "AKID7Q2XWRT",
                    "Zr8pQ3vNsk",
                    "0123456789abcdef0123456789abcdef",
                ),
                aksk(
                    "AKID9M4KDPL",
                    "Lw5tY7bHsk",
                    "fedcba9876543210fedcba9876543210",
                ),
            ],
            ..oms_reference_server::Config::default()
        },
    );
    let dir = support::scratch("secret-free");
    let body = write_body(&dir, "running.json", "Vb6Jm2", "long-source");
    let profile = write_profile(&dir, ["", ""], &body, "")
        .display()
        .to_string();
    let target = format!("http://{addr}");
    let secrets = [
        ("OMS_CONFORMANCE_AK_FIRST", "AKID7Q2XWRT"),
        ("OMS_CONFORMANCE_SK_FIRST", "Zr8pQ3vNsk"),
        ("OMS_CONFORMANCE_SECURITY_TOKEN_FIRST", "STSf0r7hew3b"),
        ("OMS_CONFORMANCE_AK_SECOND", "AKID9M4KDPL"),
        ("OMS_CONFORMANCE_SK_SECOND", "Lw5tY7bHsk"),
    ];
    let ran = run_binary_env(
        "secret-free",
        &[
            "--target",
            &target,
            "--profile",
            &profile,
            "--rule",
            "OMS-DEL-003,OMS-DEL-001",
            "--seed",
            "7",
        ],
        &secrets,
    );
    drop(rt);
    assert_eq!(ran.code, 1, "{}", ran.explain());
    assert_eq!(
        ran.rule("OMS-DEL-003")["verdict"],
        "fail",
        "{}",
        ran.explain()
    );
    let mut texts = vec![
        ("stdout".to_owned(), ran.stdout.clone()),
        ("stderr".to_owned(), ran.stderr.clone()),
    ];
    for entry in std::fs::read_dir(&ran.report_dir).expect("reports") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("report");
        texts.push((path.display().to_string(), text));
    }
    assert_eq!(
        texts.len(),
        2 + 5,
        "junit, cucumber, results, html, summary"
    );
    for (file, text) in &texts {
        for secret in secrets.iter().map(|(_, s)| *s).chain(["Vb6Jm2"]) {
            assert!(!text.contains(secret), "{secret} is in {file}");
        }
    }
}
