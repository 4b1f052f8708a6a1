//! Registering, signing in, and granting the admin role.

use std::net::IpAddr;

use entity::{Email, user};
use sea_orm::DatabaseConnection;

use super::{LoginThrottle, TokenKeys, password};
use crate::error::{ApiError, ApiResult};

/// The one message for every failed login: it never says which part was wrong.
pub const LOGIN_FAILED: &str = "the email or password is incorrect";

/// A signed-in session: the token and its user.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub user: user::Model,
}

/// Creates an account, always with the user role: typing an address proves nothing, so admins
/// are made only by [`grant_admin`] (`jobcollector admin grant`).
pub async fn register(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    email: &str,
    password_text: String,
) -> ApiResult<Session> {
    let email: Email = email.parse()?;
    password::check_rules(&password_text)?;
    let password_hash = password::hash(password_text).await?;
    let user = jobs::accounts::create(db, email, password_hash).await?;
    let token = keys.issue(user.id)?;
    Ok(Session { token, user })
}

/// Signs in from `client`. Unknown emails and wrong passwords fail the same way, in the same
/// time. Something that is not an email is a VALIDATION error, checked before anything is
/// remembered. After too many failures ([`LoginThrottle`]), `RATE_LIMITED` until the window ends.
pub async fn login(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    throttle: &LoginThrottle,
    email: &str,
    password_text: String,
    client: IpAddr,
) -> ApiResult<Session> {
    let email: Email = email.parse()?;
    let key = email.as_str();
    throttle
        .begin(key, client)
        .map_err(|wait| ApiError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        })?;
    let found = jobs::accounts::by_email(db, &email).await?;
    let matched = match &found {
        Some(user) => password::verify(password_text, user.password_hash.clone()).await?,
        None => {
            password::verify(password_text, password::decoy_hash().await.to_owned()).await?;
            false
        }
    };
    let Some(user) = found.filter(|_| matched) else {
        return Err(ApiError::Unauthenticated(LOGIN_FAILED));
    };
    throttle.succeeded(key, client);
    let token = keys.issue(user.id)?;
    Ok(Session { token, user })
}

/// The user a verified token names, if the account still exists.
pub async fn find_user(db: &DatabaseConnection, id: i64) -> ApiResult<Option<user::Model>> {
    Ok(jobs::accounts::by_id(db, id).await?)
}

/// Makes the account with this email an admin; `NotFound` if there is none.
pub async fn grant_admin(db: &DatabaseConnection, email: &str) -> ApiResult<()> {
    let email: Email = email.parse()?;
    Ok(jobs::accounts::grant_admin(db, &email).await?)
}
