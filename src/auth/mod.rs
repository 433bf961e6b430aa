//! Authentication and permissions: passwords, access tokens, the [`Principal`] of a request,
//! failed-login limits, the permission matrix, and the `vorgang user` command.

pub mod cli;
pub mod internal;
pub mod limiter;
pub mod login;
pub mod password;
pub mod permissions;
pub mod principal;
pub mod proxy_login;
pub mod session;
pub mod token;

use std::sync::Arc;

pub use internal::InternalReader;
pub use limiter::{CountedKey, LimitKey, LoginLimiter, LoginLimits};
pub use password::Passwords;
pub use permissions::{CaseScope, Denied, Permission, authorize, workflow_roles};
pub use principal::{Caller, Principal};
pub use proxy_login::ProxyLogin;
pub use token::{Signer, StaffToken, StaffTokens};

use crate::secret::Secret;
use crate::web::client_addr::TrustedProxies;

/// E-mail addresses as stored and compared: trimmed and lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Everything the HTTP layer needs for authentication, shared by all workers (as `web::Data`).
#[derive(Debug)]
pub struct Auth {
    /// Issues and verifies staff access tokens.
    pub tokens: StaffTokens,
    /// Verifies passwords at login.
    pub passwords: Passwords,
    /// Counts failed logins.
    pub limiter: LoginLimiter,
    /// Counts requests for a password reset link, so that nobody can flood a mailbox through
    /// the login page ([`RESET_LIMITS`]).
    pub reset_limiter: LoginLimiter,
    /// Reverse proxies that name the client, whose address the limiter counts.
    pub proxies: TrustedProxies,
    /// The header in which those proxies name the logged-in user, if they do
    /// (`proxy_login_header`).
    pub proxy_login: Option<ProxyLogin>,
}

/// Reset links one account, and one client address, may ask for: five an hour.
pub const RESET_LIMITS: LoginLimits = LoginLimits {
    max_failures: std::num::NonZeroU32::new(5).unwrap(),
    window: std::time::Duration::from_secs(60 * 60),
};

impl Auth {
    /// Assembles the parts; tests use it with cheap password parameters and short limits.
    pub fn new(tokens: StaffTokens, passwords: Passwords, limiter: LoginLimiter) -> Self {
        Self {
            tokens,
            passwords,
            limiter,
            reset_limiter: LoginLimiter::for_reset_links(RESET_LIMITS),
            proxies: TrustedProxies::default(),
            proxy_login: None,
        }
    }

    /// Every limit on login attempts (failed logins, then requests for reset links): what the
    /// metrics count and what an administrator sees and lifts.
    pub fn limiters(&self) -> [LoginLimiter; 2] {
        [self.limiter, self.reset_limiter]
    }

    /// The same, taking the user a trusted proxy names in `login`'s header as logged in.
    pub fn with_proxy_login(mut self, login: Option<ProxyLogin>) -> Self {
        self.proxy_login = login;
        self
    }

    /// The same, counting failures per client behind the given reverse proxies.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The production set-up: tokens signed with `secret` and valid for `token_lifetime`
    /// (`token_lifetime_minutes`), argon2id with default parameters, default login limits.
    pub fn from_secret(secret: &Secret, token_lifetime: chrono::TimeDelta) -> Self {
        Self::new(
            StaffTokens::new(Arc::new(Signer::new(secret)), token_lifetime),
            Passwords::new(),
            LoginLimiter::new(LoginLimits::default()),
        )
    }
}
