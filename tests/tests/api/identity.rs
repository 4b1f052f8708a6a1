//! One listing per opening (DESIGN.md §5 "Identity"): the same opening on two boards and in
//! several runs is one listing with its postings; a board that drops a posting closes it, a
//! failed fetch closes nothing, a listing seen again reopens, the TTL closes what nobody lists;
//! `matchedJobs` hides closed listings unless asked, except those saved or applied to.

use chrono::{Duration, Utc};
use entity::{MatchStatus, job_listing, listing_posting, user};
use jobs::collect::{RunSummary, SilentProgress};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::boards::vars_for;
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::mock_boards::{MockBoards, Reply};
use tests::{Backend, TestApp, on_each_backend, spawn_app_with};

use crate::assignment::{BACKEND, SAVE, settled};

use crate::collect::app_on;

const GREENHOUSE: &str = "/v1/boards/northwind/jobs";
const LEVER: &str = "/v0/postings/northwind-labs";

/// A Greenhouse job as its board API gives it (`content=true`).
fn greenhouse_job(id: u64, title: &str, location: &str) -> Value {
    json!({
        "absolute_url": format!("https://boards.greenhouse.io/northwind/jobs/{id}"),
        "internal_job_id": id + 1000,
        "location": { "name": location },
        "metadata": null,
        "id": id,
        "updated_at": "2026-11-20T09:12:44-04:00",
        "requisition_id": format!("REQ-{id}"),
        "title": title,
        "company_name": "Northwind Labs",
        "first_published": "2026-11-18T11:00:02-04:00",
        "language": "en",
        "content": "&lt;p&gt;Build payment services in Rust and PostgreSQL.&lt;/p&gt;",
        "departments": [],
        "offices": []
    })
}

fn greenhouse(jobs: &[Value]) -> Reply {
    Reply::json(json!({ "jobs": jobs, "meta": { "total": jobs.len() } }).to_string())
}

/// A Lever posting; Lever names no company, so `COMPANY_BOARDS` gives it one.
fn lever_posting(id: &str, title: &str, location: &str) -> Value {
    json!({
        "id": id,
        "text": title,
        "hostedUrl": format!("https://jobs.lever.co/northwind-labs/{id}"),
        "applyUrl": format!("https://jobs.lever.co/northwind-labs/{id}/apply"),
        "createdAt": 1_795_478_400_000_u64,
        "categories": { "commitment": "Full-time", "location": location, "team": "Payments" },
        "descriptionPlain": "Build payment services in Rust and PostgreSQL.",
        "lists": [],
        "workplaceType": "onsite"
    })
}

async fn app(backend: Backend, mock: &MockBoards, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("JOB_SOURCES", "greenhouse,lever"),
        (
            "COMPANY_BOARDS",
            "greenhouse:northwind,lever:northwind-labs=Northwind Labs Inc",
        ),
    ];
    vars.extend_from_slice(extra);
    app_on(backend, mock, &vars).await
}

async fn run(app: &TestApp) -> RunSummary {
    api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run")
}

async fn listing(app: &TestApp, title: &str) -> job_listing::Model {
    job_listing::Entity::find()
        .filter(job_listing::Column::Title.eq(title))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no listing {title:?}"))
}

async fn postings(app: &TestApp, listing: i64) -> Vec<listing_posting::Model> {
    listing_posting::Entity::find()
        .filter(listing_posting::Column::JobListingId.eq(listing))
        .all(&app.db)
        .await
        .expect("postings")
}

async fn one_opening_on_two_boards_over_four_runs(backend: Backend) {
    let mock = MockBoards::start().await;
    let a = greenhouse_job(501, "Senior Backend Engineer", "Berlin");
    let b = greenhouse_job(502, "Backend Engineer, Ledger", "Berlin");
    let c = greenhouse_job(503, "Staff Backend Engineer", "Remote - EU");
    mock.serve(GREENHOUSE, greenhouse(&[a.clone(), b.clone()]))
        .serve(LEVER, Reply::json("[]"));
    let app = app(backend, &mock, &[]).await;

    let first = run(&app).await;
    assert_eq!(first.counters.listings_inserted, 2, "{:?}", first.errors);
    let opening = listing(&app, "Senior Backend Engineer").await;

    // Run 2: Lever lists the same opening (its company a legal-suffix variant, its location
    // spelled out); Greenhouse no longer lists B.
    mock.serve(GREENHOUSE, greenhouse(&[a.clone(), c.clone()]))
        .serve(
            LEVER,
            Reply::json(
                json!([lever_posting(
                    "7a1c0e2e-1111-4b4b-9c9c-000000000501",
                    "Senior Backend Engineer",
                    "Berlin, Germany"
                )])
                .to_string(),
            ),
        );
    let second = run(&app).await;
    assert_eq!(
        second.counters.listings_inserted, 1,
        "only C is new: {:?}",
        second.errors
    );
    assert_eq!(second.listings_closed, 1, "B is gone from its board");
    assert_eq!(app.rows::<job_listing::Entity>().await, 3);
    let both = postings(&app, opening.id).await;
    let mut sources: Vec<&str> = both.iter().map(|p| p.source.as_str()).collect();
    sources.sort_unstable();
    assert_eq!(
        sources,
        ["greenhouse", "lever"],
        "one listing, two postings"
    );
    assert_eq!(
        both.iter()
            .find(|p| p.source == "greenhouse")
            .and_then(|p| p.board.as_deref()),
        Some("greenhouse:northwind")
    );
    let b_row = listing(&app, "Backend Engineer, Ledger").await;
    assert!(b_row.closed_at.is_some(), "B closed");
    assert!(
        listing(&app, "Senior Backend Engineer")
            .await
            .closed_at
            .is_none()
    );

    // Run 3: Greenhouse fails: nothing of its board is closed.
    mock.serve(GREENHOUSE, Reply::status(500, "upstream down"));
    let third = run(&app).await;
    assert_eq!(third.listings_closed, 0);
    assert!(
        listing(&app, "Staff Backend Engineer")
            .await
            .closed_at
            .is_none(),
        "a failed fetch closes nothing"
    );

    // Run 4: B is back: it reopens, no new listing.
    mock.serve(GREENHOUSE, greenhouse(&[a, b, c]));
    let fourth = run(&app).await;
    assert_eq!(fourth.counters.listings_inserted, 0, "{:?}", fourth.errors);
    assert_eq!(fourth.listings_reopened, 1);
    assert!(
        listing(&app, "Backend Engineer, Ledger")
            .await
            .closed_at
            .is_none()
    );
    assert_eq!(app.rows::<job_listing::Entity>().await, 3);
    assert_eq!(app.rows::<listing_posting::Entity>().await, 4);

    // The contract shows the postings.
    let token = app.register("postings@example.com").await;
    let data = app
        .data(
            "{ jobListings(search: \"senior backend\") { edges { node { title closedAt lastSeenAt postings { source jobUrl firstSeenAt lastSeenAt } } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let node = &data["jobListings"]["edges"][0]["node"];
    assert_eq!(node["postings"].as_array().map(Vec::len), Some(2), "{data}");
    assert_eq!(
        node["postings"][0]["jobUrl"],
        "https://boards.greenhouse.io/northwind/jobs/501"
    );
    assert_eq!(node["closedAt"], Value::Null);
}

async fn different_locations_stay_two_openings(backend: Backend) {
    let mock = MockBoards::start().await;
    mock.serve(
        GREENHOUSE,
        greenhouse(&[
            greenhouse_job(601, "Senior Backend Engineer", "Berlin"),
            greenhouse_job(602, "Senior Backend Engineer", "Munich"),
        ]),
    )
    .serve(LEVER, Reply::json("[]"));
    let app = app(backend, &mock, &[]).await;
    let summary = run(&app).await;
    assert_eq!(
        summary.counters.listings_inserted, 2,
        "{:?}",
        summary.errors
    );
}

async fn the_ttl_closes_what_no_source_lists_and_matches_hide_it(backend: Backend) {
    let mock = MockBoards::start().await;
    mock.serve(
        GREENHOUSE,
        greenhouse(&[
            greenhouse_job(701, "Senior Backend Engineer", "Berlin"),
            greenhouse_job(702, "Backend Engineer, Ledger", "Berlin"),
            greenhouse_job(703, "Staff Backend Engineer", "Berlin"),
        ]),
    )
    .serve(LEVER, Reply::json("[]"));
    let app = app(backend, &mock, &[("LISTING_TTL_DAYS", "30")]).await;
    run(&app).await;
    let token = app.register("ttl@example.com").await;
    let me = user::Entity::find()
        .filter(user::Column::Email.eq("ttl@example.com"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("user");
    let titles = [
        "Senior Backend Engineer",
        "Backend Engineer, Ledger",
        "Staff Backend Engineer",
    ];
    for (title, status) in
        titles
            .iter()
            .zip([MatchStatus::New, MatchStatus::Saved, MatchStatus::New])
    {
        let l = listing(&app, title).await;
        app.insert_match(me.id, l.id, 70.0, status).await;
    }
    // Nobody has listed the first two for 40 days; the board is down, so only the TTL acts.
    job_listing::Entity::update_many()
        .col_expr(
            job_listing::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(40)),
        )
        .filter(job_listing::Column::Title.is_in(titles[..2].iter().copied()))
        .exec(&app.db)
        .await
        .expect("age");
    mock.serve(GREENHOUSE, Reply::status(500, "down"));
    let summary = run(&app).await;
    assert_eq!(summary.listings_closed, 2);
    assert!(listing(&app, titles[2]).await.closed_at.is_none());

    let shown = |include: Option<bool>| {
        let app = &app;
        let token = token.clone();
        async move {
            let vars = match include {
                Some(b) => json!({ "c": b }),
                None => json!({}),
            };
            let data = app
                .data(
                    "query($c: Boolean) { matchedJobs(first: 50, includeClosed: $c) { totalCount edges { node { status job { title closedAt } } } } }",
                    vars,
                    Some(&token),
                )
                .await;
            let mut out: Vec<(String, bool)> = data["matchedJobs"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| {
                    (
                        e["node"]["job"]["title"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        !e["node"]["job"]["closedAt"].is_null(),
                    )
                })
                .collect();
            out.sort();
            out
        }
    };
    assert_eq!(
        shown(None).await,
        [
            ("Backend Engineer, Ledger".to_owned(), true),
            ("Staff Backend Engineer".to_owned(), false)
        ],
        "the closed NEW match is hidden; the SAVED one stays, with closedAt"
    );
    assert_eq!(shown(Some(true)).await.len(), 3);
    // A closed listing is not a candidate for matching.
    let category = jobs::catalog::list(&app.db, false)
        .await
        .expect("categories");
    let mut fresh = Vec::new();
    for c in &category {
        fresh.extend(
            jobs::listings::fresh_of_category(&app.db, c.id, 1_000_000)
                .await
                .expect("fresh")
                .into_iter()
                .map(|l| l.title),
        );
    }
    assert!(fresh.iter().all(|t| t == titles[2]), "{fresh:?}");
}

async fn one_match(app: &TestApp, token: &str) -> Value {
    app.until_queues_idle(30).await;
    app.data(
        "{ matchedJobs(first: 10) { totalCount edges { node { score method job { title postings { source } } } } } }",
        json!({}),
        Some(token),
    )
    .await["matchedJobs"]
        .clone()
}

/// The same opening found on a second board a run later is neither a second match nor a
/// second LLM call: the user's one match keeps its score, Bedrock is asked once.
async fn a_second_board_is_not_a_second_match_or_llm_call(backend: Backend) {
    let mock = MockBoards::start().await;
    mock.serve(
        GREENHOUSE,
        greenhouse(&[greenhouse_job(701, "Senior Backend Engineer", "Berlin")]),
    )
    .serve(LEVER, Reply::json("[]"));
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::scores(call, |_| {
            json!({"score": 86, "reason": "Rust services on PostgreSQL, as the resume shows",
                   "matched_skills": ["Rust", "PostgreSQL"], "missing_skills": []})
        })
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&mock, vars);
        bedrock.vars(vars);
        vars.insert("JOB_SOURCES".into(), "greenhouse,lever".into());
        vars.insert(
            "COMPANY_BOARDS".into(),
            "greenhouse:northwind,lever:northwind-labs=Northwind Labs GmbH".into(),
        );
    })
    .await;
    let admin = app.admin_token().await;
    let alex = app.register("alex@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;

    let id = app.start_run(&admin).await;
    assert_eq!(
        app.until_run_ended(&admin, &id, 30).await["status"],
        "SUCCEEDED"
    );
    let first = one_match(&app, &alex).await;
    assert_eq!(first["totalCount"], 1, "{first}");
    assert_eq!(first["edges"][0]["node"]["method"], "LLM");
    assert_eq!(bedrock.call_count(), 1);

    mock.serve(
        LEVER,
        Reply::json(
            json!([lever_posting(
                "7a1c0e2e-2222-4b4b-9c9c-000000000701",
                "Senior Backend Engineer",
                "Berlin, Germany"
            )])
            .to_string(),
        ),
    );
    let id = app.start_run(&admin).await;
    let second_run = app.until_run_ended(&admin, &id, 30).await;
    assert_eq!(second_run["status"], "SUCCEEDED", "{second_run}");
    let second = one_match(&app, &alex).await;
    assert_eq!(second["totalCount"], 1, "one opening, one match: {second}");
    assert_eq!(second["edges"][0]["node"]["score"], 86);
    assert_eq!(
        second["edges"][0]["node"]["job"]["postings"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{second}"
    );
    assert_eq!(
        bedrock.call_count(),
        1,
        "the second board costs no LLM call"
    );
    app.stop().await.expect("stops");
}

on_each_backend!(
    a_second_board_is_not_a_second_match_or_llm_call,
    one_opening_on_two_boards_over_four_runs,
    different_locations_stay_two_openings,
    the_ttl_closes_what_no_source_lists_and_matches_hide_it
);

/// Migration 6 on a database the seed's identity filled: every listing gets its posting and
/// fingerprint, and two listings of one opening become one with both postings and links.
async fn the_migration_backfills_postings_and_merges_one_opening(backend: Backend) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Expr, Query};

    let database = tests::database::TestDatabase::create(&backend).await;
    let db = sea_orm::Database::connect(database.url.as_str())
        .await
        .expect("connect");
    Migrator::up(&db, Some(5)).await.expect("migrations 1-5");
    let at = Utc::now() - Duration::days(2);
    for (slug, id) in [("backend_a", 1_i64), ("backend_b", 2)] {
        db.execute(
            Query::insert()
                .into_table("search_categories")
                .columns([
                    "id",
                    "slug",
                    "name",
                    "search_terms",
                    "keywords",
                    "is_active",
                    "origin",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    id.into(),
                    slug.into(),
                    slug.into(),
                    Expr::val(json!([])),
                    Expr::val(json!([])),
                    true.into(),
                    "seed".into(),
                    at.into(),
                    at.into(),
                ]),
        )
        .await
        .expect("category");
    }
    let rows = [
        (
            1_i64,
            "Senior Backend Engineer",
            "Northwind Labs",
            "https://gh.example/1",
            1_i64,
        ),
        (
            2,
            "Senior Backend Engineer",
            "Northwind Labs, Inc.",
            "https://lever.example/1",
            2,
        ),
        (
            3,
            "Data Engineer",
            "Northwind Labs",
            "https://gh.example/2",
            1,
        ),
    ];
    for (id, title, company, url, category) in rows {
        db.execute(
            Query::insert()
                .into_table("job_listings")
                .columns([
                    "id",
                    "job_hash",
                    "title",
                    "company",
                    "location",
                    "job_url",
                    "source",
                    "salary_is_estimated",
                    "first_seen_at",
                    "last_seen_at",
                ])
                .values_panic([
                    id.into(),
                    entity::JobHash::of(title, company, url).to_string().into(),
                    title.into(),
                    company.into(),
                    "Berlin".into(),
                    url.into(),
                    "greenhouse".into(),
                    false.into(),
                    (at + Duration::hours(id)).into(),
                    (at + Duration::hours(id)).into(),
                ]),
        )
        .await
        .expect("listing");
        db.execute(
            Query::insert()
                .into_table("job_listing_categories")
                .columns(["job_listing_id", "search_category_id", "linked_at"])
                .values_panic([id.into(), category.into(), at.into()]),
        )
        .await
        .expect("link");
    }
    Migrator::up(&db, None).await.expect("migration 6");

    let listings = job_listing::Entity::find().all(&db).await.expect("rows");
    assert!(listings.iter().all(|l| l.fingerprint.as_str().len() == 64));
    let mut open: Vec<i64> = listings
        .iter()
        .filter(|l| l.closed_at.is_none())
        .map(|l| l.id)
        .collect();
    open.sort_unstable();
    assert_eq!(open, [1, 3], "the second copy of the opening is closed");
    let first = postings_on(&db, 1).await;
    assert_eq!(
        first,
        ["https://gh.example/1", "https://lever.example/1"],
        "its posting moved to the first"
    );
    assert_eq!(postings_on(&db, 3).await, ["https://gh.example/2"]);
    let mut links: Vec<i64> = entity::job_listing_category::Entity::find()
        .filter(entity::job_listing_category::Column::JobListingId.eq(1))
        .all(&db)
        .await
        .expect("links")
        .into_iter()
        .map(|l| l.search_category_id)
        .collect();
    links.sort_unstable();
    assert_eq!(links, [1, 2], "and its category link");
    let kept = listings.iter().find(|l| l.id == 1).expect("first");
    assert_eq!(
        kept.last_seen_at.timestamp(),
        (at + Duration::hours(2)).timestamp(),
        "seen when its copy was"
    );
    db.close().await.ok();
}

async fn postings_on(db: &sea_orm::DatabaseConnection, listing: i64) -> Vec<String> {
    let mut urls: Vec<String> = listing_posting::Entity::find()
        .filter(listing_posting::Column::JobListingId.eq(listing))
        .all(db)
        .await
        .expect("postings")
        .into_iter()
        .map(|p| p.job_url)
        .collect();
    urls.sort();
    urls
}

on_each_backend!(the_migration_backfills_postings_and_merges_one_opening);
