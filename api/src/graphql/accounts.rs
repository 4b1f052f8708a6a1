//! `me`, `register`, `login`, and what an account's owner may do to it: `changePassword`,
//! `signOutEverywhere`, `deleteAccount`.

use async_graphql::{Context, Object};

use super::context::{Access, client_addr, current_user, require_user, state};
use super::types::{AuthPayload, User};
use crate::auth::accounts;
use crate::error::ApiResult;

/// Account queries.
#[derive(Default, Debug)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user; null when no token is sent.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Ok(current_user(ctx).await?.map(User::from))
    }
}

/// Account mutations.
#[derive(Default, Debug)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and signs it in. Passwords need at least 10 characters; the email
    /// is lowercased and must be unused (CONFLICT otherwise). New accounts are users; an
    /// operator makes admins with `jobcollector admin grant`. One `register` or `login` per
    /// operation.
    async fn register(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<AuthPayload> {
        let s = state(ctx);
        let session = accounts::register(&s.db, &s.keys, &email, password).await?;
        Ok(AuthPayload {
            token: session.token,
            user: User::from(session.user),
        })
    }

    /// Signs in. A wrong email or password gives UNAUTHENTICATED without saying which; after
    /// repeated failures (for this email from this address, from this address for any email,
    /// or for this email from many addresses within a minute), RATE_LIMITED with
    /// `extensions.retryAfter` seconds.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<AuthPayload> {
        let s = state(ctx);
        let session = accounts::login(
            &s.db,
            &s.keys,
            &s.login_throttle,
            &email,
            password,
            client_addr(ctx),
        )
        .await?;
        Ok(AuthPayload {
            token: session.token,
            user: User::from(session.user),
        })
    }

    /// Changes the signed-in user's password (the new one needs at least 10 characters) after
    /// checking the current one (UNAUTHENTICATED when wrong). Every token issued before —
    /// this one included — stops working; the returned token is the one that works.
    #[graphql(guard = "Access::User")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> ApiResult<AuthPayload> {
        let me = require_user(ctx).await?;
        let s = state(ctx);
        let session =
            accounts::change_password(&s.db, &s.keys, &me, current_password, new_password).await?;
        Ok(AuthPayload {
            token: session.token,
            user: User::from(session.user),
        })
    }

    /// Revokes every token of the signed-in user, this one included (sign in again after).
    #[graphql(guard = "Access::User")]
    async fn sign_out_everywhere(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let me = require_user(ctx).await?;
        accounts::sign_out_everywhere(&state(ctx).db, &me).await?;
        Ok(true)
    }

    /// Deletes the signed-in user's account and everything of it — resume and its file,
    /// matches, tailored documents, preferences — after checking the password
    /// (UNAUTHENTICATED when wrong). Jobs still queued for it do nothing. There is no undo:
    /// `GET /me/export` first to keep a copy.
    #[graphql(guard = "Access::User")]
    async fn delete_account(&self, ctx: &Context<'_>, password: String) -> ApiResult<bool> {
        let me = require_user(ctx).await?;
        accounts::delete_account(&state(ctx).db, &me, password).await?;
        Ok(true)
    }
}
