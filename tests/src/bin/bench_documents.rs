//! Tailored-document rendering benchmark: for a two-page resume tailored (deterministically)
//! to a listing, the first render (fonts loaded, template parsed), the warm median and p90 of
//! 20 renders on one thread (each of the resume tailored to another listing, so none repeats
//! an earlier one), and the extra peak memory (peak RSS while rendering, above the
//! RSS before) — for the PDF (typst) and the DOCX (docx-rs), each in a process of its own.
//! The PDF's pages are counted by reading it back with the resume extractor.
//!
//! ```sh
//! cargo build --release -p tests --bin bench-documents && target/release/bench-documents
//! # and to look at what it renders: target/release/bench-documents --write /tmp
//! ```

use std::time::Instant;

use jobs::documents::render::{Format, Paper, render};
use jobs::documents::{Content, Target};

const RUNS: usize = 20;

/// A resume that fills two pages: six roles of five bullets, skills, education.
fn resume() -> String {
    let mut text = String::from(
        "Jordan Example\njordan@example.com | +49 30 555 0100 | Berlin\n\nSummary\n\
         Backend engineer with eleven years of building payment and logistics systems.\n\n\
         Experience\n",
    );
    let employers = [
        "Acme GmbH",
        "Beta AG",
        "Gamma Ltd",
        "Delta SE",
        "Epsilon BV",
        "Zeta Inc",
    ];
    let bullets = [
        "Built payment APIs in Rust on PostgreSQL serving 2,000 requests per second at peak",
        "Organised the quarterly planning across four teams and kept the roadmap honest",
        "Moved billing from nightly cron jobs to a queue in Go, cutting failed invoices by 30%",
        "Ran the on-call rota for 12 services and wrote the runbooks the team still uses",
        "Mentored three junior engineers through their first production launches",
    ];
    for (i, employer) in employers.iter().enumerate() {
        text.push_str(&format!(
            "Senior Engineer, {employer} ({}–{})\nBerlin, Germany\n",
            2024 - 2 * i as i32 - 2,
            2024 - 2 * i as i32
        ));
        for b in bullets {
            text.push_str(&format!("- {b}, in the {employer} platform group\n"));
        }
        text.push('\n');
    }
    text.push_str(
        "Skills\nLanguages: Python, Go, Rust, SQL, TypeScript\nTools: Excel, Docker, Kubernetes, PostgreSQL, Kafka\n\n\
         Education\nBSc Computer Science, TU Berlin, 2013\n\nLanguages\nEnglish (fluent), German (native)\n",
    );
    text
}

/// The resume tailored to the `n`th of a series of listings that differ in title and company,
/// so that no render repeats another (typst would answer a repeat from its memoization cache).
async fn tailored(n: usize) -> Content {
    let title = format!("Senior Rust Engineer, Payments {n}");
    let company = format!("Globex {n}");
    let target = Target {
        title: &title,
        company: &company,
        description: "We build payment APIs in Rust on PostgreSQL. You will own services and on-call.",
        matched: vec!["Rust".into(), "PostgreSQL".into()],
        missing: vec!["gRPC".into()],
    };
    let (t, _, _) =
        jobs::documents::tailor(None, None, entity::DocumentKind::Resume, &resume(), &target).await;
    t.content
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

/// The child: renders one format, prints `first_ms median_ms p90_ms extra_mb bytes pages`.
fn measure(contents: &[Content], format: Format) -> anyhow::Result<()> {
    let before = status_kb("VmRSS:");
    let start = Instant::now();
    let first = render(&contents[0], format, Paper::A4)?;
    let cold = start.elapsed().as_secs_f64() * 1000.0;
    let mut times: Vec<f64> = contents[1..]
        .iter()
        .map(|content| {
            let start = Instant::now();
            let _ = render(content, format, Paper::A4);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let peak = status_kb("VmHWM:");
    times.sort_by(f64::total_cmp);
    let pages = match format {
        Format::Pdf => jobs::resume::extract::extract(&first, &Default::default())
            .map_err(|e| anyhow::anyhow!("reading the PDF back: {e}"))?
            .pages
            .map_or("?".to_owned(), |p| p.to_string()),
        _ => "-".to_owned(),
    };
    println!(
        "{cold:.1} {:.1} {:.1} {:.1} {} {pages}",
        times[RUNS / 2],
        times[RUNS * 9 / 10],
        peak.saturating_sub(before) as f64 / 1024.0,
        first.len()
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut contents = Vec::with_capacity(RUNS + 1);
    for n in 0..=RUNS {
        contents.push(tailored(n).await);
    }
    let content = &contents[0];
    match args.get(1).map(String::as_str) {
        Some("--one") => {
            let format = Format::parse(args.get(2).map_or("", String::as_str))
                .ok_or_else(|| anyhow::anyhow!("--one pdf|docx"))?;
            return measure(&contents, format);
        }
        Some("--write") => {
            let dir = args.get(2).map_or("/tmp", String::as_str);
            for format in [Format::Pdf, Format::Docx, Format::Markdown] {
                let path = format!("{dir}/tailored-resume.{}", format.extension());
                std::fs::write(&path, render(content, format, Paper::A4)?)?;
                println!("wrote {path}");
            }
            return Ok(());
        }
        _ => {}
    }
    println!("| format | first render | warm median | warm p90 | extra peak RSS | size | pages |");
    println!("|---|---|---|---|---|---|---|");
    for (label, format) in [("PDF (typst)", "pdf"), ("DOCX (docx-rs)", "docx")] {
        let out = std::process::Command::new(&args[0])
            .args(["--one", format])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        anyhow::ensure!(f.len() == 6, "{format}: unexpected output {line:?}");
        println!(
            "| {label} | {} ms | {} ms | {} ms | {} MB | {} KB | {} |",
            f[0],
            f[1],
            f[2],
            f[3],
            f[4].parse::<usize>().unwrap_or(0).div_ceil(1024),
            f[5]
        );
    }
    Ok(())
}
