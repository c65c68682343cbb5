//! AK/SK profiles: the whole suite signs every request and passes against the
//! reference server (which verifies with its own implementation); a gateway
//! that knows the keys but checks no signature fails OMS-DEL-011 (the negative
//! control); a secret key from the environment is the one used; and neither a
//! secret key, an access key nor a signature ever reaches the output, a report
//! file or a logged exchange.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use oms_conformance::http::{Auth, Client, Method, Redactor, Signing};
use oms_conformance::secret::Secret;
use serde_json::Value;

use crate::support::{self, Ran, run_binary, run_binary_env};

/// The signature scenarios of OMS-DEL-011 that only an AK/SK profile runs.
const SIGNATURE_SCENARIOS: [&str; 4] = [
    "a delete with a tampered signature is refused",
    "a delete with a signature made with a wrong secret key is refused",
    "a delete with a signature dated 30 minutes ago is refused",
    "a delete with a signature dated 30 minutes ahead is refused",
];

fn aksk_profile() -> String {
    support::root()
        .join("fixtures/profiles/reference-aksk.toml")
        .display()
        .to_string()
}

/// Everything the run wrote: stdout, stderr and every report file.
fn everything(ran: &Ran) -> String {
    let mut text = format!("{}\n{}\n", ran.stdout, ran.stderr);
    let files = std::fs::read_dir(&ran.report_dir).expect("report dir");
    for file in files.filter_map(Result::ok) {
        text.push_str(&std::fs::read_to_string(file.path()).unwrap_or_default());
    }
    text
}

/// No secret of `secrets` appears anywhere the run wrote to.
fn assert_no_secrets(ran: &Ran, secrets: &[&str]) {
    let text = everything(ran);
    assert!(text.len() > 1000, "the run wrote almost nothing");
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into the output or a report"
        );
    }
}

fn scenario<'a>(rule: &'a Value, name: &str) -> &'a Value {
    rule["scenarios"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no scenario {name:?} in {rule:#}"))
}

#[test]
fn the_reference_server_is_conformant_with_an_aksk_profile() {
    let ran = run_binary("aksk", &["--profile", &aksk_profile(), "--seed", "7"]);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let results = ran.results();
    let rules = results["rules"].as_array().expect("rules");
    let must: Vec<&Value> = rules.iter().filter(|r| r["level"] == "MUST").collect();
    // The profile judges both dialects: 15 MUST rules of v1 (the kit's own
    // OMS-DEL-024 among them), and in v2 those and the client, list and
    // route rules (OMS-DEL-019, 020, 021).
    assert_eq!(must.len(), 15 + 18);
    for rule in must {
        assert_eq!(rule["verdict"], "pass", "{rule:#}");
    }
    for dialect in ["v1", "v2"] {
        let rule = ran.rule_in(dialect, "OMS-DEL-011");
        for name in SIGNATURE_SCENARIOS {
            assert_eq!(scenario(&rule, name)["verdict"], "pass", "{rule:#}");
        }
        // The SDK-shaped and Terraform-shaped deletes, signed as those clients
        // sign, and a signed X-Project-Id naming the other project.
        if dialect == "v2" {
            assert_eq!(ran.rule_in(dialect, "OMS-DEL-019")["verdict"], "pass");
            let scoping = ran.rule_in(dialect, "OMS-DEL-010");
            let naming = scenario(
                &scoping,
                "a signed delete whose X-Project-Id names the other project is refused",
            );
            assert_eq!(naming["verdict"], "pass", "{scoping:#}");
        }
    }
    assert!(
        ran.last_line()
            .ends_with(" 0 failed, 0 inconclusive, 0 skipped"),
        "{}",
        ran.last_line()
    );
    assert_eq!(results["not_cleaned"], Value::Array(vec![]));
    assert_no_secrets(&ran, &["DUMMYSK", "DUMMYAK"]);
}

#[test]
fn a_token_profile_skips_the_signature_checks_with_a_reason() {
    let ran = run_binary("aksk-token-profile", &["--rule", "OMS-DEL-011"]);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let rule = ran.rule("OMS-DEL-011");
    assert_eq!(rule["verdict"], "pass", "{rule:#}");
    for name in SIGNATURE_SCENARIOS {
        let scenario = scenario(&rule, name);
        assert_eq!(scenario["verdict"], "skipped", "{scenario:#}");
        let reason = scenario["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("authenticates with a token"), "{reason}");
    }
    let unknown_key = scenario(&rule, "a delete with a bad AK/SK signature is refused");
    assert_eq!(unknown_key["verdict"], "pass", "{unknown_key:#}");
}

/// A gateway in front of `upstream` that knows the reference server's access
/// keys but checks no signature and no date: a request signed by a known AK is
/// passed on with that project's token instead. Records each signature it saw.
fn signature_blind_gateway(
    rt: &tokio::runtime::Runtime,
    upstream: SocketAddr,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let addr = support::serve(rt, move |request: hyper::Request<Incoming>| {
        let log = Arc::clone(&log);
        async move { blind_forward(upstream, request, &log).await }
    });
    (addr, seen)
}

async fn blind_forward(
    upstream: SocketAddr,
    request: hyper::Request<Incoming>,
    seen: &Mutex<Vec<String>>,
) -> hyper::Response<Full<Bytes>> {
    let (mut parts, body) = request.into_parts();
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(signature) = authorization.split("Signature=").nth(1) {
        seen.lock().expect("log").push(signature.trim().to_owned());
    }
    let token = if authorization.contains("Access=DUMMYAKB,") {
        Some("dev-token-b")
    } else if authorization.contains("Access=DUMMYAK,") {
        Some("dev-token-a")
    } else {
        None
    };
    if let Some(token) = token {
        parts.headers.remove("authorization");
        parts.headers.remove("x-sdk-date");
        parts
            .headers
            .insert("x-auth-token", token.parse().expect("header value"));
    }
    let body = support::collected(body).await;
    let (parts, body) = support::send_upstream(upstream, parts, body)
        .await
        .into_parts();
    hyper::Response::from_parts(parts, Full::new(body))
}

#[test]
fn a_gateway_that_checks_no_signature_fails_oms_del_011() {
    let rt = support::runtime();
    let upstream = support::reference_server(&rt);
    let (gateway, signatures) = signature_blind_gateway(&rt, upstream);
    let target = format!("http://{gateway}");
    let ran = run_binary(
        "aksk-blind-gateway",
        &[
            "--profile",
            &aksk_profile(),
            "--target",
            &target,
            "--rule",
            "OMS-DEL-011,OMS-DEL-001",
        ],
    );
    assert_eq!(ran.code, 1, "{}", ran.explain());
    let rule = ran.rule("OMS-DEL-011");
    assert_eq!(rule["verdict"], "fail", "{rule:#}");
    for name in SIGNATURE_SCENARIOS {
        let scenario = scenario(&rule, name);
        assert_eq!(scenario["verdict"], "fail", "{scenario:#}");
        // The report shows how to repeat the request without a stale signature.
        let curl = scenario["curl"][0].as_str().unwrap_or_default();
        assert!(
            curl.contains("-X DELETE")
                && curl.contains("SDK-HMAC-SHA256 Authorization signed with"),
            "{curl}"
        );
        assert!(!curl.contains("Signature="), "{curl}");
    }
    // What the gateway does check still holds, and signed deletes still work.
    for name in [
        "a delete with no credentials is refused",
        "a delete with a bad token is refused",
        "a delete with a bad AK/SK signature is refused",
    ] {
        assert_eq!(scenario(&rule, name)["verdict"], "pass", "{rule:#}");
    }
    assert_eq!(ran.rule("OMS-DEL-001")["verdict"], "pass");

    let signatures = signatures.lock().expect("log").clone();
    assert!(signatures.len() > 10, "{signatures:?}");
    let mut secrets = vec!["DUMMYSK", "DUMMYAK"];
    secrets.extend(signatures.iter().map(String::as_str));
    assert_no_secrets(&ran, &secrets);
    drop(rt);
}

/// A one-project AK/SK profile without a secret key, for the environment to give.
fn profile_without_sk(dir: &Path) -> String {
    let fixtures = support::root().join("fixtures/create");
    let text = format!(
        r#"name = "aksk-env"

[first_project]
id = "0123456789abcdef0123456789abcdef"
ak = "DUMMYAK"

[create]
running = "{}"
succeeding = "{}"
"#,
        fixtures.join("running.json").display(),
        fixtures.join("succeeding.json").display(),
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("profile");
    path.display().to_string()
}

#[test]
fn the_secret_key_can_come_from_the_environment() {
    let dir = support::scratch("aksk-env");
    let profile = profile_without_sk(&dir);
    let args = ["--profile", profile.as_str(), "--rule", "OMS-DEL-011"];

    let missing = run_binary("aksk-env-missing", &args);
    assert_eq!(missing.code, 2, "{}", missing.explain());
    assert!(
        missing.stderr.contains("OMS_CONFORMANCE_SK_FIRST"),
        "{}",
        missing.explain()
    );

    let right = run_binary_env(
        "aksk-env-right",
        &args,
        &[("OMS_CONFORMANCE_SK_FIRST", "DUMMYSK")],
    );
    assert_eq!(right.code, 0, "{}", right.explain());
    let rule = right.rule("OMS-DEL-011");
    for name in SIGNATURE_SCENARIOS {
        assert_eq!(scenario(&rule, name)["verdict"], "pass", "{rule:#}");
    }
    assert_no_secrets(&right, &["DUMMYSK", "DUMMYAK"]);

    let wrong = run_binary_env(
        "aksk-env-wrong",
        &args,
        &[("OMS_CONFORMANCE_SK_FIRST", "NOT-THE-DUMMY-SK")],
    );
    assert_eq!(wrong.code, 2, "{}", wrong.explain());
    assert!(
        wrong
            .stderr
            .contains("refused the first project's v1 list (401)"),
        "{}",
        wrong.explain()
    );
    assert!(!everything(&wrong).contains("NOT-THE-DUMMY-SK"));
}

#[test]
fn a_token_profile_refuses_a_stray_secret_key() {
    let ran = run_binary_env(
        "aksk-stray-sk",
        &["--rule", "OMS-DEL-001"],
        &[("OMS_CONFORMANCE_SK_FIRST", "STRAY-SECRET-KEY")],
    );
    assert_eq!(ran.code, 2, "{}", ran.explain());
    assert!(
        ran.stderr.contains("authenticates with a token"),
        "{}",
        ran.explain()
    );
    assert!(!ran.stderr.contains("STRAY-SECRET-KEY"));
}

/// Answers every request with its own headers as a JSON body: a target that
/// echoes what it got, signature included.
fn echo_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    support::serve(rt, |request: hyper::Request<Incoming>| {
        let headers: serde_json::Map<String, Value> = request
            .headers()
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), Value::String(value))
            })
            .collect();
        let body = Value::Object(headers).to_string();
        async move {
            hyper::Response::builder()
                .status(401)
                .header("content-type", "application/json")
                .header("x-echo", body.clone())
                .body(Full::new(Bytes::from(body)))
                .expect("answer")
        }
    })
}

#[test]
fn a_signed_exchange_shows_neither_keys_nor_signature() {
    let rt = support::runtime();
    let addr = echo_server(&rt);
    let redactor = Arc::new(Redactor::new(vec![
        "ECHO-AK-1".to_owned(),
        "ECHO-SK-1".to_owned(),
        "ECHO-SECURITY-TOKEN".to_owned(),
    ]));
    let client = Client::new(
        &format!("http://{addr}"),
        Duration::from_secs(5),
        1 << 16,
        redactor,
    )
    .expect("client");
    for raw in [false, true] {
        let auth = Auth::Signed(Signing {
            ak: Secret::new("ECHO-AK-1"),
            sk: Secret::new("ECHO-SK-1"),
            security_token: Some(Secret::new("ECHO-SECURITY-TOKEN")),
            project_id: "p".to_owned(),
            whose: "the first project's AK/SK".to_owned(),
            clock_offset: 0,
            tamper: false,
        });
        let target = "/v1/p/objectstorage/task/%2E%2E?b=2&a=1";
        let out = support::kit_request(Method::Delete, target, auth, raw);
        let exchange = rt.block_on(client.send(&out));
        let echoed = exchange
            .response
            .as_ref()
            .and_then(|r| r.json.clone())
            .unwrap_or_else(|| panic!("no echo: {}", exchange.render()));
        // What went out is what the SDK sends.
        let authorization = echoed["authorization"].as_str().unwrap_or_default();
        assert!(
            authorization.starts_with("SDK-HMAC-SHA256 Access=ECHO-AK-1, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date;x-security-token, Signature="),
            "{authorization}"
        );
        assert_eq!(echoed["x-project-id"], "p");
        assert_eq!(echoed["host"], addr.to_string().as_str());
        assert_eq!(echoed["x-security-token"], "ECHO-SECURITY-TOKEN");
        let signature = authorization.rsplit('=').next().unwrap_or_default();
        assert_eq!(signature.len(), 64);

        // What was logged shows none of it.
        let logged = format!(
            "{}\n{}\n{}\n{exchange:?}",
            serde_json::to_string(&exchange).expect("exchange"),
            exchange.render(),
            exchange.curl
        );
        for secret in ["ECHO-AK-1", "ECHO-SK-1", "ECHO-SECURITY-TOKEN", signature] {
            assert!(!logged.contains(secret), "{secret} leaked:\n{logged}");
        }
        assert!(logged.contains("Signature=***"), "{logged}");
        assert!(
            exchange
                .curl
                .ends_with("# add X-Sdk-Date and an SDK-HMAC-SHA256 Authorization signed with the first project's AK/SK"),
            "{}",
            exchange.curl
        );
    }
}
