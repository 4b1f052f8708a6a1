//! The labeled evaluation sets in `tests/fixtures/quality/` (`dev/`, `holdout/`; their README
//! has the layout and the rubric), read by [`load`] for the benches that use them
//! (`bench-quality`, `bench-llm-cost`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The year the sets were written in ("present" ends there): the current year to read their
/// resumes with.
pub const YEAR: i32 = 2026;

/// `tests/fixtures/quality/`, where the sets are.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/quality")
}

/// One listing of a set, from `listings/LNN.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The file's stem (`L07`): the id `grades.tsv` uses.
    pub id: String,
    /// The `title:` line, trimmed.
    pub title: String,
    /// The `company:` line, trimmed; empty when the header has none.
    pub company: String,
    /// The `location:` line, trimmed; empty when the header has none.
    pub location: String,
    /// Everything after the header's blank line, as a board would show it.
    pub description: String,
}

/// A loaded set: every listing and resume (in file-name order) and a grade for every pair.
#[derive(Debug, Clone)]
pub struct Set {
    /// The directory's name (`dev`, `holdout`).
    pub name: String,
    pub listings: Vec<Listing>,
    /// `(id, text)`: the file's stem (`R03`) and the resume as a person would paste it.
    pub resumes: Vec<(String, String)>,
    /// `(resume id, listing id)` → 0, 1 or 2 (2 = a strong fit); one entry for every pair.
    pub grades: HashMap<(String, String), u8>,
}

/// Reads the set in `dir`; fails on a listing without a header or title, on a grade row for an
/// unknown resume or listing or outside 0–2, and unless every pair is graded.
pub fn load(dir: &Path) -> anyhow::Result<Set> {
    let mut listings = Vec::new();
    for path in files(&dir.join("listings"))? {
        let text = std::fs::read_to_string(&path)?;
        let (head, description) = text
            .split_once("\n\n")
            .with_context(|| format!("{}: no blank line after the header", path.display()))?;
        let field = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        listings.push(Listing {
            id: stem(&path),
            title: field("title:").with_context(|| format!("{}: no title line", path.display()))?,
            company: field("company:").unwrap_or_default(),
            location: field("location:").unwrap_or_default(),
            description: description.to_owned(),
        });
    }
    let mut resumes = Vec::new();
    for path in files(&dir.join("resumes"))? {
        resumes.push((stem(&path), std::fs::read_to_string(&path)?));
    }
    let mut grades = HashMap::new();
    for line in std::fs::read_to_string(dir.join("grades.tsv"))?
        .lines()
        .skip(1)
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            continue;
        }
        let grade: u8 = cols[2].trim().parse()?;
        if grade > 2
            || !resumes.iter().any(|(id, _)| id == cols[0])
            || !listings.iter().any(|l| l.id == cols[1])
        {
            bail!("{}: bad grade row {line:?}", dir.display());
        }
        grades.insert((cols[0].to_owned(), cols[1].to_owned()), grade);
    }
    if grades.len() != listings.len() * resumes.len() {
        bail!(
            "{}: {} grades for {} pairs",
            dir.display(),
            grades.len(),
            listings.len() * resumes.len()
        );
    }
    Ok(Set {
        name: dir
            .file_name()
            .map_or("set".into(), |n| n.to_string_lossy().into_owned()),
        listings,
        resumes,
        grades,
    })
}

/// The files in `dir`, sorted by name.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    Ok(files)
}

/// A file's name without its extension: the id of a listing or resume.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
