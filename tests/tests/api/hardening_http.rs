//! What a hostile client can no longer do over HTTP and WebSocket: expand fragments
//! exponentially, run past the request timeout, hold connections idle or trickle bytes, open
//! connections past the cap, fetch unbounded pages, send oversized messages, read Rust debug
//! text or its own 500 KB id back, or read the schema in production.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::ws::Socket;
use tests::{Backend, TestApp, on_each_backend, spawn_api_only, spawn_app, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// 30 fragments, each spreading the one before twice: 2^30 fields once expanded, 1 KB of text.
/// The innermost is `inner`: a field, or a spread of a fragment that does not exist (which
/// async-graphql's validation would also expand 2^30 times before reporting it).
fn fragment_bomb(inner: &str) -> String {
    let mut q = format!("query {{ ...F30 }} fragment F0 on Query {{ {inner} }}");
    for i in 1..=30 {
        q.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    q
}

async fn post_raw(app: &TestApp, client: &reqwest::Client, body: String) -> (u16, Value) {
    let response = client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request reaches the app");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn an_exponential_fragment_document_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    // Before the fix one such request held a core for minutes: the timeout fails it then.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let bombs: Vec<_> = ["__typename", "...Missing"]
        .into_iter()
        .map(|inner| {
            post_raw(
                &app,
                &client,
                json!({ "query": fragment_bomb(inner) }).to_string(),
            )
        })
        .collect();
    let health = async {
        client
            .get(format!("{}/healthz", app.address))
            .send()
            .await
            .expect("health answers while the bombs are handled")
            .status()
    };
    let (results, health) = tokio::join!(futures::future::join_all(bombs), health);
    assert_eq!(health, 200);
    for ((status, body), why) in results.into_iter().zip(["too complex", "unknown fragment"]) {
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{body}"
        );
    }
}

async fn an_operation_running_past_the_timeout_is_stopped(backend: Backend) {
    let app = spawn_app_with(backend.clone(), |vars| {
        vars.insert("HTTP_REQUEST_TIMEOUT_SECONDS".into(), "1".into());
    })
    .await;
    // Hold a write lock (SQLite: the database's; Postgres: the users table's), so that
    // registering waits on it.
    let lock = app.db.begin().await.expect("begin");
    let statement = match backend {
        Backend::Sqlite => "UPDATE search_categories SET name = name",
        Backend::Postgres { .. } => "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
    };
    lock.execute_unprepared(statement).await.expect("lock");
    let started = std::time::Instant::now();
    let (status, body) = post_raw(
        &app,
        &app.http,
        json!({ "query": "mutation { register(email: \"slow@example.com\", password: \"long enough password\") { token } }" })
            .to_string(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), Some("TIMEOUT"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped at the 1 s timeout, not after the lock wait: {:?}",
        started.elapsed()
    );
    lock.rollback().await.expect("release");
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.register("after@example.com").await;
}

async fn raw_request(app: &TestApp, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    stream.write_all(request).await.ok();
    read_until_closed(&mut stream, Duration::from_secs(10)).await
}

/// Everything the server sends until it closes the connection (or `limit` passes: a failure).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

async fn idle_and_trickling_connections_are_closed(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("HTTP_HEADER_TIMEOUT_SECONDS".into(), "1".into());
        vars.insert("HTTP_REQUEST_TIMEOUT_SECONDS".into(), "1".into());
    })
    .await;
    // A socket that sends nothing.
    let mut idle = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    read_until_closed(&mut idle, Duration::from_secs(5)).await;

    // Headers that never finish, one line at a time.
    let mut slow = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    slow.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let trickle = async {
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), trickle)
        .await
        .expect("the server closed the trickling connection");

    // A body at a byte every 200 ms.
    let mut body_slow = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    body_slow
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    let (mut reader, mut writer) = body_slow.into_split();
    let drip = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), reader.read(&mut buf))
        .await
        .expect("an answer before the body ends")
        .expect("readable");
    response.extend_from_slice(&buf[..n]);
    drip.abort();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("TIMEOUT"), "{response}");
}

async fn connections_past_the_cap_wait_for_a_free_slot(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("HTTP_MAX_CONNECTIONS".into(), "2".into());
        vars.insert("HTTP_HEADER_TIMEOUT_SECONDS".into(), "30".into());
    })
    .await;
    let first = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let _second = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let mut third = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("the kernel's backlog takes it");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf)).await;
    assert!(early.is_err(), "no slot is free: the third waits");
    drop(first);
    let answer = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn websocket_messages_have_the_body_limit_and_init_has_a_deadline(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("WS_INIT_TIMEOUT_SECONDS".into(), "1".into());
    })
    .await;
    let request = || {
        let mut r = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
            .into_client_request()
            .expect("request");
        r.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        r
    };
    // No connection_init: closed with 4408.
    let (mut silent, _) = tokio_tungstenite::connect_async(request())
        .await
        .expect("connects");
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(message)) = silent.next().await {
            if let Message::Close(frame) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("closed in time")
    .expect("a close frame");
    assert_eq!(close.code, CloseCode::from(4408), "{close:?}");

    // A 500 KB message is within the 1 MB limit: answered, and the socket stays open.
    let (mut socket, _) = tokio_tungstenite::connect_async(request())
        .await
        .expect("connects");
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await
        .expect("init");
    let padding = "x".repeat(500 * 1024);
    let medium = json!({ "id": "0", "type": "subscribe", "payload": { "query": format!("{{ me {{ id }} }} #{padding}") } });
    socket
        .send(Message::text(medium.to_string()))
        .await
        .expect("send");
    let answered = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) if text.contains("\"id\":\"0\"") => return true,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return false,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("an answer");
    assert!(answered, "a message within the limit is taken");
    // A 2 MB message, past the 1 MB body limit: the connection is dropped.
    let big = json!({ "id": "1", "type": "subscribe", "payload": { "query": "x".repeat(2 * 1024 * 1024) } });
    let _ = socket.send(Message::text(big.to_string())).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) => return None,
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the socket ends");
    if let Some(frame) = ended {
        assert_eq!(frame.code, CloseCode::Size, "{frame:?}");
    }
}

/// A graphql-transport-ws socket, initialised with `token`.
async fn ws_connect(app: &TestApp, token: &str) -> Result<Socket, String> {
    tests::ws::connect(app, Some(token)).await
}

/// Waits for the socket's close frame (pings and data skipped).
async fn closed_with(socket: &mut Socket) -> Option<CloseCode> {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| f.code);
            }
        }
        None
    })
    .await
    .expect("closed in time")
}

async fn websockets_cannot_sit_idle_pile_up_operations_or_take_every_slot(backend: Backend) {
    // API only: a run stays QUEUED, so its progress subscription stays open.
    let app = spawn_api_only(backend, |vars| {
        vars.insert("WS_IDLE_TIMEOUT_SECONDS".into(), "1".into());
        vars.insert("WS_MAX_OPERATIONS".into(), "2".into());
        vars.insert("WS_MAX_CONNECTIONS".into(), "2".into());
        vars.insert("HTTP_MAX_CONNECTIONS".into(), "8".into());
    })
    .await;
    let admin = app.admin_token().await;
    let run = app.start_run(&admin).await;
    let subscribe = |id: &str| {
        let q = "subscription($id: ID!) { pipelineRunProgress(id: $id) { status } }";
        Message::text(json!({ "id": id, "type": "subscribe", "payload": { "query": q, "variables": { "id": run } } }).to_string())
    };

    // Initialised but running nothing: closed after the idle timeout.
    let mut idle = ws_connect(&app, &admin).await.expect("connects");
    assert_eq!(closed_with(&mut idle).await, Some(CloseCode::Normal));

    // A third operation at once, past WS_MAX_OPERATIONS = 2: closed with 4400.
    let mut greedy = ws_connect(&app, &admin).await.expect("connects");
    for id in ["a", "b", "c"] {
        greedy.send(subscribe(id)).await.expect("subscribe");
    }
    assert_eq!(closed_with(&mut greedy).await, Some(CloseCode::from(4400)));
    drop(greedy);

    // Two busy sockets take every WebSocket slot; a third is refused, plain HTTP still answers.
    let mut held = Vec::new();
    for id in ["x", "y"] {
        // The greedy socket's slot comes back once the server has seen it close.
        let mut socket = tests::eventually(
            "a free WebSocket slot",
            Duration::from_secs(5),
            async || ws_connect(&app, &admin).await,
        )
        .await;
        socket.send(subscribe(id)).await.expect("subscribe");
        held.push(socket);
    }
    // The slot of the socket closed just before may take a moment to come back.
    let refused = tests::eventually(
        "a third socket refused",
        Duration::from_secs(5),
        async || match ws_connect(&app, &admin).await {
            Err(e) => Ok(e),
            Ok(_) => Err("accepted".to_owned()),
        },
    )
    .await;
    assert!(refused.contains("503"), "{refused}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn one_address_cannot_take_every_connection(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("HTTP_MAX_CONNECTIONS_PER_IP".into(), "2".into());
        vars.insert("HTTP_HEADER_TIMEOUT_SECONDS".into(), "30".into());
    })
    .await;
    // Two kept-alive connections, each answered once: the server has counted both.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(("127.0.0.1", app.port))
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "answered");
        held.push(stream);
    }
    let mut third = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    let answer = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(answer.is_empty(), "closed unanswered: {answer}");
    let other = TestApp::client_from("127.0.0.2");
    let status = other
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("another address gets in")
        .status();
    assert_eq!(status, 200);
}

async fn pages_aliases_and_typename_are_weighed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("reader@example.com").await;
    let page = "jobListings(first: 100) { edges { node { id title company description } } }";
    let wide: String = (0..12).map(|i| format!("a{i}: {page} ")).collect();
    let body = app
        .graphql(&format!("{{ {wide} }}"), json!({}), Some(&token))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body.to_string().contains("too complex"), "{body}");
    let many: String = (0..300).map(|i| format!("t{i}: __typename ")).collect();
    let body = app
        .graphql(&format!("{{ {many} }}"), json!({}), Some(&token))
        .await;
    assert!(body.to_string().contains("aliases"), "{body}");
    // One full page is fine.
    let data = app
        .data(&format!("{{ {page} }}"), json!({}), Some(&token))
        .await;
    assert!(data["jobListings"]["edges"].is_array());
}

async fn bad_bodies_get_clean_errors_and_large_ones_413(backend: Backend) {
    let app = spawn_app(backend).await;
    for (body, why) in [
        ("{\"query\": \"{ me { id } }\"".to_owned(), "truncated JSON"),
        ("{\"query\": \"\\ud800\"}".to_owned(), "a lone surrogate"),
        ("[1, 2]".to_owned(), "not an object"),
    ] {
        let (status, reply) = post_raw(&app, &app.http, body).await;
        assert_eq!(status, 400, "{why}: {reply}");
        assert_eq!(error_code(&reply), Some("BAD_REQUEST"), "{why}: {reply}");
        let text = reply.to_string();
        for debug in ["InvalidRequest", "Error(", "Io(", "Custom {"] {
            assert!(!text.contains(debug), "{why}: {text}");
        }
    }
    let huge = json!({ "query": "{ me { id } }", "variables": { "x": "y".repeat(1_100_000) } })
        .to_string();
    // With a Content-Length over the limit the answer comes before the body is sent (a
    // client that keeps writing after it may see its connection cut instead).
    let headers = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        huge.len()
    );
    let answer = raw_request(&app, headers.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "with a Content-Length: {answer:.300}"
    );
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer:.300}");
    let mut chunked = Vec::from(
        &b"POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
    );
    for part in huge.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = raw_request(&app, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "chunked: {answer:.300}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer:.300}");
}

async fn a_long_id_is_not_echoed_back_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("echo@example.com").await;
    let body = app
        .graphql(
            "mutation($id: ID!) { setMatchStatus(jobListingId: $id, status: SAVED) { status } }",
            json!({ "id": "9".repeat(500 * 1024) }),
            Some(&token),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("NOT_FOUND"),
        "{:.300}",
        body.to_string()
    );
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.chars().count() <= 301,
        "{} characters",
        message.len()
    );
}

async fn production_hides_the_schema_and_every_response_has_security_headers(backend: Backend) {
    let production = spawn_app_with(backend.clone(), |vars| {
        vars.insert("APP_ENV".into(), "production".into());
    })
    .await;
    let body = production
        .graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert!(
        body["data"].is_object()
            && body["data"]["__schema"].is_null()
            && body.get("errors").is_none(),
        "introspection is off (the same query answers in development): {body}"
    );
    let body = production
        .graphql("{ searchCategorie { slug } }", json!({}), None)
        .await;
    assert!(
        !body.to_string().contains("Did you mean"),
        "no suggestions: {body}"
    );
    let development = spawn_app(backend).await;
    let body = development
        .data(
            "{ __schema { types { name } queryType { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body["__schema"]["queryType"]["name"], "Query");
    // GraphiQL's own introspection query passes the default limits.
    let graphiql = include_str!("../../../api/src/graphql/limits/introspection_query.graphql");
    let body = development.data(graphiql, json!({}), None).await;
    assert!(
        body["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 20),
        "{body:.300}"
    );
    let body = development
        .graphql("{ searchCategorie { slug } }", json!({}), None)
        .await;
    assert!(body.to_string().contains("Did you mean"), "{body}");

    for path in ["/healthz", "/readyz", "/graphql"] {
        let response = production.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if path == "/graphql" {
            assert!(
                csp.contains("script-src 'unsafe-inline' https://unpkg.com"),
                "{csp}"
            );
            let page = response.text().await.expect("html");
            assert!(page.contains("react.production.min.js"), "production React");
            assert!(!page.contains(".development.js"), "no development builds");
        } else {
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
    }
    let response = production
        .http
        .post(format!("{}/graphql", production.address))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("post");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn readiness_fails_when_the_sqlite_file_is_gone() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let url = &app.config.database_url;
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("a path")
        .to_owned();
    std::fs::remove_file(&path).expect("delete the database file");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.expect("json")["database"],
        "file gone"
    );
}

on_each_backend!(
    an_exponential_fragment_document_is_refused_at_once,
    an_operation_running_past_the_timeout_is_stopped,
    idle_and_trickling_connections_are_closed,
    connections_past_the_cap_wait_for_a_free_slot,
    one_address_cannot_take_every_connection,
    websockets_cannot_sit_idle_pile_up_operations_or_take_every_slot,
    websocket_messages_have_the_body_limit_and_init_has_a_deadline,
    pages_aliases_and_typename_are_weighed,
    bad_bodies_get_clean_errors_and_large_ones_413,
    a_long_id_is_not_echoed_back_whole,
    production_hides_the_schema_and_every_response_has_security_headers,
);
