//! End to end: a collector run through the queue → a user's resume → assignment → matches in
//! `matchedJobs`, scored by the keyword scorer (LLM off) or the Bedrock mock (LLM on).

use std::sync::Arc;

use jobs::matching::{CorpusCache, MatchConfig};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, on_each_backend, spawn_app_with};

use crate::assignment::{BACKEND, SAVE, settled};

pub(crate) const MATCHES: &str =
    "query($first: Int, $after: String, $min: Int, $status: MatchStatus, $sort: MatchSort, $exclude: [MatchStatus!]) {
  matchedJobs(first: $first, after: $after, minScore: $min, status: $status, sort: $sort, excludeStatus: $exclude) {
    categoryAssignment { status category { slug } }
    totalCount
    edges { cursor node { score reason matchedSkills missingSkills method status scoredAt
            job { id title company categories { slug } } } }
    pageInfo { hasNextPage endCursor }
  } }";
const LISTINGS: &str = "query($slug: String) { jobListings(categorySlug: $slug, first: 100) { totalCount edges { node { id title } } } }";
const SET_STATUS: &str = "mutation($id: ID!, $s: MatchStatus!) { setMatchStatus(jobListingId: $id, status: $s) { status score job { id } } }";

pub(crate) async fn matches(app: &TestApp, token: &str, vars: Value) -> Value {
    app.data(MATCHES, vars, Some(token)).await["matchedJobs"].clone()
}

/// The user's matches once the queued jobs have run, checked to be `n`, all scored after
/// `since` (RFC 3339) if given.
pub(crate) async fn until_matched(
    app: &TestApp,
    token: &str,
    n: i64,
    since: Option<&str>,
) -> Value {
    app.until_queues_idle(30).await;
    let m = matches(app, token, json!({ "first": 100 })).await;
    let fresh = m["edges"].as_array().is_some_and(|edges| {
        edges
            .iter()
            .all(|e| since.is_none_or(|s| e["node"]["scoredAt"].as_str().is_some_and(|at| at > s)))
    });
    assert!(
        m["totalCount"] == n && fresh,
        "{n} matches, scored after {since:?}: {m}"
    );
    m
}

fn scores(m: &Value) -> Vec<i64> {
    m["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["score"].as_i64().expect("score"))
        .collect()
}

/// Collects through the queue as `admin`, then returns the software_engineer listing count.
pub(crate) async fn collect(app: &TestApp, admin: &str) -> i64 {
    let id = app.start_run(admin).await;
    let run = app.until_run_ended(admin, &id, 30).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let user = app.register("lister@example.com").await;
    let listings = app
        .data(
            LISTINGS,
            json!({ "slug": "software_engineer" }),
            Some(&user),
        )
        .await;
    let n = listings["jobListings"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(
        n >= 3,
        "the fixtures give software_engineer listings: {listings}"
    );
    n
}

async fn keyword_matches_end_to_end(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let app = spawn_app_with(backend, |vars| vars_for(&boards, vars)).await;

    // The user is assigned before any listing exists: nothing to match yet.
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    assert_eq!(
        settled(&app, &alex).await["category"]["slug"],
        "software_engineer"
    );
    let m = matches(&app, &alex, json!({})).await;
    assert_eq!(
        (
            m["totalCount"].as_i64(),
            m["categoryAssignment"]["status"].as_str()
        ),
        (Some(0), Some("ASSIGNED"))
    );

    // The run queues matching for the users of the categories that gained listings.
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let runs = app
        .data(
            "{ pipelineRuns(first: 1) { usersQueuedForMatching } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(runs["pipelineRuns"][0]["usersQueuedForMatching"], 1);
    let m = until_matched(&app, &alex, n, None).await;
    let all = scores(&m);
    assert!(all.windows(2).all(|w| w[0] >= w[1]), "best first: {all:?}");
    assert!(
        all.iter().max() > all.iter().min(),
        "scores spread: {all:?}"
    );
    for e in m["edges"].as_array().expect("edges") {
        let node = &e["node"];
        assert_eq!(node["method"], "KEYWORD");
        assert_eq!(node["status"], "NEW");
        assert!(!node["reason"].as_str().unwrap_or_default().is_empty());
        assert!(
            node["job"]["categories"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["slug"] == "software_engineer"))
        );
    }

    // Pages of 2 cover everything once, in the same order.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = matches(&app, &alex, json!({ "first": 2, "after": after })).await;
        for e in page["edges"].as_array().expect("edges") {
            seen.push(e["node"]["job"]["id"].as_str().expect("id").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let order: Vec<String> = m["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["job"]["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(seen, order);
    let newest = matches(&app, &alex, json!({ "first": 100, "sort": "NEWEST" })).await;
    assert_eq!(newest["totalCount"], n);
    // The admins' histogram counts every match in its tenth of the scale.
    let dist = app
        .data(
            "{ matchScoreDistribution { total buckets { from to count } } }",
            json!({}),
            Some(&admin),
        )
        .await["matchScoreDistribution"]
        .clone();
    assert_eq!(dist["total"], all.len(), "{dist}");
    let buckets = dist["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 10);
    assert_eq!(
        (buckets[0]["from"].clone(), buckets[9]["to"].clone()),
        (json!(0), json!(100))
    );
    for b in buckets {
        let (from, to) = (
            b["from"].as_i64().expect("from"),
            b["to"].as_i64().expect("to"),
        );
        let expected = all.iter().filter(|s| (from..=to).contains(*s)).count();
        assert_eq!(b["count"], expected, "bucket {from}–{to} of {all:?}");
    }
    let body = app
        .graphql(
            "{ matchScoreDistribution { total } }",
            json!({}),
            Some(&alex),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    let top = all[0];
    let above = matches(&app, &alex, json!({ "min": top })).await;
    assert_eq!(
        above["totalCount"],
        all.iter().filter(|s| **s >= top).count()
    );

    // The user's own status, and the status filter.
    let first_id = order[0].clone();
    let set = app
        .data(
            SET_STATUS,
            json!({ "id": first_id, "s": "SAVED" }),
            Some(&alex),
        )
        .await;
    assert_eq!(set["setMatchStatus"]["status"], "SAVED");
    let saved = matches(&app, &alex, json!({ "status": "SAVED" })).await;
    assert_eq!(saved["totalCount"], 1);
    app.data(
        SET_STATUS,
        json!({ "id": order[1], "s": "DISMISSED" }),
        Some(&alex),
    )
    .await;
    let live = matches(
        &app,
        &alex,
        json!({ "exclude": ["DISMISSED"], "first": 100 }),
    )
    .await;
    assert_eq!(
        live["totalCount"],
        n - 1,
        "every match but the dismissed one"
    );
    let ids: Vec<&Value> = live["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"]["job"]["id"])
        .collect();
    assert!(!ids.contains(&&json!(order[1])) && ids.contains(&&json!(first_id)));
    let neither = matches(&app, &alex, json!({ "exclude": ["DISMISSED", "SAVED"] })).await;
    assert_eq!(neither["totalCount"], n - 2);

    // Another user sees nothing of it and cannot touch it.
    let eve = app.register("eve@example.com").await;
    assert_eq!(matches(&app, &eve, json!({})).await["totalCount"], 0);
    let body = app
        .graphql(
            SET_STATUS,
            json!({ "id": first_id, "s": "DISMISSED" }),
            Some(&eve),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let body = app.graphql(MATCHES, json!({}), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    let body = app
        .graphql(MATCHES, json!({ "first": 0 }), Some(&alex))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .graphql(MATCHES, json!({ "after": "zz" }), Some(&alex))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // A new resume rescores every pair and keeps the user's status.
    let before = m["edges"][0]["node"]["scoredAt"]
        .as_str()
        .expect("at")
        .to_owned();
    let changed = format!("{BACKEND}\nAlso React, TypeScript and GraphQL frontends.");
    app.data(SAVE, json!({ "t": changed }), Some(&alex)).await;
    settled(&app, &alex).await;
    until_matched(&app, &alex, n, Some(&before)).await;
    let saved = matches(&app, &alex, json!({ "status": "SAVED" })).await;
    assert_eq!(saved["edges"][0]["node"]["job"]["id"], json!(first_id));
    app.stop().await.expect("stops");
}

async fn llm_matches_are_paid_for_once(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::scores(call, |l| {
            let score = if l.title.to_lowercase().contains("engineer") { 88 } else { 41 };
            json!({"score": score, "reason": format!("Resume shows Rust and Kubernetes; {}", l.title),
                   "matched_skills": ["Rust", "Kubernetes"], "missing_skills": ["Java"]})
        })
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        // Every pair is worth a call here; four listings per call.
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
        vars.insert("LLM_BATCH_SIZE".into(), "4".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    let a = settled(&app, &alex).await;
    assert_eq!(a["method"], "KEYWORD", "a clear headline needs no LLM call");
    let m = until_matched(&app, &alex, n, None).await;
    let calls = bedrock.calls();
    assert_eq!(calls.len() as i64, (n + 3) / 4, "four pairs per call");
    assert_eq!(
        calls.iter().map(|c| c.listings().len() as i64).sum::<i64>(),
        n,
        "every pair sent once"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.forced_tool() == Some("record_matches"))
    );
    assert!(calls.iter().all(|c| {
        let prefix = c.cached_prefix().expect("the resume is a cached prefix");
        prefix.contains("Kubernetes")
            && !c.prompt().contains("alex@example.com")
            && !c.listings().is_empty()
    }));
    for e in m["edges"].as_array().expect("edges") {
        assert_eq!(e["node"]["method"], "LLM");
        assert!(
            e["node"]["reason"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Resume shows")
        );
        assert_eq!(e["node"]["matchedSkills"], json!(["Rust", "Kubernetes"]));
    }
    assert!(scores(&m).windows(2).all(|w| w[0] >= w[1]));

    // A rerun with nothing new makes no call.
    let llm: Arc<dyn jobs::llm::Llm> =
        api::server::connect_llm(app.config.llm.as_ref().expect("LLM configured"), &app.db)
            .await
            .expect("the LLM client");
    let user_id = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq("alex@example.com"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("alex")
            .id
    };
    let outcome = jobs::matching::run(
        &app.db,
        Some(llm.as_ref()),
        &CorpusCache::default(),
        &MatchConfig {
            hours_old: 1_000_000,
            concurrency: 4,
            ..MatchConfig::default()
        },
        user_id,
    )
    .await
    .expect("rerun");
    assert_eq!(
        (outcome.candidates as i64, outcome.scored, outcome.llm_calls),
        (n, 0, 0)
    );
    assert_eq!(bedrock.call_count() as i64, (n + 3) / 4);

    // Throttling on every attempt: the pair falls back to the keyword scorer, reason kept.
    bedrock.respond(|_| BedrockReply::error(429, "ThrottlingException", "Too many requests"));
    let changed = format!("{BACKEND}\nAlso on-call for payments.");
    app.data(SAVE, json!({ "t": changed }), Some(&alex)).await;
    settled(&app, &alex).await;
    let before = m["edges"][0]["node"]["scoredAt"]
        .as_str()
        .expect("at")
        .to_owned();
    let m = until_matched(&app, &alex, n, Some(&before)).await;
    for e in m["edges"].as_array().expect("edges") {
        assert_eq!(e["node"]["method"], "KEYWORD");
        assert!(
            e["node"]["reason"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Keyword score (throttled)")
        );
    }
    app.stop().await.expect("stops");
}

async fn when_several_arguments_are_bad_the_first_is_reported(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.register("careless@example.com").await;
    let listings = "query($slug: String, $h: Int, $first: Int, $after: String) { jobListings(categorySlug: $slug, postedWithinHours: $h, first: $first, after: $after) { totalCount } }";
    for (vars, code, field) in [
        (
            json!({ "slug": "unknown", "after": "zz" }),
            "NOT_FOUND",
            None,
        ),
        (
            json!({ "h": 0, "after": "zz" }),
            "VALIDATION",
            Some("postedWithinHours"),
        ),
        (
            json!({ "first": 0, "slug": "Bad!" }),
            "VALIDATION",
            Some("first"),
        ),
        (json!({ "after": "zz" }), "VALIDATION", Some("after")),
    ] {
        let body = app.graphql(listings, vars.clone(), Some(&token)).await;
        assert_eq!(error_code(&body), Some(code), "{vars}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"].as_str(),
            field,
            "{vars}: {body}"
        );
    }
    let matched = "query($min: Int, $after: String) { matchedJobs(minScore: $min, after: $after) { totalCount } }";
    let body = app
        .graphql(matched, json!({ "min": 500, "after": "zz" }), Some(&token))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "minScore",
        "{body}"
    );
    // A score cursor out of range is refused, not clamped.
    let forged = "733a3930303a31"; // hex of "s:900:1"
    let body = app
        .graphql(matched, json!({ "after": forged }), Some(&token))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    let body = app
        .graphql(
            "mutation { setMatchStatus(jobListingId: \"007\", status: SAVED) { status } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("007"),
        "the id as sent: {body}"
    );
}

on_each_backend!(
    keyword_matches_end_to_end,
    llm_matches_are_paid_for_once,
    when_several_arguments_are_bad_the_first_is_reported,
);
