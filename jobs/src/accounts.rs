//! The `users` table as accounts: creating one, finding one by email or id, granting the admin
//! role. Passwords and tokens are the API's (`api::auth`); this holds the rows.

use chrono::Utc;
use entity::{AssignmentStatus, Email, Role, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{Error, Result};

/// Creates an account with the user role and this password hash; `Conflict` when the email is
/// taken (whatever its case: emails are stored lowercased).
pub async fn create(
    db: &DatabaseConnection,
    email: Email,
    password_hash: String,
) -> Result<user::Model> {
    let now = Utc::now();
    let row = user::ActiveModel {
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(Role::User),
        category_status: Set(AssignmentStatus::None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    user::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "an account with this email already exists"))
}

/// The account with this email, if any.
pub async fn by_email(db: &DatabaseConnection, email: &Email) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.clone()))
        .one(db)
        .await?)
}

/// The account with this id, if it still exists.
pub async fn by_id(db: &DatabaseConnection, id: i64) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Gives the account with this email the admin role; `NotFound` if there is none.
pub async fn grant_admin(db: &DatabaseConnection, email: &Email) -> Result<()> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(Role::Admin))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Email.eq(email.clone()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::NotFound(format!("no account has the email {email}")));
    }
    Ok(())
}
