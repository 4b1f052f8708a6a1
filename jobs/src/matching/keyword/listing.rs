//! A listing read once for scoring: its sections (requirements weigh more than "nice to
//! have", "about us", benefits and the equal-opportunity paragraph weigh near nothing), its
//! sentences (a sentence many listings share is boilerplate), its terms weighted by the
//! corpus, its role and level, and its hard requirements.

use crate::roles::{Level, SPECIALTIES, TitleRole};

use super::corpus::Corpus;
use super::lexicon_ids;
use super::requirements::{self, Requirement};
use super::terms::{IdMap, TermId, for_each_word, pair, triple};

/// The parts a posting is written in, with the weight of a term in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Before any heading: often the role's summary, sometimes the company's.
    Intro,
    About,
    Role,
    Requirements,
    Nice,
    Benefits,
    Equality,
}

impl Section {
    fn weight(self) -> f32 {
        match self {
            Self::Intro => 0.7,
            Self::About => 0.1,
            Self::Role => 1.0,
            Self::Requirements => 1.5,
            Self::Nice => 0.45,
            Self::Benefits => 0.05,
            Self::Equality => 0.02,
        }
    }
}

/// Heading phrases, longest first where one begins another ("about the role" before "about").
const HEADINGS: &[(&str, Section)] = &[
    ("minimum qualifications", Section::Requirements),
    ("basic qualifications", Section::Requirements),
    ("required qualifications", Section::Requirements),
    ("preferred qualifications", Section::Nice),
    ("nice to have", Section::Nice),
    ("nice to haves", Section::Nice),
    ("nice-to-have", Section::Nice),
    ("nice-to-haves", Section::Nice),
    ("bonus points", Section::Nice),
    ("bonus", Section::Nice),
    ("preferred", Section::Nice),
    ("pluses", Section::Nice),
    ("extra credit", Section::Nice),
    ("even better", Section::Nice),
    ("good to have", Section::Nice),
    ("desirable", Section::Nice),
    ("what would make you stand out", Section::Nice),
    ("about the role", Section::Role),
    ("about the job", Section::Role),
    ("about the position", Section::Role),
    ("about the opportunity", Section::Role),
    ("about the team", Section::Intro),
    ("about you", Section::Requirements),
    ("about us", Section::About),
    ("about the company", Section::About),
    ("about", Section::About),
    ("who we are", Section::About),
    ("our company", Section::About),
    ("the company", Section::About),
    ("our mission", Section::About),
    ("our story", Section::About),
    ("life at", Section::About),
    ("why us", Section::Benefits),
    ("why join", Section::Benefits),
    ("why work", Section::Benefits),
    ("why you'll love", Section::Benefits),
    ("benefits", Section::Benefits),
    ("perks", Section::Benefits),
    ("what we offer", Section::Benefits),
    ("we offer", Section::Benefits),
    ("compensation", Section::Benefits),
    ("salary", Section::Benefits),
    ("pay", Section::Benefits),
    ("total rewards", Section::Benefits),
    ("what's in it for you", Section::Benefits),
    ("how to apply", Section::Benefits),
    ("hiring process", Section::Benefits),
    ("interview process", Section::Benefits),
    ("our process", Section::Benefits),
    ("location", Section::Benefits),
    ("equal opportunity", Section::Equality),
    ("equal employment", Section::Equality),
    ("eeo", Section::Equality),
    ("diversity", Section::Equality),
    ("our commitment", Section::Equality),
    ("inclusion", Section::Equality),
    ("accommodation", Section::Equality),
    ("responsibilities", Section::Role),
    ("key responsibilities", Section::Role),
    ("your responsibilities", Section::Role),
    ("what you'll do", Section::Role),
    ("what you will do", Section::Role),
    ("what you'll be doing", Section::Role),
    ("what you'll work on", Section::Role),
    ("the role", Section::Role),
    ("your role", Section::Role),
    ("in this role", Section::Role),
    ("the job", Section::Role),
    ("the position", Section::Role),
    ("the opportunity", Section::Role),
    ("the work", Section::Role),
    ("day to day", Section::Role),
    ("duties", Section::Role),
    ("your impact", Section::Role),
    ("job summary", Section::Role),
    ("position summary", Section::Role),
    ("overview", Section::Intro),
    ("requirements", Section::Requirements),
    ("qualifications", Section::Requirements),
    ("what you bring", Section::Requirements),
    ("what you'll bring", Section::Requirements),
    ("you bring", Section::Requirements),
    ("what we're looking for", Section::Requirements),
    ("what we are looking for", Section::Requirements),
    ("we're looking for", Section::Requirements),
    ("who you are", Section::Requirements),
    ("you have", Section::Requirements),
    ("you are", Section::Requirements),
    ("must have", Section::Requirements),
    ("must haves", Section::Requirements),
    ("must-have", Section::Requirements),
    ("must-haves", Section::Requirements),
    ("what you need", Section::Requirements),
    ("what you'll need", Section::Requirements),
    ("what you will need", Section::Requirements),
    ("skills", Section::Requirements),
    ("required skills", Section::Requirements),
    ("experience", Section::Requirements),
    ("your experience", Section::Requirements),
    ("your background", Section::Requirements),
    ("ideal candidate", Section::Requirements),
    ("the ideal candidate", Section::Requirements),
    ("key requirements", Section::Requirements),
    ("required", Section::Requirements),
    ("you might be a fit", Section::Requirements),
];

/// Words that mark a sentence as equal-opportunity text wherever it stands.
fn equality_word(w: &str) -> bool {
    matches!(
        w,
        "race" | "religion" | "veteran" | "gender" | "disability" | "regard"
    )
}

/// Words that mark a sentence as benefits text wherever it stands.
fn benefit_word(w: &str) -> bool {
    matches!(
        w,
        "401k"
            | "401"
            | "dental"
            | "vision"
            | "pto"
            | "parental"
            | "stipend"
            | "wellness"
            | "equity"
            | "insurance"
            | "vacation"
            | "holiday"
            | "reimbursement"
            | "retirement"
    )
}

/// The heading a short line is, if it is one.
fn heading(line: &str) -> Option<(Section, usize)> {
    let start = line.trim_start();
    if line.len() > 80 || start.starts_with(['-', '•', '*', '·', '–']) && !start.starts_with("**")
    {
        return None;
    }
    let trimmed = line
        .trim()
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let words = trimmed.split_whitespace().count();
    if words == 0 || words > 7 {
        return None;
    }
    let body = trimmed.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    // "Requirements: 5+ years of Go" is a heading with its first item on the same line; a
    // phrase that only begins a line ("Experience with Kubernetes") is no heading, except
    // those a name follows ("About Northwind", "Why join Acme?").
    let colon = line.find(':');
    for (phrase, section) in HEADINGS {
        let named = matches!(
            *phrase,
            "about" | "life at" | "why join" | "why work" | "why us"
        );
        if let Some(rest) = body.strip_prefix(phrase)
            && (rest.is_empty()
                || rest.starts_with([':', '?', '!'])
                || rest.trim_start().starts_with(':')
                || (named
                    && rest.starts_with(' ')
                    && !line.contains(". ")
                    && !rest.chars().any(|c| c.is_ascii_digit())))
        {
            let after = match colon {
                Some(at)
                    if at + 1 < line.len() && !rest.trim_start_matches([' ', ':']).is_empty() =>
                {
                    at + 1
                }
                _ => line.len(),
            };
            return Some((*section, after));
        }
    }
    if line.trim_end().ends_with(':') && words <= 5 {
        // An unknown heading: the role's own text, most likely.
        return Some((Section::Role, line.len()));
    }
    None
}

/// One counted occurrence of a term.
#[derive(Debug, Clone, Copy)]
pub(super) struct Occurrence {
    pub id: TermId,
    pub weight: f32,
    pub sentence: u32,
    pub bigram: bool,
}

/// A listing's text read without the corpus.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub title: TitleRole,
    /// The title's id: the same opening posted for several locations is counted once.
    pub title_id: TermId,
    pub occurrences: Vec<Occurrence>,
    /// Each sentence's fingerprint (0 for sentences too short to be telling).
    pub sentences: Vec<TermId>,
    pub skills: Vec<(&'static str, TermId, f32)>,
    /// Requirement and role terms as written, for the reason when the lexicon knows none.
    pub surfaces: Vec<(TermId, String)>,
    pub blockers: Vec<Requirement>,
    pub years: Option<u32>,
    /// Specialties (indices into [`crate::roles::SPECIALTIES`]) the text says it welcomes.
    pub accepts: Vec<usize>,
}

/// Sentences shorter than this are not compared across listings.
const FINGERPRINT_WORDS: usize = 6;

/// Reads a listing's title and description (see the module docs).
pub(super) fn parse(title: &str, description: &str) -> Parsed {
    let lexicon = lexicon_ids();
    let mut parsed = Parsed {
        title: TitleRole::read(title),
        title_id: super::terms::hash_word(&title.trim().to_lowercase()),
        occurrences: Vec::with_capacity(description.len() / 4),
        sentences: Vec::new(),
        skills: Vec::new(),
        surfaces: Vec::new(),
        blockers: Vec::new(),
        years: None,
        accepts: Vec::new(),
    };
    let mut section = Section::Intro;
    let lines = std::iter::once((title, true)).chain(description.lines().map(|l| (l, false)));
    for (line, is_title) in lines {
        let mut text = line;
        if !is_title && let Some((next, after)) = heading(line) {
            section = next;
            text = &line[after..];
        }
        let lowered = text.to_lowercase();
        for sentence in split_sentences(&lowered) {
            read_sentence(&mut parsed, sentence, section, is_title, lexicon);
        }
    }
    parsed
}

fn split_sentences(line: &str) -> impl Iterator<Item = &str> {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut out = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        let end = matches!(b, b'.' | b'!' | b'?' | b';')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if end {
            out.push(&line[start..=i]);
            start = i + 1;
        }
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out.into_iter().filter(|s| !s.trim().is_empty())
}

fn read_sentence(
    parsed: &mut Parsed,
    sentence: &str,
    section: Section,
    is_title: bool,
    lexicon: &IdMap<&'static str>,
) {
    let mut words: Vec<&str> = Vec::with_capacity(24);
    let mut ids: Vec<(TermId, bool)> = Vec::with_capacity(24);
    for_each_word(sentence, |w| {
        words.push(w.stem);
        ids.push((w.id, w.stopword));
    });
    if words.is_empty() {
        return;
    }
    let optional = requirements::optional_by_ids(ids.iter().map(|(id, _)| *id), &words);
    let mut weight = if is_title { 2.0 } else { section.weight() };
    if optional && section == Section::Requirements {
        weight = Section::Nice.weight();
    }
    // Benefits or equal-opportunity text wherever it stands: two of its words ("race
    // conditions" alone is an engineer's phrase), or one outside the role and requirements.
    let own = matches!(section, Section::Role | Section::Requirements);
    let marked = |count: usize| count >= 2 || (count == 1 && !own);
    let benefits = marked(words.iter().filter(|w| benefit_word(w)).count());
    if marked(words.iter().filter(|w| equality_word(w)).count()) && !is_title {
        weight = weight.min(Section::Equality.weight());
    } else if benefits && !is_title {
        weight = weight.min(0.3);
    }
    let index = parsed.sentences.len() as u32;
    let fingerprint = if words.len() >= FINGERPRINT_WORDS && !is_title {
        ids.iter().fold(0x1234_5678u64, |h, (id, _)| pair(h, *id))
    } else {
        0
    };
    parsed.sentences.push(fingerprint);

    let keep_surface = matches!(section, Section::Requirements | Section::Role) && !optional;
    for (i, (id, stop)) in ids.iter().enumerate() {
        if *stop || words[i].len() < 2 && !words[i].chars().all(|c| c.is_alphabetic()) {
            continue;
        }
        parsed.occurrences.push(Occurrence {
            id: *id,
            weight,
            sentence: index,
            bigram: false,
        });
        if let Some(skill) = lexicon.get(id) {
            note_skill(parsed, skill, *id, weight);
        }
        // Surfaces are kept only while no lexicon skill has turned up (they are for listings
        // the lexicon does not know).
        let keep_surface = keep_surface && parsed.skills.is_empty() && parsed.surfaces.len() < 120;
        if keep_surface && words[i].len() > 2 {
            parsed.surfaces.push((*id, words[i].to_owned()));
        }
        if i + 1 < ids.len() && !ids[i + 1].1 {
            let bigram = pair(*id, ids[i + 1].0);
            parsed.occurrences.push(Occurrence {
                id: bigram,
                weight,
                sentence: index,
                bigram: true,
            });
            if let Some(skill) = lexicon.get(&bigram) {
                note_skill(parsed, skill, bigram, weight);
            }
            if keep_surface {
                parsed
                    .surfaces
                    .push((bigram, format!("{} {}", words[i], words[i + 1])));
            }
            if i + 2 < ids.len()
                && !ids[i + 2].1
                && let Some(skill) = lexicon.get(&triple(*id, ids[i + 1].0, ids[i + 2].0))
            {
                let three = triple(*id, ids[i + 1].0, ids[i + 2].0);
                note_skill(parsed, skill, three, weight);
            }
        }
    }

    if is_title {
        return;
    }
    // Requirements are stated in the role and its requirements, not in the blurb, the perks
    // or a "nice to have".
    let stating = matches!(
        section,
        Section::Intro | Section::Role | Section::Requirements
    ) && !benefits;
    if stating && accepting(&words) {
        // Only a neighbour of the listing's own family: "you'll talk to backend engineers"
        // on a frontend opening welcomes no backend engineer.
        let families: Vec<&str> = parsed
            .title
            .specialties
            .iter()
            .map(|i| SPECIALTIES[*i].family)
            .collect();
        for s in TitleRole::read(sentence).specialties {
            if families.contains(&SPECIALTIES[s].family) && !parsed.accepts.contains(&s) {
                parsed.accepts.push(s);
            }
        }
    }
    if stating {
        let candidates = if requirements::may_state(ids.iter().map(|(id, _)| *id)) {
            requirements::in_sentence(&words)
        } else {
            Vec::new()
        };
        for requirement in candidates {
            if !parsed.blockers.contains(&requirement) {
                parsed.blockers.push(requirement);
            }
        }
        // Years asked of the applicant, not "founded 12 years ago".
        let about_experience = own || words.contains(&"experience");
        if !optional
            && about_experience
            && let Some(years) = years_in(&words)
        {
            parsed.years = Some(parsed.years.map_or(years, |y| y.max(years)));
        }
    }
}

/// Phrases that open an opening to a neighbouring role ("data engineers are encouraged to
/// apply", "we'd love to hear from iOS engineers", "if you're a frontend engineer").
fn accepting(words: &[&str]) -> bool {
    let has = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
    has("encouraged", "to")
        || has("welcome", "to")
        || has("hear", "from")
        || has("open", "to")
        || has("coming", "from")
        || has("come", "from")
        || has("if", "you're")
        || has("also", "consider")
        || has("talk", "to")
        || has("background", "welcome")
}

fn note_skill(parsed: &mut Parsed, skill: &'static str, id: TermId, weight: f32) {
    match parsed.skills.iter_mut().find(|(s, ..)| *s == skill) {
        Some((.., w)) => *w = w.max(weight),
        None => parsed.skills.push((skill, id, weight)),
    }
}

/// Years a sentence asks for: "5+ years", "at least 3 years", "3-5 years", "five years".
pub(super) fn years_in(words: &[&str]) -> Option<u32> {
    let number = |w: &str| -> Option<u32> {
        let digits = w.trim_end_matches('+');
        digits.parse::<u32>().ok().or(match digits {
            "one" => Some(1),
            "two" => Some(2),
            "three" => Some(3),
            "four" => Some(4),
            "five" => Some(5),
            "six" => Some(6),
            "seven" => Some(7),
            "eight" => Some(8),
            "nine" => Some(9),
            "ten" => Some(10),
            _ => None,
        })
    };
    let mut best = None;
    for (i, w) in words.iter().enumerate() {
        if !matches!(*w, "year" | "yr")
            || matches!(
                words.get(i + 1).copied(),
                Some("history" | "old" | "anniversary" | "track" | "warranty")
            )
        {
            continue;
        }
        // "3-5 years" reads as "3", "5", "year": the first number of the range.
        let back: Vec<u32> = words[i.saturating_sub(3)..i]
            .iter()
            .filter_map(|w| number(w))
            .collect();
        if let Some(n) = back.first().copied().filter(|n| (1..=15).contains(n)) {
            best = Some(best.map_or(n, |b: u32| b.max(n)));
        }
    }
    best
}

/// A listing weighed against a corpus, ready to score against any resume.
#[derive(Debug, Clone)]
pub struct Listing {
    pub(super) title: TitleRole,
    /// Every term with its weight.
    pub(super) terms: Vec<(TermId, f32)>,
    pub(super) total: f32,
    /// Lexicon skills with their ids, heaviest first.
    pub(super) skills: Vec<(&'static str, TermId)>,
    /// Requirement terms as written, heaviest first (when the lexicon knows none).
    pub(super) key_terms: Vec<(TermId, String)>,
    pub(super) blockers: Vec<Requirement>,
    pub(super) level: Option<ListingLevel>,
    /// Specialties it says it welcomes beside its own.
    pub(super) accepts: Vec<usize>,
}

/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// What a sentence shared by many listings still weighs.
const BOILERPLATE: f32 = 0.05;
/// What the lexicon's skills weigh beside other terms.
const SKILL_BOOST: f32 = 1.5;
/// What a pair of words weighs beside a word.
const BIGRAM: f32 = 0.6;

impl Listing {
    /// Reads and weighs a listing (see the module docs).
    pub fn new(corpus: &Corpus, title: &str, description: &str) -> Self {
        Self::from_parsed(corpus, parse(title, description))
    }

    pub(super) fn from_parsed(corpus: &Corpus, parsed: Parsed) -> Self {
        let lexicon = lexicon_ids();
        let mut tf: IdMap<(f32, bool)> = IdMap::default();
        tf.reserve(parsed.occurrences.len());
        let shared: Vec<bool> = parsed
            .sentences
            .iter()
            .map(|f| corpus.is_boilerplate(*f))
            .collect();
        for o in &parsed.occurrences {
            let w = if shared[o.sentence as usize] {
                o.weight * BOILERPLATE
            } else {
                o.weight
            };
            let entry = tf.entry(o.id).or_insert((0.0, o.bigram));
            entry.0 += w;
        }
        let mut terms: Vec<(TermId, f32)> = Vec::with_capacity(tf.len());
        let mut total = 0.0;
        for (id, (f, bigram)) in tf {
            let saturated = f * (K1 + 1.0) / (f + K1);
            let mut w = corpus.idf(id) * saturated;
            if bigram {
                w *= BIGRAM;
            }
            if lexicon.contains_key(&id) {
                w *= SKILL_BOOST;
            }
            total += w;
            terms.push((id, w));
        }

        // "go", "c" and "r" are skills only among other skills ("go-live", "R&D", "C-suite").
        let technical = parsed.skills.iter().filter(|(s, ..)| s.len() > 2).count() >= 3;
        let mut skills: Vec<(&'static str, TermId, f32)> = parsed
            .skills
            .iter()
            .filter(|(.., w)| *w >= Section::Nice.weight())
            .filter(|(s, ..)| s.len() > 2 || technical)
            .map(|(s, id, w)| (*s, *id, *w * corpus.idf(*id).max(0.1)))
            .collect();
        skills.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(b.0)));
        let mut key_terms: Vec<(TermId, String, f32)> = Vec::new();
        if skills.is_empty() {
            let weights: IdMap<f32> = terms.iter().copied().collect();
            let weight_of = |id: TermId| weights.get(&id).copied().unwrap_or(0.0);
            for (id, surface) in parsed.surfaces {
                if !key_terms.iter().any(|k| k.0 == id) {
                    let w = weight_of(id);
                    key_terms.push((id, surface, w));
                }
            }
            key_terms.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
            key_terms.truncate(10);
        }
        let level = listing_level(&parsed.title, parsed.years);
        Self {
            title: parsed.title,
            terms,
            total,
            skills: skills.into_iter().map(|(s, id, _)| (s, id)).collect(),
            key_terms: key_terms.into_iter().map(|(id, s, _)| (id, s)).collect(),
            blockers: parsed.blockers,
            level,
            accepts: parsed.accepts,
        }
    }
}

/// The level a listing asks for: its title's word (exact), else its required years (a
/// floor: "1+ years" takes a senior too). ("New grads welcome" in the text widens an
/// opening; it does not make it junior.)
fn listing_level(title: &TitleRole, years: Option<u32>) -> Option<ListingLevel> {
    match (title.level, years) {
        (Some(level), _) => Some(ListingLevel {
            level,
            floor_only: false,
        }),
        (None, Some(years)) => Some(ListingLevel {
            level: Level::from_required_years(years),
            floor_only: true,
        }),
        (None, None) => None,
    }
}

/// The level a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingLevel {
    pub level: Level,
    /// Read from required years: up to two levels above it fit too.
    pub floor_only: bool,
}

impl ListingLevel {
    /// Steps between this opening and a resume's level.
    pub fn gap(self, resume: Level) -> u8 {
        if self.floor_only && resume >= self.level {
            (self.level.distance(resume)).saturating_sub(2)
        } else {
            self.level.distance(resume)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_open_sections_and_may_carry_their_first_item() {
        assert_eq!(heading("About us").map(|h| h.0), Some(Section::About));
        assert_eq!(heading("About the role:").map(|h| h.0), Some(Section::Role));
        assert_eq!(heading("What you'll do").map(|h| h.0), Some(Section::Role));
        assert_eq!(heading("## Nice to have").map(|h| h.0), Some(Section::Nice));
        assert_eq!(heading("Bonus points:").map(|h| h.0), Some(Section::Nice));
        let line = "Requirements: 5+ years of Go";
        let (section, after) = heading(line).expect("a heading");
        assert_eq!(
            (section, &line[after..]),
            (Section::Requirements, " 5+ years of Go")
        );
        assert_eq!(
            heading("We build payment rails for small businesses."),
            None
        );
        assert_eq!(heading("Experience with Kubernetes"), None);
        assert_eq!(heading("About 20% travel"), None);
        assert_eq!(
            heading("About Northwind").map(|h| h.0),
            Some(Section::About)
        );
        assert_eq!(
            heading("Why join Acme?").map(|h| h.0),
            Some(Section::Benefits)
        );
    }

    #[test]
    fn years_are_read_in_their_usual_forms() {
        let years = |s: &str| {
            let lowered = s.to_lowercase();
            let mut w = Vec::new();
            for_each_word(&lowered, |x| w.push(x.stem.to_owned()));
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            years_in(&refs)
        };
        assert_eq!(years("5+ years of experience"), Some(5));
        assert_eq!(years("At least three years in a similar role"), Some(3));
        assert_eq!(years("3-5 years building APIs"), Some(3));
        assert_eq!(years("Our 20 year history"), None);
    }
}
