//! The `users` table as accounts: creating one, finding one by email or id, granting the admin
//! role, a new password hash, revoking every token (the token version), deleting an account
//! with everything of it, and everything stored about it ([`export`]). Passwords and tokens
//! are the API's (`api::auth`); this holds the rows.

use chrono::Utc;
use entity::{AssignmentStatus, Email, Role, user};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

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

/// Revokes every token of the account: bumps its token version (and sets `password_hash`
/// when given, in the same statement). Returns the account as it now is.
pub async fn revoke_tokens(
    db: &DatabaseConnection,
    id: i64,
    password_hash: Option<String>,
) -> Result<user::Model> {
    let mut update = user::Entity::update_many()
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()));
    if let Some(hash) = password_hash {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash));
    }
    update.filter(user::Column::Id.eq(id)).exec(db).await?;
    by_id(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))
}

/// Deletes the account and everything of it in one transaction: its alert state, matches,
/// tailored documents, resume file, and the account; the LLM ledger keeps its calls without the user.
/// Jobs still queued for it find no user and do nothing. `false` when there was no account.
pub async fn delete(db: &DatabaseConnection, id: i64) -> Result<bool> {
    use entity::{llm_call, resume_file, tailored_document, user_alert, user_job_match};
    let tx = db.begin().await?;
    user_alert::Entity::delete_many()
        .filter(user_alert::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    user_job_match::Entity::delete_many()
        .filter(user_job_match::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    tailored_document::Entity::delete_many()
        .filter(tailored_document::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    resume_file::Entity::delete_many()
        .filter(resume_file::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    llm_call::Entity::update_many()
        .col_expr(llm_call::Column::UserId, Expr::value(Option::<i64>::None))
        .filter(llm_call::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    let deleted = user::Entity::delete_by_id(id).exec(&tx).await?;
    tx.commit().await?;
    Ok(deleted.rows_affected == 1)
}

/// Everything stored about the account, as one JSON document: the account (without its
/// password hash), its preferences and alert state (not the webhook secret), its resume (text, and the uploaded file's details), its
/// matches with their listings' title, company and link, and its tailored documents. The
/// LLM ledger's rows hold no personal data beyond token counts and are left out.
pub async fn export(db: &DatabaseConnection, id: i64) -> Result<Option<serde_json::Value>> {
    use entity::{job_listing, resume_file, tailored_document, user_job_match};
    use serde_json::json;
    let Some(user) = by_id(db, id).await? else {
        return Ok(None);
    };
    let file = resume_file::Entity::find()
        .filter(resume_file::Column::UserId.eq(id))
        .one(db)
        .await?;
    let matches = user_job_match::Entity::find()
        .filter(user_job_match::Column::UserId.eq(id))
        .order_by_asc(user_job_match::Column::Id)
        .find_also_related(job_listing::Entity)
        .all(db)
        .await?;
    let alerts = entity::user_alert::Entity::find_by_id(id).one(db).await?;
    let documents = tailored_document::Entity::find()
        .filter(tailored_document::Column::UserId.eq(id))
        .order_by_asc(tailored_document::Column::Id)
        .all(db)
        .await?;
    Ok(Some(json!({
        "exportedAt": Utc::now(),
        "account": {
            "id": user.id,
            "email": user.email.as_str(),
            "role": user.role.as_str(),
            "createdAt": user.created_at,
            "updatedAt": user.updated_at,
        },
        "preferences": user.preferences.clone().unwrap_or_default(),
        "alerts": alerts.map(|a| json!({
            "emailVerifiedAt": a.email_verified_at,
            "verifiedEmail": a.verified_email,
            "webhookSecretSet": a.webhook_secret.is_some(),
            "webhookFailures": a.webhook_failures,
            "webhookDisabledReason": a.webhook_disabled_reason,
            "lastError": a.last_error,
            "lastSentAt": a.last_sent_at,
        })),
        "resume": {
            "text": user.resume_text,
            "updatedAt": user.resume_updated_at,
            "file": file.map(|f| json!({
                "fileName": f.file_name,
                "contentType": f.content_type,
                "sizeBytes": f.size_bytes,
                "uploadedAt": f.uploaded_at,
                "pages": f.pages,
                "download": "/files/resume",
            })),
        },
        "categoryAssignment": {
            "categoryId": user.search_category_id,
            "status": user.category_status.as_str(),
            "method": user.category_method.map(|m| m.as_str()),
            "assignedAt": user.category_assigned_at,
            "error": user.category_error,
        },
        "matches": matches.iter().map(|(m, listing)| json!({
            "jobListingId": m.job_listing_id,
            "title": listing.as_ref().map(|l| l.title.clone()),
            "company": listing.as_ref().map(|l| l.company.clone()),
            "jobUrl": listing.as_ref().map(|l| l.job_url.clone()),
            "score": m.match_score.value(),
            "reason": m.match_reason,
            "matchedSkills": m.matched_skills.0,
            "missingSkills": m.missing_skills.0,
            "method": m.method.as_str(),
            "status": m.status.as_str(),
            "hidden": m.hidden,
            "scoredAt": m.scored_at,
        })).collect::<Vec<_>>(),
        "tailoredDocuments": documents.iter().map(|d| json!({
            "id": d.id,
            "jobListingId": d.job_listing_id,
            "kind": d.kind.as_str(),
            "status": d.status.as_str(),
            "markdown": d.markdown,
            "changes": d.changes,
            "warnings": d.warnings.0,
            "createdAt": d.created_at,
        })).collect::<Vec<_>>(),
    })))
}
