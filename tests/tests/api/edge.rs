//! What every request passes first: its request id (kept when sane, made otherwise, returned,
//! and in the logs of the real binary); CORS for `CORS_ALLOWED_ORIGINS` — preflight allowed
//! for a listed origin and not for another, the WebSocket refused from another origin; and the
//! rate limits per address (behind a trusted proxy, per forwarded client) and per user.

use std::time::Duration;

use serde_json::{Value, json};
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const APP_ORIGIN: &str = "https://app.example.com";

fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap_or_default()
        .to_owned()
}

async fn request_ids_are_kept_when_sane_and_made_otherwise(backend: Backend) {
    let app = spawn_app(backend).await;
    let get = |id: Option<&str>| {
        let mut request = app.http.get(format!("{}/healthz", app.address));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let kept = get(Some("lb-7f3a:42_x.y")).await.expect("answers");
    assert_eq!(request_id(&kept), "lb-7f3a:42_x.y");
    let made = request_id(&get(None).await.expect("answers"));
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.chars().all(|c| c.is_ascii_hexdigit()));
    for insane in ["has spaces in it", &"x".repeat(129), "id;<script>"] {
        let replaced = request_id(&get(Some(insane)).await.expect("answers"));
        assert_ne!(replaced, insane);
        assert_eq!(replaced.len(), 32);
    }
    // GraphQL answers carry it too, errors included.
    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("x-request-id", "gql-1")
        .body("not json")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 400);
    assert_eq!(request_id(&response), "gql-1");
    app.stop().await.expect("stops");
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .expect("answers")
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn ws_status(app: &TestApp, origin: Option<&str>) -> u16 {
    let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("the upgrade failed otherwise: {e}"),
    }
}

async fn cors_allows_the_listed_origins_only(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert(
            "CORS_ALLOWED_ORIGINS".into(),
            format!("{APP_ORIGIN}/, http://localhost:5173"),
        );
    })
    .await;
    let ok = preflight(&app, APP_ORIGIN).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(allowed_origin(&ok).as_deref(), Some(APP_ORIGIN));
    let headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(
        allowed_origin(&preflight(&app, "http://localhost:5173").await).as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(
        allowed_origin(&preflight(&app, "https://evil.example").await),
        None
    );

    // The real request from the listed origin can be read by its page.
    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("origin", APP_ORIGIN)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(allowed_origin(&response).as_deref(), Some(APP_ORIGIN));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["__typename"], "Query");

    assert_eq!(ws_status(&app, Some("https://evil.example")).await, 403);
    assert_eq!(ws_status(&app, Some(APP_ORIGIN)).await, 101);
    assert_eq!(ws_status(&app, None).await, 101, "not a browser");
    let own = format!("http://127.0.0.1:{}", app.port);
    assert_eq!(
        ws_status(&app, Some(&own)).await,
        101,
        "the page's own origin"
    );
    app.stop().await.expect("stops");
}

async fn without_origins_only_the_own_origin_is_served(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(allowed_origin(&preflight(&app, APP_ORIGIN).await), None);
    assert_eq!(ws_status(&app, Some(APP_ORIGIN)).await, 403);
    app.stop().await.expect("stops");
}

async fn typename(
    app: &TestApp,
    forwarded: Option<&str>,
    token: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut request = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }" }));
    if let Some(f) = forwarded {
        request = request.header("x-forwarded-for", f);
    }
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("answers");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, response.json().await.expect("json"), retry)
}

async fn past_the_rate_a_client_waits_and_then_goes_on(backend: Backend) {
    // 120 a minute: bursts of 30, one more every half second.
    let app = spawn_app_with(backend, |vars| {
        vars.insert("RATE_LIMIT_PER_MINUTE".into(), "120".into());
    })
    .await;
    for i in 0..30 {
        let (status, body, _) = typename(&app, None, None).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let (status, body, retry) = typename(&app, None, None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "only /graphql is limited"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(typename(&app, None, None).await.0, 200, "refilled");
    app.stop().await.expect("stops");
}

/// An app allowing 4 requests a minute (bursts of 1) per address, behind a trusted proxy or not.
async fn limited(backend: Backend, trusted: bool) -> TestApp {
    spawn_app_with(backend, move |vars| {
        vars.insert("RATE_LIMIT_PER_MINUTE".into(), "4".into());
        if trusted {
            vars.insert("TRUSTED_PROXIES".into(), "127.0.0.0/8".into());
        }
    })
    .await
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate(backend: Backend) {
    let app = limited(backend.clone(), true).await;
    assert_eq!(typename(&app, Some("203.0.113.5"), None).await.0, 200);
    assert_eq!(typename(&app, Some("203.0.113.5"), None).await.0, 429);
    assert_eq!(
        typename(&app, Some("198.51.100.7, 203.0.113.6"), None)
            .await
            .0,
        200,
        "the last untrusted hop"
    );
    app.stop().await.expect("stops");

    // From an untrusted peer the header is the client's own word: ignored.
    let app = limited(backend, false).await;
    assert_eq!(typename(&app, Some("203.0.113.5"), None).await.0, 200);
    assert_eq!(typename(&app, Some("203.0.113.6"), None).await.0, 429);
    app.stop().await.expect("stops");
}

async fn a_user_is_limited_across_addresses(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("RATE_LIMIT_USER_PER_MINUTE".into(), "4".into());
    })
    .await;
    let token = app.register("busy@example.com").await;
    assert_eq!(typename(&app, None, Some(&token)).await.0, 200);
    let (status, body, retry) = typename(&app, None, Some(&token)).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some());
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("this account")
    );
    assert_eq!(
        typename(&app, None, None).await.0,
        200,
        "anonymous requests are not the user's"
    );
    app.stop().await.expect("stops");
}

on_each_backend!(
    past_the_rate_a_client_waits_and_then_goes_on,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate,
    a_user_is_limited_across_addresses,
    request_ids_are_kept_when_sane_and_made_otherwise,
    cors_allows_the_listed_origins_only,
    without_origins_only_the_own_origin_is_served
);

/// The real binary, logging JSON: the request id a client sent is in the request's log lines.
#[tokio::test]
async fn the_request_id_is_in_the_logs() {
    let dir = tempfile::tempdir().expect("a directory");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let (mut child, log) = tests::logs::serve_logging_json(
        env!("CARGO_BIN_EXE_jobcollector-under-test"),
        dir.path(),
        &[("BIND_ADDR", &bind)],
    );
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/graphql");
    let answered = tests::eventually("serve answers", Duration::from_secs(10), async || {
        client
            .post(&url)
            .header("x-request-id", "trace-me-42")
            .json(&json!({ "query": "query Probe { __typename }", "operationName": "Probe" }))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answered, 200);
    let lines = tests::logs::json_lines(&log);
    let line: Value = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "trace-me-42")
        .cloned()
        .unwrap_or_else(|| panic!("no log line with the request id in:\n{lines:#?}"));
    assert_eq!(line["span"]["operation"], "Probe", "{line}");
    assert_eq!(line["span"]["path"], "/graphql");
}
