//! Recruitee careers API: `GET https://{company}.recruitee.com/api/offers/`, all offers at
//! once. The host is per company: the configured base may hold `{board}`, replaced by the
//! company slug (the default does); a base without it is used as is (a replay server).
//! Salaries arrive as strings.

use super::board_of;
use async_trait::async_trait;
use serde::Deserialize;

use super::html::html_to_text;
use super::model::{Id, Num, RawListing, Salary, SalaryInterval, non_empty, parse_date};
use super::{Endpoint, JobSource, SourceName, SourceResult, Target, not_found_as, parse_json};

#[derive(Deserialize)]
struct Offers {
    offers: Vec<Offer>,
}

#[derive(Deserialize)]
struct Offer {
    #[serde(default)]
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    remote: Option<bool>,
    #[serde(default)]
    employment_type_code: Option<String>,
    #[serde(default)]
    salary: Option<SalaryJson>,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    careers_url: Option<String>,
    #[serde(default)]
    careers_apply_url: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    requirements: Option<String>,
}

#[derive(Deserialize)]
struct SalaryJson {
    #[serde(default)]
    min: Num,
    #[serde(default)]
    max: Num,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

/// Listings of one company's offers (only published ones).
pub fn parse(body: &str, company: &str) -> SourceResult<Vec<RawListing>> {
    let parsed: Offers = parse_json("recruitee", body)?;
    Ok(parsed
        .offers
        .into_iter()
        .filter(|o| o.status.as_deref().is_none_or(|s| s == "published"))
        .filter_map(|o| {
            let company_name = non_empty(o.company_name.as_deref())
                .unwrap_or_else(|| super::greenhouse::company_from_board(company));
            let mut l = RawListing::new(
                "recruitee",
                o.title.as_deref()?,
                &company_name,
                o.careers_url.as_deref()?,
            );
            l.source_id = o.id.0;
            l.job_url_direct = o.careers_apply_url;
            l.location = non_empty(o.location.as_deref());
            l.is_remote = o.remote;
            l.job_type = non_empty(o.employment_type_code.as_deref());
            l.date_posted = o
                .published_at
                .or(o.created_at)
                .as_deref()
                .and_then(parse_date);
            l.salary = o.salary.and_then(|s| {
                Salary::new(
                    s.min.0,
                    s.max.0,
                    s.currency,
                    s.period.as_deref().and_then(SalaryInterval::parse_loose),
                    false,
                )
            });
            let text = [o.description, o.requirements]
                .into_iter()
                .flatten()
                .map(|h| html_to_text(&h))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            l.description = (!text.is_empty()).then_some(text);
            l.is_complete().then_some(l)
        })
        .collect())
}

/// The Recruitee board source.
#[derive(Debug)]
pub struct Recruitee {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for Recruitee {
    fn name(&self) -> SourceName {
        SourceName::Recruitee
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        let company = board_of(SourceName::Recruitee, target)?;
        let origin = self.endpoint.base.replace("{board}", company);
        let url = format!("{origin}/api/offers/");
        let body = self
            .endpoint
            .get_json(&url)
            .await
            .map_err(|e| not_found_as(e, format!("recruitee company {company}")))?;
        parse(&body, company)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_published_offers_with_string_salaries() {
        let jobs = parse(
            include_str!("../../fixtures/recruitee/offers.json"),
            "tulip",
        )
        .expect("parses");
        assert_eq!(jobs.len(), 2, "the draft is skipped");
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            (
                "Technical Customer Support - Dutch speaking",
                "Tulip Commerce"
            )
        );
        assert_eq!(a.location.as_deref(), Some("Utrecht, Utrecht, Netherlands"));
        assert_eq!(a.date_posted, chrono::NaiveDate::from_ymd_opt(2026, 10, 14));
        let s = a.salary.as_ref().expect("salary");
        assert_eq!(
            (s.min, s.max, s.currency.as_deref(), s.interval),
            (
                Some(2850.0),
                Some(2950.0),
                Some("EUR"),
                Some(SalaryInterval::Monthly)
            )
        );
        assert_eq!(
            a.description.as_deref(),
            Some("Help merchants sync feeds.\n\n- Dutch and English")
        );
        assert_eq!(jobs[1].salary, None, "empty salary strings are no salary");
        assert_eq!(jobs[1].is_remote, Some(true));
    }
}
