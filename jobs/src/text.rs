//! Plain-text helpers that sources, assignment and matching share: words and whole-word
//! matching, cutting text to a length, the seniority words, and the cleaning of control
//! characters.
//!
//! [`clean_line`] and [`clean_block`] drop NUL and the other control characters that boards
//! sometimes send: Postgres refuses `\u{0}` in text while SQLite stores it, so text is cleaned
//! once, where it enters (DESIGN.md §5 "Collect"), and both backends see the same listing.

/// Whether every word of `term` occurs in `text` as a whole word (case-insensitive).
pub fn matches_term(text: &str, term: &str) -> bool {
    let words: Vec<String> = words(text);
    let wanted = words_of(term);
    !wanted.is_empty() && wanted.iter().all(|w| words.contains(w))
}

/// Lowercase alphanumeric words of `text` (`C++`, `C#` and `.NET` keep their symbols).
pub fn words(text: &str) -> Vec<String> {
    words_of(text)
}

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#' || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Cuts `text` to at most `max` characters, on a character boundary, marking the cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Seniority and filler words a generic category slug (and a title comparison) leaves out.
pub const SENIORITY: [&str; 14] = [
    "senior",
    "sr",
    "junior",
    "jr",
    "lead",
    "principal",
    "staff",
    "head",
    "chief",
    "intern",
    "entry",
    "level",
    "associate",
    "i",
];

/// A single-line value (title, company, location, URL) without control characters: tabs and
/// line breaks become spaces, the rest (NUL, escapes, DEL, C1 controls) are dropped, and
/// whitespace runs collapse.
pub fn clean_line(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A multi-line value (a description) without control characters other than line breaks and
/// tabs; the text is otherwise unchanged.
pub fn clean_block(s: &str) -> String {
    if !s.chars().any(is_unwanted) {
        return s.to_owned();
    }
    s.chars().filter(|c| !is_unwanted(*c)).collect()
}

fn is_unwanted(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_match_whole_words_in_any_order() {
        assert!(matches_term(
            "Senior Software Engineer (Rust)",
            "software engineer"
        ));
        assert!(matches_term("Engineer, Software", "software engineer"));
        assert!(!matches_term(
            "Software Engineering Manager",
            "software engineer"
        ));
        assert!(matches_term("C++ Developer", "c++"));
        assert!(!matches_term("anything", "  "));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        assert_eq!(truncate_chars("short", 5), "short");
    }

    #[test]
    fn control_characters_are_dropped_and_line_breaks_kept_where_they_belong() {
        assert_eq!(
            clean_line("Data\u{0} Engineer\u{1b}[1m\n (Rust)\u{7f}\u{85}"),
            "Data Engineer[1m (Rust)"
        );
        assert_eq!(
            clean_block("Line one\u{0}\r\nLine\ttwo\u{8}"),
            "Line one\nLine\ttwo"
        );
        assert_eq!(clean_block("untouched\ntext"), "untouched\ntext");
    }
}
