//! Collect benchmark: one `jobcollector pipeline --once` of CATEGORIES search categories
//! against local mock boards (Remotive answering every category's search with PER listings,
//! a fifth of them also in the next category's answer, and a Greenhouse board of BOARD
//! listings filed by keyword) into an empty Postgres database; prints wall time, listings/s
//! and the run's peak RSS.
//!
//! ```sh
//! cargo build --release -p api -p tests --bin jobcollector --bin bench-collect
//! target/release/bench-collect [CATEGORIES] [PER] [BOARD]    # default 50 200 2000
//! ```
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) is the server; a
//! scratch database is created on it and dropped afterwards. Needs GNU `/usr/bin/time`.

use chrono::{Duration, Utc};
use entity::{CategoryOrigin, StringList, search_category};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, EntityTrait};
use serde_json::{Value, json};
use tests::bench;
use tests::mock_boards::{MockBoards, Reply};

/// One word per category: its name is "{word} Engineer", its keyword the word.
const DOMAINS: [&str; 60] = [
    "Payments",
    "Compiler",
    "Kernel",
    "Firmware",
    "Robotics",
    "Graphics",
    "Audio",
    "Search",
    "Ranking",
    "Billing",
    "Identity",
    "Network",
    "Storage",
    "Database",
    "Security",
    "Privacy",
    "Mobile",
    "Android",
    "Frontend",
    "Platform",
    "Reliability",
    "Observability",
    "Build",
    "Release",
    "Quality",
    "Automation",
    "Embedded",
    "Avionics",
    "Propulsion",
    "Thermal",
    "Structural",
    "Hardware",
    "Silicon",
    "Photonics",
    "Optics",
    "Battery",
    "Power",
    "Controls",
    "Perception",
    "Mapping",
    "Simulation",
    "Localization",
    "Infrastructure",
    "Cloud",
    "Edge",
    "Streaming",
    "Messaging",
    "Telemetry",
    "Ledger",
    "Fraud",
    "Pricing",
    "Logistics",
    "Warehouse",
    "Routing",
    "Geospatial",
    "Genomics",
    "Imaging",
    "Clinical",
    "Accessibility",
    "Localisation",
];
const LEVELS: [&str; 5] = ["", "Senior ", "Staff ", "Lead ", "Principal "];
const CITIES: [&str; 8] = [
    "Berlin",
    "Remote",
    "London",
    "New York, NY",
    "Toronto",
    "Lisbon",
    "Austin, TX",
    "Warsaw",
];
const WORDS: [&str; 24] = [
    "design",
    "build",
    "operate",
    "services",
    "customers",
    "reliable",
    "latency",
    "throughput",
    "on-call",
    "review",
    "mentor",
    "roadmap",
    "production",
    "incidents",
    "testing",
    "rollout",
    "metrics",
    "pipelines",
    "ownership",
    "scale",
    "APIs",
    "migrations",
    "correctness",
    "docs",
];

/// A 1–3 KB HTML description, the same for the same `seed`.
fn description(seed: usize) -> String {
    let mut out = String::new();
    let mut x = seed as u64 * 6_364_136_223_846_793_005 + 1;
    let paragraphs = 3 + seed % 5;
    for _ in 0..paragraphs {
        out.push_str("<p>");
        for _ in 0..60 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            out.push_str(WORDS[(x >> 33) as usize % WORDS.len()]);
            out.push(' ');
        }
        out.push_str("</p>\n<ul><li>Rust or Go</li><li>PostgreSQL</li></ul>\n");
    }
    out
}

/// Opening `g` of the search answers: titled after the category window it falls in.
fn remotive_job(g: usize, per_window: usize, categories: usize, date: &str) -> Value {
    let domain = DOMAINS[(g / per_window) % categories];
    json!({
        "id": 1_000_000 + g,
        "url": format!("https://remotive.com/remote-jobs/software-dev/{}-{g}", domain.to_lowercase()),
        "title": format!("{}{domain} Engineer", LEVELS[g % LEVELS.len()]),
        "company_name": format!("Vendor {g:05} Inc."),
        "category": "Software Development",
        "job_type": "full_time",
        "publication_date": date,
        "candidate_required_location": CITIES[g % CITIES.len()],
        "salary": "$120k - $160k",
        "description": description(g),
    })
}

fn greenhouse_job(i: usize, categories: usize, date: &str) -> Value {
    let domain = DOMAINS[i % categories];
    json!({
        "absolute_url": format!("https://boards.greenhouse.io/bench/jobs/{}", 7_000_000 + i),
        "internal_job_id": 8_000_000 + i,
        "location": { "name": CITIES[i % CITIES.len()] },
        "metadata": null,
        "id": 7_000_000 + i,
        "updated_at": date,
        "requisition_id": format!("REQ-{i}"),
        "title": format!("{}{domain} Engineer, Team {}", LEVELS[i % LEVELS.len()], i / categories),
        "company_name": "Bench Robotics",
        "first_published": date,
        "language": "en",
        "content": description(i + 500_000).replace('<', "&lt;").replace('>', "&gt;"),
        "departments": [],
        "offices": []
    })
}

async fn categories_only(url: &str, n: usize) -> anyhow::Result<()> {
    let db = Database::connect(url).await?;
    db.execute_unprepared("UPDATE search_categories SET is_active = false")
        .await?;
    let now = Utc::now();
    let rows = DOMAINS[..n].iter().map(|d| search_category::ActiveModel {
        slug: Set(format!("bench_{}", d.to_lowercase()).parse().expect("slug")),
        name: Set(format!("{d} Engineer")),
        search_terms: Set(StringList(vec![format!("{d} Engineer")])),
        keywords: Set(StringList(vec![d.to_lowercase()])),
        location: Set(None),
        is_active: Set(true),
        origin: Set(CategoryOrigin::Admin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    search_category::Entity::insert_many(rows).exec(&db).await?;
    db.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let categories = args.next().transpose()?.unwrap_or(50);
    let per = args.next().transpose()?.unwrap_or(200);
    let board = args.next().transpose()?.unwrap_or(2000);
    anyhow::ensure!(
        (1..=DOMAINS.len()).contains(&categories),
        "at most {} categories",
        DOMAINS.len()
    );
    let admin = bench::admin_url();
    let binary = bench::release_binary()?;

    // Category c's search answers openings [c·w, c·w + per): w = 4/5 of per, so the last fifth
    // is also the next category's first.
    let window = (per * 4 / 5).max(1);
    let date = (Utc::now() - Duration::hours(6))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let mock = MockBoards::start().await;
    let mut fetched = 0;
    let mut openings = std::collections::BTreeSet::new();
    for (c, domain) in DOMAINS[..categories].iter().enumerate() {
        let jobs: Vec<Value> = (c * window..c * window + per)
            .map(|g| remotive_job(g, window, categories, &date))
            .collect();
        fetched += jobs.len();
        openings.extend(c * window..c * window + per);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("search", &format!("{domain} Engineer"))
            .append_pair("limit", &per.to_string())
            .finish();
        mock.serve(
            &format!("/api/remote-jobs?{query}"),
            Reply::json(json!({ "job-count": jobs.len(), "jobs": jobs }).to_string()),
        );
    }
    let jobs: Vec<Value> = (0..board)
        .map(|i| greenhouse_job(i, categories, &date))
        .collect();
    mock.serve(
        "/v1/boards/bench/jobs",
        Reply::json(json!({ "jobs": jobs, "meta": { "total": board } }).to_string()),
    );
    let expected = openings.len() + board;
    println!(
        "{categories} categories × {per} search listings ({} openings) + a board of {board}",
        openings.len()
    );

    let url = bench::fresh_database(&admin, "bench_collect").await?;
    categories_only(&url, categories).await?;
    let results = per.to_string();
    let run = bench::timed(
        &binary,
        &["pipeline", "--once"],
        &[
            ("DATABASE_URL", &url),
            ("RUST_LOG", "warn"),
            ("JOB_SOURCES", "remotive,greenhouse"),
            ("REMOTIVE_BASE_URL", &mock.base_url),
            ("GREENHOUSE_BASE_URL", &mock.base_url),
            ("COMPANY_BOARDS", "greenhouse:bench"),
            ("SOURCES_MIN_INTERVAL_MS", "0"),
            ("RESULTS_WANTED", &results),
            ("JOB_HOURS_OLD", "48"),
        ],
    )?;
    let stored = bench::count(&url, "job_listings").await?;
    let postings = bench::count(&url, "listing_postings").await?;
    let links = bench::count(&url, "job_listing_categories").await?;
    bench::drop_databases(&admin, &["bench_collect"]).await?;
    anyhow::ensure!(
        stored as usize == expected,
        "{stored} listings stored, {expected} expected: {}",
        String::from_utf8_lossy(&run.output.stdout)
    );
    let fetched = fetched + board;
    println!(
        "\n| listings fetched | stored | postings | category links | seconds | fetched/s | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {fetched} | {stored} | {postings} | {links} | {:.2} | {:.0} | {:.0} MB |",
        run.seconds,
        fetched as f64 / run.seconds,
        run.peak_mb
    );
    Ok(())
}
