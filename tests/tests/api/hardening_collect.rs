//! A bad listing or a dead worker no longer stops collection: text is cleaned where it enters,
//! a listing the database refuses is reported and skipped, a run whose job fails for the last
//! time is FAILED (on every storage, after `JOB_MAX_RETRIES`), a run whose worker died is taken
//! up again, and control characters in inputs are VALIDATION errors on both backends.

use std::io::Write;
use std::time::Duration;

use chrono::Utc;
use entity::{RunStatus, RunTrigger, job_listing, pipeline_run};
use jobs::collect::store::Sink;
use jobs::sources::RawListing;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::{MockBoards, Reply, fixture};
use tests::{Backend, TestApp, on_each_backend, spawn_api_only, spawn_app, spawn_app_with};

const RUN_PIPELINE: &str = "mutation { runPipeline { id status } }";

async fn run_row(app: &TestApp, id: &str) -> pipeline_run::Model {
    pipeline_run::Entity::find_by_id(id.parse::<i64>().expect("numeric id"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the run")
}

async fn a_board_listing_with_nul_bytes_is_cleaned_and_stored(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let board = fixture("greenhouse/board_content.json")
        .replace(
            "\"Senior Backend Engineer, Payments\"",
            "\"Senior Backend\\u0000 Engineer, Payments\"",
        )
        .replace("\"Northwind Labs\"", "\"Northwind\\u0000 Labs\\u001b\"")
        .replace("We move money", "We move\\u0000 money");
    mock.serve("/v1/boards/northwind/jobs", Reply::json(board));
    let app = spawn_app_with(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;
    let run = app.until_run_ended(&admin, &id, 60).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["listingsInserted"], 17);
    let listings = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("listings");
    let cleaned = listings
        .iter()
        .find(|l| l.title == "Senior Backend Engineer, Payments")
        .expect("the cleaned title");
    assert_eq!(cleaned.company, "Northwind Labs");
    let description = cleaned.description.as_deref().expect("description");
    assert!(description.contains("money & data"), "{description}");
    assert!(
        listings.iter().all(|l| !format!("{l:?}").contains('\0')),
        "no NUL stored anywhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_postgres_refuses_is_reported_and_the_rest_of_its_chunk_lands() {
    let Some(backend) = Backend::postgres_from_env() else {
        eprintln!("TEST_DATABASE_URL is unset: Postgres variant skipped");
        return;
    };
    let app = spawn_app(backend).await;
    let category = jobs::catalog::list(&app.db, false)
        .await
        .expect("categories")[0]
        .id;
    let mut sink = Sink::new(&app.db, 0, Utc::now());
    for (title, url) in [
        ("Backend Engineer", "https://x.example/1"),
        ("Nul\0 Engineer", "https://x.example/2"),
        ("Data Engineer", "https://x.example/3"),
    ] {
        // Uncleaned on purpose: what the store does when something still cannot be stored.
        sink.add(RawListing::new("lever", title, "Acme", url), &[category])
            .await
            .expect("buffered");
    }
    let stored = sink.finish().await.expect("the store itself succeeds");
    assert_eq!(stored.inserted, 2);
    assert_eq!(stored.rejected.len(), 1, "{:?}", stored.rejected);
    assert_eq!(stored.rejected[0].job_url, "https://x.example/2");
    assert_eq!(stored.rejected[0].source, "lever");
    assert_eq!(app.rows::<job_listing::Entity>().await, 2);
}

async fn break_listings(app: &TestApp) {
    app.db
        .execute_unprepared("ALTER TABLE job_listings RENAME TO job_listings_gone")
        .await
        .expect("break the listings table");
}

/// The run ends FAILED after `JOB_MAX_RETRIES` + 1 attempts, and the next request starts anew.
async fn assert_fails_for_good_then_a_new_run_starts(app: &TestApp) {
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;
    let run = app.until_run_ended(&admin, &id, 60).await;
    assert_eq!(run["status"], "FAILED", "{run}");
    let row = run_row(app, &id).await;
    assert_eq!(row.attempts, 2, "the first attempt and one retry");
    let messages: Vec<&str> = row.errors.0.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("it will be retried")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("no attempts left")),
        "{messages:?}"
    );
    let next = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await;
    assert_ne!(
        next["runPipeline"]["id"],
        json!(id),
        "not stuck on the failed run"
    );
}

async fn a_run_that_fails_on_every_attempt_ends_failed(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(backend, |vars| {
        vars_for(&mock, vars);
        vars.insert("JOB_MAX_RETRIES".into(), "1".into());
    })
    .await;
    break_listings(&app).await;
    assert_fails_for_good_then_a_new_run_starts(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_a_run_that_fails_on_every_attempt_ends_failed_after_job_max_retries() {
    let Some(redis) = tests::redis::redis_url_from_env() else {
        eprintln!("TEST_REDIS_URL is unset: Redis variant skipped");
        return;
    };
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(Backend::Sqlite, |vars| {
        vars_for(&mock, vars);
        vars.insert("JOB_MAX_RETRIES".into(), "1".into());
        vars.insert("REDIS_URL".into(), redis.clone());
    })
    .await;
    break_listings(&app).await;
    assert_fails_for_good_then_a_new_run_starts(&app).await;
}

async fn insert_orphan(app: &TestApp, attempts: i32) -> i64 {
    insert_stale(
        app,
        RunStatus::Running,
        attempts,
        chrono::Duration::minutes(10),
    )
    .await
}

/// A run in `status`, last touched `ago`, with no job in any queue.
async fn insert_stale(
    app: &TestApp,
    status: RunStatus,
    attempts: i32,
    ago: chrono::Duration,
) -> i64 {
    let long_ago = Utc::now() - ago;
    let row = pipeline_run::ActiveModel {
        trigger: Set(RunTrigger::Admin),
        status: Set(status),
        queued_at: Set(long_ago),
        started_at: Set(Some(long_ago)),
        heartbeat_at: Set(Some(long_ago)),
        attempts: Set(attempts),
        categories_total: Set(4),
        categories_done: Set(1),
        listings_fetched: Set(0),
        listings_unique: Set(0),
        listings_inserted: Set(0),
        users_queued_for_matching: Set(0),
        errors: Set(entity::RunErrors::default()),
        ..Default::default()
    };
    pipeline_run::Entity::insert(row)
        .exec_with_returning(&app.db)
        .await
        .expect("insert the orphan")
        .id
}

async fn a_run_left_running_by_a_dead_worker_is_taken_up_again(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    // An API-only node: the recovery below is runPipeline's, not a worker's watch.
    let app = spawn_api_only(backend, |vars| {
        vars_for(&mock, vars);
        vars.insert("QUEUE_ORPHAN_AFTER_SECONDS".into(), "2".into());
        vars.insert("JOB_MAX_RETRIES".into(), "3".into());
    })
    .await;
    let admin = app.admin_token().await;
    // As after a restart: RUNNING, silent for ten minutes, its job gone from the queue.
    let orphan = insert_orphan(&app, 1).await;
    let again = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_eq!(
        again["id"],
        json!(orphan.to_string()),
        "the orphan is the active run"
    );
    assert_eq!(again["status"], "QUEUED", "handed back to the queue");
    let workers = app.start_workers();
    let run = app.until_run_ended(&admin, &orphan.to_string(), 60).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["listingsInserted"], 17);
    assert_eq!(run_row(&app, &orphan.to_string()).await.attempts, 2);

    // One whose attempts are used up is failed, and a new run takes its place.
    let spent = insert_orphan(&app, 4).await;
    let next = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_ne!(next["id"], json!(spent.to_string()));
    let spent = run_row(&app, &spent.to_string()).await;
    assert_eq!(spent.status, RunStatus::Failed);
    assert!(
        spent
            .errors
            .0
            .iter()
            .any(|e| e.message.contains("worker stopped")),
        "{:?}",
        spent.errors
    );
    app.until_run_ended(&admin, next["id"].as_str().expect("id"), 60)
        .await;
    workers.stop().await;
}

async fn a_queued_run_whose_job_was_lost_is_queued_again(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_api_only(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    // QUEUED an hour ago, its job gone (a crash between two steps, a storage that dropped it).
    let lost = insert_stale(&app, RunStatus::Queued, 0, chrono::Duration::hours(1)).await;
    let again = app.data(RUN_PIPELINE, json!({}), Some(&admin)).await["runPipeline"].clone();
    assert_eq!(again["id"], json!(lost.to_string()));
    let workers = app.start_workers();
    let run = app.until_run_ended(&admin, &lost.to_string(), 60).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    workers.stop().await;
}

async fn a_worker_that_lost_its_run_writes_nothing(backend: Backend) {
    use jobs::collect::lease::{self, Claim};
    use jobs::collect::runs::{self, Counters};
    let app = spawn_api_only(backend, |_| {}).await;
    let run = runs::create(&app.db, RunTrigger::Cli, None)
        .await
        .expect("run");
    let orphan_after = Duration::from_secs(60);
    let Claim::Claimed(first, _) = lease::claim(&app.db, run.id, orphan_after)
        .await
        .expect("claim")
    else {
        panic!("a queued run is claimed");
    };
    assert_eq!(
        lease::claim(&app.db, run.id, orphan_after)
            .await
            .expect("claim"),
        Claim::Busy,
        "a live holder keeps it"
    );
    // The first holder goes silent: its heartbeat is ten minutes old, and another takes over.
    pipeline_run::Entity::update_many()
        .col_expr(
            pipeline_run::Column::HeartbeatAt,
            sea_orm::sea_query::Expr::value(Utc::now() - chrono::Duration::minutes(10)),
        )
        .filter(pipeline_run::Column::Id.eq(run.id))
        .exec(&app.db)
        .await
        .expect("age the heartbeat");
    let Claim::Claimed(second, _) = lease::claim(&app.db, run.id, orphan_after)
        .await
        .expect("claim")
    else {
        panic!("a silent holder's run is taken over");
    };
    assert_eq!(second.attempt, first.attempt + 1);
    let counters = Counters {
        categories_done: 9,
        ..Counters::default()
    };
    for outcome in [
        runs::write_progress(&app.db, &first, &counters, &[]).await,
        lease::release(&app.db, &first, "late".into()).await,
        lease::fail(&app.db, &first, "late".into()).await,
    ] {
        assert!(
            matches!(outcome, Err(jobs::Error::Superseded(_))),
            "{outcome:?}"
        );
    }
    assert!(
        !lease::beat(&app.db, &first).await.expect("beat"),
        "the old holder learns it"
    );
    assert!(lease::beat(&app.db, &second).await.expect("beat"));
    let row = run_row(&app, &run.id.to_string()).await;
    assert_eq!(
        (row.status, row.categories_done),
        (RunStatus::Running, 0),
        "untouched"
    );

    // Nor does it close listings: one gone from its board, one past the TTL.
    use jobs::collect::closing;
    let category = jobs::catalog::list(&app.db, false)
        .await
        .expect("categories")[0]
        .id;
    let long_ago = Utc::now() - chrono::Duration::days(90);
    let mut sink = Sink::new(&app.db, 0, long_ago);
    for (title, board) in [
        ("Gone Engineer", Some("greenhouse:acme")),
        ("Stale Engineer", None),
    ] {
        let mut l = RawListing::new(
            "greenhouse",
            title,
            "Acme",
            &format!("https://x.example/{title}"),
        );
        l.board = board.map(str::to_owned);
        sink.add(l, &[category]).await.expect("buffered");
    }
    assert_eq!(sink.finish().await.expect("stored").inserted, 2);
    let nothing_seen = std::collections::HashSet::new();
    let now = Utc::now();
    for outcome in [
        closing::close_missing(&app.db, &first, "greenhouse:acme", &nothing_seen, now, now).await,
        closing::close_stale(&app.db, Some(&first), 30, now).await,
    ] {
        assert!(
            matches!(outcome, Err(jobs::Error::Superseded(_))),
            "{outcome:?}"
        );
    }
    let open = || async {
        job_listing::Entity::find()
            .filter(job_listing::Column::ClosedAt.is_null())
            .all(&app.db)
            .await
            .expect("listings")
            .len()
    };
    assert_eq!(open().await, 2, "the old holder closed nothing");
    let closed =
        closing::close_missing(&app.db, &second, "greenhouse:acme", &nothing_seen, now, now)
            .await
            .expect("the holder closes");
    assert_eq!(closed, 1);
    assert_eq!(
        closing::close_stale(&app.db, Some(&second), 30, now)
            .await
            .expect("the holder closes"),
        1
    );
    assert_eq!(open().await, 0);
}

async fn an_import_row_with_a_nul_byte_lands_cleaned_with_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(
        "site,job_url,title,company,description\n\
         lever,https://x.example/1,Backend Engineer,Acme,First\n\
         lever,https://x.example/2,Data\0 Engineer,Acme,Sec\0ond\n\
         lever,https://x.example/3,Platform Engineer,Acme,Third\n"
            .as_bytes(),
    )
    .expect("write");
    let report = api::pipeline::import(&app.db, &app.config, file.path(), Some("data_scientist"))
        .await
        .expect("import");
    assert_eq!((report.rows, report.inserted), (3, 3), "{report:?}");
    assert!(
        report.bad.is_empty() && report.rejected.is_empty(),
        "{report:?}"
    );
    let titles: Vec<String> = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("listings")
        .into_iter()
        .map(|l| l.title)
        .collect();
    assert!(titles.contains(&"Data Engineer".to_owned()), "{titles:?}");
}

async fn control_characters_in_search_and_category_inputs_are_validation_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(
        b"site,job_url,title,company\nlever,https://x.example/1,Backend Engineer,Acme\n",
    )
    .expect("write");
    api::pipeline::import(&app.db, &app.config, file.path(), Some("software_engineer"))
        .await
        .expect("import");
    let token = app.register("searcher@example.com").await;
    let search = "query($s: String) { jobListings(search: $s) { totalCount } }";
    for bad in ["\u{0}", "back\u{0}end", "nurse\u{7}"] {
        let body = app.graphql(search, json!({ "s": bad }), Some(&token)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{bad:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "search");
    }
    for (needle, found) in [("backend", 1), ("%", 0), ("_", 0), ("zzzz", 0)] {
        let data = app.data(search, json!({ "s": needle }), Some(&token)).await;
        assert_eq!(data["jobListings"]["totalCount"], found, "{needle:?}");
    }

    let admin = app.admin_token().await;
    let add = "mutation($i: AddSearchCategoryInput!) { addSearchCategory(input: $i) { slug } }";
    for (input, field) in [
        (json!({ "slug": "nurse", "name": "Nu\u{0}rse" }), "name"),
        (
            json!({ "slug": "nurse", "name": "Nurse", "keywords": ["rn\u{0}"] }),
            "keywords",
        ),
        (
            json!({ "slug": "nurse", "name": "Nurse", "searchTerms": ["\u{1b}[2J"] }),
            "searchTerms",
        ),
        (
            json!({ "slug": "nurse", "name": "Nurse", "location": "Ber\u{0}lin" }),
            "location",
        ),
    ] {
        let body = app.graphql(add, json!({ "i": input }), Some(&admin)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let update = "mutation { updateSearchCategory(slug: \"software_engineer\", input: { name: \"Soft\\u0000ware\" }) { name } }";
    let body = app.graphql(update, json!({}), Some(&admin)).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let categories = app
        .data("{ searchCategories { slug } }", json!({}), Some(&admin))
        .await;
    assert!(
        !categories.to_string().contains("nurse"),
        "nothing was stored: {categories}"
    );
}

on_each_backend!(
    a_board_listing_with_nul_bytes_is_cleaned_and_stored,
    a_run_that_fails_on_every_attempt_ends_failed,
    a_run_left_running_by_a_dead_worker_is_taken_up_again,
    a_queued_run_whose_job_was_lost_is_queued_again,
    a_worker_that_lost_its_run_writes_nothing,
    an_import_row_with_a_nul_byte_lands_cleaned_with_the_others,
    control_characters_in_search_and_category_inputs_are_validation_errors,
);
