//! Accounts and authentication.
//!
//! - [`password`]: argon2id hashing and verification, off the async threads.
//! - [`token`]: HS256 JWTs that name a user; the role is read from the database on each use,
//!   so a promotion or demotion takes effect at once.
//! - [`accounts`]: register, login, admin grants.
//! - [`throttle`]: refuses logins for an email after repeated failures.

pub mod accounts;
pub mod password;
pub mod throttle;
pub mod token;

pub use throttle::LoginThrottle;
pub use token::{TokenKeys, Verified};
