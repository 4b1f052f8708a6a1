//! Accounts and authentication.
//!
//! - [`password`]: argon2id hashing and verification, off the async threads.
//! - [`token`]: HS256 JWTs that name a user; the role is read from the database on each use,
//!   so a promotion or demotion takes effect at once.
//! - [`accounts`]: register, login, admin grants.

pub mod accounts;
pub mod password;
pub mod token;

pub use token::TokenKeys;
