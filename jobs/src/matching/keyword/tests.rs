//! The ranking properties the scorer keeps: the right role above a near miss above an
//! unrelated one, seniority traps and hard blockers capped, boilerplate weighing nothing,
//! any profession ranked by the same machinery, scores in the rubric's bands.

use super::*;

const BLURB: &str = "About us\nNorthwind builds software that small businesses love. We are a \
fast-paced, collaborative team that values ownership and impact.\n";
const PERKS: &str = "Benefits\nCompetitive salary, equity, medical, dental and vision \
insurance, a learning budget and 25 days of vacation.\nEqual opportunity\nNorthwind is an \
equal opportunity employer. We do not discriminate on the basis of race, religion, gender, \
veteran status or disability.\n";

fn posting(role: &str, requirements: &str) -> String {
    format!("{BLURB}What you'll do\n{role}\nRequirements\n{requirements}\n{PERKS}")
}

struct Fixture {
    listings: Vec<(&'static str, String)>,
}

impl Fixture {
    fn new() -> Self {
        let data_reqs = "- 5+ years building batch and streaming pipelines with Spark and Kafka\n\
                         - Airflow orchestration and Snowflake warehouse modeling\n\
                         - Strong Python and SQL";
        Self {
            listings: vec![
                (
                    "Senior Data Engineer",
                    posting(
                        "- Build and own our ingestion pipelines and the warehouse",
                        data_reqs,
                    ),
                ),
                (
                    "Senior Analytics Engineer",
                    posting(
                        "- Model business metrics in dbt for finance and product teams",
                        "- 5+ years of SQL and dbt; Looker dashboards; some Airflow and Snowflake",
                    ),
                ),
                (
                    "Senior iOS Engineer",
                    posting(
                        "- Ship features in our iPhone app",
                        "- 5+ years of Swift, SwiftUI and UIKit; App Store releases",
                    ),
                ),
                (
                    "Data Engineering Intern - Summer 2027",
                    posting(
                        "- Help build pipelines with Spark, Kafka, Airflow and Snowflake",
                        "- Currently enrolled in a bachelor's program in computer science\n\
                         - Python and SQL",
                    ),
                ),
                (
                    "Senior Data Engineer (TS/SCI)",
                    posting(
                        "- Build and own ingestion pipelines for a federal customer",
                        &format!("{data_reqs}\n- Active TS/SCI clearance required"),
                    ),
                ),
                (
                    "Senior Data Engineer, Public Sector",
                    posting(
                        "- Build and own ingestion pipelines for public sector customers",
                        &format!("{data_reqs}\n- An active security clearance is a plus"),
                    ),
                ),
                (
                    "Registered Nurse - ICU",
                    posting(
                        "- Care for critically ill patients on ventilators and drips",
                        "- Active RN license\n- BLS and ACLS\n- 2+ years of ICU experience",
                    ),
                ),
                (
                    "Staff Accountant",
                    posting(
                        "- Own the month-end close, reconciliations and journal entries",
                        "- 3+ years of GAAP accounting; NetSuite; Excel",
                    ),
                ),
            ],
        }
    }

    fn corpus(&self) -> Corpus {
        Corpus::from_listings(self.listings.iter().map(|(t, d)| (*t, d.as_str())))
    }

    fn score(&self, resume: &str, title: &str) -> KeywordScore {
        let (t, d) = self
            .listings
            .iter()
            .find(|(t, _)| *t == title)
            .expect("a listing of the fixture");
        score_text(&self.corpus(), resume, t, d, 2026)
    }
}

const DATA_ENGINEER: &str = "Jane Roe\nSenior Data Engineer\n\nExperience\n\
Northwind Analytics | Senior Data Engineer | 2019 – present\n\
- Built streaming pipelines in Spark and Kafka, orchestrated with Airflow\n\
- Modeled the Snowflake warehouse; Python and SQL every day\n\
Acme | Data Engineer | 2017 – 2019\n";
const NEW_GRAD: &str = "Sam Lee\nData Engineer (New Grad)\n\nBS Computer Science, State \
University, 2022 – 2026\nInternship: built Spark and Kafka pipelines with Airflow into \
Snowflake; Python and SQL.\n";
const NURSE: &str = "Maria Lopez\nRegistered Nurse, ICU\n\nSt. Anne Medical Center | \
Registered Nurse | 2019 – present\n- Cared for critically ill patients on ventilators and \
drips\nLicensed RN (California); BLS; ACLS.\n";
const ACCOUNTANT: &str = "Tom Baker\nStaff Accountant\n\nBeta LLP | Staff Accountant | 2021 – \
present\n- Month-end close, reconciliations and journal entries under GAAP in NetSuite\n";

#[test]
fn the_right_role_ranks_above_a_near_miss_above_an_unrelated_one() {
    let f = Fixture::new();
    let right = f.score(DATA_ENGINEER, "Senior Data Engineer");
    let near = f.score(DATA_ENGINEER, "Senior Analytics Engineer");
    let far = f.score(DATA_ENGINEER, "Senior iOS Engineer");
    assert!(
        right.score > near.score && near.score > far.score,
        "{right:?}\n{near:?}\n{far:?}"
    );
    // In the rubric's bands: most core requirements met, adjacent, unrelated.
    assert!(right.score >= 70, "{right:?}");
    assert!((30..70).contains(&near.score), "{near:?}");
    assert!(far.score <= 30, "{far:?}");
    assert!(right.reason.contains("Same role"), "{}", right.reason);
    assert!(near.reason.contains("Related role"), "{}", near.reason);
}

#[test]
fn seniority_traps_are_capped_both_ways() {
    let f = Fixture::new();
    // A senior matches the intern listing word for word; two levels off (and not enrolled).
    let trap = f.score(DATA_ENGINEER, "Data Engineering Intern - Summer 2027");
    let fit = f.score(DATA_ENGINEER, "Senior Data Engineer");
    assert!(trap.score <= CAP && trap.score < fit.score, "{trap:?}");
    assert!(
        trap.reason.contains("levels too far apart"),
        "{}",
        trap.reason
    );
    // A new grad on a senior listing: two levels off the other way.
    let up = f.score(NEW_GRAD, "Senior Data Engineer");
    assert!(up.score <= CAP, "{up:?}");
    assert!(up.reason.contains("levels too far apart"), "{}", up.reason);
}

#[test]
fn a_missing_hard_requirement_caps_and_a_met_or_optional_one_does_not() {
    let f = Fixture::new();
    let blocked = f.score(DATA_ENGINEER, "Senior Data Engineer (TS/SCI)");
    assert!(blocked.score <= CAP, "{blocked:?}");
    assert!(
        blocked.reason.contains("security clearance"),
        "{}",
        blocked.reason
    );
    let plus = f.score(DATA_ENGINEER, "Senior Data Engineer, Public Sector");
    assert!(plus.score >= 70, "a plus is no blocker: {plus:?}");
    let cleared = format!("{DATA_ENGINEER}Active TS/SCI clearance.\n");
    let met = f.score(&cleared, "Senior Data Engineer (TS/SCI)");
    assert!(met.score >= 70, "a met requirement is no blocker: {met:?}");
    assert!(
        met.score <= plus.score + 5,
        "meeting it raises nothing: {met:?} {plus:?}"
    );
}

#[test]
fn any_profession_ranks_by_the_same_machinery() {
    let f = Fixture::new();
    let nurse_rn = f.score(NURSE, "Registered Nurse - ICU");
    let nurse_acc = f.score(NURSE, "Staff Accountant");
    let acc_acc = f.score(ACCOUNTANT, "Staff Accountant");
    let acc_rn = f.score(ACCOUNTANT, "Registered Nurse - ICU");
    assert!(
        nurse_rn.score >= 70 && acc_acc.score >= 70,
        "{nurse_rn:?}\n{acc_acc:?}"
    );
    assert!(
        nurse_acc.score <= 30 && acc_rn.score <= 30,
        "{nurse_acc:?}\n{acc_rn:?}"
    );
    // The lexicon knows no nursing: the listing's own requirement terms are the evidence.
    assert!(
        nurse_rn
            .matched
            .iter()
            .any(|m| m.contains("acls") || m.contains("icu")),
        "{nurse_rn:?}"
    );
    // The accountant lacks the RN licence the ICU listing requires.
    assert!(acc_rn.reason.contains("RN licence"), "{}", acc_rn.reason);
}

#[test]
fn boilerplate_weighs_near_nothing() {
    let f = Fixture::new();
    let corpus = f.corpus();
    let (title, description) = &f.listings[0];
    let listing = Listing::new(&corpus, title, description);
    // A resume made of the shared blurb, perks and equal-opportunity text alone.
    let parrot = Resume::new(&format!("Pat Doe\n{BLURB}{PERKS}"), 2026);
    let s = score_listing(&parrot, &listing);
    assert!(s.score <= 10, "{s:?}");
    let share = coverage(&listing, &parrot);
    assert!(share < 0.05, "{share}");
}

#[test]
fn scores_are_deterministic_and_empty_resumes_score_zero() {
    let f = Fixture::new();
    let a = f.score(DATA_ENGINEER, "Senior Data Engineer");
    let b = f.score(DATA_ENGINEER, "Senior Data Engineer");
    assert_eq!(a, b);
    assert!(a.reason.chars().count() <= 300);
    assert!(a.matched.contains(&"spark".to_owned()), "{a:?}");
    let empty = f.score("  \n ", "Senior Data Engineer");
    assert_eq!((empty.score, empty.reason.as_str()), (0, "resume empty"));
}

#[test]
fn rare_terms_weigh_more_than_common_ones() {
    let corpus =
        Corpus::from_listings([("A", "sql rust"), ("B", "sql"), ("C", "sql"), ("D", "sql")]);
    let rust = terms::hash_word("rust");
    let sql = terms::hash_word("sql");
    assert!(corpus.idf(rust) > corpus.idf(sql));
}
