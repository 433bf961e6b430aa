//! Authentication: argon2id passwords and signed access tokens.

pub mod password;
pub mod token;

pub use password::Passwords;
pub use token::{Signer, StaffTokens};
