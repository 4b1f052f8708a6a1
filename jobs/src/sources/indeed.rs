//! Indeed mobile GraphQL (off by default: Indeed's terms forbid automated collection, and the
//! operator must supply `INDEED_API_KEY`; without it the source is unavailable). Longer than
//! the other sources: a third is the tests on saved responses, and its response shape has the
//! most optional parts.
//!
//! `POST /graphql` with `{"query": "query GetJobData { jobSearch(…) { … } }"}`, 100 results a
//! page, paged with `pageInfo.nextCursor` until it is null. Everything may be null
//! (`employer`, `compensation`, `recruit`, `datePublished`); salary ranges come as
//! `{min, max}` or as an exact `{value}`; GraphQL errors arrive with HTTP 200 and `data: null`.

use super::search_query;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::html::description;
use super::model::{
    RawListing, Salary, SalaryInterval, date_from_epoch, mentions_remote, non_empty,
};
use super::{
    Endpoint, FetchError, JobSource, SearchQuery, SourceError, SourceName, SourceResult, Target,
    parse_json,
};

/// Results per page (the API's maximum).
pub const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 10;
/// The company name stored when Indeed does not disclose the employer.
pub const UNDISCLOSED_EMPLOYER: &str = "Employer not disclosed";

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    job_search: Option<JobSearch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobSearch {
    #[serde(default)]
    page_info: Option<PageInfo>,
    #[serde(default)]
    results: Vec<Result_>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Result_ {
    job: Option<Job>,
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    key: Option<String>,
    title: Option<String>,
    #[serde(default)]
    date_published: Option<f64>,
    #[serde(default)]
    date_on_indeed: Option<f64>,
    #[serde(default)]
    description: Option<Html>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    compensation: Option<Compensation>,
    #[serde(default)]
    attributes: Option<Vec<Attribute>>,
    #[serde(default)]
    employer: Option<Employer>,
    #[serde(default)]
    recruit: Option<Recruit>,
}

#[derive(Deserialize)]
struct Html {
    #[serde(default)]
    html: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    admin1_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    formatted: Option<Formatted>,
}

#[derive(Deserialize)]
struct Formatted {
    #[serde(default)]
    short: Option<String>,
    #[serde(default)]
    long: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Compensation {
    #[serde(default)]
    estimated: Option<Estimated>,
    #[serde(default)]
    base_salary: Option<BaseSalary>,
    #[serde(default)]
    currency_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Estimated {
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    base_salary: Option<BaseSalary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseSalary {
    #[serde(default)]
    unit_of_work: Option<String>,
    /// `{min, max}` for a range, `{value}` for an exact amount.
    #[serde(default)]
    range: Option<Value>,
}

#[derive(Deserialize)]
struct Attribute {
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
struct Employer {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recruit {
    #[serde(default)]
    view_job_url: Option<String>,
}

/// One page: its listings and the cursor of the next page (`None` at the end). GraphQL errors
/// are an error even with HTTP 200. `site` is the country's Indeed host (`www`, `uk`, …).
pub fn parse(body: &str, site: &str) -> SourceResult<(Vec<RawListing>, Option<String>)> {
    let envelope: Envelope = parse_json("indeed", body)?;
    if let Some(errors) = envelope.errors.filter(|e| !e.is_empty()) {
        let described: Vec<String> = errors
            .iter()
            .map(|e| {
                match e
                    .extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .and_then(Value::as_str)
                {
                    Some(code) => format!("{} ({code})", e.message),
                    None => e.message.clone(),
                }
            })
            .collect();
        return Err(SourceError::Api(format!(
            "indeed GraphQL: {}",
            described.join("; ")
        )));
    }
    let search = envelope
        .data
        .and_then(|d| d.job_search)
        .ok_or_else(|| SourceError::Malformed("indeed: no data.jobSearch".into()))?;
    let next = search
        .page_info
        .and_then(|p| p.next_cursor)
        .filter(|c| !c.is_empty());
    let listings = search
        .results
        .into_iter()
        .filter_map(|r| r.job)
        .filter_map(|job| listing_of(job, site))
        .collect();
    Ok((listings, next))
}

fn listing_of(job: Job, site: &str) -> Option<RawListing> {
    let key = job.key?;
    let company = job
        .employer
        .and_then(|e| non_empty(e.name.as_deref()))
        .unwrap_or_else(|| UNDISCLOSED_EMPLOYER.to_owned());
    let mut l = RawListing::new(
        "indeed",
        job.title.as_deref()?,
        &company,
        &format!("https://{site}.indeed.com/viewjob?jk={key}"),
    );
    l.source_id = Some(key);
    let labels: Vec<String> = job
        .attributes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| a.label)
        .collect();
    if let Some(loc) = job.location {
        let long = loc.formatted.as_ref().and_then(|f| f.long.clone());
        l.location = loc
            .formatted
            .and_then(|f| non_empty(f.short.as_deref()))
            .or_else(|| {
                let parts: Vec<String> = [loc.city, loc.admin1_code, loc.country_code]
                    .iter()
                    .filter_map(|p| non_empty(p.as_deref()))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            });
        l.is_remote = Some(
            labels.iter().any(|a| mentions_remote(a))
                || long.as_deref().is_some_and(mentions_remote),
        );
    }
    l.job_type = labels
        .iter()
        .find(|a| {
            matches!(
                a.to_lowercase().as_str(),
                "full-time" | "part-time" | "contract" | "internship" | "temporary"
            )
        })
        .cloned();
    l.date_posted = job
        .date_published
        .or(job.date_on_indeed)
        .and_then(date_from_epoch);
    l.description = description(job.description.and_then(|d| d.html));
    l.job_url_direct = job.recruit.and_then(|r| r.view_job_url);
    l.salary = job.compensation.and_then(salary_of);
    l.is_complete().then_some(l)
}

fn salary_of(c: Compensation) -> Option<Salary> {
    let (base, currency, estimated) = match (c.base_salary, c.estimated) {
        (Some(base), _) => (base, c.currency_code, false),
        (None, Some(est)) => (est.base_salary?, est.currency_code, true),
        (None, None) => return None,
    };
    let range = base.range?;
    let num = |k: &str| range.get(k).and_then(Value::as_f64);
    let (min, max) = match num("value") {
        Some(exact) => (Some(exact), Some(exact)),
        None => (num("min"), num("max")),
    };
    // An unknown unit keeps the amounts without an interval rather than failing the listing.
    let interval = base
        .unit_of_work
        .as_deref()
        .and_then(SalaryInterval::parse_loose);
    Salary::new(min, max, currency, interval, estimated)
}

/// The `jobSearch` operation for one page.
pub fn query(q: &SearchQuery, cursor: Option<&str>, limit: usize) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut args = vec![format!("what: \"{}\"", escape(&q.term))];
    if let Some(location) = &q.location {
        args.push(format!(
            "location: {{where: \"{}\", radius: 50, radiusUnit: MILES}}",
            escape(location)
        ));
    }
    args.push(format!("limit: {limit}"));
    if let Some(cursor) = cursor {
        args.push(format!("cursor: \"{}\"", escape(cursor)));
    }
    args.push("sort: RELEVANCE".into());
    if q.hours_old > 0 {
        args.push(format!(
            "filters: {{ date: {{ field: \"dateOnIndeed\", start: \"{}h\" }} }}",
            q.hours_old
        ));
    }
    format!(
        "query GetJobData {{ jobSearch({}) {{ pageInfo {{ nextCursor }} results {{ trackingKey job {{ source {{ name }} key title datePublished dateOnIndeed description {{ html }} location {{ countryName countryCode admin1Code city postalCode streetAddress formatted {{ short long }} }} compensation {{ estimated {{ currencyCode baseSalary {{ unitOfWork range {{ ... on Range {{ min max }} }} }} }} baseSalary {{ unitOfWork range {{ ... on Range {{ min max }} }} }} currencyCode }} attributes {{ key label }} employer {{ relativeCompanyPageUrl name }} recruit {{ viewJobUrl detailedSalary workSchedule }} }} }} }} }}",
        args.join(", ")
    )
}

/// Indeed's host for a country code (`US` → `www`, `GB` → `uk`, others lowercased).
pub fn site_for(country: &str) -> String {
    match country.to_ascii_uppercase().as_str() {
        "US" => "www".into(),
        "GB" | "UK" => "uk".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// The Indeed search source.
#[derive(Debug)]
pub struct Indeed {
    pub endpoint: Endpoint,
    pub api_key: String,
    pub country: String,
}

#[async_trait]
impl JobSource for Indeed {
    fn name(&self) -> SourceName {
        SourceName::Indeed
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let q = search_query(SourceName::Indeed, target)?;
        let site = site_for(&self.country);
        let mut out: Vec<RawListing> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let body = serde_json::json!({ "query": query(q, cursor.as_deref(), PAGE_SIZE) });
            let request = self
                .endpoint
                .http
                .http()
                .post(self.endpoint.url("/graphql"))
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header("indeed-api-key", &self.api_key)
                .header("indeed-locale", "en-US")
                .header("accept-language", "en-US,en;q=0.9")
                .header("indeed-co", &self.country)
                .header("indeed-app-info", "appv=193.1; appid=com.indeed.jobsearch; osv=16.6.1; os=ios; dtype=phone")
                .header("user-agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Indeed App 193.1")
                .body(body.to_string())
                .build()
                .map_err(|e| SourceError::Fetch(FetchError::Network(super::http::describe(e))))?;
            let page = self.endpoint.send(request).await?;
            let (listings, next) = parse(&page.body, &site)?;
            let before = out.len();
            out.extend(
                listings
                    .into_iter()
                    .filter(|l| seen.insert(l.source_id.clone())),
            );
            if out.len() >= q.results_wanted || out.len() == before {
                break;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        out.truncate(q.results_wanted);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_nulls_exact_and_estimated_salaries() {
        let (jobs, next) = parse(
            include_str!("../../fixtures/indeed/search_page1.json"),
            "www",
        )
        .expect("parses");
        assert_eq!(next.as_deref(), Some("eyJvZmZzZXQiOjEwMH0"));
        assert_eq!(jobs.len(), 3);
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            ("Senior Software Engineer, Robotics", "Serve Robotics")
        );
        assert_eq!(
            a.job_url,
            "https://www.indeed.com/viewjob?jk=a1b2c3d4e5f60718"
        );
        assert_eq!(
            a.job_url_direct.as_deref(),
            Some("https://jobs.ashbyhq.com/serve/0b9f?utm_source=indeed")
        );
        assert_eq!(
            (a.is_remote, a.job_type.as_deref()),
            (Some(true), Some("Full-time"))
        );
        assert_eq!(a.location.as_deref(), Some("Vancouver, BC"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 9, 22));
        let s = a.salary.as_ref().expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval, s.estimated),
            (
                Some(167800.0),
                Some(204000.0),
                Some("CAD"),
                Some(SalaryInterval::Yearly),
                false
            )
        );
        assert_eq!(a.description.as_deref(), Some("Build robots.\n- C++"));
        let b = &jobs[1];
        assert_eq!(b.company, UNDISCLOSED_EMPLOYER, "employer: null");
        let s = b.salary.as_ref().expect("exact salary");
        assert_eq!((s.min, s.max), (Some(210000.0), Some(210000.0)));
        assert_eq!(b.is_remote, Some(false));
        assert_eq!(
            b.location.as_deref(),
            Some("Vancouver, BC, CA"),
            "from parts when short is null"
        );
        let c = &jobs[2];
        assert_eq!(c.date_posted, None, "datePublished: null");
        let s = c.salary.as_ref().expect("estimated salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval, s.estimated),
            (
                Some(56.5),
                Some(84.0),
                Some("USD"),
                Some(SalaryInterval::Hourly),
                true
            )
        );
        assert_eq!(c.job_type.as_deref(), Some("Contract"));
    }

    #[test]
    fn the_last_page_has_no_cursor_and_nulls_everywhere() {
        let (jobs, next) = parse(
            include_str!("../../fixtures/indeed/search_last_page.json"),
            "www",
        )
        .expect("parses");
        assert_eq!(next, None);
        assert_eq!(jobs.len(), 1);
        assert_eq!(
            (jobs[0].salary.clone(), jobs[0].job_url_direct.clone()),
            (None, None)
        );
    }

    #[test]
    fn graphql_errors_with_http_200_are_errors() {
        let err =
            parse(include_str!("../../fixtures/indeed/error.json"), "www").expect_err("an error");
        assert_eq!(
            err,
            SourceError::Api("indeed GraphQL: Invalid cursor token (BAD_USER_INPUT)".into())
        );
        assert!(matches!(parse("{}", "www"), Err(SourceError::Malformed(_))));
    }

    #[test]
    fn the_query_escapes_terms_and_carries_filters() {
        let q = SearchQuery {
            term: "c++ \"lead\"".into(),
            location: Some("Austin, TX".into()),
            hours_old: 24,
            results_wanted: 10,
        };
        let text = query(&q, Some("abc"), 100);
        assert!(text.contains(r#"what: "c++ \"lead\"""#), "{text}");
        assert!(text.contains(r#"location: {where: "Austin, TX", radius: 50, radiusUnit: MILES}"#));
        assert!(text.contains(r#"cursor: "abc""#) && text.contains("limit: 100"));
        assert!(text.contains(r#"filters: { date: { field: "dateOnIndeed", start: "24h" } }"#));
        assert!(!query(&q, None, 100).contains("cursor"));
        assert_eq!(site_for("GB"), "uk");
    }
}
