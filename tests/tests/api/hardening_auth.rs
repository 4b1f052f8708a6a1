//! Sign-in under attack: emails that are not emails cost nothing and are not remembered, one
//! request cannot try many passwords, one address cannot spray many accounts, and nobody can
//! lock an owner out from elsewhere.

use serde_json::json;
use tests::app::{PASSWORD, error_code};
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";

async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> serde_json::Value {
    app.graphql_from(client, LOGIN, json!({ "e": email, "p": password }), None)
        .await
}

async fn megabyte_emails_are_refused_before_anything_is_remembered(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("owner@example.com").await;
    for i in 0..20 {
        let email = format!("{}{i}@example.com", "x".repeat(900 * 1024));
        let body = login_from(&app, &app.http, &email, "wrong password!").await;
        assert_eq!(
            error_code(&body),
            Some("VALIDATION"),
            "{}",
            &body.to_string()[..200]
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");
        assert!(
            body.to_string().len() < 2_000,
            "the email is not echoed back"
        );
    }
    assert!(
        app.state.login_throttle.is_empty(),
        "nothing was remembered"
    );
    // Real failures are remembered, each as a fixed-size entry.
    login_from(&app, &app.http, "owner@example.com", "wrong password!").await;
    assert_eq!(
        app.state.login_throttle.len(),
        3,
        "(email, address), address, email"
    );
}

async fn one_operation_signs_in_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("sprayed@example.com").await;
    let aliases: String = (0..10)
        .map(|i| format!("a{i}: login(email: \"sprayed@example.com\", password: \"guess number {i}\") {{ token }} "))
        .collect();
    let body = app
        .graphql(&format!("mutation {{ {aliases} }}"), json!({}), None)
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body["data"].is_null(), "nothing ran: {body}");
    let both = "mutation { register(email: \"new@example.com\", password: \"long enough password\") { token } login(email: \"sprayed@example.com\", password: \"x\") { token } }";
    let body = app.graphql(both, json!({}), None).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(
        app.rows::<entity::user::Entity>().await,
        1,
        "no account was made"
    );
}

async fn one_address_trying_many_accounts_is_stopped_and_others_are_not(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("LOGIN_IP_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.register("victim@example.com").await;
    let sprayer = TestApp::client_from("127.0.0.3");
    for i in 0..3 {
        let body = login_from(
            &app,
            &sprayer,
            &format!("user{i}@example.com"),
            "Winter2026!",
        )
        .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let body = login_from(&app, &sprayer, "victim@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    let owner = TestApp::client_from("127.0.0.4");
    let body = login_from(&app, &owner, "victim@example.com", PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

async fn a_guesser_elsewhere_cannot_lock_the_owner_out(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.register("owner@example.com").await;
    let guesser = TestApp::client_from("127.0.0.5");
    for _ in 0..3 {
        login_from(&app, &guesser, "owner@example.com", "wrong password!").await;
    }
    let body = login_from(&app, &guesser, "owner@example.com", PASSWORD).await;
    assert_eq!(
        error_code(&body),
        Some("RATE_LIMITED"),
        "the guesser is stopped: {body}"
    );
    let owner = TestApp::client_from("127.0.0.6");
    let body = login_from(&app, &owner, "owner@example.com", PASSWORD).await;
    assert!(
        body["data"]["login"]["token"].is_string(),
        "the owner from their own address gets in: {body}"
    );
}

async fn concurrent_guesses_cannot_overrun_the_limit(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.register("raced@example.com").await;
    let guesses = (0..12).map(|i| {
        login_from(
            &app,
            &app.http,
            "raced@example.com",
            if i == 0 { "wrong one!!" } else { "wrong two!!" },
        )
    });
    let bodies = futures::future::join_all(guesses).await;
    let tried = bodies
        .iter()
        .filter(|b| error_code(b) == Some("UNAUTHENTICATED"))
        .count();
    let limited = bodies
        .iter()
        .filter(|b| error_code(b) == Some("RATE_LIMITED"))
        .count();
    assert_eq!((tried, limited), (3, 9), "attempts count when they start");
}

async fn many_addresses_guessing_one_account_meet_a_short_cap(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("LOGIN_EMAIL_MAX_FAILURES_PER_MINUTE".into(), "4".into());
    })
    .await;
    app.register("target@example.com").await;
    for i in 10..14 {
        let client = TestApp::client_from(&format!("127.0.1.{i}"));
        login_from(&app, &client, "target@example.com", "wrong password!").await;
    }
    let fresh = TestApp::client_from("127.0.1.99");
    let body = login_from(&app, &fresh, "target@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    let wait = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!((1..=60).contains(&wait), "a short cap: {wait} s");
}

on_each_backend!(
    megabyte_emails_are_refused_before_anything_is_remembered,
    one_operation_signs_in_once,
    one_address_trying_many_accounts_is_stopped_and_others_are_not,
    a_guesser_elsewhere_cannot_lock_the_owner_out,
    many_addresses_guessing_one_account_meet_a_short_cap,
    concurrent_guesses_cannot_overrun_the_limit,
);
