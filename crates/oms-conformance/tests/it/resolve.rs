//! Host names are resolved in-process, as the static harness in its `scratch`
//! image needs: a name that only the test's own DNS server knows reaches the
//! server on both of the client's paths (reqwest's and the raw one), a
//! nameserver that never answers costs one request deadline, not a hang, and
//! the binary judges a target whose name does not resolve unreachable, exit 2;
//! and no other code of the harness resolves a name.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use http_body_util::Full;
use oms_conformance::http::{Auth, Client, Method, Outgoing, Redactor, Resolver};

use crate::support;

/// The one name the test's DNS server knows; no other resolver does.
const NAME: &str = "reference.oms-conformance.test";

/// A DNS server on `127.0.0.1:0` (UDP) that answers an `A` query for [`NAME`]
/// with `127.0.0.1`, any other query for it with no records, and any other
/// name with NXDOMAIN, except that it never answers a query of a type in
/// `unanswered`; it records every name and type it was asked.
fn dns_server(
    rt: &tokio::runtime::Runtime,
    unanswered: &'static [RecordType],
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    let addr = rt.block_on(async {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let types: Vec<RecordType> =
                    query.queries().iter().map(|q| q.query_type()).collect();
                if types.iter().any(|t| unanswered.contains(t)) {
                    log.lock()
                        .expect("log")
                        .push(format!("unanswered {types:?}"));
                    continue;
                }
                let mut answer = Message::new();
                answer
                    .set_id(query.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(query.op_code())
                    .set_recursion_desired(true)
                    .set_recursion_available(true);
                for question in query.queries() {
                    answer.add_query(question.clone());
                    let name = question.name().to_ascii();
                    log.lock().expect("log").push(name.clone());
                    if name.trim_end_matches('.') != NAME {
                        answer.set_response_code(ResponseCode::NXDomain);
                    } else if question.query_type() == RecordType::A {
                        answer.add_answer(Record::from_rdata(
                            question.name().clone(),
                            60,
                            RData::A(A(Ipv4Addr::LOCALHOST)),
                        ));
                    }
                }
                if let Ok(bytes) = answer.to_vec() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        addr
    });
    (addr, asked)
}

/// A client of `base` whose resolver asks only the nameserver `dns`.
fn client_via(dns: SocketAddr, base: &str, timeout: Duration) -> Client {
    Client::with_resolver(
        base,
        timeout,
        4096,
        Arc::new(Redactor::default()),
        Resolver::with_nameserver(dns),
    )
    .expect("client")
}

fn get(raw: bool) -> Outgoing {
    support::kit_request(Method::Get, "/v1/p/objectstorage/task/1", Auth::None, raw)
}

fn ok_answer() -> hyper::Response<Full<Bytes>> {
    support::json_answer(200, b"{}")
}

#[test]
fn a_name_only_the_configured_nameserver_knows_is_reached_on_both_paths() {
    let rt = support::runtime();
    let (dns, asked) = dns_server(&rt, &[]);
    let (server, seen) = support::recording_server(&rt, ok_answer);
    let base = format!("http://{NAME}:{}", server.port());
    let client = client_via(dns, &base, Duration::from_secs(5));
    for raw in [false, true] {
        let exchange = rt.block_on(client.send(&get(raw)));
        assert_eq!(
            exchange.status(),
            Some(200),
            "raw {raw}: {}",
            exchange.render()
        );
        assert_eq!(exchange.raw, raw);
    }
    let seen = seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let host = format!("{NAME}:{}", server.port());
    for request in &seen {
        assert_eq!(request.header("host"), Some(host.as_str()), "{request:?}");
    }
    let asked = asked.lock().expect("log").clone();
    assert!(
        asked.iter().any(|name| name == &format!("{NAME}.")),
        "the nameserver was never asked for {NAME}: {asked:?}"
    );
}

#[test]
fn a_name_with_an_ipv4_address_is_not_held_up_by_its_ipv6_question() {
    // Asked for both families at once, the resolver waited for the slower
    // answer: a nameserver that never answers AAAA (as Docker's, forwarding
    // for an `--add-host` name to a slow upstream, in effect did) then cost
    // every new connection the whole deadline.
    let rt = support::runtime();
    let (dns, asked) = dns_server(&rt, &[RecordType::AAAA]);
    let (server, _seen) = support::recording_server(&rt, ok_answer);
    let base = format!("http://{NAME}:{}", server.port());
    for raw in [false, true] {
        // A client of its own for each path: a look-up the other path made
        // would be answered from the shared cache, not tried again.
        let client = client_via(dns, &base, Duration::from_secs(2));
        let exchange = rt.block_on(client.send(&get(raw)));
        assert_eq!(
            exchange.status(),
            Some(200),
            "raw {raw}: {}\nasked: {:?}",
            exchange.render(),
            asked.lock().expect("log")
        );
    }
}

#[test]
fn a_silent_nameserver_costs_one_request_deadline_on_both_paths() {
    let rt = support::runtime();
    // A nameserver that answers no question it is asked.
    let (dns, asked) = dns_server(&rt, &[RecordType::A, RecordType::AAAA]);
    let timeout = Duration::from_millis(500);
    let client = client_via(dns, &format!("http://{NAME}:8080"), timeout);
    for raw in [false, true] {
        let started = Instant::now();
        let exchange = rt.block_on(client.send(&get(raw)));
        let took = started.elapsed();
        let error = exchange.error.clone().unwrap_or_default();
        assert!(exchange.response.is_none(), "raw {raw}: {error}");
        assert!(
            error.contains("timed out") || error.contains("no complete answer within 500 ms"),
            "raw {raw}: {error}"
        );
        // The look-up is inside the deadline; the slack is for a loaded machine.
        assert!(
            took >= timeout && took < timeout + Duration::from_secs(2),
            "raw {raw}: took {took:?}"
        );
    }
    assert!(
        !asked.lock().expect("log").is_empty(),
        "the silent nameserver was never asked"
    );
}

#[test]
fn a_target_whose_name_does_not_resolve_is_unreachable_exit_2() {
    let started = Instant::now();
    let ran = support::run_binary(
        "unresolvable",
        &[
            "--target",
            "http://no-such-host.invalid:8080",
            "--request-timeout",
            "2s",
        ],
    );
    assert_eq!(ran.code, 2, "{}", ran.explain());
    assert!(
        ran.stderr.contains("the target is unreachable")
            && ran
                .stderr
                .contains("cannot resolve the host name no-such-host.invalid"),
        "{}",
        ran.explain()
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        ran.last_line()
            .starts_with("conformance: 0 passed, 0 failed"),
        "{}",
        ran.explain()
    );
}

#[test]
fn only_the_resolver_module_resolves_names() {
    // The resolver is hickory's, in `http/resolve.rs`; nothing else may reach
    // for the C library's (`ToSocketAddrs`, tokio's `lookup_host` and a
    // connect by name are `getaddrinfo`) or switch reqwest back to it.
    let found = crate::tidy::outside(
        &["http/resolve.rs"],
        &[
            "hickory",
            "lookup_host",
            "to_socket_addrs",
            "ToSocketAddrs",
            "GaiResolver",
            "no_hickory_dns",
            // Any connect by a name or `host:port` string is `getaddrinfo`;
            // the one connect of the harness, by resolved address, lives in
            // the resolver.
            "TcpStream::connect(",
        ],
    );
    assert!(
        found.is_empty(),
        "name resolution outside http/resolve.rs: {found:#?}"
    );
}
