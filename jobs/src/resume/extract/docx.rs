//! DOCX read from its XML: paragraphs as lines, tabs, line and page breaks, list items as
//! `- ` lines, table rows (a row of short cells on one line, a layout table cell by cell),
//! text boxes once (Word's VML fallback copy skipped), tracked deletions and field codes
//! skipped, headers and footers once. The archive is checked before anything is inflated:
//! parts whose declared size is beyond a resume's are refused, and every read is bounded in
//! case a declared size lies. A DTD is refused, so no entity can expand.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{Refusal, is_page_number};

/// The largest inflated size of one part we read.
const MAX_PART_BYTES: u64 = 16 * 1024 * 1024;
/// The largest inflated size of the whole archive, as its directory declares it.
const MAX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;
/// The most entries an archive may have.
const MAX_ENTRIES: usize = 5_000;

/// What a DOCX holds.
#[derive(Debug)]
pub struct Docx {
    pub text: String,
    /// From `docProps/app.xml` when the producer recorded it, else the explicit page breaks.
    pub pages: Option<u32>,
}

fn bomb(part: &str, bytes: u64) -> Refusal {
    Refusal::Bomb(format!(
        "the DOCX's {part} inflates to {} MB, far more than any resume (at most {} MB): it is refused unread",
        bytes / (1024 * 1024),
        MAX_PART_BYTES / (1024 * 1024)
    ))
}

/// Reads a DOCX.
pub fn read(bytes: &[u8]) -> Result<Docx, Refusal> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Refusal::Corrupt(format!("this DOCX is damaged or truncated ({e})")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(Refusal::Bomb(format!(
            "the DOCX has {} parts; a document has a few dozen",
            archive.len()
        )));
    }
    let mut total = 0u64;
    let mut headers = Vec::new();
    let mut footers = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| Refusal::Corrupt(format!("this DOCX is damaged ({e})")))?;
        total = total.saturating_add(entry.size());
        let name = entry
            .name()
            .map_err(|e| Refusal::Corrupt(format!("this DOCX is damaged ({e})")))?
            .into_owned();
        if entry.size() > MAX_PART_BYTES && is_wanted(&name) {
            return Err(bomb(&name, entry.size()));
        }
        if name.starts_with("word/header") && name.ends_with(".xml") {
            headers.push(name);
        } else if name.starts_with("word/footer") && name.ends_with(".xml") {
            footers.push(name);
        }
    }
    if total > MAX_TOTAL_BYTES {
        return Err(bomb("content", total));
    }
    headers.sort();
    footers.sort();

    let document = part(&mut archive, "word/document.xml")?.ok_or_else(|| {
        Refusal::Unsupported(
            "a ZIP archive without word/document.xml, so not a Word document".into(),
        )
    })?;
    let body = Walker::read(&document, "word/document.xml")?;
    let mut lines: Vec<String> = Vec::new();
    let mut once = |name: &str, lines: &mut Vec<String>| -> Result<(), Refusal> {
        if let Some(xml) = part(&mut archive, name)? {
            for line in Walker::read(&xml, name)?.lines {
                let seen = lines.contains(&line);
                if !seen && !is_page_number(&line) && !line.trim().is_empty() {
                    lines.push(line);
                }
            }
        }
        Ok(())
    };
    for h in &headers {
        once(h, &mut lines)?;
    }
    let head = lines.len();
    lines.extend(body.lines);
    let mut foot = Vec::new();
    for f in &footers {
        once(f, &mut foot)?;
    }
    foot.retain(|l| !lines[..head].contains(l));
    lines.extend(foot);

    let pages = part(&mut archive, "docProps/app.xml")?
        .and_then(|xml| recorded_pages(&xml))
        .or(Some(body.page_breaks + 1));
    Ok(Docx {
        text: lines.join("\n"),
        pages,
    })
}

fn is_wanted(name: &str) -> bool {
    name == "word/document.xml"
        || name == "docProps/app.xml"
        || (name.starts_with("word/header") || name.starts_with("word/footer"))
            && name.ends_with(".xml")
}

/// A part inflated, at most [`MAX_PART_BYTES`] whatever its header says; `None` if absent.
fn part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<Vec<u8>>, Refusal> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(Refusal::Corrupt(format!(
                "this DOCX's {name} cannot be read ({e})"
            )));
        }
    };
    let mut out = Vec::with_capacity(usize::try_from(file.size().min(MAX_PART_BYTES)).unwrap_or(0));
    file.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Refusal::Corrupt(format!("this DOCX's {name} is damaged ({e})")))?;
    if out.len() as u64 > MAX_PART_BYTES {
        return Err(bomb(name, out.len() as u64));
    }
    Ok(Some(out))
}

/// `<Pages>N</Pages>` of `docProps/app.xml`.
fn recorded_pages(xml: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(xml).ok()?;
    let start = text.find("<Pages>")? + "<Pages>".len();
    let end = start + text[start..].find('<')?;
    text[start..end].trim().parse().ok()
}

#[derive(Default)]
struct Paragraph {
    text: String,
    list: bool,
}

#[derive(Default)]
struct Table {
    rows: Vec<Vec<Vec<String>>>,
}

/// Walks one part's XML and collects its lines.
#[derive(Default)]
struct Walker {
    lines: Vec<String>,
    paragraphs: Vec<Paragraph>,
    tables: Vec<Table>,
    /// Depth inside an element whose content is not read (`mc:Fallback`, `w:moveFrom`, …).
    skip: usize,
    runs: usize,
    in_text: bool,
    page_breaks: u32,
}

/// The local name of a tag (`w:p` → `p`).
fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find_map(|a| (a.key.local_name().as_ref() == key).then(|| a.value.to_string()))
}

impl Walker {
    fn read(xml: &[u8], name: &str) -> Result<Self, Refusal> {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().trim_text(false);
        let mut walker = Self::default();
        let mut buf = Vec::new();
        let broken = |e: &dyn std::fmt::Display| {
            Refusal::Corrupt(format!("this DOCX's {name} is not well-formed XML ({e})"))
        };
        loop {
            let event = reader.read_event_into(&mut buf).map_err(|e| broken(&e))?;
            match event {
                Event::Eof => break,
                Event::DocType(_) => {
                    return Err(Refusal::Corrupt(format!(
                        "this DOCX's {name} declares a DTD, which Word documents never do; it is refused"
                    )));
                }
                Event::Start(e) => walker.open(&e, false),
                Event::Empty(e) => walker.open(&e, true),
                Event::End(e) => {
                    let name = e.local_name().as_ref().to_owned();
                    walker.close(&name);
                }
                Event::Text(t) if walker.reading() => {
                    let text = t.xml10_content();
                    walker.push(&text);
                }
                Event::CData(t) if walker.reading() => {
                    let text = t.xml10_content();
                    walker.push(&text);
                }
                Event::GeneralRef(r) if walker.reading() => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match &*r {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                    };
                    if let Some(c) = c {
                        walker.push(c.encode_utf8(&mut [0; 4]));
                    }
                }
                _ => {}
            }
            buf.clear();
        }
        while !walker.paragraphs.is_empty() {
            walker.close("p");
        }
        Ok(walker)
    }

    fn reading(&self) -> bool {
        self.in_text && self.skip == 0
    }

    fn push(&mut self, s: &str) {
        if self.skip == 0
            && let Some(p) = self.paragraphs.last_mut()
        {
            p.text.push_str(s);
        }
    }

    fn open(&mut self, e: &BytesStart<'_>, empty: bool) {
        let name = local(e);
        if self.skip > 0 {
            if !empty {
                self.skip += 1;
            }
            return;
        }
        match name.as_str() {
            "Fallback" | "moveFrom" | "del" | "instrText" | "delText" if !empty => {
                self.skip = 1;
            }
            "p" if !empty => self.paragraphs.push(Paragraph::default()),
            "r" if !empty => self.runs += 1,
            "t" if !empty => self.in_text = true,
            "numPr" => {
                if let Some(p) = self.paragraphs.last_mut() {
                    p.list = true;
                }
            }
            "pStyle" => {
                if attr(e, "val").is_some_and(|v| v.starts_with("List"))
                    && let Some(p) = self.paragraphs.last_mut()
                {
                    p.list = true;
                }
            }
            "tab" if self.runs > 0 => self.push("\t"),
            "br" | "cr" if self.runs > 0 => {
                if attr(e, "type").as_deref() == Some("page") {
                    self.page_breaks += 1;
                }
                self.push("\n");
            }
            "noBreakHyphen" => self.push("-"),
            "tbl" if !empty => self.tables.push(Table::default()),
            "tr" if !empty => {
                if let Some(t) = self.tables.last_mut() {
                    t.rows.push(Vec::new());
                }
            }
            "tc" if !empty => {
                if let Some(row) = self.tables.last_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(Vec::new());
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        match name {
            "t" => self.in_text = false,
            "r" => self.runs = self.runs.saturating_sub(1),
            "p" => {
                if let Some(p) = self.paragraphs.pop() {
                    let mut line = p.text;
                    if p.list && !line.trim().is_empty() {
                        line.insert_str(0, "- ");
                    }
                    self.emit(line);
                }
            }
            "tr" => {
                let Some(row) = self.tables.last_mut().and_then(|t| t.rows.pop()) else {
                    return;
                };
                let cells: Vec<String> = row
                    .into_iter()
                    .map(|c| c.join("\n").trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect();
                if cells.len() > 1 && cells.iter().all(|c| !c.contains('\n') && c.len() < 120) {
                    self.emit(cells.join(" | "));
                } else {
                    for c in cells {
                        self.emit(c);
                    }
                }
            }
            "tbl" => {
                self.tables.pop();
            }
            _ => {}
        }
    }

    /// A finished line goes to the open table cell, else to the part's lines.
    fn emit(&mut self, line: String) {
        if let Some(cell) = self
            .tables
            .last_mut()
            .and_then(|t| t.rows.last_mut())
            .and_then(|r| r.last_mut())
        {
            cell.push(line);
            return;
        }
        self.lines.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    fn walk(body: &str) -> Vec<String> {
        let xml = format!("<w:document {NS}><w:body>{body}</w:body></w:document>");
        Walker::read(xml.as_bytes(), "word/document.xml")
            .expect("reads")
            .lines
    }

    #[test]
    fn text_boxes_once_deletions_and_field_codes_skipped() {
        let lines = walk(
            "<w:p><w:r><mc:AlternateContent><mc:Choice><w:drawing><w:txbxContent><w:p><w:r><w:t>Open to relocation</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice>\
             <mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Open to relocation</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>\
             <w:r><w:t xml:space=\"preserve\">Kept </w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del>\
             <w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:t>R&amp;D&#x2019;s</w:t></w:r></w:p>",
        );
        assert_eq!(lines, ["Open to relocation", "Kept R&D’s"]);
    }

    #[test]
    fn tab_stops_are_not_tabs_and_rows_of_short_cells_are_one_line() {
        let lines = walk(
            "<w:p><w:pPr><w:tabs><w:tab w:val=\"right\" w:pos=\"9000\"/></w:tabs></w:pPr><w:r><w:t>Engineer</w:t></w:r><w:r><w:tab/><w:t>2019</w:t></w:r></w:p>\
             <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Data</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>PostgreSQL</w:t></w:r></w:p></w:tc></w:tr>\
             <w:tr><w:tc><w:p><w:r><w:t>Side</w:t></w:r></w:p><w:p><w:r><w:t>bar</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Main</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
        );
        assert_eq!(
            lines,
            ["Engineer\t2019", "Data | PostgreSQL", "Side\nbar", "Main"]
        );
    }

    #[test]
    fn a_dtd_is_refused() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\">]><d>&a;</d>";
        assert!(matches!(
            Walker::read(xml.as_bytes(), "word/document.xml"),
            Err(Refusal::Corrupt(m)) if m.contains("DTD")
        ));
    }
}
