//! Resume files over HTTP (DESIGN.md §3, §7): `uploadResume` by the GraphQL multipart request
//! spec for every supported type, `me.resume`, `GET /files/resume` byte for byte and only for
//! its owner, every refusal (nothing stored, the previous resume untouched), `saveResume`
//! replacing the file, and the assignment and matching running on the uploaded text.

use std::collections::HashMap;

use serde_json::{Value, json};
use tests::boards::{serve_all, vars_for};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

use crate::assignment::{SAVE, settled};

const UPLOAD: &str = "mutation($file: Upload!) { uploadResume(file: $file) {
  resume { text source fileName contentType sizeBytes pages warnings updatedAt }
  categoryAssignment { status } } }";
const ME: &str = "{ me { resume { text source fileName contentType sizeBytes pages warnings } } }";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../jobs/fixtures/resumes/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Share of the expected text's words the extracted text has.
fn recall(expected: &str, got: &str) -> f64 {
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let mut have: HashMap<String, usize> = HashMap::new();
    for w in words(got) {
        *have.entry(w).or_default() += 1;
    }
    let expected = words(expected);
    let found = expected
        .iter()
        .filter(|w| {
            have.get_mut(*w).is_some_and(|n| {
                let ok = *n > 0;
                *n = n.saturating_sub(1);
                ok
            })
        })
        .count();
    found as f64 / expected.len().max(1) as f64
}

async fn upload(app: &TestApp, token: &str, name: &str, declared: &str) -> (u16, Value) {
    app.upload(UPLOAD, name, declared, &fixture(name), Some(token))
        .await
}

/// The body of a refused upload: its VALIDATION error on `file`, and its message.
/// Sends only the head of a multipart upload declaring `length` bytes of body, and reads the
/// answer (the server must not wait for the body it refuses).
async fn declared_upload(app: &TestApp, token: &str, length: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connects");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("answered without the body")
    .expect("read");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // Chunk sizes on their own lines, each chunk after its size.
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || tail.len() < n {
                break;
            }
            out.push_str(&tail[..n]);
            rest = tail[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_owned()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn refusal(body: &Value) -> String {
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "VALIDATION", "{body}");
    assert_eq!(error["extensions"]["field"], "file", "{body}");
    error["message"].as_str().unwrap_or_default().to_owned()
}

async fn every_type_uploads_reads_and_downloads(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("files@example.com").await;
    for (file, declared, truth, source, content_type, pages) in [
        (
            "word_like.docx",
            "application/octet-stream",
            "word_like",
            "DOCX",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            json!(2),
        ),
        (
            "libreoffice.pdf",
            "application/pdf",
            "libreoffice",
            "PDF",
            "application/pdf",
            json!(2),
        ),
        (
            "two_column.pdf",
            "image/png",
            "two_column",
            "PDF",
            "application/pdf",
            json!(1),
        ),
        (
            "groff.pdf",
            "application/pdf",
            "groff",
            "PDF",
            "application/pdf",
            json!(1),
        ),
        (
            "resume.md",
            "text/plain",
            "resume_md",
            "MARKDOWN",
            "text/markdown; charset=utf-8",
            Value::Null,
        ),
        (
            "resume.txt",
            "text/plain",
            "resume_txt",
            "TEXT",
            "text/plain; charset=utf-8",
            Value::Null,
        ),
    ] {
        let (status, body) = upload(&app, &token, file, declared).await;
        assert_eq!(status, 200, "{file}: {body}");
        let user = &body["data"]["uploadResume"];
        let resume = &user["resume"];
        assert_eq!(resume["source"], source, "{file}: {body}");
        assert_eq!(resume["fileName"], file);
        assert_eq!(
            resume["contentType"], content_type,
            "the type read from the bytes, not {declared}"
        );
        assert_eq!(resume["sizeBytes"], fixture(file).len());
        assert_eq!(resume["pages"], pages, "{file}");
        assert_eq!(resume["warnings"], json!([]));
        assert_eq!(user["categoryAssignment"]["status"], "PENDING");
        let expected = String::from_utf8(fixture(&format!("expected/{truth}.txt"))).expect("utf-8");
        let text = resume["text"].as_str().unwrap_or_default();
        let r = recall(&expected, text);
        assert!(r >= 0.98, "{file}: recall {r:.3}\n{text}");

        let download = app.get_as("/files/resume", Some(&token)).await;
        assert_eq!(download.status(), 200);
        assert_eq!(
            download.headers()["content-type"]
                .to_str()
                .unwrap_or_default(),
            content_type
        );
        let disposition = download.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            disposition.starts_with("attachment;") && disposition.contains(file),
            "{disposition}"
        );
        assert_eq!(
            download.bytes().await.expect("bytes").as_ref(),
            fixture(file).as_slice(),
            "{file}: byte for byte"
        );
    }
    // The reading order of the sidebar layout survives the whole path.
    let (_, body) = upload(&app, &token, "two_column.pdf", "application/pdf").await;
    let text = body["data"]["uploadResume"]["resume"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let at = |s: &str| text.find(s).unwrap_or(usize::MAX);
    assert!(
        at("Madras, 2014") < at("Priya Natarajan"),
        "sidebar first:\n{text}"
    );

    // Nobody else gets the file: another user has none, an anonymous caller must sign in.
    let other = app.register("other@example.com").await;
    let theirs = app.get_as("/files/resume", Some(&other)).await;
    assert_eq!(theirs.status(), 404);
    let anonymous = app.get_as("/files/resume", None).await;
    assert_eq!(anonymous.status(), 401);
    let forged = app.get_as("/files/resume", Some("not-a-token")).await;
    assert_eq!(forged.status(), 401);

    // Pasted text replaces the file.
    app.data(
        SAVE,
        json!({ "t": "Dana Whitfield, registered nurse: six years of cardiac ICU care, charge nurse." }),
        Some(&token),
    )
    .await;
    let me = app.data(ME, json!({}), Some(&token)).await;
    assert_eq!(me["me"]["resume"]["source"], "TEXT");
    assert_eq!(me["me"]["resume"]["fileName"], Value::Null);
    assert_eq!(
        app.get_as("/files/resume", Some(&token)).await.status(),
        404
    );
    app.stop().await.expect("stops");
}

async fn refused_files_store_nothing_and_say_why(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("RESUME_MAX_FILE_BYTES".into(), "1500000".into());
    })
    .await;
    let token = app.register("refused@example.com").await;
    let (status, _) = upload(&app, &token, "word_like.docx", "application/msword").await;
    assert_eq!(status, 200);
    let before = app.data(ME, json!({}), Some(&token)).await;

    let pdf = fixture("libreoffice.pdf");
    let big = [pdf.as_slice(), &vec![b' '; 1_500_000]].concat();
    let short = b"Jane Doe\nEngineer".to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "scanned.pdf",
            fixture("scanned.pdf"),
            "no text layer (it looks scanned)",
        ),
        (
            "protected.pdf",
            fixture("protected.pdf"),
            "password-protected",
        ),
        (
            "truncated.pdf",
            pdf[..pdf.len() / 2].to_vec(),
            "damaged or truncated",
        ),
        ("photo.pdf", fixture("photo.pdf"), "a PNG image"),
        ("legacy.doc", fixture("legacy.doc"), "Word 97–2003 document"),
        ("resume.odt", fixture("resume.odt"), "OpenDocument"),
        (
            "groff_21_pages.pdf",
            fixture("groff_21_pages.pdf"),
            "21 pages; at most 20",
        ),
        (
            "zip_bomb.docx",
            fixture("zip_bomb.docx"),
            "inflates to 1024 MB",
        ),
        ("short.txt", short, "at least 50 are needed"),
        ("big.pdf", big, "larger than 1464 KB"),
    ];
    for (name, bytes, says) in cases {
        let (status, body) = app
            .upload(UPLOAD, name, "application/pdf", &bytes, Some(&token))
            .await;
        let message = refusal(&body);
        assert!(message.contains(says), "{name} (HTTP {status}): {message}");
        assert_eq!(body["data"], Value::Null, "{name}: {body}");
        let after = app.data(ME, json!({}), Some(&token)).await;
        assert_eq!(after, before, "{name}: the previous resume is untouched");
    }
    // Past the multipart body limit (HTTP_MAX_BODY_BYTES + RESUME_MAX_FILE_BYTES) the request
    // is refused from its Content-Length, unread: the answer comes before any body is sent.
    let (status, body) = declared_upload(&app, &token, 3_000_000).await;
    assert_eq!(status, 413, "{body}");
    assert!(refusal(&body).contains("RESUME_MAX_FILE_BYTES"));

    let download = app.get_as("/files/resume", Some(&token)).await;
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        fixture("word_like.docx").as_slice()
    );

    // Anonymous uploads are refused before anything is read.
    let (_, body) = app
        .upload(
            UPLOAD,
            "word_like.docx",
            "application/pdf",
            &fixture("word_like.docx"),
            None,
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    app.stop().await.expect("stops");
}

async fn the_uploaded_text_is_assigned_and_matched(backend: Backend) {
    let mock = MockBoards::start().await;
    serve_all(&mock);
    let app = spawn_app_with(backend, |vars| vars_for(&mock, vars)).await;
    let admin = app.admin_token().await;
    let id = app.start_run(&admin).await;
    assert_eq!(
        app.until_run_ended(&admin, &id, 30).await["status"],
        "SUCCEEDED"
    );
    let token = app.register("upload-match@example.com").await;
    let (status, body) = upload(&app, &token, "libreoffice.pdf", "application/pdf").await;
    assert_eq!(status, 200, "{body}");
    let assignment = settled(&app, &token).await;
    assert_eq!(
        assignment["category"]["slug"], "software_engineer",
        "{assignment}"
    );
    app.until_queues_idle(30).await;
    let matches = app
        .data(
            "{ matchedJobs(first: 50) { totalCount edges { node { score matchedSkills job { title } } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let m = &matches["matchedJobs"];
    assert!(m["totalCount"].as_i64().unwrap_or(0) >= 3, "{m}");
    let skills = m["edges"][0]["node"]["matchedSkills"]
        .to_string()
        .to_lowercase();
    assert!(
        ["rust", "go", "kubernetes", "postgresql", "aws"]
            .iter()
            .any(|s| skills.contains(s)),
        "the best match is on the resume's skills: {m}"
    );
    app.stop().await.expect("stops");
}

on_each_backend!(
    every_type_uploads_reads_and_downloads,
    refused_files_store_nothing_and_say_why,
    the_uploaded_text_is_assigned_and_matched
);
