//! searchCategories and the admin mutations: each as admin, user and anonymous; validation.

use serde_json::{Value, json};
use tests::app::error_code;
use tests::{Backend, TestApp, on_each_backend, spawn_app};

const LIST: &str = "query($all: Boolean) { searchCategories(includeInactive: $all) { slug name searchTerms keywords location isActive origin } }";
const ADD: &str = "mutation($i: AddSearchCategoryInput!) { addSearchCategory(input: $i) { id slug name searchTerms keywords location isActive origin } }";
const UPDATE: &str = "mutation($s: String!, $i: UpdateSearchCategoryInput!) { updateSearchCategory(slug: $s, input: $i) { slug name searchTerms keywords location isActive } }";
const REMOVE: &str = "mutation($s: String!) { removeSearchCategory(slug: $s) { slug isActive } }";

async fn slugs(app: &TestApp, token: &str, all: bool) -> Vec<String> {
    let data = app.data(LIST, json!({ "all": all }), Some(token)).await;
    data["searchCategories"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["slug"].as_str().expect("slug").to_owned())
        .collect()
}

async fn signed_in_users_see_the_four_seeded_categories(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("user@example.com").await;
    let data = app.data(LIST, json!({}), Some(&token)).await;
    let list = data["searchCategories"].as_array().expect("list");
    assert_eq!(
        slugs(&app, &token, false).await,
        [
            "data_scientist",
            "mechanical_engineer",
            "product_manager",
            "software_engineer"
        ]
    );
    for c in list {
        assert_eq!(c["origin"], "SEED");
        assert_eq!(c["isActive"], true);
        assert!(
            !c["searchTerms"].as_array().expect("terms").is_empty(),
            "{c}"
        );
        assert!(
            !c["keywords"].as_array().expect("keywords").is_empty(),
            "{c}"
        );
    }
    let anonymous = app.graphql(LIST, json!({}), None).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn an_admin_adds_renames_and_retires_a_category(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let added = app
        .data(
            ADD,
            json!({ "i": { "slug": "data_engineer", "name": "  Data   Engineer " } }),
            Some(&admin),
        )
        .await;
    let c = &added["addSearchCategory"];
    assert_eq!(c["name"], "Data Engineer");
    assert_eq!(
        c["searchTerms"],
        json!(["Data Engineer"]),
        "search terms default to the name"
    );
    assert_eq!(
        c["keywords"],
        json!(["data engineer"]),
        "keywords default to the lowercased name"
    );
    assert_eq!(c["origin"], "ADMIN");
    assert_eq!(c["isActive"], true);

    let input = json!({ "name": "Data Platform Engineer", "searchTerms": ["data engineer", "analytics engineer"], "keywords": ["data engineer", "etl", "ETL"], "location": "Berlin" });
    let updated = app
        .data(
            UPDATE,
            json!({ "s": "data_engineer", "i": input }),
            Some(&admin),
        )
        .await;
    let u = &updated["updateSearchCategory"];
    assert_eq!(u["name"], "Data Platform Engineer");
    assert_eq!(
        u["searchTerms"],
        json!(["data engineer", "analytics engineer"])
    );
    assert_eq!(
        u["keywords"],
        json!(["data engineer", "etl"]),
        "duplicates are dropped"
    );
    assert_eq!(u["location"], "Berlin");
    let cleared = app
        .data(
            UPDATE,
            json!({ "s": "data_engineer", "i": { "location": "" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(cleared["updateSearchCategory"]["location"], json!(null));

    let removed = app
        .data(REMOVE, json!({ "s": "data_engineer" }), Some(&admin))
        .await;
    assert_eq!(
        removed["removeSearchCategory"],
        json!({ "slug": "data_engineer", "isActive": false })
    );
    assert!(
        !slugs(&app, &admin, false)
            .await
            .contains(&"data_engineer".to_owned())
    );
    assert!(
        slugs(&app, &admin, true)
            .await
            .contains(&"data_engineer".to_owned()),
        "retired, not deleted"
    );

    let revived = app
        .data(
            UPDATE,
            json!({ "s": "data_engineer", "i": { "isActive": true } }),
            Some(&admin),
        )
        .await;
    assert_eq!(revived["updateSearchCategory"]["isActive"], true);
}

async fn category_mutations_are_for_admins_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.register("user@example.com").await;
    let operations: [(&str, Value); 3] = [
        (ADD, json!({ "i": { "slug": "devops", "name": "DevOps" } })),
        (
            UPDATE,
            json!({ "s": "software_engineer", "i": { "name": "Changed" } }),
        ),
        (REMOVE, json!({ "s": "software_engineer" })),
    ];
    for (query, vars) in &operations {
        let as_user = app.graphql(query, vars.clone(), Some(&user)).await;
        assert_eq!(error_code(&as_user), Some("FORBIDDEN"), "{as_user}");
        let anonymous = app.graphql(query, vars.clone(), None).await;
        assert_eq!(
            error_code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{anonymous}"
        );
    }
    let admin = app.admin_token().await;
    let all = app.data(LIST, json!({ "all": true }), Some(&admin)).await;
    let list = all["searchCategories"].as_array().expect("list");
    assert_eq!(list.len(), 4, "nothing was added");
    assert!(
        list.iter()
            .all(|c| c["isActive"] == true && c["name"] != "Changed"),
        "nothing was changed"
    );
}

async fn a_duplicate_slug_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let body = app
        .graphql(
            ADD,
            json!({ "i": { "slug": "software_engineer", "name": "Again" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let body = app
        .graphql(
            ADD,
            json!({ "i": { "slug": " software_engineer ", "name": "Again" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "surrounding spaces do not make a new slug: {body}"
    );
}

async fn invalid_category_input_is_rejected_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let long = "x".repeat(101);
    let many: Vec<String> = (0..51).map(|i| format!("term {i}")).collect();
    let cases = [
        (json!({ "slug": "Bad-Slug", "name": "Bad" }), "slug"),
        (json!({ "slug": "1abc", "name": "Bad" }), "slug"),
        (json!({ "slug": "a", "name": "Bad" }), "slug"),
        (
            json!({ "slug": format!("a{}", "b".repeat(60)), "name": "Bad" }),
            "slug",
        ),
        (json!({ "slug": "empty_name", "name": "   " }), "name"),
        (
            json!({ "slug": "long_name", "name": "n".repeat(201) }),
            "name",
        ),
        (
            json!({ "slug": "long_term", "name": "Ok", "searchTerms": [long] }),
            "searchTerms",
        ),
        (
            json!({ "slug": "many_terms", "name": "Ok", "searchTerms": many }),
            "searchTerms",
        ),
        (
            json!({ "slug": "blank_keyword", "name": "Ok", "keywords": ["ok", " "] }),
            "keywords",
        ),
        (
            json!({ "slug": "no_keywords", "name": "Ok", "keywords": [] }),
            "keywords",
        ),
        (
            json!({ "slug": "long_location", "name": "Ok", "location": "l".repeat(201) }),
            "location",
        ),
    ];
    for (input, field) in cases {
        let body = app.graphql(ADD, json!({ "i": input }), Some(&admin)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{input}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{input}: {body}"
        );
    }
    assert_eq!(
        slugs(&app, &admin, true).await.len(),
        4,
        "nothing was stored"
    );

    let bad_update = app
        .graphql(
            UPDATE,
            json!({ "s": "software_engineer", "i": { "name": "", "keywords": ["kept?"] } }),
            Some(&admin),
        )
        .await;
    assert_eq!(error_code(&bad_update), Some("VALIDATION"));
    let list = app.data(LIST, json!({}), Some(&admin)).await;
    let se = list["searchCategories"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["slug"] == "software_engineer")
        .cloned()
        .expect("present");
    assert_eq!(
        se["name"], "Software Engineer",
        "a rejected update changes nothing"
    );
    assert_ne!(se["keywords"], json!(["kept?"]));
}

async fn unknown_and_malformed_slugs_on_update_and_remove(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let body = app
        .graphql(REMOVE, json!({ "s": "no_such_category" }), Some(&admin))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .graphql(
            UPDATE,
            json!({ "s": "no_such_category", "i": { "name": "X" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .graphql(REMOVE, json!({ "s": "NOT A SLUG" }), Some(&admin))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

on_each_backend!(
    signed_in_users_see_the_four_seeded_categories,
    an_admin_adds_renames_and_retires_a_category,
    category_mutations_are_for_admins_only,
    a_duplicate_slug_is_a_conflict,
    invalid_category_input_is_rejected_and_nothing_is_stored,
    unknown_and_malformed_slugs_on_update_and_remove,
);
