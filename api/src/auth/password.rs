//! Password rules and argon2id hashes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::{ApiError, ApiResult};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted (bounds the hashing work one request can cause).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Checks the length rules; the message is safe to show.
pub fn check_rules(password: &str) -> ApiResult<()> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(ApiError::Validation {
            field: "password",
            message: format!("must be at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    if len > MAX_PASSWORD_LEN {
        return Err(ApiError::Validation {
            field: "password",
            message: format!("must be at most {MAX_PASSWORD_LEN} characters"),
        });
    }
    Ok(())
}

/// Hashes a password to a PHC string with a fresh random salt.
pub async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hash failed: {e}")))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Whether `password` matches the PHC string. A malformed stored hash is an internal error.
pub async fn verify(password: String, phc: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(ApiError::internal)?
}

/// A valid hash of a random password, verified against when an email is unknown so that a
/// failed login takes the same time whether or not the account exists.
pub async fn decoy_hash() -> &'static str {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY
        .get_or_init(|| async {
            hash(format!("decoy-{}", std::process::id()))
                .await
                .unwrap_or_default()
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let phc = hash("correct horse battery".into()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), phc.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse battery".into(), phc)
                .await
                .expect("verify")
        );
    }

    #[test]
    fn length_rules() {
        assert!(check_rules("short").is_err());
        assert!(check_rules(&"x".repeat(MIN_PASSWORD_LEN)).is_ok());
        assert!(check_rules(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }
}
