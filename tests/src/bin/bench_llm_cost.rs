//! What the LLM cost controls save (the keyword prefilter, batching, prompt caching), and what
//! the prefilter costs in strong fits the LLM never sees.
//!
//! ```sh
//! cargo build --release -p tests --bin bench-llm-cost && target/release/bench-llm-cost
//! ```
//!
//! - **Part 1, recall**: on the labeled sets of `tests/fixtures/quality/`, every resume against
//!   every listing of its set, keyword-scored as `MatchUser` scores (the set's listings as the
//!   corpus), then the prefilter (score ≥ `LLM_PRESCORE_MIN`, at most `LLM_TOP_K` per resume,
//!   best first): the share of strong fits (grade 2), of plausible ones (grade 1) and of all
//!   pairs that reach the LLM, per threshold.
//! - **Part 2, tokens**: `MatchUser` for one user over 1,000 fresh listings (copies of both
//!   sets' listings, each made distinct) on a scratch SQLite database, through the real Bedrock
//!   client wrapped in the ledger ([`Metered`]) to the Converse mock answering after 100 ms,
//!   `LLM_CONCURRENCY` 8. The mock reports tokens as characters / 4 of the system prompt, the
//!   tool's definition and the message; with a `cachePoint`, the part up to it is a cache write
//!   the first time that exact prefix is seen and a cache read afterwards; 70 output tokens per
//!   listing. Run once as today (every pair, one per call, no cache) and once with the defaults;
//!   the figures are the ledger's, checked against what the mock reported. Also per run: the
//!   pairs at or above `LLM_PRESCORE_MIN` that `LLM_TOP_K` kept from the LLM, and how many
//!   copies of the listings the user's own set grades a strong fit reached it.
//!
//! Everything is printed as Markdown tables for the README.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{
    AssignmentMethod, AssignmentStatus, Email, Fingerprint, JobHash, Role, ScoreMethod,
    job_listing, job_listing_category, user, user_job_match,
};
use jobs::llm::ledger::{self, CACHE_READ_PRICE_RATIO, CACHE_WRITE_PRICE_RATIO, Prices};
use jobs::llm::{BedrockAuth, BedrockConfig, BedrockLlm, Budget, Llm, Metered};
use jobs::matching::keyword::{self, Corpus, Resume};
use jobs::matching::{
    DEFAULT_PRESCORE_MIN, DEFAULT_TOP_K, MatchConfig, MatchOutcome, SCREENED_VERSION,
};
use migration::MigratorTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};
use tests::mock_bedrock::{
    API_KEY, BedrockReply, Call, MODEL_ID, MockBedrock, MockUsage, PromptListing, batch_input,
};
use tests::quality::{self, YEAR};

/// The `LLM_PRESCORE_MIN` values Part 1 reports.
const THRESHOLDS: [i16; 8] = [0, 10, 15, 20, 25, 30, 35, 40];
/// Fresh listings of Part 2's user.
const LISTINGS: usize = 1_000;
/// The mock's answer time.
const LATENCY: Duration = Duration::from_millis(100);
/// `LLM_CONCURRENCY` of both runs.
const CONCURRENCY: usize = 8;
/// Part 2's user: the set and resume id, and why that one.
const USER: (&str, &str, &str) = (
    "dev",
    "R04",
    "the dev set's experienced backend engineer (Staff Software Engineer, Backend & \
     Platform); its other backend resume, R03, is a new grad",
);
/// Characters per token of the mock's estimate.
const CHARS_PER_TOKEN: usize = 4;
/// Answer tokens per listing the mock reports.
const OUTPUT_PER_LISTING: i64 = 70;
/// The fewest prefix tokens Bedrock caches for the default model, Claude 3.5 Haiku (Bedrock's
/// prompt-caching guide; 1,024 for Claude 3.7 Sonnet): a shorter prefix is billed as input.
const CACHE_MIN_TOKENS: i64 = 2_048;
/// Skills the mock's answers look for in a listing.
const SKILLS: [&str; 8] = [
    "Go",
    "Kubernetes",
    "PostgreSQL",
    "Kafka",
    "Java",
    "Python",
    "Terraform",
    "AWS",
];

/// Keyword scores (resume index → listing index) as `MatchUser` computes them: term statistics
/// over the set's listings, each listing weighed once.
fn keyword_scores(set: &quality::Set) -> Vec<Vec<i16>> {
    let corpus = Corpus::from_listings(
        set.listings
            .iter()
            .map(|l| (l.title.as_str(), l.description.as_str())),
    );
    let weighed: Vec<keyword::Listing> = set
        .listings
        .iter()
        .map(|l| keyword::Listing::new(&corpus, &l.title, &l.description))
        .collect();
    set.resumes
        .iter()
        .map(|(_, text)| {
            let resume = Resume::new(text, YEAR);
            weighed
                .iter()
                .map(|l| keyword::score_listing(&resume, l).score)
                .collect()
        })
        .collect()
}

/// The listings the prefilter sends: best score first (listing order among equals), those at
/// or above `threshold`, at most `top_k`.
fn prefilter(scores: &[i16], threshold: i16, top_k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scores[i]));
    order
        .into_iter()
        .filter(|&i| scores[i] >= threshold)
        .take(top_k)
        .collect()
}

/// `(sent, all)`: one set's pairs that reach the LLM at `threshold`, and all its pairs, by
/// grade (0, 1, 2).
fn reach(set: &quality::Set, scores: &[Vec<i16>], threshold: i16) -> ([usize; 3], [usize; 3]) {
    let (mut sent, mut all) = ([0; 3], [0; 3]);
    for (r, (rid, _)) in set.resumes.iter().enumerate() {
        let chosen: HashSet<usize> = prefilter(&scores[r], threshold, DEFAULT_TOP_K)
            .into_iter()
            .collect();
        for (l, listing) in set.listings.iter().enumerate() {
            let grade = usize::from(set.grades[&(rid.clone(), listing.id.clone())]);
            all[grade] += 1;
            sent[grade] += usize::from(chosen.contains(&l));
        }
    }
    (sent, all)
}

/// `part / whole`, 0 when there is no whole.
fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole.max(1) as f64
}

/// `97% (29/30)`.
fn percent(part: usize, whole: usize) -> String {
    format!("{:.0}% ({part}/{whole})", 100.0 * share(part, whole))
}

/// Prints Part 1; returns the share of strong fits sent at the default threshold, per set.
fn part1(sets: &[quality::Set]) -> Vec<f64> {
    println!("## Strong fits reaching the LLM\n");
    println!(
        "Keyword prefilter on the labeled sets: every resume against every listing of its set \
         ({}), LLM_TOP_K = {DEFAULT_TOP_K}.\n",
        sets.iter()
            .map(|s| format!(
                "{}: {} listings × {} resumes",
                s.name,
                s.listings.len(),
                s.resumes.len()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let scores: Vec<Vec<Vec<i16>>> = sets.iter().map(keyword_scores).collect();
    let mut head = String::from("| LLM_PRESCORE_MIN |");
    let mut rule = String::from("|---|");
    for set in sets {
        let n = &set.name;
        head.push_str(&format!(
            " {n}: strong fits sent | {n}: plausible sent | {n}: pairs sent |"
        ));
        rule.push_str("---|---|---|");
    }
    println!("{head}\n{rule}");
    let mut recall_at_default = vec![0.0; sets.len()];
    for threshold in THRESHOLDS {
        let mut row = if threshold == DEFAULT_PRESCORE_MIN {
            format!("| **{threshold} (default)** |")
        } else {
            format!("| {threshold} |")
        };
        for (i, set) in sets.iter().enumerate() {
            let (sent, all) = reach(set, &scores[i], threshold);
            if threshold == DEFAULT_PRESCORE_MIN {
                recall_at_default[i] = share(sent[2], all[2]);
            }
            row.push_str(&format!(
                " {} | {} | {} |",
                percent(sent[2], all[2]),
                percent(sent[1], all[1]),
                percent(sent.iter().sum(), all.iter().sum())
            ));
        }
        println!("{row}");
    }
    recall_at_default
}

/// The `i`-th of Part 2's listings: a copy of `source` with a numbered company, its own URL
/// and a sentence of its own, so that every copy is a separate row with its own job hash.
fn copy_of(source: &quality::Listing, i: usize, copy: usize) -> job_listing::ActiveModel {
    const PERKS: [&str; 5] = [
        "a learning budget",
        "four weeks of paid leave",
        "a home-office stipend",
        "quarterly team offsites",
        "a commuter allowance",
    ];
    let company = format!("{} {copy}", source.company);
    let url = url_of(i);
    let location = Some(source.location.clone()).filter(|l| !l.is_empty());
    let description = format!(
        "{}\n\nPosting {}: we answer every application within {} business days and offer {}.",
        source.description.trim_end(),
        i + 1,
        2 + i % 9,
        PERKS[i % PERKS.len()]
    );
    let now = Utc::now();
    job_listing::ActiveModel {
        job_hash: Set(JobHash::of(&source.title, &company, &url)),
        fingerprint: Set(Fingerprint::of(
            &source.title,
            &company,
            location.as_deref(),
        )),
        title: Set(source.title.clone()),
        company: Set(company),
        location: Set(location),
        job_url: Set(url),
        source: Set("greenhouse".into()),
        description: Set(Some(description)),
        salary_is_estimated: Set(false),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
}

/// The URL of Part 2's `i`-th listing.
fn url_of(i: usize) -> String {
    format!("https://boards.example/jobs/{}", i + 1)
}

/// A scratch SQLite database (migrated, categories seeded) holding `listings`, all linked to
/// one category, and one user assigned to it with `resume`; the directory goes with it.
async fn scratch(
    listings: &[job_listing::ActiveModel],
    resume: &str,
) -> anyhow::Result<(tempfile::TempDir, DatabaseConnection, i64)> {
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
        .ok_or_else(|| anyhow::anyhow!("no software_engineer category"))?;
    for chunk in listings.chunks(200) {
        job_listing::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    let now = Utc::now();
    let links: Vec<_> = job_listing::Entity::find()
        .all(&db)
        .await?
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
        email: Set("bench@example.com".parse::<Email>()?),
        password_hash: Set("not-a-hash".into()),
        role: Set(Role::User),
        resume_text: Set(Some(resume.into())),
        resume_hash: Set(Some(jobs::resume::hash(resume))),
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
    Ok((dir, db, me.id))
}

/// Tokens of one call or summed over several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tokens {
    calls: i64,
    input: i64,
    cache_write: i64,
    cache_read: i64,
    output: i64,
}

/// The mock's estimate for `call` (see the module docs); `seen` holds the prefixes cached so
/// far.
fn usage_of(call: &Call, seen: &mut HashSet<String>) -> MockUsage {
    let system: String = call
        .body
        .pointer("/system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    let tool = call
        .body
        .pointer("/toolConfig/tools/0/toolSpec")
        .map_or_else(String::new, Value::to_string);
    let head = system.chars().count() + tool.chars().count();
    let tokens = |chars: usize| i64::try_from(chars / CHARS_PER_TOKEN).unwrap_or(i64::MAX);
    let total = tokens(head + call.prompt().chars().count());
    let mut usage = MockUsage {
        input: total,
        output: OUTPUT_PER_LISTING * i64::try_from(call.listings().len()).unwrap_or(0),
        ..MockUsage::default()
    };
    if let Some(prefix) = call.cached_prefix() {
        let cached = tokens(head + prefix.chars().count());
        if seen.insert(format!("{system}\n{tool}\n{prefix}")) {
            usage.cache_write = cached;
        } else {
            usage.cache_read = cached;
        }
        usage.input = total - cached;
    }
    usage
}

/// A plausible `record_matches` entry: a score from a hash of the listing, the skills of
/// [`SKILLS`] it names as matched, one it does not as missing.
fn answer(listing: &PromptListing) -> Value {
    let score = keyword::terms::hash_word(&listing.text) % 101;
    let (matched, missing): (Vec<&str>, Vec<&str>) =
        SKILLS.iter().partition(|s| listing.text.contains(*s));
    json!({
        "score": score,
        "reason": format!(
            "For {}, the resume shows {} of the tools the listing names ({}).",
            listing.title,
            matched.len(),
            matched.join(", ")
        ),
        "matched_skills": matched.iter().take(4).collect::<Vec<_>>(),
        "missing_skills": missing.iter().take(1).collect::<Vec<_>>(),
    })
}

/// One configuration's run: what the ledger recorded, what the mock reported, and the job.
struct Measured {
    ledger: Tokens,
    reported: Tokens,
    outcome: MatchOutcome,
    seconds: f64,
    /// URLs of the listings the LLM scored.
    sent: HashSet<String>,
    /// Pairs at or above `LLM_PRESCORE_MIN` the prefilter kept from the LLM (`LLM_TOP_K`).
    cut_by_top_k: usize,
}

/// Runs `MatchUser` once over `listings` on a fresh scratch database and mock.
async fn measure(
    listings: &[job_listing::ActiveModel],
    resume: &str,
    config: &MatchConfig,
    prompt_cache: bool,
) -> anyhow::Result<Measured> {
    let (_dir, db, user_id) = scratch(listings, resume).await?;
    let mock = MockBedrock::start().await;
    let reported: Arc<Mutex<(Tokens, HashSet<String>)>> = Arc::default();
    let tally = reported.clone();
    mock.respond(move |call| {
        let mut guard = tally.lock().expect("the mock's tally");
        let (sum, seen) = &mut *guard;
        let usage = usage_of(call, seen);
        sum.calls += 1;
        sum.input += usage.input;
        sum.cache_write += usage.cache_write;
        sum.cache_read += usage.cache_read;
        sum.output += usage.output;
        BedrockReply::tool_use_with_usage("record_matches", batch_input(call, answer), usage)
            .delayed(LATENCY)
    });
    let bedrock = BedrockLlm::new(&BedrockConfig {
        model_id: MODEL_ID.into(),
        endpoint_url: Some(mock.endpoint.clone()),
        auth: BedrockAuth::ApiKey(API_KEY.into()),
        concurrency: CONCURRENCY,
        prompt_cache,
        ..BedrockConfig::default()
    })
    .await;
    let llm = Metered::new(Arc::new(bedrock), db.clone(), Budget::default());
    let since = Utc::now() - chrono::Duration::seconds(1);
    let started = Instant::now();
    let outcome = jobs::matching::run(
        &db,
        Some(&llm as &dyn Llm),
        &jobs::matching::CorpusCache::default(),
        config,
        user_id,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome.candidates == listings.len()
            && outcome.scored == listings.len()
            && outcome.fallbacks == 0,
        "unexpected outcome {outcome:?}"
    );
    let until = Utc::now() + chrono::Duration::seconds(1);
    let totals = ledger::usage(&db, since, until, Prices::default())
        .await?
        .totals;
    let reported = reported.lock().expect("the mock's tally").0;
    let urls: HashMap<i64, String> = job_listing::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.job_url))
        .collect();
    let matches = user_job_match::Entity::find()
        .filter(user_job_match::Column::UserId.eq(user_id))
        .all(&db)
        .await?;
    let sent = matches
        .iter()
        .filter(|m| m.method == ScoreMethod::Llm)
        .filter_map(|m| urls.get(&m.job_listing_id).cloned())
        .collect();
    let cut_by_top_k = matches
        .iter()
        .filter(|m| {
            m.prompt_version == SCREENED_VERSION
                && m.match_score.value() >= i32::from(config.prescore_min)
        })
        .count();
    Ok(Measured {
        ledger: Tokens {
            calls: totals.calls,
            input: totals.input_tokens,
            cache_write: totals.cache_write_tokens,
            cache_read: totals.cache_read_tokens,
            output: totals.output_tokens,
        },
        reported,
        outcome,
        seconds,
        sent,
        cut_by_top_k,
    })
}

impl Measured {
    /// Input tokens per listing: uncached, cache writes and cache reads alike.
    fn input_per_listing(&self) -> f64 {
        let t = self.ledger;
        (t.input + t.cache_write + t.cache_read) as f64 / LISTINGS as f64
    }

    /// Input tokens per listing as billed, in uncached-input equivalents.
    fn billed_per_listing(&self) -> f64 {
        let t = self.ledger;
        (t.input as f64
            + CACHE_WRITE_PRICE_RATIO * t.cache_write as f64
            + CACHE_READ_PRICE_RATIO * t.cache_read as f64)
            / LISTINGS as f64
    }
}

/// Prints Part 2; returns (b)/(a) of the input tokens per listing.
async fn part2(sets: &[quality::Set]) -> anyhow::Result<f64> {
    let (set_name, resume_id, why) = USER;
    let (own, resume) = sets
        .iter()
        .find(|s| s.name == set_name)
        .and_then(|s| Some((s, &s.resumes.iter().find(|(id, _)| id == resume_id)?.1)))
        .ok_or_else(|| anyhow::anyhow!("no resume {set_name}/{resume_id}"))?;
    let sources: Vec<(&str, &quality::Listing)> = sets
        .iter()
        .flat_map(|s| s.listings.iter().map(|l| (s.name.as_str(), l)))
        .collect();
    let source = |i: usize| sources[i % sources.len()];
    let listings: Vec<job_listing::ActiveModel> = (0..LISTINGS)
        .map(|i| copy_of(source(i).1, i, 1 + i / sources.len()))
        .collect();
    // The copies of the listings the user's own set grades a strong fit for this resume.
    let strong: Vec<String> = (0..LISTINGS)
        .filter(|&i| {
            let (set, listing) = source(i);
            set == set_name
                && own.grades.get(&(resume_id.to_owned(), listing.id.clone())) == Some(&2)
        })
        .map(url_of)
        .collect();
    println!("\n## Tokens and calls for one user with {LISTINGS} fresh listings\n");
    println!(
        "The user: {set_name}/{resume_id} ({} characters), {why}. The listings: the sets' {} \
         listings cycled, each copy with a numbered company and a sentence of its own. Bedrock \
         mock answering after {} ms, LLM_CONCURRENCY = {CONCURRENCY}; tokens as characters / \
         {CHARS_PER_TOKEN}, {OUTPUT_PER_LISTING} output tokens per listing.\n",
        resume.chars().count(),
        sources.len(),
        LATENCY.as_millis()
    );
    let today = MatchConfig {
        prescore_min: 0,
        top_k: usize::MAX,
        batch_size: 1,
        user_daily_pairs: None,
        concurrency: CONCURRENCY,
        ..MatchConfig::default()
    };
    let defaults = MatchConfig {
        concurrency: CONCURRENCY,
        ..MatchConfig::default()
    };
    let runs = [
        (
            "(a) today: every pair, one per call, no prompt cache".to_owned(),
            measure(&listings, resume, &today, false).await?,
        ),
        (
            format!(
                "(b) defaults: LLM_PRESCORE_MIN {}, LLM_TOP_K {}, LLM_BATCH_SIZE {}, prompt cache",
                defaults.prescore_min, defaults.top_k, defaults.batch_size
            ),
            measure(&listings, resume, &defaults, true).await?,
        ),
    ];
    println!(
        "| configuration | LLM calls | pairs sent | ≥ LLM_PRESCORE_MIN but cut by LLM_TOP_K | \
         copies of {resume_id}'s strong fits sent | input tokens / listing | billed-equivalent \
         input / listing | output tokens / listing | wall time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, m) in &runs {
        println!(
            "| {name} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} s |",
            m.ledger.calls,
            m.outcome.sent,
            m.cut_by_top_k,
            percent(
                strong.iter().filter(|u| m.sent.contains(*u)).count(),
                strong.len()
            ),
            m.input_per_listing(),
            m.billed_per_listing(),
            m.ledger.output as f64 / LISTINGS as f64,
            m.seconds
        );
    }
    let (a, b) = (&runs[0].1, &runs[1].1);
    let ratio = b.input_per_listing() / a.input_per_listing();
    println!(
        "| (b) / (a) | | | | | {:.1}% | {:.1}% | {:.1}% | |",
        100.0 * ratio,
        100.0 * b.billed_per_listing() / a.billed_per_listing(),
        100.0 * b.ledger.output as f64 / a.ledger.output as f64
    );
    println!(
        "\nBilled-equivalent input = uncached input + {CACHE_WRITE_PRICE_RATIO} × cache write + \
         {CACHE_READ_PRICE_RATIO} × cache read. The ledger's totals against the mock's own:\n"
    );
    println!(
        "| configuration | calls | uncached input | cache write | cache read | output | \
         ledger = mock |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, m) in &runs {
        let t = m.ledger;
        let agree = t == m.reported && usize::try_from(t.calls) == Ok(m.outcome.llm_calls);
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            t.calls,
            t.input,
            t.cache_write,
            t.cache_read,
            t.output,
            if agree {
                "yes".to_owned()
            } else {
                format!("**no**: the mock reported {:?}", m.reported)
            }
        );
    }
    let prefix = b.ledger.cache_write;
    println!(
        "\nThe cached prefix (rubric, tool, resume) is {prefix} tokens by this estimate{}; \
         without a cache, (b)'s billed-equivalent input is its {:.1} input tokens per listing, \
         {:.1}% of today's. The mock writes the cache on the first call only; Bedrock may \
         write it on each of the first {CONCURRENCY} calls in flight at once.",
        if prefix < CACHE_MIN_TOKENS {
            format!(
                ", under the {CACHE_MIN_TOKENS} tokens Bedrock caches at least for Claude 3.5 \
                 Haiku: there the cachePoint forms no cache"
            )
        } else {
            String::new()
        },
        b.input_per_listing(),
        100.0 * ratio
    );
    Ok(ratio)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sets = ["dev", "holdout"]
        .iter()
        .map(|name| quality::load(&quality::root().join(name)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let recall = part1(&sets);
    let (dev, holdout) = (recall[0], recall[1]);
    let ratio = part2(&sets).await?;
    let holds = ratio <= 0.20 && holdout >= 0.95;
    println!(
        "\nAim (≤ 20% of today's input tokens per listing with ≥ 95% of strong fits reaching the \
         LLM): {} — input tokens per listing at {:.1}% of today's; strong fits reaching the LLM \
         at LLM_PRESCORE_MIN {DEFAULT_PRESCORE_MIN}: holdout {:.1}% (dev {:.1}%).",
        if holds { "holds" } else { "does not hold" },
        100.0 * ratio,
        100.0 * holdout,
        100.0 * dev
    );
    Ok(())
}
