//! A job seeker's preferences: validated when saved ([`validate`]), applied to listings before
//! they are scored ([`Filter::admits`]) and to the matches already scored (hidden, not
//! deleted, when they no longer pass), and saved with [`save`].
//!
//! The rules, each skipped when the user left it empty:
//! - **locations**: the listing's location names one of them (case-insensitive, whole words);
//!   a listing marked or named remote passes when the user lists "Remote" or wants remote only.
//! - **remote only**: the listing is marked remote or its location says so.
//! - **minimum salary**: the listing's stated pay, made yearly (hourly × 2,080, daily × 260,
//!   weekly × 52, monthly × 12), must reach it — its maximum, else its minimum. Pay in another
//!   currency cannot be compared without rates and passes; a listing that states no pay passes
//!   unless `require_salary`.
//! - **excluded companies**: compared without case, punctuation and legal suffixes ("Globex
//!   GmbH" is "globex").
//! - **excluded title words**: whole words or phrases of the title.
//! - **job types**: the listing's type, when it states one, is among them.

use entity::{InvalidValue, Preferences, job_listing, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::Result;

/// The job types a listing may state (JobSpy's names).
pub const JOB_TYPES: [&str; 5] = [
    "fulltime",
    "parttime",
    "contract",
    "internship",
    "temporary",
];
const MAX_LOCATIONS: usize = 20;
const MAX_EXCLUSIONS: usize = 50;
const MAX_ITEM_CHARS: usize = 100;
const MAX_SALARY: i64 = 100_000_000;

/// Legal-form words dropped from company names before they are compared.
const LEGAL_SUFFIXES: [&str; 30] = [
    "inc",
    "incorporated",
    "llc",
    "llp",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "se",
    "plc",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "asa",
    "pty",
    "kk",
    "group",
];

/// ISO 4217 codes of the currencies in use.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD \
BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN \
ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD \
JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU \
MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB \
RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD \
TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

/// Checks and tidies preferences as a user sent them: items trimmed, blanks and repeats
/// dropped, sizes and counts bounded, the currency a known ISO 4217 code (upper-cased), job
/// types known ones. The first rule broken is the error, naming its field.
pub fn validate(mut p: Preferences) -> std::result::Result<Preferences, InvalidValue> {
    let list = |items: Vec<String>, field: &'static str, max: usize| {
        let mut out: Vec<String> = Vec::new();
        for item in items {
            let item = item.trim().to_owned();
            if item.is_empty() {
                continue;
            }
            if item.chars().count() > MAX_ITEM_CHARS || item.contains(char::is_control) {
                return Err(InvalidValue {
                    field,
                    reason: format!("an item is at most {MAX_ITEM_CHARS} characters of plain text"),
                });
            }
            if words(&item).trim().is_empty() {
                return Err(InvalidValue {
                    field,
                    reason: format!("{item:?} has no letter or digit"),
                });
            }
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
                out.push(item);
            }
        }
        if out.len() > max {
            return Err(InvalidValue {
                field,
                reason: format!("at most {max} items"),
            });
        }
        Ok(out)
    };
    p.locations = list(p.locations, "locations", MAX_LOCATIONS)?;
    p.exclude_companies = list(p.exclude_companies, "excludeCompanies", MAX_EXCLUSIONS)?;
    p.exclude_title_words = list(p.exclude_title_words, "excludeTitleWords", MAX_EXCLUSIONS)?;
    p.job_types = list(p.job_types, "jobTypes", JOB_TYPES.len())?
        .into_iter()
        .map(|t| normalize_job_type(&t))
        .collect();
    if let Some(t) = p
        .job_types
        .iter()
        .find(|t| !JOB_TYPES.contains(&t.as_str()))
    {
        return Err(InvalidValue {
            field: "jobTypes",
            reason: format!("{t:?} is not one of {}", JOB_TYPES.join(", ")),
        });
    }
    if let Some(min) = p.min_salary
        && !(0..=MAX_SALARY).contains(&min)
    {
        return Err(InvalidValue {
            field: "minSalary",
            reason: format!("between 0 and {MAX_SALARY}"),
        });
    }
    p.salary_currency = match p.salary_currency.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => {
            let code = code.to_ascii_uppercase();
            if code.len() != 3 || !CURRENCIES.split_whitespace().any(|c| c == code) {
                return Err(InvalidValue {
                    field: "salaryCurrency",
                    reason: format!("{code:?} is not an ISO 4217 currency code"),
                });
            }
            Some(code)
        }
    };
    if let Some(min) = p.alert_min_score
        && !(0..=100).contains(&min)
    {
        return Err(InvalidValue {
            field: "alertMinScore",
            reason: "between 0 and 100".into(),
        });
    }
    p.alert_webhook_url = match p.alert_webhook_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) if url.len() > 2_000 => {
            return Err(InvalidValue {
                field: "alertWebhookUrl",
                reason: "at most 2000 characters".into(),
            });
        }
        Some(url) => match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                Some(url.to_owned())
            }
            _ => {
                return Err(InvalidValue {
                    field: "alertWebhookUrl",
                    reason: "an http or https URL".into(),
                });
            }
        },
    };
    if p.min_salary.is_some() && p.salary_currency.is_none() {
        return Err(InvalidValue {
            field: "salaryCurrency",
            reason: "a minimum salary needs its currency".into(),
        });
    }
    Ok(p)
}

fn normalize_job_type(t: &str) -> String {
    t.to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Lower-case words of `text` (letters and digits), as a space-separated string padded with
/// spaces, so that `contains(" word ")` finds whole words and phrases.
fn words(text: &str) -> String {
    let mut out = String::from(" ");
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push_str(&w.to_lowercase());
        out.push(' ');
    }
    out
}

/// A company name without case, punctuation or legal suffixes.
fn company_key(name: &str) -> String {
    let all = words(name);
    let mut kept: Vec<&str> = all.split_whitespace().collect();
    while kept.len() > 1 && kept.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        kept.pop();
    }
    kept.join(" ")
}

/// Preferences prepared for checking many listings.
#[derive(Debug, Clone)]
pub struct Filter {
    locations: Vec<String>,
    accepts_remote: bool,
    remote_only: bool,
    min_salary: Option<(f64, String)>,
    require_salary: bool,
    companies: Vec<String>,
    title_words: Vec<String>,
    job_types: Vec<String>,
}

/// What a listing needs of [`Filter::admits`].
#[derive(Debug, Clone, Copy)]
pub struct ListingFacts<'a> {
    pub title: &'a str,
    pub company: &'a str,
    pub location: Option<&'a str>,
    pub is_remote: Option<bool>,
    pub job_type: Option<&'a str>,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    pub salary_currency: Option<&'a str>,
    pub salary_interval: Option<&'a str>,
}

impl<'a> From<&'a job_listing::Model> for ListingFacts<'a> {
    fn from(l: &'a job_listing::Model) -> Self {
        Self {
            title: &l.title,
            company: &l.company,
            location: l.location.as_deref(),
            is_remote: l.is_remote,
            job_type: l.job_type.as_deref(),
            salary_min: l.salary_min,
            salary_max: l.salary_max,
            salary_currency: l.salary_currency.as_deref(),
            salary_interval: l.salary_interval.as_deref(),
        }
    }
}

/// Pay made yearly, from the interval a board states (`None`: yearly).
fn yearly(amount: f64, interval: Option<&str>) -> f64 {
    match interval.map(str::to_ascii_lowercase).as_deref() {
        Some("hourly" | "hour") => amount * 2_080.0,
        Some("daily" | "day") => amount * 260.0,
        Some("weekly" | "week") => amount * 52.0,
        Some("monthly" | "month") => amount * 12.0,
        _ => amount,
    }
}

impl Filter {
    pub fn new(p: &Preferences) -> Self {
        let locations: Vec<String> = p.locations.iter().map(|l| words(l)).collect();
        Self {
            accepts_remote: p.remote_only || locations.iter().any(|l| l == " remote "),
            locations: locations.into_iter().filter(|l| l != " remote ").collect(),
            remote_only: p.remote_only,
            #[allow(clippy::cast_precision_loss)] // salaries far below 2^52
            min_salary: p
                .min_salary
                .zip(p.salary_currency.clone())
                .map(|(m, c)| (m as f64, c)),
            require_salary: p.require_salary,
            companies: p.exclude_companies.iter().map(|c| company_key(c)).collect(),
            title_words: p.exclude_title_words.iter().map(|w| words(w)).collect(),
            job_types: p.job_types.iter().map(|t| normalize_job_type(t)).collect(),
        }
    }

    /// Whether the filter admits every listing (no preference set).
    pub fn is_open(&self) -> bool {
        self.locations.is_empty()
            && !self.accepts_remote
            && !self.remote_only
            && self.min_salary.is_none()
            && self.companies.is_empty()
            && self.title_words.is_empty()
            && self.job_types.is_empty()
    }

    /// `Ok` when the listing passes, else which preference excludes it.
    pub fn admits(&self, l: ListingFacts<'_>) -> std::result::Result<(), &'static str> {
        let location = words(l.location.unwrap_or_default());
        let remote = l.is_remote == Some(true) || location.contains(" remote ");
        if self.remote_only && !remote {
            return Err("remoteOnly");
        }
        if !self.locations.is_empty() || (self.accepts_remote && !self.remote_only) {
            let named = self
                .locations
                .iter()
                .any(|want| location.contains(want.as_str()));
            if !(named || (remote && self.accepts_remote)) {
                return Err("locations");
            }
        }
        if let Some((min, currency)) = &self.min_salary {
            let stated = l.salary_max.or(l.salary_min).filter(|v| v.is_finite());
            match stated {
                None if self.require_salary => return Err("minSalary"),
                None => {}
                Some(pay) => {
                    let comparable = l
                        .salary_currency
                        .is_none_or(|c| c.trim().eq_ignore_ascii_case(currency));
                    if comparable && yearly(pay, l.salary_interval) < *min {
                        return Err("minSalary");
                    }
                }
            }
        }
        if !self.companies.is_empty() {
            let company = company_key(l.company);
            if self.companies.contains(&company) {
                return Err("excludeCompanies");
            }
        }
        if !self.title_words.is_empty() {
            let title = words(l.title);
            if self.title_words.iter().any(|w| title.contains(w.as_str())) {
                return Err("excludeTitleWords");
            }
        }
        if !self.job_types.is_empty()
            && let Some(t) = l.job_type.map(normalize_job_type).filter(|t| !t.is_empty())
            && !self.job_types.contains(&t)
        {
            return Err("jobTypes");
        }
        Ok(())
    }
}

/// Stores `preferences` (already validated) for `user_id`.
pub async fn save(
    db: &DatabaseConnection,
    user_id: i64,
    preferences: Preferences,
) -> Result<user::Model> {
    user::Entity::update_many()
        .col_expr(user::Column::Preferences, Expr::value(Some(preferences)))
        .col_expr(user::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::Error::NotFound(format!("user {user_id}")))
}

/// One match as [`apply_to_matches`] reads it: its id, whether hidden, and its listing's facts.
type MatchFacts = (
    i64,
    bool,
    String,
    String,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

/// Hides the matches of `user_id` that `filter` now excludes and shows again those it admits;
/// returns how many changed. With no preference set and nothing hidden, nothing is read.
pub async fn apply_to_matches(
    db: &DatabaseConnection,
    user_id: i64,
    filter: &Filter,
) -> Result<usize> {
    use entity::user_job_match::{self, Column as M};
    use job_listing::Column as L;
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    if filter.is_open() {
        let hidden = user_job_match::Entity::find()
            .filter(M::UserId.eq(user_id))
            .filter(M::Hidden.eq(true))
            .count(db)
            .await?;
        if hidden == 0 {
            return Ok(0);
        }
    }
    let rows: Vec<MatchFacts> = user_job_match::Entity::find()
        .select_only()
        .column(M::Id)
        .column(M::Hidden)
        .column(L::Title)
        .column(L::Company)
        .column(L::Location)
        .column(L::IsRemote)
        .column(L::JobType)
        .column(L::SalaryMin)
        .column(L::SalaryMax)
        .column(L::SalaryCurrency)
        .column(L::SalaryInterval)
        .join(
            JoinType::InnerJoin,
            user_job_match::Relation::JobListing.def(),
        )
        .filter(M::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    let (mut hide, mut show) = (Vec::new(), Vec::new());
    for (id, hidden, title, company, location, is_remote, job_type, min, max, currency, interval) in
        &rows
    {
        let passes = filter
            .admits(ListingFacts {
                title,
                company,
                location: location.as_deref(),
                is_remote: *is_remote,
                job_type: job_type.as_deref(),
                salary_min: *min,
                salary_max: *max,
                salary_currency: currency.as_deref(),
                salary_interval: interval.as_deref(),
            })
            .is_ok();
        if passes && *hidden {
            show.push(*id);
        } else if !passes && !*hidden {
            hide.push(*id);
        }
    }
    for (ids, hidden) in [(&hide, true), (&show, false)] {
        for chunk in ids.chunks(500) {
            user_job_match::Entity::update_many()
                .col_expr(M::Hidden, Expr::value(hidden))
                .filter(M::Id.is_in(chunk.iter().copied()))
                .exec(db)
                .await?;
        }
    }
    Ok(hide.len() + show.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing<'a>(
        title: &'a str,
        company: &'a str,
        location: Option<&'a str>,
    ) -> ListingFacts<'a> {
        ListingFacts {
            title,
            company,
            location,
            is_remote: None,
            job_type: None,
            salary_min: None,
            salary_max: None,
            salary_currency: None,
            salary_interval: None,
        }
    }

    fn prefs(f: impl FnOnce(&mut Preferences)) -> Filter {
        let mut p = Preferences::default();
        f(&mut p);
        Filter::new(&validate(p).expect("valid"))
    }

    #[test]
    fn no_preference_admits_everything() {
        let f = prefs(|_| {});
        assert!(f.is_open());
        assert!(f.admits(listing("Anything", "Anyone", None)).is_ok());
    }

    #[test]
    fn locations_match_whole_words_and_remote_when_accepted() {
        let f = prefs(|p| p.locations = vec!["Berlin".into(), "Remote".into()]);
        assert!(
            f.admits(listing("Engineer", "A", Some("Berlin, Germany")))
                .is_ok()
        );
        assert!(
            f.admits(listing("Engineer", "A", Some("Remote (EU)")))
                .is_ok()
        );
        let mut remote = listing("Engineer", "A", Some("Lisbon"));
        remote.is_remote = Some(true);
        assert!(f.admits(remote).is_ok());
        assert_eq!(
            f.admits(listing("Engineer", "A", Some("Berlingen, CH"))),
            Err("locations")
        );
        assert_eq!(f.admits(listing("Engineer", "A", None)), Err("locations"));
        let only_berlin = prefs(|p| p.locations = vec!["berlin".into()]);
        assert_eq!(
            only_berlin.admits(remote),
            Err("locations"),
            "remote not accepted"
        );
    }

    #[test]
    fn remote_only_wants_a_remote_listing() {
        let f = prefs(|p| p.remote_only = true);
        assert_eq!(
            f.admits(listing("E", "A", Some("Berlin"))),
            Err("remoteOnly")
        );
        assert!(f.admits(listing("E", "A", Some("Remote - US"))).is_ok());
    }

    #[test]
    fn pay_is_compared_yearly_in_the_same_currency() {
        let f = prefs(|p| {
            p.min_salary = Some(80_000);
            p.salary_currency = Some("eur".into());
        });
        let paid = |max: f64, currency: Option<&'static str>, interval: Option<&'static str>| {
            let mut l = listing("E", "A", None);
            l.salary_max = Some(max);
            l.salary_currency = currency;
            l.salary_interval = interval;
            l
        };
        assert_eq!(
            f.admits(paid(70_000.0, Some("EUR"), Some("yearly"))),
            Err("minSalary")
        );
        assert!(f.admits(paid(90_000.0, Some("EUR"), None)).is_ok());
        assert!(
            f.admits(paid(45.0, Some("EUR"), Some("hourly"))).is_ok(),
            "93,600 a year"
        );
        assert_eq!(f.admits(paid(30.0, None, Some("hourly"))), Err("minSalary"));
        assert!(
            f.admits(paid(50_000.0, Some("USD"), None)).is_ok(),
            "not comparable"
        );
        assert!(f.admits(listing("E", "A", None)).is_ok(), "no pay stated");
        let strict = prefs(|p| {
            p.min_salary = Some(80_000);
            p.salary_currency = Some("EUR".into());
            p.require_salary = true;
        });
        assert_eq!(strict.admits(listing("E", "A", None)), Err("minSalary"));
    }

    #[test]
    fn companies_titles_and_types_exclude() {
        let f = prefs(|p| {
            p.exclude_companies = vec!["Globex Corporation".into()];
            p.exclude_title_words = vec!["intern".into(), "account executive".into()];
            p.job_types = vec!["Full-time".into()];
        });
        assert_eq!(
            f.admits(listing("E", "GLOBEX GmbH", None)),
            Err("excludeCompanies")
        );
        assert_eq!(
            f.admits(listing("E", "globex, inc.", None)),
            Err("excludeCompanies")
        );
        assert!(f.admits(listing("E", "Globex Labs", None)).is_ok());
        assert_eq!(
            f.admits(listing("Software Engineering Intern", "A", None)),
            Err("excludeTitleWords")
        );
        assert!(
            f.admits(listing("Internal Tools Engineer", "A", None))
                .is_ok()
        );
        assert_eq!(
            f.admits(listing("Senior Account Executive", "A", None)),
            Err("excludeTitleWords")
        );
        let mut contract = listing("E", "A", None);
        contract.job_type = Some("contract");
        assert_eq!(f.admits(contract), Err("jobTypes"));
        contract.job_type = Some("fulltime");
        assert!(f.admits(contract).is_ok());
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut Preferences)| {
            let mut p = Preferences::default();
            f(&mut p);
            validate(p).expect_err("invalid").field
        };
        assert_eq!(
            bad(|p| p.salary_currency = Some("EURO".into())),
            "salaryCurrency"
        );
        assert_eq!(
            bad(|p| p.salary_currency = Some("XYZ".into())),
            "salaryCurrency"
        );
        assert_eq!(bad(|p| p.min_salary = Some(50_000)), "salaryCurrency");
        assert_eq!(
            bad(|p| {
                p.min_salary = Some(-1);
                p.salary_currency = Some("USD".into());
            }),
            "minSalary"
        );
        assert_eq!(bad(|p| p.locations = vec!["x".repeat(101)]), "locations");
        assert_eq!(
            bad(|p| p.exclude_companies = (0..51).map(|i| format!("c{i}")).collect()),
            "excludeCompanies"
        );
        assert_eq!(bad(|p| p.job_types = vec!["gig".into()]), "jobTypes");
        assert_eq!(
            bad(|p| p.exclude_title_words = vec!["++".into()]),
            "excludeTitleWords"
        );
        assert_eq!(bad(|p| p.locations = vec!["-".into()]), "locations");
        let tidy = validate(Preferences {
            locations: vec![" Berlin ".into(), "berlin".into(), "".into()],
            salary_currency: Some("usd".into()),
            min_salary: Some(1),
            ..Preferences::default()
        })
        .expect("valid");
        assert_eq!(tidy.locations, ["Berlin"]);
        assert_eq!(tidy.salary_currency.as_deref(), Some("USD"));
    }
}
