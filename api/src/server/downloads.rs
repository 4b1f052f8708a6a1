//! `GET /documents/{id}/{format}`: a tailored document as `pdf`, `docx` or `md`, for its
//! owner — by `Authorization: Bearer <token>`, or by the signed `?token=` of a link that
//! `TailoredDocument.downloads` gave (valid for `DOCUMENT_LINK_TTL_SECONDS`, for that document
//! and format only). PDF and DOCX are rendered on request, off the async threads. Another
//! user's document is NOT_FOUND, as a missing one is.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use entity::DocumentStatus;
use jobs::documents::render::{self, Format};
use serde::Deserialize;

use super::HttpState;
use super::routes::{bearer, refused};

/// The `token` query parameter of a signed link (a download link, or a link in an alert
/// email).
#[derive(Debug, Deserialize)]
pub(super) struct LinkToken {
    pub(super) token: Option<String>,
}

fn not_found() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such tailored document".into(),
    )
}

/// A file name for the download: `resume-<company>-<id>.pdf`, ASCII only.
fn file_name(kind: entity::DocumentKind, id: i64, format: Format) -> String {
    let kind = match kind {
        entity::DocumentKind::Resume => "resume",
        entity::DocumentKind::CoverLetter => "cover-letter",
    };
    format!("{kind}-{id}.{}", format.extension())
}

pub(super) async fn document(
    State(state): State<HttpState>,
    Path((id, format)): Path<(String, String)>,
    Query(link): Query<LinkToken>,
    headers: HeaderMap,
) -> Response {
    let Some(format) = Format::parse(&format) else {
        return refused(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "the format is pdf, docx or md".into(),
        );
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let app = &state.app;
    let user_id = match (&link.token, bearer(&headers)) {
        (Some(token), _) => app.keys.verify_link(token, id, format.extension()),
        (None, Some(token)) => app.keys.verify(token.trim()),
        (None, None) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "sign in first (Authorization: Bearer <token>) or use a link from downloads".into(),
            );
        }
    };
    let revoked = || {
        refused(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the token or link is invalid or has expired".into(),
        )
    };
    let Ok(verified) = user_id else {
        return revoked();
    };
    // The account must still exist and honour the token (not signed out everywhere since).
    let user_id = match crate::auth::accounts::honoured(&app.db, verified).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return revoked(),
        Err(e) => {
            tracing::error!(error = ?e, "checking a download's token failed");
            return refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the document could not be rendered".into(),
            );
        }
    };
    let internal = |e: &dyn std::fmt::Debug| {
        tracing::error!(error = ?e, document_id = id, "serving a tailored document failed");
        refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the document could not be rendered".into(),
        )
    };
    let doc = match jobs::documents::get(&app.db, user_id, id).await {
        Ok(Some(doc)) => doc,
        Ok(None) => return not_found(),
        Err(e) => return internal(&e),
    };
    if doc.status != DocumentStatus::Ready {
        return refused(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!(
                "the document is {}: download it once it is ready",
                doc.status.as_str()
            ),
        );
    }
    let content = match jobs::documents::content_of(&doc) {
        Ok(Some(content)) => content,
        Ok(None) => return internal(&"a ready document without content"),
        Err(e) => return internal(&e),
    };
    let paper = app.config.documents.paper;
    let bytes = match format {
        Format::Markdown => doc.markdown.clone().unwrap_or_default().into_bytes(),
        _ => match tokio::task::spawn_blocking(move || render::render(&content, format, paper))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return internal(&e),
            Err(e) => return internal(&e),
        },
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file_name(doc.kind, doc.id, format)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}
