//! The web app (`web/`, built by Vite into `web/dist/`, committed): its three files compiled
//! into the binary and served at `/`, `/assets/app.js` and `/assets/app.css`, so a fresh
//! machine runs it without Node.js. The page may load only its own files and talk only to this
//! origin (its own policy, stricter than GraphiQL's); it routes with the URL's hash, so `/` is
//! the only page. Each file carries an ETag of its bytes and `no-cache`: a browser revalidates
//! and gets 304 until a new binary serves new files.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page's policy: scripts, styles and fetches from this origin only (WebSocket included);
/// images also from `data:` and `blob:` URLs (downloads are made from blobs).
const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One file of the app.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        // A stable hash (SipHash with fixed keys): the same bytes give the same tag in every
        // process, so every node behind a balancer agrees.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        Self {
            body,
            content_type,
            etag,
        }
    }

    /// 304 when the browser holds these bytes (`If-None-Match`), else the file.
    fn serve(&self, headers: &HeaderMap, csp: Option<&'static str>) -> Response {
        let fresh = headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim().trim_start_matches("W/").as_bytes() == self.etag.as_bytes());
        let mut response = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                )],
                self.body,
            )
                .into_response()
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(csp) = csp {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(csp),
            );
        }
        response
    }
}

struct Assets {
    index: Asset,
    script: Asset,
    style: Asset,
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        index: Asset::new(
            include_bytes!("../../../web/dist/index.html"),
            "text/html; charset=utf-8",
        ),
        script: Asset::new(
            include_bytes!("../../../web/dist/assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        style: Asset::new(
            include_bytes!("../../../web/dist/assets/app.css"),
            "text/css; charset=utf-8",
        ),
    })
}

/// `GET /`: the app's page.
pub(super) async fn index(headers: HeaderMap) -> Response {
    assets().index.serve(&headers, Some(APP_CSP))
}

/// `GET /assets/app.js`.
pub(super) async fn script(headers: HeaderMap) -> Response {
    assets().script.serve(&headers, None)
}

/// `GET /assets/app.css`.
pub(super) async fn style(headers: HeaderMap) -> Response {
    assets().style.serve(&headers, None)
}
