//! Hard requirements: what a listing states as required that a resume may lack — a security
//! clearance, a spoken language at a level, a PhD, current enrollment, a licence — read from
//! one sentence at a time, and whether a resume shows each.
//!
//! A sentence that says "a plus", "preferred", "nice to have" and the like requires nothing,
//! nor does a "nice to have" section (the caller skips those). A PhD among alternatives
//! ("MS or PhD") is no requirement; "CPA eligible" is no licence.

use std::sync::OnceLock;

use super::terms::{IdSet, TermId, id_set};

/// Something a listing requires that only some resumes show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Clearance,
    /// A spoken language at a level: 1 basic … 3 professional, 4 fluent, 5 native.
    Language {
        name: &'static str,
        level: u8,
    },
    Phd,
    Enrollment,
    /// A licence, by the words that name it ("rn", "cpa", "electrician"); any one of them
    /// meets it ("an RN licence or a multistate licence").
    Licence(Vec<String>),
}

impl Requirement {
    /// The requirement as a reason states it.
    pub fn describe(&self) -> String {
        match self {
            Self::Clearance => "a security clearance".to_owned(),
            Self::Language { name, level } => {
                let how = match level {
                    5 => "native",
                    4 => "fluent",
                    3 => "professional",
                    _ => "working",
                };
                format!("{how} {}", capitalized(name))
            }
            Self::Phd => "a PhD".to_owned(),
            Self::Enrollment => "current enrollment in a degree".to_owned(),
            Self::Licence(names) => format!("a {} licence", names.join(" or ").to_uppercase()),
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Spoken languages a listing may require (English, the language of the listings, aside).
pub const LANGUAGES: &[&str] = &[
    "german",
    "french",
    "spanish",
    "italian",
    "portuguese",
    "dutch",
    "swedish",
    "norwegian",
    "danish",
    "finnish",
    "polish",
    "czech",
    "hungarian",
    "romanian",
    "greek",
    "turkish",
    "russian",
    "ukrainian",
    "arabic",
    "hebrew",
    "hindi",
    "japanese",
    "korean",
    "mandarin",
    "cantonese",
    "chinese",
    "vietnamese",
    "thai",
    "indonesian",
    "tagalog",
];

/// Words that make a sentence optional.
fn optional_word(w: &str) -> bool {
    matches!(
        w,
        "plus"
            | "bonus"
            | "preferred"
            | "prefer"
            | "nice"
            | "ideally"
            | "desirable"
            | "advantage"
            | "advantageous"
            | "helpful"
            | "optional"
            | "welcome"
            | "appreciated"
            | "beneficial"
    )
}

/// The ids of the words without which a sentence states no hard requirement, or makes
/// nothing optional: a quick test by the ids the words have anyway.
pub fn may_state(ids: impl IntoIterator<Item = TermId>) -> bool {
    static IDS: OnceLock<IdSet> = OnceLock::new();
    let triggers = IDS.get_or_init(|| {
        let mut words = vec![
            "clearance",
            "phd",
            "ph.d",
            "doctorate",
            "doctoral",
            "enrolled",
            "enrollment",
            "pursuing",
            "student",
            "license",
            "licence",
            "licensure",
            "licensed",
            "cpa",
        ];
        words.extend_from_slice(LANGUAGES);
        id_set(&words)
    });
    ids.into_iter().any(|id| triggers.contains(&id))
}

/// [`optional`] by the words' ids first: most sentences have none of the words.
pub fn optional_by_ids(ids: impl IntoIterator<Item = TermId>, words: &[&str]) -> bool {
    static IDS: OnceLock<IdSet> = OnceLock::new();
    let markers = IDS.get_or_init(|| {
        id_set(&[
            "plus",
            "bonus",
            "preferred",
            "prefer",
            "nice",
            "ideally",
            "desirable",
            "advantage",
            "advantageous",
            "helpful",
            "optional",
            "welcome",
            "appreciated",
            "beneficial",
            "not",
            "no",
        ])
    });
    ids.into_iter().any(|id| markers.contains(&id)) && optional(words)
}

/// Whether a sentence's words make what it states optional.
pub fn optional(words: &[&str]) -> bool {
    words.iter().any(|w| optional_word(w))
        || has_pair(words, "not", "required")
        || has_pair(words, "not", "need")
        || has_pair(words, "no", "need")
}

fn has_pair(words: &[&str], a: &str, b: &str) -> bool {
    words.windows(2).any(|w| w[0] == a && w[1] == b)
}

/// A level word's value (see [`Requirement::Language`]).
fn language_level(word: &str) -> Option<u8> {
    Some(match word {
        "native" | "bilingual" | "c2" | "mother" => 5,
        "fluent" | "fluency" | "fluently" | "c1" => 4,
        // Not "working" or "business": "working with our German customers" asks for none.
        "proficient" | "proficiency" | "professional" | "b2" => 3,
        "conversational" | "intermediate" | "b1" => 2,
        "basic" | "elementary" | "a1" | "a2" | "beginner" => 1,
        _ => return None,
    })
}

/// Words before "licence" that do not name it.
const LICENCE_FILLER: &[&str] = &[
    "active",
    "current",
    "valid",
    "unrestricted",
    "unencumbered",
    "state",
    "compact",
    "multistate",
    "multi",
    "full",
    "clean",
    "required",
    "own",
    "hold",
    "holding",
    "possess",
    "have",
    "an",
    "a",
    "the",
    "and",
    "or",
    "in",
    "good",
    "standing",
    "appropriate",
    "applicable",
    "relevant",
    "professional",
];

/// The licences a job may legally need, by the word that names them: a licence named
/// otherwise ("MIT license", "open-source license", "license server", "driver's license") is
/// no requirement.
const LICENCES: &[&str] = &[
    "rn",
    "nlc",
    "lpn",
    "lvn",
    "np",
    "aprn",
    "crna",
    "nursing",
    "nurse",
    "cpa",
    "pe",
    "eit",
    "cdl",
    "electrician",
    "electrical",
    "journeyman",
    "plumbing",
    "plumber",
    "hvac",
    "pharmacist",
    "pharmacy",
    "physician",
    "medical",
    "dental",
    "hygienist",
    "teaching",
    "teacher",
    "law",
    "bar",
    "contractor",
    "cosmetology",
    "therapist",
    "therapy",
    "pilot",
    "engineering",
    "insurance",
    "estate",
    "securities",
    "series",
    "counselor",
    "counseling",
    "paramedic",
    "emt",
    "veterinary",
    "architect",
    "architecture",
    "surveyor",
    "respiratory",
];

/// The hard requirements one required sentence (lowercase words, singular) states; callers
/// with many sentences test [`may_state`] first.
pub fn in_sentence(words: &[&str]) -> Vec<Requirement> {
    let mut found = Vec::new();
    if optional(words) {
        return found;
    }
    let has = |w: &str| words.contains(&w);
    if has("clearance")
        && (has("secret")
            || has("sci")
            || has("ts")
            || has("security")
            || has("government")
            || has("dod")
            || has("polygraph")
            || has("active"))
    {
        found.push(Requirement::Clearance);
    }
    for (i, word) in words.iter().enumerate() {
        let Some(name) = LANGUAGES.iter().find(|l| *l == word) else {
            continue;
        };
        // The level stated around the language, else "required" makes it professional.
        let window = &words[i.saturating_sub(4)..(i + 5).min(words.len())];
        let level = window.iter().filter_map(|w| language_level(w)).max();
        let required =
            level.is_some() || has("required") || has("speak") || has("speaking") || has("written");
        if *name == "polish" && level.is_none() {
            continue;
        }
        if required {
            found.push(Requirement::Language {
                name,
                level: level.unwrap_or(3),
            });
        }
    }
    let phd = has("phd") || has("ph.d") || has("doctorate") || has("doctoral");
    let alternatives = [
        "master",
        "ms",
        "msc",
        "m.s",
        "bachelor",
        "bs",
        "equivalent",
        "master'",
    ]
    .iter()
    .any(|w| has(w));
    if phd && !alternatives {
        found.push(Requirement::Phd);
    }
    let degree = [
        "degree",
        "bachelor",
        "bs",
        "ba",
        "bsc",
        "undergraduate",
        "master",
        "program",
    ]
    .iter()
    .any(|w| has(w));
    if has("enrolled")
        || has("enrollment")
        || (has("pursuing") && degree)
        || has_pair(words, "returning", "student")
        || has_pair(words, "current", "student")
    {
        found.push(Requirement::Enrollment);
    }
    // A licence to obtain later ("before the start date", "within 6 months") blocks nothing
    // today, nor does a limit ("less than a year as a licensed RN").
    let later = [
        "before",
        "prior",
        "within",
        "obtain",
        "eligible",
        "eligibility",
        "less",
        "fewer",
    ]
    .iter()
    .any(|w| has(w));
    let mut licences: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if later {
            break;
        }
        if matches!(*word, "license" | "licence" | "licensure" | "licensed") {
            let before = words[..i]
                .iter()
                .rev()
                .take(3)
                .find(|w| !LICENCE_FILLER.contains(w));
            let after = words
                .get(i + 1)
                .filter(|w| *word == "licensed" && !LICENCE_FILLER.contains(w));
            let name = if *word == "licensed" {
                after.or(before)
            } else {
                before
            };
            if let Some(name) = name
                && LICENCES.contains(name)
                && !licences.iter().any(|l| l == name)
            {
                licences.push((*name).to_owned());
            }
        }
    }
    let cpa_pending = ["toward", "towards", "pursuing", "track"]
        .iter()
        .any(|w| has(w));
    if has("cpa") && !cpa_pending && !later && !licences.iter().any(|l| l == "cpa") {
        licences.push("cpa".into());
    }
    if !licences.is_empty() {
        found.push(Requirement::Licence(licences));
    }
    found
}

/// The level stated next to the language at `i`: just after it ("German (C1)"), else just
/// before it ("fluent German"), never across another language.
fn stated_level(words: &[&str], i: usize) -> Option<u8> {
    let is_language = |w: &&str| LANGUAGES.contains(w);
    words[i + 1..]
        .iter()
        .take(3)
        .take_while(|w| !is_language(w))
        .find_map(|w| language_level(w))
        .or_else(|| {
            words[..i]
                .iter()
                .rev()
                .take(2)
                .take_while(|w| !is_language(w))
                .find_map(|w| language_level(w))
        })
}

/// What a resume shows of the hard requirements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub clearance: bool,
    pub phd: bool,
    pub student: bool,
    /// Languages with the level the resume states (3 when it states none).
    pub languages: Vec<(&'static str, u8)>,
    /// Licence words the resume holds ("rn", "cpa", "electrician", …).
    pub licences: Vec<String>,
}

impl Shown {
    /// Reads a resume's lines (lowercase words, singular).
    pub fn read(lines: &[Vec<&str>], current_year: i32) -> Self {
        let mut shown = Self::default();
        for words in lines {
            let has = |w: &str| words.contains(&w);
            let negated = |i: usize| {
                words[i.saturating_sub(2)..i]
                    .iter()
                    .any(|w| matches!(*w, "no" | "not" | "without" | "non"))
            };
            for (i, w) in words.iter().enumerate() {
                if *w == "clearance" && !negated(i) {
                    shown.clearance = true;
                }
            }
            if (has("ts") && has("sci")) || has_pair(words, "top", "secret") {
                shown.clearance = true;
            }
            if has("phd") || has("ph.d") || has("doctorate") {
                shown.phd = true;
            }
            let future_year = words.iter().any(|w| {
                w.parse::<i32>()
                    .is_ok_and(|y| (current_year..=current_year + 6).contains(&y))
            });
            if has("enrolled")
                || has_pair(words, "expected", "graduation")
                || has_pair(words, "anticipated", "graduation")
                || has_pair(words, "current", "student")
                || ((has("expected") || has("graduating") || has("candidate") || has("class"))
                    && future_year)
                || (has("present")
                    && future_year
                    && [
                        "university",
                        "college",
                        "bachelor",
                        "bs",
                        "bsn",
                        "degree",
                        "school",
                    ]
                    .iter()
                    .any(|d| has(d)))
            {
                shown.student = true;
            }
            for (i, w) in words.iter().enumerate() {
                if let Some(name) = LANGUAGES.iter().find(|l| *l == w) {
                    shown
                        .languages
                        .push((name, stated_level(words, i).unwrap_or(3)));
                }
            }
            for (i, w) in words.iter().enumerate() {
                let pending = words[i + 1..]
                    .iter()
                    .take(2)
                    .any(|n| matches!(*n, "candidate" | "eligible" | "exam" | "track"))
                    || words[..i]
                        .iter()
                        .rev()
                        .take(2)
                        .any(|p| matches!(*p, "pursuing" | "toward" | "towards" | "not"));
                if pending {
                    continue;
                }
                let licence = match *w {
                    "license" | "licence" | "licensed" | "licensure" => words[..i]
                        .iter()
                        .rev()
                        .take(3)
                        .chain(words.get(i + 1))
                        .filter(|n| !LICENCE_FILLER.contains(n))
                        .map(|n| (*n).to_owned())
                        .collect::<Vec<_>>(),
                    "rn" | "cpa" | "lpn" | "pe" | "np" | "journeyman" | "electrician" => {
                        vec![(*w).to_owned()]
                    }
                    _ => vec![],
                };
                shown.licences.extend(licence);
            }
            if has_pair(words, "registered", "nurse") {
                shown.licences.push("rn".into());
                shown.licences.push("nursing".into());
            }
            if has_pair(words, "certified", "public") {
                shown.licences.push("cpa".into());
            }
        }
        shown
    }

    /// Whether the resume meets `requirement`.
    pub fn meets(&self, requirement: &Requirement) -> bool {
        match requirement {
            Requirement::Clearance => self.clearance,
            Requirement::Phd => self.phd,
            Requirement::Enrollment => self.student,
            Requirement::Language { name, level } => {
                self.languages.iter().any(|(n, l)| n == name && l >= level)
            }
            Requirement::Licence(names) => names.iter().any(|n| self.licences.contains(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let lowered = text.to_lowercase();
        let mut out = Vec::new();
        super::super::terms::for_each_word(&lowered, |w| out.push(w.stem.to_owned()));
        out
    }

    fn required(text: &str) -> Vec<Requirement> {
        let owned = words(text);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        in_sentence(&refs)
    }

    #[test]
    fn required_sentences_state_requirements_and_optional_ones_do_not() {
        assert_eq!(
            required("Active TS/SCI clearance with polygraph required"),
            [Requirement::Clearance]
        );
        assert_eq!(
            required("Fluent German (C1 or above) is required for this role"),
            [Requirement::Language {
                name: "german",
                level: 4
            }]
        );
        assert!(required("German is a plus").is_empty());
        assert_eq!(
            required("PhD in Computer Science or a related field"),
            [Requirement::Phd]
        );
        assert!(required("MS or PhD in a quantitative field").is_empty());
        assert_eq!(
            required("Currently enrolled in a bachelor's program in nursing"),
            [Requirement::Enrollment]
        );
        assert_eq!(
            required("Current, unrestricted RN license in California"),
            [Requirement::Licence(vec!["rn".into()])]
        );
        assert_eq!(
            required("Active Arizona RN licence or an active multistate (NLC compact) licence"),
            [Requirement::Licence(vec!["rn".into(), "nlc".into()])]
        );
        assert!(required("Hold an RN licence before the residency start date").is_empty());
        assert_eq!(
            required("Active CPA required"),
            [Requirement::Licence(vec!["cpa".into()])]
        );
        assert!(required("CPA eligible or working toward it").is_empty());
        assert!(required("Valid driver's license").is_empty());
        assert!(required("Experience with open-source license compliance").is_empty());
        assert!(required("You'll be working with our German customers").is_empty());
        assert!(required("A security clearance is preferred").is_empty());
    }

    #[test]
    fn resumes_show_what_they_hold() {
        let lines: Vec<Vec<String>> = [
            "Languages: German (C1), Spanish (conversational)",
            "BSN, State University, 2023 – present (expected graduation May 2027)",
            "Licensed RN, California",
            "No clearance",
        ]
        .iter()
        .map(|l| words(l))
        .collect();
        let refs: Vec<Vec<&str>> = lines
            .iter()
            .map(|l| l.iter().map(String::as_str).collect())
            .collect();
        let shown = Shown::read(&refs, 2026);
        assert!(!shown.clearance);
        assert!(shown.student);
        assert!(shown.meets(&Requirement::Language {
            name: "german",
            level: 4
        }));
        assert!(!shown.meets(&Requirement::Language {
            name: "german",
            level: 5
        }));
        assert!(!shown.meets(&Requirement::Language {
            name: "spanish",
            level: 3
        }));
        assert!(shown.meets(&Requirement::Licence(vec!["rn".into()])));
        assert!(!shown.meets(&Requirement::Licence(vec!["cpa".into()])));
    }
}
