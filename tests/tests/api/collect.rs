//! Collector runs against the replayed boards: rows, links, counters, a second run, what the
//! client sent, and the companies boards are named by.

use std::collections::{BTreeMap, BTreeSet};

use entity::{RunStatus, job_listing, job_listing_category, search_category};
use jobs::collect::SilentProgress;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::{MockBoards, Reply};
use tests::{Backend, TestApp, on_each_backend, spawn_app_with};

pub async fn app_on(backend: Backend, mock: &MockBoards, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_with(backend, |vars| {
        vars_for(mock, vars);
        for (k, v) in extra {
            vars.insert((*k).into(), (*v).into());
        }
    })
    .await
}

/// Title → slugs of the categories it is linked to.
pub async fn links(app: &TestApp) -> BTreeMap<String, BTreeSet<String>> {
    let listings = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("listings");
    let categories: BTreeMap<i64, String> = search_category::Entity::find()
        .all(&app.db)
        .await
        .expect("categories")
        .into_iter()
        .map(|c| (c.id, c.slug.to_string()))
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = listings
        .iter()
        .map(|l| (l.title.clone(), BTreeSet::new()))
        .collect();
    let titles: BTreeMap<i64, String> = listings.into_iter().map(|l| (l.id, l.title)).collect();
    for link in job_listing_category::Entity::find()
        .all(&app.db)
        .await
        .expect("links")
    {
        out.get_mut(&titles[&link.job_listing_id])
            .expect("listing")
            .insert(categories[&link.search_category_id].clone());
    }
    out
}

fn set(slugs: &[&str]) -> BTreeSet<String> {
    slugs.iter().map(|s| (*s).to_owned()).collect()
}

async fn a_run_stores_each_listing_once_with_its_categories_and_a_rerun_inserts_nothing(
    backend: Backend,
) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = app_on(backend, &mock, &[]).await;

    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    let stored = links(&app).await;
    let expected: BTreeMap<String, BTreeSet<String>> = [
        (
            "Senior Backend Engineer, Payments",
            set(&["software_engineer"]),
        ),
        ("Data Scientist, Risk", set(&["data_scientist"])),
        ("Product Manager, Growth", set(&["product_manager"])),
        ("Machine Learning Engineer", set(&["data_scientist"])),
        ("Senior Mechanical Engineer", set(&["mechanical_engineer"])),
        ("Product Manager, Platform", set(&["product_manager"])),
        ("Backend Engineer (Python)", set(&["software_engineer"])),
        ("Software Engineer II", set(&["software_engineer"])),
        ("Mechanical Design Engineer", set(&["mechanical_engineer"])),
        ("Product Manager", set(&["product_manager"])),
        ("Lead Backend Developer", set(&["software_engineer"])),
        ("Analytics Engineer", set(&["software_engineer"])),
        (
            "Senior Software Engineer (m/w/d)",
            set(&["software_engineer"]),
        ),
        ("Data Scientist", set(&["data_scientist"])),
        ("Product Manager (w/m/d)", set(&["product_manager"])),
        ("Senior Software Engineer", set(&["software_engineer"])),
        (
            "Machine Learning Intern, New Grad Software Engineer",
            set(&["software_engineer", "data_scientist"]),
        ),
    ]
    .into_iter()
    .map(|(t, s)| (t.to_owned(), s))
    .collect();
    assert_eq!(
        stored, expected,
        "board listings matching no category (Account Executive, Senior Data Engineer, …) are not stored"
    );

    let run = jobs::collect::runs::get(&app.db, summary.run_id)
        .await
        .expect("run row");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!((run.categories_total, run.categories_done), (4, 4));
    assert_eq!((run.listings_unique, run.listings_inserted), (17, 17));
    assert!(run.listings_fetched >= 17, "{}", run.listings_fetched);
    assert!(run.started_at.is_some() && run.finished_at.is_some());
    assert!(run.errors.0.is_empty());

    let first_seen = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("listings");
    let again = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("second run");
    assert_eq!(again.status, RunStatus::Succeeded);
    assert_eq!(
        again.counters.listings_inserted, 0,
        "a second run inserts nothing"
    );
    assert_eq!(again.counters.listings_unique, 17);
    assert!(again.categories_gained.is_empty());
    assert_eq!(app.rows::<job_listing::Entity>().await, 17);
    assert_eq!(app.rows::<job_listing_category::Entity>().await, 18);
    let seen_again = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("listings");
    for (before, after) in first_seen.iter().zip(&seen_again) {
        assert_eq!(before.first_seen_at, after.first_seen_at);
        assert!(
            after.last_seen_at > before.last_seen_at,
            "last_seen_at moves forward for {}",
            after.title
        );
    }
}

async fn what_the_client_sends(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = app_on(
        backend,
        &mock,
        &[("SOURCES_USER_AGENT", "JobCollector-test (+ops@example.com)")],
    )
    .await;
    api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");

    let greenhouse = mock.requests_to("/v1/boards/northwind/jobs");
    assert_eq!(
        greenhouse.len(),
        1,
        "a board is fetched once per run, not once per category"
    );
    assert_eq!(greenhouse[0].param("content").as_deref(), Some("true"));
    assert_eq!(
        greenhouse[0].headers["user-agent"],
        "JobCollector-test (+ops@example.com)"
    );
    assert_eq!(greenhouse[0].headers["accept"], "application/json");

    let remotive = mock.requests_to("/api/remote-jobs");
    let terms: BTreeSet<String> = remotive.iter().filter_map(|r| r.param("search")).collect();
    let expected = [
        "software engineer",
        "backend developer",
        "full stack developer",
        "data scientist",
        "machine learning engineer",
        "mechanical engineer",
        "mechanical design engineer",
        "product manager",
    ];
    assert_eq!(
        terms,
        expected.iter().map(|s| (*s).to_owned()).collect(),
        "one search per category search term"
    );
    assert!(
        remotive
            .iter()
            .all(|r| r.param("limit").as_deref() == Some("50"))
    );

    let arbeitnow: Vec<String> = mock
        .requests_to("/api/job-board-api")
        .iter()
        .filter_map(|r| r.param("page"))
        .collect();
    assert_eq!(
        arbeitnow,
        ["1", "2"],
        "pages are read once per run and stop at links.next = null"
    );
    assert_eq!(mock.requests_to("/api/v1/items/50100200").len(), 1);
    let sr: Vec<String> = mock
        .requests_to("/v1/companies/Meridian/postings")
        .iter()
        .filter_map(|r| r.param("offset"))
        .collect();
    assert_eq!(sr, ["0", "100"]);
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.path != "/jobs-guest/jobs/api/seeMoreJobPostings/search"),
        "LinkedIn is off by default"
    );
}

/// Companies of the stored listings of `source`.
async fn companies_of(app: &TestApp, source: &str) -> BTreeSet<String> {
    job_listing::Entity::find()
        .filter(job_listing::Column::Source.eq(source))
        .all(&app.db)
        .await
        .expect("listings")
        .into_iter()
        .map(|l| l.company)
        .collect()
}

async fn boards_name_their_companies(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    mock.serve(
        "/v1/boards/northwind",
        Reply::fixture("greenhouse/board.json"),
    );
    let boards = tests::boards::COMPANY_BOARDS
        .replace("lever:quarry-labs", "lever:quarry-labs=Quarry Robotics");
    let app = app_on(backend, &mock, &[("COMPANY_BOARDS", &boards)]).await;
    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    // The posting without a company name takes the board's own name, asked once.
    assert_eq!(
        companies_of(&app, "greenhouse").await,
        set(&["Northwind Labs"])
    );
    assert_eq!(mock.requests_to("/v1/boards/northwind").len(), 1);
    // Lever names no company: the display name COMPANY_BOARDS gives, not "Quarry Labs".
    assert_eq!(companies_of(&app, "lever").await, set(&["Quarry Robotics"]));
}

on_each_backend!(
    a_run_stores_each_listing_once_with_its_categories_and_a_rerun_inserts_nothing,
    what_the_client_sends,
    boards_name_their_companies
);

async fn without_once_the_pipeline_repeats_every_interval_until_stopped(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    // HTTP only: the app's own scheduler would otherwise start runs on the same interval.
    let app = tests::spawn_api_only(backend, |vars| {
        vars_for(&mock, vars);
        vars.insert("PIPELINE_INTERVAL_SECONDS".into(), "1".into());
        vars.insert("JOB_SOURCES".into(), "remoteok".into());
    })
    .await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let repeating = api::pipeline::command_until(&app.db, &app.config, false, async {
        let _ = stop_rx.await;
    });
    let watch = async {
        tests::eventually(
            "a second run",
            std::time::Duration::from_secs(20),
            || async {
                match mock.requests_to("/api").len() {
                    n if n >= 2 => Ok(()),
                    n => Err(format!("{n} requests")),
                }
            },
        )
        .await;
        stop_tx.send(()).expect("the loop is waiting");
    };
    let (result, ()) = tokio::join!(repeating, watch);
    result.expect("stops cleanly");
    let runs = jobs::collect::runs::newest(&app.db, 10)
        .await
        .expect("runs");
    assert!(
        runs.len() >= 2
            && runs
                .iter()
                .all(|r| r.status == entity::RunStatus::Succeeded),
        "{runs:?}"
    );

    let mut once_only = app.config.clone();
    once_only.pipeline_interval = std::time::Duration::ZERO;
    let refused =
        api::pipeline::command_until(&app.db, &once_only, false, std::future::pending()).await;
    assert!(
        refused
            .expect_err("interval 0 without --once")
            .to_string()
            .contains("PIPELINE_INTERVAL_SECONDS")
    );
}

on_each_backend!(without_once_the_pipeline_repeats_every_interval_until_stopped);
