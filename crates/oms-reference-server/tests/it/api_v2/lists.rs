//! The v2 list: pages, counts, filters and their order (newest first).

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{ids_of, snap};
use crate::support::*;

#[tokio::test]
async fn list_pages_counts_filters_and_order() {
    let server = TestServer::new();
    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(server.v2_create("ok-source").await);
    }
    let long = server.v2_create("long-source").await;
    ids.push(long);
    // Five slots, 25 tasks of under a second each, then the long one.
    server.advance(20_000);
    let newest_first: Vec<u64> = ids.iter().rev().copied().collect();

    let first = server.v2(Method::GET, "", "").await.json();
    assert_eq!(
        ids_of(&first),
        newest_first[..10],
        "default limit 10, id descending"
    );
    assert_eq!(first["count"], 26);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = server
            .v2(Method::GET, &format!("?limit=7&offset={offset}"), "")
            .await
            .json();
        assert_eq!(page["count"], 26, "count is the total, not the page");
        let page_ids = ids_of(&page);
        offset += page_ids.len();
        let short = page_ids.len() < 7;
        seen.extend(page_ids);
        if short {
            break;
        }
    }
    assert_eq!(seen, newest_first, "pages cover every task once, in order");
    let past = server.v2(Method::GET, "?offset=100", "").await.json();
    assert_eq!((ids_of(&past).len(), past["count"].clone()), (0, json!(26)));

    let running = server.v2(Method::GET, "?status=2", "").await.json();
    assert_eq!(
        (ids_of(&running), running["count"].clone()),
        (vec![long], json!(1))
    );
    let succeeded = server
        .v2(Method::GET, "?status=5&limit=100", "")
        .await
        .json();
    assert_eq!(succeeded["count"], 25);
    assert_eq!(ids_of(&succeeded).len(), 25);

    let needle = format!("oms-task-{}", ids[1]);
    let expected: Vec<u64> = newest_first
        .iter()
        .copied()
        .filter(|id| format!("oms-task-{id}").contains(&needle))
        .collect();
    let named = server
        .v2(Method::GET, &format!("?task_name={needle}&limit=100"), "")
        .await
        .json();
    assert_eq!(ids_of(&named), expected);
    assert_eq!(named["count"], expected.len());
    let grouped = server.v2(Method::GET, "?group_id=g-1", "").await.json();
    assert_eq!(
        grouped,
        json!({"tasks": [], "count": 0}),
        "no task here belongs to a group"
    );
    // The SDK's query with every field set (§5.1).
    let all = server
        .v2(
            Method::GET,
            "?group_id=g-1&limit=100&offset=0&status=2&task_name=oms",
            "",
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);

    for (query, code) in [
        ("?limit=0", "OMS.0051"),
        ("?limit=101", "OMS.0051"),
        ("?limit=x", "OMS.0051"),
        ("?offset=-1", "OMS.0051"),
        ("?status=0", "OMS.0052"),
        ("?status=8", "OMS.0052"),
        ("?offset=2147483648", "OMS.0051"),
        ("?group_id=", "OMS.0064"),
    ] {
        let reply = server.v2(Method::GET, query, "").await;
        expect(&reply, 400, code, query);
    }
    let long_group = format!("?group_id={}", "g".repeat(101));
    expect(
        &server.v2(Method::GET, &long_group, "").await,
        400,
        "OMS.0064",
        "group_id of 101",
    );
    snap(
        "v2_list_bad_status",
        &server.v2(Method::GET, "?status=0", "").await,
    );
    snap(
        "v2_list_bad_limit",
        &server.v2(Method::GET, "?limit=101", "").await,
    );
}
