//! Health, readiness, GraphiQL, limits, internal errors, graceful shutdown.

use sea_orm::ConnectionTrait;
use serde_json::json;
use tests::app::error_code;
use tests::{Backend, on_each_backend, spawn_app};

async fn health_readiness_and_graphiql_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready = ready.json::<serde_json::Value>().await.expect("json");
    assert_eq!(
        (&ready["database"], &ready["queue"]),
        (&json!("ok"), &json!("ok")),
        "{ready}"
    );
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.expect("html").contains("graphiql"),
        "GraphiQL page"
    );
}

async fn readiness_fails_when_the_database_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db.clone().close().await.expect("close the shared pool");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200, "the process is still up");
}

async fn internal_errors_are_generic_to_clients(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("user@example.com").await;
    app.db
        .execute_unprepared("ALTER TABLE search_categories RENAME TO moved_away")
        .await
        .expect("break the table");
    let body = app
        .graphql("{ searchCategories { slug } }", json!({}), Some(&token))
        .await;
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert!(
        !body.to_string().contains("search_categories"),
        "no SQL detail leaks: {body}"
    );
}

async fn deep_and_costly_queries_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("user@example.com").await;
    let mut deep = String::from("id");
    for _ in 0..14 {
        deep = format!("job {{ {deep} }}");
    }
    let body = app
        .graphql(&format!("{{ me {{ {deep} }} }}"), json!({}), Some(&token))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{body}"
    );
    // Large documents are refused by their size before anything else.
    let aliases: String = (0..2100).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let body = app
        .graphql(&format!("{{ {aliases} }}"), json!({}), Some(&token))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("tokens"),
        "{body}"
    );
    // A short document asking for many large pages is refused by its cost.
    let pages: String = (0..11)
        .map(|i| format!("p{i}: jobListings(first: 100) {{ edges {{ node {{ id title company location description }} }} }} "))
        .collect();
    let body = app
        .graphql(&format!("{{ {pages} }}"), json!({}), Some(&token))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("too complex"),
        "{body}"
    );
}

async fn the_server_stops_gracefully(backend: Backend) {
    let app = spawn_app(backend).await;
    let address = app.address.clone();
    app.stop().await.expect("clean stop");
    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "nothing listens after the stop");
}

async fn the_root_serves_the_web_app_and_graphiql_opens_on_examples(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.get("/").await;
    assert_eq!(root.status(), 200);
    assert_eq!(root.headers()["content-type"], "text/html; charset=utf-8");
    let csp = root.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self' ws: wss:"),
        "the page loads only its own files and talks to this origin: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let etag = root.headers()["etag"].clone();
    let page = root.text().await.expect("html");
    assert!(
        page.contains("/assets/app.js") && page.contains("/assets/app.css"),
        "{page}"
    );
    for (path, kind) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let asset = app.get(path).await;
        assert_eq!(asset.status(), 200, "{path}");
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with(kind)),
            "{path}"
        );
        assert!(asset.bytes().await.expect("body").len() > 100, "{path}");
    }
    let again = app
        .http
        .get(format!("{}/", app.address))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("revalidation");
    assert_eq!(again.status(), 304, "an unchanged page is not sent again");

    let page = app.get("/graphql").await.text().await.expect("html");
    assert!(page.contains("defaultQuery"), "an example document is set");
    for operation in ["mutation Login", "mutation SaveResume", "query MyMatches"] {
        assert!(page.contains(operation), "{operation}");
    }
    // The examples are valid against the served schema.
    let examples = include_str!("../../../api/src/server/graphiql_default.graphql");
    let body = app.graphql(examples, json!({}), None).await;
    let errors = body["errors"].to_string();
    assert!(
        errors.contains("Operation name required"),
        "the document parses and validates; only the choice of operation is missing: {body}"
    );
}

on_each_backend!(
    the_root_serves_the_web_app_and_graphiql_opens_on_examples,
    health_readiness_and_graphiql_answer,
    readiness_fails_when_the_database_is_gone,
    internal_errors_are_generic_to_clients,
    deep_and_costly_queries_are_refused,
    the_server_stops_gracefully,
);
