//! Signed tokens (JWT, HS256 with the installation's secret), one audience per purpose.
//!
//! [`Signer`] is generic over a [`Purpose`]: the purpose fixes the `aud` claim and the claims the
//! token carries. A token minted for one purpose never verifies for another, because verification
//! requires exactly that purpose's audience. Staff access ([`StaffAccess`], [`StaffTokens`]) is
//! the first purpose; another (e.g. partner answer links) is a new `Purpose` implementation next
//! to its users and touches nothing here.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::db::models::{User, UserId};
use crate::secret::Secret;

/// The `iss` claim of every token vorgang signs, and the only one it accepts.
pub const ISSUER: &str = "vorgang";

/// The one signature algorithm, pinned on verification (no `none`, no algorithm confusion).
const ALGORITHM: Algorithm = Algorithm::HS256;

/// Clock skew tolerated between instances, in seconds (for `exp` and `iat`).
const LEEWAY_SECONDS: u64 = 30;

/// What a token is for: its audience and the claims it carries besides the registered ones.
pub trait Purpose {
    /// The `aud` claim; must differ between purposes so their tokens cannot be swapped.
    const AUDIENCE: &'static str;
    /// Purpose-specific claims, flattened into the token next to `iss`, `aud`, `iat`, `exp`.
    type Claims: Serialize + DeserializeOwned;
}

/// Why a token was refused or could not be made. The token itself is never part of it.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token has expired.
    #[error("Token abgelaufen")]
    Expired,
    /// Malformed, wrong signature, wrong algorithm, issuer or audience, or a claim is missing.
    #[error("Token ungültig: {0}")]
    Invalid(String),
    /// Signing failed (should not happen with an HMAC key).
    #[error("Token konnte nicht signiert werden: {0}")]
    Signing(String),
}

/// A freshly signed token and when it stops being valid.
#[derive(Clone)]
pub struct Issued {
    /// The compact JWT.
    pub token: String,
    /// Value of its `exp` claim.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("token", &"<verborgen>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token that passed verification: its purpose's claims and its validity period.
#[derive(Debug, Clone)]
pub struct Verified<C> {
    /// The purpose-specific claims.
    pub claims: C,
    /// The `iat` claim.
    pub issued_at: DateTime<Utc>,
    /// The `exp` claim.
    pub expires_at: DateTime<Utc>,
}

/// What is actually signed: registered claims plus the purpose's own.
#[derive(Serialize, Deserialize)]
struct Envelope<C> {
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(flatten)]
    claims: C,
}

/// Signs and verifies tokens of every purpose with the installation's secret.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<verborgen>)")
    }
}

impl Signer {
    /// A signer keyed with the secret (see [`crate::secret`]).
    pub fn new(secret: &Secret) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// Signs a token of purpose `P`, issued at `now` and valid for `lifetime`.
    pub fn issue<P: Purpose>(
        &self,
        claims: P::Claims,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
    ) -> Result<Issued, TokenError> {
        let expires_at = now + lifetime;
        let envelope = Envelope {
            iss: ISSUER.to_string(),
            aud: P::AUDIENCE.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            claims,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &envelope, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        let expires_at = DateTime::from_timestamp(envelope.exp, 0).unwrap_or(expires_at);
        Ok(Issued { token, expires_at })
    }

    /// Verifies a token of purpose `P`: HS256 only, signature, `iss`, `aud = P::AUDIENCE`, and
    /// `exp`/`iat` present and current (with a little leeway for clock skew between instances).
    pub fn verify<P: Purpose>(&self, token: &str) -> Result<Verified<P::Claims>, TokenError> {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_audience(&[P::AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        let data = jsonwebtoken::decode::<Envelope<P::Claims>>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                other => TokenError::Invalid(reason(other).into()),
            })?;
        let envelope = data.claims;
        let latest_iat = Utc::now().timestamp() + LEEWAY_SECONDS as i64;
        if envelope.iat > latest_iat {
            return Err(TokenError::Invalid("iat in the future".into()));
        }
        let (Some(issued_at), Some(expires_at)) = (
            DateTime::from_timestamp(envelope.iat, 0),
            DateTime::from_timestamp(envelope.exp, 0),
        ) else {
            return Err(TokenError::Invalid("iat or exp out of range".into()));
        };
        Ok(Verified {
            claims: envelope.claims,
            issued_at,
            expires_at,
        })
    }
}

/// Why a token was refused, for logs: fixed words only, never parts of the token or its claims.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "wrong signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "wrong algorithm",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => "malformed claims",
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => "malformed token",
        ErrorKind::ImmatureSignature => "not yet valid",
        _ => "not acceptable",
    }
}

/// The purpose of staff access tokens: sent as `Authorization: Bearer` on every API call.
#[derive(Debug)]
pub struct StaffAccess;

impl Purpose for StaffAccess {
    const AUDIENCE: &'static str = "vorgang-api";
    type Claims = StaffClaims;
}

/// Claims of a staff access token: whom it belongs to and in which of the user's token
/// generations it was issued. Roles and organisation are reloaded from the database on every
/// request, so revoking a role takes effect at once; the generation is compared with the
/// user's on every request too, so raising it (password change or reset, deactivation,
/// revocation) ends every token issued before.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffClaims {
    /// The user id, as a decimal string (JWT subjects are strings).
    pub sub: String,
    /// The user's token generation at issue. Tokens from before generations existed lack the
    /// claim and count as generation 0, the generation every user starts with.
    #[serde(rename = "gen", default)]
    pub generation: i32,
}

/// The holder of a staff token: the user, and the user's token generation it was issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffToken {
    /// The user the token belongs to.
    pub user: UserId,
    /// Must equal the user's current `token_generation` for the token to be accepted.
    pub generation: i32,
}

impl StaffToken {
    /// A token for `user` as the database holds it now (its current generation).
    pub fn of(user: &User) -> Self {
        Self {
            user: user.id,
            generation: user.token_generation,
        }
    }
}

/// Issues and verifies staff access tokens; shared by the login endpoint and the extractor.
#[derive(Debug, Clone)]
pub struct StaffTokens {
    signer: Arc<Signer>,
    lifetime: TimeDelta,
}

impl StaffTokens {
    /// How long a staff token is valid unless configured otherwise: one working day.
    pub const DEFAULT_LIFETIME: TimeDelta = TimeDelta::hours(8);

    /// Staff tokens signed by `signer`, valid for `lifetime`.
    pub fn new(signer: Arc<Signer>, lifetime: TimeDelta) -> Self {
        Self { signer, lifetime }
    }

    /// How long tokens issued now stay valid.
    pub fn lifetime(&self) -> TimeDelta {
        self.lifetime
    }

    /// A token for `holder`, issued now.
    pub fn issue(&self, holder: StaffToken) -> Result<Issued, TokenError> {
        self.issue_at(holder, Utc::now())
    }

    /// A token for `holder`, issued at `now` (tests mint expired tokens with it).
    pub fn issue_at(&self, holder: StaffToken, now: DateTime<Utc>) -> Result<Issued, TokenError> {
        self.signer.issue::<StaffAccess>(
            StaffClaims {
                sub: holder.user.0.to_string(),
                generation: holder.generation,
            },
            now,
            self.lifetime,
        )
    }

    /// The holder a validly signed, unexpired staff token names. Whether its generation is still
    /// the user's is for the caller to check against the database.
    pub fn verify(&self, token: &str) -> Result<StaffToken, TokenError> {
        let claims = self.signer.verify::<StaffAccess>(token)?.claims;
        let user = claims
            .sub
            .parse::<i64>()
            .map(UserId)
            .map_err(|_| TokenError::Invalid("sub is not a user id".into()))?;
        Ok(StaffToken {
            user,
            generation: claims.generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(secret: &str) -> Signer {
        Signer::new(&Secret::from_configured(secret).unwrap())
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    /// A second purpose, standing in for the partner links of the next issue.
    struct OtherPurpose;
    impl Purpose for OtherPurpose {
        const AUDIENCE: &'static str = "vorgang-beteiligung";
        type Claims = StaffClaims;
    }

    fn claims() -> StaffClaims {
        StaffClaims {
            sub: "7".into(),
            generation: 0,
        }
    }

    #[test]
    fn a_token_verifies_for_its_own_purpose_only() {
        let signer = signer(KEY);
        let staff = signer
            .issue::<StaffAccess>(claims(), Utc::now(), TimeDelta::hours(1))
            .unwrap();
        let other = signer
            .issue::<OtherPurpose>(claims(), Utc::now(), TimeDelta::hours(1))
            .unwrap();
        assert_eq!(
            signer
                .verify::<StaffAccess>(&staff.token)
                .unwrap()
                .claims
                .sub,
            "7"
        );
        assert!(signer.verify::<OtherPurpose>(&other.token).is_ok());
        assert!(matches!(
            signer.verify::<OtherPurpose>(&staff.token),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(
            signer.verify::<StaffAccess>(&other.token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn expired_and_foreign_key_tokens_are_refused() {
        let signer = signer(KEY);
        let old = signer
            .issue::<StaffAccess>(
                claims(),
                Utc::now() - TimeDelta::hours(9),
                TimeDelta::hours(8),
            )
            .unwrap();
        assert!(matches!(
            signer.verify::<StaffAccess>(&old.token),
            Err(TokenError::Expired)
        ));
        let foreign = self::signer("fedcba9876543210fedcba9876543210")
            .issue::<StaffAccess>(claims(), Utc::now(), TimeDelta::hours(1))
            .unwrap();
        assert!(signer.verify::<StaffAccess>(&foreign.token).is_err());
    }

    #[test]
    fn staff_tokens_carry_the_user_and_the_lifetime() {
        let tokens = StaffTokens::new(Arc::new(signer(KEY)), StaffTokens::DEFAULT_LIFETIME);
        let now = Utc::now();
        let holder = StaffToken {
            user: UserId(42),
            generation: 3,
        };
        let issued = tokens.issue_at(holder, now).unwrap();
        assert_eq!(issued.expires_at.timestamp(), now.timestamp() + 8 * 3600);
        assert_eq!(tokens.verify(&issued.token).unwrap(), holder);
        assert!(!format!("{issued:?}").contains(&issued.token));
    }

    #[test]
    fn tokens_without_a_generation_count_as_the_first() {
        #[derive(Serialize, Deserialize)]
        struct Before {
            sub: String,
        }
        struct Unversioned;
        impl Purpose for Unversioned {
            const AUDIENCE: &'static str = StaffAccess::AUDIENCE;
            type Claims = Before;
        }
        let signer = Arc::new(signer(KEY));
        let issued = signer
            .issue::<Unversioned>(Before { sub: "42".into() }, Utc::now(), TimeDelta::hours(1))
            .unwrap();
        let tokens = StaffTokens::new(signer, StaffTokens::DEFAULT_LIFETIME);
        assert_eq!(
            tokens.verify(&issued.token).unwrap(),
            StaffToken {
                user: UserId(42),
                generation: 0,
            }
        );
    }
}
