//! Tailored documents end to end: `tailorDocument` queues `TailorDocument`, the worker makes
//! it (deterministically, or through the Bedrock mock with every edit checked against the
//! resume), and the owner downloads it as PDF, DOCX and Markdown — by Bearer token or signed
//! link — while nobody else can.

use std::io::Read;

use chrono::Utc;
use entity::{Fingerprint, JobHash, job_listing};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

const RESUME: &str = "Jane Doe\njane@example.com | Berlin\n\nSummary\nBackend engineer who likes quiet systems.\n\n\
Experience\nSenior Engineer, Acme GmbH (2020–2024)\n- Organised the team offsite and the office move\n\
- Built payment APIs in Rust on PostgreSQL serving 2,000 requests per second\n- Ran the on-call rota for 12 services\n\n\
Engineer, Beta AG (2017–2020)\n- Wrote reporting scripts in Python\n- Moved billing from cron jobs to a queue in Go\n\n\
Skills\nLanguages: Python, Go, Rust, SQL\nTools: Excel, Docker, PostgreSQL\n\n\
Education\nBSc Computer Science, TU Berlin, 2017\n";

const TAILOR: &str = "mutation($id: ID!, $kind: DocumentKind) { tailorDocument(jobListingId: $id, kind: $kind) { id status kind stale } }";
const DOCUMENT: &str = "query($id: ID!) { tailoredDocument(id: $id) { id kind status method markdown stale error warnings suggestions inputTokens outputTokens modelId
  changes { section before after why } downloads { pdf docx markdown } job { id title } } }";
const SAVE: &str = "mutation($t: String!) { saveResume(text: $t) { id } }";

async fn listing(app: &TestApp, title: &str, company: &str, description: &str) -> String {
    let now = Utc::now();
    let url = format!("https://boards.example/{}", title.replace(' ', "-"));
    let row = job_listing::ActiveModel {
        job_hash: Set(JobHash::of(title, company, &url)),
        fingerprint: Set(Fingerprint::of(title, company, Some("Berlin, Germany"))),
        title: Set(title.into()),
        company: Set(company.into()),
        location: Set(Some("Berlin, Germany".into())),
        job_url: Set(url),
        source: Set("greenhouse".into()),
        description: Set(Some(description.into())),
        salary_is_estimated: Set(false),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("listing stored");
    row.id.to_string()
}

const RUST_ROLE: &str = "We build payment APIs in Rust on PostgreSQL. You will own services, \
their on-call and their queues. Kafka experience is a must.";

async fn tailor(app: &TestApp, token: &str, listing: &str, kind: &str) -> Value {
    app.data(TAILOR, json!({ "id": listing, "kind": kind }), Some(token))
        .await["tailorDocument"]
        .clone()
}

async fn ready(app: &TestApp, token: &str, id: &str) -> Value {
    app.until_queues_idle(30).await;
    let doc =
        app.data(DOCUMENT, json!({ "id": id }), Some(token)).await["tailoredDocument"].clone();
    assert_eq!(doc["status"], "READY", "{doc:#}");
    doc
}

fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    jobs::resume::extract::extract(bytes, &jobs::resume::extract::Limits::default())
        .expect("the extractor reads the PDF")
        .text
}

fn docx_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .expect("UTF-8");
    xml
}

async fn keyword_documents(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": RESUME }), Some(&jane)).await;
    let rust = listing(&app, "Senior Rust Engineer", "Globex", RUST_ROLE).await;

    let asked = tailor(&app, &jane, &rust, "RESUME").await;
    assert_eq!(
        (asked["status"].as_str(), asked["stale"].as_bool()),
        (Some("PENDING"), Some(false))
    );
    let id = asked["id"].as_str().expect("id").to_owned();
    let doc = ready(&app, &jane, &id).await;
    assert_eq!(doc["method"], "KEYWORD");
    assert_eq!(doc["job"]["title"], "Senior Rust Engineer");
    let md = doc["markdown"].as_str().expect("markdown");
    // The bullet closest to the listing comes first in its entry; nothing is dropped.
    let payment = md.find("Built payment APIs").expect("payment bullet");
    let offsite = md
        .find("Organised the team offsite")
        .expect("offsite bullet kept");
    assert!(payment < offsite, "{md}");
    assert!(
        md.contains("Applying for the Senior Rust Engineer role at Globex"),
        "{md}"
    );
    assert!(
        !md.contains("Kafka"),
        "a missing skill is never claimed: {md}"
    );
    assert!(
        doc["suggestions"].to_string().contains("Kafka"),
        "missing skills are suggested: {doc:#}"
    );
    let changes = doc["changes"].as_array().expect("changes");
    assert!(
        changes.iter().any(|c| c["section"]
            == "Experience — Senior Engineer, Acme GmbH (2020–2024)"
            && c["before"]
                .as_str()
                .is_some_and(|b| b.starts_with("Organised"))
            && c["after"]
                .as_str()
                .is_some_and(|a| a.starts_with("Built payment"))),
        "{changes:#?}"
    );
    // The Markdown shows every change's result.
    for c in changes {
        let first = c["after"]
            .as_str()
            .expect("after")
            .split(" | ")
            .next()
            .expect("text");
        let plain = md.replace('\\', "");
        assert!(plain.contains(first), "{first} in {md}");
    }

    // Asking again reuses it.
    let again = tailor(&app, &jane, &rust, "RESUME").await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["status"], "READY");

    // Downloads with the Bearer token.
    let pdf = app
        .get_as(&format!("/documents/{id}/pdf"), Some(&jane))
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = pdf_text(&pdf.bytes().await.expect("body"));
    assert!(text.contains("Jane Doe"), "{text}");
    let built = text.find("Built payment APIs").expect("bullet in the PDF");
    assert!(
        built < text.find("Organised the team").expect("kept"),
        "{text}"
    );
    let docx = app
        .get_as(&format!("/documents/{id}/docx"), Some(&jane))
        .await;
    assert_eq!(docx.status(), 200);
    let xml = docx_xml(&docx.bytes().await.expect("body"));
    assert!(xml.contains("Built payment APIs in Rust"), "{xml}");
    let markdown = app
        .get_as(&format!("/documents/{id}/md"), Some(&jane))
        .await;
    assert_eq!(markdown.status(), 200);
    assert_eq!(markdown.text().await.expect("body"), md);
    assert_eq!(
        app.get_as(&format!("/documents/{id}/exe"), Some(&jane))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(&format!("/documents/{id}/pdf"), None)
            .await
            .status(),
        401
    );

    // Signed links work without a header, only for their document and format.
    let links = &doc["downloads"];
    let pdf_link = links["pdf"].as_str().expect("pdf link");
    let signed = app.get_as(pdf_link, None).await;
    assert_eq!(signed.status(), 200);
    assert!(pdf_text(&signed.bytes().await.expect("body")).contains("Jane Doe"));
    let as_docx = pdf_link.replace("/pdf?", "/docx?");
    assert_eq!(
        app.get_as(&as_docx, None).await.status(),
        401,
        "a pdf link opens no docx"
    );
    let tampered = format!("{pdf_link}x");
    assert_eq!(app.get_as(&tampered, None).await.status(), 401);
    let token = pdf_link.split("token=").nth(1).expect("token");
    let me = app
        .graphql("{ me { email } }", json!({}), Some(token))
        .await;
    assert_eq!(
        error_code(&me),
        Some("UNAUTHENTICATED"),
        "a link is no session: {me}"
    );

    // Another user sees nothing of it.
    let eve = app.register("eve@example.com").await;
    let theirs = app.data(DOCUMENT, json!({ "id": id }), Some(&eve)).await;
    assert!(theirs["tailoredDocument"].is_null(), "{theirs}");
    assert_eq!(
        app.get_as(&format!("/documents/{id}/pdf"), Some(&eve))
            .await
            .status(),
        404
    );
    let list = app
        .data("{ tailoredDocuments { id } }", json!({}), Some(&eve))
        .await;
    assert_eq!(list["tailoredDocuments"], json!([]));

    // A cover letter cites the resume.
    let letter = tailor(&app, &jane, &rust, "COVER_LETTER").await;
    let letter = ready(&app, &jane, letter["id"].as_str().expect("id")).await;
    let text = letter["markdown"].as_str().expect("markdown");
    assert!(text.contains("Dear Globex hiring team"), "{text}");
    assert!(
        text.contains("built payment APIs in Rust on PostgreSQL"),
        "{text}"
    );

    // A new resume makes both stale; asking again makes a new one.
    app.data(
        SAVE,
        json!({ "t": RESUME.replace("Berlin\n", "Hamburg\n") }),
        Some(&jane),
    )
    .await;
    let stale = app.data(DOCUMENT, json!({ "id": id }), Some(&jane)).await;
    assert_eq!(stale["tailoredDocument"]["stale"], true);
    let fresh = tailor(&app, &jane, &rust, "RESUME").await;
    assert_ne!(fresh["id"], id.as_str());
    let list = app
        .data(
            "query($l: ID) { tailoredDocuments(jobListingId: $l) { id kind stale } }",
            json!({ "l": rust }),
            Some(&jane),
        )
        .await;
    assert_eq!(
        list["tailoredDocuments"].as_array().map(Vec::len),
        Some(3),
        "{list}"
    );
    assert_eq!(
        list["tailoredDocuments"][0]["id"], fresh["id"],
        "newest first"
    );

    // Bad requests: an unknown listing, no resume.
    let missing = app
        .graphql(TAILOR, json!({ "id": "999999" }), Some(&jane))
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
    let none = app.graphql(TAILOR, json!({ "id": rust }), Some(&eve)).await;
    assert_eq!(error_code(&none), Some("VALIDATION"), "{none}");
    app.stop().await.expect("stops");
}

on_each_backend!(keyword_documents);

/// What the mock model proposes for the resume: one honest rewording, one bullet that
/// invents an employer and a metric, a skill the resume lacks, and a summary.
fn proposed_edits() -> Value {
    json!({
        "summary": {"text": "Backend engineer who built payment APIs in Rust on PostgreSQL.", "why": "Leads with the listing's stack."},
        "bullets": [
            {"id": "B2", "text": "Built Rust payment APIs on PostgreSQL serving 2,000 requests per second", "why": "Stack first."},
            {"id": "B3", "text": "Ran on-call for 12 services at Google, cutting incidents by 45%", "why": "Impact."},
            {"id": "B1", "text": "Organised the team offsite and the office move", "why": "Kept."},
            {"id": "B9", "text": "Invented bullet", "why": "?"}
        ],
        "skills": ["Rust", "PostgreSQL", "Kafka", "Go"],
        "missing_skills": ["Kafka"]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_edits_are_checked_against_the_resume() {
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| match call.forced_tool() {
        Some("tailor_resume") => BedrockReply::tool_use("tailor_resume", proposed_edits(), None),
        _ => BedrockReply::error(400, "ValidationException", "not in this test"),
    });
    let app = spawn_app_with(Backend::Sqlite, |vars| bedrock.vars(vars)).await;
    let jane = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": RESUME }), Some(&jane)).await;
    let rust = listing(&app, "Senior Rust Engineer", "Globex", RUST_ROLE).await;
    app.until_queues_idle(30).await;
    let before = bedrock.call_count();

    let id = tailor(&app, &jane, &rust, "RESUME").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let doc = ready(&app, &jane, &id).await;
    let calls: Vec<_> = bedrock.calls().into_iter().skip(before).collect();
    assert_eq!(calls.len(), 1, "one call");
    let call = &calls[0];
    assert_eq!(call.forced_tool(), Some("tailor_resume"));
    assert_eq!(
        call.body
            .pointer("/inferenceConfig/temperature")
            .and_then(Value::as_f64),
        Some(0.0)
    );
    let prompt = call.prompt();
    assert!(
        prompt.contains("Senior Rust Engineer") && prompt.contains("Kafka experience is a must"),
        "{prompt}"
    );
    assert!(
        prompt.contains("[B2] Built payment APIs in Rust"),
        "{prompt}"
    );

    assert_eq!(doc["method"], "LLM");
    assert_eq!(
        (doc["inputTokens"].as_i64(), doc["outputTokens"].as_i64()),
        (Some(812), Some(64))
    );
    let md = doc["markdown"].as_str().expect("markdown");
    assert!(
        md.contains("Built Rust payment APIs on PostgreSQL serving 2,000"),
        "{md}"
    );
    assert!(
        !md.contains("Google") && !md.contains("45"),
        "the invention is stripped: {md}"
    );
    assert!(
        md.contains("Ran the on-call rota for 12 services"),
        "the original stays: {md}"
    );
    assert!(!md.contains("Kafka"), "{md}");
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("\\\"45\\\"") && warnings.contains("Google"),
        "{warnings}"
    );
    assert!(
        warnings.contains("Kafka") && warnings.contains("B9"),
        "{warnings}"
    );
    assert!(doc["suggestions"].to_string().contains("Kafka"));
    // The model's order: B2 before B3 before B1.
    let b2 = md.find("Built Rust payment").expect("b2");
    let b3 = md.find("Ran the on-call").expect("b3");
    let b1 = md.find("Organised").expect("b1");
    assert!(b2 < b3 && b3 < b1, "{md}");
    let skills = md
        .find("Rust, SQL")
        .or_else(|| md.find("Go, Rust"))
        .is_none();
    assert!(skills, "skills reordered: {md}");

    // Asked again: the stored document, no call.
    let again = tailor(&app, &jane, &rust, "RESUME").await;
    assert_eq!(again["id"], id.as_str());
    app.until_queues_idle(10).await;
    assert_eq!(bedrock.call_count(), before + 1, "no second call");
    app.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_llm_failure_falls_back_to_keyword_tailoring() {
    let bedrock = MockBedrock::start().await;
    // Each listing's title names the failure its tailoring meets.
    bedrock.respond(|call| {
        if call.forced_tool() != Some("write_cover_letter") {
            return BedrockReply::error(400, "ValidationException", "not in this test");
        }
        let prompt = call.prompt();
        let case = (1..=7).find(|n| prompt.contains(&format!("Title: Case {n} "))).unwrap_or(0);
        match case {
            1 => BedrockReply::malformed(),
            2 => BedrockReply::error(503, "ServiceUnavailableException", "down"),
            3 => BedrockReply::error(429, "ThrottlingException", "slow down"),
            4 => BedrockReply::text_only("Here is a letter: Dear team…"),
            5 => BedrockReply::content_filtered(),
            6 => BedrockReply::tool_use("write_cover_letter", json!({"paragraphs": "not a list"}), None),
            // Every paragraph invents something: nothing usable is left.
            _ => BedrockReply::tool_use(
                "write_cover_letter",
                json!({"paragraphs": [{"text": "I led 40 engineers at Google.", "evidence": []}], "missing_skills": []}),
                None,
            ),
        }
    });
    let app = spawn_app_with(Backend::Sqlite, |vars| bedrock.vars(vars)).await;
    let jane = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": RESUME }), Some(&jane)).await;
    let mut ids = Vec::new();
    for n in 1..=7 {
        let l = listing(
            &app,
            &format!("Case {n} Rust Engineer"),
            "Globex",
            RUST_ROLE,
        )
        .await;
        ids.push(
            tailor(&app, &jane, &l, "COVER_LETTER").await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let doc = ready(&app, &jane, id).await;
        assert_eq!(doc["method"], "KEYWORD", "case {}: {doc:#}", n + 1);
        let first = doc["warnings"][0].as_str().unwrap_or_default();
        assert!(
            first.starts_with("Tailored without the LLM"),
            "case {}: {first}",
            n + 1
        );
        let md = doc["markdown"].as_str().expect("markdown");
        assert!(
            md.contains("Dear Globex hiring team") && !md.contains("Google"),
            "{md}"
        );
        assert!(doc["inputTokens"].is_null());
    }
    app.stop().await.expect("stops");
}

const PROGRESS: &str =
    "subscription($id: ID!) { tailoredDocumentProgress(id: $id) { id status method } }";

/// The next protocol message (pings skipped), failing after a deadline.
async fn next(socket: &mut tests::ws::Socket) -> Value {
    use futures::StreamExt;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).expect("JSON");
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

async fn subscribe(socket: &mut tests::ws::Socket, id: &str) {
    use futures::SinkExt;
    let message = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": PROGRESS, "variables": { "id": id } } });
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            message.to_string(),
        ))
        .await
        .expect("send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_follows_a_document_and_new_ones_are_rate_limited() {
    let app = tests::spawn_api_only(Backend::Sqlite, |vars| {
        vars.insert("TAILOR_MAX_PER_HOUR".into(), "2".into());
    })
    .await;
    let jane = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": RESUME }), Some(&jane)).await;
    let rust = listing(&app, "Senior Rust Engineer", "Globex", RUST_ROLE).await;
    let id = tailor(&app, &jane, &rust, "RESUME").await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Another user cannot follow it.
    let eve = app.register("eve@example.com").await;
    let mut theirs = tests::ws::connect(&app, Some(&eve)).await.expect("socket");
    subscribe(&mut theirs, &id).await;
    let refused = next(&mut theirs).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    assert!(refused["payload"]["data"].is_null(), "{refused}");

    let mut socket = tests::ws::connect(&app, Some(&jane)).await.expect("socket");
    subscribe(&mut socket, &id).await;
    let first = next(&mut socket).await;
    assert_eq!(
        first["payload"]["data"]["tailoredDocumentProgress"]["status"], "PENDING",
        "{first}"
    );
    let workers = app.start_workers();
    let mut last = first;
    loop {
        let message = next(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => last = message,
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }
    let done = &last["payload"]["data"]["tailoredDocumentProgress"];
    assert_eq!(
        (done["status"].as_str(), done["method"].as_str()),
        (Some("READY"), Some("KEYWORD")),
        "{last}"
    );
    workers.stop().await;

    // Two new documents an hour: the second listing is fine, the third is refused with when
    // to come back, and asking for a stored one again still answers.
    let go = listing(&app, "Go Engineer", "Initech", "Go services and queues.").await;
    tailor(&app, &jane, &go, "RESUME").await;
    let python = listing(&app, "Python Engineer", "Hooli", "Python reporting.").await;
    let limited = app
        .graphql(TAILOR, json!({ "id": python }), Some(&jane))
        .await;
    assert_eq!(error_code(&limited), Some("RATE_LIMITED"), "{limited}");
    let after = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!((1..=3600).contains(&after), "{limited}");
    let cached = tailor(&app, &jane, &rust, "RESUME").await;
    assert_eq!(cached["id"], id.as_str());
    app.stop().await.expect("stops");
}
