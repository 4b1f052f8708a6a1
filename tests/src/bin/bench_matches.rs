//! `matchedJobs` under load, next to the same SQL run by `pgbench` in the same session.
//!
//! ```sh
//! apt-get install -y wrk                       # the HTTP load tool (Debian package)
//! cargo build --release -p api -p tests --bin jobcollector --bin bench-matches
//! target/release/bench-matches [USERS] [MATCHES_PER_USER] [SECONDS]   # default 10000 200 20
//! ```
//! It creates a scratch Postgres database on `BENCH_DATABASE_URL` (default the Unix socket,
//! `postgres://postgres@localhost/test?host=/var/run/postgresql`, as the figures in README were
//! measured), migrates it, and fills it with SQL: 20,000 listings in
//! one category, `USERS` assigned users with `MATCHES_PER_USER` scored matches each. Then it
//! starts the release server (`jobcollector serve --no-workers`, `DATABASE_MAX_CONNECTIONS`
//! from `BENCH_POOL`, default 32) and runs, with `BENCH_CLIENTS` connections (default 32):
//! - `wrk -t2 -c{CLIENTS} -d{SECONDS}s --latency` with the Lua script below: every request is the
//!   first page (20) of `matchedJobs` for a random user's token, with each match's listing;
//! - `pgbench -c{CLIENTS} -j2 -T{SECONDS}` on the SQL the server runs for one such request (the
//!   caller's row, the count, the page by the score index joined with its listings),
//!   per-transaction latencies logged to compute p50/p99.
//!
//! The scratch database is dropped at the end.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api::auth::TokenKeys;
use api::config::Config;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database};

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789abcdef";
const LISTINGS: i64 = 20_000;

const QUERY: &str = "{ matchedJobs(first: 20) { totalCount categoryAssignment { status } edges { cursor node { score reason matchedSkills missingSkills method status scoredAt job { id title company location jobUrl } } } pageInfo { hasNextPage endCursor } } }";

const WRK_SCRIPT: &str = r#"
local tokens = {}
local body = nil
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  local f = io.open(args[2]); body = f:read("*a"); f:close()
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  local t = tokens[math.random(#tokens)]
  return wrk.format("POST", "/graphql",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t}, body)
end
"#;

/// What the server runs for one request (see `api/src/graphql/matches.rs`).
const PGBENCH_SCRIPT: &str = r#"\set u random(1, :users)
SELECT * FROM users WHERE id = :u;
SELECT COUNT(*) FROM user_job_matches WHERE user_id = :u;
SELECT m.*, l.* FROM user_job_matches m LEFT JOIN job_listings l ON l.id = m.job_listing_id WHERE m.user_id = :u ORDER BY m.match_score DESC, m.id DESC LIMIT 21;
"#;

fn with_db(url: &str, db: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => format!(
            "{}/{db}?{query}",
            base.rsplit_once('/').map_or(base, |(b, _)| b)
        ),
        None => format!("{}/{db}", url.rsplit_once('/').map_or(url, |(b, _)| b)),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// `50.00%  1.23ms` → milliseconds.
fn wrk_ms(line: &str) -> Option<f64> {
    let v = line.split_whitespace().nth(1)?;
    let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => return None,
    })
}

async fn seed(url: &str, users: i64, per_user: i64) -> anyhow::Result<()> {
    let db = Database::connect(url).await?;
    migration::Migrator::up(&db, None).await?;
    jobs::catalog::seed_default_categories(&db).await?;
    let statements = [
        format!(
            "INSERT INTO job_listings (job_hash, title, company, location, job_url, source, description, \
             salary_is_estimated, first_seen_at, last_seen_at) \
             SELECT encode(sha256(('l' || i)::bytea), 'hex'), 'Backend Engineer ' || i, 'Company ' || (i % 500), \
             'Berlin, Germany', 'https://boards.example/jobs/' || i, 'greenhouse', \
             repeat('Rust, Go, PostgreSQL and Kubernetes in production. ', 30), false, \
             now() - (i || ' seconds')::interval, now() FROM generate_series(1, {LISTINGS}) i"
        ),
        "INSERT INTO job_listing_categories (job_listing_id, search_category_id, linked_at) \
         SELECT l.id, c.id, now() FROM job_listings l, search_categories c WHERE c.slug = 'software_engineer'"
            .to_owned(),
        format!(
            "INSERT INTO users (email, password_hash, role, resume_text, resume_hash, resume_updated_at, \
             search_category_id, category_status, category_method, category_assigned_at, created_at, updated_at) \
             SELECT 'user' || i || '@bench.example', 'not-a-hash', 'user', 'Backend engineer resume', \
             repeat('a', 64), now(), c.id, 'assigned', 'keyword', now(), now(), now() \
             FROM generate_series(1, {users}) i, search_categories c WHERE c.slug = 'software_engineer'"
        ),
        format!(
            "INSERT INTO user_job_matches (user_id, job_listing_id, match_score, match_reason, matched_skills, \
             missing_skills, method, model_id, prompt_version, resume_hash, input_tokens, output_tokens, scored_at, status) \
             SELECT u.id, ((u.id * 37 + k * 101) % {LISTINGS}) + 1, abs(hashint4((u.id * 1000 + k)::int)) % 101, \
             'Resume shows five years of Rust services on Kubernetes and PostgreSQL; no Java, which the listing asks for.', \
             '[\"Rust\",\"Kubernetes\",\"PostgreSQL\"]'::json, '[\"Java\"]'::json, 'llm', \
             'anthropic.claude-3-5-haiku-20241022-v1:0', 'match-v1', repeat('a', 64), 900, 70, now(), 'new' \
             FROM users u CROSS JOIN generate_series(0, {} ) k",
            per_user - 1
        ),
        // Visibility map set, as on a long-lived database: the count is an index-only scan.
        "VACUUM ANALYZE".to_owned(),
    ];
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let users = args.first().copied().unwrap_or(10_000);
    let per_user = args.get(1).copied().unwrap_or(200);
    let seconds = args.get(2).copied().unwrap_or(20);
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@localhost/test?host=/var/run/postgresql".into());
    let pool = std::env::var("BENCH_POOL").unwrap_or_else(|_| "32".into());
    let clients: u32 = std::env::var("BENCH_CLIENTS").map_or(Ok(32), |c| c.parse())?;
    let name = format!(
        "bench_matches_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let url = with_db(&admin_url, &name);
    let admin = Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let result = run(&url, &name, (users, per_user, seconds), &pool, clients).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    result
}

async fn run(
    url: &str,
    name: &str,
    (users, per_user, seconds): (i64, i64, i64),
    pool: &str,
    clients: u32,
) -> anyhow::Result<()> {
    let t = Instant::now();
    seed(url, users, per_user).await?;
    println!(
        "seeded {users} users × {per_user} matches, {LISTINGS} listings in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let config = Config::from_map(
        &[("JWT_SECRET", SECRET), ("APP_ENV", "production")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )?;
    let keys = TokenKeys::new(&config.auth);
    let accounts = {
        use sea_orm::{EntityTrait, QueryOrder};
        let db = Database::connect(url).await?;
        entity::user::Entity::find()
            .order_by_asc(entity::user::Column::Id)
            .all(&db)
            .await?
    };
    let tokens: Vec<String> = accounts
        .iter()
        .map(|user| keys.issue(user).map_err(|e| anyhow::anyhow!("{e:?}")))
        .collect::<Result<_, _>>()?;
    let tokens_file = dir.path().join("tokens.txt");
    std::fs::write(&tokens_file, tokens.join("\n"))?;
    let body_file = dir.path().join("body.json");
    std::fs::write(
        &body_file,
        serde_json::json!({ "query": QUERY }).to_string(),
    )?;
    let script = dir.path().join("matched_jobs.lua");
    std::fs::write(&script, WRK_SCRIPT)?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let server_bin = exe
        .parent()
        .map(|d| d.join("jobcollector"))
        .ok_or_else(|| anyhow::anyhow!("no directory"))?;
    let mut server = tokio::process::Command::new(&server_bin)
        .args(["serve", "--no-workers"])
        .env("APP_ENV", "production")
        .env("JWT_SECRET", SECRET)
        .env("DATABASE_URL", url)
        .env("DATABASE_MAX_CONNECTIONS", pool)
        // A load test from one address: the rate limit would be all it measured.
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .env("RATE_LIMIT_USER_PER_MINUTE", "0")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("{}: {e} (build it with --release)", server_bin.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every answer is a full page without errors (checked on a sample of users).
    for token in tokens.iter().step_by((users as usize / 20).max(1)) {
        let v: serde_json::Value = http
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "query": QUERY }))
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(v.get("errors").is_none(), "error answer: {v}");
        anyhow::ensure!(
            v["data"]["matchedJobs"]["totalCount"] == per_user,
            "wrong count: {v}"
        );
        anyhow::ensure!(
            v["data"]["matchedJobs"]["edges"].as_array().map(Vec::len)
                == Some(20.min(per_user as usize))
        );
    }

    let wrk = |secs: i64| {
        Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{clients}"),
                &format!("-d{secs}s"),
                "--latency",
                "-s",
            ])
            .arg(&script)
            .arg(&base)
            .arg("--")
            .arg(&tokens_file)
            .arg(&body_file)
            .output()
    };
    wrk(3)?; // warm-up
    let server_cpu_before = cpu_seconds(server.id());
    let out = wrk(seconds)?;
    let server_cpu = cpu_seconds(server.id()) - server_cpu_before;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(str::to_owned)
    };
    let http_p50 = line("50%").as_deref().and_then(wrk_ms).unwrap_or_default();
    let http_p99 = line("99%").as_deref().and_then(wrk_ms).unwrap_or_default();
    let http_rps: f64 = line("Requests/sec:")
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or_default();
    let non_2xx = line("Non-2xx");
    server.kill().await?;

    // pgbench on the same SQL, over the same socket.
    let pg_script = dir.path().join("matched_jobs.sql");
    std::fs::write(&pg_script, PGBENCH_SCRIPT)?;
    let log_prefix = dir.path().join("pgbench");
    let pg_url = url.to_owned();
    let out = Command::new("pgbench")
        .args([
            "-n",
            &format!("-c{clients}"),
            "-j2",
            &format!("-T{seconds}"),
            "-l",
            "--log-prefix",
        ])
        .arg(&log_prefix)
        .args(["-D", &format!("users={users}"), "-f"])
        .arg(&pg_script)
        .arg(pgbench_conn(&pg_url, name))
        .current_dir(dir.path())
        .output()?;
    let pg_text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {pg_text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pg_tps: f64 = pg_text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2).and_then(|v| v.parse().ok()))
        .unwrap_or_default();
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir.path())? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("pgbench."))
        {
            for l in std::fs::read_to_string(&path)?.lines() {
                if let Some(us) = l
                    .split_whitespace()
                    .nth(2)
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    latencies.push(us / 1000.0);
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);

    println!("| what | requests/s | p50 (ms) | p99 (ms) |");
    println!("|---|---|---|---|");
    println!(
        "| matchedJobs over HTTP (wrk, {clients} connections) | {http_rps:.0} | {http_p50:.2} | {http_p99:.2} |"
    );
    println!(
        "| the same SQL by pgbench ({clients} clients) | {pg_tps:.0} | {:.2} | {:.2} |",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0)
    );
    println!("HTTP / SQL throughput: {:.2}", http_rps / pg_tps.max(1.0));
    println!(
        "server CPU: {:.2} ms per request ({:.2} cores busy)",
        server_cpu * 1000.0 / (http_rps * seconds as f64).max(1.0),
        server_cpu / seconds as f64
    );
    if let Some(l) = non_2xx {
        println!("wrk: {}", l.trim());
    }
    Ok(())
}

/// User + system CPU seconds of a process so far (Linux `/proc/PID/stat`, 100 ticks/s).
fn cpu_seconds(pid: Option<u32>) -> f64 {
    let Some(stat) = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
    else {
        return 0.0;
    };
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// pgbench's connection: the database name, and the host (socket directory) from `url`.
fn pgbench_conn(url: &str, name: &str) -> String {
    let host = url
        .split_once("host=")
        .map(|(_, h)| h.split('&').next().unwrap_or(h).to_owned());
    match host {
        Some(h) => format!("host={h} user=postgres dbname={name}"),
        None => url.to_owned(),
    }
}
