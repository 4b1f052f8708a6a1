//! Resume extraction benchmark: time (median of 20 runs, on one thread) and extra peak memory
//! (the process's peak RSS while extracting, above its RSS before) of reading a 2-page PDF, a
//! 20-page PDF and a 2-page DOCX from `jobs/fixtures/resumes/`. Each file is measured in a
//! process of its own, so one file's peak does not hide another's.
//!
//! ```sh
//! cargo build --release -p tests --bin bench-resume && target/release/bench-resume
//! ```

use std::path::PathBuf;
use std::time::Instant;

use jobs::resume::extract::{Limits, extract};

const FILES: [(&str, &str); 4] = [
    ("2-page PDF (LibreOffice)", "libreoffice.pdf"),
    ("1-page two-column PDF (LibreOffice)", "two_column.pdf"),
    ("20-page PDF (groff + Ghostscript)", "groff_20_pages.pdf"),
    ("2-page DOCX (Word-like)", "word_like.docx"),
];
const RUNS: usize = 20;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../jobs/fixtures/resumes/{name}"))
}

/// `VmRSS` or `VmHWM` of this process, in kB.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: extracts one file, prints `median_ms p90_ms extra_mb chars`.
fn measure(path: &str) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)?;
    let limits = Limits::default();
    let before = status_kb("VmRSS:");
    let first = extract(&bytes, &limits).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let peak = status_kb("VmHWM:");
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let _ = extract(&bytes, &limits);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{:.1} {:.1} {:.1} {}",
        times[RUNS / 2],
        times[RUNS * 9 / 10],
        peak.saturating_sub(before) as f64 / 1024.0,
        first.text.chars().count()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        return measure(args.get(2).map_or("", String::as_str));
    }
    println!("| file | size | median | p90 | extra peak RSS | characters read |");
    println!("|---|---|---|---|---|---|");
    for (label, name) in FILES {
        let path = fixture(name);
        let out = std::process::Command::new(&args[0])
            .arg("--one")
            .arg(&path)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        anyhow::ensure!(f.len() == 4, "{name}: unexpected output {line:?}");
        println!(
            "| {label} | {} KB | {} ms | {} ms | {} MB | {} |",
            std::fs::metadata(&path)?.len().div_ceil(1024),
            f[0],
            f[1],
            f[2],
            f[3]
        );
    }
    Ok(())
}
