//! DOCX through docx-rs: the same parts as the PDF (name, contact line, headings, an entry's
//! first line in bold, bullets with a hanging indent, skills inline), in a font every Word
//! install has, on A4 or US Letter.

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType,
};

use super::super::content::{Content, Letter, ResumeDoc};
use super::Paper;
use crate::{Error, Result};

/// Half-points, as DOCX sizes text.
const BODY: usize = 21;
const NAME: usize = 36;
const HEADING: usize = 23;

fn text(t: &str) -> Run {
    Run::new().add_text(t)
}

fn para(run: Run) -> Paragraph {
    Paragraph::new()
        .add_run(run)
        .line_spacing(LineSpacing::new().after(80))
}

fn heading(t: &str) -> Paragraph {
    Paragraph::new()
        .add_run(text(&t.to_uppercase()).bold().size(HEADING))
        .line_spacing(LineSpacing::new().before(200).after(80))
}

fn bullet(t: &str) -> Paragraph {
    Paragraph::new()
        .add_run(text(&format!("•\t{t}")))
        .indent(Some(360), Some(SpecialIndentType::Hanging(240)), None, None)
        .line_spacing(LineSpacing::new().after(40))
}

fn header(mut docx: Docx, name: &str, contact: &[String]) -> Docx {
    docx = docx.add_paragraph(para(text(name).bold().size(NAME)).align(AlignmentType::Center));
    if !contact.is_empty() {
        docx = docx.add_paragraph(
            para(text(&contact.join("  ·  ")).size(BODY - 2)).align(AlignmentType::Center),
        );
    }
    docx
}

fn resume(mut docx: Docx, doc: &ResumeDoc) -> Docx {
    docx = header(docx, &doc.name, &doc.contact);
    if let Some(s) = &doc.summary {
        docx = docx
            .add_paragraph(heading(&s.heading))
            .add_paragraph(para(text(&s.text)));
    }
    for section in &doc.sections {
        if !section.heading.is_empty() {
            docx = docx.add_paragraph(heading(&section.heading));
        }
        for entry in &section.entries {
            if section.skills {
                let mut p = Paragraph::new().line_spacing(LineSpacing::new().after(40));
                if let Some(label) = entry.lines.first() {
                    p = p.add_run(text(&format!("{label}: ")).bold());
                }
                docx = docx.add_paragraph(p.add_run(text(&entry.bullets.join(", "))));
                continue;
            }
            for (i, line) in entry.lines.iter().enumerate() {
                let run = if i == 0 {
                    text(line).bold()
                } else {
                    text(line).italic()
                };
                docx = docx.add_paragraph(
                    Paragraph::new().add_run(run).line_spacing(
                        LineSpacing::new()
                            .before(if i == 0 { 120 } else { 0 })
                            .after(20),
                    ),
                );
            }
            for b in &entry.bullets {
                docx = docx.add_paragraph(bullet(b));
            }
        }
    }
    docx
}

fn letter(mut docx: Docx, doc: &Letter) -> Docx {
    docx = header(docx, &doc.name, &doc.contact);
    docx = docx
        .add_paragraph(
            para(text(&doc.subject).bold()).line_spacing(LineSpacing::new().before(360).after(200)),
        )
        .add_paragraph(para(text(&doc.greeting)));
    for p in &doc.paragraphs {
        docx = docx.add_paragraph(para(text(p)).align(AlignmentType::Both));
    }
    docx.add_paragraph(para(text(&doc.closing)).line_spacing(LineSpacing::new().before(200)))
        .add_paragraph(para(text(&doc.name)))
}

/// Renders `content` as a DOCX file.
pub fn render(content: &Content, paper: Paper) -> Result<Vec<u8>> {
    let (w, h) = paper.twips();
    let docx = Docx::new()
        .page_size(w, h)
        .page_margin(
            PageMargin::new()
                .top(1000)
                .bottom(1000)
                .left(1080)
                .right(1080),
        )
        .default_fonts(
            RunFonts::new()
                .ascii("Calibri")
                .hi_ansi("Calibri")
                .cs("Calibri"),
        )
        .default_size(BODY);
    let docx = match content {
        Content::Resume(doc) => resume(docx, doc),
        Content::CoverLetter(doc) => letter(docx, doc),
    };
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| Error::Unexpected(format!("writing the DOCX: {e}")))?;
    Ok(out.into_inner())
}
