//! The deterministic keyword scorer: the fallback when an LLM call fails, and the scorer when
//! the LLM is off. (Long because of its data: the [`LEXICON`] alone is 200 lines, the tests
//! 140; the algorithm is read best in one place.)
//!
//! For a (resume, listing) pair:
//! 1. **Key terms** of the listing: the [`LEXICON`] skills and role phrases found in its title
//!    and description (whole words). Each weighs its IDF over the stored listings
//!    (`ln((N + 1) / (df + 1)) + 1`, so "rust" outweighs "communication"), doubled when the
//!    term is in the title.
//! 2. **Coverage**: the weight of the key terms the resume mentions over the weight of all of
//!    them.
//! 3. **Title similarity**: the share of the listing title's significant words (seniority and
//!    filler words dropped) found in the resume's headline lines, else anywhere in it at half
//!    value.
//! 4. **Score** = `100 × (0.75 × coverage^0.75 + 0.25 × title)`, rounded. The exponent lifts
//!    partial coverage so that a good match scores high; an unrelated pair, with neither terms
//!    nor title words in common, scores near 0.
//! 5. **Experience gate**: when the listing asks for N years ("5+ years") and the resume
//!    states fewer (its largest "N years", or the span of its year ranges such as
//!    "2019 – present"), the score is capped at 40.
//!
//! An empty resume scores 0 with the reason "resume empty". With no key terms in the listing,
//! the title alone decides. The reason names the matched and missing terms.

use std::collections::{HashMap, HashSet};

use crate::text::words;

/// Skills and role phrases the scorer recognizes, lowercase, matched as whole words.
pub const LEXICON: &[&str] = &[
    // languages
    "rust",
    "go",
    "golang",
    "python",
    "java",
    "kotlin",
    "scala",
    "c++",
    "c#",
    "c",
    "javascript",
    "typescript",
    "ruby",
    "php",
    "swift",
    "objective-c",
    "elixir",
    "erlang",
    "haskell",
    "clojure",
    "r",
    "matlab",
    "julia",
    "perl",
    "bash",
    "sql",
    "graphql",
    "html",
    "css",
    // backend and web
    "node.js",
    "nodejs",
    "django",
    "flask",
    "fastapi",
    "rails",
    "spring",
    "spring boot",
    ".net",
    "asp.net",
    "express",
    "react",
    "angular",
    "vue",
    "next.js",
    "svelte",
    "grpc",
    "rest",
    "microservices",
    "distributed systems",
    "api design",
    "websockets",
    "tokio",
    "actix",
    "axum",
    // data stores and messaging
    "postgres",
    "postgresql",
    "mysql",
    "sqlite",
    "mongodb",
    "redis",
    "cassandra",
    "dynamodb",
    "elasticsearch",
    "kafka",
    "rabbitmq",
    "clickhouse",
    "snowflake",
    "bigquery",
    "redshift",
    // infrastructure
    "aws",
    "gcp",
    "azure",
    "kubernetes",
    "docker",
    "terraform",
    "ansible",
    "linux",
    "ci/cd",
    "github actions",
    "jenkins",
    "prometheus",
    "grafana",
    "observability",
    "networking",
    "security",
    "sre",
    "devops",
    "serverless",
    "lambda",
    // data and ML
    "machine learning",
    "deep learning",
    "statistics",
    "pytorch",
    "tensorflow",
    "scikit-learn",
    "pandas",
    "numpy",
    "spark",
    "hadoop",
    "airflow",
    "dbt",
    "etl",
    "data pipelines",
    "data modeling",
    "nlp",
    "computer vision",
    "llm",
    "a/b testing",
    "experimentation",
    "causal inference",
    "forecasting",
    "tableau",
    "power bi",
    "looker",
    "data visualization",
    "mlops",
    "feature engineering",
    "recommendation systems",
    // mechanical and hardware
    "solidworks",
    "autocad",
    "catia",
    "creo",
    "nx",
    "ansys",
    "fea",
    "cfd",
    "gd&t",
    "cad",
    "cam",
    "cnc",
    "thermodynamics",
    "fluid mechanics",
    "heat transfer",
    "hvac",
    "injection molding",
    "sheet metal",
    "tolerance analysis",
    "dfm",
    "prototyping",
    "3d printing",
    "mechatronics",
    "embedded",
    "firmware",
    "pcb",
    "plc",
    "robotics",
    "manufacturing",
    "lean",
    "six sigma",
    "root cause analysis",
    "fmea",
    // product and process
    "product management",
    "product strategy",
    "roadmap",
    "roadmapping",
    "user research",
    "discovery",
    "agile",
    "scrum",
    "kanban",
    "jira",
    "stakeholder management",
    "okrs",
    "kpis",
    "go-to-market",
    "pricing",
    "analytics",
    "b2b",
    "saas",
    "ux",
    "figma",
    "wireframing",
    "market research",
    "prioritization",
    // practices
    "testing",
    "unit testing",
    "tdd",
    "code review",
    "system design",
    "performance tuning",
    "concurrency",
    "mentoring",
    "technical leadership",
];

/// Words that say nothing about the role in a title, beside the seniority words
/// ([`crate::text::SENIORITY`]).
const TITLE_FILLER: &[&str] = &[
    "of", "and", "the", "a", "an", "ii", "iii", "iv", "remote", "hybrid", "onsite", "m", "f", "d",
    "w", "x", "for", "in", "at", "with", "to", "full", "time", "part", "contract", "mid",
];

/// Document frequencies of the lexicon terms over stored listings.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Listings counted.
    pub documents: u32,
    /// Listings containing each term.
    pub frequencies: HashMap<&'static str, u32>,
}

impl Corpus {
    /// Counts the lexicon terms of each `(title, description)`.
    pub fn from_listings<'a>(listings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut corpus = Self::default();
        for (title, description) in listings {
            corpus.documents += 1;
            let text = Text::new(&format!("{title} {description}"));
            for term in terms_in(&text) {
                *corpus.frequencies.entry(term).or_default() += 1;
            }
        }
        corpus
    }

    fn idf(&self, term: &str) -> f64 {
        let df = f64::from(self.frequencies.get(term).copied().unwrap_or(0));
        ((f64::from(self.documents) + 1.0) / (df + 1.0)).ln() + 1.0
    }
}

/// The tokenized lexicon, built once.
fn lexicon() -> &'static [(&'static str, Vec<String>)] {
    static LEX: std::sync::OnceLock<Vec<(&'static str, Vec<String>)>> = std::sync::OnceLock::new();
    LEX.get_or_init(|| {
        LEXICON
            .iter()
            .map(|t| (*t, words(t)))
            .filter(|(_, w)| !w.is_empty())
            .collect()
    })
}

/// A text's words, in order and as a set (phrases are looked up in the set first).
#[derive(Debug, Clone, Default)]
struct Text {
    words: Vec<String>,
    set: HashSet<String>,
}

impl Text {
    fn new(text: &str) -> Self {
        let words = words(text);
        let set = words.iter().cloned().collect();
        Self { words, set }
    }

    /// Whether `phrase` occurs as consecutive whole words.
    fn has(&self, phrase: &[String]) -> bool {
        match phrase {
            [] => false,
            [one] => self.set.contains(one),
            _ => {
                phrase.iter().all(|w| self.set.contains(w))
                    && self.words.windows(phrase.len()).any(|w| w == phrase)
            }
        }
    }
}

/// The lexicon terms found in `text`.
fn terms_in(text: &Text) -> Vec<&'static str> {
    lexicon()
        .iter()
        .filter(|(_, phrase)| text.has(phrase))
        .map(|(term, _)| *term)
        .collect()
}

/// A resume prepared once for scoring against many listings.
#[derive(Debug, Clone)]
pub struct Resume {
    empty: bool,
    text: Text,
    /// Words of its first three non-empty lines.
    headline: HashSet<String>,
    years: Option<u32>,
}

impl Resume {
    pub fn new(text: &str, current_year: i32) -> Self {
        Self {
            empty: text.trim().is_empty(),
            text: Text::new(text),
            headline: text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(3)
                .flat_map(words)
                .collect(),
            years: years_stated(text, current_year),
        }
    }
}

/// A keyword score with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordScore {
    pub score: i16,
    pub reason: String,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
}

/// Years of experience stated in `text`: the largest "N years" / "N+ years", or the longest
/// span of year ranges ("2016 – 2021", "2019 - present").
fn years_stated(text: &str, current_year: i32) -> Option<u32> {
    let tokens = words(text);
    let mut best: Option<u32> = None;
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(String::as_str);
        if matches!(next, Some("years" | "yrs" | "year"))
            && let Ok(n) = token.trim_end_matches('+').parse::<u32>()
            && (1..=50).contains(&n)
        {
            best = Some(best.map_or(n, |b| b.max(n)));
        }
    }
    // Year ranges: a four-digit year followed (within two tokens) by another or "present".
    let mut earliest: Option<i32> = None;
    let mut latest: Option<i32> = None;
    for (i, token) in tokens.iter().enumerate() {
        let Ok(start) = token.parse::<i32>() else {
            continue;
        };
        if !(1970..=current_year).contains(&start) {
            continue;
        }
        let end = tokens
            .iter()
            .skip(i + 1)
            .take(2)
            .find_map(|t| match t.as_str() {
                "present" | "now" | "current" | "today" => Some(current_year),
                t => t
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (start..=current_year).contains(y)),
            });
        if let Some(end) = end {
            earliest = Some(earliest.map_or(start, |e| e.min(start)));
            latest = Some(latest.map_or(end, |l| l.max(end)));
        }
    }
    if let (Some(e), Some(l)) = (earliest, latest) {
        let span = u32::try_from(l - e).unwrap_or(0);
        best = Some(best.map_or(span, |b| b.max(span)));
    }
    best
}

/// Years the listing asks for ("5+ years", "at least 3 years"), the smallest stated.
fn years_required(text: &str) -> Option<u32> {
    let tokens = words(text);
    tokens
        .windows(2)
        .filter(|w| matches!(w[1].as_str(), "years" | "yrs"))
        .filter_map(|w| w[0].trim_end_matches('+').parse::<u32>().ok())
        .filter(|n| (1..=20).contains(n))
        .min()
}

fn significant_title_words(title: &str) -> Vec<String> {
    let mut out: Vec<String> = words(title)
        .into_iter()
        .filter(|w| {
            !TITLE_FILLER.contains(&w.as_str())
                && !crate::text::SENIORITY.contains(&w.as_str())
                && w.chars().any(char::is_alphabetic)
        })
        .collect();
    out.dedup();
    out
}

/// Scores the text `resume` against a listing (prepares the resume each time; use
/// [`Resume`] and [`score`] for many listings).
pub fn score_text(
    corpus: &Corpus,
    resume: &str,
    title: &str,
    description: &str,
    current_year: i32,
) -> KeywordScore {
    score(
        corpus,
        &Resume::new(resume, current_year),
        title,
        description,
    )
}

/// Scores a prepared resume against a listing; see the module docs.
pub fn score(corpus: &Corpus, resume: &Resume, title: &str, description: &str) -> KeywordScore {
    if resume.empty {
        return KeywordScore {
            score: 0,
            reason: "resume empty".into(),
            matched: vec![],
            missing: vec![],
        };
    }
    let title_text = Text::new(title);
    let listing = Text::new(&format!("{title} {description}"));

    // 1–2: weighted coverage of the listing's key terms.
    let mut terms: Vec<(&'static str, f64, bool)> = lexicon()
        .iter()
        .filter(|(_, phrase)| listing.has(phrase))
        .map(|(term, phrase)| {
            let boost = if title_text.has(phrase) { 2.0 } else { 1.0 };
            (*term, corpus.idf(term) * boost, resume.text.has(phrase))
        })
        .collect();
    terms.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let total: f64 = terms.iter().map(|t| t.1).sum();
    let covered: f64 = terms.iter().filter(|t| t.2).map(|t| t.1).sum();
    let coverage = if total > 0.0 { covered / total } else { 0.0 };

    // 3: title similarity.
    let wanted = significant_title_words(title);
    let title_similarity = if wanted.is_empty() {
        0.0
    } else {
        let found: f64 = wanted
            .iter()
            .map(|w| {
                if resume.headline.contains(w) {
                    1.0
                } else if resume.text.set.contains(w) {
                    0.5
                } else {
                    0.0
                }
            })
            .sum();
        found / wanted.len() as f64
    };

    // 4: the blend; with no key terms the title decides alone.
    let raw = if terms.is_empty() {
        title_similarity
    } else {
        0.75 * coverage.powf(0.75) + 0.25 * title_similarity
    };
    let mut score = (raw * 100.0).round().clamp(0.0, 100.0) as i16;

    // 5: the experience gate.
    let mut gate = None;
    if let (Some(required), Some(stated)) = (years_required(description), resume.years)
        && stated < required
    {
        score = score.min(40);
        gate = Some((required, stated));
    }

    let matched: Vec<String> = terms
        .iter()
        .filter(|t| t.2)
        .map(|t| t.0.to_owned())
        .collect();
    let missing: Vec<String> = terms
        .iter()
        .filter(|t| !t.2)
        .map(|t| t.0.to_owned())
        .collect();
    let mut reason = if terms.is_empty() {
        format!(
            "No known skills in the listing; title overlap {:.0}%.",
            title_similarity * 100.0
        )
    } else {
        format!(
            "Resume covers {} of {} key terms ({:.0}% by weight){}{}; title overlap {:.0}%.",
            matched.len(),
            terms.len(),
            coverage * 100.0,
            list_part(": ", &matched),
            list_part("; missing ", &missing),
            title_similarity * 100.0
        )
    };
    if let Some((required, stated)) = gate {
        reason.push_str(&format!(
            " Listing asks for {required}+ years; resume shows {stated}."
        ));
    }
    KeywordScore {
        score,
        reason: crate::text::truncate_chars(&reason, 300),
        matched: matched.into_iter().take(15).collect(),
        missing: missing.into_iter().take(15).collect(),
    }
}

fn list_part(prefix: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = if items.len() > 5 { ", …" } else { "" };
    format!("{prefix}{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKEND_RESUME: &str = "Alex Doe\nSenior Backend Engineer\n\n\
        Backend engineer since 2017 – present. Built Rust and Go microservices on \
        Kubernetes and AWS; PostgreSQL and Redis at scale; Kafka pipelines; gRPC and REST \
        APIs; Docker, Terraform, CI/CD with GitHub Actions; on-call with Prometheus.";
    const MECH_RESUME: &str = "Sam Roe\nMechanical Design Engineer\n\n\
        8 years designing injection molded parts in SolidWorks and Creo; FEA in ANSYS; \
        GD&T and tolerance analysis; DFM with suppliers; prototyping and 3D printing.";

    const BACKEND_TITLE: &str = "Senior Backend Engineer";
    const BACKEND_DESC: &str = "We build distributed systems in Rust and Go. You will \
        design microservices on Kubernetes (AWS), own PostgreSQL and Redis, and work with \
        Kafka. Experience with Terraform and gRPC is a plus. 5+ years of experience.";
    const MECH_TITLE: &str = "Mechanical Engineer";
    const MECH_DESC: &str = "Design sheet metal and injection molded enclosures in \
        SolidWorks. Run FEA and tolerance analysis, apply GD&T, support manufacturing and \
        prototyping. 3+ years of experience.";

    fn corpus() -> Corpus {
        Corpus::from_listings([
            (BACKEND_TITLE, BACKEND_DESC),
            (MECH_TITLE, MECH_DESC),
            (
                "Data Scientist",
                "Python, SQL, statistics, machine learning, A/B testing.",
            ),
            (
                "Product Manager",
                "Own the roadmap; agile; stakeholder management; SQL.",
            ),
            (
                "Frontend Engineer",
                "React, TypeScript, CSS, testing. Communication.",
            ),
        ])
    }

    #[test]
    fn an_empty_resume_scores_zero() {
        let s = score_text(&corpus(), "  \n ", BACKEND_TITLE, BACKEND_DESC, 2026);
        assert_eq!((s.score, s.reason.as_str()), (0, "resume empty"));
    }

    #[test]
    fn a_resume_ranks_its_own_field_first() {
        let c = corpus();
        let backend_backend = score_text(&c, BACKEND_RESUME, BACKEND_TITLE, BACKEND_DESC, 2026);
        let backend_mech = score_text(&c, BACKEND_RESUME, MECH_TITLE, MECH_DESC, 2026);
        let mech_mech = score_text(&c, MECH_RESUME, MECH_TITLE, MECH_DESC, 2026);
        let mech_backend = score_text(&c, MECH_RESUME, BACKEND_TITLE, BACKEND_DESC, 2026);
        assert!(backend_backend.score >= 80, "{backend_backend:?}");
        assert!(mech_mech.score >= 75, "{mech_mech:?}");
        assert!(backend_mech.score <= 15, "{backend_mech:?}");
        assert!(mech_backend.score <= 15, "{mech_backend:?}");
        assert!(backend_backend.score > backend_mech.score);
        assert!(mech_mech.score > mech_backend.score);
    }

    #[test]
    fn the_reason_names_matched_and_missing_terms() {
        let s = score_text(
            &corpus(),
            "Backend Engineer\nRust and PostgreSQL, 6 years.",
            BACKEND_TITLE,
            BACKEND_DESC,
            2026,
        );
        assert!(s.matched.contains(&"rust".to_owned()), "{s:?}");
        assert!(s.missing.contains(&"kubernetes".to_owned()), "{s:?}");
        assert!(
            s.reason.contains("rust") && s.reason.contains("missing"),
            "{}",
            s.reason
        );
        assert!(s.reason.chars().count() <= 300);
        // Partial coverage lands in the middle, not at an end.
        assert!((25..=75).contains(&s.score), "{s:?}");
    }

    #[test]
    fn too_few_years_cap_the_score() {
        let junior = "Backend Engineer\n2 years of experience. Rust, Go, Kubernetes, AWS, \
                      PostgreSQL, Redis, Kafka, Terraform, gRPC, microservices, distributed systems.";
        let s = score_text(&corpus(), junior, BACKEND_TITLE, BACKEND_DESC, 2026);
        assert_eq!(s.score, 40, "{s:?}");
        assert!(s.reason.contains("5+ years"), "{}", s.reason);
        // Stated through a year range instead: 2017 – present is 9 years, enough.
        let s = score_text(&corpus(), BACKEND_RESUME, BACKEND_TITLE, BACKEND_DESC, 2026);
        assert!(s.score > 40, "{s:?}");
    }

    #[test]
    fn rare_terms_weigh_more_than_common_ones() {
        let c =
            Corpus::from_listings([("A", "sql rust"), ("B", "sql"), ("C", "sql"), ("D", "sql")]);
        assert!(c.idf("rust") > c.idf("sql"));
        let with_rare = score_text(&c, "Engineer\nrust", "Engineer", "sql rust", 2026);
        let with_common = score_text(&c, "Engineer\nsql", "Engineer", "sql rust", 2026);
        assert!(
            with_rare.score > with_common.score,
            "{with_rare:?} {with_common:?}"
        );
    }

    #[test]
    fn scores_are_deterministic_and_spread() {
        let c = corpus();
        let a = score_text(&c, BACKEND_RESUME, BACKEND_TITLE, BACKEND_DESC, 2026);
        let b = score_text(&c, BACKEND_RESUME, BACKEND_TITLE, BACKEND_DESC, 2026);
        assert_eq!(a, b);
        let all: Vec<i16> = [
            (BACKEND_RESUME, BACKEND_TITLE, BACKEND_DESC),
            (BACKEND_RESUME, MECH_TITLE, MECH_DESC),
            (MECH_RESUME, MECH_TITLE, MECH_DESC),
            (MECH_RESUME, BACKEND_TITLE, BACKEND_DESC),
        ]
        .iter()
        .map(|(r, t, d)| score_text(&c, r, t, d, 2026).score)
        .collect();
        let (min, max) = (all.iter().min(), all.iter().max());
        assert!(
            max.zip(min).is_some_and(|(max, min)| max - min >= 60),
            "{all:?}"
        );
    }

    #[test]
    fn years_are_read_from_counts_and_ranges() {
        assert_eq!(years_stated("5+ years of Rust", 2026), Some(5));
        assert_eq!(
            years_stated("Acme 2015 - 2018, Beta 2019 – present", 2026),
            Some(11)
        );
        assert_eq!(years_stated("no dates here", 2026), None);
        assert_eq!(
            years_required("3+ years required, 5 years preferred"),
            Some(3)
        );
    }
}
