//! Configuration from variables: defaults, refusals, and what stays out of logs.

use super::*;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_fresh_machine_needs_no_variables() {
    let c = Config::from_map(&HashMap::new()).expect("defaults");
    assert_eq!(c.app_env, AppEnv::Development);
    assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
    assert!(c.is_sqlite());
    assert_eq!(c.bind_addr.port(), 8080);
    assert!(c.auth.jwt_secret.is_none());
    assert!(c.assign.create_categories);
    let off = Config::from_map(&map(&[("ASSIGN_CREATE_CATEGORIES", "false")])).expect("valid");
    assert!(!off.assign.create_categories);
    assert_eq!(c.maintenance_interval, Duration::from_secs(3_600));
    assert_eq!(c.maintenance.retention_days, 180);
    assert_eq!(c.maintenance.queue_retention_days, 7);
}

#[test]
fn production_refuses_a_missing_or_weak_secret() {
    let err = Config::from_map(&map(&[("APP_ENV", "production")])).expect_err("no secret");
    assert!(err.to_string().contains("JWT_SECRET"), "{err}");
    let err = Config::from_map(&map(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]))
        .expect_err("weak");
    assert!(err.to_string().contains("too weak"), "{err}");
    let secret = "x".repeat(MIN_JWT_SECRET_LEN);
    assert!(Config::from_map(&map(&[("APP_ENV", "production"), ("JWT_SECRET", &secret)])).is_ok());
}

#[test]
fn bad_values_name_their_variable() {
    for (k, v) in [
        ("BIND_ADDR", "nope"),
        ("LOG_FORMAT", "xml"),
        ("GRAPHQL_INTROSPECTION", "sometimes"),
        ("AUTO_MIGRATE", "maybe"),
        ("ASSIGN_CREATE_CATEGORIES", "perhaps"),
        ("ASSIGN_MAX_NEW_CATEGORIES_PER_DAY", "lots"),
        ("MAINTENANCE_INTERVAL_SECONDS", "hourly"),
        ("RETENTION_DAYS", "-1"),
        ("QUEUE_RETENTION_DAYS", "a week"),
    ] {
        let err = Config::from_map(&map(&[(k, v)])).expect_err(k);
        assert!(err.to_string().contains(k), "{err}");
    }
}

#[test]
fn admin_emails_make_no_admin_and_say_so() {
    let c = Config::from_map(&map(&[("ADMIN_EMAILS", "boss@example.com")])).expect("valid");
    assert!(c.warnings[0].contains("admin grant"), "{:?}", c.warnings);
    assert!(
        Config::from_map(&HashMap::new())
            .expect("ok")
            .warnings
            .is_empty()
    );
}

#[test]
fn introspection_is_on_in_development_and_off_in_production() {
    assert!(
        Config::from_map(&HashMap::new())
            .expect("dev")
            .graphql
            .introspection
    );
    let secret = "x".repeat(MIN_JWT_SECRET_LEN);
    let prod = map(&[("APP_ENV", "production"), ("JWT_SECRET", &secret)]);
    assert!(!Config::from_map(&prod).expect("prod").graphql.introspection);
    let mut on = prod.clone();
    on.insert("GRAPHQL_INTROSPECTION".into(), "true".into());
    assert!(Config::from_map(&on).expect("prod").graphql.introspection);
}

#[test]
fn sqlite_urls_create_their_file_and_secrets_stay_out_of_logs() {
    assert_eq!(
        sqlite_create_if_missing("sqlite://x.db"),
        "sqlite://x.db?mode=rwc"
    );
    assert_eq!(
        sqlite_create_if_missing("sqlite://x.db?mode=ro"),
        "sqlite://x.db?mode=ro"
    );
    assert_eq!(
        redact_url("postgres://app:s3cret@db:5432/jobs"),
        "postgres://app:***@db:5432/jobs"
    );
    let c = Config::from_map(&map(&[("JWT_SECRET", "topsecretvalue")])).expect("valid");
    assert!(!format!("{c:?}").contains("topsecretvalue"));
}

#[test]
fn cors_origins_are_exact_and_any_is_refused_in_production() {
    let c = |v: &str| Config::from_map(&map(&[("CORS_ALLOWED_ORIGINS", v)])).map(|c| c.cors);
    assert_eq!(c("").expect("valid"), CorsOrigins::SameOrigin);
    assert_eq!(
        c(" https://App.example.com/ , http://localhost:5173").expect("valid"),
        CorsOrigins::List(vec![
            "https://app.example.com".into(),
            "http://localhost:5173".into()
        ])
    );
    assert_eq!(c("*").expect("development"), CorsOrigins::Any);
    for bad in [
        "app.example.com",
        "https://app.example.com/path",
        "https://*.example.com",
        "ftp://x",
    ] {
        let err = c(bad).expect_err(bad);
        assert!(err.to_string().contains("CORS_ALLOWED_ORIGINS"), "{err}");
    }
    let secret = "x".repeat(MIN_JWT_SECRET_LEN);
    let err = Config::from_map(&map(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", &secret),
        ("CORS_ALLOWED_ORIGINS", "*"),
    ]))
    .expect_err("refused");
    assert!(
        err.to_string().contains("refused when APP_ENV=production"),
        "{err}"
    );
}

#[test]
fn trusted_proxies_are_addresses_or_blocks() {
    let c = Config::from_map(&map(&[(
        "TRUSTED_PROXIES",
        "10.0.0.0/8, 192.168.1.7, fd00::/8",
    )]))
    .expect("valid");
    let t = &c.rate_limits.trusted_proxies;
    let has = |ip: &str| t.iter().any(|c| c.contains(ip.parse().expect("ip")));
    assert!(has("10.200.3.4") && has("192.168.1.7") && has("fd12::1") && has("::ffff:10.1.1.1"));
    assert!(!has("192.168.1.8") && !has("11.0.0.1") && !has("fe80::1"));
    for bad in ["10.0.0.0/33", "proxy.local"] {
        let err = Config::from_map(&map(&[("TRUSTED_PROXIES", bad)])).expect_err(bad);
        assert!(err.to_string().contains("TRUSTED_PROXIES"), "{err}");
    }
    assert_eq!(
        Config::from_map(&HashMap::new())
            .expect("defaults")
            .rate_limits
            .per_ip_per_minute,
        600
    );
}

#[test]
fn documents_take_their_paper_rate_and_link_lifetime() {
    let c = Config::from_map(&HashMap::new()).expect("defaults");
    assert_eq!(c.documents.paper, Paper::A4);
    assert_eq!(c.documents.max_per_hour, 20);
    assert_eq!(c.document_link_ttl, Duration::from_secs(300));
    let c = Config::from_map(&map(&[
        ("DOCUMENT_PAPER", "Letter"),
        ("TAILOR_MAX_PER_HOUR", "0"),
        ("DOCUMENT_LINK_TTL_SECONDS", "999999"),
    ]))
    .expect("valid");
    assert_eq!(c.documents.paper, Paper::Letter);
    assert_eq!(c.documents.max_per_hour, 0, "0 is no limit");
    assert_eq!(
        c.document_link_ttl,
        Duration::from_secs(3600),
        "an hour at most"
    );
    let err = Config::from_map(&map(&[("DOCUMENT_PAPER", "a5")])).expect_err("a5");
    assert!(err.0.contains("DOCUMENT_PAPER"), "{}", err.0);
}
