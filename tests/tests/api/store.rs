//! The batch store directly: chunking, repeated instants, links.

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{job_listing, job_listing_category, search_category};
use jobs::collect::store::{Found, store};
use jobs::sources::RawListing;
use sea_orm::EntityTrait;
use tests::{Backend, on_each_backend, spawn_app};

fn found(n: usize, categories: &[i64]) -> Vec<Found> {
    (0..n)
        .map(|i| {
            let mut l = RawListing::new(
                "greenhouse",
                &format!("Engineer {i}"),
                "Acme",
                &format!("https://acme.example/jobs/{i}?utm_source=x"),
            );
            l.description = Some(format!("Role number {i}"));
            l.date_posted = chrono::NaiveDate::from_ymd_opt(2026, 11, 1);
            Found {
                listing: l,
                categories: categories.iter().copied().collect::<BTreeSet<_>>(),
            }
        })
        .collect()
}

async fn category_ids(app: &tests::TestApp) -> Vec<i64> {
    let categories = search_category::Entity::find()
        .all(&app.db)
        .await
        .expect("categories");
    categories.iter().map(|c| c.id).collect()
}

async fn small_chunks_store_every_listing_and_link_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = category_ids(&app).await;
    let now = Utc::now();
    let first = store(&app.db, &found(7, &ids[..2]), 3, now)
        .await
        .expect("store");
    assert_eq!((first.inserted, first.links_inserted), (7, 14));
    assert_eq!(first.categories_gained, ids[..2].iter().copied().collect());
    let again = store(
        &app.db,
        &found(9, &ids[..2]),
        2,
        now + chrono::Duration::seconds(1),
    )
    .await
    .expect("store");
    assert_eq!(
        (again.inserted, again.links_inserted),
        (2, 4),
        "only the two new listings and their links"
    );
    assert_eq!(app.rows::<job_listing::Entity>().await, 9);
    assert_eq!(app.rows::<job_listing_category::Entity>().await, 18);
    let stored = job_listing::Entity::find()
        .all(&app.db)
        .await
        .expect("rows");
    assert!(
        stored.iter().all(|l| l.job_url.contains("utm_source")),
        "the URL is stored as found; only the hash canonicalizes it"
    );
    assert_eq!(
        stored
            .iter()
            .filter(|l| l.last_seen_at > l.first_seen_at)
            .count(),
        7,
        "listings seen again move forward"
    );
}

async fn a_listing_seen_again_at_the_same_instant_still_gets_new_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = category_ids(&app).await;
    let now = Utc::now();
    store(&app.db, &found(2, &ids[..1]), 0, now)
        .await
        .expect("store");
    let second = store(&app.db, &found(2, &ids[1..2]), 0, now)
        .await
        .expect("store at the same instant");
    assert_eq!((second.inserted, second.links_inserted), (0, 2));
    assert_eq!(second.categories_gained, BTreeSet::from([ids[1]]));
    assert_eq!(app.rows::<job_listing_category::Entity>().await, 4);
}

on_each_backend!(
    small_chunks_store_every_listing_and_link_once,
    a_listing_seen_again_at_the_same_instant_still_gets_new_links
);
