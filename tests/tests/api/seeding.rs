//! The default categories are seeded once, however often and however concurrently.

use api::config::Config;
use api::server::Application;
use sea_orm::{EntityTrait, PaginatorTrait};
use tests::app::test_vars;
use tests::{Backend, TestDatabase, on_each_backend};

async fn seeding_twice_or_from_two_processes_at_once_leaves_exactly_the_defaults(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let config = Config::from_map(&test_vars(&database.url)).expect("config");
    // Two applications starting at once on an empty database: both migrate and seed.
    let (a, b) = tokio::join!(
        Application::build(config.clone()),
        Application::build(config.clone())
    );
    let (a, b) = (a.expect("first app starts"), b.expect("second app starts"));
    let db = a.state().db.clone();
    let again = jobs::catalog::seed_default_categories(&db)
        .await
        .expect("seed again");
    assert_eq!(again, 0, "a second seed inserts nothing");
    let (x, y) = tokio::join!(
        jobs::catalog::seed_default_categories(&db),
        jobs::catalog::seed_default_categories(&b.state().db)
    );
    assert_eq!((x.expect("seed"), y.expect("seed")), (0, 0));
    let rows = entity::search_category::Entity::find()
        .all(&db)
        .await
        .expect("categories");
    let mut slugs: Vec<&str> = rows.iter().map(|c| c.slug.as_str()).collect();
    slugs.sort_unstable();
    assert_eq!(
        slugs,
        [
            "data_scientist",
            "mechanical_engineer",
            "product_manager",
            "software_engineer"
        ]
    );
    assert!(
        rows.iter()
            .all(|c| !c.search_terms.0.is_empty() && !c.keywords.0.is_empty())
    );
    drop((a, b));
    assert_eq!(
        entity::search_category::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        4
    );
}

async fn a_retired_default_stays_retired_after_a_restart(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let config = Config::from_map(&test_vars(&database.url)).expect("config");
    let first = Application::build(config.clone()).await.expect("starts");
    jobs::catalog::retire(&first.state().db, "product_manager")
        .await
        .expect("retire");
    drop(first);
    let second = Application::build(config).await.expect("restarts");
    let pm = jobs::catalog::find(
        &second.state().db,
        &"product_manager".parse().expect("slug"),
    )
    .await
    .expect("query")
    .expect("kept");
    assert!(!pm.is_active, "seeding does not revive a retired default");
}

on_each_backend!(
    seeding_twice_or_from_two_processes_at_once_leaves_exactly_the_defaults,
    a_retired_default_stays_retired_after_a_restart
);
