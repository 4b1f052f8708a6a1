//! register, login, me, tokens and roles.

use chrono::Utc;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;
use tests::app::{ADMIN_EMAIL, PASSWORD, TEST_JWT_SECRET, error_code};
use tests::{Backend, on_each_backend, spawn_app, spawn_app_with};

const REGISTER: &str = "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token user { id email role categoryAssignment { status method category { slug } } } } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { email } } }";
const ME: &str = "{ me { id email role resumeUpdatedAt categoryAssignment { status } } }";

async fn a_new_account_can_register_log_in_and_see_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = app
        .data(
            REGISTER,
            json!({ "e": "  Ada@Example.COM ", "p": PASSWORD }),
            None,
        )
        .await;
    let user = &data["register"]["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "USER");
    assert_eq!(
        user["categoryAssignment"],
        json!({ "status": "NONE", "method": null, "category": null })
    );

    let login = app
        .data(
            LOGIN,
            json!({ "e": "ADA@example.com", "p": PASSWORD }),
            None,
        )
        .await;
    let token = login["login"]["token"].as_str().expect("token");
    let me = app.data(ME, json!({}), Some(token)).await;
    assert_eq!(me["me"]["email"], "ada@example.com");
    assert_eq!(me["me"]["id"], user["id"]);
    assert_eq!(me["me"]["resumeUpdatedAt"], json!(null));
}

async fn me_is_null_without_a_token(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.data(ME, json!({}), None).await, json!({ "me": null }));
}

async fn a_wrong_password_and_an_unknown_email_fail_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("bob@example.com").await;
    let wrong_password = app
        .graphql(
            LOGIN,
            json!({ "e": "bob@example.com", "p": "not the password" }),
            None,
        )
        .await;
    let unknown_email = app
        .graphql(
            LOGIN,
            json!({ "e": "nobody@example.com", "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&wrong_password), Some("UNAUTHENTICATED"));
    assert_eq!(error_code(&unknown_email), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
    assert_eq!(wrong_password["data"], json!(null));
}

async fn an_email_can_register_only_once_whatever_its_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("carol@example.com").await;
    let again = app
        .graphql(
            REGISTER,
            json!({ "e": "Carol@Example.com", "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    let count = app.rows::<entity::user::Entity>().await;
    assert_eq!(count, 1);
}

async fn bad_emails_and_passwords_are_rejected_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    for (email, password, field) in [
        ("not-an-email", PASSWORD, "email"),
        ("", PASSWORD, "email"),
        ("dave@example.com", "short", "password"),
        ("dave@example.com", &"x".repeat(300), "password"),
    ] {
        let body = app
            .graphql(REGISTER, json!({ "e": email, "p": password }), None)
            .await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(app.rows::<entity::user::Entity>().await, 0);
}

async fn forged_expired_and_orphaned_tokens_are_unauthenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("erin@example.com").await;
    let id: i64 = app.data(ME, json!({}), Some(&token)).await["me"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric id");
    let now = Utc::now().timestamp();
    let sign = |secret: &str, sub: i64, exp: i64| {
        let claims =
            json!({ "sub": sub.to_string(), "iat": now - 10, "exp": exp, "iss": "jobcollector" });
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    };
    let cases = [
        (
            "forged",
            sign("another-secret-that-is-long-enough-000000", id, now + 3600),
        ),
        ("expired", sign(TEST_JWT_SECRET, id, now - 3600)),
        ("orphaned", sign(TEST_JWT_SECRET, id + 1000, now + 3600)),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (what, bad) in cases {
        let body = app.graphql(ME, json!({}), Some(&bad)).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
        let body = app
            .graphql("{ searchCategories { slug } }", json!({}), Some(&bad))
            .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
    }
    // The genuine token, signed the same way, still works.
    let fresh = sign(TEST_JWT_SECRET, id, now + 3600);
    assert_eq!(
        app.data(ME, json!({}), Some(&fresh)).await["me"]["email"],
        "erin@example.com"
    );
}

async fn tokens_expire_after_the_configured_time(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("JWT_TTL_MINUTES".into(), "7".into());
    })
    .await;
    let token = app.register("fay@example.com").await;
    let claims = token.split('.').nth(1).expect("payload");
    let payload = decode_segment(claims);
    let lifetime = payload["exp"].as_i64().expect("exp") - payload["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 7 * 60, "{payload}");
}

async fn registering_with_an_address_in_admin_emails_makes_no_admin_even_after_a_restart(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("ADMIN_EMAILS".into(), ADMIN_EMAIL.into());
    })
    .await;
    let data = app
        .data(
            REGISTER,
            json!({ "e": ADMIN_EMAIL.to_uppercase(), "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(data["register"]["user"]["role"], "USER");
    let token = data["register"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // A second start on the same database (start-up once promoted ADMIN_EMAILS accounts).
    let restarted = api::server::Application::build(app.config.clone())
        .await
        .expect("a second start");
    drop(restarted);
    let me = app.data(ME, json!({}), Some(&token)).await;
    assert_eq!(me["me"]["role"], "USER");
    // Only the operator's command makes an admin.
    api::auth::accounts::grant_admin(&app.db, ADMIN_EMAIL)
        .await
        .expect("grant");
    let me = app.data(ME, json!({}), Some(&token)).await;
    assert_eq!(me["me"]["role"], "ADMIN");
}

async fn repeated_login_failures_for_an_email_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.register("gus@example.com").await;
    app.register("hal@example.com").await;
    for _ in 0..3 {
        let body = app
            .graphql(
                LOGIN,
                json!({ "e": "gus@example.com", "p": "wrong password!" }),
                None,
            )
            .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
    // Now even the right password is refused for this email, with a hint when to retry.
    let body = app
        .graphql(
            LOGIN,
            json!({ "e": "GUS@example.com", "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    let retry_after = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Other accounts are unaffected.
    let other = app
        .data(
            LOGIN,
            json!({ "e": "hal@example.com", "p": PASSWORD }),
            None,
        )
        .await;
    assert!(other["login"]["token"].is_string());
}

on_each_backend!(
    repeated_login_failures_for_an_email_are_rate_limited,
    a_new_account_can_register_log_in_and_see_itself,
    me_is_null_without_a_token,
    a_wrong_password_and_an_unknown_email_fail_alike,
    an_email_can_register_only_once_whatever_its_case,
    bad_emails_and_passwords_are_rejected_and_nothing_is_stored,
    forged_expired_and_orphaned_tokens_are_unauthenticated,
    tokens_expire_after_the_configured_time,
    registering_with_an_address_in_admin_emails_makes_no_admin_even_after_a_restart,
);

fn decode_segment(segment: &str) -> serde_json::Value {
    // base64url without padding
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in segment.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64url") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    serde_json::from_slice(&out).expect("JSON payload")
}
