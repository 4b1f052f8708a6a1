//! The opt-in sources (LinkedIn, Indeed) through the real client against replayed responses.

use entity::{RunStatus, job_listing};
use jobs::collect::SilentProgress;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tests::Backend;
use tests::mock_boards::{MockBoards, Reply};

use crate::collect::{app_on, links};

const SEARCH: &str = "/jobs-guest/jobs/api/seeMoreJobPostings/search";

#[tokio::test]
async fn linkedin_pages_until_the_end_and_fetches_details_when_asked() {
    let mock = MockBoards::start().await;
    let html = |f: &str| Reply {
        headers: vec![("content-type".into(), "text/html".into())],
        ..Reply::status(200, tests::mock_boards::fixture(f))
    };
    let q = |start: u32| {
        format!("{SEARCH}?keywords=software+engineer&pageNum=0&start={start}&f_TPR=r3600000000")
    };
    mock.serve(SEARCH, Reply::status(200, ""))
        .serve(&q(0), html("linkedin/search_page1.html"))
        .serve(&q(4), html("linkedin/search_page2.html"))
        .serve(&q(6), Reply::status(400, ""))
        .serve(
            "/jobs-guest/jobs/api/jobPosting/4100000001",
            html("linkedin/job_posting.html"),
        );
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("JOB_SOURCES", "linkedin"),
            ("LINKEDIN_FETCH_DESCRIPTION", "true"),
        ],
    )
    .await;
    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);

    let starts: Vec<String> = mock
        .requests_to(SEARCH)
        .iter()
        .filter(|r| r.param("keywords").as_deref() == Some("software engineer"))
        .filter_map(|r| r.param("start"))
        .collect();
    assert_eq!(
        starts,
        ["0", "4", "6"],
        "start advances by the cards received; HTTP 400 ends the results"
    );
    let first = &mock.requests_to(SEARCH)[0];
    assert!(
        first.headers["user-agent"]
            .to_str()
            .expect("ua")
            .contains("Chrome/120")
    );
    assert_eq!(first.headers["accept-language"], "en-US,en;q=0.9");

    let stored = links(&app).await;
    assert_eq!(stored.len(), 6, "{stored:?}");
    assert!(
        stored
            .values()
            .all(|c| c.len() == 1 && c.contains("software_engineer")),
        "a search result belongs to the category that searched: {stored:?}"
    );
    let rust = job_listing::Entity::find()
        .filter(job_listing::Column::SourceId.eq("4100000001"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(rust.job_type.as_deref(), Some("Full-time"));
    assert_eq!(
        rust.job_url_direct.as_deref(),
        Some("https://careers.fjord.example/jobs/123?source=linkedin")
    );
    assert!(
        rust.description
            .as_deref()
            .expect("description")
            .contains("Build ferry telemetry in Rust.")
    );
    let other = job_listing::Entity::find()
        .filter(job_listing::Column::SourceId.eq("4100000002"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(
        other.description, None,
        "a missing detail page keeps the card"
    );
}

#[tokio::test]
async fn indeed_without_a_key_is_unavailable_and_recorded() {
    let mock = MockBoards::start().await;
    let app = app_on(Backend::Sqlite, &mock, &[("JOB_SOURCES", "indeed")]).await;
    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(
        summary.status,
        RunStatus::Failed,
        "the only source could not run"
    );
    assert_eq!(summary.errors.len(), 1);
    assert!(
        summary.errors[0].message.contains("INDEED_API_KEY"),
        "{:?}",
        summary.errors
    );
    assert!(mock.requests().is_empty(), "nothing is sent without a key");
}

#[tokio::test]
async fn indeed_follows_the_cursor_until_it_is_null() {
    let mock = MockBoards::start().await;
    mock.script(
        "/graphql",
        vec![
            Reply::fixture("indeed/search_page1.json"),
            Reply::fixture("indeed/search_last_page.json"),
        ],
    );
    mock.serve(
        "/graphql",
        Reply::json(r#"{"data":{"jobSearch":{"pageInfo":{"nextCursor":null},"results":[]}}}"#),
    );
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[
            ("JOB_SOURCES", "indeed"),
            ("INDEED_API_KEY", "operator-key"),
            ("COLLECT_CONCURRENCY", "1"),
        ],
    )
    .await;
    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(summary.status, RunStatus::Succeeded, "{:?}", summary.errors);
    let requests = mock.requests_to("/graphql");
    assert_eq!(requests[0].headers["indeed-api-key"], "operator-key");
    assert_eq!(requests[0].headers["indeed-co"], "US");
    assert!(
        requests[0].body.contains(r#"what: \"data scientist\""#),
        "{}",
        requests[0].body
    );
    assert!(!requests[0].body.contains("cursor:"));
    assert!(
        requests[1]
            .body
            .contains(r#"cursor: \"eyJvZmZzZXQiOjEwMH0\""#),
        "the second page asks for the cursor"
    );
    let third = &requests[2];
    assert!(
        !third.body.contains("cursor:")
            && third
                .body
                .contains(r#"what: \"machine learning engineer\""#),
        "no third page for the first term: nextCursor null ends it"
    );
    let titles: Vec<String> = job_listing::Entity::find()
        .order_by_asc(job_listing::Column::Id)
        .all(&app.db)
        .await
        .expect("listings")
        .into_iter()
        .map(|l| l.title)
        .collect();
    assert_eq!(
        titles,
        [
            "Senior Software Engineer, Robotics",
            "Staff Software Engineer (Architecture)",
            "DevOps Engineer, Contract",
            "Platform Engineer"
        ]
    );
}

#[tokio::test]
async fn indeed_graphql_errors_are_recorded() {
    let mock = MockBoards::start().await;
    mock.serve("/graphql", Reply::fixture("indeed/error.json"));
    let app = app_on(
        Backend::Sqlite,
        &mock,
        &[("JOB_SOURCES", "indeed,remoteok"), ("INDEED_API_KEY", "k")],
    )
    .await;
    mock.serve("/api", Reply::fixture("remoteok/api.json"));
    let summary = api::pipeline::run_once(&app.db, &app.config, &SilentProgress)
        .await
        .expect("run");
    assert_eq!(summary.status, RunStatus::Partial);
    let indeed: Vec<&str> = summary
        .errors
        .iter()
        .filter(|e| e.source == "indeed")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(indeed.len(), 8, "one per search term");
    assert!(
        indeed
            .iter()
            .all(|m| m.contains("Invalid cursor token (BAD_USER_INPUT)")),
        "{indeed:?}"
    );
    assert_eq!(
        mock.requests_to("/graphql").len(),
        8,
        "an API error is not retried"
    );
}
