//! A local stand-in for the job boards: serves replies at the real paths on 127.0.0.1,
//! scripted per path (one-shot replies first, then a standing one), and records every request
//! so tests can assert paths, query parameters, headers and pacing.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (to provoke timeouts).
    pub delay: Duration,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// 200 with a fixture from `jobs/fixtures/` as the body.
    pub fn fixture(path: &str) -> Self {
        Self::json(fixture(path))
    }

    /// Any status with a body.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

impl Recorded {
    /// A query parameter's decoded value.
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Default)]
struct State {
    once: HashMap<String, VecDeque<Reply>>,
    standing: HashMap<String, Reply>,
    requests: Vec<Recorded>,
}

/// The running mock. Routes are keyed by `path` or by `path?query` (the exact form wins).
#[derive(Clone)]
pub struct MockBoards {
    /// `http://127.0.0.1:PORT`, the origin to configure as a source's base URL.
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockBoards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBoards")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl MockBoards {
    /// Starts on a random port; it stops with the test's runtime.
    pub async fn start() -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let state = handler_state.clone();
                async move { answer(&state, method, uri, headers, body).await }
            },
        );
        Self {
            base_url: serve_locally(app).await,
            state,
        }
    }

    /// Answers `route` with `reply` every time (after any one-shot replies).
    pub fn serve(&self, route: &str, reply: Reply) -> &Self {
        self.state
            .lock()
            .expect("mock state")
            .standing
            .insert(route.to_owned(), reply);
        self
    }

    /// Answers `route` with these replies, one per request, before the standing reply.
    pub fn script(&self, route: &str, replies: Vec<Reply>) -> &Self {
        self.state
            .lock()
            .expect("mock state")
            .once
            .entry(route.to_owned())
            .or_default()
            .extend(replies);
        self
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("mock state").requests.clone()
    }

    /// Requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn answer(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let exact = format!("{path}?{query}");
    let reply = {
        let mut s = state.lock().expect("mock state");
        s.requests.push(Recorded {
            method,
            path: path.clone(),
            query,
            headers,
            body,
            at: Instant::now(),
        });
        let once = [&exact, &path]
            .into_iter()
            .find_map(|k| s.once.get_mut(k).and_then(VecDeque::pop_front));
        once.or_else(|| {
            [&exact, &path]
                .into_iter()
                .find_map(|k| s.standing.get(k).cloned())
        })
    };
    let Some(reply) = reply else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("{\"status\":404,\"error\":\"Not found\"}"))
            .unwrap_or_default();
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(k, v);
    }
    response.body(Body::from(reply.body)).unwrap_or_default()
}

/// Serves `app` on a random port of 127.0.0.1 until the test's runtime ends; returns
/// `http://127.0.0.1:PORT`.
pub async fn serve_locally(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local mock");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}")
}

/// A fixture file from `jobs/fixtures/`.
pub fn fixture(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../jobs/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}
