//! Registering, signing in, the tokens an account still honours, changing the password,
//! signing out everywhere, deleting an account, and granting the admin role.

use std::net::IpAddr;

use entity::{Email, user};
use sea_orm::DatabaseConnection;

use super::{LoginThrottle, TokenKeys, Verified, password};
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
    let token = keys.issue(&user)?;
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
    let token = keys.issue(&user)?;
    Ok(Session { token, user })
}

/// The user a verified token names, if the account still exists and the token was not
/// revoked since it was issued.
pub async fn honoured(db: &DatabaseConnection, token: Verified) -> ApiResult<Option<user::Model>> {
    Ok(jobs::accounts::by_id(db, token.user_id)
        .await?
        .filter(|user| token.current_for(user)))
}

/// Checks `password_text` against the account's password: `UNAUTHENTICATED` when wrong.
async fn confirm_password(
    user: &user::Model,
    password_text: String,
    what: &'static str,
) -> ApiResult<()> {
    if password::verify(password_text, user.password_hash.clone()).await? {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated(what))
    }
}

/// Sets a new password after checking the current one; every token issued before stops
/// working, and the returned session's token is the one that works.
pub async fn change_password(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    user: &user::Model,
    current: String,
    new: String,
) -> ApiResult<Session> {
    confirm_password(user, current, "the current password is incorrect").await?;
    password::check_rules(&new)?;
    let hash = password::hash(new).await?;
    let user = jobs::accounts::revoke_tokens(db, user.id, Some(hash)).await?;
    let token = keys.issue(&user)?;
    Ok(Session { token, user })
}

/// Revokes every token of the account, the caller's own included.
pub async fn sign_out_everywhere(db: &DatabaseConnection, user: &user::Model) -> ApiResult<()> {
    jobs::accounts::revoke_tokens(db, user.id, None).await?;
    Ok(())
}

/// Deletes the account and everything of it, after checking its password.
pub async fn delete_account(
    db: &DatabaseConnection,
    user: &user::Model,
    password_text: String,
) -> ApiResult<()> {
    confirm_password(user, password_text, "the password is incorrect").await?;
    jobs::accounts::delete(db, user.id).await?;
    tracing::info!(user_id = user.id, "account deleted");
    Ok(())
}

/// Makes the account with this email an admin; `NotFound` if there is none.
pub async fn grant_admin(db: &DatabaseConnection, email: &str) -> ApiResult<()> {
    let email: Email = email.parse()?;
    Ok(jobs::accounts::grant_admin(db, &email).await?)
}
