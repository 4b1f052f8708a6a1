//! Registering, signing in, and granting the admin role.

use chrono::Utc;
use entity::{AssignmentStatus, Email, Role, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

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

/// Creates an account. Emails listed as admins get the admin role.
pub async fn register(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    admin_emails: &[Email],
    email: &str,
    password_text: String,
) -> ApiResult<Session> {
    let email: Email = email.parse()?;
    password::check_rules(&password_text)?;
    let role = if admin_emails.contains(&email) {
        Role::Admin
    } else {
        Role::User
    };
    let password_hash = password::hash(password_text).await?;
    let now = Utc::now();
    let row = user::ActiveModel {
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(role),
        category_status: Set(AssignmentStatus::None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let user = user::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            ApiError::from(jobs::Error::conflict_on_unique(
                e,
                "an account with this email already exists",
            ))
        })?;
    let token = keys.issue(user.id)?;
    Ok(Session { token, user })
}

/// Signs in. Unknown emails and wrong passwords fail the same way, in the same time.
/// After too many failures for one email, `RATE_LIMITED` until the throttle's window ends.
pub async fn login(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    throttle: &LoginThrottle,
    email: &str,
    password_text: String,
) -> ApiResult<Session> {
    let key = email.trim().to_lowercase();
    throttle.check(&key).map_err(|wait| ApiError::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    })?;
    let found = match email.parse::<Email>() {
        Ok(email) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let matched = match &found {
        Some(user) => password::verify(password_text, user.password_hash.clone()).await?,
        None => {
            password::verify(password_text, password::decoy_hash().await.to_owned()).await?;
            false
        }
    };
    let Some(user) = found.filter(|_| matched) else {
        throttle.record_failure(&key);
        return Err(ApiError::Unauthenticated(LOGIN_FAILED));
    };
    throttle.reset(&key);
    let token = keys.issue(user.id)?;
    Ok(Session { token, user })
}

/// The user a verified token names, if the account still exists.
pub async fn find_user(db: &DatabaseConnection, id: i64) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Makes the account with this email an admin; `NotFound` if there is none.
pub async fn grant_admin(db: &DatabaseConnection, email: &str) -> ApiResult<()> {
    let email: Email = email.parse()?;
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(Role::Admin.as_str()))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Email.eq(email.clone()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(ApiError::NotFound(format!(
            "no account has the email {email}"
        )));
    }
    Ok(())
}

/// Promotes existing accounts whose emails are in `ADMIN_EMAILS` (run at start), so adding an
/// email to the list works for accounts made before. Returns how many were promoted.
pub async fn promote_configured_admins(
    db: &DatabaseConnection,
    admin_emails: &[Email],
) -> ApiResult<u64> {
    if admin_emails.is_empty() {
        return Ok(0);
    }
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(Role::Admin.as_str()))
        .filter(user::Column::Email.is_in(admin_emails.iter().cloned()))
        .filter(user::Column::Role.ne(Role::Admin))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}
