//! A resume read once for scoring against many listings: its terms, its titles (headline and
//! past roles, most recent first), its level and years, whether it manages people, and what
//! it shows of the hard requirements.

use crate::roles::{self, Level, TitleRole};

use super::requirements::Shown;
use super::terms::{IdSet, for_each_word, pair, triple};

/// A resume prepared for scoring.
#[derive(Debug, Clone)]
pub struct Resume {
    pub(super) empty: bool,
    pub(super) terms: IdSet,
    /// Titles, most recent first (the headline first when it names a role).
    pub(super) titles: Vec<TitleRole>,
    pub(super) level: Option<Level>,
    /// Its current title manages people.
    pub(super) manager: bool,
    /// Some title, or its text, shows managing people.
    pub(super) managed: bool,
    pub(super) shown: Shown,
    /// Its words, for a listing title compared when no title can be read.
    pub(super) words: IdSet,
}

/// Words of an education line: its years are not experience.
const EDUCATION: &[&str] = &[
    "university",
    "college",
    "school",
    "bachelor",
    "master",
    "bs",
    "ba",
    "bsc",
    "msc",
    "ms",
    "phd",
    "degree",
    "bsn",
    "diploma",
    "gpa",
    "education",
    "coursework",
    "certificate",
    "bootcamp",
];

impl Resume {
    /// Reads `text`; `current_year` ends "present" ranges.
    pub fn new(text: &str, current_year: i32) -> Self {
        let lowered = text.to_lowercase();
        let mut terms = IdSet::default();
        let mut words_set = IdSet::default();
        let mut lines: Vec<Vec<&str>> = Vec::new();
        for line in lowered.lines() {
            let mut words: Vec<&str> = Vec::new();
            let mut ids: Vec<(u64, bool)> = Vec::new();
            for_each_word(line, |w| {
                words.push(w.stem);
                ids.push((w.id, w.stopword));
            });
            for (i, (id, stop)) in ids.iter().enumerate() {
                words_set.insert(*id);
                if *stop {
                    continue;
                }
                terms.insert(*id);
                if let Some((next, false)) = ids.get(i + 1) {
                    terms.insert(pair(*id, *next));
                    if let Some((third, false)) = ids.get(i + 2) {
                        terms.insert(triple(*id, *next, *third));
                    }
                }
            }
            lines.push(words);
        }
        let titles: Vec<TitleRole> = roles::resume_titles(text)
            .iter()
            .map(|t| TitleRole::read(t))
            .collect();
        let shown = Shown::read(&lines, current_year);
        let years = years_stated(&lines, current_year);
        let all: Vec<&str> = lines.iter().flatten().copied().collect();
        let says = |a: &str, b: &str| all.windows(2).any(|w| w[0] == a && w[1] == b);
        // The current title first: a senior engineer in a part-time master's is a senior.
        let titled = titles.first().and_then(|t| t.level);
        let level = if let Some(level) = titled.filter(|l| *l > Level::Entry) {
            Some(level)
        } else if shown.student {
            Some(Level::Intern)
        } else if let Some(level) = titled {
            Some(level.max(Level::Entry))
        } else if says("new", "grad") || says("recent", "graduate") || says("entry", "level") {
            Some(Level::Entry)
        } else {
            years.map(Level::from_years)
        };
        let manager = titles.first().is_some_and(|t| t.manager);
        let managed = titles.iter().any(|t| t.manager)
            || says("direct", "report")
            || says("people", "manager")
            || says("managed", "team");
        Self {
            empty: text.trim().is_empty(),
            terms,
            titles,
            level,
            manager,
            managed,
            shown,
            words: words_set,
        }
    }
}

/// Years of experience a resume states: its largest "N years", or the span of the year
/// ranges of its experience ("2016 – 2021", "2019 – present"; education lines and
/// internships left out).
fn years_stated(lines: &[Vec<&str>], current_year: i32) -> Option<u32> {
    let mut best: Option<u32> = None;
    let mut earliest: Option<i32> = None;
    let mut latest: Option<i32> = None;
    for words in lines {
        for (i, w) in words.iter().enumerate() {
            if matches!(words.get(i + 1), Some(&("year" | "yr")))
                && let Ok(n) = w.trim_end_matches('+').parse::<u32>()
                && (1..=50).contains(&n)
            {
                best = Some(best.map_or(n, |b| b.max(n)));
            }
        }
        if words.iter().any(|w| EDUCATION.contains(w))
            || words.iter().any(|w| matches!(*w, "intern" | "internship"))
            || words.windows(2).any(|w| w == ["co", "op"])
        {
            continue;
        }
        for (i, w) in words.iter().enumerate() {
            let Ok(start) = w.parse::<i32>() else {
                continue;
            };
            if !(1970..=current_year).contains(&start) {
                continue;
            }
            let end = words.iter().skip(i + 1).take(3).find_map(|t| match *t {
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
    }
    if let (Some(e), Some(l)) = (earliest, latest) {
        let span = u32::try_from(l - e).unwrap_or(0);
        best = Some(best.map_or(span, |b| b.max(span)));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_titles_then_years() {
        let senior = Resume::new(
            "Jane Roe\nSenior Data Engineer\n\nAcme, 2019 – present",
            2026,
        );
        assert_eq!(senior.level, Some(Level::Senior));
        let by_years = Resume::new(
            "Jo Park\nData Engineer\n\nAcme | Data Engineer | 2023 – present\nBS, State University, 2017 – 2021",
            2026,
        );
        assert_eq!(by_years.level, Some(Level::Mid));
        let student = Resume::new(
            "Sam Lee\nComputer Science Student\nBS Computer Science, State University, expected graduation May 2028",
            2026,
        );
        assert_eq!(student.level, Some(Level::Intern));
        let manager = Resume::new(
            "Ali Khan\nEngineering Manager\nLed 3 teams, 10 direct reports",
            2026,
        );
        assert!(manager.manager && manager.managed);
    }
}
