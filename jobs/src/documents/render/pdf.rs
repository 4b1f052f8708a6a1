//! PDF through typst used as a library: a [`World`] holding one embedded template
//! (`template.typ`) and the embedded Libertinus Serif fonts (SIL OFL, `jobs/assets/fonts/`),
//! with the document handed over as JSON in `sys.inputs` — so its text is set as text and can
//! never act as typst markup. The result is selectable text, A4 or US Letter. typst's
//! memoization cache is evicted after every render, so a long-running server does not keep
//! what it rendered.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Dict, Str, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use super::super::Content;
use super::Paper;
use crate::{Error, Result};

const TEMPLATE: &str = include_str!("template.typ");
const FONT_FILES: [&[u8]; 3] = [
    include_bytes!("../../../assets/fonts/LibertinusSerif-Regular.otf"),
    include_bytes!("../../../assets/fonts/LibertinusSerif-Bold.otf"),
    include_bytes!("../../../assets/fonts/LibertinusSerif-Italic.otf"),
];

/// The embedded fonts, read once per process.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = FONT_FILES
            .iter()
            .flat_map(|data| Font::iter(Bytes::new(*data)))
            .collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

/// Everything one compilation can see: the template, the fonts, and the inputs.
struct DocumentWorld {
    library: LazyHash<Library>,
    main: Source,
}

impl World for DocumentWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}

fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The document's title in the PDF's metadata.
fn title(content: &Content) -> String {
    match content {
        Content::Resume(r) => format!("{} — Resume", r.name),
        Content::CoverLetter(l) => format!("{} — Cover letter: {}", l.name, l.subject),
    }
}

/// Renders `content` as a PDF.
pub fn render(content: &Content, paper: Paper) -> Result<Vec<u8>> {
    let json = serde_json::to_string(content)
        .map_err(|e| Error::Unexpected(format!("document content: {e}")))?;
    let inputs: Dict = [
        ("doc", json),
        ("paper", paper.typst().to_owned()),
        ("title", title(content)),
        ("lang", "en".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (Str::from(k), Value::Str(Str::from(v))))
    .collect();
    let path = VirtualPath::new("/main.typ")
        .map_err(|e| Error::Unexpected(format!("template path: {e:?}")))?;
    let id = RootedPath::new(VirtualRoot::Project, path).intern();
    let world = DocumentWorld {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        main: Source::new(id, TEMPLATE.to_owned()),
    };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|e| Error::Unexpected(format!("typesetting the PDF: {}", diagnostics(&e))))?;
    let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|e| Error::Unexpected(format!("writing the PDF: {}", diagnostics(&e))));
    // typst memoizes across compilations in a process-wide cache; without eviction a server
    // that renders many different documents keeps every one of them. Entries unused for ten
    // compilations go (what the typst CLI does).
    comemo::evict(10);
    pdf
}
