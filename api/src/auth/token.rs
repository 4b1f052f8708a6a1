//! Signed session tokens (JWT, HS256).

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::config::AuthConfig;
use crate::error::{ApiError, ApiResult};

const ISSUER: &str = "jobcollector";

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// Set only on a download link's token: the document and format it opens. A session
    /// token never has it, and a link's token is never a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The account's token version when the token was issued: a token whose version is not
    /// the account's current one is revoked.
    #[serde(default)]
    pub ver: i32,
}

/// What a good token says: whose it is, and the token version it was issued under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    pub version: i32,
}

impl Verified {
    /// Whether `user` still honours the token (the version was not bumped since).
    pub fn current_for(&self, user: &entity::user::Model) -> bool {
        user.id == self.user_id && user.token_version == self.version
    }
}

/// Signing and verification keys, built once from config.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from the configured secret. Without one (development only) a random secret is
    /// made, so tokens do not survive a restart.
    pub fn new(config: &AuthConfig) -> Self {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone().into_bytes(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random per-process secret (development only)"
                );
                random_secret()
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            ttl: config.token_ttl,
        }
    }

    /// A token for this user at its current token version, valid for the configured time.
    pub fn issue(&self, user: &entity::user::Model) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_owned(),
            doc: None,
            ver: user.token_version,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// A token for a download link: it opens document `document` as `format` for `user_id`,
    /// for `ttl`, and nothing else.
    pub fn issue_link(
        &self,
        user: &entity::user::Model,
        document: i64,
        format: &str,
        ttl: Duration,
    ) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            iat: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(300),
            iss: ISSUER.to_owned(),
            doc: Some(format!("{document}/{format}")),
            ver: user.token_version,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// The user a download link's token was issued to, if it is good and for exactly this
    /// document and format.
    pub fn verify_link(&self, token: &str, document: i64, format: &str) -> ApiResult<Verified> {
        let refused = || ApiError::Unauthenticated("the link is invalid or has expired");
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| refused())?;
        if data.claims.doc.as_deref() != Some(format!("{document}/{format}").as_str()) {
            return Err(refused());
        }
        Ok(Verified {
            user_id: data.claims.sub.parse().map_err(|_| refused())?,
            version: data.claims.ver,
        })
    }

    /// Whose a token is, if its signature, issuer and expiry are good (whether the account
    /// still honours it is [`Verified::current_for`]).
    pub fn verify(&self, token: &str) -> ApiResult<Verified> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| {
            ApiError::Unauthenticated("the token is invalid or has expired: sign in again")
        })?;
        if data.claims.doc.is_some() {
            return Err(ApiError::Unauthenticated(
                "a download link's token is not a session: sign in",
            ));
        }
        Ok(Verified {
            user_id: data.claims.sub.parse().map_err(|_| {
                ApiError::Unauthenticated("the token is invalid or has expired: sign in again")
            })?,
            version: data.claims.ver,
        })
    }
}

/// 32 bytes from the operating system's random source.
fn random_secret() -> Vec<u8> {
    let mut secret = argon2::password_hash::generate_salt().to_vec();
    secret.extend_from_slice(&argon2::password_hash::generate_salt());
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, ttl: Duration) -> TokenKeys {
        TokenKeys::new(&AuthConfig {
            jwt_secret: Some(secret.into()),
            token_ttl: ttl,
            login: crate::config::LoginLimits::default(),
        })
    }

    #[test]
    fn a_token_round_trips_and_other_keys_reject_it() {
        let k = keys("s".repeat(32).as_str(), Duration::from_secs(60));
        let user = entity::user::Model {
            id: 42,
            token_version: 3,
            ..test_user()
        };
        let token = k.issue(&user).expect("issue");
        let verified = k.verify(&token).expect("valid");
        assert_eq!(
            verified,
            Verified {
                user_id: 42,
                version: 3
            }
        );
        assert!(verified.current_for(&user));
        let bumped = entity::user::Model {
            token_version: 4,
            ..user.clone()
        };
        assert!(
            !verified.current_for(&bumped),
            "a bumped version revokes it"
        );
        assert!(
            keys("t".repeat(32).as_str(), Duration::from_secs(60))
                .verify(&token)
                .is_err()
        );
        assert!(k.verify("not.a.token").is_err());
    }

    fn test_user() -> entity::user::Model {
        let now = Utc::now();
        entity::user::Model {
            id: 1,
            email: "a@example.com".parse().expect("email"),
            password_hash: String::new(),
            role: entity::Role::User,
            resume_text: None,
            resume_hash: None,
            resume_updated_at: None,
            search_category_id: None,
            category_status: entity::AssignmentStatus::None,
            category_method: None,
            category_assigned_at: None,
            category_error: None,
            created_at: now,
            updated_at: now,
            preferences: None,
            token_version: 0,
        }
    }
}
