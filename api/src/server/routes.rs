//! The routes: `POST /graphql` (with its own body limit, timeout and clean errors; JSON, or a
//! multipart upload of one resume file), `GET /files/resume` (the caller's resume file),
//! `GET /me/export` (everything stored about the caller, as JSON), `POST
//! /alerts/unsubscribe?token=` (one click from an alert email, RFC 8058) and `POST
//! /alerts/verify?token=` (confirms the address for email alerts) — a GET of either shows the
//! button that POSTs it,
//! `GET /documents/{id}/{format}` (a tailored document, in `downloads`), the web app on `GET /`
//! and `/assets/*` (in `web`), GraphiQL on `GET /graphql` (opening on example operations),
//! `/graphql/ws`,
//! `/healthz`, `/readyz`, `/metrics` (Prometheus, behind `METRICS_TOKEN` when set), the HTTP
//! metrics of every route, and the security headers every response carries.

use std::time::Duration;

use async_graphql::ParseRequestError;
use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql_axum::GraphQLResponse;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use super::HttpState;
use super::downloads::LinkToken;
use crate::graphql::context::{ClientAddr, RequestAuth};

/// The policy for API responses: nothing may be loaded or framed from them.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// GraphiQL loads its scripts and styles from unpkg and talks only to this origin.
const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'unsafe-inline' https://unpkg.com; style-src 'unsafe-inline' https://unpkg.com; font-src https://unpkg.com data:; img-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The router with every route and the headers every response carries.
pub(super) fn router(state: HttpState) -> Router {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = Router::new()
        .route("/", get(super::web::index))
        .route("/assets/app.js", get(super::web::script))
        .route("/assets/app.css", get(super::web::style))
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(super::websocket::graphql_ws))
        .route("/files/resume", get(resume_file))
        .route("/me/export", get(export))
        .route(
            "/alerts/unsubscribe",
            get(confirm_unsubscribe).post(unsubscribe),
        )
        .route("/alerts/verify", get(confirm_verify).post(verify_email))
        .route("/documents/{id}/{format}", get(super::downloads::document))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::CONTENT_SECURITY_POLICY, API_CSP))
        .layer(
            // The request's span is the one `edge::request_id` opened; one INFO line per
            // response (status, latency) is the access log.
            TraceLayer::new_for_http()
                .make_span_with(|_: &Request| tracing::Span::current())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(axum::middleware::from_fn(super::edge::request_id));
    match super::edge::cors(&state.app.config.cors) {
        Some(cors) => router.layer(cors).with_state(state),
        None => router.with_state(state),
    }
}

/// A request refused before it reached the schema, with the same `errors` shape as a GraphQL
/// error and a stable `extensions.code`.
pub(super) fn refused(status: StatusCode, code: &str, message: String) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// 429 with `Retry-After` (whole seconds, at least 1) and a `RATE_LIMITED` error saying when.
fn rate_limited(wait: Duration, who: &str) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let body = json!({ "errors": [{
        "message": format!("too many requests from {who}: try again in {secs} s"),
        "extensions": { "code": "RATE_LIMITED", "retryAfter": secs } }] });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// An upload refused before it reached the schema: a VALIDATION error on `file`, as the
/// mutation's own refusals are.
fn refused_file(status: StatusCode, message: String) -> Response {
    let body = json!({ "errors": [{ "message": message,
        "extensions": { "code": "VALIDATION", "field": "file" } }] });
    (status, Json(body)).into_response()
}

/// Whether the request is a multipart upload (the GraphQL multipart request spec).
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Executes one operation: the body is read within `HTTP_MAX_BODY_BYTES` (413 past it, with a
/// `Content-Length` or chunked), parsed as a GraphQL JSON request (400 with a plain message
/// otherwise), and everything (reading included) finishes within
/// `HTTP_REQUEST_TIMEOUT_SECONDS`: a slow body is 408, a slow execution 503, and its work is
/// dropped at that moment.
async fn graphql(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let client = state.rate.client(peer, &headers);
    if let Err(wait) = state.rate.check_ip(client) {
        return rate_limited(wait, "this address");
    }
    let http = state.app.config.http;
    let resume = state.app.config.resume;
    let deadline = Instant::now() + http.request_timeout;
    let multipart = is_multipart(&headers);
    // An upload may carry one resume file beside the operation.
    let limit = if multipart {
        http.max_body_bytes + resume.max_bytes
    } else {
        http.max_body_bytes
    };
    let too_large_response = || {
        if multipart {
            return refused_file(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the file is larger than {} KB (RESUME_MAX_FILE_BYTES); export a smaller PDF or paste the text",
                    resume.max_bytes / 1024
                ),
            );
        }
        refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!(
                "the request body is larger than {} bytes (HTTP_MAX_BODY_BYTES)",
                http.max_body_bytes
            ),
        )
    };
    // The rest of the body is not read, so the connection cannot carry another request: say
    // so, or a client may reuse it and lose its next request.
    let too_large = || {
        let mut response = too_large_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let read = axum::body::to_bytes(request.into_body(), limit);
    let body = match tokio::time::timeout_at(deadline, read).await {
        Err(_) => {
            return refused(
                StatusCode::REQUEST_TIMEOUT,
                "TIMEOUT",
                format!(
                    "the request body did not arrive within {} s",
                    http.request_timeout.as_secs()
                ),
            );
        }
        Ok(Err(e)) if is_length_limit(&e) => return too_large(),
        Ok(Err(_)) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request body could not be read".into(),
            );
        }
        Ok(Ok(body)) => body,
    };
    let parsed = if multipart {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let options = MultipartOptions::default()
            .max_file_size(resume.max_bytes)
            .max_num_files(1);
        let parse = async_graphql::http::receive_body(
            content_type,
            futures::io::Cursor::new(body),
            options,
        );
        match parse.await {
            Ok(operation) => Ok(operation),
            Err(ParseRequestError::PayloadTooLarge) => return too_large(),
            Err(e) => Err(format!("the body is not a GraphQL multipart request: {e}")),
        }
    } else {
        serde_json::from_slice::<async_graphql::Request>(&body)
            .map_err(|e| format!("the body is not a GraphQL request (JSON with a \"query\"): {e}"))
    };
    let operation = match parsed {
        Ok(operation) => operation,
        Err(why) => {
            let why: String = why.chars().take(300).collect();
            return refused(StatusCode::BAD_REQUEST, "BAD_REQUEST", why);
        }
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    let auth = RequestAuth::from_header(authorization, &state.app);
    let span = tracing::Span::current();
    if let Some(name) = &operation.operation_name {
        span.record("operation", name.chars().take(64).collect::<String>());
    }
    if let Some(user_id) = auth.user_id() {
        span.record("user_id", user_id);
        if let Err(wait) = state.rate.check_user(user_id) {
            return rate_limited(wait, "this account");
        }
    }
    let label = crate::metrics::operation_label(
        operation
            .operation_name
            .as_deref()
            .or_else(|| crate::metrics::name_in(&operation.query)),
    );
    let started = std::time::Instant::now();
    let operation = operation.data(auth).data(ClientAddr(client));
    match tokio::time::timeout_at(deadline, state.schema.execute(operation)).await {
        Ok(response) => {
            let outcome = response.errors.first().map_or_else(
                || "ok".to_owned(),
                |e| {
                    e.extensions
                        .as_ref()
                        .and_then(|x| x.get("code"))
                        .map_or_else(
                            || "error".to_owned(),
                            |c| c.to_string().trim_matches('"').to_owned(),
                        )
                },
            );
            crate::metrics::record_operation(label, outcome, started);
            GraphQLResponse::from(response).into_response()
        }
        Err(_) => {
            crate::metrics::record_operation(label, "TIMEOUT".into(), started);
            tracing::warn!(%peer, timeout = ?http.request_timeout, "a GraphQL request ran out of time and was stopped");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                format!(
                    "the operation did not finish within {} s (HTTP_REQUEST_TIMEOUT_SECONDS)",
                    http.request_timeout.as_secs()
                ),
            )
        }
    }
}

/// `GET /files/resume`: the signed-in user's original resume file, byte for byte, as an
/// attachment under the name it was uploaded with; 401 without a valid Bearer token, 404 when
/// the resume was pasted or never saved.
/// The token of `Authorization: Bearer <token>`, if sent.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
}

/// The account a request's `Authorization: Bearer` token signs in, or the refusal to send:
/// 401 `UNAUTHENTICATED` without a token, with a bad or revoked one, or for a deleted account.
pub(super) async fn signed_in(
    app: &crate::state::AppState,
    headers: &HeaderMap,
) -> Result<entity::user::Model, Response> {
    let unauthenticated =
        |why: &str| refused(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", why.into());
    let Some(token) = bearer(headers) else {
        return Err(unauthenticated(
            "sign in first: send Authorization: Bearer <token>",
        ));
    };
    let invalid = "the token is invalid or has expired: sign in again";
    let Ok(verified) = app.keys.verify(token.trim()) else {
        return Err(unauthenticated(invalid));
    };
    match crate::auth::accounts::honoured(&app.db, verified).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(unauthenticated(invalid)),
        Err(e) => {
            tracing::error!(error = ?e, "checking a token failed");
            Err(refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the request could not be checked".into(),
            ))
        }
    }
}

/// Prometheus metrics, behind `METRICS_TOKEN` when it is set.
async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    serve_metrics(&state.app, &headers).await
}

/// `/metrics` for the API and for a worker's `METRICS_ADDR` listener.
pub(super) async fn serve_metrics(app: &crate::state::AppState, headers: &HeaderMap) -> Response {
    if let Some(expected) = &app.config.metrics_token {
        let given = bearer(headers).map(str::trim).unwrap_or_default();
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return refused(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "send Authorization: Bearer <METRICS_TOKEN>".into(),
            );
        }
    }
    let text = crate::metrics::render(&app.db, &app.queue).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// A short page answering a link followed from an email.
fn link_page(status: StatusCode, title: &str, text: &str) -> Response {
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{text}</p>"
    );
    (status, Html(page)).into_response()
}

/// The unsubscribe link opened in a browser: a page with the one button that POSTs it (a GET
/// changes nothing, so mail scanners that open links do not unsubscribe anyone).
async fn confirm_unsubscribe(
    State(state): State<HttpState>,
    axum::extract::Query(link): axum::extract::Query<LinkToken>,
) -> Response {
    let token = link.token.unwrap_or_default();
    if jobs::alerts::links::check_unsubscribe(&state.app.config.alerts.link_key, &token).is_none() {
        return link_page(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This unsubscribe link is not valid.",
        );
    }
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Unsubscribe</title><h1>Stop email alerts?</h1>\
         <form method=post action=\"?token={token}\">\
         <button type=submit>Unsubscribe</button></form>"
    );
    (StatusCode::OK, Html(page)).into_response()
}

/// The RFC 8058 one-click POST (from a mail client, or the button above): email alerts stop.
async fn unsubscribe(
    State(state): State<HttpState>,
    axum::extract::Query(link): axum::extract::Query<LinkToken>,
) -> Response {
    let key = &state.app.config.alerts.link_key;
    match jobs::alerts::unsubscribe(&state.app.db, key, link.token.as_deref().unwrap_or("")).await {
        Ok(true) => link_page(
            StatusCode::OK,
            "Unsubscribed",
            "You will get no more email alerts. Turn them on again in your preferences.",
        ),
        Ok(false) => link_page(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This unsubscribe link is not valid.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribing failed");
            link_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Try again",
                "Something went wrong; try the link again later.",
            )
        }
    }
}

/// The verification link opened in a browser: a page with the one button that POSTs it (a GET
/// changes nothing, so a mail scanner opening links confirms no address).
async fn confirm_verify(axum::extract::Query(link): axum::extract::Query<LinkToken>) -> Response {
    let token: String = link
        .token
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Confirm your address</title>\
         <h1>Confirm this address for Job Collector alerts?</h1>\
         <form method=post action=\"?token={token}\"><button type=submit>Confirm</button></form>"
    );
    (StatusCode::OK, Html(page)).into_response()
}

/// The POST from the verification page: the address is confirmed for email alerts.
async fn verify_email(
    State(state): State<HttpState>,
    axum::extract::Query(link): axum::extract::Query<LinkToken>,
) -> Response {
    let key = &state.app.config.alerts.link_key;
    match jobs::alerts::verify_email(&state.app.db, key, link.token.as_deref().unwrap_or("")).await
    {
        Ok(true) => link_page(
            StatusCode::OK,
            "Address confirmed",
            "Email alerts will now reach this address.",
        ),
        Ok(false) => link_page(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This link is not valid, has expired, or is for an address the account no longer has.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "verifying an address failed");
            link_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Try again",
                "Something went wrong; try the link again later.",
            )
        }
    }
}

/// Everything stored about the signed-in user, as one JSON document to save.
async fn export(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let user = match signed_in(&state.app, &headers).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    match jobs::accounts::export(&state.app.db, user.id).await {
        Ok(Some(document)) => (
            [
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"jobcollector-export.json\""),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            Json(document),
        )
            .into_response(),
        Ok(None) => refused(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the account no longer exists".into(),
        ),
        Err(e) => {
            tracing::error!(error = ?e, "exporting an account failed");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the export could not be made".into(),
            )
        }
    }
}

async fn resume_file(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let user_id = match signed_in(&state.app, &headers).await {
        Ok(user) => user.id,
        Err(refusal) => return refusal,
    };
    let internal = |e: &dyn std::fmt::Debug| {
        tracing::error!(error = ?e, "reading a resume file failed");
        refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the file could not be read".into(),
        )
    };
    let file = match jobs::resume::file(&state.app.db, user_id).await {
        Ok(Some(file)) => file,
        Ok(None) => {
            return refused(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "no resume file: the resume was pasted as text, or never saved".into(),
            );
        }
        Err(e) => return internal(&e),
    };
    let ascii: String = file
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = file.data.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// Whether reading a body failed on the size limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// What GraphiQL's editor opens with: the README's example operations, ready to run.
const GRAPHIQL_DEFAULT: &str = include_str!("graphiql_default.graphql");

/// GraphiQL, on React's production builds, under a policy that lets it load only from unpkg
/// and talk only to this origin, its editor opening on example operations.
async fn graphiql() -> Response {
    let default_query = serde_json::to_string(GRAPHIQL_DEFAULT).unwrap_or_default();
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("Job Collector")
        .finish()
        .replace("umd/react.development.js", "umd/react.production.min.js")
        .replace(
            "umd/react-dom.development.js",
            "umd/react-dom.production.min.js",
        )
        .replace(
            "defaultEditorToolsVisibility: true,",
            &format!(
                "defaultEditorToolsVisibility: true,\n          defaultQuery: {default_query},"
            ),
        );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(GRAPHIQL_CSP),
        )],
        Html(page),
    )
        .into_response()
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and, on SQLite, its file is still the one opened (a file
/// deleted or replaced under a running process takes every later write with it).
async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": why })),
        )
    };
    if let Some(file) = &state.app.db_file
        && let Err(why) = file.check()
    {
        tracing::warn!(%why, "readiness: the database file changed");
        return unavailable("file gone");
    }
    let ping = tokio::time::timeout(Duration::from_secs(3), state.app.db.ping()).await;
    match ping {
        Ok(Ok(())) => {
            let queue = tokio::time::timeout(Duration::from_secs(3), state.app.queue.ping()).await;
            match queue {
                Ok(Ok(())) => (
                    StatusCode::OK,
                    Json(json!({ "status": "ready", "database": "ok", "queue": "ok" })),
                ),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "readiness: the queue is unreachable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(
                            json!({ "status": "unavailable", "database": "ok", "queue": "unreachable" }),
                        ),
                    )
                }
                Err(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "status": "unavailable", "database": "ok", "queue": "timeout" })),
                ),
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            unavailable("unreachable")
        }
        Err(_) => unavailable("timeout"),
    }
}
