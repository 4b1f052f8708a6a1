//! A tailored document rendered in process, with no browser and no external binary:
//! [`markdown`] always (stored with the document), [`pdf`] through typst used as a library
//! (an embedded template and embedded fonts; text selectable), and [`docx`] through docx-rs.
//! PDF and DOCX are rendered when downloaded, from the stored [`Content`](super::Content).

pub mod docx;
pub mod markdown;
pub mod pdf;

/// The page size of PDF and DOCX (`DOCUMENT_PAPER`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// `a4` or `letter`, any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "a4" => Some(Self::A4),
            "letter" | "us-letter" => Some(Self::Letter),
            _ => None,
        }
    }

    /// Width and height in twentieths of a point (DOCX's unit).
    fn twips(self) -> (u32, u32) {
        match self {
            Self::A4 => (11_906, 16_838),
            Self::Letter => (12_240, 15_840),
        }
    }

    /// typst's name for it.
    fn typst(self) -> &'static str {
        match self {
            Self::A4 => "a4",
            Self::Letter => "us-letter",
        }
    }
}

/// A format a document downloads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Markdown,
}

impl Format {
    /// `pdf`, `docx` or `md` (the path segment of a download).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pdf" => Some(Self::Pdf),
            "docx" => Some(Self::Docx),
            "md" => Some(Self::Markdown),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Markdown => "md",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Markdown => "text/markdown; charset=utf-8",
        }
    }
}

/// Renders `content` as `format`.
pub fn render(content: &super::Content, format: Format, paper: Paper) -> crate::Result<Vec<u8>> {
    match format {
        Format::Markdown => Ok(markdown::render(content).into_bytes()),
        Format::Pdf => pdf::render(content, paper),
        Format::Docx => docx::render(content, paper),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Content, ResumeDoc};
    use super::*;
    use crate::resume::extract::{Limits, extract};

    const RESUME: &str = "Jane Doe\njane@example.com | +49 30 1234\n\nSummary\nBackend engineer, 7 years.\n\n\
        Experience\nSenior Engineer, Acme GmbH (2020–2024)\n- Built payment APIs in Rust\n- Ran the on-call rota for 12 services\n\n\
        Skills\nLanguages: Rust, Go, SQL\n\nEducation\nBSc Computer Science, TU Berlin, 2017\n";

    #[test]
    fn the_pdf_is_a_pdf_whose_text_reads_back() {
        let content = Content::Resume(ResumeDoc::parse(RESUME));
        for paper in [Paper::A4, Paper::Letter] {
            let pdf = render(&content, Format::Pdf, paper).expect("renders");
            assert!(pdf.starts_with(b"%PDF-"), "a PDF");
            let read = extract(&pdf, &Limits::default()).expect("reads back");
            assert_eq!(read.pages, Some(1));
            for needle in [
                "Jane Doe",
                "Built payment APIs in Rust",
                "Acme GmbH",
                "Rust, Go, SQL",
            ] {
                assert!(read.text.contains(needle), "{needle} in {}", read.text);
            }
        }
    }

    #[test]
    fn markup_in_the_resume_is_set_as_text_in_the_pdf() {
        let content = Content::Resume(ResumeDoc::parse(
            "Eve #set page(width: 1pt) [x] *bold* $math$ \\\nemail@x.y\n\nExperience\n- Wrote C# and ` code `\n",
        ));
        let pdf = render(&content, Format::Pdf, Paper::A4).expect("renders");
        let read = extract(&pdf, &Limits::default()).expect("reads back");
        assert!(read.text.contains("#set page(width: 1pt)"), "{}", read.text);
        assert!(read.text.contains("Wrote C#"), "{}", read.text);
    }

    #[test]
    fn the_docx_is_a_zip_with_the_text_in_word_document_xml() {
        let content = Content::Resume(ResumeDoc::parse(RESUME));
        let docx = render(&content, Format::Docx, Paper::Letter).expect("renders");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx.clone())).expect("a zip");
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("word/document.xml").expect("word/document.xml"),
            &mut xml,
        )
        .expect("utf-8");
        assert!(xml.contains("Built payment APIs in Rust"));
        assert!(xml.contains("w:w=\"12240\""), "letter width");
        // The project's own DOCX reader reads it back too.
        let read = extract(&docx, &Limits::default()).expect("reads back");
        assert!(read.text.contains("Jane Doe"), "{}", read.text);
        assert!(
            read.text.contains("Ran the on-call rota for 12 services"),
            "{}",
            read.text
        );
    }
}
