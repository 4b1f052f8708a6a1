//! Who is calling: decided once per request from the `Authorization` header, and from where
//! (the peer address of the connection).

use async_graphql::Context;
use entity::{Role, user};
use tokio::sync::OnceCell;

use crate::auth::accounts;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What the request's `Authorization` header held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// No header: an anonymous caller.
    None,
    /// A token with a good signature and expiry (whether the account still honours it is
    /// checked when the user is loaded).
    Token(crate::auth::Verified),
    /// A header that is malformed, forged or expired.
    Invalid,
}

/// Per-request authentication, inserted by the HTTP handler; the user row is loaded at most
/// once per request, on first use.
#[derive(Debug)]
pub struct RequestAuth {
    credentials: Credentials,
    user: OnceCell<Option<user::Model>>,
    /// A WebSocket connection's auth lives as long as the connection: its user is loaded (and
    /// the token version checked) for every use, so a token revoked while the socket is open
    /// stops working on it at once.
    per_use: bool,
}

impl RequestAuth {
    /// Reads a `Bearer` token from the header value, if any.
    pub fn from_header(header: Option<&str>, state: &AppState) -> Self {
        let credentials = match header {
            None => Credentials::None,
            Some(value) => match value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
            {
                Some(token) => state
                    .keys
                    .verify(token.trim())
                    .map_or(Credentials::Invalid, Credentials::Token),
                None => Credentials::Invalid,
            },
        };
        Self {
            credentials,
            user: OnceCell::new(),
            per_use: false,
        }
    }

    /// Like [`RequestAuth::from_header`], for a WebSocket connection: checked on every use.
    pub fn for_connection(header: Option<&str>, state: &AppState) -> Self {
        Self {
            per_use: true,
            ..Self::from_header(header, state)
        }
    }

    /// The user id a valid token names (the account is not checked), for logs.
    pub fn user_id(&self) -> Option<i64> {
        match self.credentials {
            Credentials::Token(v) => Some(v.user_id),
            _ => None,
        }
    }
}

const INVALID_TOKEN: &str = "the token is invalid or has expired: sign in again";

/// The signed-in user, `None` for an anonymous caller. A bad token, a token whose account no
/// longer exists, or one revoked since (password changed, signed out everywhere) is
/// `UNAUTHENTICATED` rather than anonymous, so clients learn to sign in.
pub async fn current_user(ctx: &Context<'_>) -> ApiResult<Option<user::Model>> {
    let state = ctx.data_unchecked::<AppState>();
    let Some(auth) = ctx.data_opt::<RequestAuth>() else {
        return Ok(None);
    };
    let verified = match auth.credentials {
        Credentials::None => return Ok(None),
        Credentials::Invalid => return Err(ApiError::Unauthenticated(INVALID_TOKEN)),
        Credentials::Token(v) => v,
    };
    let user = if auth.per_use {
        accounts::honoured(&state.db, verified).await?
    } else {
        auth.user
            .get_or_try_init(|| accounts::honoured(&state.db, verified))
            .await?
            .clone()
    };
    match user {
        Some(user) => Ok(Some(user)),
        None => Err(ApiError::Unauthenticated(INVALID_TOKEN)),
    }
}

/// The signed-in user, or `UNAUTHENTICATED` (loaded once per request: after a guard passed,
/// this reads what the guard loaded).
pub async fn require_user(ctx: &Context<'_>) -> ApiResult<user::Model> {
    current_user(ctx).await?.ok_or(ApiError::Unauthenticated(
        "sign in first: send Authorization: Bearer <token>",
    ))
}

/// Who may resolve a field, decided before its resolver runs:
/// `#[graphql(guard = "Access::Admin")]`. A field without a guard is open to anonymous callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any signed-in user (`UNAUTHENTICATED` otherwise).
    User,
    /// Admins only (`FORBIDDEN` for other users, `UNAUTHENTICATED` for anonymous callers).
    Admin,
}

impl async_graphql::Guard for Access {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let user = require_user(ctx).await?;
        if *self == Access::Admin && user.role != Role::Admin {
            return Err(ApiError::Forbidden("this operation is for admins only").into());
        }
        Ok(())
    }
}

/// The client's address, inserted by the HTTP and WebSocket handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Where the request came from; the unspecified address when no handler said (schema tests).
pub fn client_addr(ctx: &Context<'_>) -> std::net::IpAddr {
    ctx.data_opt::<ClientAddr>()
        .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
            c.0
        })
}

/// The shared state.
pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}
