//! Authentication for in-process tests: a fixed secret, cheap password hashing, users in the DB.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use vorgang::auth::{Auth, LoginLimiter, LoginLimits, Passwords, Signer, StaffToken, StaffTokens};
use vorgang::db::DbConnection;
use vorgang::db::models::{NewUser, Organisation, Role, User};
use vorgang::secret::Secret;
use vorgang::web::client_addr::TrustedProxies;

/// The signing secret of in-process test servers.
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// The secret as the server holds it.
pub fn test_secret() -> Secret {
    Secret::from_configured(TEST_SECRET).unwrap()
}

/// Password hashing with the cheapest argon2 parameters: tests hash many passwords. Production
/// uses `Passwords::new()` (argon2's defaults); stored hashes carry their own parameters.
pub fn cheap_passwords() -> Passwords {
    Passwords::with_params(argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None).unwrap())
}

/// The auth state of an in-process app: test secret, default token lifetime, cheap hashing,
/// default login limits (5 failures per 15 minutes).
pub fn test_auth() -> web::Data<Auth> {
    test_auth_with(cheap_passwords())
}

/// Like [`test_auth`], with the given password hashing.
pub fn test_auth_with(passwords: Passwords) -> web::Data<Auth> {
    web::Data::new(auth_parts(passwords))
}

/// Like [`test_auth`], behind the reverse proxies `proxies` (as `trusted_proxies` names them).
pub fn test_auth_behind(proxies: &str) -> web::Data<Auth> {
    test_auth_behind_proxies(TrustedProxies::parse(proxies).unwrap())
}

/// Like [`test_auth`], behind `proxies` (with the header they write).
pub fn test_auth_behind_proxies(proxies: TrustedProxies) -> web::Data<Auth> {
    web::Data::new(auth_parts(cheap_passwords()).with_trusted_proxies(proxies))
}

/// Like [`test_auth_behind`], the proxies naming the logged-in user in `header`.
pub fn test_auth_with_proxy_login(proxies: &str, header: &str) -> web::Data<Auth> {
    web::Data::new(
        auth_parts(cheap_passwords())
            .with_trusted_proxies(TrustedProxies::parse(proxies).unwrap())
            .with_proxy_login(Some(vorgang::auth::ProxyLogin::parse(header).unwrap())),
    )
}

fn auth_parts(passwords: Passwords) -> Auth {
    Auth::new(
        StaffTokens::new(
            Arc::new(Signer::new(&test_secret())),
            StaffTokens::DEFAULT_LIFETIME,
        ),
        passwords,
        LoginLimiter::new(LoginLimits {
            max_failures: NonZeroU32::new(5).unwrap(),
            window: Duration::from_secs(15 * 60),
        }),
    )
}

/// Creates a user of the organisation with this key, with roles and (optionally) a password.
pub fn create_user(
    conn: &mut DbConnection,
    email: &str,
    org_key: &str,
    roles: &[Role],
    password: Option<&str>,
) -> User {
    let organisation = Organisation::find_by_key(conn, org_key).unwrap().unwrap();
    let mut new_user = NewUser::new(organisation.id, email, "Test Person");
    new_user.password_hash = password.map(|p| cheap_passwords().hash(p).unwrap());
    new_user.create(conn, roles).unwrap()
}

/// A bearer token for `user`, as `POST /api/v1/auth/token` would issue it with the test secret.
pub fn staff_token(user: &User) -> String {
    StaffTokens::new(
        Arc::new(Signer::new(&test_secret())),
        StaffTokens::DEFAULT_LIFETIME,
    )
    .issue(StaffToken::of(user))
    .unwrap()
    .token
}
