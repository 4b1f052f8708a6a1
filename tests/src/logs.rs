//! The app's logs in test output, when asked: `TEST_LOG=1 cargo test …` shows everything at
//! INFO (`sqlx` at WARN), `TEST_LOG=jobs=debug,info` takes a filter. Off by default, so the
//! output stays readable.

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
