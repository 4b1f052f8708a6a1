//! Ingest benchmark: `jobcollector import` of generated JobSpy rows into an empty Postgres
//! database, next to `COPY` + `INSERT … SELECT … ON CONFLICT DO NOTHING` of the same rows into
//! another empty database, in the same run; plus the import's peak RSS.
//!
//! ```sh
//! cargo build --release
//! cargo run --release -p tests --bin bench-ingest -- [ROWS]      # default 100000
//! ```
//! `BENCH_FILE=PATH` keeps the generated file. `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) is the server;
//! two scratch databases are created on it and dropped afterwards. Needs `psql` and GNU
//! `/usr/bin/time` on the PATH.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tests::bench;

const TITLES: [&str; 8] = [
    "Software Engineer",
    "Backend Developer",
    "Data Scientist",
    "Machine Learning Engineer",
    "Mechanical Engineer",
    "Mechanical Design Engineer",
    "Product Manager",
    "Product Owner",
];
const WORDS: [&str; 16] = [
    "build",
    "systems",
    "customers",
    "reliable",
    "data",
    "platform",
    "team",
    "design",
    "production",
    "scale",
    "own",
    "ship",
    "services",
    "quality",
    "mentor",
    "roadmap",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes `rows` rows; every fifth row repeats an earlier (title, company) with another URL.
fn generate(path: &Path, rows: usize) -> std::io::Result<usize> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "site,job_url,title,company,location,date_posted,description"
    )?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut unique = 0;
    for i in 0..rows {
        let n = if i % 5 == 4 {
            (rng.next() as usize) % unique.max(1)
        } else {
            unique += 1;
            unique - 1
        };
        let title = format!("{} {}", TITLES[n % TITLES.len()], n / TITLES.len());
        let company = format!("Company {}", n % 9973);
        let len = 1000 + (rng.next() as usize) % 4000;
        let mut description = String::with_capacity(len + 16);
        while description.len() < len {
            description.push_str(WORDS[(rng.next() as usize) % WORDS.len()]);
            description.push(' ');
        }
        writeln!(
            out,
            "indeed,https://www.indeed.com/viewjob?jk={i:016x},{title},{company},\"Austin, TX\",2026-11-{:02},{description}",
            1 + i % 25
        )?;
    }
    out.flush()?;
    Ok(unique)
}

fn psql(url: &str, commands: &[&str]) -> anyhow::Result<()> {
    let mut cmd = Command::new("psql");
    cmd.arg(url).args(["-q", "-v", "ON_ERROR_STOP=1"]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "psql failed: {status}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let admin = bench::admin_url();
    let binary = bench::release_binary()?;

    let dir = tempfile::tempdir()?;
    // BENCH_FILE keeps the generated file for profiling.
    let file = std::env::var("BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("jobs.csv"));
    let unique = generate(&file, rows)?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "generated {rows} rows ({unique} unique title+company, {:.0} MB) in {}",
        size as f64 / 1e6,
        file.display()
    );

    let ours = bench::fresh_database(&admin, "bench_ingest_import").await?;
    let import = bench::timed(
        &binary,
        &["import", file.to_str().unwrap_or_default()],
        &[("DATABASE_URL", &ours), ("RUST_LOG", "warn")],
    )?;
    let import_secs = import.seconds;
    print!("{}", String::from_utf8_lossy(&import.output.stdout));
    let imported = bench::count(&ours, "job_listings").await?;

    let baseline = bench::fresh_database(&admin, "bench_ingest_copy").await?;
    let copy = format!(
        "\\copy staging FROM '{}' WITH (FORMAT csv, HEADER true)",
        file.display()
    );
    let start = Instant::now();
    psql(
        &baseline,
        &[
            "CREATE UNLOGGED TABLE staging (site text, job_url text, title text, company text, location text, date_posted date, description text)",
            &copy,
            "INSERT INTO job_listings (job_hash, title, company, location, job_url, source, description, date_posted, salary_is_estimated, first_seen_at, last_seen_at) \
             SELECT DISTINCT ON (lower(title), lower(company)) \
                    encode(sha256(convert_to(lower(title) || '|' || lower(company) || '|' || job_url, 'UTF8')), 'hex'), \
                    title, company, location, job_url, site, description, date_posted, false, now(), now() \
             FROM staging ORDER BY lower(title), lower(company) \
             ON CONFLICT (job_hash) DO NOTHING",
        ],
    )?;
    let copy_secs = start.elapsed().as_secs_f64();
    let copied = bench::count(&baseline, "job_listings").await?;

    println!("\n| path | rows | stored | seconds | rows/s |");
    println!("|---|---|---|---|---|");
    println!(
        "| jobcollector import | {rows} | {imported} | {import_secs:.2} | {:.0} |",
        rows as f64 / import_secs
    );
    println!(
        "| COPY + INSERT … SELECT … ON CONFLICT | {rows} | {copied} | {copy_secs:.2} | {:.0} |",
        rows as f64 / copy_secs
    );
    println!(
        "\nimport / COPY time ratio: {:.2}×; import peak RSS: {:.0} MB",
        import_secs / copy_secs,
        import.peak_mb
    );

    bench::drop_databases(&admin, &["bench_ingest_import", "bench_ingest_copy"]).await?;
    Ok(())
}
