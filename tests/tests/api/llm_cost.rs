//! What the LLM costs and who pays it, end to end through `MatchUser`: the keyword prefilter
//! (threshold and top-K), batches with the resume as a cached prefix, one broken entry falling
//! back alone, a failing batch split before it falls back, the per-user daily cap, the daily
//! token budget shared by two worker processes, the ledger equal to what the mock reported,
//! `llmUsage` for admins only, and the OpenAI-compatible provider through assignment and
//! matching.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use entity::{llm_call, llm_token_day};
use jobs::matching::{CorpusCache, MatchConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_bedrock::{BedrockReply, MockBedrock, MockUsage, batch_input};
use tests::mock_boards::MockBoards;
use tests::mock_openai::{MockOpenAi, OpenAiReply};
use tests::{Backend, TestApp, on_each_backend, spawn_api_only, spawn_app_with};

use crate::assignment::{BACKEND, DATA_ENGINEER, SAVE, settled};
use crate::matching::{collect, matches};
use crate::worker_process::{start_worker, worker_vars};

/// What every scoring call of these tests reports.
const USAGE: MockUsage = MockUsage {
    input: 900,
    output: 150,
    cache_read: 400,
    cache_write: 0,
};

/// A listing as the prompt and `matchedJobs` both show it: title and company.
fn key_of_prompt(text: &str) -> (String, String) {
    let line = |p: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(p))
            .unwrap_or_default()
            .to_owned()
    };
    (line("Title: "), line("Company: "))
}

fn key_of_edge(e: &Value) -> (String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        s(&e["node"]["job"]["title"]),
        s(&e["node"]["job"]["company"]),
    )
}

fn entry(title: &str) -> Value {
    json!({"score": 80, "reason": format!("Rust services on Kubernetes, as for {title}"),
           "matched_skills": ["Rust"], "missing_skills": []})
}

fn user_id(app: &TestApp, email: &str) -> impl Future<Output = i64> {
    let db = app.db.clone();
    let email = email.to_owned();
    async move {
        entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email))
            .one(&db)
            .await
            .expect("query")
            .expect("the user")
            .id
    }
}

async fn ledger(app: &TestApp) -> Vec<llm_call::Model> {
    llm_call::Entity::find().all(&app.db).await.expect("ledger")
}

/// `MatchUser` for `user` again, as the worker runs it, with the app's LLM.
async fn rerun(app: &TestApp, user: i64) -> jobs::matching::MatchOutcome {
    let llm = api::server::connect_llm(app.config.llm.as_ref().expect("LLM on"), &app.db)
        .await
        .expect("the LLM client");
    jobs::matching::run(
        &app.db,
        Some(llm.as_ref()),
        &CorpusCache::default(),
        &MatchConfig {
            hours_old: 1_000_000,
            ..app.config.matching.clone()
        },
        user,
    )
    .await
    .expect("MatchUser")
}

async fn the_prefilter_sends_the_best_pairs_in_batches_with_the_resume_cached(backend: Backend) {
    const MIN: i64 = 40;
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    let answered = Arc::new(AtomicUsize::new(0));
    let seen = answered.clone();
    bedrock.respond(move |call| {
        // The first answer leaves out L2's score: that listing alone falls back.
        let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
        let input = batch_input(call, |l| {
            if first && l.id == "L2" {
                json!({"reason": "no score given"})
            } else {
                entry(&l.title)
            }
        });
        BedrockReply::tool_use_with_usage("record_matches", input, USAGE)
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), MIN.to_string());
        vars.insert("LLM_BATCH_SIZE".into(), "3".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;
    app.until_queues_idle(30).await;

    let calls = bedrock.calls();
    let sent: Vec<(String, String)> = calls
        .iter()
        .flat_map(|c| c.listings())
        .map(|l| key_of_prompt(&l.text))
        .collect();
    let m = matches(&app, &alex, json!({ "first": 100 })).await;
    let edges = m["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len() as i64, n, "every listing has a score: {m}");
    assert!(
        !sent.is_empty() && (sent.len() as i64) < n,
        "some pairs are worth a call and some are not: {} of {n} sent",
        sent.len()
    );
    assert_eq!(calls.len(), sent.len().div_ceil(3), "three listings a call");
    for c in &calls {
        assert_eq!(c.forced_tool(), Some("record_matches"));
        let prefix = c.cached_prefix().expect("a cachePoint after the resume");
        assert!(prefix.contains("Kubernetes") && !prefix.contains("<listing"));
        assert!(
            c.body["system"][0]["text"]
                .as_str()
                .is_some_and(|s| s.contains("Rubric"))
        );
    }
    let first_l2 = key_of_prompt(&calls[0].listings()[1].text);
    for e in &edges {
        let key = key_of_edge(e);
        let (method, reason, score) = (
            e["node"]["method"].as_str().unwrap_or_default(),
            e["node"]["reason"].as_str().unwrap_or_default(),
            e["node"]["score"].as_i64().unwrap_or(-1),
        );
        if key == first_l2 {
            assert_eq!(method, "KEYWORD", "{e}");
            assert!(reason.starts_with("Keyword score (malformed)"), "{e}");
        } else if sent.contains(&key) {
            assert_eq!((method, score), ("LLM", 80), "{e}");
        } else {
            assert_eq!(method, "KEYWORD", "{e}");
            assert!(
                reason.starts_with(&format!(
                    "Not sent to the LLM: keyword score {score} is below"
                )) && score < MIN,
                "{e}"
            );
        }
    }

    // The ledger holds what the mock reported, call by call.
    let alex_id = user_id(&app, "alex@example.com").await;
    let rows = ledger(&app).await;
    assert_eq!(rows.len(), calls.len());
    for r in &rows {
        assert_eq!(
            (r.purpose.as_str(), r.provider.as_str(), r.outcome.as_str()),
            ("score", "bedrock", "ok")
        );
        assert_eq!(r.user_id, Some(alex_id));
        assert_eq!(
            (r.input_tokens, r.output_tokens, r.cache_read_tokens),
            (900, 150, 400)
        );
    }
    assert_eq!(
        rows.iter().map(|r| i64::from(r.items)).sum::<i64>(),
        sent.len() as i64
    );

    // A rerun sends only the pair that fell back; the screened ones stay screened.
    let outcome = rerun(&app, alex_id).await;
    assert_eq!(
        (outcome.scored, outcome.sent, outcome.llm_calls),
        (1, 1, 1),
        "{outcome:?}"
    );
    assert_eq!(bedrock.calls().last().expect("a call").listings().len(), 1);
    let m = matches(&app, &alex, json!({ "first": 100 })).await;
    let llm_scored = m["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["method"] == "LLM")
        .count();
    assert_eq!(llm_scored, sent.len());
    app.stop().await.expect("stops");
}

async fn a_failing_batch_is_split_and_the_top_k_bounds_a_run(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        if call.listings().len() > 1 {
            BedrockReply::text_only("These listings need more thought than one answer allows.")
        } else {
            BedrockReply::scores(call, |l| entry(&l.title))
        }
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
        vars.insert("LLM_BATCH_SIZE".into(), "4".into());
        vars.insert("LLM_TOP_K".into(), "4".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    assert!(n > 4, "more listings than the top-K: {n}");
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;
    app.until_queues_idle(30).await;

    let mut sizes: Vec<usize> = bedrock.calls().iter().map(|c| c.listings().len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 1, 1, 1, 2, 2, 4], "4 → 2 + 2 → 1 + 1 + 1 + 1");
    let m = matches(&app, &alex, json!({ "first": 100 })).await;
    let edges = m["edges"].as_array().expect("edges");
    assert_eq!(edges.len() as i64, n);
    let llm: Vec<&Value> = edges
        .iter()
        .filter(|e| e["node"]["method"] == "LLM")
        .collect();
    assert_eq!(llm.len(), 4, "the four best, each scored alone in the end");
    for e in edges.iter().filter(|e| e["node"]["method"] == "KEYWORD") {
        assert!(
            e["node"]["reason"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Not sent to the LLM: outside this run's 4 best keyword scores"),
            "{e}"
        );
    }
    // The failed calls are in the ledger with their kind.
    let outcomes: Vec<String> = ledger(&app).await.into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| *o == "missing_tool_output")
            .count(),
        3
    );
    assert_eq!(outcomes.iter().filter(|o| *o == "ok").count(), 4);
    app.stop().await.expect("stops");
}

const USAGE_QUERY: &str =
    "query($since: DateTime, $until: DateTime) { llmUsage(since: $since, until: $until) {
  calls inputTokens outputTokens cacheReadTokens cacheWriteTokens estimatedCostUsd
  byPurpose { key calls inputTokens outputTokens estimatedCostUsd }
  byDay { key calls inputTokens } } }";

async fn the_daily_cap_per_user_defers_the_rest_and_admins_see_the_usage(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::tool_use_with_usage(
            "record_matches",
            batch_input(call, |l| entry(&l.title)),
            USAGE,
        )
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
        vars.insert("LLM_BATCH_SIZE".into(), "2".into());
        vars.insert("LLM_USER_DAILY_PAIRS".into(), "3".into());
        vars.insert("LLM_PRICE_INPUT_PER_MTOK".into(), "0.8".into());
        vars.insert("LLM_PRICE_OUTPUT_PER_MTOK".into(), "4".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;
    app.until_queues_idle(30).await;

    let mut sizes: Vec<usize> = bedrock.calls().iter().map(|c| c.listings().len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 2], "three pairs: a batch of two and one");
    let m = matches(&app, &alex, json!({ "first": 100 })).await;
    let edges = m["edges"].as_array().expect("edges");
    assert_eq!(edges.len() as i64, n);
    let deferred = edges
        .iter()
        .filter(|e| {
            e["node"]["reason"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Keyword score for now: the daily limit of 3 LLM-scored listings")
        })
        .count();
    assert_eq!(deferred as i64, n - 3);

    // The cap holds for the rest of the day: a rerun offers the deferred pairs, sends none.
    let outcome = rerun(&app, user_id(&app, "alex@example.com").await).await;
    assert_eq!(
        (
            outcome.scored as i64,
            outcome.deferred as i64,
            outcome.llm_calls
        ),
        (n - 3, n - 3, 0),
        "{outcome:?}"
    );
    assert_eq!(bedrock.call_count(), 2);

    // llmUsage: two calls, priced; for admins only.
    let usage = app.data(USAGE_QUERY, json!({}), Some(&admin)).await["llmUsage"].clone();
    assert_eq!(usage["calls"], 2, "{usage}");
    assert_eq!(
        (
            &usage["inputTokens"],
            &usage["outputTokens"],
            &usage["cacheReadTokens"],
            &usage["cacheWriteTokens"]
        ),
        (&json!(1800), &json!(300), &json!(800), &json!(0))
    );
    // (1,800 + 0.1 × 800) × $0.8 + 300 × $4, per million tokens.
    let cost = usage["estimatedCostUsd"].as_f64().expect("a cost");
    assert!((cost - 0.002_704).abs() < 1e-9, "{cost}");
    assert_eq!(usage["byPurpose"][0]["key"], "score");
    assert_eq!(usage["byPurpose"][0]["calls"], 2);
    assert_eq!(
        usage["byDay"][0]["key"],
        chrono::Utc::now().format("%Y-%m-%d").to_string()
    );
    let earlier = app
        .data(
            USAGE_QUERY,
            json!({ "since": "2026-01-01T00:00:00Z", "until": "2026-01-31T00:00:00Z" }),
            Some(&admin),
        )
        .await["llmUsage"]
        .clone();
    assert_eq!(
        (&earlier["calls"], &earlier["byDay"]),
        (&json!(0), &json!([]))
    );
    let body = app.graphql(USAGE_QUERY, json!({}), Some(&alex)).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let body = app.graphql(USAGE_QUERY, json!({}), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    let body = app
        .graphql(
            USAGE_QUERY,
            json!({ "since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z" }),
            Some(&admin),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    app.stop().await.expect("stops");
}

async fn two_worker_processes_share_one_daily_token_budget(backend: Backend) {
    const BUDGET: i64 = 9_000;
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::tool_use_with_usage(
            "record_matches",
            batch_input(call, |l| entry(&l.title)),
            MockUsage {
                input: 1_000,
                output: 100,
                cache_read: 0,
                cache_write: 0,
            },
        )
        .delayed(std::time::Duration::from_millis(50))
    });
    let llm_vars = |vars: &mut HashMap<String, String>| {
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
        vars.insert("LLM_BATCH_SIZE".into(), "1".into());
        vars.insert("LLM_DAILY_TOKEN_BUDGET".into(), BUDGET.to_string());
    };
    let app = spawn_api_only(backend, |vars| {
        vars_for(&boards, vars);
        llm_vars(vars);
    })
    .await;
    let mut vars = worker_vars(&app, &boards, &[]);
    llm_vars(&mut vars);
    let mut workers = [start_worker(&vars), start_worker(&vars)];

    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let mut users = Vec::new();
    for who in ["alex", "sam", "kim"] {
        let token = app.register(&format!("{who}@example.com")).await;
        app.data(
            SAVE,
            json!({ "t": BACKEND.replace("Alex", who) }),
            Some(&token),
        )
        .await;
        users.push(token);
    }
    for token in &users {
        settled(&app, token).await;
    }
    app.until_queues_idle(60).await;
    for w in &mut workers {
        w.kill().ok();
        w.wait().ok();
    }

    let rows = ledger(&app).await;
    let spent: i64 = rows
        .iter()
        .map(|r| i64::from(r.input_tokens) + i64::from(r.output_tokens))
        .sum();
    assert!(
        !rows.is_empty() && spent <= BUDGET,
        "{spent} tokens of {BUDGET}"
    );
    assert_eq!(
        rows.len(),
        bedrock.call_count(),
        "a refused call is never made"
    );
    assert!(
        (rows.len() as i64) < 3 * n,
        "the budget stopped some of the {} pairs",
        3 * n
    );
    let day = llm_token_day::Entity::find_by_id(chrono::Utc::now().format("%Y-%m-%d").to_string())
        .one(&app.db)
        .await
        .expect("query")
        .expect("today's count");
    assert_eq!(
        day.tokens, spent,
        "every reservation settled to what was spent"
    );
    let mut over_budget = 0;
    for token in &users {
        let m = matches(&app, token, json!({ "first": 100 })).await;
        let edges = m["edges"].as_array().expect("edges");
        assert_eq!(edges.len() as i64, n, "every pair scored, LLM or not");
        over_budget += edges
            .iter()
            .filter(|e| {
                e["node"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("the daily LLM token budget is spent")
            })
            .count();
    }
    assert_eq!(over_budget, 3 * n as usize - rows.len());
    app.stop().await.expect("stops");
}

async fn an_openai_compatible_server_assigns_and_scores(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let openai = MockOpenAi::start().await;
    openai.respond(|call| match call.forced_tool() {
        Some("choose_category") => {
            OpenAiReply::tool_call("choose_category", json!({"slug": "software_engineer"}))
        }
        Some("record_matches") => {
            let listings = tests::mock_bedrock::prompt_listings(call.user_message());
            OpenAiReply::tool_call_with_usage(
                "record_matches",
                tests::mock_bedrock::batch_answer(&listings, |l| entry(&l.title)),
                1_200,
                90,
                1_024,
            )
        }
        _ => OpenAiReply::error(400, "not in this test"),
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        openai.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let jane = app.register("jane@example.com").await;
    // A headline no keyword places: the LLM chooses.
    let resume = DATA_ENGINEER.replace("Senior Data Engineer", "Builder of things");
    app.data(SAVE, json!({ "t": resume }), Some(&jane)).await;
    let a = settled(&app, &jane).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("LLM_EXISTING"), Some("software_engineer")),
        "{a}"
    );
    app.until_queues_idle(30).await;
    let m = matches(&app, &jane, json!({ "first": 100 })).await;
    let edges = m["edges"].as_array().expect("edges");
    assert_eq!(edges.len() as i64, n);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["method"] == "LLM" && e["node"]["score"] == 80)
    );
    let rows = ledger(&app).await;
    assert!(
        rows.iter()
            .all(|r| r.provider == "openai" && r.model_id == tests::mock_openai::MODEL)
    );
    let score_rows: Vec<_> = rows.iter().filter(|r| r.purpose == "score").collect();
    assert_eq!(score_rows.len(), (n as usize).div_ceil(10));
    assert!(
        score_rows
            .iter()
            .all(|r| (r.input_tokens, r.cache_read_tokens) == (1_200 - 1_024, 1_024))
    );
    assert_eq!(rows.iter().filter(|r| r.purpose == "assign").count(), 1);
    app.stop().await.expect("stops");
}

on_each_backend!(
    the_prefilter_sends_the_best_pairs_in_batches_with_the_resume_cached,
    a_failing_batch_is_split_and_the_top_k_bounds_a_run,
    the_daily_cap_per_user_defers_the_rest_and_admins_see_the_usage,
    two_worker_processes_share_one_daily_token_budget,
    an_openai_compatible_server_assigns_and_scores,
);
