//! `me`, `register`, `login`.

use async_graphql::{Context, Object};

use super::context::{client_addr, current_user, state};
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
        Ok(current_user(ctx).await?.map(User))
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
            user: User(session.user),
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
            user: User(session.user),
        })
    }
}
