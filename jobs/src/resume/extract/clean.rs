//! The cleaning every extracted text goes through, whatever the file: ligatures expanded,
//! invisible and control characters dropped, unusual spaces made plain, bullets made `- `,
//! words split by a hyphen at a line end rejoined, whitespace collapsed, Unicode NFC.

use unicode_normalization::UnicodeNormalization;

/// Characters that start a list item in resumes (Symbol-font and Wingdings bullets land in
/// the private use area).
fn is_bullet(c: char) -> bool {
    matches!(
        c,
        '•' | '●'
            | '▪'
            | '■'
            | '◦'
            | '‣'
            | '○'
            | '◆'
            | '◇'
            | '➢'
            | '►'
            | '▸'
            | '✓'
            | '✔'
            | '∙'
            | '⁃'
            | '·'
    ) || ('\u{E000}'..='\u{F8FF}').contains(&c)
}

/// The expansion of a typographic ligature.
fn ligature(c: char) -> Option<&'static str> {
    Some(match c {
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' | 'ﬆ' => "st",
        _ => return None,
    })
}

/// One character as it should be kept: `None` drops it.
fn plain(c: char, out: &mut String) {
    if let Some(s) = ligature(c) {
        out.push_str(s);
        return;
    }
    match c {
        '\n' => out.push('\n'),
        '\t' => out.push('\t'),
        // Soft hyphen, zero-width space/joiners, word joiner, BOM.
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
        '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => out.push(' '),
        '\u{2028}' | '\u{2029}' | '\u{85}' => out.push('\n'),
        c if c.is_control() => {}
        c => out.push(c),
    }
}

/// A line with its leading bullet (if any) made `- `, inner whitespace collapsed, trimmed.
fn tidy_line(line: &str) -> String {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut out = String::with_capacity(line.len());
    let mut chars = first.chars();
    let lead = chars.next();
    match lead {
        Some(c)
            if is_bullet(c)
                || (c == '*' || c == '-' || c == '–') && first.len() == c.len_utf8() =>
        {
            let rest: String = chars.collect();
            let rest = rest.trim_start_matches(is_bullet);
            out.push('-');
            if !rest.is_empty() {
                out.push(' ');
                out.push_str(rest);
            }
        }
        _ => out.push_str(first),
    }
    for w in words {
        if out == "-" {
            out.push(' ');
            out.push_str(w.trim_start_matches(is_bullet));
            continue;
        }
        out.push(' ');
        out.push_str(w);
    }
    // A bullet alone on its line ("•" then the item's text on the next) stays "-".
    out.trim_end().to_owned()
}

/// Whether `line` ends in a word broken by a hyphen ("manage-" before "ment").
fn ends_in_broken_word(line: &str) -> bool {
    let mut rev = line.chars().rev();
    rev.next() == Some('-') && rev.next().is_some_and(char::is_alphabetic)
}

/// Whether the hyphen ending `line` (before `next`) belongs to the word: the document writes
/// the word with that hyphen elsewhere ("stack-ups") and never without it.
fn hyphen_is_real(text: &str, line: &str, next: &str) -> bool {
    let head = line
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default()
        .trim_start_matches(|c: char| !c.is_alphanumeric());
    let tail = next
        .split(char::is_whitespace)
        .next()
        .unwrap_or_default()
        .trim_end_matches(|c: char| !c.is_alphanumeric());
    let hyphenated = format!("{head}{tail}");
    let joined = format!("{}{tail}", head.trim_end_matches('-'));
    text.matches(hyphenated.as_str()).count() > 0 && !text.contains(joined.as_str())
}

/// The cleaned text: see the module comment. Paragraph breaks (one blank line) survive.
pub fn clean(raw: &str) -> String {
    let mut plain_text = String::with_capacity(raw.len());
    for c in raw.chars() {
        plain(c, &mut plain_text);
    }
    let mut lines: Vec<String> = Vec::new();
    for line in plain_text.lines() {
        let line = tidy_line(line);
        if line.is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
            continue;
        }
        if let Some(prev) = lines.last_mut()
            && ends_in_broken_word(prev)
            && line.chars().next().is_some_and(char::is_lowercase)
            && !hyphen_is_real(&plain_text, prev, &line)
        {
            prev.pop();
            // The rest of the broken word joins the line before; what follows it stays.
            let (rest_of_word, after) = line.split_once(' ').unwrap_or((&line, ""));
            prev.push_str(rest_of_word);
            if !after.is_empty() {
                lines.push(after.to_owned());
            }
            continue;
        }
        if lines.last().is_some_and(|l| l == "-") {
            let bullet = lines.pop().unwrap_or_default();
            lines.push(format!("{bullet} {line}"));
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    // Composed once, at the end: dropping invisible characters can bring a base letter and
    // its combining mark together.
    lines.join("\n").nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligatures_spaces_and_invisible_characters() {
        assert_eq!(
            clean("Eﬃcient ﬁnance\u{A0}work\u{200B}ﬂow, soft\u{AD}ware\u{0}"),
            "Efficient finance workflow, software"
        );
        // Decomposed accents are composed (NFC).
        assert_eq!(
            clean("Universita\u{300} Zu\u{308}rich"),
            "Università Zürich"
        );
    }

    #[test]
    fn bullets_become_dashes_and_stay_lines() {
        assert_eq!(
            clean("• Rust\n\u{F0B7}\tGo\n●\n  Kafka\n* SQL\n- Terraform\n-5% cost"),
            "- Rust\n- Go\n- Kafka\n- SQL\n- Terraform\n-5% cost"
        );
    }

    #[test]
    fn hyphenated_line_ends_are_rejoined_but_real_hyphens_stay() {
        assert_eq!(
            clean(
                "led the manage-\nment of twelve\nengineers in a multi-\nTeam setup; 2019-\n2021"
            ),
            "led the management\nof twelve\nengineers in a multi-\nTeam setup; 2019-\n2021"
        );
    }

    #[test]
    fn whitespace_is_collapsed_and_paragraphs_kept() {
        assert_eq!(
            clean("  Summary \t \r\n\r\n\r\n Built   things\n\n\n"),
            "Summary\n\nBuilt things"
        );
    }
}
