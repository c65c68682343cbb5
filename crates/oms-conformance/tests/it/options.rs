//! Bad command lines, profiles and expectations files: exit 2 and exactly one
//! line saying what is wrong; `--help` documents every option.

use std::path::PathBuf;

use oms_conformance::api::Dialect;
use oms_conformance::catalogue::Catalogue;
use oms_conformance::config::{CredentialOverrides, Disposition, Overrides, RunConfig, Target};
use oms_conformance::secret::Secret;

use crate::support::{self, run_binary, run_binary_env};

fn one_line(ran: &crate::support::Ran) -> &str {
    assert_eq!(ran.code, 2, "{}", ran.explain());
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", ran.explain());
    assert!(ran.stdout.is_empty(), "{}", ran.explain());
    lines[0]
}

#[test]
fn an_unknown_flag_exits_2_with_one_line() {
    let ran = run_binary("bad-flag", &["--bogus"]);
    let line = one_line(&ran);
    assert!(line.contains("--bogus"), "{line}");
}

#[test]
fn a_bad_value_exits_2_with_one_line() {
    let ran = run_binary("bad-duration", &["--request-timeout", "5 parsecs"]);
    assert!(one_line(&ran).contains("request-timeout"));
    let ran = run_binary("bad-url", &["--target", "ftp://example.invalid"]);
    assert!(one_line(&ran).contains("scheme"));
    // A base URL is printed and written into every report: never a password.
    let ran = run_binary(
        "url-credentials",
        &["--target", "http://kit:hunter2@127.0.0.1:1"],
    );
    let line = one_line(&ran);
    assert!(
        line.contains("carries no credentials") && !line.contains("hunter2"),
        "{line}"
    );
    let ran = run_binary("bad-rule", &["--rule", "OMS-DEL-999"]);
    assert!(one_line(&ran).contains("OMS-DEL-999"));
    let ran = run_binary("bad-api", &["--api", "v3"]);
    let line = one_line(&ran);
    assert!(line.contains("--api") && line.contains("`v3`"), "{line}");
    let ran = run_binary("twice-api", &["--api", "v2,v2"]);
    assert!(one_line(&ran).contains("named twice"));
}

#[test]
fn a_profile_names_its_dialects_and_their_create_bodies() {
    let dir = support::scratch("api-profile");
    let empty = support::profile(&dir, "api = []", "");
    let ran = run_binary("api-empty", &["--profile", &empty.display().to_string()]);
    assert!(one_line(&ran).contains("api is empty"), "{}", ran.explain());
    let unknown = support::profile(&dir, "api = [\"v9\"]", "");
    let ran = run_binary(
        "api-unknown",
        &["--profile", &unknown.display().to_string()],
    );
    let line = one_line(&ran);
    assert!(
        line.contains("bad profile") && line.contains("`v9`"),
        "{line}"
    );
    // The test profile has v1 bodies only: judging v2 needs [create.v2].
    let v2 = support::profile(&dir, "api = [\"v2\"]", "");
    let ran = run_binary("api-no-bodies", &["--profile", &v2.display().to_string()]);
    assert!(one_line(&ran).contains("[create.v2]"), "{}", ran.explain());
}

#[test]
fn the_dialects_can_come_from_the_environment() {
    let ran = run_binary_env(
        "env-api",
        &["--rule", "OMS-DEL-001"],
        &[("OMS_CONFORMANCE_API", "v2")],
    );
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let results = ran.results();
    assert_eq!(results["apis"], serde_json::json!(["v2"]));
    let judged: Vec<&str> = results["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["dialect"].as_str())
        .collect();
    assert!(
        !judged.is_empty() && judged.iter().all(|d| *d == "v2"),
        "{judged:?}"
    );
}

/// The one line a run with a test profile (`top` and `tables` added) is
/// refused with, exit 2.
fn refused_profile(name: &str, top: &str, tables: &str) -> String {
    let profile = support::profile(&support::scratch(name), top, tables);
    let ran = run_binary(name, &["--profile", &profile.display().to_string()]);
    one_line(&ran).to_owned()
}

#[test]
fn a_bad_profile_exits_2_with_one_line() {
    let line = refused_profile("bad-profile-field", "colour = \"blue\"", "");
    assert!(
        line.contains("bad profile") && line.contains("colour"),
        "{line}"
    );
    let line = refused_profile("bad-profile-answer", "", "[declared]\nrunning = \"4xx\"\n");
    assert!(line.contains("declared.running"), "{line}");
    // A dialect's table of declared answers: an unknown dialect, a bad key.
    let line = refused_profile(
        "bad-profile-dialect",
        "",
        "[declared.v3]\nrunning = \"400\"\n",
    );
    assert!(
        line.contains("bad profile") && line.contains("unknown dialect `v3`"),
        "{line}"
    );
    let line = refused_profile("bad-profile-key", "", "[declared.v2]\nrunnin = \"400\"\n");
    assert!(
        line.contains("declared.v2") && line.contains("runnin"),
        "{line}"
    );

    let ran = run_binary(
        "missing-profile",
        &["--profile", "/nonexistent/profile.toml"],
    );
    assert!(one_line(&ran).contains("/nonexistent/profile.toml"));
}

#[test]
fn an_expectation_for_an_unknown_dialect_exits_2_with_one_line() {
    let expectations = support::scratch("bad-expectations-dialect").join("known.toml");
    std::fs::write(
        &expectations,
        "[[known_failure]]\nrule = \"OMS-DEL-003\"\ndialect = \"v9\"\nreason = \"r\"\nexpires = 2999-01-01\n",
    )
    .expect("expectations");
    let ran = run_binary(
        "bad-expectations-dialect",
        &["--expectations", &expectations.display().to_string()],
    );
    let line = one_line(&ran);
    assert!(
        line.contains("bad expectations file") && line.contains("unknown dialect `v9`"),
        "{line}"
    );
}

#[test]
fn help_documents_every_option() {
    let ran = run_binary("help", &["--help"]);
    let options = [
        "--target",
        "--profile",
        "--expectations",
        "--strict",
        "--seed",
        "--report-dir",
        "--features-dir",
        "--rule",
        "--api",
        "--token-first",
        "--token-second",
        "--request-timeout",
        "--state-timeout",
        "--run-timeout",
    ];
    support::assert_help_mentions(&ran, "--help", &options);
    assert!(
        ran.stdout.contains("OMS_CONFORMANCE_TARGET"),
        "--help names the environment variables"
    );
}

#[test]
fn the_command_line_beats_the_environment() {
    let env = [("OMS_CONFORMANCE_RULES", "OMS-DEL-999")];
    let from_env = run_binary_env("env-rule", &[], &env);
    assert!(
        one_line(&from_env).contains("OMS-DEL-999"),
        "the environment was not read"
    );
    let overridden = run_binary_env("cli-rule", &["--rule", "OMS-DEL-001"], &env);
    assert_eq!(overridden.code, 0, "{}", overridden.explain());
}

#[test]
fn the_example_vendor_profile_loads() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let overrides = Overrides {
        profile: Some(support::root().join("fixtures/profiles/example-vendor.toml")),
        credentials: [
            CredentialOverrides {
                token: Some(Secret::new("t1")),
                ..CredentialOverrides::default()
            },
            CredentialOverrides {
                token: Some(Secret::new("t2")),
                ..CredentialOverrides::default()
            },
        ],
        report_dir: Some(PathBuf::from("unused")),
        now_unix: 1_795_824_000,
        ..Overrides::default()
    };
    let config = RunConfig::resolve(overrides, &catalogue).expect("the example profile is valid");
    assert_eq!(
        config.target,
        Target::External("http://127.0.0.1:8080".to_owned())
    );
    assert_eq!(config.declared.of(Dialect::V1).delete_status, 204);
    assert!(config.disabled_rules.contains_key("OMS-DEL-006"));
    assert!(config.disabled_capabilities.contains_key("failing-task"));
    assert_eq!(config.expectations.len(), 1);
    assert!(
        !format!("{config:?}").contains("t1"),
        "a token shows in Debug"
    );

    // Without a token anywhere, the profile is refused with one clear message.
    let no_token = Overrides {
        profile: Some(support::root().join("fixtures/profiles/example-vendor.toml")),
        ..Overrides::default()
    };
    let error = RunConfig::resolve(no_token, &catalogue).expect_err("no token");
    assert!(
        error.to_string().contains("OMS_CONFORMANCE_TOKEN_FIRST"),
        "{error}"
    );
}

#[test]
fn the_example_v2_vendor_profile_loads() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let keys = |ak: &str, sk: &str| CredentialOverrides {
        ak: Some(Secret::new(ak)),
        sk: Some(Secret::new(sk)),
        ..CredentialOverrides::default()
    };
    let overrides = Overrides {
        profile: Some(support::root().join("fixtures/profiles/example-vendor-v2.toml")),
        credentials: [keys("AK1", "SK-ONE"), keys("AK2", "SK-TWO")],
        report_dir: Some(PathBuf::from("unused")),
        now_unix: 1_795_824_000,
        ..Overrides::default()
    };
    let config = RunConfig::resolve(overrides, &catalogue).expect("the example profile is valid");
    assert_eq!(config.apis, [Dialect::V2]);
    assert!(config.bodies_for(Dialect::V2).is_some());
    assert!(config.bodies_for(Dialect::V1).is_none());
    for capability in ["failing-task", "retrying-task", "both-dialects", "quota"] {
        assert!(
            config.disabled_capabilities.contains_key(capability),
            "{capability}"
        );
    }
    assert!(!config.disabled_capabilities.contains_key("aksk"));
    assert_eq!(
        config.declared.of(Dialect::V2).pausing,
        Disposition::Deleted
    );
    assert!(
        !format!("{config:?}").contains("SK-ONE"),
        "a secret key shows in Debug"
    );
}
