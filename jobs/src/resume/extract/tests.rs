//! The extractor on the fixtures real producers made (`jobs/fixtures/resumes/make.py`):
//! word recall and reading order against the text each holds, and every refusal.

use std::collections::HashMap;

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/resumes/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Share of the expected words found (as a multiset), and share found in the expected order
/// (longest common subsequence): interleaved columns score low on the second.
pub fn recall_and_order(expected: &str, got: &str) -> (f64, f64) {
    let (e, g) = (words(expected), words(got));
    let mut have: HashMap<&str, usize> = HashMap::new();
    for w in &g {
        *have.entry(w).or_default() += 1;
    }
    let mut found = 0;
    for w in &e {
        if let Some(n) = have.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    let mut row = vec![0usize; g.len() + 1];
    for a in &e {
        let mut diagonal = 0;
        for (j, b) in g.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if a == b {
                diagonal + 1
            } else {
                row[j + 1].max(row[j])
            };
            diagonal = up;
        }
    }
    let n = e.len().max(1) as f64;
    (found as f64 / n, row[g.len()] as f64 / n)
}

fn read(name: &str) -> Extracted {
    extract(&fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_producer_reads_with_high_recall_in_reading_order() {
    for (file, expected, source, pages) in [
        ("word_like.docx", "word_like", ResumeSource::Docx, Some(2)),
        (
            "libreoffice.docx",
            "libreoffice",
            ResumeSource::Docx,
            Some(2),
        ),
        ("two_column.docx", "two_column", ResumeSource::Docx, Some(1)),
        ("libreoffice.pdf", "libreoffice", ResumeSource::Pdf, Some(2)),
        ("two_column.pdf", "two_column", ResumeSource::Pdf, Some(1)),
        ("groff.pdf", "groff", ResumeSource::Pdf, Some(1)),
        (
            "groff_two_column.pdf",
            "groff_two_column",
            ResumeSource::Pdf,
            Some(1),
        ),
        ("resume.md", "resume_md", ResumeSource::Markdown, None),
        ("resume.txt", "resume_txt", ResumeSource::Text, None),
    ] {
        let got = read(file);
        let truth = String::from_utf8(fixture(&format!("expected/{expected}.txt"))).expect("utf-8");
        let (recall, order) = recall_and_order(&truth, &got.text);
        // `cargo test -p jobs every_producer -- --nocapture` prints the figures.
        println!("{file}: word recall {recall:.3}, in order {order:.3}");
        assert!(
            recall >= 0.97 && order >= 0.97,
            "{file}: recall {recall:.3}, order {order:.3}\n{}",
            got.text
        );
        assert_eq!((got.source, got.pages), (source, pages), "{file}");
    }
}

#[test]
fn a_sidebar_is_read_before_the_main_column_not_interleaved() {
    for file in ["two_column.pdf", "two_column.docx"] {
        let text = read(file).text;
        let at = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{file}: no {s:?} in\n{text}"))
        };
        // The sidebar's lines, in order and together, then the main column's.
        assert!(at("Contact") < at("priya.n@example.com"));
        assert!(
            at("Madras, 2014") < at("Priya Natarajan"),
            "{file}:\n{text}"
        );
        assert!(at("UC Berkeley") < at("Madras, 2014"), "{file}:\n{text}");
        assert!(at("Senior Data Scientist") < at("Data scientist with eight years"));
        assert!(
            text.contains("Python, SQL, PyTorch\nscikit-learn, XGBoost"),
            "{file}:\n{text}"
        );
    }
}

#[test]
fn headers_and_footers_are_kept_once_and_page_numbers_dropped() {
    for file in ["libreoffice.pdf", "word_like.docx", "libreoffice.docx"] {
        let text = read(file).text;
        assert_eq!(text.matches("Alex Moreno").count(), 1, "{file}:\n{text}");
        assert_eq!(text.matches("+49 30 1234 5678").count(), 1, "{file}");
        assert!(
            !text.lines().any(|l| l.starts_with("Page ")),
            "{file}:\n{text}"
        );
    }
}

#[test]
fn lists_stay_lines_and_groff_hyphenation_and_ligatures_are_undone() {
    let text = read("libreoffice.pdf").text;
    assert!(
        text.contains("\n- Built gRPC and REST APIs in Go serving 40,000 requests per second.\n"),
        "{text}"
    );
    let groff = read("groff.pdf").text;
    for word in [
        "qualification",
        "predictable",
        "fixtures",
        "flexures",
        "field",
        "first",
        "effective",
    ] {
        assert!(groff.contains(word), "{word:?} in\n{groff}");
    }
    assert!(!groff.contains('ﬁ') && !groff.contains('ﬂ'));
    let docx = read("word_like.docx").text;
    assert!(
        docx.contains("through migrations without downtime"),
        "soft hyphen dropped"
    );
    assert!(docx.contains("Languages | Rust, Go, Python, SQL"));
    assert!(docx.contains("Kastanienallee 12\n10435 Berlin"));
    assert!(docx.contains("- Maintainer of an open-source Rust crate"));
}

fn refused(bytes: &[u8]) -> Refusal {
    extract(bytes, &Limits::default()).expect_err("refused")
}

#[test]
fn what_is_refused_says_why() {
    assert_eq!(refused(&fixture("scanned.pdf")), Refusal::Scanned);
    assert_eq!(refused(&fixture("protected.pdf")), Refusal::Protected);
    assert!(matches!(
        refused(&fixture("groff_21_pages.pdf")),
        Refusal::TooManyPages { pages: 21, max: 20 }
    ));
    assert_eq!(read("groff_20_pages.pdf").pages, Some(20));
    for (file, says) in [
        ("photo.pdf", "a PNG image"),
        ("legacy.doc", "Word 97–2003 document (.doc)"),
        ("resume.odt", "OpenDocument text (.odt)"),
    ] {
        let why = refused(&fixture(file)).to_string();
        assert!(why.contains(says), "{file}: {why}");
    }
    let pdf = fixture("libreoffice.pdf");
    let why = refused(&pdf[..pdf.len() / 2]).to_string();
    assert!(why.contains("damaged or truncated"), "{why}");
    assert_eq!(refused(b""), Refusal::Empty);
    assert!(
        refused(b"\x00\x01\x02binary")
            .to_string()
            .contains("binary data")
    );
    assert!(matches!(
        extract(
            &pdf,
            &Limits {
                max_bytes: 1000,
                ..Limits::default()
            }
        ),
        Err(Refusal::TooLarge { .. })
    ));
}

#[test]
fn a_zip_bomb_is_refused_without_inflating_it() {
    // 1024 MB is the size the archive's directory declares: a bounded read that inflated the
    // part would have stopped at 16 MB and said so.
    let why = refused(&fixture("zip_bomb.docx"));
    assert!(
        matches!(&why, Refusal::Bomb(m) if m.contains("1024 MB")),
        "{why}"
    );
}

#[tokio::test]
async fn the_guarded_extraction_turns_panics_and_slowness_into_refusals() {
    let ok = extract_guarded(Arc::from(fixture("resume.md")), Limits::default())
        .await
        .expect("reads");
    assert_eq!(ok.source, ResumeSource::Markdown);
    // A deadline already past: the parser stops at its first check.
    let late = Limits {
        timeout: Duration::ZERO,
        ..Limits::default()
    };
    assert_eq!(
        extract_guarded(Arc::from(fixture("groff_20_pages.pdf")), late).await,
        Err(Refusal::TimedOut)
    );
}

/// A PDF whose page has no MediaBox, which `pdf-extract` meets with a panic.
fn pdf_without_media_box() -> Vec<u8> {
    use pdf_extract::{Dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content = Stream::new(
        Dictionary::new(),
        b"BT /F1 12 Tf 72 720 Td (Senior Backend Engineer) Tj ET".to_vec(),
    );
    let content_id = doc.add_object(content);
    let mut page = Dictionary::new();
    page.set("Type", Object::Name(b"Page".to_vec()));
    page.set("Parent", Object::Reference(pages_id));
    page.set("Contents", Object::Reference(content_id));
    let page_id = doc.add_object(page);
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(vec![Object::Reference(page_id)]));
    pages.set("Count", Object::Integer(1));
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("writes");
    bytes
}

#[tokio::test]
async fn a_parser_panic_is_a_refusal_not_a_crash() {
    let got = extract_guarded(Arc::from(pdf_without_media_box()), Limits::default()).await;
    assert_eq!(got, Err(Refusal::Crashed));
    assert!(Refusal::Crashed.to_string().contains("could not be read"));
}

#[test]
fn page_numbers_are_told_apart_from_content() {
    for yes in ["3", "Page 2", "page 2 of 4", "2/4", "- 3 -"] {
        assert!(is_page_number(yes), "{yes}");
    }
    for no in ["2019 – 2023", "2016", "Page", "Rust 2021", "24/7 on-call"] {
        assert!(!is_page_number(no), "{no}");
    }
}

#[test]
#[ignore = "prints a fixture's text: cargo test -p jobs show_fixture -- --ignored --nocapture"]
fn show_fixture() {
    let name = std::env::var("FIXTURE").unwrap_or_else(|_| "groff.pdf".into());
    if std::env::var("RAW").is_ok() {
        println!(
            "{}",
            pdf_extract::extract_text_from_mem(&fixture(&name)).unwrap_or_default()
        );
    }
    println!("{}", read(&name).text);
}
