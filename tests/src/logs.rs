//! The app's logs in test output, when asked: `TEST_LOG=1 cargo test …` shows everything at
//! INFO (`sqlx` at WARN), `TEST_LOG=jobs=debug,info` takes a filter. Off by default, so the
//! output stays readable. And [`serve_logging_json`]: the real binary serving with JSON logs
//! to a file, for tests that read what it logged.

/// Installs a subscriber writing through the test harness's capture, once per test binary.
pub fn init_if_asked() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let Ok(asked) = std::env::var("TEST_LOG") else {
        return;
    };
    ONCE.call_once(|| {
        let filter = match asked.as_str() {
            "" | "1" | "true" => "info,sqlx=warn,sea_orm=warn".to_owned(),
            other => other.to_owned(),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}

/// Starts `exe serve` (the binary under test) on a SQLite file in `dir`, on a free port, with
/// only `vars` beside its own settings and JSON logs at INFO written to `dir/serve.log`; returns
/// the process and the log's path.
pub fn serve_logging_json(
    exe: &str,
    dir: &std::path::Path,
    vars: &[(&str, &str)],
) -> (std::process::Child, std::path::PathBuf) {
    let log = dir.join("serve.log");
    let child = std::process::Command::new(exe)
        .arg("serve")
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("jc.db").display()),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::File::create(&log)
                .map(std::process::Stdio::from)
                .expect("a log file"),
        )
        .spawn()
        .expect("serve starts");
    (child, log)
}

/// The JSON lines of `log` so far (lines that are not JSON skipped).
pub fn json_lines(log: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
