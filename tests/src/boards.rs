//! The standard replay of every keyless board, and an app configured to collect from it.

use std::collections::HashMap;

use jobs::sources::SourceName;

use crate::mock_boards::{MockBoards, Reply};

/// The boards every replay configures in `COMPANY_BOARDS`.
pub const COMPANY_BOARDS: &str = "greenhouse:northwind,lever:quarry-labs,ashby:ridgeline,workable:harbor,smartrecruiters:Meridian,recruitee:tulip";

/// Serves every fixture at its real path. Remotive answers only the `backend developer`
/// search (others get an empty list), as its server-side search would.
pub fn serve_all(mock: &MockBoards) {
    mock.serve(
        "/v1/boards/northwind/jobs",
        Reply::fixture("greenhouse/board_content.json"),
    )
    .serve(
        "/v0/postings/quarry-labs",
        Reply::fixture("lever/postings.json"),
    )
    .serve(
        "/posting-api/job-board/ridgeline",
        Reply::fixture("ashby/job_board.json"),
    )
    .serve(
        "/api/accounts/harbor",
        Reply::fixture("workable/account.json"),
    )
    .serve(
        "/v1/companies/Meridian/postings?limit=100&offset=0",
        Reply::fixture("smartrecruiters/postings_page1.json"),
    )
    .serve(
        "/v1/companies/Meridian/postings?limit=100&offset=100",
        Reply::fixture("smartrecruiters/postings_page2.json"),
    )
    .serve("/api/offers/", Reply::fixture("recruitee/offers.json"))
    .serve("/api", Reply::fixture("remoteok/api.json"))
    .serve(
        "/api/remote-jobs",
        Reply::json(r#"{"job-count": 0, "jobs": []}"#),
    )
    .serve(
        "/api/remote-jobs?search=backend+developer&limit=50",
        Reply::fixture("remotive/search.json"),
    )
    .serve(
        "/api/job-board-api?page=1",
        Reply::fixture("arbeitnow/page1.json"),
    )
    .serve(
        "/api/job-board-api?page=2",
        Reply::fixture("arbeitnow/page2.json"),
    )
    .serve(
        "/api/v1/search_by_date",
        Reply::fixture("hackernews/search_by_date.json"),
    )
    .serve(
        "/api/v1/items/50100200",
        Reply::fixture("hackernews/thread.json"),
    );
}

/// Configuration variables pointing every source at the mock, with no pacing, quick
/// backoff, and a freshness window wide enough for the fixtures' fixed dates.
pub fn vars_for(mock: &MockBoards, vars: &mut HashMap<String, String>) {
    for name in SourceName::ALL {
        vars.insert(name.base_url_var(), mock.base_url.clone());
    }
    vars.insert("COMPANY_BOARDS".into(), COMPANY_BOARDS.into());
    vars.insert("SOURCES_MIN_INTERVAL_MS".into(), "0".into());
    vars.insert("SOURCES_BACKOFF_BASE_MS".into(), "20".into());
    vars.insert("SOURCES_BACKOFF_MAX_SECONDS".into(), "5".into());
    vars.insert("SOURCES_TIMEOUT_SECONDS".into(), "5".into());
    vars.insert("JOB_HOURS_OLD".into(), "1000000".into());
}
