//! HTML to plain text, for descriptions.
//!
//! Block elements become line breaks, list items get a bullet, entities are decoded, and
//! runs of blank lines are collapsed. `scraper::Html` is not `Send`: these are plain
//! functions, never held across an `.await`.

use scraper::{Html, Node};

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
];

/// The readable text of an HTML fragment.
pub fn html_to_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len() / 2);
    for node in fragment.root_element().descendants() {
        match node.value() {
            Node::Text(text) => {
                let t = text.text.replace(['\n', '\t', '\r'], " ");
                if !t.trim().is_empty() || (!out.ends_with([' ', '\n']) && !out.is_empty()) {
                    out.push_str(&t);
                }
            }
            Node::Element(el) if BLOCKS.contains(&el.name()) => {
                if !out.ends_with('\n') && !out.is_empty() {
                    out.push('\n');
                }
                if el.name() == "li" {
                    out.push_str("- ");
                }
            }
            _ => {}
        }
    }
    tidy(&out)
}

/// A description from optional HTML: its text, or `None` when there is none.
pub fn description(html: Option<String>) -> Option<String> {
    html.map(|h| html_to_text(&h)).filter(|d| !d.is_empty())
}

/// Decodes entities in text that is itself escaped HTML (Greenhouse `content`:
/// `&lt;p&gt;Hello&lt;/p&gt;`), giving the HTML back.
pub fn unescape_entities(escaped: &str) -> String {
    let fragment = Html::parse_fragment(&format!("<textarea>{escaped}</textarea>"));
    fragment.root_element().text().collect()
}

/// Trims every line, drops repeated blank lines and spaces.
fn tidy(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines_and_entities_are_decoded() {
        let html = "<h2>About</h2><p>We&#x27;re <b>hiring</b> &amp; growing.</p><ul><li>Rust</li><li>SQL&nbsp;&amp; Postgres</li></ul><p></p><p>Apply&#x2F;now</p>";
        assert_eq!(
            html_to_text(html),
            "About\nWe're hiring & growing.\n- Rust\n- SQL & Postgres\nApply/now"
        );
    }

    #[test]
    fn escaped_html_is_unescaped_once_then_read() {
        let escaped =
            "&lt;h2&gt;Who we are&lt;/h2&gt;\n&lt;p&gt;Stripe is a &amp;amp; platform&lt;/p&gt;";
        let html = unescape_entities(escaped);
        assert_eq!(
            html,
            "<h2>Who we are</h2>\n<p>Stripe is a &amp; platform</p>"
        );
        assert_eq!(html_to_text(&html), "Who we are\nStripe is a & platform");
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(html_to_text("  just   text  "), "just text");
        assert_eq!(html_to_text(""), "");
    }
}
