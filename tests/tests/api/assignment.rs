//! saveResume and category assignment through the real app, its queue and workers: keywords,
//! the LLM choosing or proposing (against the Bedrock mock), fallbacks, bad input.

use entity::{CategoryOrigin, search_category};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

pub const SAVE: &str = "mutation($t: String!) { saveResume(text: $t) { resumeUpdatedAt categoryAssignment { status } } }";
const ME: &str = "{ me { resumeUpdatedAt categoryAssignment { status method error assignedAt category { slug origin } } } }";

pub const MECHANICAL: &str = "Sam Roe\nMechanical Design Engineer\n\n8 years designing injection \
molded parts in SolidWorks and Creo; FEA in ANSYS; GD&T and tolerance analysis.";
pub const BACKEND: &str = "Alex Doe\nSenior Backend Engineer\n\nBuilt Rust and Go microservices \
on Kubernetes and AWS; PostgreSQL and Redis; Kafka; gRPC and REST APIs; Terraform.";
pub const DATA_ENGINEER: &str = "Jane Roe\nSenior Data Engineer\n\nBuilt Spark and Airflow \
pipelines into Snowflake; dbt models; Kafka ingestion; Python and SQL.";

/// The caller's assignment once the queued jobs (the assignment, and the matching it queues)
/// have run.
pub async fn settled(app: &TestApp, token: &str) -> Value {
    app.until_queues_idle(20).await;
    let me = app.data(ME, json!({}), Some(token)).await;
    let a = me["me"]["categoryAssignment"].clone();
    assert_ne!(a["status"], "PENDING", "the assignment ran: {a}");
    a
}

async fn keywords_assign_without_the_llm(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("sam@example.com").await;
    let saved = app
        .data(SAVE, json!({ "t": MECHANICAL }), Some(&token))
        .await;
    assert!(saved["saveResume"]["resumeUpdatedAt"].is_string());
    let a = settled(&app, &token).await;
    assert_eq!(a["status"], "ASSIGNED");
    assert_eq!(a["method"], "KEYWORD");
    assert_eq!(a["category"]["slug"], "mechanical_engineer");
    assert_eq!(a["error"], json!(null));
    assert!(a["assignedAt"].is_string());

    // No keyword covers the headline's role and the LLM is off: a category from the title.
    let token = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": DATA_ENGINEER }), Some(&token))
        .await;
    let a = settled(&app, &token).await;
    assert_eq!(
        (
            a["status"].as_str(),
            a["method"].as_str(),
            a["category"]["slug"].as_str(),
            a["category"]["origin"].as_str()
        ),
        (
            Some("ASSIGNED"),
            Some("TITLE"),
            Some("data_engineer"),
            Some("TITLE")
        )
    );
    assert_eq!(a["error"], json!(null));
    // A second data engineer is matched by its keywords now; a nurse, named below her name,
    // gets her own.
    let token = app.register("lee@example.com").await;
    let second = DATA_ENGINEER.replace(
        "Jane Roe\nSenior Data Engineer",
        "Lee Chan\nData Engineer II",
    );
    app.data(SAVE, json!({ "t": second }), Some(&token)).await;
    let a = settled(&app, &token).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("KEYWORD"), Some("data_engineer"))
    );
    let token = app.register("maria@example.com").await;
    app.data(SAVE, json!({ "t": NURSE }), Some(&token)).await;
    let a = settled(&app, &token).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("TITLE"), Some("registered_nurse"))
    );
    let nurse = search_category::Entity::find()
        .filter(search_category::Column::Slug.eq("registered_nurse"))
        .one(&app.db)
        .await
        .expect("reads")
        .expect("created");
    assert_eq!(nurse.origin, CategoryOrigin::Title);
    assert_eq!(nurse.search_terms.0, ["Registered Nurse"]);
    assert!(nurse.keywords.0.contains(&"registered nurse".to_owned()));

    // No role to read: the default, FALLBACK, with the reason.
    let token = app.register("nobody@example.com").await;
    app.data(SAVE, json!({ "t": NO_ROLE }), Some(&token)).await;
    let a = settled(&app, &token).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("FALLBACK"), Some("software_engineer"))
    );
    assert!(
        a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("LLM is disabled"),
        "{a}"
    );
    app.stop().await.expect("stops");
}

/// A nurse whose resume opens with her name and contact line only.
const NURSE: &str = "Maria Lopez\nmaria.lopez@example.com | (555) 010-2000\n\nExperience\n\
Registered Nurse, ICU — St. Anne Medical Center, 2019 – Present\n\
- Cared for 2–3 critically ill patients per shift on ventilators and drips\n\
Licensed RN (California), BLS, ACLS.";
/// A resume with no title anywhere.
const NO_ROLE: &str = "Curriculum Vitae\nChris Doe\n\nI enjoy solving problems and learning \
new things; I have worked on many projects with Python and SQL and want my next challenge.";

async fn assignments_create_few_categories_a_day(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("ASSIGN_MAX_NEW_CATEGORIES_PER_DAY".into(), "1".into());
    })
    .await;
    let token = app.register("maria@example.com").await;
    app.data(SAVE, json!({ "t": NURSE }), Some(&token)).await;
    assert_eq!(settled(&app, &token).await["method"], "TITLE");
    let token = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": DATA_ENGINEER }), Some(&token))
        .await;
    let a = settled(&app, &token).await;
    assert_eq!(a["method"], "FALLBACK", "{a}");
    assert!(
        a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("ASSIGN_MAX_NEW_CATEGORIES_PER_DAY"),
        "{a}"
    );
    app.stop().await.expect("stops");
}

async fn creating_categories_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |vars| {
        vars.insert("ASSIGN_CREATE_CATEGORIES".into(), "false".into());
    })
    .await;
    let token = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": DATA_ENGINEER }), Some(&token))
        .await;
    let a = settled(&app, &token).await;
    assert_eq!(a["method"], "FALLBACK", "{a}");
    let created = search_category::Entity::find()
        .filter(search_category::Column::Origin.eq(CategoryOrigin::Title))
        .all(&app.db)
        .await
        .expect("reads");
    assert!(created.is_empty(), "{created:?}");
    app.stop().await.expect("stops");
}

async fn bad_resumes_are_rejected_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("bad@example.com").await;
    for (text, says) in [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("Too short.", "at least 50"),
        (&format!("{MECHANICAL}\u{7}"), "plain text"),
        (&"x".repeat(100 * 1024 + 1), "100 KB"),
    ] {
        let body = app.graphql(SAVE, json!({ "t": text }), Some(&token)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "text");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{body}"
        );
    }
    let me = app.data(ME, json!({}), Some(&token)).await;
    assert_eq!(me["me"]["resumeUpdatedAt"], json!(null));
    assert_eq!(me["me"]["categoryAssignment"]["status"], "NONE");
    // Signed out: UNAUTHENTICATED.
    let body = app.graphql(SAVE, json!({ "t": MECHANICAL }), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    app.stop().await.expect("stops");
}

async fn a_resume_saved_twice_quickly_ends_with_the_newest(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("quick@example.com").await;
    app.data(SAVE, json!({ "t": MECHANICAL }), Some(&token))
        .await;
    app.data(SAVE, json!({ "t": BACKEND }), Some(&token)).await;
    let a = settled(&app, &token).await;
    assert_eq!(a["category"]["slug"], "software_engineer");
    // The first resume's job, delivered now (late, or again), changes nothing.
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("quick@example.com"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the user");
    let stale = jobs::assign::run(
        &app.db,
        None,
        &app.config.assign,
        user.id,
        &jobs::resume::hash(MECHANICAL.trim()),
    )
    .await
    .expect("the stale job runs");
    assert_eq!(stale, jobs::assign::Outcome::Stale);
    let a = settled(&app, &token).await;
    assert_eq!(a["category"]["slug"], "software_engineer");
    assert_eq!(a["method"], "KEYWORD");
    app.stop().await.expect("stops");
}

async fn the_llm_chooses_or_proposes_and_failures_fall_back(backend: Backend) {
    let bedrock = MockBedrock::start().await;
    let app = spawn_app_with(backend, |vars| bedrock.vars(vars)).await;

    // Choose: "none", then propose a seniority-laden slug, which is cleaned → LLM_NEW.
    bedrock.script(vec![
        BedrockReply::tool_use("choose_category", json!({"slug": "none"}), None),
        BedrockReply::tool_use(
            "propose_category",
            json!({"slug": "senior_data_engineer", "name": "Data Engineer",
                   "keywords": ["data engineer", "etl developer", "analytics engineer"]}),
            Some("The resume targets data engineering."),
        ),
    ]);
    let jane = app.register("jane@example.com").await;
    app.data(SAVE, json!({ "t": DATA_ENGINEER }), Some(&jane))
        .await;
    let a = settled(&app, &jane).await;
    assert_eq!(a["method"], "LLM_NEW", "{a}");
    assert_eq!(a["category"]["slug"], "data_engineer");
    assert_eq!(a["category"]["origin"], "LLM");
    let calls = bedrock.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].forced_tool(), Some("choose_category"));
    assert!(calls[0].prompt().contains("software_engineer") && calls[0].prompt().contains("Spark"));
    assert!(
        calls[0].body["system"][0]["text"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(calls[1].forced_tool(), Some("propose_category"));

    // A second proposal of the same role in another spelling reuses it: LLM_EXISTING.
    bedrock.script(vec![
        BedrockReply::tool_use("choose_category", json!({"slug": "none"}), None),
        BedrockReply::tool_use(
            "propose_category",
            json!({"slug": "lead-data-engineering", "name": "Data Engineering", "keywords": []}),
            None,
        ),
    ]);
    let joe = app.register("joe@example.com").await;
    let other = DATA_ENGINEER.replace(
        "Jane Roe\nSenior Data Engineer",
        "Joe Park\nWarehouse specialist",
    );
    app.data(SAVE, json!({ "t": other }), Some(&joe)).await;
    let a = settled(&app, &joe).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("LLM_EXISTING"), Some("data_engineer"))
    );
    let llm_made = search_category::Entity::find()
        .filter(search_category::Column::Origin.eq(CategoryOrigin::Llm))
        .all(&app.db)
        .await
        .expect("categories");
    assert_eq!(llm_made.len(), 1, "one data_engineer, not two");

    // The new category's keywords now place a data engineer without the LLM.
    let calls = bedrock.call_count();
    let ann = app.register("ann@example.com").await;
    app.data(
        SAVE,
        json!({ "t": DATA_ENGINEER.replace("Jane", "Ann") }),
        Some(&ann),
    )
    .await;
    let a = settled(&app, &ann).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("KEYWORD"), Some("data_engineer"))
    );
    assert_eq!(bedrock.call_count(), calls);

    // The LLM picks an existing slug.
    bedrock.script(vec![BedrockReply::tool_use(
        "choose_category",
        json!({"slug": "product_manager"}),
        None,
    )]);
    let pat = app.register("pat@example.com").await;
    let resume = "Pat Lee\nGrowth lead\n\nRan pricing experiments and the quarterly roadmap \
                  with engineering and sales; owned onboarding metrics.";
    app.data(SAVE, json!({ "t": resume }), Some(&pat)).await;
    let a = settled(&app, &pat).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("LLM_EXISTING"), Some("product_manager"))
    );

    // A retired model id: ValidationException → FALLBACK with the reason kept.
    bedrock.script(vec![BedrockReply::error(
        400,
        "ValidationException",
        "The provided model identifier is invalid.",
    )]);
    let kim = app.register("kim@example.com").await;
    app.data(
        SAVE,
        json!({ "t": resume.replace("Pat Lee", "Kim Park") }),
        Some(&kim),
    )
    .await;
    let a = settled(&app, &kim).await;
    assert_eq!(
        (a["status"].as_str(), a["method"].as_str()),
        (Some("ASSIGNED"), Some("FALLBACK"))
    );
    assert!(
        a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("model identifier"),
        "{a}"
    );

    // A slug outside the list is invalid output → FALLBACK.
    bedrock.script(vec![BedrockReply::tool_use(
        "choose_category",
        json!({"slug": "astronaut"}),
        None,
    )]);
    let lou = app.register("lou@example.com").await;
    app.data(
        SAVE,
        json!({ "t": resume.replace("Pat Lee", "Lou Chen") }),
        Some(&lou),
    )
    .await;
    let a = settled(&app, &lou).await;
    assert_eq!(a["method"], "FALLBACK");
    assert!(
        a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("astronaut"),
        "{a}"
    );

    // The LLM failing on a resume whose title names a role: a category from the title.
    bedrock.script(vec![BedrockReply::error(
        503,
        "ServiceUnavailableException",
        "Bedrock is unavailable.",
    )]);
    let ida = app.register("ida@example.com").await;
    let electrician = "Ida Berg\nJourneyman Electrician\n\nTen years of commercial wiring, \
                       conduit runs, panel upgrades and code inspections.";
    app.data(SAVE, json!({ "t": electrician }), Some(&ida))
        .await;
    let a = settled(&app, &ida).await;
    assert_eq!(
        (a["method"].as_str(), a["category"]["slug"].as_str()),
        (Some("TITLE"), Some("journeyman_electrician")),
        "{a}"
    );
    app.stop().await.expect("stops");
}

on_each_backend!(
    keywords_assign_without_the_llm,
    creating_categories_can_be_turned_off,
    assignments_create_few_categories_a_day,
    bad_resumes_are_rejected_and_nothing_is_stored,
    a_resume_saved_twice_quickly_ends_with_the_newest,
    the_llm_chooses_or_proposes_and_failures_fall_back,
);
