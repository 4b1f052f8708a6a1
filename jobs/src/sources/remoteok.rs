//! RemoteOK: `GET /api`, one JSON array of about 100 remote jobs. Element 0 is the legal
//! notice (attribution required: the stored `job_url` links back to RemoteOK and `source`
//! names it). Numbers arrive as numbers or strings; a salary of 0 means none.

use async_trait::async_trait;
use serde::Deserialize;

use super::html::description;
use super::model::{
    Id, Num, RawListing, Salary, SalaryInterval, date_from_epoch, non_empty, parse_date,
};
use super::{Endpoint, JobSource, SourceError, SourceName, SourceResult, Target, parse_json};

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    legal: Option<String>,
    #[serde(default)]
    id: Id,
    #[serde(default)]
    epoch: Num,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    salary_min: Num,
    #[serde(default)]
    salary_max: Num,
    #[serde(default)]
    apply_url: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Listings of the feed, without the legal notice.
pub fn parse(body: &str) -> SourceResult<Vec<RawListing>> {
    let items: Vec<Item> = parse_json("remoteok", body)?;
    Ok(items
        .into_iter()
        .filter(|i| i.legal.is_none())
        .filter_map(|i| {
            let mut l = RawListing::new(
                "remoteok",
                i.position.as_deref()?,
                i.company.as_deref()?,
                i.url.as_deref()?,
            );
            l.source_id = i.id.0;
            l.job_url_direct = i.apply_url.filter(|a| Some(a) != Some(&l.job_url));
            l.location = non_empty(i.location.as_deref());
            l.is_remote = Some(true);
            l.date_posted = i
                .date
                .as_deref()
                .and_then(parse_date)
                .or_else(|| i.epoch.0.and_then(date_from_epoch));
            l.description = description(i.description);
            l.salary = Salary::new(
                i.salary_min.0,
                i.salary_max.0,
                Some("USD".into()),
                Some(SalaryInterval::Yearly),
                false,
            );
            l.is_complete().then_some(l)
        })
        .collect())
}

/// The RemoteOK feed source.
#[derive(Debug)]
pub struct RemoteOk {
    pub endpoint: Endpoint,
}

#[async_trait]
impl JobSource for RemoteOk {
    fn name(&self) -> SourceName {
        SourceName::Remoteok
    }

    async fn fetch(&self, target: &Target) -> SourceResult<Vec<RawListing>> {
        if *target != Target::Feed {
            return Err(SourceError::Unavailable(format!(
                "remoteok is one feed, not {target}"
            )));
        }
        let body = self.endpoint.get_json(&self.endpoint.url("/api")).await?;
        parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_the_legal_notice_and_reads_numbers_as_strings_or_numbers() {
        let jobs = parse(include_str!("../../fixtures/remoteok/api.json")).expect("parses");
        assert_eq!(jobs.len(), 3);
        let a = &jobs[0];
        assert_eq!(
            (a.title.as_str(), a.company.as_str()),
            ("Junior Data Analyst", "Lantern Health")
        );
        assert_eq!(a.is_remote, Some(true));
        assert_eq!(a.source_id.as_deref(), Some("1101"));
        let s = a.salary.as_ref().expect("salary");
        assert_eq!((s.min, s.max), (Some(60000.0), Some(80000.0)));
        assert_eq!(
            a.description.as_deref(),
            Some("Own weekly reporting.\n- SQL and Python")
        );
        assert_eq!(jobs[1].salary, None, "0 means no salary");
        assert_eq!(jobs[1].location, None);
        assert_eq!(
            jobs[2].date_posted,
            chrono::NaiveDate::from_ymd_opt(2026, 9, 20),
            "from epoch when date is absent"
        );
        assert_eq!(jobs[2].source_id.as_deref(), Some("1103"));
    }

    #[test]
    fn only_the_notice_means_no_jobs() {
        assert!(
            parse(r#"[{"legal": "API Terms of Service", "last_updated": 1789776016}]"#)
                .expect("parses")
                .is_empty()
        );
        assert!(matches!(
            parse(r#"{"error": "x"}"#),
            Err(SourceError::Malformed(_))
        ));
    }
}
