//! A tailored document as every renderer reads it, and the resume it starts from: the
//! resume's text read into a header (name, contact lines), an optional summary, and sections
//! of entries (an entry's own lines — title, employer, dates — then its bullets). The
//! structure comes from the resume verbatim; tailoring only reorders bullets and skills and
//! rewrites the text of bullets and the summary, so employers, titles and dates cannot change.

use serde::{Deserialize, Serialize};

/// What renders to Markdown, PDF and DOCX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Resume(ResumeDoc),
    CoverLetter(Letter),
}

impl Content {
    /// The person's name, as the resume's first line gives it.
    pub fn name(&self) -> &str {
        match self {
            Self::Resume(r) => &r.name,
            Self::CoverLetter(l) => &l.name,
        }
    }
}

/// A resume, tailored or as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeDoc {
    pub name: String,
    pub contact: Vec<String>,
    pub summary: Option<Summary>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The resume's own heading for it ("Profile", "Summary", …).
    pub heading: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Empty for text before any heading after the header.
    pub heading: String,
    /// A skills section: each entry is one group, its line the group's label (if any) and its
    /// bullets the skills.
    pub skills: bool,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub lines: Vec<String>,
    pub bullets: Vec<String>,
}

/// A cover letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub name: String,
    pub contact: Vec<String>,
    /// "Re: …" — the role and company it is for.
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub closing: String,
}

/// Headings that start a section, lowercased, without a trailing colon.
const HEADINGS: &[&str] = &[
    "summary",
    "professional summary",
    "profile",
    "professional profile",
    "about",
    "about me",
    "objective",
    "career objective",
    "experience",
    "work experience",
    "professional experience",
    "relevant experience",
    "employment",
    "employment history",
    "work history",
    "career history",
    "clinical experience",
    "teaching experience",
    "research experience",
    "skills",
    "technical skills",
    "core skills",
    "key skills",
    "core competencies",
    "competencies",
    "skills and tools",
    "tools",
    "technologies",
    "education",
    "education and training",
    "training",
    "projects",
    "selected projects",
    "certifications",
    "certificates",
    "licenses",
    "licenses and certifications",
    "certifications and licenses",
    "languages",
    "awards",
    "honors",
    "publications",
    "volunteering",
    "volunteer experience",
    "interests",
    "references",
    "achievements",
    "leadership",
    "activities",
];

const SUMMARY_HEADINGS: &[&str] = &[
    "summary",
    "professional summary",
    "profile",
    "professional profile",
    "about",
    "about me",
    "objective",
    "career objective",
];

/// The heading a line is, if it is one: a known heading (any case, `#` or a colon around it)
/// or a short all-capitals line.
fn heading(line: &str) -> Option<String> {
    let t = line
        .trim()
        .trim_start_matches('#')
        .trim()
        .trim_end_matches(':')
        .trim();
    if t.is_empty() || t.chars().count() > 40 {
        return None;
    }
    let lowered = t.to_lowercase().replace('&', "and");
    let lowered = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    let known = HEADINGS.contains(&lowered.as_str());
    let shouty = t.split_whitespace().count() <= 4
        && t.chars().any(char::is_alphabetic)
        && t.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
        && t.chars()
            .all(|c| c.is_alphabetic() || c.is_whitespace() || c == '&');
    let marked = line.trim_start().starts_with('#');
    (known || shouty || marked && t.split_whitespace().count() <= 5).then(|| t.to_owned())
}

/// The text of a bullet line, if it is one.
pub fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for marker in ["- ", "* ", "• ", "· ", "▪ ", "– ", "◦ ", "‣ ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    for marker in ['•', '·', '▪', '◦', '‣'] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    None
}

/// Splits a skills line ("Languages: Rust, Go") into its label and skills.
fn skill_group(line: &str) -> Entry {
    let line = bullet(line).unwrap_or(line.trim());
    let (label, rest) = match line.split_once(':') {
        Some((label, rest)) if label.split_whitespace().count() <= 4 && !rest.trim().is_empty() => {
            (Some(label.trim().to_owned()), rest)
        }
        _ => (None, line),
    };
    let bullets = rest
        .split([',', ';', '|', '•', '·'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Entry {
        lines: label.into_iter().collect(),
        bullets,
    }
}

impl ResumeDoc {
    /// Reads a resume's text. The first line is the name, the lines before the first heading
    /// the contact block; a summary section becomes [`ResumeDoc::summary`].
    pub fn parse(text: &str) -> Self {
        let mut lines = text
            .lines()
            .map(str::trim_end)
            .skip_while(|l| l.trim().is_empty());
        let name = lines
            .next()
            .map(|l| l.trim().trim_start_matches('#').trim().to_owned())
            .unwrap_or_default();
        let mut contact = Vec::new();
        let mut sections: Vec<Section> = Vec::new();
        let mut summary: Option<Summary> = None;
        let mut in_summary = false;
        let mut header_done = false;
        let mut current: Option<Section> = None;
        let mut entry = Entry {
            lines: Vec::new(),
            bullets: Vec::new(),
        };
        fn close(section: &mut Option<Section>, entry: &mut Entry) {
            if entry.lines.is_empty() && entry.bullets.is_empty() {
                return;
            }
            let taken = std::mem::replace(
                entry,
                Entry {
                    lines: Vec::new(),
                    bullets: Vec::new(),
                },
            );
            section
                .get_or_insert_with(|| Section {
                    heading: String::new(),
                    skills: false,
                    entries: Vec::new(),
                })
                .entries
                .push(taken);
        }
        for line in lines {
            let trimmed = line.trim();
            if let Some(h) = heading(trimmed) {
                close(&mut current, &mut entry);
                sections.extend(current.take());
                let lowered = h.to_lowercase();
                if summary.is_none() && SUMMARY_HEADINGS.contains(&lowered.as_str()) {
                    summary = Some(Summary {
                        heading: h,
                        text: String::new(),
                    });
                    in_summary = true;
                } else {
                    in_summary = false;
                    current = Some(Section {
                        skills: lowered.contains("skill")
                            || lowered.contains("competenc")
                            || lowered == "tools"
                            || lowered == "technologies",
                        heading: h,
                        entries: Vec::new(),
                    });
                }
                continue;
            }
            if in_summary {
                if let Some(s) = summary.as_mut().filter(|_| !trimmed.is_empty()) {
                    if !s.text.is_empty() {
                        s.text.push(' ');
                    }
                    s.text.push_str(bullet(trimmed).unwrap_or(trimmed));
                }
                continue;
            }
            if current.is_none() && sections.is_empty() && !header_done {
                // The contact block ends at its first blank line; what follows without a
                // heading is an untitled section.
                if trimmed.is_empty() {
                    header_done = !contact.is_empty();
                } else {
                    contact.push(trimmed.to_owned());
                }
                continue;
            }
            if trimmed.is_empty() {
                close(&mut current, &mut entry);
                continue;
            }
            if current.as_ref().is_some_and(|s| s.skills) {
                close(&mut current, &mut entry);
                entry = skill_group(trimmed);
                close(&mut current, &mut entry);
                continue;
            }
            match bullet(trimmed) {
                Some(b) => entry.bullets.push(b.to_owned()),
                None => {
                    if !entry.bullets.is_empty() {
                        close(&mut current, &mut entry);
                    }
                    entry.lines.push(trimmed.to_owned());
                }
            }
        }
        close(&mut current, &mut entry);
        sections.extend(current.take());
        if summary.as_ref().is_some_and(|s| s.text.is_empty()) {
            summary = None;
        }
        Self {
            name,
            contact,
            summary,
            sections,
        }
    }

    /// Every bullet with its place: (section, entry, bullet) indexes, in reading order.
    pub fn bullets(&self) -> impl Iterator<Item = ((usize, usize, usize), &str)> {
        self.sections
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.skills)
            .flat_map(|(si, s)| {
                s.entries.iter().enumerate().flat_map(move |(ei, e)| {
                    e.bullets
                        .iter()
                        .enumerate()
                        .map(move |(bi, b)| ((si, ei, bi), b.as_str()))
                })
            })
    }

    /// Every skill, in order.
    pub fn skills(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().filter(|s| s.skills).flat_map(|s| {
            s.entries
                .iter()
                .flat_map(|e| e.bullets.iter().map(String::as_str))
        })
    }

    /// Where a bullet is, for a change's `section`: "Experience — Senior Engineer, Acme".
    pub fn place(&self, section: usize, entry: usize) -> String {
        let s = &self.sections[section];
        let first = s.entries[entry].lines.first();
        match (s.heading.is_empty(), first) {
            (false, Some(line)) => format!("{} — {line}", s.heading),
            (false, None) => s.heading.clone(),
            (true, Some(line)) => line.clone(),
            (true, None) => "Resume".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESUME: &str = "Jane Doe\njane@example.com | Berlin\n\nSUMMARY\nBackend engineer.\n\n\
        Experience\nSenior Engineer, Acme (2020–2024)\n- Built a Rust API\n- Ran the on-call rota\n\
        Engineer, Beta (2017–2020)\n- Wrote Go services\n\nSkills\nLanguages: Rust, Go, SQL\nDocker; Kubernetes\n\n\
        Education\nBSc Computer Science, TU Berlin, 2017\n";

    #[test]
    fn a_resume_reads_into_header_summary_sections_entries_and_skills() {
        let doc = ResumeDoc::parse(RESUME);
        assert_eq!(doc.name, "Jane Doe");
        assert_eq!(doc.contact, ["jane@example.com | Berlin"]);
        assert_eq!(
            doc.summary.as_ref().map(|s| s.text.as_str()),
            Some("Backend engineer.")
        );
        let headings: Vec<_> = doc.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(headings, ["Experience", "Skills", "Education"]);
        let exp = &doc.sections[0];
        assert_eq!(exp.entries.len(), 2);
        assert_eq!(exp.entries[0].lines, ["Senior Engineer, Acme (2020–2024)"]);
        assert_eq!(
            exp.entries[0].bullets,
            ["Built a Rust API", "Ran the on-call rota"]
        );
        assert_eq!(exp.entries[1].bullets, ["Wrote Go services"]);
        let skills = &doc.sections[1];
        assert!(skills.skills);
        assert_eq!(skills.entries[0].lines, ["Languages"]);
        assert_eq!(skills.entries[0].bullets, ["Rust", "Go", "SQL"]);
        assert_eq!(skills.entries[1].bullets, ["Docker", "Kubernetes"]);
        assert_eq!(doc.skills().count(), 5);
        assert_eq!(doc.bullets().count(), 3);
        assert_eq!(doc.place(0, 1), "Experience — Engineer, Beta (2017–2020)");
    }

    #[test]
    fn a_resume_without_headings_keeps_every_line() {
        let doc = ResumeDoc::parse(
            "Sam Lee\nsam@example.com\n\nNurse with ten years on a cardiac ward.\n- Triage\n- Wound care\n",
        );
        assert_eq!(doc.name, "Sam Lee");
        assert_eq!(doc.contact, ["sam@example.com"]);
        assert_eq!(doc.sections.len(), 1);
        assert_eq!(doc.sections[0].heading, "");
        assert_eq!(
            doc.sections[0].entries[0].lines,
            ["Nurse with ten years on a cardiac ward."]
        );
        assert_eq!(doc.sections[0].entries[0].bullets, ["Triage", "Wound care"]);
        assert_eq!(doc.place(0, 0), "Nurse with ten years on a cardiac ward.");
    }
}
