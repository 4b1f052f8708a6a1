//! PDF text from its text layer, in reading order. `pdf-extract` (on lopdf) interprets the
//! content streams and hands every glyph over with its position; here glyphs become runs
//! (adjacent glyphs on one baseline), runs become rows, and a page whose rows leave a vertical
//! gutter free is read column by column: between two rows that cross the gutter (a header
//! across the page), everything left of it, then everything right of it — a sidebar then the
//! main column, never interleaved line by line. The time limit is checked on every glyph.

use std::time::Instant;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::Refusal;

/// One glyph: its origin (top-down), where it ends, its size, its text.
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    y: f64,
    end: f64,
    size: f64,
    text: String,
    space_before: bool,
}

/// Glyphs of one line of one column, left to right.
#[derive(Debug, Clone)]
struct Run {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

#[derive(Debug, Default)]
struct Page {
    width: f64,
    glyphs: Vec<Glyph>,
}

/// The glyph collector handed to `pdf-extract`.
struct Collector {
    pages: Vec<Page>,
    flip: Transform,
    pending_space: bool,
    deadline: Instant,
    timed_out: bool,
    glyphs: usize,
}

/// Most glyphs read from one file: 20 dense pages hold about 100,000.
const MAX_GLYPHS: usize = 2_000_000;

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.flip = Transform::row_major(1., 0., 0., -1., 0., media_box.ury - media_box.lly);
        self.pages.push(Page {
            width: (media_box.urx - media_box.llx).abs().max(1.0),
            glyphs: Vec::new(),
        });
        self.pending_space = false;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        self.glyphs += 1;
        if self.glyphs.is_multiple_of(256) && Instant::now() > self.deadline {
            self.timed_out = true;
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        if self.glyphs > MAX_GLYPHS {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        if char.chars().all(char::is_whitespace) {
            self.pending_space = true;
            return Ok(());
        }
        let position = trm.post_transform(&self.flip);
        // The side of the square whose area the transformed font box has.
        let sx = font_size * (trm.m11 + trm.m21);
        let sy = font_size * (trm.m12 + trm.m22);
        let size = (sx * sy).abs().sqrt().max(0.1);
        let (x, y) = (position.m31, position.m32);
        let page = match self.pages.last_mut() {
            Some(page) => page,
            None => return Ok(()),
        };
        page.glyphs.push(Glyph {
            x,
            y,
            end: x + width * size,
            size,
            text: char.to_owned(),
            space_before: std::mem::take(&mut self.pending_space),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        // Called after every text-showing operator, not at line ends: geometry decides.
        Ok(())
    }
}

/// What a PDF holds: its pages' lines, and whether it carries images (a scan, if no text).
#[derive(Debug)]
pub struct Pdf {
    pub pages: Vec<Vec<String>>,
    pub has_images: bool,
}

/// Reads the text of a PDF of at most `max_pages` pages, by `deadline`.
pub fn read(bytes: &[u8], max_pages: u32, deadline: Instant) -> Result<Pdf, Refusal> {
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| {
        Refusal::Corrupt(format!(
            "this PDF is damaged or truncated ({e}): export or download it again"
        ))
    })?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(Refusal::Protected);
    }
    let pages = doc.get_pages().len();
    if pages == 0 {
        return Err(Refusal::Corrupt(
            "this PDF has no pages: export or download it again".into(),
        ));
    }
    if pages > max_pages as usize {
        return Err(Refusal::TooManyPages {
            pages: pages as u32,
            max: max_pages,
        });
    }
    spell_out_next_line_operators(&mut doc);
    let has_images = doc.objects.values().any(|o| {
        o.as_stream().is_ok_and(|s| {
            s.dict
                .get(b"Subtype")
                .and_then(|v| v.as_name())
                .is_ok_and(|n| n == b"Image")
        })
    });
    let mut collector = Collector {
        pages: Vec::new(),
        flip: Transform::identity(),
        pending_space: false,
        deadline,
        timed_out: false,
        glyphs: 0,
    };
    if let Err(e) = pdf_extract::output_doc(&doc, &mut collector) {
        if collector.timed_out {
            return Err(Refusal::TimedOut);
        }
        if collector.glyphs > MAX_GLYPHS {
            return Err(Refusal::Corrupt(
                "this PDF holds far more text than a resume".into(),
            ));
        }
        return Err(Refusal::Corrupt(format!(
            "this PDF's pages cannot be read ({e}): export it again"
        )));
    }
    Ok(Pdf {
        pages: collector.pages.iter().map(page_lines).collect(),
        has_images,
    })
}

/// Rewrites the text operators `'` and `"` (move to the next line, then show a string; `"`
/// setting word and character spacing first) as the `T*`, `Tw`, `Tc` and `Tj` they stand
/// for: `pdf-extract` 0.12 ignores them, and Ghostscript writes a line of running text with
/// them, so without this whole lines of groff or LaTeX output would vanish.
fn spell_out_next_line_operators(doc: &mut pdf_extract::Document) {
    use pdf_extract::content::{Content, Operation};
    let pages: Vec<_> = doc.get_pages().into_values().collect();
    for page in pages {
        let Ok(raw) = doc.get_page_content(page) else {
            continue;
        };
        if !raw.iter().any(|&b| b == b'\'' || b == b'"') {
            continue;
        }
        let Ok(content) = Content::decode(&raw) else {
            continue;
        };
        if !content
            .operations
            .iter()
            .any(|o| o.operator == "'" || o.operator == "\"")
        {
            continue;
        }
        let mut operations = Vec::with_capacity(content.operations.len() + 16);
        for op in content.operations {
            match (op.operator.as_str(), op.operands.as_slice()) {
                ("'", [text]) => {
                    operations.push(Operation::new("T*", vec![]));
                    operations.push(Operation::new("Tj", vec![text.clone()]));
                }
                ("\"", [word, char, text]) => {
                    operations.push(Operation::new("Tw", vec![word.clone()]));
                    operations.push(Operation::new("Tc", vec![char.clone()]));
                    operations.push(Operation::new("T*", vec![]));
                    operations.push(Operation::new("Tj", vec![text.clone()]));
                }
                _ => operations.push(op),
            }
        }
        if let Ok(bytes) = (Content { operations }).encode() {
            let _ = doc.change_page_content(page, bytes);
        }
    }
}

/// Glyphs in drawing order → runs: a run ends where the next glyph is on another baseline,
/// goes back, or leaves a gap wider than a column gap could be inside a line.
fn runs(glyphs: &[Glyph]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut last_end = f64::NEG_INFINITY;
    for g in glyphs {
        let joins = runs.last().is_some_and(|r| {
            let tol = 0.35 * r.size.min(g.size);
            (g.y - r.y).abs() <= tol
                && g.x >= last_end - 0.5 * g.size
                && g.x - last_end <= 0.6 * g.size
        });
        if joins && let Some(r) = runs.last_mut() {
            if g.space_before || g.x - last_end > 0.18 * g.size {
                r.text.push(' ');
            }
            r.text.push_str(&g.text);
            r.x1 = r.x1.max(g.end);
            r.size = r.size.max(g.size);
        } else {
            runs.push(Run {
                x0: g.x,
                x1: g.end.max(g.x),
                y: g.y,
                size: g.size,
                text: g.text.clone(),
            });
        }
        last_end = g.end;
    }
    runs
}

/// Runs grouped into rows of one baseline, top to bottom, each row left to right.
fn rows(mut runs: Vec<Run>) -> Vec<Vec<Run>> {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut rows: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        let same = rows.last().is_some_and(|row| {
            let first = &row[0];
            (run.y - first.y).abs() <= 0.35 * run.size.min(first.size)
        });
        match rows.last_mut() {
            Some(row) if same => row.push(run),
            _ => rows.push(vec![run]),
        }
    }
    for row in &mut rows {
        row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    }
    rows
}

/// Where a page splits into two columns, if it does: the x of the deepest point of a vertical
/// valley that few rows cross (at most a quarter: the rows across the page), with text on
/// both sides of it in at least three rows that do not cross it.
fn gutter(rows: &[Vec<Run>], width: f64) -> Option<f64> {
    let bins = width.ceil() as usize + 1;
    let mut crossing = vec![0usize; bins];
    for row in rows {
        let mut covered = vec![false; bins];
        for r in row {
            let (a, b) = (
                r.x0.max(0.0) as usize,
                (r.x1.max(0.0) as usize).min(bins - 1),
            );
            for c in covered.iter_mut().take(b + 1).skip(a) {
                *c = true;
            }
        }
        for (n, c) in crossing.iter_mut().zip(covered) {
            *n += usize::from(c);
        }
    }
    let allowed = rows.len() / 4;
    let (lo, hi) = ((width * 0.12) as usize, ((width * 0.88) as usize).min(bins));
    let mut best: Option<(f64, usize)> = None;
    let mut b = lo;
    while b < hi {
        if crossing[b] > allowed {
            b += 1;
            continue;
        }
        let start = b;
        while b < hi && crossing[b] <= allowed {
            b += 1;
        }
        if b - start < 6 {
            continue;
        }
        // The deepest point: the middle of the bins with the fewest rows over them.
        let least = crossing[start..b].iter().copied().min().unwrap_or(0);
        let deepest: Vec<usize> = (start..b).filter(|&i| crossing[i] == least).collect();
        let mid = deepest[deepest.len() / 2] as f64 + 0.5;
        let (mut left, mut right, mut clear) = (0, 0, 0);
        for row in rows {
            if row.iter().any(|r| r.x0 < mid && r.x1 > mid) {
                continue;
            }
            clear += 1;
            left += usize::from(row.iter().any(|r| r.x1 <= mid));
            right += usize::from(row.iter().any(|r| r.x0 >= mid));
        }
        if left >= 3 && right >= 3 && best.is_none_or(|(_, n)| clear > n) {
            best = Some((mid, clear));
        }
    }
    best.map(|(mid, _)| mid)
}

fn row_text(runs: &[&Run]) -> String {
    let texts: Vec<&str> = runs.iter().map(|r| r.text.as_str()).collect();
    texts.join(" ")
}

/// Rows as lines, with a blank line where the vertical gap says a paragraph ends.
fn lines_of(rows: &[Vec<&Run>], out: &mut Vec<String>) {
    let mut last: Option<(f64, f64)> = None;
    for row in rows.iter().filter(|r| !r.is_empty()) {
        let (y, size) = (row[0].y, row.iter().map(|r| r.size).fold(0.0, f64::max));
        if let Some((ly, lsize)) = last
            && y - ly > 1.9 * size.max(lsize)
        {
            out.push(String::new());
        }
        out.push(row_text(row));
        last = Some((y, size));
    }
}

/// One page's lines in reading order.
fn page_lines(page: &Page) -> Vec<String> {
    let rows = rows(runs(&page.glyphs));
    let mut out = Vec::new();
    let Some(mid) = gutter(&rows, page.width) else {
        let all: Vec<Vec<&Run>> = rows.iter().map(|r| r.iter().collect()).collect();
        lines_of(&all, &mut out);
        return out;
    };
    // Segments between rows that cross the gutter; in each, the left column then the right.
    let mut segment: Vec<&Vec<Run>> = Vec::new();
    let flush = |segment: &mut Vec<&Vec<Run>>, out: &mut Vec<String>| {
        let left: Vec<Vec<&Run>> = segment
            .iter()
            .map(|row| row.iter().filter(|r| r.x1 <= mid).collect())
            .collect();
        let right: Vec<Vec<&Run>> = segment
            .iter()
            .map(|row| row.iter().filter(|r| r.x0 >= mid).collect())
            .collect();
        let count = |side: &[Vec<&Run>]| side.iter().filter(|r| !r.is_empty()).count();
        if count(&left) >= 3 && count(&right) >= 3 {
            lines_of(&left, out);
            out.push(String::new());
            lines_of(&right, out);
        } else {
            let all: Vec<Vec<&Run>> = segment.iter().map(|r| r.iter().collect()).collect();
            lines_of(&all, out);
        }
        segment.clear();
    };
    for row in &rows {
        if row.iter().any(|r| r.x0 < mid && r.x1 > mid) {
            flush(&mut segment, &mut out);
            lines_of(&[row.iter().collect()], &mut out);
        } else {
            segment.push(row);
        }
    }
    flush(&mut segment, &mut out);
    out
}
