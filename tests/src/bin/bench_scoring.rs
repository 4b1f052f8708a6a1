//! Scoring throughput.
//!
//! ```sh
//! cargo build --release -p tests --bin bench-scoring
//! target/release/bench-scoring [PAIRS]        # default 800
//! ```
//! - **LLM**: `MatchUser` for one user over `PAIRS` fresh listings (a SQLite scratch database),
//!   through the real Bedrock client to the Converse mock answering every call after a fixed
//!   200 ms, with `LLM_CONCURRENCY=16`, one pair per call and every pair sent (no prefilter,
//!   no batching: `bench-llm-cost` measures those). The ceiling is 16 / 0.2 s = 80 pairs/s.
//! - **Keyword**: the keyword scorer over the same pairs on one thread (one core), each pair
//!   reading its listing again, repeated until 2 s have passed. (`bench-quality` measures it
//!   on realistic 2–3 KB listings, with and without the per-category cache.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{
    AssignmentMethod, AssignmentStatus, Email, JobHash, Role, job_listing, job_listing_category,
    user,
};
use jobs::llm::{BedrockAuth, BedrockConfig, BedrockLlm, Llm};
use jobs::matching::{CorpusCache, MatchConfig, keyword};
use migration::MigratorTrait;
use sea_orm::{ActiveValue::Set, Database, EntityTrait};
use serde_json::json;
use tests::mock_bedrock::{API_KEY, BedrockReply, MODEL_ID, MockBedrock};

const RESUME: &str = "Alex Doe\nSenior Backend Engineer\n\nEight years building Rust and Go \
microservices on Kubernetes and AWS; PostgreSQL and Redis at scale; Kafka pipelines; gRPC and \
REST APIs; Docker, Terraform, CI/CD with GitHub Actions; on-call with Prometheus and Grafana.";

const SKILLS: [&str; 12] = [
    "Rust",
    "Go",
    "Kubernetes",
    "AWS",
    "PostgreSQL",
    "Redis",
    "Kafka",
    "Terraform",
    "Java",
    "React",
    "Python",
    "Spark",
];

fn description(i: usize) -> String {
    let picked: Vec<&str> = (0..5)
        .map(|k| SKILLS[(i * 7 + k * 5) % SKILLS.len()])
        .collect();
    format!(
        "We are hiring to build our payments platform. You will design services in {}, run \
         them on {} and own data in {}. Experience with {} and {} is a plus. {}+ years of \
         experience. We offer remote work, a learning budget and a calm on-call rotation. {}",
        picked[0],
        picked[1],
        picked[2],
        picked[3],
        picked[4],
        2 + i % 6,
        "Our team values clear writing, code review and shipping small changes often. ".repeat(8)
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pairs: usize = std::env::args().nth(1).map_or(Ok(800), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db = Database::connect(&url).await?;
    migration::Migrator::up(&db, None).await?;
    jobs::catalog::seed_default_categories(&db).await?;
    let category = jobs::catalog::find(&db, &"software_engineer".parse()?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no category"))?;
    let now = Utc::now();
    let titles = [
        "Backend Engineer",
        "Platform Engineer",
        "Data Engineer",
        "Frontend Engineer",
    ];
    let mut listings = Vec::new();
    for i in 0..pairs {
        let title = format!("{} {i}", titles[i % titles.len()]);
        let company = format!("Company {}", i % 97);
        let url = format!("https://boards.example/jobs/{i}");
        listings.push(job_listing::ActiveModel {
            job_hash: Set(JobHash::of(&title, &company, &url)),
            title: Set(title),
            company: Set(company),
            location: Set(Some("Berlin, Germany".into())),
            job_url: Set(url),
            source: Set("greenhouse".into()),
            description: Set(Some(description(i))),
            salary_is_estimated: Set(false),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            ..Default::default()
        });
    }
    for chunk in listings.chunks(200) {
        job_listing::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    let stored = job_listing::Entity::find().all(&db).await?;
    let links: Vec<_> = stored
        .iter()
        .map(|l| job_listing_category::ActiveModel {
            job_listing_id: Set(l.id),
            search_category_id: Set(category.id),
            linked_at: Set(now),
        })
        .collect();
    for chunk in links.chunks(200) {
        job_listing_category::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    let me = user::Entity::insert(user::ActiveModel {
        email: Set("alex@example.com".parse::<Email>()?),
        password_hash: Set("not-a-hash".into()),
        role: Set(Role::User),
        resume_text: Set(Some(RESUME.into())),
        resume_hash: Set(Some(jobs::resume::hash(RESUME))),
        resume_updated_at: Set(Some(now)),
        search_category_id: Set(Some(category.id)),
        category_status: Set(AssignmentStatus::Assigned),
        category_method: Set(Some(AssignmentMethod::Keyword)),
        category_assigned_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&db)
    .await?;

    // LLM: the mock answers every call after 200 ms.
    let mock = MockBedrock::start().await;
    mock.respond(|call| {
        BedrockReply::scores(call, |_| {
            json!({"score": 77, "reason": "Eight years of Rust and Kubernetes; no Java.",
                   "matched_skills": ["Rust", "Kubernetes"], "missing_skills": ["Java"]})
        })
        .delayed(Duration::from_millis(200))
    });
    let llm: Arc<dyn Llm> = Arc::new(
        BedrockLlm::new(&BedrockConfig {
            model_id: MODEL_ID.into(),
            endpoint_url: Some(mock.endpoint.clone()),
            auth: BedrockAuth::ApiKey(API_KEY.into()),
            concurrency: 16,
            ..BedrockConfig::default()
        })
        .await,
    );
    let started = Instant::now();
    let outcome = jobs::matching::run(
        &db,
        Some(llm.as_ref()),
        &CorpusCache::default(),
        // One pair per call, every pair sent: the throughput of the client and the job.
        &MatchConfig {
            hours_old: 72,
            concurrency: 16,
            prescore_min: 0,
            top_k: usize::MAX,
            batch_size: 1,
            user_daily_pairs: None,
        },
        me.id,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome.scored == pairs && outcome.llm_calls == pairs && outcome.fallbacks == 0,
        "unexpected outcome {outcome:?}"
    );
    let llm_rate = pairs as f64 / elapsed;
    println!(
        "LLM scoring: {pairs} pairs in {elapsed:.2} s = {llm_rate:.1} pairs/s ({:.0}% of the 80 pairs/s ceiling)",
        llm_rate / 80.0 * 100.0
    );

    // Keyword scorer on one thread.
    let corpus = keyword::Corpus::from_listings(
        stored
            .iter()
            .map(|l| (l.title.as_str(), l.description.as_deref().unwrap_or(""))),
    );
    let resume = keyword::Resume::new(RESUME, 2026);
    let started = Instant::now();
    let mut scored = 0usize;
    let mut checksum = 0i64;
    while started.elapsed() < Duration::from_secs(2) {
        for l in &stored {
            let s = keyword::score(
                &corpus,
                &resume,
                &l.title,
                l.description.as_deref().unwrap_or(""),
            );
            checksum += i64::from(s.score);
            scored += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "keyword scorer: {scored} pairs in {elapsed:.2} s on one thread = {:.0} pairs/s (mean score {:.1}; descriptions ~{} chars)",
        scored as f64 / elapsed,
        checksum as f64 / scored as f64,
        description(0).len()
    );
    Ok(())
}
