//! Counting a GraphQL document's lexical tokens without parsing it, stopping at the limit.

/// The lexical tokens of a GraphQL document (punctuators, names, numbers, strings; whitespace,
/// commas and comments are not tokens), counted up to `limit + 1`.
pub fn count_tokens(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() && n <= limit {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                n += 1;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                n += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                i += 3;
                n += 1;
            }
            b if b.is_ascii_digit() || b == b'-' => {
                // A number: digits, sign, point, exponent.
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || b".+-".contains(&bytes[i]))
                {
                    i += 1;
                }
                n += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                n += 1;
            }
            _ => {
                // A punctuator, or a character the parser will refuse: one token each.
                i += query[i..].chars().next().map_or(1, char::len_utf8);
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_like_a_lexer_and_counting_stops_past_the_limit() {
        assert_eq!(count_tokens("{ me { id } }", 100), 6);
        assert_eq!(
            count_tokens(
                "query Q($a: Int = 1) { x(a: $a, s: \"a b\") ...F } # note",
                100
            ),
            24
        );
        assert_eq!(count_tokens("{id...F}", 10), 5);
        assert_eq!(count_tokens("\"\"\"block \\\"\"\" string\"\"\" x", 10), 2);
        assert_eq!(count_tokens(&"a ".repeat(1_000_000), 10), 11);
    }
}
