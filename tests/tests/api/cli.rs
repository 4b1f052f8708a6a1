//! Commands run through the same code path as the binary.

use api::cli::{AdminAction, Command, execute};
use serde_json::json;
use tests::app::error_code;
use tests::{Backend, on_each_backend, spawn_app};

async fn admin_grant_promotes_an_existing_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.register("promoted@example.com").await;
    let add =
        "mutation { addSearchCategory(input: { slug: \"devops\", name: \"DevOps\" }) { slug } }";
    assert_eq!(
        error_code(&app.graphql(add, json!({}), Some(&token)).await),
        Some("FORBIDDEN")
    );

    execute(
        Command::Admin {
            action: AdminAction::Grant {
                email: "Promoted@Example.com".into(),
            },
        },
        app.config.clone(),
    )
    .await
    .expect("grant succeeds");
    // The same token now carries the new role: roles are read on each request.
    assert_eq!(
        app.data(add, json!({}), Some(&token)).await["addSearchCategory"]["slug"],
        "devops"
    );
    let me = app.data("{ me { role } }", json!({}), Some(&token)).await;
    assert_eq!(me["me"]["role"], "ADMIN");

    let missing = execute(
        Command::Admin {
            action: AdminAction::Grant {
                email: "ghost@example.com".into(),
            },
        },
        app.config.clone(),
    )
    .await;
    assert!(format!("{:?}", missing.expect_err("no such account")).contains("ghost@example.com"));
}

on_each_backend!(admin_grant_promotes_an_existing_account);
