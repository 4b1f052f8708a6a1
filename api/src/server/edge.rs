//! What every request passes through first: its request id (taken from `x-request-id` when
//! sane, else made), carried in the span every log line of the request is written in and
//! returned in the response; and CORS for the origins in `CORS_ALLOWED_ORIGINS` (a WebSocket
//! upgrade from any other browser origin is refused in `websocket`).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::CorsOrigins;

/// The header a request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The client's id if it is one we can log safely (1 to 128 of `A-Z a-z 0-9 . _ : -`).
fn sane(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    ok.then(|| s.to_owned())
}

/// Gives the request its id, runs it inside a span carrying the id, method and path (the
/// GraphQL handler records the operation and user in it), and returns the id.
pub async fn request_id(request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        operation = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// CORS for the configured origins; `None` when there are none (same origin only: browsers
/// on another origin get no CORS headers, so they may not read anything).
pub fn cors(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::SameOrigin => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, REQUEST_ID])
            .expose_headers([REQUEST_ID, header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Whether a WebSocket upgrade may proceed: no `Origin` (not a browser), the page's own origin
/// (the `Host` it was sent to), or one of the configured origins.
pub fn origin_allowed(headers: &HeaderMap, origins: &CorsOrigins) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let same = host.is_some_and(|h| origin.split_once("://").is_some_and(|(_, rest)| rest == h));
    same || match origins {
        CorsOrigins::SameOrigin => false,
        CorsOrigins::Any => true,
        CorsOrigins::List(list) => list.contains(&origin),
    }
}
