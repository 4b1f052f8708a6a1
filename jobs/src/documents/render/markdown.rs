//! A document as Markdown: the name as the title, the contact line, then the summary and the
//! sections (an entry's first line in bold, its bullets as a list), or the letter's parts.
//! The resume's text is escaped, so it never turns into markup it did not mean.

use std::fmt::Write as _;

use super::super::content::{Content, Letter, ResumeDoc};

/// Escapes what Markdown would read as markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // A line that starts like a list item or a numbered one stays text.
    if out.starts_with(['-', '+']) {
        out.insert(0, '\\');
    } else if let Some((n, rest)) = out.split_once(". ")
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        return format!("{n}\\. {rest}");
    }
    out
}

fn header(out: &mut String, name: &str, contact: &[String]) {
    let _ = writeln!(out, "# {}\n", escape(name));
    if !contact.is_empty() {
        let lines: Vec<String> = contact.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "{}\n", lines.join(" · "));
    }
}

fn resume(out: &mut String, doc: &ResumeDoc) {
    header(out, &doc.name, &doc.contact);
    if let Some(s) = &doc.summary {
        let _ = writeln!(out, "## {}\n\n{}\n", escape(&s.heading), escape(&s.text));
    }
    for section in &doc.sections {
        if !section.heading.is_empty() {
            let _ = writeln!(out, "## {}\n", escape(&section.heading));
        }
        for entry in &section.entries {
            if section.skills {
                let skills: Vec<String> = entry.bullets.iter().map(|s| escape(s)).collect();
                match entry.lines.first() {
                    Some(label) => {
                        let _ = writeln!(out, "- **{}:** {}", escape(label), skills.join(", "));
                    }
                    None => {
                        let _ = writeln!(out, "- {}", skills.join(", "));
                    }
                }
                continue;
            }
            for (i, line) in entry.lines.iter().enumerate() {
                if i == 0 {
                    let _ = writeln!(out, "**{}**  ", escape(line));
                } else {
                    let _ = writeln!(out, "{}  ", escape(line));
                }
            }
            if !entry.lines.is_empty() && !entry.bullets.is_empty() {
                out.push('\n');
            }
            for bullet in &entry.bullets {
                let _ = writeln!(out, "- {}", escape(bullet));
            }
            out.push('\n');
        }
        if section.skills {
            out.push('\n');
        }
    }
}

fn letter(out: &mut String, doc: &Letter) {
    header(out, &doc.name, &doc.contact);
    let _ = writeln!(out, "**{}**\n", escape(&doc.subject));
    let _ = writeln!(out, "{}\n", escape(&doc.greeting));
    for p in &doc.paragraphs {
        let _ = writeln!(out, "{}\n", escape(p));
    }
    let _ = writeln!(out, "{}  \n{}", escape(&doc.closing), escape(&doc.name));
}

/// The document as Markdown.
pub fn render(content: &Content) -> String {
    let mut out = String::new();
    match content {
        Content::Resume(doc) => resume(&mut out, doc),
        Content::CoverLetter(doc) => letter(&mut out, doc),
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_the_resume_stays_text() {
        assert_eq!(escape("C# and *nix_tools"), "C\\# and \\*nix\\_tools");
        assert_eq!(escape("- not a list"), "\\- not a list");
        assert_eq!(escape("1. not a list"), "1\\. not a list");
    }

    #[test]
    fn a_resume_renders_its_sections_entries_and_skills() {
        let doc = ResumeDoc::parse(
            "Jane Doe\njane@example.com\n\nExperience\nEngineer, Acme\n- Built APIs\n\nSkills\nLanguages: Rust, Go\n",
        );
        assert_eq!(
            render(&Content::Resume(doc)),
            "# Jane Doe\n\njane@example.com\n\n## Experience\n\n**Engineer, Acme**  \n\n- Built APIs\n\n## Skills\n\n- **Languages:** Rust, Go\n"
        );
    }
}
