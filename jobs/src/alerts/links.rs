//! Signed links in alert emails: one-click unsubscribe (no expiry: an old email's link keeps
//! working) and email verification (for one address, for seven days). A token is
//! `{purpose}.{user id}.{fields…}.{HMAC-SHA256 hex}`, keyed by a secret derived from
//! `JWT_SECRET`, so the API and every worker process verify what any of them signed.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// How long a verification link works.
const VERIFY_FOR_SECS: i64 = 7 * 24 * 3600;

/// The key for alert links, derived from the session secret (never the secret itself).
pub fn derive_key(session_secret: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"jobcollector alert links\0");
    h.update(session_secret);
    h.finalize().to_vec()
}

fn mac(key: &[u8], message: &str) -> String {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(message.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn signed(key: &[u8], message: String) -> String {
    let tag = mac(key, &message);
    format!("{message}.{tag}")
}

/// Splits `token` into its fields if its tag is good (compared in constant time).
fn open<'a>(key: &[u8], token: &'a str) -> Option<Vec<&'a str>> {
    let (message, tag) = token.rsplit_once('.')?;
    let tag = hex::decode(tag).ok()?;
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).ok()?;
    m.update(message.as_bytes());
    m.verify_slice(&tag).ok()?;
    Some(message.split('.').collect())
}

/// A short fingerprint of an address, so a verification link is for that address only.
fn address_tag(email: &str) -> String {
    hex::encode(&Sha256::digest(email.to_lowercase().as_bytes())[..8])
}

/// The token of `user_id`'s unsubscribe link.
pub fn unsubscribe_token(key: &[u8], user_id: i64) -> String {
    signed(key, format!("unsub.{user_id}"))
}

/// The user an unsubscribe token was made for, if it is good.
pub fn check_unsubscribe(key: &[u8], token: &str) -> Option<i64> {
    match open(key, token)?.as_slice() {
        ["unsub", id] => id.parse().ok(),
        _ => None,
    }
}

/// The token of a link verifying `email` for `user_id`, good for seven days from `now`.
pub fn verify_token(key: &[u8], user_id: i64, email: &str, now: i64) -> String {
    signed(
        key,
        format!(
            "verify.{user_id}.{}.{}",
            address_tag(email),
            now + VERIFY_FOR_SECS
        ),
    )
}

/// The user a verification token was made for, if it is good, unexpired at `now`, and for
/// `email` (the account's current address).
pub fn check_verify(
    key: &[u8],
    token: &str,
    email_of: impl Fn(i64) -> Option<String>,
    now: i64,
) -> Option<i64> {
    let fields = open(key, token)?;
    let ["verify", id, tag, expires] = fields.as_slice() else {
        return None;
    };
    let id: i64 = id.parse().ok()?;
    let expires: i64 = expires.parse().ok()?;
    let email = email_of(id)?;
    (expires >= now && *tag == address_tag(&email)).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_are_signed_for_one_user() {
        let key = derive_key(b"a session secret of some length");
        let token = unsubscribe_token(&key, 42);
        assert_eq!(check_unsubscribe(&key, &token), Some(42));
        assert_eq!(
            check_unsubscribe(&key, &token.replace("unsub.42", "unsub.43")),
            None
        );
        assert_eq!(
            check_unsubscribe(&derive_key(b"another secret"), &token),
            None
        );
        assert_eq!(check_unsubscribe(&key, "unsub.42.00"), None);
        assert_eq!(check_unsubscribe(&key, "garbage"), None);
    }

    #[test]
    fn verification_is_for_one_address_and_expires() {
        let key = derive_key(b"secret");
        let token = verify_token(&key, 7, "Kim@Example.com", 1_000);
        let kim = |_| Some("kim@example.com".to_owned());
        assert_eq!(check_verify(&key, &token, kim, 2_000), Some(7));
        assert_eq!(
            check_verify(
                &key,
                &token,
                |_| Some("other@example.com".to_owned()),
                2_000
            ),
            None,
            "the address changed since"
        );
        assert_eq!(
            check_verify(&key, &token, kim, 1_000 + VERIFY_FOR_SECS + 1),
            None
        );
        assert_eq!(
            check_verify(&key, &unsubscribe_token(&key, 7), kim, 2_000),
            None
        );
    }
}
