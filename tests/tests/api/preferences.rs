//! Preferences through a real `MatchUser` with the Bedrock mock: excluded listings are never
//! scored (no LLM call, no match), a change re-evaluates at once without rescoring what was
//! scored, matches excluded later are hidden (kept) and shown again, `matchedJobs` filters ad
//! hoc, and bad input is refused with the field named and nothing saved.

use std::collections::HashSet;

use entity::user_job_match;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::app::error_code;
use tests::boards::{serve_all, vars_for};
use tests::mock_bedrock::{BedrockReply, MockBedrock};
use tests::mock_boards::MockBoards;
use tests::{Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};

use crate::assignment::{BACKEND, SAVE, settled};
use crate::matching::{collect, matches};

const UPDATE: &str = "mutation($p: PreferencesInput!) { updatePreferences(input: $p) { preferences {
  locations remoteOnly minSalary salaryCurrency requireSalary excludeCompanies excludeTitleWords jobTypes } } }";
const FILTERED: &str = "query($location: String, $remote: Boolean) { matchedJobs(first: 100, location: $location, remote: $remote) {
  totalCount edges { node { job { title company location isRemote } } } } }";
const LISTINGS: &str = "query { jobListings(categorySlug: \"software_engineer\", first: 100) { edges { node { title company location isRemote } } } }";

async fn update(app: &TestApp, token: &str, p: Value) -> Value {
    app.graphql(UPDATE, json!({ "p": p }), Some(token)).await
}

/// (title, company) of a listing (a `JobListing` as GraphQL answers it).
fn key(listing: &Value) -> (String, String) {
    let field = |f: &str| listing[f].as_str().unwrap_or_default().to_owned();
    (field("title"), field("company"))
}

/// (title, company) of a listing as a scoring prompt shows it.
fn prompt_key(l: &tests::mock_bedrock::PromptListing) -> (String, String) {
    let company = l
        .text
        .lines()
        .find_map(|x| x.strip_prefix("Company: "))
        .unwrap_or_default();
    (l.title.clone(), company.to_owned())
}

/// (title, company) of every match shown.
async fn shown(app: &TestApp, token: &str, vars: Value) -> HashSet<(String, String)> {
    matches(app, token, vars).await["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| key(&e["node"]["job"]))
        .collect()
}

/// (title, company) of every listing the LLM was asked about, from call `from` on.
fn asked(bedrock: &MockBedrock, from: usize) -> Vec<(String, String)> {
    bedrock.calls()[from..]
        .iter()
        .flat_map(|c| c.listings())
        .map(|l| prompt_key(&l))
        .collect()
}

async fn preferences_exclude_before_scoring_and_hide_after(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::scores(call, |l| {
            json!({"score": 75, "reason": format!("Rust services, as {} wants", l.title),
                   "matched_skills": ["Rust"], "missing_skills": []})
        })
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let alex = app.register("alex@example.com").await;
    let all = app.data(LISTINGS, json!({}), Some(&alex)).await["jobListings"]["edges"]
        .as_array()
        .expect("listings")
        .clone();
    // One company excluded (written another way), one title word excluded.
    let (first_title, company) = key(&all[0]["node"]);
    let word = all
        .iter()
        .map(|e| key(&e["node"]))
        .filter(|(_, c)| *c != company)
        .find_map(|(t, _)| {
            t.split_whitespace()
                .find(|w| w.len() > 4 && w.chars().all(char::is_alphabetic))
                .map(|w| (t.clone(), w.to_lowercase()))
        })
        .expect("a title with a word to exclude");
    let excluded: HashSet<(String, String)> = all
        .iter()
        .map(|e| key(&e["node"]))
        .filter(|(t, c)| *c == company || t.to_lowercase().split_whitespace().any(|w| w == word.1))
        .collect();
    assert!(excluded.contains(&(first_title, company.clone())));
    assert!((excluded.len() as i64) < n, "some listings stay");
    let body = update(
        &app,
        &alex,
        json!({ "excludeCompanies": [format!("{}, Inc.", company.to_uppercase())],
                "excludeTitleWords": [word.1.to_uppercase()] }),
    )
    .await;
    assert_eq!(
        body["data"]["updatePreferences"]["preferences"]["excludeTitleWords"],
        json!([word.1.to_uppercase()])
    );

    app.data(SAVE, json!({ "t": BACKEND }), Some(&alex)).await;
    settled(&app, &alex).await;
    app.until_queues_idle(30).await;
    let seen = shown(&app, &alex, json!({ "first": 100 })).await;
    assert_eq!(seen.len() as i64, n - excluded.len() as i64, "{seen:?}");
    assert!(seen.is_disjoint(&excluded));
    let first_calls = bedrock.call_count();
    assert!(
        asked(&bedrock, 0).iter().all(|k| !excluded.contains(k)),
        "an excluded listing costs no LLM call"
    );

    // Admitting them again scores just them; nothing scored is rescored.
    update(
        &app,
        &alex,
        json!({ "excludeCompanies": [], "excludeTitleWords": [] }),
    )
    .await;
    app.until_queues_idle(30).await;
    let newly: HashSet<(String, String)> = asked(&bedrock, first_calls).into_iter().collect();
    assert_eq!(newly, excluded, "only the admitted listings were sent");
    assert_eq!(
        shown(&app, &alex, json!({ "first": 100 })).await.len() as i64,
        n
    );

    // Excluding them again hides their matches, kept and without a call.
    let calls = bedrock.call_count();
    update(
        &app,
        &alex,
        json!({ "excludeCompanies": [company.clone()], "excludeTitleWords": [word.1.clone()] }),
    )
    .await;
    app.until_queues_idle(30).await;
    let seen = shown(&app, &alex, json!({ "first": 100 })).await;
    assert!(seen.is_disjoint(&excluded) && seen.len() as i64 == n - excluded.len() as i64);
    assert_eq!(bedrock.call_count(), calls, "hiding costs no call");
    assert_eq!(
        user_job_match::Entity::find()
            .count(&app.db)
            .await
            .expect("count") as i64,
        n,
        "hidden, not deleted"
    );

    // Ad hoc filters on what is shown.
    let with_location = all
        .iter()
        .filter(|e| !excluded.contains(&key(&e["node"])))
        .find_map(|e| e["node"]["location"].as_str().map(str::to_owned))
        .expect("a listing with a location");
    let needle: String = with_location
        .chars()
        .take(4)
        .collect::<String>()
        .to_lowercase();
    let located = app
        .data(
            FILTERED,
            json!({ "location": needle.to_uppercase() }),
            Some(&alex),
        )
        .await["matchedJobs"]
        .clone();
    let edges = located["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    for e in edges {
        let location = e["node"]["job"]["location"].as_str().unwrap_or_default();
        assert!(location.to_lowercase().contains(&needle), "{location}");
    }
    let remote = app
        .data(FILTERED, json!({ "remote": true }), Some(&alex))
        .await["matchedJobs"]
        .clone();
    let remote_count = remote["totalCount"].as_i64().expect("count");
    let marked_remote = all
        .iter()
        .filter(|e| e["node"]["isRemote"] == json!(true) && !excluded.contains(&key(&e["node"])))
        .count() as i64;
    assert_eq!(remote_count, marked_remote);
    app.stop().await.expect("stops");
}

async fn bad_preferences_are_refused_with_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let jane = app.register("jane@example.com").await;
    let ok = update(
        &app,
        &jane,
        json!({ "locations": [" Berlin ", "berlin", "Remote"], "minSalary": 70000,
                "salaryCurrency": "eur", "jobTypes": ["Full-time"] }),
    )
    .await;
    let saved = ok["data"]["updatePreferences"]["preferences"].clone();
    assert_eq!(saved["locations"], json!(["Berlin", "Remote"]), "{ok}");
    assert_eq!(saved["salaryCurrency"], "EUR");
    assert_eq!(saved["minSalary"], json!(70000.0));
    assert_eq!(saved["jobTypes"], json!(["fulltime"]));
    for (input, field) in [
        (json!({ "salaryCurrency": "EURO" }), "salaryCurrency"),
        (json!({ "salaryCurrency": "XYZ" }), "salaryCurrency"),
        (json!({ "minSalary": -5 }), "minSalary"),
        (json!({ "salaryCurrency": null }), "salaryCurrency"),
        (json!({ "jobTypes": ["gig"] }), "jobTypes"),
        (json!({ "locations": ["x".repeat(101)] }), "locations"),
        (
            json!({ "excludeCompanies": (0..51).map(|i| format!("c{i}")).collect::<Vec<_>>() }),
            "excludeCompanies",
        ),
    ] {
        let body = update(&app, &jane, input.clone()).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{input}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{input}: {body}"
        );
    }
    let me = app
        .data(
            "{ me { preferences { locations minSalary salaryCurrency } } }",
            json!({}),
            Some(&jane),
        )
        .await;
    assert_eq!(
        me["me"]["preferences"],
        json!({ "locations": ["Berlin", "Remote"], "minSalary": 70000.0, "salaryCurrency": "EUR" }),
        "nothing refused was saved"
    );
    let body = app.graphql(UPDATE, json!({ "p": {} }), None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    app.stop().await.expect("stops");
}

const FACTS: &str =
    "query { jobListings(categorySlug: \"software_engineer\", first: 100) { edges { node {
  title company location isRemote jobType salary { min max currency interval } } } } }";

/// Yearly pay as the preference reads it, from a listing's `salary`.
fn yearly(salary: &Value) -> Option<f64> {
    let amount = salary["max"].as_f64().or(salary["min"].as_f64())?;
    let factor = match salary["interval"]
        .as_str()
        .map(str::to_lowercase)
        .as_deref()
    {
        Some("hourly") => 2080.0,
        Some("daily") => 260.0,
        Some("weekly") => 52.0,
        Some("monthly") => 12.0,
        _ => 1.0,
    };
    Some(amount * factor)
}

/// Every preference alone, set before the first scoring, on its own user: the matches are the
/// listings it admits (worked out here from the listings' own fields), and the LLM was asked
/// about those and no other.
async fn each_preference_admits_the_right_listings(backend: Backend) {
    let boards = MockBoards::start().await;
    serve_all(&boards);
    let bedrock = MockBedrock::start().await;
    bedrock.respond(|call| {
        BedrockReply::scores(call, |_| {
            json!({"score": 60, "reason": "Rust services.", "matched_skills": [], "missing_skills": []})
        })
    });
    let app = spawn_app_with(backend, |vars| {
        vars_for(&boards, vars);
        bedrock.vars(vars);
        vars.insert("LLM_PRESCORE_MIN".into(), "0".into());
    })
    .await;
    let admin = app.admin_token().await;
    let n = collect(&app, &admin).await;
    let lister = app.register("lister2@example.com").await;
    let all = app.data(FACTS, json!({}), Some(&lister)).await["jobListings"]["edges"]
        .as_array()
        .expect("listings")
        .clone();
    let location = |e: &Value| {
        e["node"]["location"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
    };
    let remote =
        move |e: &Value| e["node"]["isRemote"] == json!(true) || location(e).contains("remote");
    let currency = all
        .iter()
        .find_map(|e| e["node"]["salary"]["currency"].as_str().map(str::to_owned))
        .expect("a listing states its pay");
    // Just above one listing's pay: that one is excluded, whatever the others.
    let threshold = all
        .iter()
        .filter(|e| e["node"]["salary"]["currency"].as_str() == Some(currency.as_str()))
        .find_map(|e| yearly(&e["node"]["salary"]))
        .expect("a listing paid in that currency")
        .floor()
        + 1.0;
    let city = all
        .iter()
        .map(location)
        .find(|l| l.contains("berlin"))
        .map(|_| "Berlin")
        .unwrap_or("Remote");
    // A listing's type that the preference accepts (a board may state one it does not, such as
    // Arbeitnow's "Full Time, Berufserfahren").
    let accepted = [
        "fulltime",
        "parttime",
        "contract",
        "internship",
        "temporary",
    ];
    let job_type = all
        .iter()
        .filter_map(|e| e["node"]["jobType"].as_str().map(str::to_owned))
        .find(|t| {
            let t: String = t
                .to_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            accepted.contains(&t.as_str())
        })
        .expect("a listing states its type");
    type Rule = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, Value, Rule)> = vec![
        ("remote", json!({ "remoteOnly": true }), Box::new(remote)),
        (
            "city",
            json!({ "locations": [city] }),
            Box::new(move |e: &Value| {
                location(e)
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w == city.to_lowercase())
                    || (city == "Remote" && remote(e))
            }),
        ),
        (
            "pay",
            json!({ "minSalary": threshold, "salaryCurrency": currency.clone() }),
            Box::new({
                let currency = currency.clone();
                move |e: &Value| {
                    let salary = &e["node"]["salary"];
                    let other = salary["currency"]
                        .as_str()
                        .is_some_and(|c| !c.eq_ignore_ascii_case(&currency));
                    other || yearly(salary).is_none_or(|y| y >= threshold)
                }
            }),
        ),
        (
            "type",
            json!({ "jobTypes": [job_type.clone()] }),
            Box::new({
                let wanted: String = job_type
                    .to_lowercase()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                move |e: &Value| {
                    e["node"]["jobType"].as_str().is_none_or(|t| {
                        t.to_lowercase()
                            .chars()
                            .filter(char::is_ascii_alphanumeric)
                            .collect::<String>()
                            == wanted
                    })
                }
            }),
        ),
    ];
    let mut users = Vec::new();
    for (name, prefs, _) in &cases {
        let token = app.register(&format!("{name}@example.com")).await;
        let body = update(&app, &token, prefs.clone()).await;
        assert!(body["errors"].is_null(), "{name}: {body}");
        let resume = format!("{BACKEND}\nReference: prefers-{name}");
        app.data(SAVE, json!({ "t": resume }), Some(&token)).await;
        users.push(token);
    }
    for token in &users {
        settled(&app, token).await;
    }
    app.until_queues_idle(30).await;
    let calls = bedrock.calls();
    for ((name, _, admits), token) in cases.iter().zip(&users) {
        let expected: HashSet<(String, String)> = all
            .iter()
            .filter(|e| admits(e))
            .map(|e| key(&e["node"]))
            .collect();
        assert!(
            !expected.is_empty() && (expected.len() as i64) < n,
            "{name}: the fixtures must have listings on both sides ({} of {n})",
            expected.len()
        );
        assert_eq!(
            shown(&app, token, json!({ "first": 100 })).await,
            expected,
            "{name}"
        );
        let sent: HashSet<(String, String)> = calls
            .iter()
            .filter(|c| {
                c.cached_prefix()
                    .is_some_and(|p| p.contains(&format!("prefers-{name}")))
            })
            .flat_map(|c| c.listings())
            .map(|l| prompt_key(&l))
            .collect();
        assert_eq!(
            sent, expected,
            "{name}: the LLM saw exactly the admitted listings"
        );
    }

    // `matchedJobs(minSalary:)` ad hoc, for a user with no currency preference: pay made
    // yearly must reach it; listings that state none pass.
    let (_, _, admits) = &cases[3];
    let token = &users[3];
    let expected: HashSet<(String, String)> = all
        .iter()
        .filter(|e| admits(e))
        .filter(|e| yearly(&e["node"]["salary"]).is_none_or(|y| y >= threshold))
        .map(|e| key(&e["node"]))
        .collect();
    let paid_less = all
        .iter()
        .filter(|e| admits(e))
        .any(|e| yearly(&e["node"]["salary"]).is_some_and(|y| y < threshold));
    assert!(paid_less, "the ad hoc filter has something to exclude");
    let body = app
        .data(
            "query($m: Float) { matchedJobs(first: 100, minSalary: $m) { edges { node { job { title company } } } } }",
            json!({ "m": threshold }),
            Some(token),
        )
        .await;
    let got: HashSet<(String, String)> = body["matchedJobs"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| key(&e["node"]["job"]))
        .collect();
    assert_eq!(got, expected, "minSalary ad hoc");
    app.stop().await.expect("stops");
}

on_each_backend!(
    preferences_exclude_before_scoring_and_hide_after,
    each_preference_admits_the_right_listings,
    bad_preferences_are_refused_with_the_field,
);
