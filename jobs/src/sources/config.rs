//! Which sources run, where they live, and how politely they are asked.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{HostPolicy, SourceKind};

/// Every source this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceName {
    Linkedin,
    Indeed,
    Remotive,
    Arbeitnow,
    Hackernews,
    Greenhouse,
    Lever,
    Ashby,
    Workable,
    Smartrecruiters,
    Recruitee,
    Remoteok,
}

impl SourceName {
    /// All of them.
    pub const ALL: [Self; 12] = [
        Self::Linkedin,
        Self::Indeed,
        Self::Remotive,
        Self::Arbeitnow,
        Self::Hackernews,
        Self::Greenhouse,
        Self::Lever,
        Self::Ashby,
        Self::Workable,
        Self::Smartrecruiters,
        Self::Recruitee,
        Self::Remoteok,
    ];

    /// On unless `JOB_SOURCES` says otherwise. LinkedIn and Indeed are off: their terms forbid
    /// automated collection, so an operator has to opt in.
    pub fn enabled_by_default(self) -> bool {
        !matches!(self, Self::Linkedin | Self::Indeed)
    }

    /// The lowercase name used in config, logs and the `source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linkedin => "linkedin",
            Self::Indeed => "indeed",
            Self::Remotive => "remotive",
            Self::Arbeitnow => "arbeitnow",
            Self::Hackernews => "hackernews",
            Self::Greenhouse => "greenhouse",
            Self::Lever => "lever",
            Self::Ashby => "ashby",
            Self::Workable => "workable",
            Self::Smartrecruiters => "smartrecruiters",
            Self::Recruitee => "recruitee",
            Self::Remoteok => "remoteok",
        }
    }

    /// Search or board.
    pub fn kind(self) -> SourceKind {
        match self {
            Self::Linkedin | Self::Indeed | Self::Remotive | Self::Arbeitnow | Self::Hackernews => {
                SourceKind::Search
            }
            _ => SourceKind::Board,
        }
    }

    /// Whether it needs boards from `COMPANY_BOARDS` (remoteok is one feed).
    pub fn needs_boards(self) -> bool {
        self.kind() == SourceKind::Board && self != Self::Remoteok
    }

    /// The real origin. Recruitee's host is per company: `{board}` is replaced by the board.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Linkedin => "https://www.linkedin.com",
            Self::Indeed => "https://apis.indeed.com",
            Self::Remotive => "https://remotive.com",
            Self::Arbeitnow => "https://www.arbeitnow.com",
            Self::Hackernews => "https://hn.algolia.com",
            Self::Greenhouse => "https://boards-api.greenhouse.io",
            Self::Lever => "https://api.lever.co",
            Self::Ashby => "https://api.ashbyhq.com",
            Self::Workable => "https://www.workable.com",
            Self::Smartrecruiters => "https://api.smartrecruiters.com",
            Self::Recruitee => "https://{board}.recruitee.com",
            Self::Remoteok => "https://remoteok.com",
        }
    }

    /// The variable that overrides the origin, e.g. `GREENHOUSE_BASE_URL`.
    pub fn base_url_var(self) -> String {
        format!("{}_BASE_URL", self.as_str().to_ascii_uppercase())
    }

    /// Per-host limits from what each site asks or tolerates (SOURCES.md §5).
    pub fn default_policy(self) -> HostPolicy {
        let secs = Duration::from_secs;
        let ms = Duration::from_millis;
        let base = HostPolicy::default();
        match self {
            // 3–7 s between pages; blocks come around the 10th page per IP.
            Self::Linkedin => HostPolicy {
                max_concurrency: 1,
                min_interval: secs(3),
                jitter: secs(4),
                timeout: secs(10),
                ..base
            },
            Self::Indeed => HostPolicy {
                max_concurrency: 1,
                min_interval: secs(1),
                jitter: secs(1),
                timeout: secs(10),
                ..base
            },
            // "More than 2x per minute will be blocked."
            Self::Remotive => HostPolicy {
                max_concurrency: 1,
                min_interval: secs(31),
                jitter: secs(2),
                ..base
            },
            Self::Hackernews => HostPolicy {
                max_concurrency: 2,
                min_interval: ms(400),
                jitter: ms(200),
                ..base
            },
            // robots.txt Crawl-delay: 1
            Self::Lever | Self::Workable | Self::Remoteok | Self::Arbeitnow => HostPolicy {
                max_concurrency: 1,
                min_interval: secs(1),
                jitter: ms(500),
                ..base
            },
            _ => base,
        }
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|n| n.as_str()).collect();
                format!("unknown source {s:?} (known: {})", known.join(", "))
            })
    }
}

/// Everything the sources need from configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcesConfig {
    /// `JOB_SOURCES`.
    pub enabled: Vec<SourceName>,
    /// `<SOURCE>_BASE_URL` overrides, origin only (`http://127.0.0.1:9000`).
    pub base_urls: HashMap<SourceName, String>,
    /// `COMPANY_BOARDS`: `greenhouse:stripe,lever:leverdemo`.
    pub company_boards: Vec<(SourceName, String)>,
    /// Display names from `COMPANY_BOARDS` (`lever:acmerobotics=Acme Robotics`): the company
    /// of a board's listings when the board itself names none.
    pub board_names: HashMap<(SourceName, String), String>,
    /// `JOB_HOURS_OLD`.
    pub hours_old: u32,
    /// `RESULTS_WANTED`, per source and search term.
    pub results_wanted: usize,
    /// `INDEED_API_KEY`: without it Indeed is unavailable.
    pub indeed_api_key: Option<String>,
    /// `INDEED_COUNTRY`: the `indeed-co` header (`US`, `GB`, `DE`, …).
    pub indeed_country: String,
    /// `LINKEDIN_FETCH_DESCRIPTION`: one extra request per LinkedIn listing.
    pub linkedin_fetch_description: bool,
    /// `SOURCES_MIN_INTERVAL_MS`: replaces every source's minimum interval (and its jitter).
    pub min_interval_override: Option<Duration>,
    /// `SOURCES_TIMEOUT_SECONDS`, `SOURCES_MAX_RETRIES`, `SOURCES_BACKOFF_BASE_MS`,
    /// `SOURCES_BACKOFF_MAX_SECONDS`: replace the per-source defaults when set.
    pub timeout_override: Option<Duration>,
    pub max_retries: Option<usize>,
    pub backoff_base: Option<Duration>,
    pub backoff_max: Option<Duration>,
    /// `SOURCES_USER_AGENT`: how we introduce ourselves to the official APIs.
    pub user_agent: String,
    /// `SOURCES_BREAKER_FAILURES`: consecutive failed requests to a host after which it is
    /// skipped for the rest of the run (0: never).
    pub breaker_failures: usize,
    /// `SOURCE_DOWN_AFTER_RUNS`: failed runs in a row after which a source is down and backs
    /// off (0: never).
    pub down_after_runs: u32,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            enabled: SourceName::ALL
                .into_iter()
                .filter(|s| s.enabled_by_default())
                .collect(),
            base_urls: HashMap::new(),
            company_boards: Vec::new(),
            board_names: HashMap::new(),
            hours_old: 72,
            results_wanted: 50,
            indeed_api_key: None,
            indeed_country: "US".into(),
            linkedin_fetch_description: false,
            min_interval_override: None,
            timeout_override: None,
            max_retries: None,
            backoff_base: None,
            backoff_max: None,
            user_agent: format!(
                "JobCollector/{} (+https://github.com/jobcollector/jobcollector)",
                env!("CARGO_PKG_VERSION")
            ),
            breaker_failures: 5,
            down_after_runs: 3,
        }
    }
}

impl SourcesConfig {
    /// Reads the variables through `get`, applying defaults; the error names the variable.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut c = Self::default();
        if let Some(list) = get("JOB_SOURCES") {
            c.enabled = list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("JOB_SOURCES: {e}"))?;
        }
        for name in SourceName::ALL {
            if let Some(url) = get(&name.base_url_var()) {
                let url = url.trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "{} must be an http(s) origin, not {url:?}",
                        name.base_url_var()
                    ));
                }
                c.base_urls.insert(name, url);
            }
        }
        if let Some(list) = get("COMPANY_BOARDS") {
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (source, board) = item
                    .split_once(':')
                    .ok_or_else(|| format!("COMPANY_BOARDS: {item:?} is not source:board"))?;
                let source: SourceName =
                    source.parse().map_err(|e| format!("COMPANY_BOARDS: {e}"))?;
                let (board, name) = match board.split_once('=') {
                    Some((board, name)) => (board, Some(name.trim())),
                    None => (board, None),
                };
                if !source.needs_boards() {
                    return Err(format!("COMPANY_BOARDS: {source} has no company boards"));
                }
                let board = board.trim();
                if board.is_empty()
                    || !board
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
                {
                    return Err(format!(
                        "COMPANY_BOARDS: board {board:?} must be letters, digits, - _ ."
                    ));
                }
                if let Some(name) = name {
                    if name.is_empty()
                        || name.chars().count() > 100
                        || name.chars().any(char::is_control)
                    {
                        return Err(format!(
                            "COMPANY_BOARDS: the name of {source}:{board} must be 1–100 characters of plain text"
                        ));
                    }
                    c.board_names
                        .insert((source, board.to_owned()), name.to_owned());
                }
                c.company_boards.push((source, board.to_owned()));
            }
        }
        let num = |name: &str| -> Result<Option<u64>, String> {
            get(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name} must be a whole number, not {v:?}"))
                })
                .transpose()
        };
        if let Some(h) = num("JOB_HOURS_OLD")? {
            c.hours_old = u32::try_from(h).map_err(|_| "JOB_HOURS_OLD is too large".to_owned())?;
        }
        if let Some(n) = num("RESULTS_WANTED")? {
            c.results_wanted = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        }
        c.indeed_api_key = get("INDEED_API_KEY").filter(|k| !k.trim().is_empty());
        if let Some(co) = get("INDEED_COUNTRY") {
            c.indeed_country = co.trim().to_ascii_uppercase();
        }
        if let Some(v) = get("LINKEDIN_FETCH_DESCRIPTION") {
            c.linkedin_fetch_description = matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            );
        }
        c.min_interval_override = num("SOURCES_MIN_INTERVAL_MS")?.map(Duration::from_millis);
        c.timeout_override = num("SOURCES_TIMEOUT_SECONDS")?.map(Duration::from_secs);
        c.max_retries = num("SOURCES_MAX_RETRIES")?.map(|n| n as usize);
        c.backoff_base = num("SOURCES_BACKOFF_BASE_MS")?.map(Duration::from_millis);
        c.backoff_max = num("SOURCES_BACKOFF_MAX_SECONDS")?.map(Duration::from_secs);
        if let Some(ua) = get("SOURCES_USER_AGENT").filter(|u| !u.trim().is_empty()) {
            c.user_agent = ua;
        }
        if let Some(n) = num("SOURCES_BREAKER_FAILURES")? {
            c.breaker_failures = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = num("SOURCE_DOWN_AFTER_RUNS")? {
            c.down_after_runs = u32::try_from(n).unwrap_or(u32::MAX);
        }
        Ok(c)
    }

    /// The origin requests of `name` go to.
    pub fn base_url(&self, name: SourceName) -> String {
        self.base_urls
            .get(&name)
            .cloned()
            .unwrap_or_else(|| name.default_base_url().to_owned())
    }

    /// The source's policy with the overrides applied.
    pub fn policy(&self, name: SourceName) -> HostPolicy {
        let mut p = name.default_policy();
        if let Some(interval) = self.min_interval_override {
            p.min_interval = interval;
            p.jitter = Duration::ZERO;
        }
        if let Some(t) = self.timeout_override {
            p.timeout = t;
        }
        if let Some(r) = self.max_retries {
            p.max_retries = r;
        }
        if let Some(b) = self.backoff_base {
            p.backoff_base = b;
        }
        if let Some(m) = self.backoff_max {
            p.backoff_max = m;
        }
        p
    }

    /// Whether `name` runs.
    pub fn is_enabled(&self, name: SourceName) -> bool {
        self.enabled.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_keep_linkedin_and_indeed_off() {
        let c = SourcesConfig::from_vars(vars(&[])).expect("defaults");
        assert!(!c.is_enabled(SourceName::Linkedin) && !c.is_enabled(SourceName::Indeed));
        assert!(c.is_enabled(SourceName::Greenhouse) && c.is_enabled(SourceName::Remoteok));
        assert_eq!(
            c.base_url(SourceName::Greenhouse),
            "https://boards-api.greenhouse.io"
        );
        assert_eq!(
            c.policy(SourceName::Linkedin).min_interval,
            Duration::from_secs(3)
        );
    }

    #[test]
    fn variables_override_sources_boards_urls_and_pacing() {
        let c = SourcesConfig::from_vars(vars(&[
            ("JOB_SOURCES", "linkedin, greenhouse"),
            (
                "COMPANY_BOARDS",
                "greenhouse:stripe, lever:leverdemo, lever:acmerobotics = Acme Robotics",
            ),
            ("GREENHOUSE_BASE_URL", "http://127.0.0.1:9000/"),
            ("SOURCES_MIN_INTERVAL_MS", "0"),
            ("JOB_HOURS_OLD", "24"),
        ]))
        .expect("valid");
        assert_eq!(c.enabled, [SourceName::Linkedin, SourceName::Greenhouse]);
        assert_eq!(
            c.company_boards,
            [
                (SourceName::Greenhouse, "stripe".into()),
                (SourceName::Lever, "leverdemo".into()),
                (SourceName::Lever, "acmerobotics".into())
            ]
        );
        assert_eq!(
            c.board_names
                .get(&(SourceName::Lever, "acmerobotics".into()))
                .map(String::as_str),
            Some("Acme Robotics")
        );
        assert_eq!(c.board_names.len(), 1);
        assert_eq!(c.breaker_failures, 5);
        assert_eq!(c.base_url(SourceName::Greenhouse), "http://127.0.0.1:9000");
        assert_eq!(c.policy(SourceName::Linkedin).min_interval, Duration::ZERO);
        assert_eq!(c.hours_old, 24);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (k, v) in [
            ("JOB_SOURCES", "monster"),
            ("COMPANY_BOARDS", "greenhouse"),
            ("COMPANY_BOARDS", "remoteok:x"),
            ("COMPANY_BOARDS", "lever:a/b"),
            ("LEVER_BASE_URL", "ftp://x"),
            ("RESULTS_WANTED", "many"),
            ("COMPANY_BOARDS", "lever:acme="),
            ("COMPANY_BOARDS", "lever:acme=Acme\u{7}"),
            ("SOURCES_BREAKER_FAILURES", "-1"),
        ] {
            let err = SourcesConfig::from_vars(vars(&[(k, v)])).expect_err(k);
            assert!(err.contains(k), "{err}");
        }
    }
}
