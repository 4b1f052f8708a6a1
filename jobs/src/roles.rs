//! Reading a role from a job title: its specialty and family, its seniority level, whether it
//! manages people, and its significant words. Shared by assignment (a resume's title names a
//! role that may need a category) and the keyword scorer (a listing's title against the
//! resume's titles).
//!
//! - [`SPECIALTIES`]: the software and data specialties the role families name, each
//!   with the phrases that reveal it in a title; any other profession is compared by its
//!   title words ([`TitleRole::words`], the head noun apart), so a nurse or an accountant
//!   needs no table.
//! - [`Level`]: intern … principal, read from title words and, where a title says nothing,
//!   from years.
//! - [`resume_titles`]: the lines of a resume that state a role (headline, then experience
//!   entries, most recent first).

use crate::text::words;

/// Seniority, one step each; people managers are a separate track ([`TitleRole::manager`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Intern,
    Entry,
    Mid,
    Senior,
    Staff,
    Principal,
}

impl Level {
    /// How many steps apart two levels are.
    pub fn distance(self, other: Self) -> u8 {
        (self as u8).abs_diff(other as u8)
    }

    /// A lowercase name for reasons.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intern => "intern",
            Self::Entry => "entry",
            Self::Mid => "mid",
            Self::Senior => "senior",
            Self::Staff => "staff",
            Self::Principal => "principal",
        }
    }

    /// The level years of experience suggest when nothing else does (never above senior:
    /// staff and principal are titles, not tenure).
    pub fn from_years(years: u32) -> Self {
        match years {
            0..=1 => Self::Entry,
            2..=4 => Self::Mid,
            _ => Self::Senior,
        }
    }

    /// The level a listing's required years suggest.
    pub fn from_required_years(years: u32) -> Self {
        match years {
            0..=1 => Self::Entry,
            2..=4 => Self::Mid,
            5..=7 => Self::Senior,
            _ => Self::Staff,
        }
    }
}

/// A specialty of the software and data professions, with its family.
#[derive(Debug, PartialEq, Eq)]
pub struct Specialty {
    pub slug: &'static str,
    pub family: &'static str,
    /// Phrases (whole words, in order) that reveal it in a title.
    pub patterns: &'static [&'static str],
}

/// The family of the generic "software engineer", a neighbour of every development role.
const GENERIC: &str = "software";

/// The specialties of the role families (the list), most phrases two words or more
/// so that "data engineer" is not "data" and "engineer".
pub const SPECIALTIES: &[Specialty] = &[
    Specialty {
        slug: "data_engineer",
        family: "data",
        patterns: &[
            "data engineer",
            "data platform",
            "big data",
            "etl developer",
            "etl engineer",
            "data infrastructure",
            "data pipeline",
            "data warehouse engineer",
            "data integration",
        ],
    },
    Specialty {
        slug: "analytics_engineer",
        family: "data",
        patterns: &["analytics engineer"],
    },
    Specialty {
        slug: "data_analyst",
        family: "data",
        patterns: &[
            "data analyst",
            "business intelligence",
            "bi analyst",
            "bi developer",
            "product analyst",
            "analytics analyst",
            "reporting analyst",
            "insights analyst",
            "marketing analyst",
        ],
    },
    Specialty {
        slug: "data_scientist",
        family: "data",
        patterns: &["data scientist", "decision scientist", "applied scientist"],
    },
    Specialty {
        slug: "ml_engineer",
        family: "data",
        patterns: &[
            "machine learning engineer",
            "ml engineer",
            "mlops",
            "ml ops",
            "ai engineer",
            "deep learning engineer",
            "ml platform",
            "machine learning platform",
            "ml infrastructure",
        ],
    },
    Specialty {
        slug: "research_scientist",
        family: "data",
        patterns: &[
            "research scientist",
            "research engineer",
            "ml researcher",
            "machine learning researcher",
            "ai researcher",
            "research science",
        ],
    },
    Specialty {
        slug: "backend",
        family: "infrastructure",
        patterns: &[
            "backend",
            "back end",
            "server side",
            "api engineer",
            "distributed systems engineer",
        ],
    },
    Specialty {
        slug: "platform",
        family: "infrastructure",
        patterns: &[
            "platform engineer",
            "infrastructure engineer",
            "infra engineer",
            "cloud infrastructure",
            "platform engineering",
            "infrastructure",
        ],
    },
    Specialty {
        slug: "sre",
        family: "infrastructure",
        patterns: &[
            "site reliability",
            "sre",
            "reliability engineer",
            "production engineer",
        ],
    },
    Specialty {
        slug: "devops",
        family: "infrastructure",
        patterns: &[
            "devops",
            "dev ops",
            "build engineer",
            "release engineer",
            "cloud engineer",
            "ci cd",
        ],
    },
    Specialty {
        slug: "ios",
        family: "mobile",
        patterns: &["ios", "swift developer", "swiftui", "iphone"],
    },
    Specialty {
        slug: "android",
        family: "mobile",
        patterns: &["android", "kotlin developer"],
    },
    Specialty {
        slug: "react_native",
        family: "mobile",
        patterns: &["react native", "flutter", "cross platform mobile"],
    },
    Specialty {
        slug: "mobile",
        family: "mobile",
        patterns: &["mobile engineer", "mobile developer", "mobile software"],
    },
    Specialty {
        slug: "frontend",
        family: "web",
        patterns: &[
            "frontend",
            "front end",
            "ui engineer",
            "ui developer",
            "web developer",
            "javascript developer",
            "react developer",
            "web engineer",
        ],
    },
    Specialty {
        slug: "fullstack",
        family: "web",
        patterns: &["full stack", "fullstack"],
    },
    Specialty {
        slug: "design_engineer",
        family: "web",
        patterns: &[
            "design engineer",
            "ux engineer",
            "design technologist",
            "creative technologist",
        ],
    },
    Specialty {
        slug: "security",
        family: "security",
        patterns: &[
            "security",
            "appsec",
            "penetration tester",
            "pentester",
            "infosec",
            "soc analyst",
            "devsecops",
        ],
    },
    Specialty {
        slug: "embedded",
        family: "embedded",
        patterns: &["embedded", "firmware"],
    },
    Specialty {
        slug: "robotics",
        family: "embedded",
        patterns: &[
            "robotics",
            "robot",
            "controls engineer",
            "autonomy",
            "perception engineer",
        ],
    },
    Specialty {
        slug: "qa",
        family: "qa",
        patterns: &[
            "qa",
            "quality assurance",
            "test engineer",
            "sdet",
            "test automation",
            "automation engineer",
            "engineer in test",
            "quality engineer",
            "software tester",
        ],
    },
    Specialty {
        slug: "engineering_manager",
        family: "management",
        patterns: &[
            "engineering manager",
            "manager software",
            "manager engineering",
            "director of engineering",
            "engineering director",
            "head of engineering",
            "vp engineering",
            "vp of engineering",
            "engineering lead manager",
        ],
    },
    Specialty {
        slug: "mechanical",
        family: "mechanical",
        patterns: &[
            "mechanical engineer",
            "mechanical design",
            "mechanical",
            "hardware engineer",
        ],
    },
    Specialty {
        slug: "product_manager",
        family: "product",
        patterns: &["product manager", "product owner", "product management"],
    },
    Specialty {
        slug: "product_designer",
        family: "design",
        patterns: &[
            "product designer",
            "ux designer",
            "ui designer",
            "ux researcher",
            "interaction designer",
        ],
    },
    Specialty {
        slug: "software_engineer",
        family: GENERIC,
        patterns: &[
            "software engineer",
            "software developer",
            "software development engineer",
            "developer",
            "programmer",
            "swe",
            "sde",
            "application developer",
        ],
    },
];

/// Specialties a generic software engineer is a near neighbour of (the others in the
/// software professions are farther).
const DEVELOPMENT: &[&str] = &[
    "backend",
    "frontend",
    "fullstack",
    "platform",
    "mobile",
    "ios",
    "android",
    "react_native",
];

/// Nouns that end a job title in any profession ("… engineer", "… nurse", "… accountant").
pub const ROLE_NOUNS: &[&str] = &[
    "engineer",
    "developer",
    "programmer",
    "architect",
    "scientist",
    "analyst",
    "researcher",
    "designer",
    "manager",
    "director",
    "consultant",
    "specialist",
    "coordinator",
    "administrator",
    "technician",
    "technologist",
    "nurse",
    "physician",
    "therapist",
    "pharmacist",
    "accountant",
    "auditor",
    "bookkeeper",
    "controller",
    "electrician",
    "plumber",
    "carpenter",
    "mechanic",
    "welder",
    "machinist",
    "operator",
    "driver",
    "teacher",
    "tutor",
    "lecturer",
    "professor",
    "writer",
    "editor",
    "marketer",
    "recruiter",
    "officer",
    "clerk",
    "assistant",
    "representative",
    "agent",
    "advisor",
    "adviser",
    "planner",
    "paralegal",
    "attorney",
    "lawyer",
    "chef",
    "cook",
    "installer",
    "inspector",
    "surveyor",
    "estimator",
    "buyer",
    "strategist",
    "producer",
    "counselor",
    "caregiver",
    "paramedic",
    "dentist",
    "hygienist",
    "veterinarian",
    "librarian",
    "economist",
    "statistician",
    "actuary",
    "chemist",
    "biologist",
    "supervisor",
    "lead",
    "sre",
    "sdet",
    "owner",
    "associate",
    "intern",
    "student",
    "aide",
    "pilot",
    "banker",
    "underwriter",
    "cashier",
];

/// Words that mark a level and say nothing about the role.
const LEVEL_WORDS: &[(&str, Level)] = &[
    ("intern", Level::Intern),
    ("internship", Level::Intern),
    ("coop", Level::Intern),
    ("student", Level::Intern),
    ("apprentice", Level::Entry),
    ("trainee", Level::Entry),
    ("graduate", Level::Entry),
    ("grad", Level::Entry),
    ("junior", Level::Entry),
    ("jr", Level::Entry),
    ("entry", Level::Entry),
    ("associate", Level::Entry),
    ("i", Level::Entry),
    ("ii", Level::Mid),
    ("mid", Level::Mid),
    ("intermediate", Level::Mid),
    ("iii", Level::Senior),
    ("senior", Level::Senior),
    ("sr", Level::Senior),
    ("iv", Level::Staff),
    ("staff", Level::Staff),
    ("lead", Level::Staff),
    ("principal", Level::Principal),
    ("distinguished", Level::Principal),
    ("fellow", Level::Principal),
];

/// Words that make a title a people manager's (with [`MANAGER_EXCEPTIONS`] before them).
const MANAGER_WORDS: &[&str] = &["manager", "director", "head", "vp", "supervisor", "chief"];
/// "Product manager" and its like manage products, not people.
const MANAGER_EXCEPTIONS: &[&str] = &[
    "product",
    "project",
    "program",
    "account",
    "marketing",
    "case",
    "community",
    "content",
    "brand",
    "property",
    "office",
    "sales",
    "territory",
    "campaign",
    "release",
];

/// Words of no weight in a title beside the level and manager words.
const FILLER: &[&str] = &[
    "of",
    "and",
    "the",
    "a",
    "an",
    "for",
    "in",
    "at",
    "with",
    "to",
    "remote",
    "hybrid",
    "onsite",
    "on",
    "site",
    "m",
    "f",
    "d",
    "w",
    "x",
    "full",
    "time",
    "part",
    "contract",
    "new",
    "level",
    "summer",
    "fall",
    "winter",
    "spring",
    "early",
    "career",
    "university",
    "campus",
    "team",
    "&",
    "or",
    "us",
    "eu",
    "uk",
];

/// What a title says about its role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TitleRole {
    /// Indices into [`SPECIALTIES`] of every specialty the title names (the generic software
    /// engineer only when no other is named).
    pub specialties: Vec<usize>,
    /// The seniority its words state, if any.
    pub level: Option<Level>,
    /// Whether it manages people.
    pub manager: bool,
    /// Its significant words, stemmed (level, manager and filler words left out), in order.
    pub words: Vec<String>,
    /// The role noun it ends on ("engineer", "nurse"), if one is there.
    pub head: Option<String>,
}

/// A word in its singular form (plurals are the one inflection titles vary in).
pub fn singular(word: &str) -> &str {
    if word.len() > 3
        && word.ends_with('s')
        && !word.contains('.')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        &word[..word.len() - 1]
    } else {
        word
    }
}

/// The words of a title, hyphenated ones split ("full-stack" is "full", "stack").
fn hyphen_split_words(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .flat_map(|w| w.split('-'))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A title word in the form titles are compared in: singular, and the field a role is
/// named after read as the role ("nursing assistant" is a nurse's title word).
fn title_word(word: &str) -> &str {
    match word {
        "nursing" => "nurse",
        "accounting" => "accountant",
        "engineering" => "engineer",
        _ => singular(word),
    }
}

/// Every specialty's phrases in title words, by their first word, built once.
type PatternIndex = std::collections::HashMap<&'static str, Vec<(usize, Vec<&'static str>)>>;

fn patterns_by_first_word() -> &'static PatternIndex {
    static INDEX: std::sync::OnceLock<PatternIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = PatternIndex::new();
        for (i, specialty) in SPECIALTIES.iter().enumerate() {
            for pattern in specialty.patterns {
                let phrase: Vec<&'static str> = pattern.split(' ').map(title_word).collect();
                index.entry(phrase[0]).or_default().push((i, phrase));
            }
        }
        index
    })
}

fn contains_phrase(words: &[&str], phrase: &[&str]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase)
}

impl TitleRole {
    /// Reads a title; see the module docs.
    pub fn read(title: &str) -> Self {
        // "Software Engineer, Backend" reads as "Backend Software Engineer" too.
        let lowered = title.to_lowercase();
        let segments: Vec<&str> = lowered
            .split([',', '|', '/', '(', ')', '–', '—', ':'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let forward: Vec<String> = hyphen_split_words(&lowered);
        let forward: Vec<&str> = forward.iter().map(|w| title_word(w)).collect();
        let reordered: Vec<String> = segments
            .iter()
            .rev()
            .flat_map(|s| hyphen_split_words(s))
            .collect();
        let reordered: Vec<&str> = reordered.iter().map(|w| title_word(w)).collect();

        // Every phrase found, then the longest first with no two overlapping: "data platform
        // engineer" is a data engineer, "mechanical design engineer" no design engineer, and
        // "backend / platform engineer" both.
        let without_levels = |seq: &[&'_ str]| -> Vec<String> {
            seq.iter()
                .filter(|w| !LEVEL_WORDS.iter().any(|(l, _)| l == *w))
                .map(|w| (*w).to_owned())
                .collect()
        };
        let (plain_forward, plain_reordered) =
            (without_levels(&forward), without_levels(&reordered));
        let plain_forward: Vec<&str> = plain_forward.iter().map(String::as_str).collect();
        let plain_reordered: Vec<&str> = plain_reordered.iter().map(String::as_str).collect();
        let mut specialties: Vec<usize> = Vec::new();
        for sequence in [&plain_forward, &plain_reordered] {
            let mut found: Vec<(usize, usize, usize)> = Vec::new();
            let index = patterns_by_first_word();
            for (start, word) in sequence.iter().enumerate() {
                for (i, phrase) in index.get(word).into_iter().flatten() {
                    if sequence.len() - start >= phrase.len()
                        && sequence[start..start + phrase.len()] == phrase[..]
                    {
                        found.push((*i, start, phrase.len()));
                    }
                }
            }
            found.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
            let mut taken: Vec<(usize, usize)> = Vec::new();
            for (i, start, len) in found {
                if taken.iter().any(|(s, l)| start < s + l && *s < start + len) {
                    continue;
                }
                taken.push((start, len));
                if !specialties.contains(&i) {
                    specialties.push(i);
                }
            }
        }
        if specialties
            .iter()
            .any(|i| SPECIALTIES[*i].family != GENERIC)
        {
            specialties.retain(|i| SPECIALTIES[*i].family != GENERIC);
        }

        let level = forward
            .iter()
            .filter_map(|w| LEVEL_WORDS.iter().find(|(l, _)| l == w).map(|(_, v)| *v))
            .max_by_key(|l| {
                // The most telling word: intern and principal over a stray "i".
                match l {
                    Level::Intern | Level::Principal => 3,
                    Level::Entry | Level::Staff | Level::Senior => 2,
                    Level::Mid => 1,
                }
            })
            .or_else(|| {
                if contains_phrase(&forward, &["co", "op"]) {
                    Some(Level::Intern)
                } else {
                    (contains_phrase(&forward, &["new", "grad"])
                        || contains_phrase(&forward, &["early", "career"]))
                    .then_some(Level::Entry)
                }
            });
        let manager = forward.iter().enumerate().any(|(i, w)| {
            MANAGER_WORDS.contains(w)
                && !(i > 0 && MANAGER_EXCEPTIONS.contains(&forward[i - 1]))
                && !(*w == "head" && forward.get(i + 1) != Some(&"of"))
        }) || specialties
            .iter()
            .any(|i| SPECIALTIES[*i].slug == "engineering_manager");

        // People managers climb their own track: manager ≈ senior, senior manager ≈ staff,
        // director and above ≈ principal.
        let level = if manager {
            let executive = forward
                .iter()
                .any(|w| matches!(*w, "director" | "vp" | "chief" | "head"));
            Some(match level {
                _ if executive => Level::Principal,
                Some(Level::Senior | Level::Staff) => Level::Staff,
                Some(Level::Principal) => Level::Principal,
                _ => Level::Senior,
            })
        } else {
            level
        };
        let significant = |seq: &[&str]| -> Vec<String> {
            seq.iter()
                .filter(|w| {
                    !FILLER.contains(w)
                        && !LEVEL_WORDS.iter().any(|(l, _)| l == *w)
                        && !MANAGER_WORDS.contains(w)
                        && w.chars().any(char::is_alphabetic)
                })
                .map(|w| (*w).to_owned())
                .collect()
        };
        // The words of the part that names the role: "Registered Nurse - ICU (Nights, Full
        // Time)" is compared as "registered nurse", the rest qualifying it.
        let core = segments
            .iter()
            .flat_map(|s| s.split(" - "))
            .map(|segment| {
                let seq = hyphen_split_words(segment);
                let seq: Vec<&str> = seq.iter().map(|w| title_word(w)).collect();
                significant(&seq)
            })
            .find(|words| words.iter().any(|w| ROLE_NOUNS.contains(&w.as_str())));
        let significant = core.unwrap_or_else(|| significant(&forward));
        let head = significant
            .iter()
            .rev()
            .find(|w| ROLE_NOUNS.contains(&w.as_str()))
            .cloned();
        Self {
            specialties,
            level,
            manager,
            words: significant,
            head,
        }
    }

    /// Whether the title names a role at all: a known specialty or a role noun.
    pub fn names_a_role(&self) -> bool {
        !self.specialties.is_empty() || self.head.is_some()
    }

    /// How alike two roles are, 0 (unrelated) to 1 (the same role); see the module docs.
    /// Not symmetric: a generic "software engineer" opening is close to a backend resume, a
    /// generic resume less close to a backend opening.
    /// `self` is the listing's title, `other` one of the resume's.
    pub fn similarity(&self, other: &TitleRole) -> f64 {
        let known = !self.specialties.is_empty() && !other.specialties.is_empty();
        if known {
            return self
                .specialties
                .iter()
                .flat_map(|a| other.specialties.iter().map(move |b| (a, b)))
                .map(|(a, b)| specialty_similarity(&SPECIALTIES[*a], &SPECIALTIES[*b]))
                .fold(0.0, f64::max);
        }
        let overlap = self.word_overlap(other);
        if self.specialties.is_empty() && other.specialties.is_empty() {
            overlap
        } else {
            // One side is a software specialty, the other a title the table does not know.
            overlap * 0.5
        }
    }

    /// The share of this title's words the other has: the head noun 0.4, the words that
    /// qualify it 0.6 (a "financial analyst" is not a "data analyst").
    fn word_overlap(&self, other: &TitleRole) -> f64 {
        if self.words.is_empty() {
            return 0.0;
        }
        let has = |w: &String| other.words.contains(w);
        let modifiers: Vec<&String> = self
            .words
            .iter()
            .filter(|w| Some(*w) != self.head.as_ref())
            .collect();
        let head_part = match &self.head {
            Some(h) if has(h) => 1.0,
            Some(_) => 0.0,
            None => {
                return modifiers.iter().filter(|w| has(w)).count() as f64
                    / modifiers.len().max(1) as f64;
            }
        };
        if modifiers.is_empty() {
            // "Nurse" against "Registered Nurse": the head is all there is.
            return head_part;
        }
        let modifier_part =
            modifiers.iter().filter(|w| has(w)).count() as f64 / modifiers.len() as f64;
        0.4 * head_part + 0.6 * modifier_part
    }

    /// Names of the specialties, for reasons.
    pub fn describe(&self) -> String {
        if let Some(i) = self.specialties.first() {
            SPECIALTIES[*i].slug.replace('_', " ")
        } else {
            self.words.join(" ")
        }
    }
}

fn specialty_similarity(a: &Specialty, b: &Specialty) -> f64 {
    if a.slug == b.slug {
        return 1.0;
    }
    let generic = |s: &Specialty| s.family == GENERIC;
    let development = |s: &Specialty| DEVELOPMENT.contains(&s.slug);
    match (generic(a), generic(b)) {
        (true, true) => 1.0,
        // A generic opening takes a development specialist; a generic engineer is not yet one.
        (true, false) if development(b) => 0.85,
        (false, true) if development(a) => 0.5,
        (true, false) | (false, true) => 0.3,
        (false, false) if a.family == b.family => 0.55,
        (false, false) => 0.05,
    }
}

/// Words of an education line.
const DEGREES: &[&str] = &[
    "b.s",
    "bs",
    "b.sc",
    "bsc",
    "b.a",
    "ba",
    "m.s",
    "ms",
    "msc",
    "m.sc",
    "mba",
    "phd",
    "ph.d",
    "bachelor",
    "bachelors",
    "master",
    "masters",
    "university",
    "college",
    "degree",
    "bsn",
    "diploma",
];

/// Lines of `resume` that state a role, most recent first: the headline (its first short
/// lines) and the experience entries, each cut to the segment that holds the role ("Senior
/// Data Engineer — Acme (2021 – present)" → "Senior Data Engineer"). A title must look like
/// one: its role noun capitalized, no sentence, no bullet, no degree ("I led a team of
/// engineers" and "B.S. Computer Engineering" are no titles).
pub fn resume_titles(resume: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, line) in resume
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if line.starts_with(['-', '•', '*', '·', '–', '>']) || line.ends_with('.') {
            continue;
        }
        // "B.S. Computer Engineering, 2019" is a degree, not a role.
        let lowered = line.to_lowercase();
        if DEGREES.iter().any(|d| {
            lowered
                .split(|c: char| !c.is_alphanumeric() && c != '.')
                .any(|w| w.trim_end_matches('.') == *d)
        }) {
            continue;
        }
        let word_count = words(line).len();
        let headline = i < 4;
        if word_count == 0 || word_count > if headline { 10 } else { 16 } {
            continue;
        }
        if let Some(title) = role_segment(line)
            && !out.contains(&title)
        {
            out.push(title);
        }
    }
    out
}

/// The part of a line that names a role, if one does; see [`resume_titles`].
fn role_segment(line: &str) -> Option<String> {
    // A comma splits an employer from a title too, but "Engineer, Backend" and "Engineer —
    // Backend & Platform" are one title: a short part naming a specialty joins the title.
    let parts: Vec<&str> = line
        .split(['|', '—', '–', '@', '(', ')', '•', '·', ';', '/', ','])
        .flat_map(|s| s.split(" - "))
        .flat_map(|s| s.split(" at "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let (k, part) = parts
        .iter()
        .enumerate()
        .find(|(_, part)| looks_like_title(part))?;
    let role = TitleRole::read(part);
    let mut title = (*part).to_owned();
    let next_role = parts.get(k + 1).map(|next| TitleRole::read(next));
    if let (Some(next), Some(next_role)) = (parts.get(k + 1), next_role)
        && words(next).len() <= 4
        && next_role.head.is_none()
        && next_role
            .specialties
            .iter()
            .any(|s| !role.specialties.contains(s))
    {
        title = format!("{part}, {next}");
    }
    Some(title)
}

/// A short run of words naming a role, not a sentence or a date: at most seven words, no
/// digits, its role noun capitalized (the headline may be a little longer).
fn looks_like_title(part: &str) -> bool {
    let count = words(part).len();
    if count == 0 || count > 7 || part.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let role = TitleRole::read(part);
    if !role.names_a_role() {
        return false;
    }
    // The word the role rests on, as written, capitalized: "Staff Accountant", not "I led a
    // team of engineers".
    part.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|w| {
            let lower = w.to_lowercase();
            let noun = ROLE_NOUNS.contains(&singular(&lower))
                || SPECIALTIES
                    .iter()
                    .flat_map(|s| s.patterns)
                    .any(|p| p.split(' ').next_back() == Some(singular(&lower)));
            noun && w.chars().next().is_some_and(char::is_uppercase)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(title: &str) -> Vec<&'static str> {
        TitleRole::read(title)
            .specialties
            .iter()
            .map(|i| SPECIALTIES[*i].slug)
            .collect()
    }

    #[test]
    fn titles_name_their_specialty() {
        assert_eq!(slugs("Senior Data Engineer"), ["data_engineer"]);
        assert_eq!(slugs("Software Engineer, Data Platform"), ["data_engineer"]);
        assert_eq!(slugs("Analytics Engineer II"), ["analytics_engineer"]);
        assert_eq!(slugs("Software Engineer, Backend"), ["backend"]);
        assert_eq!(slugs("Staff Software Engineer"), ["software_engineer"]);
        assert_eq!(slugs("Sr. Site Reliability Engineer"), ["sre"]);
        assert_eq!(slugs("Machine Learning Engineer"), ["ml_engineer"]);
        assert_eq!(slugs("Mechanical Design Engineer"), ["mechanical"]);
        assert_eq!(slugs("Full-Stack Engineer (Senior)"), ["fullstack"]);
        assert!(slugs("Registered Nurse - ICU").is_empty());
    }

    #[test]
    fn levels_and_managers_are_read_from_title_words() {
        let read = TitleRole::read;
        assert_eq!(read("Senior Data Engineer").level, Some(Level::Senior));
        assert_eq!(
            read("Software Engineer, New Grad 2027").level,
            Some(Level::Entry)
        );
        assert_eq!(
            read("Software Engineering Intern - Summer 2027").level,
            Some(Level::Intern)
        );
        assert_eq!(read("Firmware Engineer II").level, Some(Level::Mid));
        assert_eq!(read("Principal Engineer").level, Some(Level::Principal));
        assert_eq!(read("Data Engineer").level, None);
        assert!(read("Engineering Manager, Data").manager);
        assert!(read("Nurse Manager").manager);
        assert!(!read("Senior Product Manager").manager);
        assert!(!read("Head Nurse").manager);
    }

    #[test]
    fn neighbours_are_closer_than_strangers() {
        let sim = |a: &str, b: &str| TitleRole::read(a).similarity(&TitleRole::read(b));
        assert_eq!(sim("Data Engineer", "Senior Data Engineer"), 1.0);
        let near = sim("Analytics Engineer", "Data Engineer");
        let far = sim("iOS Engineer", "Data Engineer");
        assert!(near > far && near < 1.0, "{near} {far}");
        assert_eq!(sim("Registered Nurse - ICU", "Registered Nurse, ICU"), 1.0);
        assert!(sim("Financial Analyst", "Data Analyst") < 0.5);
        assert!(sim("Staff Accountant", "Senior Accountant") > 0.9);
        assert!(sim("Electrician", "Data Engineer") < 0.1);
    }

    #[test]
    fn resume_titles_come_from_the_headline_and_the_experience() {
        let resume = "Jane Roe\nSenior Data Engineer\njane@example.com\n\nExperience\n\
                      Northwind Analytics | Data Engineer | 2019 – 2021\n\
                      - Built Spark pipelines used by the analytics engineers\n\
                      Acme Corp, Software Engineer, Backend, 2016-2019\n";
        assert_eq!(
            resume_titles(resume),
            [
                "Senior Data Engineer",
                "Data Engineer",
                "Software Engineer, Backend"
            ]
        );
        assert!(resume_titles("Curriculum Vitae\nJohn Smith\n").is_empty());
        let prose = "Sam Lee\nsam@example.com\n\nSummary\nI led a team of engineers at Acme\n\
                     - Hired 5 nurses\nStaff Accountant, Beta LLP, 2020 – present\n";
        assert_eq!(resume_titles(prose), ["Staff Accountant"]);
    }
}
