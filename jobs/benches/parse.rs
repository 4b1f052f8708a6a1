//! Parse throughput on one core: a 10-card LinkedIn search page (both card variants) and a
//! 100-result Indeed GraphQL page. Run: `cargo bench -p jobs --bench parse`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use jobs::sources::{indeed, linkedin};

fn linkedin_page() -> String {
    (0..10)
        .map(|i| {
            let id = 4_200_000_000u64 + i;
            if i % 3 == 0 {
                format!(
                    r#"<li><a href="https://www.linkedin.com/jobs/view/role-{id}?position={i}&amp;pageNum=0&amp;trk=public_jobs" class="base-card relative w-full base-card--link base-search-card base-search-card--link job-search-card" data-entity-urn="urn:li:jobPosting:{id}"><div class="search-entity-media"><img class="artdeco-entity-image" data-delayed-url="https://static.licdn.example/{id}.svg" alt></div><div class="base-search-card__info"><h3 class="base-search-card__title">
        Senior Platform Engineer {i}
      </h3><h4 class="base-search-card__subtitle">
        Company {i}
      </h4><div class="base-search-card__metadata"><span class="job-search-card__location">Stockholm, Sweden</span><div class="job-posting-benefits text-sm"><span class="job-posting-benefits__text">Be an early applicant</span></div><time class="job-search-card__listdate--new" datetime="2026-11-25">3 hours ago</time></div></div></a></li>"#
                )
            } else {
                format!(
                    r#"<li><div class="base-card relative w-full base-card--link base-search-card base-search-card--link job-search-card" data-entity-urn="urn:li:jobPosting:{id}" data-impression-id="jobs-search-result-{i}"><a class="base-card__full-link absolute top-0 right-0 bottom-0 left-0 p-0 z-[2]" href="https://www.linkedin.com/jobs/view/role-{id}?position={i}&amp;pageNum=0&amp;refId=abc&amp;trackingId=def&amp;trk=public_jobs_jserp-result_search-card"><span class="sr-only">
        Backend Engineer {i}
      </span></a><div class="search-entity-media"><img class="artdeco-entity-image artdeco-entity-image--square-4" data-delayed-url="https://media.licdn.example/{id}.png" alt="Company {i}"></div><div class="base-search-card__info"><h3 class="base-search-card__title">Backend Engineer {i}</h3><h4 class="base-search-card__subtitle"><a class="hidden-nested-link" href="https://www.linkedin.com/company/company-{i}?trk=public_jobs">Company {i}</a></h4><div class="base-search-card__metadata"><span class="job-search-card__location">Berlin, Berlin, Germany</span><span class="job-search-card__salary-info">€70,000.00 - €95,000.00</span><time class="job-search-card__listdate" datetime="2026-11-20">6 days ago</time></div></div></div></li>"#
                )
            }
        })
        .collect()
}

fn indeed_page() -> String {
    let description = "<p>We are looking for an engineer to build and operate our data platform.</p><ul>".to_owned()
        + &"<li>Design, build and run services in Rust, Go or Java; own them in production.</li>".repeat(20)
        + "</ul>";
    let results: Vec<String> = (0..100)
        .map(|i| {
            let salary = match i % 3 {
                0 => r#"{"estimated": null, "baseSalary": {"unitOfWork": "YEAR", "range": {"min": 120000, "max": 150000}}, "currencyCode": "USD"}"#.to_owned(),
                1 => r#"{"estimated": {"currencyCode": "USD", "baseSalary": {"unitOfWork": "HOUR", "range": {"min": 50.5, "max": 70}}}, "baseSalary": null, "currencyCode": null}"#.to_owned(),
                _ => "null".to_owned(),
            };
            serde_json::json!({
                "trackingKey": format!("tk{i}"),
                "job": {
                    "source": {"name": "Company"},
                    "key": format!("{i:016x}"),
                    "title": format!("Software Engineer {i}"),
                    "datePublished": 1_790_035_200_000u64,
                    "dateOnIndeed": null,
                    "description": {"html": description},
                    "location": {"countryName": "United States", "countryCode": "US", "admin1Code": "TX", "city": "Austin", "formatted": {"short": "Austin, TX", "long": "Austin, TX 78701"}},
                    "compensation": serde_json::from_str::<serde_json::Value>(&salary).unwrap_or_default(),
                    "attributes": [{"key": "CF3CP", "label": "Full-time"}, {"key": "DSQF7", "label": "Remote"}],
                    "employer": if i % 10 == 0 { serde_json::Value::Null } else { serde_json::json!({"name": format!("Company {i}")}) },
                    "recruit": {"viewJobUrl": format!("https://boards.example/{i}"), "detailedSalary": null, "workSchedule": null}
                }
            })
            .to_string()
        })
        .collect();
    format!(
        r#"{{"data": {{"jobSearch": {{"pageInfo": {{"nextCursor": "next"}}, "results": [{}]}}}}}}"#,
        results.join(",")
    )
}

fn bench(name: &str, bytes: usize, mut f: impl FnMut() -> usize) {
    for _ in 0..20 {
        black_box(f());
    }
    let mut samples: Vec<Duration> = Vec::new();
    let mut listings = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline || samples.len() < 50 {
        let start = Instant::now();
        listings = black_box(f());
        samples.push(start.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    let pages_per_s = 1.0 / median.as_secs_f64();
    println!(
        "{name:<26} {:>7} B  {listings:>3} listings  median {:>8.1} µs  p99 {:>8.1} µs  {:>8.0} pages/s  {:>9.0} listings/s  ({} samples)",
        bytes,
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        pages_per_s,
        pages_per_s * listings as f64,
        samples.len()
    );
}

fn main() {
    let page = linkedin_page();
    assert_eq!(
        linkedin::parse_search(&page).len(),
        10,
        "the page parses to 10 listings"
    );
    bench("linkedin 10-card page", page.len(), || {
        linkedin::parse_search(&page).len()
    });
    let page = indeed_page();
    assert_eq!(
        indeed::parse(&page, "www")
            .map(|(l, _)| l.len())
            .unwrap_or(0),
        100,
        "the page parses to 100 listings"
    );
    bench("indeed 100-result page", page.len(), || {
        indeed::parse(&page, "www")
            .map(|(l, _)| l.len())
            .unwrap_or(0)
    });
}
