//! Text from a resume file: the type read from the bytes (never the name or the declared
//! type), the text read in process and in pure Rust, cleaned, and every failure a
//! [`Refusal`] a person can act on.
//!
//! - [`pdf`]: the text layer of a PDF, in reading order (columns, not interleaved lines).
//! - [`docx`]: a DOCX read from its XML, with the archive bounded before it is inflated.
//! - [`plain`]: plain text and Markdown.
//! - [`clean`]: the cleaning every text goes through (ligatures, bullets, hyphenation,
//!   whitespace, NFC).
//!
//! [`extract_guarded`] is the way in from async code: a thread of its own, a time limit, a cap
//! on extractions at once, and a panic inside a parser turned into a refusal.

pub mod clean;
pub mod docx;
pub mod pdf;
pub mod plain;

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use entity::ResumeSource;
use tokio::sync::Semaphore;

/// The limits an upload is read under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `RESUME_MAX_FILE_BYTES`.
    pub max_bytes: usize,
    /// `RESUME_MAX_PAGES`.
    pub max_pages: u32,
    /// How long reading one file may take.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_pages: 20,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The text of a file, and what to tell its owner about the reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub source: ResumeSource,
    pub text: String,
    pub pages: Option<u32>,
    pub warnings: Vec<String>,
}

/// Why a file is not read. The message is for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is {} KB; at most {} KB is accepted (RESUME_MAX_FILE_BYTES)", .size.div_ceil(1024), .max / 1024)]
    TooLarge { size: usize, max: usize },
    #[error(
        "the document has {pages} pages; at most {max} are read (RESUME_MAX_PAGES): upload the resume alone"
    )]
    TooManyPages { pages: u32, max: u32 },
    #[error("this PDF has no text layer (it looks scanned): export a text PDF or paste the text")]
    Scanned,
    #[error(
        "this PDF is password-protected: save or print it again without a password, or paste the text"
    )]
    Protected,
    #[error(
        "this Word document is password-protected: save it again without a password, or paste the text"
    )]
    ProtectedDocx,
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    Bomb(String),
    #[error(
        "this file is {0}; upload a PDF, a DOCX, a Markdown or a plain text file, or paste the text"
    )]
    Unsupported(String),
    #[error("the file is empty")]
    Empty,
    #[error(
        "reading the file took too long; export it again as a simpler PDF or DOCX, or paste the text"
    )]
    TimedOut,
    #[error("the file could not be read (it looks damaged); export it again, or paste the text")]
    Crashed,
}

/// What the bytes are, as far as a resume upload cares; for text, the text decoded.
fn identify(bytes: &[u8]) -> Result<(ResumeSource, Option<String>), Refusal> {
    let head = &bytes[..bytes.len().min(1024)];
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok((ResumeSource::Pdf, None));
    }
    if starts(b"PK\x03\x04") {
        if head
            .windows(39)
            .any(|w| w == b"application/vnd.oasis.opendocument.text")
        {
            return Err(Refusal::Unsupported(
                "an OpenDocument text (.odt): save it as DOCX or PDF".into(),
            ));
        }
        return Ok((ResumeSource::Docx, None));
    }
    if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let has = |s: &str| {
            let needle = utf16(s);
            bytes.windows(needle.len()).any(|w| w == needle.as_slice())
        };
        if has("EncryptedPackage") {
            return Err(Refusal::ProtectedDocx);
        }
        let what = if has("WordDocument") {
            "a Word 97–2003 document (.doc): save it as DOCX or PDF"
        } else {
            "a Microsoft Office 97–2003 file, not a resume document"
        };
        return Err(Refusal::Unsupported(what.into()));
    }
    if let Some(text) = plain::decode(bytes) {
        let lead = text.trim_start().to_lowercase();
        let what = if lead.starts_with("<!doctype html") || lead.starts_with("<html") {
            Some("an HTML page: print it to PDF, or paste the text")
        } else if lead.starts_with("{\\rtf") {
            Some("a Rich Text Format file (.rtf): save it as DOCX or PDF")
        } else if lead.starts_with("%!ps") {
            Some("a PostScript file: convert it to PDF")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(Refusal::Unsupported(what.into()));
        }
        let source = if plain::is_markdown(&text) {
            ResumeSource::Markdown
        } else {
            ResumeSource::Text
        };
        return Ok((source, Some(text)));
    }
    let binary: [(&[u8], &str); 13] = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"BM", "a BMP image"),
        (b"RIFF", "a RIFF media file (WebP image, WAV or AVI)"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\x7FELF", "a program (ELF)"),
        (b"MZ", "a Windows program"),
        (b"\0\0\0", "a media file (HEIC photo, MP4 video or similar)"),
    ];
    let what = binary.iter().find(|(magic, _)| starts(magic)).map_or(
        "binary data of no type we read (and not UTF-8 text)",
        |(_, what)| what,
    );
    let hint = if what.ends_with("image") {
        ": to upload a scan, export a text PDF first"
    } else {
        ""
    };
    Err(Refusal::Unsupported(format!("{what}{hint}")))
}

/// Whether a line is only a page number ("3", "Page 2 of 4", "2/4", "- 3 -"; at most three
/// digits, so "2016" is a year).
pub fn is_page_number(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    let l = l.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let l = l.strip_prefix("page").unwrap_or(l).trim();
    if l.is_empty() {
        return false;
    }
    let mut parts = l.splitn(2, '/').collect::<Vec<_>>();
    if parts.len() == 1 {
        parts = l.splitn(2, " of ").collect();
    }
    parts.iter().all(|p| {
        let p = p.trim();
        (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit())
    })
}

/// Lines repeated at the top or bottom of several pages (a running header or footer, the
/// page number aside) kept on the first page only; page-number lines dropped.
fn once_per_document(pages: &mut [Vec<String>]) {
    let key = |l: &str| -> String {
        l.chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect::<String>()
            .to_lowercase()
    };
    // Page numbers sit in the first or last two lines of a page.
    for page in pages.iter_mut() {
        let text: Vec<usize> = (0..page.len())
            .filter(|&i| !page[i].trim().is_empty())
            .collect();
        let edge: Vec<usize> = text
            .iter()
            .take(2)
            .chain(text.iter().skip(text.len().saturating_sub(2)))
            .copied()
            .collect();
        let mut i = 0;
        page.retain(|l| {
            let keep = !(edge.contains(&i) && is_page_number(l));
            i += 1;
            keep
        });
    }
    if pages.len() < 2 {
        return;
    }
    let edges = |page: &[String]| -> Vec<String> {
        let text: Vec<&String> = page.iter().filter(|l| !l.trim().is_empty()).collect();
        let n = text.len();
        let mut out: Vec<String> = text.iter().take(3).map(|l| key(l)).collect();
        out.extend(text.iter().skip(n.saturating_sub(3)).map(|l| key(l)));
        out
    };
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for page in pages.iter() {
        let mut seen = edges(page);
        seen.sort();
        seen.dedup();
        for k in seen {
            *counts.entry(k).or_default() += 1;
        }
    }
    let needed = (pages.len() / 2).max(2);
    for page in pages.iter_mut().skip(1) {
        let edge = edges(page);
        page.retain(|l| {
            let k = key(l);
            !(edge.contains(&k) && counts.get(&k).is_some_and(|&n| n >= needed))
        });
    }
}

/// Reads `bytes` (synchronously; see [`extract_guarded`]).
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Refusal> {
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let deadline = Instant::now() + limits.timeout;
    let (source, text) = identify(bytes)?;
    let mut warnings = Vec::new();
    let (raw, pages) = match source {
        ResumeSource::Pdf => {
            let read = pdf::read(bytes, limits.max_pages, deadline)?;
            let count = read.pages.len() as u32;
            let mut pages = read.pages;
            once_per_document(&mut pages);
            let text = pages
                .iter()
                .map(|p| p.join("\n"))
                .collect::<Vec<_>>()
                .join("\n\n");
            let visible = text.chars().filter(|c| !c.is_whitespace()).count();
            if visible == 0 || visible < 50 && read.has_images {
                return Err(Refusal::Scanned);
            }
            if read.has_images && visible < 200 * count as usize {
                warnings.push(format!(
                    "little text for {count} pages: parts of this PDF may be images, which are not read"
                ));
            }
            (text, Some(count))
        }
        ResumeSource::Docx => {
            let docx = docx::read(bytes)?;
            if let Some(pages) = docx.pages
                && pages > limits.max_pages
            {
                return Err(Refusal::TooManyPages {
                    pages,
                    max: limits.max_pages,
                });
            }
            (docx.text, docx.pages)
        }
        ResumeSource::Markdown => (plain::markdown_text(&text.unwrap_or_default()), None),
        ResumeSource::Text => (text.unwrap_or_default(), None),
    };
    if Instant::now() > deadline {
        return Err(Refusal::TimedOut);
    }
    Ok(Extracted {
        source,
        text: clean::clean(&raw),
        pages,
        warnings,
    })
}

/// Extractions running at once, whoever asks: reading is CPU-bound, and one that runs past
/// its time limit keeps its thread until it notices.
static RUNNING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(2)));

/// [`extract`] on a thread of its own, within `limits.timeout` (the parser also checks the
/// deadline as it goes), at most two at once; a panic inside a parser is
/// [`Refusal::Crashed`].
pub async fn extract_guarded(bytes: Arc<[u8]>, limits: Limits) -> Result<Extracted, Refusal> {
    let started = Instant::now();
    let permit = tokio::time::timeout(limits.timeout, RUNNING.clone().acquire_owned())
        .await
        .map_err(|_| Refusal::TimedOut)?
        .map_err(|_| Refusal::Crashed)?;
    let left = limits.timeout.saturating_sub(started.elapsed());
    let limits = Limits {
        timeout: left,
        ..limits
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("resume-extract".into())
        .spawn(move || {
            let _permit = permit;
            let result =
                std::panic::catch_unwind(|| extract(&bytes, &limits)).unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::warn!(panic = %what, "a resume parser panicked; the file is refused");
                    Err(Refusal::Crashed)
                });
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        return Err(Refusal::Crashed);
    }
    match tokio::time::timeout(left + Duration::from_millis(250), rx).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Refusal::Crashed),
        Err(_) => Err(Refusal::TimedOut),
    }
}

#[cfg(test)]
mod tests;
