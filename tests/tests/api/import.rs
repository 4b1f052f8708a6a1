//! `jobcollector import` through the real command path.

use std::io::Write;

use api::cli::{Command, execute};
use entity::job_listing;
use tests::{Backend, on_each_backend, spawn_app};

use crate::collect::links;

const CSV: &str = "id,site,job_url,job_url_direct,title,company,location,date_posted,job_type,interval,min_amount,max_amount,currency,is_remote,description\n\
li-1,linkedin,https://www.linkedin.com/jobs/view/1?trk=abc,,Backend Engineer,Acme,\"Berlin, Germany\",2026-11-20,fulltime,yearly,70000,90000,EUR,False,Build pipelines\n\
in-2,indeed,https://www.indeed.com/viewjob?jk=2,,Broken Row,,,,,,,,,,\n\
in-3,indeed,https://www.indeed.com/viewjob?jk=3,,backend   engineer,ACME Inc.,Berlin,2026-11-21,,,,,,True,duplicate of line 2: the same opening in the same city\n\
in-4,indeed,https://www.indeed.com/viewjob?jk=4,,Registered Nurse,Clinic,,2026-11-21,,,,,,True,\n\
gd-5,glassdoor,https://www.glassdoor.com/job-listing/j?jl=5,,Product Owner,Orbit,,not-a-date,,,,,,,\n\
zr-6,zip_recruiter,https://www.ziprecruiter.com/jobs/j?lvk=6,,Senior Product Manager,Orbit,Remote,2026-11-19,,,,,,True,\n";

async fn an_import_lands_good_rows_and_reports_bad_ones_by_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(CSV.as_bytes()).expect("write");
    let report = api::pipeline::import(&app.db, &app.config, file.path(), None)
        .await
        .expect("import");
    assert_eq!(report.rows, 6);
    assert_eq!(report.bad.len(), 2, "{:?}", report.bad);
    assert_eq!(report.bad[0], (3, "missing company".to_owned()));
    assert_eq!(report.bad[1].0, 6);
    assert!(report.bad[1].1.contains("date_posted"));
    assert_eq!(report.unmatched, 1, "the nurse matches no category");
    assert_eq!((report.unique, report.inserted), (2, 2));
    let stored = links(&app).await;
    assert_eq!(
        stored.keys().map(String::as_str).collect::<Vec<_>>(),
        ["Backend Engineer", "Senior Product Manager"]
    );

    // The same file again inserts nothing; through the command path it succeeds.
    execute(
        Command::Import {
            file: file.path().to_owned(),
            category: None,
        },
        app.config.clone(),
    )
    .await
    .expect("command");
    assert_eq!(app.rows::<job_listing::Entity>().await, 2);
}

async fn an_import_into_one_category_and_its_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(b"{\"site\":\"indeed\",\"title\":\"Registered Nurse\",\"company\":\"Clinic\",\"job_url\":\"https://x/1\"}\n").expect("write");
    let report = api::pipeline::import(&app.db, &app.config, file.path(), Some("product_manager"))
        .await
        .expect("import");
    assert_eq!((report.inserted, report.unmatched), (1, 0));
    assert_eq!(
        links(&app).await["Registered Nurse"]
            .iter()
            .collect::<Vec<_>>(),
        ["product_manager"]
    );
    let unknown = api::pipeline::import(&app.db, &app.config, file.path(), Some("astronaut")).await;
    assert!(
        unknown
            .expect_err("unknown category")
            .to_string()
            .contains("astronaut")
    );
    let missing = execute(
        Command::Import {
            file: "/nonexistent/jobs.csv".into(),
            category: None,
        },
        app.config.clone(),
    )
    .await;
    assert!(
        missing
            .expect_err("missing file")
            .to_string()
            .contains("cannot open")
    );
}

on_each_backend!(
    an_import_lands_good_rows_and_reports_bad_ones_by_line,
    an_import_into_one_category_and_its_errors
);
