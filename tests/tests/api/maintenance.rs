//! Maintenance: the `Maintenance` job on the scheduler closing stale listings and deleting only
//! what retention allows (a saved, applied-to or tailored listing survives), and finished queue
//! jobs pruned by age on every storage (SQLite, Postgres, Redis) while waiting ones stay; and
//! the queue's index fix that keeps a long-lived worker as fast as a new one.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use entity::{
    DocumentKind, DocumentStatus, MatchStatus, StringList, job_listing, job_listing_category,
    listing_posting, search_category, tailored_document, user, user_job_match,
};
use jobs::collect::store::{Found, store};
use jobs::queue::{Maintenance, RunPipeline};
use jobs::sources::RawListing;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set};
use tests::{Backend, TestApp, eventually, on_each_backend, spawn_api_only, spawn_app_with};

const TITLES: [&str; 7] = [
    "Gone Unwanted Engineer",
    "Gone Saved Engineer",
    "Gone Applied Engineer",
    "Gone Tailored Engineer",
    "Recently Closed Engineer",
    "Stale Open Engineer",
    "Fresh Open Engineer",
];

async fn listing(app: &TestApp, title: &str) -> Option<job_listing::Model> {
    job_listing::Entity::find()
        .filter(job_listing::Column::Title.eq(title))
        .one(&app.db)
        .await
        .expect("query")
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.register(email).await;
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.db)
        .await
        .expect("query")
        .expect("user")
        .id
}

async fn matches_of(app: &TestApp, listing_id: i64) -> Vec<MatchStatus> {
    user_job_match::Entity::find()
        .filter(user_job_match::Column::JobListingId.eq(listing_id))
        .all(&app.db)
        .await
        .expect("matches")
        .into_iter()
        .map(|m| m.status)
        .collect()
}

async fn set_closed(app: &TestApp, title: &str, days_ago: i64) {
    job_listing::Entity::update_many()
        .col_expr(
            job_listing::Column::ClosedAt,
            Expr::value(Utc::now() - chrono::Duration::days(days_ago)),
        )
        .filter(job_listing::Column::Title.eq(title))
        .exec(&app.db)
        .await
        .expect("close");
}

async fn retention_deletes_only_what_nobody_keeps(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("MAINTENANCE_INTERVAL_SECONDS".into(), "1".into());
        vars.insert("RETENTION_DAYS".into(), "180".into());
        vars.insert("LISTING_TTL_DAYS".into(), "30".into());
    })
    .await;
    let categories: BTreeSet<i64> = search_category::Entity::find()
        .all(&app.db)
        .await
        .expect("categories")
        .iter()
        .take(2)
        .map(|c| c.id)
        .collect();
    let found: Vec<Found> = TITLES
        .iter()
        .enumerate()
        .map(|(i, title)| Found {
            listing: RawListing::new(
                "greenhouse",
                title,
                "Acme",
                &format!("https://acme.example/jobs/{i}"),
            ),
            categories: categories.clone(),
        })
        .collect();
    store(&app.db, &found, 100, Utc::now())
        .await
        .expect("store");
    let (alice, bob) = (
        user_id(&app, "alice@example.com").await,
        user_id(&app, "bob@example.com").await,
    );
    let id = |t: &'static str| {
        let app = &app;
        async move { listing(app, t).await.expect("stored").id }
    };
    let unwanted = id(TITLES[0]).await;
    app.insert_match(alice, unwanted, 60.0, MatchStatus::New)
        .await;
    app.insert_match(bob, unwanted, 60.0, MatchStatus::Dismissed)
        .await;
    let saved = id(TITLES[1]).await;
    app.insert_match(alice, saved, 60.0, MatchStatus::Saved)
        .await;
    app.insert_match(bob, saved, 60.0, MatchStatus::New).await;
    app.insert_match(alice, id(TITLES[2]).await, 60.0, MatchStatus::Applied)
        .await;
    let tailored = id(TITLES[3]).await;
    tailored_document::Entity::insert(tailored_document::ActiveModel {
        user_id: Set(bob),
        job_listing_id: Set(tailored),
        kind: Set(DocumentKind::CoverLetter),
        status: Set(DocumentStatus::Ready),
        resume_hash: Set("h".into()),
        prompt_version: Set("test".into()),
        changes: Set(Default::default()),
        warnings: Set(StringList(vec![])),
        suggestions: Set(StringList(vec![])),
        attempts: Set(1),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .expect("document");
    for title in &TITLES[..4] {
        set_closed(&app, title, 200).await;
    }
    set_closed(&app, TITLES[4], 10).await;
    job_listing::Entity::update_many()
        .col_expr(
            job_listing::Column::LastSeenAt,
            Expr::value(Utc::now() - chrono::Duration::days(40)),
        )
        .filter(job_listing::Column::Title.eq(TITLES[5]))
        .exec(&app.db)
        .await
        .expect("age");
    let postings_before = app.rows::<listing_posting::Entity>().await;
    let links_before = app.rows::<job_listing_category::Entity>().await;

    // The scheduler queues a Maintenance job every second; a worker runs it.
    eventually(
        "the unwanted listing deleted by maintenance",
        Duration::from_secs(30),
        || async {
            match listing(&app, TITLES[0]).await {
                None => Ok(()),
                Some(_) => Err("still there".to_owned()),
            }
        },
    )
    .await;
    assert!(
        matches_of(&app, unwanted).await.is_empty(),
        "its NEW and DISMISSED matches went with it"
    );
    assert_eq!(
        app.rows::<listing_posting::Entity>().await,
        postings_before - 1,
        "its posting went with it"
    );
    assert_eq!(
        app.rows::<job_listing_category::Entity>().await,
        links_before - categories.len() as u64,
        "its category links went with it"
    );
    for title in &TITLES[1..5] {
        let kept = listing(&app, title).await;
        assert!(
            kept.is_some_and(|l| l.closed_at.is_some()),
            "{title} survives, closed"
        );
    }
    assert_eq!(
        matches_of(&app, saved).await.len(),
        2,
        "a kept listing keeps every match, the other user's NEW one too"
    );
    let stale = listing(&app, TITLES[5]).await.expect("stale listing kept");
    assert!(
        stale.closed_at.is_some(),
        "not seen for 40 days: closed by maintenance, without a run"
    );
    let fresh = listing(&app, TITLES[6]).await.expect("fresh listing kept");
    assert!(fresh.closed_at.is_none());
    assert_eq!(app.rows::<job_listing::Entity>().await, 6);
    app.stop().await.expect("stops");
}

/// Ages every finished job of the app's SQL queue by eight days.
async fn age_finished_sql(app: &TestApp) {
    let sql = match app.db.get_database_backend() {
        DbBackend::Postgres => {
            "UPDATE apalis.jobs SET done_at = done_at - interval '8 days' WHERE done_at IS NOT NULL"
        }
        _ => "UPDATE Jobs SET done_at = done_at - 8 * 86400 WHERE done_at IS NOT NULL",
    };
    app.db.execute_unprepared(sql).await.expect("age jobs");
}

/// Pushes maintenance passes for `slots` (and, with `failing_run`, a run that cannot exist: it
/// fails for good, with no retries), and lets workers run until `finished` counts `expected`.
async fn finish_jobs(
    app: &TestApp,
    slots: std::ops::Range<i64>,
    failing_run: bool,
    finished: impl AsyncFn() -> usize,
    expected: usize,
) {
    let queue = &app.state.queue;
    for slot in slots {
        queue
            .push_maintenance(Maintenance { slot })
            .await
            .expect("push");
    }
    if failing_run {
        queue
            .push_run(RunPipeline { run_id: 999_999 })
            .await
            .expect("push");
    }
    let workers = app.start_workers();
    eventually("the jobs finished", Duration::from_secs(30), || async {
        match finished().await {
            n if n >= expected => Ok(()),
            n => Err(format!("{n} finished")),
        }
    })
    .await;
    workers.stop().await;
}

fn app_vars(vars: &mut std::collections::HashMap<String, String>) {
    vars.insert("JOB_MAX_RETRIES".into(), "0".into());
    vars.insert("MAINTENANCE_INTERVAL_SECONDS".into(), "0".into());
    // The passes themselves must not prune what the test ages.
    vars.insert("QUEUE_RETENTION_DAYS".into(), "0".into());
}

async fn finished_sql(app: &TestApp) -> usize {
    let sql = match app.db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT COUNT(*) AS n FROM apalis.jobs WHERE status IN ('Done', 'Killed', 'Failed')"
        }
        _ => "SELECT COUNT(*) AS n FROM Jobs WHERE status IN ('Done', 'Killed', 'Failed')",
    };
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql,
        ))
        .await
        .expect("count")
        .expect("row");
    usize::try_from(row.try_get::<i64>("", "n").expect("n")).expect("count")
}

async fn finished_queue_jobs_are_pruned_by_age(backend: Backend) {
    let app = spawn_api_only(backend, app_vars).await;
    let finished = || finished_sql(&app);
    finish_jobs(&app, 0..3, true, &finished, 4).await;
    age_finished_sql(&app).await;
    // One more finished job, this one recent; then one left waiting (no workers now).
    finish_jobs(&app, 3..4, false, &finished, 5).await;
    let queue = &app.state.queue;
    queue
        .push_maintenance(Maintenance { slot: 4 })
        .await
        .expect("push");
    assert_eq!(finished_sql(&app).await, 5);

    let week = Duration::from_secs(7 * 86_400);
    assert_eq!(
        queue.prune(week).await.expect("prune"),
        4,
        "the three passes and the failed run, eight days old"
    );
    assert_eq!(queue.prune(week).await.expect("prune"), 0, "idempotent");
    assert_eq!(finished_sql(&app).await, 1, "the recent one stays");
    assert_eq!(queue.prune(Duration::ZERO).await.expect("prune"), 1);
    assert_eq!(finished_sql(&app).await, 0);
    assert_eq!(
        queue.unfinished().await.expect("count"),
        1,
        "the waiting job is never pruned"
    );
    app.stop().await.expect("stops");
}

/// apalis-sqlite 1.0.0's and apalis-postgres 1.0.0's statement recording a worker's finished
/// batch (`queries/task/ack.sql`, `queries/task/handle_result.sql`), with its batch and worker.
const FINISH_SQLITE: &str = "EXPLAIN QUERY PLAN WITH j AS (SELECT value ->> 'task_id' AS task_id, \
     value ->> 'attempt' AS attempt, value ->> 'result' AS result, value ->> 'status' AS status \
     FROM json_each('[{\"task_id\":\"x\"}]')) UPDATE Jobs SET status = j.status, \
     attempts = j.attempt, last_result = j.result, done_at = strftime('%s', 'now') FROM j \
     WHERE Jobs.id = j.task_id AND Jobs.lock_by = 'w'";
const FINISH_POSTGRES: &str = "EXPLAIN WITH j AS (SELECT (value ->> 'task_id')::text AS task_id, \
     (value ->> 'attempt')::integer AS attempt, value -> 'result' AS result, \
     value ->> 'status' AS status FROM jsonb_array_elements('[{\"task_id\":\"x\"}]'::jsonb) AS value), \
     locked AS (SELECT jobs.id FROM apalis.jobs AS jobs INNER JOIN j ON j.task_id = jobs.id \
     WHERE jobs.lock_by = 'w' ORDER BY jobs.id FOR UPDATE) \
     UPDATE apalis.jobs AS jobs SET status = j.status, attempts = j.attempt, \
     last_result = j.result, done_at = NOW() FROM j INNER JOIN locked ON locked.id = j.task_id \
     WHERE jobs.id = locked.id";

async fn plan_lines(app: &TestApp, sql: &str, column: &str) -> Vec<String> {
    app.db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql,
        ))
        .await
        .expect("explain")
        .iter()
        .map(|r| r.try_get::<String>("", column).expect("plan line"))
        .collect()
}

/// A worker's finished jobs keep their `lock_by`: the statement recording its next batch must
/// find that batch by primary key, not read every job the worker ever finished (which made
/// throughput fall with the jobs done). The queue's setup replaces apalis's `lock_by` index
/// with one over unfinished jobs, and doing it again at the next start changes nothing.
async fn recording_finished_jobs_does_not_read_the_workers_old_ones(backend: Backend) {
    let app = spawn_api_only(backend, app_vars).await;
    let finished = || finished_sql(&app);
    finish_jobs(&app, 0..3, true, &finished, 4).await;
    // A second process starting on the same database.
    jobs::queue::Queue::connect(&app.db, &app.config.database_url, &app.config.queue)
        .await
        .expect("the setup again");
    let (indexes, plan) = match app.db.get_database_backend() {
        DbBackend::Postgres => (
            plan_lines(
                &app,
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'apalis' \
                 AND tablename = 'jobs' AND indexdef LIKE '%(lock_by)%'",
                "indexname",
            )
            .await,
            plan_lines(&app, FINISH_POSTGRES, "QUERY PLAN").await,
        ),
        _ => (
            plan_lines(
                &app,
                "SELECT il.name AS name FROM pragma_index_list('Jobs') il \
                 WHERE EXISTS (SELECT 1 FROM pragma_index_info(il.name) WHERE name = 'lock_by')",
                "name",
            )
            .await,
            plan_lines(&app, FINISH_SQLITE, "detail").await,
        ),
    };
    assert_eq!(indexes, ["jobs_unfinished_lock_by"], "{plan:#?}");
    let plan = plan.join("\n");
    assert!(
        plan.contains("jobs_pkey") || plan.contains("sqlite_autoindex_Jobs_1 (id=?)"),
        "the batch is found by primary key:\n{plan}"
    );
    assert!(
        !plan.contains("lock_by=?") && !plan.contains("Index Cond: (lock_by"),
        "{plan}"
    );
}

on_each_backend!(
    retention_deletes_only_what_nobody_keeps,
    finished_queue_jobs_are_pruned_by_age,
    recording_finished_jobs_does_not_read_the_workers_old_ones
);

fn redis_int(url: &str, args: &[&str]) -> usize {
    let n = tests::redis::int(url, args).expect("redis command");
    usize::try_from(n).expect("count")
}

/// Finished jobs of the run and maintenance queues under `prefix`: ids in their done and dead
/// sets.
fn finished_redis(url: &str, prefix: &str) -> usize {
    ["maintenance", "run_pipeline"]
        .iter()
        .flat_map(|q| ["done", "dead"].map(|s| format!("{prefix}:{q}:{s}")))
        .map(|key| redis_int(url, &["SCARD", &key]))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_pruned_from_redis_by_age() {
    let Some(redis) = tests::redis::redis_url_from_env() else {
        eprintln!("TEST_REDIS_URL is unset: Redis variant skipped");
        return;
    };
    let app = spawn_api_only(Backend::Sqlite, |vars| {
        app_vars(vars);
        vars.insert("REDIS_URL".into(), redis.clone());
    })
    .await;
    let prefix = app.config.queue.prefix.clone();
    let finished = || {
        let (redis, prefix) = (redis.clone(), prefix.clone());
        async move { finished_redis(&redis, &prefix) }
    };
    finish_jobs(&app, 0..3, true, &finished, 4).await;
    assert_eq!(
        redis_int(&redis, &["SCARD", &format!("{prefix}:run_pipeline:dead")]),
        1,
        "the impossible run failed for good"
    );
    let old = (Utc::now() - chrono::Duration::days(8))
        .timestamp()
        .to_string();
    for q in ["maintenance", "run_pipeline"] {
        for set in ["done", "dead"] {
            let members =
                tests::redis::strings(&redis, &["SMEMBERS", &format!("{prefix}:{q}:{set}")])
                    .expect("members");
            for id in members {
                let meta = format!("{prefix}:{q}:meta:{id}");
                tests::redis::int(&redis, &["HSET", &meta, "done_at", &old]).expect("age");
            }
        }
    }
    finish_jobs(&app, 3..4, false, &finished, 5).await;
    let queue = &app.state.queue;
    queue
        .push_maintenance(Maintenance { slot: 4 })
        .await
        .expect("push");
    let data = format!("{prefix}:maintenance:data");
    assert_eq!(
        redis_int(&redis, &["HLEN", &data]),
        5,
        "four passes and one waiting"
    );

    let week = Duration::from_secs(7 * 86_400);
    assert_eq!(queue.prune(week).await.expect("prune"), 4);
    assert_eq!(queue.prune(week).await.expect("prune"), 0, "idempotent");
    assert_eq!(finished_redis(&redis, &prefix), 1, "the recent one stays");
    assert_eq!(redis_int(&redis, &["HLEN", &data]), 2);
    assert_eq!(queue.prune(Duration::ZERO).await.expect("prune"), 1);
    assert_eq!(finished_redis(&redis, &prefix), 0);
    assert_eq!(
        redis_int(&redis, &["HLEN", &data]),
        1,
        "the waiting job keeps its data"
    );
    app.stop().await.expect("stops");
}

/// The real binary, logging JSON: the scheduled pass logs in the job's span, with its queue
/// task id and its slot.
#[tokio::test]
async fn the_scheduled_pass_logs_with_its_task_id() {
    let dir = tempfile::tempdir().expect("a directory");
    let (mut child, log) = tests::logs::serve_logging_json(
        env!("CARGO_BIN_EXE_jobcollector-under-test"),
        dir.path(),
        &[
            ("MAINTENANCE_INTERVAL_SECONDS", "1"),
            ("QUEUE_POLL_INTERVAL_MS", "50"),
        ],
    );
    let line = eventually(
        "a maintenance pass logged",
        Duration::from_secs(20),
        async || {
            tests::logs::json_lines(&log)
                .into_iter()
                .find(|l| l["message"] == "maintenance done")
                .ok_or_else(|| "not logged yet".to_owned())
        },
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line["span"]["job"], "maintenance", "{line}");
    let task_id = line["span"]["task_id"].as_str().unwrap_or_default();
    assert!(task_id.len() >= 10, "the queue's task id: {line}");
    assert!(
        line["span"]["slot"].as_i64().is_some_and(|s| s > 0),
        "{line}"
    );
    assert_eq!(line["pruned_jobs"], 0, "{line}");
}
