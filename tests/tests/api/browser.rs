//! The web app in a real browser: `web/e2e/app.test.mjs` (Playwright's `playwright-core`
//! driving Debian's Chromium) against the real server on a random port, with the mock boards
//! and the mock Bedrock behind it. The script signs an admin in, adds a category, starts a run
//! and watches it end live; signs a new user up, uploads a resume PDF, waits for the
//! assignment, saves, filters and pages matches, tailors a resume and downloads its PDF; shows a
//! VALIDATION error on its field; and checks the phone width. Screenshots of the main screens
//! go to `target/browser-screenshots/` (not committed).
//!
//! Needs `node`, `web/node_modules` (`npm ci` in `web/`) and Chromium (`CHROMIUM_PATH`, default
//! `/usr/bin/chromium`). Without them the test is skipped with a note, unless
//! `TEST_BROWSER=required` (CI sets it), when it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tests::app::{ADMIN_EMAIL, PASSWORD};
use tests::boards::{serve_all, vars_for};
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::mock_boards::MockBoards;
use tests::{Backend, spawn_app_with};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// What the browser test needs, or why it cannot run.
fn prerequisites(root: &Path) -> Result<PathBuf, String> {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!(
            "no Chromium at {chromium} (apt-get install -y chromium)"
        ));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("no `node` on PATH".into());
    }
    if !root.join("web/node_modules/playwright-core").exists() {
        return Err("no web/node_modules (run `npm ci` in web/)".into());
    }
    Ok(PathBuf::from(chromium))
}

/// A score per listing that orders them (so the app's sort is visible), from the title.
fn score_for(title: &str) -> u64 {
    let sum: u64 = title.bytes().map(u64::from).sum();
    45 + sum % 50
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_works_in_a_real_browser() {
    let root = workspace();
    let chromium = match prerequisites(&root) {
        Ok(path) => path,
        Err(why) if std::env::var("TEST_BROWSER").as_deref() == Ok("required") => {
            panic!("TEST_BROWSER=required but {why}")
        }
        Err(why) => {
            eprintln!("browser test skipped: {why}");
            return;
        }
    };
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| match call.forced_tool() {
        Some("choose_category") => BedrockReply::tool_use(
            "choose_category",
            json!({"slug": "software_engineer", "reason": "A backend engineer's resume."}),
            None,
        ),
        Some("record_matches") => BedrockReply::scores(call, |l| {
            json!({
                "score": score_for(&l.title),
                "reason": format!("{} fits the resume's backend work", l.title),
                "matched_skills": ["Rust", "PostgreSQL"],
                "missing_skills": ["Kubernetes"]
            })
        }),
        // Tailoring falls back to the deterministic edits, with a warning saying so.
        _ => BedrockReply::error(503, "ServiceUnavailableException", "not in this test"),
    });
    let app = spawn_app_with(Backend::Sqlite, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
    })
    .await;
    app.admin_token().await;

    let screenshots = root.join("target/browser-screenshots");
    let mut script = tokio::process::Command::new("node");
    script
        .arg("web/e2e/app.test.mjs")
        .current_dir(&root)
        .env("BASE_URL", &app.address)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", PASSWORD)
        .env(
            "RESUME_FILE",
            root.join("jobs/fixtures/resumes/libreoffice.pdf"),
        )
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM_PATH", &chromium)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), script.output())
        .await
        .expect("the browser test finishes within 4 minutes")
        .expect("node runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the browser test failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    for shot in ["matches.png", "admin-run.png", "phone-matches.png"] {
        assert!(
            screenshots.join(shot).exists(),
            "screenshot {shot} written:\n{stdout}"
        );
    }
    app.stop().await.expect("stops");
}
