//! Term statistics over stored listings: how many listings hold each word and word pair
//! (BM25's inverse document frequency: words most listings share weigh near nothing), and
//! how many hold each sentence (a sentence three listings share verbatim — a company blurb,
//! a benefits line, an equal-opportunity statement — is boilerplate). Sentences are counted
//! once per title, so one opening posted for three locations does not make its own
//! description boilerplate.

use super::listing::{Parsed, parse};
use super::terms::{IdMap, IdSet, TermId};

/// A sentence held by this many listings is boilerplate.
const SHARED_SENTENCE: u32 = 3;

/// Document frequencies of terms and sentences.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Listings counted.
    pub documents: u32,
    terms: IdMap<u32>,
    sentences: IdMap<u32>,
    titles: IdSet,
}

impl Corpus {
    /// Counts the terms and sentences of each `(title, description)`.
    pub fn from_listings<'a>(listings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut corpus = Self::default();
        for (title, description) in listings {
            corpus.add(&parse(title, description));
        }
        corpus
    }

    /// Counts one parsed listing.
    pub(super) fn add(&mut self, parsed: &Parsed) {
        self.documents += 1;
        let mut seen = IdSet::default();
        seen.reserve(parsed.occurrences.len());
        for o in &parsed.occurrences {
            if seen.insert(o.id) {
                *self.terms.entry(o.id).or_default() += 1;
            }
        }
        if !self.titles.insert(parsed.title_id) {
            return;
        }
        let mut sentences = IdSet::default();
        for s in &parsed.sentences {
            if *s != 0 && sentences.insert(*s) {
                *self.sentences.entry(*s).or_default() += 1;
            }
        }
    }

    /// BM25's inverse document frequency, `ln(1 + (N − df + 0.5) / (df + 0.5))`.
    pub fn idf(&self, id: TermId) -> f32 {
        let n = self.documents as f32;
        let df = self.terms.get(&id).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Whether a sentence fingerprint is shared by enough listings to be boilerplate.
    pub fn is_boilerplate(&self, fingerprint: TermId) -> bool {
        fingerprint != 0
            && self.sentences.get(&fingerprint).copied().unwrap_or(0) >= SHARED_SENTENCE
    }
}
