//! Alerts end to end: an SMTP sink receives the verification link and, once it is followed,
//! one digest of the new matches (with its RFC 8058 unsubscribe headers and a working link),
//! never a match twice, retried when the SMTP server fails; a local receiver gets the same
//! matches as signed JSON, retried, and the webhook disabled after repeated failures; webhooks
//! to private addresses are refused.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::mock_smtp::MockSmtp;
use tests::mock_webhook::{MockWebhook, verify};
use tests::{Backend, TestApp, on_each_backend, spawn_app_with};

use crate::assignment::{BACKEND, SAVE, settled};
use crate::matching::collect;

const BASE: &str = "https://jobs.example";
const UPDATE: &str = "mutation($p: PreferencesInput!) { updatePreferences(input: $p) { preferences {
  alertEmail alertFrequency alertMinScore alertWebhookUrl alertWebhookSecret alertWebhookDisabled alertLastError emailVerified } } }";
const PREFS: &str =
    "{ me { preferences { alertEmail alertWebhookDisabled alertLastError emailVerified } } }";

async fn update(app: &TestApp, token: &str, p: Value) -> Value {
    let body = app.graphql(UPDATE, json!({ "p": p }), Some(token)).await;
    body["data"]["updatePreferences"]["preferences"].clone()
}

async fn prefs(app: &TestApp, token: &str) -> Value {
    app.data(PREFS, json!({}), Some(token)).await["me"]["preferences"].clone()
}

/// A link from an email, pointed at the app under test.
fn local(app: &TestApp, link: &str) -> String {
    link.replacen(BASE, &app.address, 1)
}

async fn email_alerts_are_verified_sent_once_and_unsubscribed(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let smtp = MockSmtp::start().await;
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        vars.insert("SMTP_URL".into(), smtp.url());
        vars.insert(
            "ALERT_FROM".into(),
            "Job Collector <alerts@jobs.example>".into(),
        );
        vars.insert("PUBLIC_BASE_URL".into(), BASE.into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let kim = app.register("kim@example.com").await;
    let p = update(
        &app,
        &kim,
        json!({ "alertEmail": true, "alertFrequency": "EACH_RUN", "alertMinScore": 0 }),
    )
    .await;
    assert_eq!(p["emailVerified"], false, "{p}");
    app.data(SAVE, json!({ "t": BACKEND }), Some(&kim)).await;
    settled(&app, &kim).await;
    app.until_queues_idle(30).await;

    // Only the verification went out: matches wait for a verified address.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["kim@example.com"]);
    assert!(mails[0].subject().is_some_and(|s| s.contains("Confirm")));
    let link = mails[0]
        .links()
        .into_iter()
        .find(|l| l.contains("/alerts/verify?token="))
        .expect("a verification link");
    let forged = app
        .http
        .post(format!(
            "{}/alerts/verify?token={}0",
            app.address,
            local(&app, &link)
                .split("token=")
                .nth(1)
                .unwrap_or_default()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 400);
    let opened = app
        .http
        .get(local(&app, &link))
        .send()
        .await
        .expect("request");
    assert_eq!(opened.status(), 200);
    assert!(opened.text().await.expect("page").contains("method=post"));
    assert_eq!(
        prefs(&app, &kim).await["emailVerified"],
        false,
        "a GET confirms nothing"
    );
    let followed = app
        .http
        .post(local(&app, &link))
        .send()
        .await
        .expect("request");
    assert_eq!(followed.status(), 200);
    assert_eq!(prefs(&app, &kim).await["emailVerified"], true);

    // The digest: every new match once, after one refused attempt.
    smtp.refuse_next(1);
    update(&app, &kim, json!({ "alertMinScore": 1 })).await;
    app.until_queues_idle(60).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "one digest after the retry: {mails:?}");
    let failed = prefs(&app, &kim).await["alertLastError"].clone();
    assert!(
        failed.as_str().is_some_and(|e| e.contains("SMTP")),
        "the refused attempt is recorded: {failed}"
    );
    let digest = &mails[1];
    let subject = digest.subject().expect("subject");
    assert!(subject.contains("new match"), "{subject}");
    let body = digest.body();
    let titles = app
        .data(
            "{ matchedJobs(first: 100) { edges { node { job { title } } } } }",
            json!({}),
            Some(&kim),
        )
        .await["matchedJobs"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            e["node"]["job"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect::<Vec<_>>();
    assert_eq!(titles.len() as i64, n);
    for t in &titles {
        assert!(body.contains(t.as_str()), "{t} in the digest:\n{body}");
    }
    let header = digest.header("list-unsubscribe").expect("List-Unsubscribe");
    assert!(
        header.starts_with(&format!("<{BASE}/alerts/unsubscribe?token=")),
        "{header}"
    );
    assert_eq!(
        digest.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // Asked again, nothing is sent twice.
    update(&app, &kim, json!({ "alertMinScore": 0 })).await;
    app.until_queues_idle(30).await;
    assert_eq!(smtp.count(), 2, "a match is alerted once");

    // The unsubscribe link: a GET only shows the button, the one-click POST stops the emails.
    let unsubscribe = local(&app, header.trim_start_matches('<').trim_end_matches('>'));
    let page = app.http.get(&unsubscribe).send().await.expect("request");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains("method=post"));
    assert_eq!(
        prefs(&app, &kim).await["alertEmail"],
        true,
        "a GET changes nothing"
    );
    let posted = app
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("request");
    assert_eq!(posted.status(), 200);
    assert_eq!(prefs(&app, &kim).await["alertEmail"], false);
    let bad = app
        .http
        .post(format!(
            "{}/alerts/unsubscribe?token=unsub.1.00",
            app.address
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 400);
    app.stop().await.expect("stops");
}

async fn unalert_all(app: &TestApp) {
    app.db
        .execute_unprepared("UPDATE user_job_matches SET alerted_at = NULL")
        .await
        .expect("matches made new again");
}

async fn webhooks_are_signed_retried_and_disabled(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let hook = MockWebhook::start().await;
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        vars.insert("ALERT_WEBHOOK_ALLOW_PRIVATE".into(), "true".into());
        vars.insert("WEBHOOK_RETRY_BACKOFF_MS".into(), "10".into());
        vars.insert("WEBHOOK_DISABLE_AFTER".into(), "2".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let sam = app.register("sam@example.com").await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&sam)).await;
    settled(&app, &sam).await;
    app.until_queues_idle(30).await;

    hook.script(vec![503]);
    let p = update(
        &app,
        &sam,
        json!({ "alertWebhookUrl": hook.url(), "alertFrequency": "EACH_RUN", "alertMinScore": 0 }),
    )
    .await;
    let secret = p["alertWebhookSecret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert_eq!(secret.len(), 64);
    app.until_queues_idle(30).await;
    let deliveries = hook.deliveries();
    assert_eq!(deliveries.len(), 2, "a 503, then the retry");
    let d = &deliveries[1];
    assert!(verify(&secret, d), "signed with the secret");
    assert!(!verify("another secret", d));
    let body = d.json();
    assert_eq!(body["type"], "matches");
    assert_eq!(body["matches"].as_array().map(Vec::len), Some(n as usize));
    assert!(body["matches"][0]["title"].is_string() && body["matches"][0]["score"].is_number());
    let again = update(&app, &sam, json!({ "alertMinScore": 1 })).await;
    assert_eq!(again["alertWebhookSecret"], Value::Null, "shown only once");
    app.until_queues_idle(30).await;
    assert_eq!(hook.count(), 2, "nothing new: nothing sent");

    // A rotated secret signs from now on.
    let rotated = app
        .data("mutation { rotateWebhookSecret }", json!({}), Some(&sam))
        .await["rotateWebhookSecret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(rotated, secret);

    // Failing deliveries: each after three attempts counts once; the second disables it.
    hook.always(500);
    for round in 1..=2 {
        unalert_all(&app).await;
        update(&app, &sam, json!({ "alertMinScore": round + 1 })).await;
        app.until_queues_idle(30).await;
        assert_eq!(hook.count(), 2 + 3 * round as usize, "round {round}");
    }
    let state = prefs(&app, &sam).await;
    assert!(
        state["alertWebhookDisabled"]
            .as_str()
            .is_some_and(|r| r.contains("disabled after 2 failed deliveries")),
        "{state}"
    );
    assert!(
        state["alertLastError"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 500"))
    );
    let last = hook.deliveries().pop().expect("a delivery");
    assert!(verify(&rotated, &last), "signed with the rotated secret");
    unalert_all(&app).await;
    update(&app, &sam, json!({ "alertMinScore": 9 })).await;
    app.until_queues_idle(30).await;
    assert_eq!(hook.count(), 8, "a disabled webhook gets nothing");

    // A new URL enables it again.
    hook.always(200);
    update(
        &app,
        &sam,
        json!({ "alertWebhookUrl": format!("{}?v=2", hook.url()) }),
    )
    .await;
    app.until_queues_idle(30).await;
    assert_eq!(hook.count(), 9);
    assert_eq!(prefs(&app, &sam).await["alertWebhookDisabled"], Value::Null);
    app.stop().await.expect("stops");
}

async fn webhooks_to_private_addresses_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let eve = app.register("eve@example.com").await;
    for (url, says) in [
        ("http://127.0.0.1:9/hook", "not a public address"),
        ("http://localhost:9/hook", "not a public address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
        ("http://[::1]/hook", "not a public address"),
        ("ftp://example.com/hook", "http or https"),
    ] {
        let body = app
            .graphql(
                UPDATE,
                json!({ "p": { "alertWebhookUrl": url } }),
                Some(&eve),
            )
            .await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "alertWebhookUrl");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{url}: {body}"
        );
    }
    let saved = app
        .data(
            "{ me { preferences { alertWebhookUrl } } }",
            json!({}),
            Some(&eve),
        )
        .await;
    assert_eq!(saved["me"]["preferences"]["alertWebhookUrl"], Value::Null);
    app.stop().await.expect("stops");
}

on_each_backend!(
    email_alerts_are_verified_sent_once_and_unsubscribed,
    webhooks_are_signed_retried_and_disabled,
    webhooks_to_private_addresses_are_refused,
);
