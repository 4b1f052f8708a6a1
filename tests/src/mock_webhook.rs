//! A local webhook receiver on 127.0.0.1: records every request (any method, any path) and
//! answers with scripted statuses (one-shot statuses first, then a standing one), optionally
//! after a delay so tests can provoke timeouts. [`verify`] checks a delivery's signature the
//! way a subscriber would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The request path, such as `/hook`.
    pub path: String,
    pub headers: HeaderMap,
    /// The body exactly as sent (the signature covers these bytes).
    pub body: Vec<u8>,
}

impl Delivery {
    /// The body as JSON; panics if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

struct State {
    script: VecDeque<u16>,
    /// The status once the script is used up.
    standing: u16,
    delay: Duration,
    deliveries: Vec<Delivery>,
}

/// The running receiver. It stops with the test's runtime.
#[derive(Clone)]
pub struct MockWebhook {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockWebhook")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl MockWebhook {
    /// Starts on a random port, answering 200 to everything.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            script: VecDeque::new(),
            standing: 200,
            delay: Duration::ZERO,
            deliveries: Vec::new(),
        }));
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = handler_state.clone();
            async move { answer(&state, uri, headers, body).await }
        });
        Self {
            base_url: crate::mock_boards::serve_locally(app).await,
            state,
        }
    }

    /// `{base_url}/hook`, the URL to subscribe.
    pub fn url(&self) -> String {
        format!("{}/hook", self.base_url)
    }

    /// Answers the next requests with these statuses, one each, before the standing status.
    pub fn script(&self, statuses: Vec<u16>) -> &Self {
        self.state
            .lock()
            .expect("webhook state")
            .script
            .extend(statuses);
        self
    }

    /// Answers with `status` once the script is used up (200 until this is called).
    pub fn always(&self, status: u16) -> &Self {
        self.state.lock().expect("webhook state").standing = status;
        self
    }

    /// Waits this long before each reply from now on (`Duration::ZERO` to stop); the request is
    /// recorded on arrival all the same.
    pub fn delay(&self, delay: Duration) -> &Self {
        self.state.lock().expect("webhook state").delay = delay;
        self
    }

    /// Every request so far, in order of arrival.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().expect("webhook state").deliveries.clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.state.lock().expect("webhook state").deliveries.len()
    }
}

async fn answer(state: &Mutex<State>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, delay) = {
        let mut s = state.lock().expect("webhook state");
        s.deliveries.push(Delivery {
            path: uri.path().to_owned(),
            headers,
            body: body.to_vec(),
        });
        let status = s.script.pop_front().unwrap_or(s.standing);
        (status, s.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Whether `delivery` is signed with `secret`: header `x-jobcollector-timestamp` holds unix
/// seconds in decimal, and header `x-jobcollector-signature` is `sha256=` followed by the
/// lowercase hex of HMAC-SHA256 keyed by `secret` over `{timestamp}.{raw body}`.
pub fn verify(secret: &str, delivery: &Delivery) -> bool {
    let header = |name| delivery.headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(timestamp), Some(signature)) = (
        header("x-jobcollector-timestamp"),
        header("x-jobcollector-signature"),
    ) else {
        return false;
    };
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(&delivery.body);
    signature.strip_prefix("sha256=") == Some(&hmac_sha256_hex(secret.as_bytes(), &message))
}

/// HMAC-SHA256 (RFC 2104) in lowercase hex. The tests crate has no `hmac` or `sha2`, so this
/// borrows the HS256 signer of `jsonwebtoken` (the same MAC), which answers in unpadded
/// URL-safe base64.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(key);
    let mac = jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::HS256)
        .expect("HS256 signs with any secret");
    crate::mock_smtp::decode_base64(&mac)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(timestamp: &str, signature: &str, body: &str) -> Delivery {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-jobcollector-timestamp",
            timestamp.parse().expect("header"),
        );
        headers.insert(
            "x-jobcollector-signature",
            signature.parse().expect("header"),
        );
        Delivery {
            path: "/hook".into(),
            headers,
            body: body.into(),
        }
    }

    #[test]
    fn hmac_sha256_matches_the_known_vector() {
        assert_eq!(
            hmac_sha256_hex(b"key", b"The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn verify_accepts_the_right_signature_and_nothing_else() {
        // Computed independently (Python's hmac) over `1700000000.{"event":"new_matches"}`.
        let right = "sha256=9c66ae71886595b3cb8b8780325ff65510f83b1756a47500304ecccf28819898";
        let body = r#"{"event":"new_matches"}"#;
        assert!(verify("s3cret", &delivery("1700000000", right, body)));
        assert_eq!(delivery("1", right, body).json()["event"], "new_matches");
        assert!(!verify("other", &delivery("1700000000", right, body)));
        assert!(!verify("s3cret", &delivery("1700000001", right, body)));
        assert!(!verify(
            "s3cret",
            &delivery("1700000000", right, r#"{"event":"x"}"#)
        ));
        assert!(!verify(
            "s3cret",
            &delivery("1700000000", &right.to_uppercase(), body)
        ));
        assert!(!verify(
            "s3cret",
            &delivery("1700000000", &right[7..], body)
        ));
        assert!(!verify("s3cret", &delivery("17e8", right, body)));
        let unsigned = Delivery {
            headers: HeaderMap::new(),
            ..delivery("1700000000", right, body)
        };
        assert!(!verify("s3cret", &unsigned));
    }

    #[tokio::test]
    async fn replies_follow_the_script_then_the_standing_status() {
        let hook = MockWebhook::start().await;
        hook.script(vec![500, 429]).always(204);
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let reply = client
                .post(hook.url())
                .body("{}")
                .send()
                .await
                .expect("post");
            statuses.push(reply.status().as_u16());
        }
        assert_eq!(statuses, [500, 429, 204, 204]);
        hook.delay(Duration::from_secs(5));
        let slow = client
            .post(format!("{}/other", hook.base_url))
            .timeout(Duration::from_millis(200))
            .body("late")
            .send()
            .await;
        assert!(slow.is_err_and(|e| e.is_timeout()));
        assert_eq!(hook.count(), 5);
        let last = &hook.deliveries()[4];
        assert_eq!(
            (last.path.as_str(), last.body.as_slice()),
            ("/other", &b"late"[..])
        );
    }
}
