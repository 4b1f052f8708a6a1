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

    /// A token for this user, valid for the configured time.
    pub fn issue(&self, user_id: i64) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_owned(),
            doc: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// A token for a download link: it opens document `document` as `format` for `user_id`,
    /// for `ttl`, and nothing else.
    pub fn issue_link(
        &self,
        user_id: i64,
        document: i64,
        format: &str,
        ttl: Duration,
    ) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(300),
            iss: ISSUER.to_owned(),
            doc: Some(format!("{document}/{format}")),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// The user a download link's token was issued to, if it is good and for exactly this
    /// document and format.
    pub fn verify_link(&self, token: &str, document: i64, format: &str) -> ApiResult<i64> {
        let refused = || ApiError::Unauthenticated("the link is invalid or has expired");
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| refused())?;
        if data.claims.doc.as_deref() != Some(format!("{document}/{format}").as_str()) {
            return Err(refused());
        }
        data.claims.sub.parse().map_err(|_| refused())
    }

    /// The user id a token names, if its signature, issuer and expiry are good.
    pub fn verify(&self, token: &str) -> ApiResult<i64> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| {
            ApiError::Unauthenticated("the token is invalid or has expired: sign in again")
        })?;
        if data.claims.doc.is_some() {
            return Err(ApiError::Unauthenticated(
                "a download link's token is not a session: sign in",
            ));
        }
        data.claims.sub.parse().map_err(|_| {
            ApiError::Unauthenticated("the token is invalid or has expired: sign in again")
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
        let token = k.issue(42).expect("issue");
        assert_eq!(k.verify(&token).expect("valid"), 42);
        assert!(
            keys("t".repeat(32).as_str(), Duration::from_secs(60))
                .verify(&token)
                .is_err()
        );
        assert!(k.verify("not.a.token").is_err());
    }
}
