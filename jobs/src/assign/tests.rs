//! Table tests of keyword assignment, slugs and prompts.

use super::*;
use entity::{CategoryOrigin, StringList};

fn category(id: i64, slug: &str, keywords: &[&str]) -> search_category::Model {
    let now = Utc::now();
    search_category::Model {
        id,
        slug: slug.parse().expect("slug"),
        name: slug.replace('_', " "),
        search_terms: StringList(vec![]),
        keywords: StringList(keywords.iter().map(|k| (*k).to_owned()).collect()),
        location: None,
        is_active: true,
        origin: CategoryOrigin::Seed,
        created_at: now,
        updated_at: now,
    }
}

/// The seeded defaults, as stored.
fn defaults() -> Vec<search_category::Model> {
    crate::catalog::default_models()
}

fn confident_slug(text: &str, categories: &[search_category::Model]) -> Option<String> {
    let m = keyword_match(text, categories);
    m.confident.map(|id| {
        categories
            .iter()
            .find(|c| c.id == id)
            .expect("id")
            .slug
            .to_string()
    })
}

#[test]
fn headlines_decide_the_category_by_the_most_specific_keyword() {
    let cats = defaults();
    let table: [(&str, Option<&str>); 10] = [
        ("Mechanical Engineer", Some("mechanical_engineer")),
        ("Senior Data Engineer", None),
        ("Senior Software Engineer", Some("software_engineer")),
        ("Machine Learning Engineer", Some("data_scientist")),
        ("Backend Developer (Rust, Go)", Some("software_engineer")),
        ("Product Owner", Some("product_manager")),
        ("Mechanical Design Engineer", Some("mechanical_engineer")),
        ("Registered Nurse", None),
        ("Engineer", None),
        // Two categories at the same specificity: not confident.
        ("Software Engineer / Product Manager", None),
    ];
    for (title, expected) in table {
        assert_eq!(
            confident_slug(title, &cats).as_deref(),
            expected,
            "title {title:?}"
        );
    }
}

#[test]
fn a_resume_is_judged_by_its_headline_not_by_a_skill_in_passing() {
    let cats = defaults();
    let resume = "Jane Roe\nSenior Data Engineer\n\nBuilt Spark and Airflow pipelines \
                  feeding the machine learning team; worked with software engineers.";
    let m = keyword_match(resume, &cats);
    assert_eq!(m.confident, None);
    // The fallback still has a best guess from the body.
    assert_eq!(m.best, Some(2));

    let mut with_de = cats.clone();
    with_de.push(category(
        5,
        "data_engineer",
        &["data engineer", "etl developer"],
    ));
    assert_eq!(
        confident_slug(resume, &with_de).as_deref(),
        Some("data_engineer")
    );
}

#[test]
fn inactive_categories_and_partial_words_never_match() {
    let mut cats = defaults();
    cats[2].is_active = false;
    assert_eq!(confident_slug("Mechanical Engineer", &cats), None);
    // "cad" must not match inside "academy".
    let cats = defaults();
    assert_eq!(keyword_match("Academy teacher", &cats).best, None);
}

#[test]
fn slugs_are_cleaned_and_compared_canonically() {
    assert_eq!(
        clean_slug("Senior ML-Engineer").map(|s| s.to_string()),
        Some("ml_engineer".into())
    );
    assert_eq!(
        clean_slug("data engineer").map(|s| s.to_string()),
        Some("data_engineer".into())
    );
    assert_eq!(clean_slug("Senior Lead").map(|s| s.to_string()), None);
    assert_eq!(clean_slug("123"), None);
    assert_eq!(
        canonical_slug("ml_engineer"),
        canonical_slug("machine_learning_engineer")
    );
    assert_eq!(
        canonical_slug("senior_sre"),
        canonical_slug("site_reliability_engineer")
    );
    assert_ne!(
        canonical_slug("data_engineer"),
        canonical_slug("data_scientist")
    );
    assert_eq!(canonical_slug("Software Engineering"), "software_engineer");
}

#[test]
fn long_proposals_are_cut_on_a_word_boundary() {
    let long = "very_long_role_name_that_keeps_going_and_going_beyond_limits";
    let slug = clean_slug(long).expect("a slug");
    assert!(slug.as_str().len() <= 49, "{slug}");
    assert!(!slug.as_str().ends_with('_'));
}

#[test]
fn titles_become_categories_cleaned_of_seniority() {
    let table: [(&str, Option<(&str, &str)>); 13] = [
        (
            "Jane Roe\nSenior Data Engineer\n\nSpark, Airflow.",
            Some(("data_engineer", "Data Engineer")),
        ),
        (
            "Ana Ruiz\nAnalytics Engineer II | dbt, Looker\n",
            Some(("analytics_engineer", "Analytics Engineer")),
        ),
        (
            "Maria Lopez\nREGISTERED NURSE\nICU, 6 years",
            Some(("registered_nurse", "Registered Nurse")),
        ),
        (
            "Tom Baker, CPA candidate\nStaff Accountant\nMonth-end close",
            Some(("accountant", "Accountant")),
        ),
        (
            "Bo Li\nJourneyman Electrician\nCommercial wiring",
            Some(("journeyman_electrician", "Journeyman Electrician")),
        ),
        // The headline names no role; the most recent experience entry does.
        (
            "Curriculum Vitae\nChris Doe\nchris@example.com\n\nExperience\n\
             Acme Corp | Senior Software Engineer, Backend | 2020 – present\n",
            Some(("software_engineer", "Software Engineer")),
        ),
        // A name alone, then prose: nothing to read.
        (
            "Chris Doe\n\nI like building things and have done so for years with many tools.",
            None,
        ),
        ("Curriculum Vitae\nChris Doe\n", None),
        // Seniority only, a bare role noun, or no title at all.
        ("Kim Park\nSenior Lead\n", None),
        ("Kim Park\nStaff Engineer\n", None),
        ("Kim Park\nHead of Engineering\n", None),
        ("Kim Park\nBuy Cheap Watches Online Now Agent\n", None),
        (
            "Kim Park\nAspiring Data Engineer\n",
            Some(("data_engineer", "Data Engineer")),
        ),
    ];
    for (resume, expected) in table {
        let got = title_category(resume);
        assert_eq!(
            got.as_ref().map(|t| (t.slug.as_str(), t.name.as_str())),
            expected,
            "resume {resume:?}"
        );
    }
    let de = title_category("Jane Roe\nSenior Data Engineer").expect("a title");
    assert!(de.keywords.contains(&"data engineer".to_owned()), "{de:?}");
    assert!(de.keywords.contains(&"etl developer".to_owned()), "{de:?}");
}
