//! What a user may do to their own account: change the password (every older token stops
//! working), sign out everywhere, take everything stored about them away (`GET /me/export`),
//! and delete the account with everything of it — checked row by row afterwards.

use entity::{llm_call, resume_file, tailored_document, user, user_alert, user_job_match};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::app::{PASSWORD, error_code};
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

use crate::assignment::settled;
use crate::matching::collect;

const ME: &str = "{ me { id email } }";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { email } } }";
const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
const DELETE: &str = "mutation($p: String!) { deleteAccount(password: $p) }";
const UPLOAD: &str = "mutation($file: Upload!) { uploadResume(file: $file) { id } }";

async fn signed_in(app: &TestApp, token: &str) -> bool {
    let body = app.graphql(ME, json!({}), Some(token)).await;
    match error_code(&body) {
        None => body["data"]["me"]["email"].is_string(),
        Some("UNAUTHENTICATED") => false,
        Some(other) => panic!("unexpected {other}: {body}"),
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.graphql(LOGIN, json!({ "e": email, "p": password }), None)
        .await
}

/// `{ me { email } }` over the socket as operation `id`: the payload of its answer.
async fn ws_me(socket: &mut tests::ws::Socket, id: &str) -> Value {
    use futures::{SinkExt, StreamExt};
    let subscribe =
        json!({ "id": id, "type": "subscribe", "payload": { "query": "{ me { email } }" } });
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            subscribe.to_string(),
        ))
        .await
        .expect("sent");
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an answer in time")
            .expect("open")
            .expect("a message");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let v: Value = serde_json::from_str(&text).expect("JSON");
            if v["id"] == id && v["type"] == "next" {
                return v["payload"].clone();
            }
            if v["id"] == id && v["type"] == "error" {
                return json!({ "errors": v["payload"] });
            }
        }
    }
}

async fn a_new_password_revokes_every_older_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.register("ann@example.com").await;
    let second = login(&app, "ann@example.com", PASSWORD).await["data"]["login"]["token"]
        .as_str()
        .expect("a second session")
        .to_owned();
    assert!(signed_in(&app, &first).await && signed_in(&app, &second).await);

    let body = app
        .graphql(
            CHANGE,
            json!({ "c": "not my password", "n": "a brand new passphrase" }),
            Some(&first),
        )
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let body = app
        .graphql(CHANGE, json!({ "c": PASSWORD, "n": "short" }), Some(&first))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(
        signed_in(&app, &first).await,
        "a refused change revokes nothing"
    );

    let changed = app
        .data(
            CHANGE,
            json!({ "c": PASSWORD, "n": "a brand new passphrase" }),
            Some(&first),
        )
        .await;
    let fresh = changed["changePassword"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(signed_in(&app, &fresh).await);
    assert!(
        !signed_in(&app, &first).await,
        "the caller's old token is revoked"
    );
    assert!(
        !signed_in(&app, &second).await,
        "every other session is revoked"
    );
    assert_eq!(app.get_as("/me/export", Some(&second)).await.status(), 401);
    assert_eq!(
        app.get_as("/files/resume", Some(&first)).await.status(),
        401
    );
    assert_eq!(
        error_code(&login(&app, "ann@example.com", PASSWORD).await),
        Some("UNAUTHENTICATED")
    );
    assert!(
        login(&app, "ann@example.com", "a brand new passphrase").await["data"]["login"]["token"]
            .is_string()
    );

    // A WebSocket opened with the token is checked on every operation, not once.
    let mut socket = tests::ws::connect(&app, Some(&fresh))
        .await
        .expect("socket");
    assert_eq!(
        ws_me(&mut socket, "1").await["data"]["me"]["email"],
        "ann@example.com"
    );

    // Signing out everywhere revokes the caller's token too.
    let body = app
        .data("mutation { signOutEverywhere }", json!({}), Some(&fresh))
        .await;
    assert_eq!(body["signOutEverywhere"], true);
    assert!(!signed_in(&app, &fresh).await);
    let after = ws_me(&mut socket, "2").await;
    assert_eq!(
        after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "the open socket stops working at once: {after}"
    );

    // One password check per operation: aliases cannot multiply the work.
    let again =
        login(&app, "ann@example.com", "a brand new passphrase").await["data"]["login"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
    let body = app
        .graphql(
            "mutation { a: changePassword(currentPassword: \"x\", newPassword: \"yyyyyyyyyyyy\") { token }
                        b: changePassword(currentPassword: \"x\", newPassword: \"yyyyyyyyyyyy\") { token } }",
            json!({}),
            Some(&again),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    app.stop().await.expect("stops");
}

async fn an_account_exports_everything_and_deletes_without_a_trace(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        vars.insert("ALERT_WEBHOOK_ALLOW_PRIVATE".into(), "true".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let kim = app.register("kim@example.com").await;
    let pdf = std::fs::read(format!(
        "{}/../jobs/fixtures/resumes/libreoffice.pdf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let (status, body) = app
        .upload(UPLOAD, "resume.pdf", "application/pdf", &pdf, Some(&kim))
        .await;
    assert_eq!(status, 200, "{body}");
    settled(&app, &kim).await;
    app.until_queues_idle(30).await;
    app.data(
        "mutation { updatePreferences(input: { excludeTitleWords: [\"sales\"], alertWebhookUrl: \"http://127.0.0.1:9/hook\" }) { id } }",
        json!({}),
        Some(&kim),
    )
    .await;
    let listing = app
        .data(
            "{ matchedJobs(first: 1) { edges { node { job { id } } } } }",
            json!({}),
            Some(&kim),
        )
        .await["matchedJobs"]["edges"][0]["node"]["job"]["id"]
        .as_str()
        .expect("a match")
        .to_owned();
    app.data(
        "mutation($id: ID!) { tailorDocument(jobListingId: $id) { id } }",
        json!({ "id": listing }),
        Some(&kim),
    )
    .await;
    app.until_queues_idle(30).await;
    let id: i64 = app.data(ME, json!({}), Some(&kim)).await["me"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric");

    // The export: everything of the account, nothing of its secrets.
    let response = app.get_as("/me/export", Some(&kim)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment"))
    );
    let text = response.text().await.expect("body");
    assert!(!text.contains("argon2"), "no password hash");
    let export: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(export["account"]["email"], "kim@example.com");
    assert_eq!(export["preferences"]["excludeTitleWords"], json!(["sales"]));
    assert_eq!(export["alerts"]["webhookSecretSet"], true, "{export}");
    assert!(
        export["resume"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Kubernetes"))
    );
    assert_eq!(export["resume"]["file"]["fileName"], "resume.pdf");
    assert_eq!(export["matches"].as_array().map(Vec::len), Some(n as usize));
    assert!(export["matches"][0]["title"].is_string());
    assert_eq!(
        export["tailoredDocuments"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(export["tailoredDocuments"][0]["markdown"].is_string());
    assert_eq!(app.get_as("/me/export", None).await.status(), 401);

    // A wrong password deletes nothing.
    let body = app
        .graphql(DELETE, json!({ "p": "wrong" }), Some(&kim))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert!(signed_in(&app, &kim).await);

    // Some LLM history to outlive the account, without its name on it.
    llm_call::Entity::insert(llm_call::ActiveModel {
        created_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
        day: sea_orm::ActiveValue::Set("2026-12-03".into()),
        purpose: sea_orm::ActiveValue::Set("score".into()),
        provider: sea_orm::ActiveValue::Set("bedrock".into()),
        model_id: sea_orm::ActiveValue::Set("m".into()),
        user_id: sea_orm::ActiveValue::Set(Some(id)),
        items: sea_orm::ActiveValue::Set(1),
        input_tokens: sea_orm::ActiveValue::Set(1),
        output_tokens: sea_orm::ActiveValue::Set(1),
        cache_read_tokens: sea_orm::ActiveValue::Set(0),
        cache_write_tokens: sea_orm::ActiveValue::Set(0),
        latency_ms: sea_orm::ActiveValue::Set(1),
        outcome: sea_orm::ActiveValue::Set("ok".into()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .expect("a ledger row");

    let body = app.data(DELETE, json!({ "p": PASSWORD }), Some(&kim)).await;
    assert_eq!(body["deleteAccount"], true);
    assert!(!signed_in(&app, &kim).await);
    assert_eq!(
        error_code(&login(&app, "kim@example.com", PASSWORD).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        user::Entity::find_by_id(id)
            .count(&app.db)
            .await
            .expect("count"),
        0
    );
    let left = [
        user_job_match::Entity::find()
            .filter(user_job_match::Column::UserId.eq(id))
            .count(&app.db)
            .await,
        tailored_document::Entity::find()
            .filter(tailored_document::Column::UserId.eq(id))
            .count(&app.db)
            .await,
        resume_file::Entity::find()
            .filter(resume_file::Column::UserId.eq(id))
            .count(&app.db)
            .await,
        llm_call::Entity::find()
            .filter(llm_call::Column::UserId.eq(id))
            .count(&app.db)
            .await,
        user_alert::Entity::find()
            .filter(user_alert::Column::UserId.eq(id))
            .count(&app.db)
            .await,
    ];
    assert_eq!(
        left.map(|c| c.expect("count")),
        [0, 0, 0, 0, 0],
        "no row names the account"
    );
    assert_eq!(
        llm_call::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        1,
        "history kept"
    );
    // A job still queued for the account does nothing.
    let outcome = jobs::matching::run(
        &app.db,
        None,
        &jobs::matching::CorpusCache::default(),
        &jobs::matching::MatchConfig::default(),
        id,
    )
    .await
    .expect("a no-op");
    assert_eq!(outcome.skipped.as_deref(), Some("no such user"));
    // The address is free again.
    assert!(signed_in(&app, &app.register("kim@example.com").await).await);
    app.stop().await.expect("stops");
}

on_each_backend!(
    a_new_password_revokes_every_older_token,
    an_account_exports_everything_and_deletes_without_a_trace,
);
