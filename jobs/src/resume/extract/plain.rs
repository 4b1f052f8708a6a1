//! Plain text and Markdown: decoding (UTF-8, or UTF-16 with its byte-order mark), telling
//! Markdown from plain text by its markup, and reading Markdown as the text a person sees
//! (headings, emphasis, links, images, tables, comments and rules reduced to their words).

/// Text decoded from the bytes, or `None` when they are not text (not UTF-8 nor UTF-16 with a
/// BOM, or holding NUL bytes).
pub fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], big: bool| -> Option<String> {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| {
                if big {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    u16::from_le_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    let text = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok()?,
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false)?,
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true)?,
        _ => String::from_utf8(bytes.to_vec()).ok()?,
    };
    (!text.contains('\0')).then_some(text)
}

/// Whether the text is written in Markdown: an ATX heading, or at least two other kinds of
/// markup (emphasis, links, tables, fenced code) — plain-text resumes have `-` bullets too.
pub fn is_markdown(text: &str) -> bool {
    let mut heading = false;
    let mut kinds = 0;
    let (mut emphasis, mut link, mut table, mut fence) = (false, false, false, false);
    for line in text.lines().map(str::trim) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            heading = true;
        }
        emphasis |= line.contains("**") || line.contains("__");
        link |= line.contains("](");
        table |= line.starts_with('|') && line.ends_with('|');
        fence |= line.starts_with("```");
    }
    for k in [emphasis, link, table, fence] {
        kinds += usize::from(k);
    }
    heading || kinds >= 2
}

/// `[text](url)` → `text (url)`, `![alt](url)` → `alt`, `<url>` → `url`.
fn links(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let image = open > 0 && rest[..open].ends_with('!');
        let Some(close) = rest[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = rest[close + 2..].find(')').map(|i| close + 2 + i) else {
            break;
        };
        out.push_str(&rest[..if image { open - 1 } else { open }]);
        let text = &rest[open + 1..close];
        let url = &rest[close + 2..end];
        out.push_str(text);
        if !image && !url.is_empty() && url != text {
            out.push_str(" (");
            out.push_str(url);
            out.push(')');
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Emphasis and code markers removed: `**`, `__`, `` ` ``, and `*`/`_` around a word.
fn emphasis(line: &str) -> String {
    let line = line.replace("**", "").replace("__", "").replace('`', "");
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '*' || c == '_' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            let opens = before.is_none_or(|b| !b.is_alphanumeric())
                && after.is_some_and(|a| !a.is_whitespace());
            let closes = after.is_none_or(|a| !a.is_alphanumeric())
                && before.is_some_and(|b| !b.is_whitespace());
            if opens || closes {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The words of a Markdown document, a line per line.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_comment = false;
    for raw in text.lines() {
        let mut line = raw.trim().to_owned();
        // HTML comments (possibly over several lines).
        loop {
            if in_comment {
                match line.find("-->") {
                    Some(end) => {
                        line = line[end + 3..].to_owned();
                        in_comment = false;
                    }
                    None => {
                        line.clear();
                        break;
                    }
                }
            }
            match line.find("<!--") {
                Some(start) => {
                    let tail = line[start + 4..].to_owned();
                    line.truncate(start);
                    match tail.find("-->") {
                        Some(end) => line.push_str(&tail[end + 3..]),
                        None => in_comment = true,
                    }
                }
                None => break,
            }
        }
        let line = line.trim();
        if line.is_empty() && !raw.trim().is_empty() {
            continue;
        }
        if line.starts_with("```") {
            continue;
        }
        // Rules, and a table's separator row.
        if line.len() >= 3
            && line
                .chars()
                .all(|c| matches!(c, '-' | '*' | '_' | ' ' | '|' | ':'))
            && !line.starts_with("- ")
        {
            continue;
        }
        let mut line = line.trim_start_matches('#').trim_start().to_owned();
        if let Some(rest) = line.strip_prefix("* ").or_else(|| line.strip_prefix("+ ")) {
            line = format!("- {rest}");
        }
        if line.starts_with('>') {
            line = line.trim_start_matches('>').trim_start().to_owned();
        }
        if line.starts_with('|') && line.ends_with('|') && line.len() > 1 {
            let cells: Vec<&str> = line[1..line.len() - 1].split('|').map(str::trim).collect();
            line = cells.join(" | ");
        }
        let line = emphasis(&links(&line));
        let line = line.replace("<br>", " ").replace("<br/>", " ");
        out.push_str(line.trim());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_utf16_and_refuses_binary() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello").as_deref(), Some("hello"));
        assert_eq!(
            decode(&[0xFF, 0xFE, b'h', 0, b'i', 0]).as_deref(),
            Some("hi")
        );
        assert_eq!(decode(b"caf\xE9"), None, "Latin-1 is not UTF-8");
        assert_eq!(decode(b"a\0b"), None);
    }

    #[test]
    fn markdown_is_told_by_its_markup() {
        assert!(is_markdown("# Jane\nEngineer"));
        assert!(is_markdown("**Jane** [site](https://x.y)"));
        assert!(!is_markdown("Jane Doe\n- Rust\n- Go\n#1 in sales"));
    }

    #[test]
    fn markdown_reads_as_its_words() {
        let md = "## Skills\n**Rust** and _Go_, `dbt`; snake_case stays\n* [Blog](https://b.example) ![me](me.png)\n---\n| a | b |\n|---|---|\n| 1 | 2 |\n<!-- hidden\nnote -->Shown\n> quoted";
        assert_eq!(
            markdown_text(md),
            "Skills\nRust and Go, dbt; snake_case stays\n- Blog (https://b.example) me\na | b\n1 | 2\nShown\nquoted\n"
        );
    }
}
