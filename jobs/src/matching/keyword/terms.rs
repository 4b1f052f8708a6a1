//! Words as the scorer counts them: lowercase, singular, English stopwords dropped, each
//! word and each pair of adjacent words hashed to a [`TermId`] (phrases of three for the
//! lexicon), and hash sets keyed by those ids without hashing them again.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A word or phrase, hashed.
pub type TermId = u64;

/// A hasher for ids that are hashes already.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type IdSet = HashSet<TermId, BuildHasherDefault<IdHasher>>;
pub type IdMap<V> = HashMap<TermId, V, BuildHasherDefault<IdHasher>>;

/// Words too common in English to say anything about a job.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "been", "being", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
    "don't", "during", "each", "etc", "every", "few", "for", "from", "further", "had", "has",
    "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "i'm", "if", "in",
    "into", "is", "it", "it's", "its", "just", "let", "like", "may", "me", "might", "more", "most",
    "must", "my", "no", "nor", "not", "of", "off", "on", "once", "one", "only", "or", "other",
    "our", "ours", "out", "over", "own", "per", "same", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "us", "very", "via", "was", "we", "we'll",
    "we're", "we've", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "within", "would", "you", "you'll", "you're", "you've", "your", "yours",
];

/// The ids of the stopwords' stems, to test a word by the id it has anyway.
fn stopword_ids() -> &'static IdSet {
    static IDS: std::sync::OnceLock<IdSet> = std::sync::OnceLock::new();
    IDS.get_or_init(|| STOPWORDS.iter().map(|w| hash_word(stem(w))).collect())
}

/// The ids of `words`' stems, built once by the caller's `OnceLock`.
pub fn id_set(words: &[&str]) -> IdSet {
    words.iter().map(|w| hash_word(stem(w))).collect()
}

/// A word without its plural `s` (`pipelines` → `pipeline`; `policies` → `policie`, the same
/// on both sides), leaving short words, dotted words and `-ss`/`-us`/`-is` endings alone.
pub fn stem(word: &str) -> &str {
    crate::roles::singular(word)
}

/// FNV-1a over the word's bytes.
pub fn hash_word(word: &str) -> TermId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The id of two words in order.
pub fn pair(a: TermId, b: TermId) -> TermId {
    (a.rotate_left(21) ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995
}

/// The id of three words in order.
pub fn triple(a: TermId, b: TermId, c: TermId) -> TermId {
    pair(pair(a, b), c) ^ 0x2545_f491_4f6c_dd1d
}

/// One lowercase word of a text, as written and as counted.
#[derive(Debug, Clone, Copy)]
pub struct Word<'a> {
    /// Lowercase, singular.
    pub stem: &'a str,
    pub id: TermId,
    pub stopword: bool,
}

/// Calls `each` with every word of the already lowercase `text` (letters, digits and the
/// `+#.` of `c++`, `c#`, `node.js`; a `.` only inside a word).
pub fn for_each_word<'a>(text: &'a str, mut each: impl FnMut(Word<'a>)) {
    for raw in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '\''))) {
        let trimmed = raw.trim_matches(|c| c == '.' || c == '\'');
        if trimmed.is_empty() {
            continue;
        }
        let trimmed = trimmed.strip_suffix("'s").unwrap_or(trimmed);
        let stem = stem(trimmed);
        let id = hash_word(stem);
        each(Word {
            stem,
            id,
            stopword: stopword_ids().contains(&id),
        });
    }
}

/// The term ids of a short text: its words and adjacent pairs (and triples), stopwords
/// breaking the runs, as a phrase of the lexicon is looked up.
pub fn phrase_id(text: &str) -> Option<TermId> {
    let lowered = text.to_lowercase();
    let mut ids = Vec::new();
    for_each_word(&lowered, |w| {
        if !w.stopword {
            ids.push(w.id);
        }
    });
    match ids.as_slice() {
        [a] => Some(*a),
        [a, b] => Some(pair(*a, *b)),
        [a, b, c] => Some(triple(*a, *b, *c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_singular_and_keep_their_symbols() {
        let mut seen = Vec::new();
        for_each_word("pipelines in c++ and node.js, the team's policies.", |w| {
            seen.push((w.stem.to_owned(), w.stopword));
        });
        let stems: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            stems,
            [
                "pipeline", "in", "c++", "and", "node.js", "the", "team", "policie"
            ]
        );
        assert!(seen[1].1 && !seen[0].1);
        assert_eq!(
            phrase_id("Machine Learning"),
            phrase_id("machine learnings")
        );
        assert_ne!(phrase_id("data engineer"), phrase_id("engineer data"));
    }
}
