//! What three attacks cost the real server process: an exponential fragment document, failed
//! logins with megabyte emails, and a page-heavy aliased query. Run it against any build of
//! `jobcollector` to compare (the figures in README's Security section come from this).
//!
//! ```sh
//! cargo build --release -p api -p tests --bin jobcollector --bin bench-attack
//! target/release/bench-attack                      # BENCH_BIN=path/to/jobcollector to compare
//! ```
//! It imports 2,000 listings with ~3 KB descriptions into a scratch SQLite database, then for
//! each attack starts a fresh `jobcollector serve --no-workers` on it and measures:
//! 1. a query of `BENCH_FRAGMENT_LEVELS` (default 24) fragments, each spreading the one before
//!    twice: the time of two such requests at once, and of a `/healthz` sent meanwhile; then
//!    one whose innermost fragment spreads a fragment that does not exist;
//! 2. the server's RSS before and after `BENCH_LOGINS` (default 1,000) failed logins with unique
//!    1 MB emails, 8 at once;
//! 3. 300 aliases of `jobListings(first: 100) { … description }`: the response's size and
//!    time, and the RSS peak while four such requests run at once.
//!
//! Each request is given 300 s; one that takes longer is reported as such.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789abcdef";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn binary() -> String {
    std::env::var("BENCH_BIN").unwrap_or_else(|_| {
        let exe = std::env::current_exe().expect("own path");
        exe.with_file_name("jobcollector")
            .to_string_lossy()
            .into_owned()
    })
}

fn env(command: &mut Command, db: &str, port: u16) {
    command
        .env("DATABASE_URL", db)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .env("LOGIN_MAX_FAILURES", "0")
        // The costs measured are those of requests that get in, not of the rate limit.
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .env("RATE_LIMIT_USER_PER_MINUTE", "0");
}

fn seed_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("listings.jsonl");
    let mut file = std::fs::File::create(&path).expect("create");
    let paragraph = "We build reliable backend services in Rust and Go, run PostgreSQL at scale, and care about observability, testing and calm on-call rotations. ";
    for i in 0..2_000 {
        let row = json!({
            "site": "lever",
            "title": format!("Backend Engineer {i}"),
            "company": format!("Company {}", i % 97),
            "job_url": format!("https://jobs.example/{i}"),
            "description": paragraph.repeat(22),
        });
        writeln!(file, "{row}").expect("write");
    }
    path
}

fn database(dir: &std::path::Path) -> String {
    format!("sqlite://{}/bench.db?mode=rwc", dir.display())
}

/// Imports the listings with the binary's own `import`.
fn seed(dir: &std::path::Path) {
    let file = seed_file(dir);
    let mut import = Command::new(binary());
    env(&mut import, &database(dir), free_port());
    let status = import
        .args([
            "import",
            &file.to_string_lossy(),
            "--category",
            "software_engineer",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("run import");
    assert!(status.success(), "import failed");
}

async fn start(dir: &std::path::Path) -> Server {
    let db = database(dir);
    let port = free_port();
    let mut serve = Command::new(binary());
    env(&mut serve, &db, port);
    let child = serve
        .args(["serve", "--no-workers"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

/// Posts `body`; returns (seconds, response bytes, HTTP status) or why it failed.
async fn post(
    client: &reqwest::Client,
    server: &Server,
    body: &Value,
    token: Option<&str>,
) -> Result<(f64, usize, u16), String> {
    let started = Instant::now();
    let mut request = client.post(format!("{}/graphql", server.base)).json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    Ok((started.elapsed().as_secs_f64(), bytes.len(), status))
}

fn fragment_bomb(levels: usize, inner: &str) -> String {
    let mut q = format!("query {{ ...F{levels} }} fragment F0 on Query {{ {inner} }}");
    for i in 1..=levels {
        q.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    q
}

fn shown(r: &Result<(f64, usize, u16), String>) -> String {
    match r {
        Ok((secs, bytes, status)) => format!("{secs:.3} s, HTTP {status}, {bytes} bytes"),
        Err(e) => format!("failed: {e}"),
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let server = start(dir.path()).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    println!("binary: {}", binary());
    println!("idle RSS: {:.0} MB", server.rss_mb());

    // 1. Fragments.
    let levels: usize = std::env::var("BENCH_FRAGMENT_LEVELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let bomb = json!({ "query": fragment_bomb(levels, "__typename") });
    println!(
        "fragment document: {} bytes, {levels} levels",
        bomb["query"].as_str().map_or(0, str::len)
    );
    let health = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let ok = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok();
        (started.elapsed().as_secs_f64(), ok)
    };
    let (a, b, (health_secs, health_ok)) = tokio::join!(
        post(&client, &server, &bomb, None),
        post(&client, &server, &bomb, None),
        health
    );
    println!("  two at once: {} | {}", shown(&a), shown(&b));
    println!("  /healthz meanwhile: {health_secs:.3} s (answered: {health_ok})");
    let unknown = json!({ "query": fragment_bomb(levels, "...Missing") });
    println!(
        "  the same ending in a spread of an unknown fragment: {}",
        shown(&post(&client, &server, &unknown, None).await)
    );

    // 2. Failed logins with megabyte emails, on a fresh process.
    drop(server);
    let server = start(dir.path()).await;
    let before = server.rss_mb();
    let started = Instant::now();
    let login =
        "mutation($e: String!) { login(email: $e, password: \"wrong password!\") { token } }";
    let logins: usize = std::env::var("BENCH_LOGINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (client, base) = (client.clone(), server.base.clone());
        tasks.spawn(async move {
            for i in 0..logins / 8 {
                let email = format!("{}{worker}-{i}@example.com", "x".repeat(1000 * 1000 - 40));
                let _ = client
                    .post(format!("{base}/graphql"))
                    .json(&json!({ "query": login, "variables": { "e": email } }))
                    .send()
                    .await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    println!(
        "{logins} failed logins with 1 MB emails: RSS {before:.0} MB -> {:.0} MB ({:.1} s)",
        server.rss_mb(),
        started.elapsed().as_secs_f64()
    );

    // 3. Pages through aliases, on a fresh process.
    drop(server);
    let server = start(dir.path()).await;
    println!("idle RSS: {:.0} MB", server.rss_mb());
    let token_body = post_token(&client, &server).await;
    let aliases: String = (0..300)
        .map(|i| {
            format!(
                "a{i}: jobListings(first: 100) {{ edges {{ node {{ id title description }} }} }} "
            )
        })
        .collect();
    let wide = json!({ "query": format!("{{ {aliases} }}") });
    let one = post(&client, &server, &wide, Some(&token_body)).await;
    println!("300 aliases of jobListings(first: 100): {}", shown(&one));
    let peak = std::sync::Arc::new(std::sync::Mutex::new(server.rss_mb()));
    let sampling = {
        let (peak, pid) = (peak.clone(), server.child.id());
        tokio::spawn(async move {
            loop {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                    .map_or(0.0, |kb| kb / 1024.0);
                {
                    let mut p = peak.lock().expect("peak");
                    *p = p.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let four =
        futures::future::join_all((0..4).map(|_| post(&client, &server, &wide, Some(&token_body))))
            .await;
    sampling.abort();
    let slowest = four
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(s, _, _)| *s))
        .fold(0.0, f64::max);
    println!(
        "  four at once: slowest {slowest:.3} s, peak RSS {:.0} MB",
        *peak.lock().expect("peak")
    );
}

async fn post_token(client: &reqwest::Client, server: &Server) -> String {
    let register = json!({ "query": "mutation { register(email: \"bench@example.com\", password: \"long enough password\") { token } }" });
    let response: Value = client
        .post(format!("{}/graphql", server.base))
        .json(&register)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    response["data"]["register"]["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}
