//! The authenticated caller of an API request: an extractor that verifies the bearer token and
//! reloads the user, so deactivation, role changes and revoked tokens apply to the very next
//! request (no cache: the reload is one indexed query).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};

use super::Auth;
use super::token::StaffToken;
use crate::db::models::{CaseId, CaseRow, Organisation, OrganisationId, Role, UserId};
use crate::db::{Database, DbError};
use crate::web::problem::Problem;

/// `WWW-Authenticate` when no credentials were sent (RFC 6750, section 3).
const CHALLENGE: &str = "Bearer realm=\"vorgang\"";

/// `WWW-Authenticate` when the token sent is not accepted.
const CHALLENGE_INVALID: &str = "Bearer realm=\"vorgang\", error=\"invalid_token\"";

/// A case row with its applicant organisation, as `GET /cases/{id}` shows it.
pub type CaseWithApplicant = (CaseRow, Organisation);

/// Who is calling: an active user with the roles the database holds right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The user's (normalised) e-mail address, for journals and logs.
    pub email: String,
    /// The organisation the user works for; decides which cases are "own".
    pub organisation_id: OrganisationId,
    /// The user's roles, sorted.
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Loads the principal for a user id; `None` when the user is gone or inactive.
    pub fn load(conn: &mut crate::db::DbConnection, id: UserId) -> Result<Option<Self>, DbError> {
        Ok(Self::load_with_organisation(conn, id, None)?.map(|(principal, _)| principal))
    }

    /// The principal together with its organisation; `None` when the user is gone or inactive,
    /// or when `token_generation` (that of the bearer token presented) is no longer the user's.
    ///
    /// One query (the user joined with its organisation and roles) rather than one each: it runs
    /// on every authenticated request, and each round trip to the database costs more than the
    /// work it does. The organisation comes along because most case commands are made by a
    /// coordinator for their own organisation, which the answer names as the applicant.
    pub fn load_with_organisation(
        conn: &mut crate::db::DbConnection,
        id: UserId,
        token_generation: Option<i32>,
    ) -> Result<Option<(Self, Organisation)>, DbError> {
        use diesel::prelude::*;

        use crate::db::schema::{organisations, user_roles, users};

        let rows: Vec<(UserId, String, Organisation, Option<String>, i32)> = users::table
            .inner_join(organisations::table)
            .left_join(user_roles::table)
            .filter(users::id.eq(id))
            .filter(users::active.eq(true))
            .select((
                users::id,
                users::email,
                Organisation::as_select(),
                user_roles::role.nullable(),
                users::token_generation,
            ))
            .load(conn)?;
        if revoked(token_generation, rows.first().map(|row| row.4)) {
            return Ok(None);
        }
        let rows = rows
            .into_iter()
            .map(|(id, email, organisation, role, _)| (id, email, organisation, role))
            .collect();
        Ok(Self::from_rows(rows))
    }

    /// The principal together with a case and its applicant, in one query: showing a case is
    /// the most frequent request, and it would otherwise take two round trips (the principal,
    /// then the case) where one does. The outer `None` when the user is gone or inactive; the
    /// inner one when the case does not exist (the permission check comes after, as always).
    /// `token_generation` as for [`Principal::load_with_organisation`].
    pub fn load_with_case(
        conn: &mut crate::db::DbConnection,
        id: UserId,
        token_generation: Option<i32>,
        case: CaseId,
    ) -> Result<Option<(Self, Option<CaseWithApplicant>)>, DbError> {
        use diesel::prelude::*;

        use crate::db::schema::{cases, organisations, user_roles, users};

        type Row = (
            UserId,
            String,
            OrganisationId,
            Option<String>,
            Option<CaseRow>,
            Option<Organisation>,
            i32,
        );
        let rows: Vec<Row> = users::table
            .left_join(user_roles::table)
            .left_join(cases::table.on(cases::id.eq(case)))
            .left_join(organisations::table.on(organisations::id.eq(cases::applicant_id)))
            .filter(users::id.eq(id))
            .filter(users::active.eq(true))
            .select((
                users::id,
                users::email,
                users::organisation_id,
                user_roles::role.nullable(),
                Option::<CaseRow>::as_select(),
                Option::<Organisation>::as_select(),
                users::token_generation,
            ))
            .load(conn)?;
        if revoked(token_generation, rows.first().map(|row| row.6)) {
            return Ok(None);
        }
        let roles = roles_of(rows.iter().map(|(_, _, _, role, ..)| role.as_deref()));
        let Some((user_id, email, organisation_id, _, case, applicant, _)) =
            rows.into_iter().next()
        else {
            return Ok(None);
        };
        let principal = Self {
            user_id,
            email,
            organisation_id,
            roles,
        };
        Ok(Some((principal, case.zip(applicant))))
    }

    /// Assembles the principal from the rows of a query that joins the user with its
    /// organisation and left-joins its roles: one row per role (or one row with `None` for a user
    /// without roles), each `(user id, e-mail, organisation, role)`. `None` without rows.
    ///
    /// Shared by the bearer-token path and the browser session lookup (`auth::session`), so both
    /// read roles and organisation the same way.
    pub(crate) fn from_rows(
        rows: Vec<(UserId, String, Organisation, Option<String>)>,
    ) -> Option<(Self, Organisation)> {
        let roles = roles_of(rows.iter().map(|(.., role)| role.as_deref()));
        let (user_id, email, organisation, _) = rows.into_iter().next()?;
        Some((
            Self {
                user_id,
                email,
                organisation_id: organisation.id,
                roles,
            },
            organisation,
        ))
    }
}

/// Whether a bearer token of generation `required` has been revoked, the user being in
/// generation `current` (`None`: no such active user, refused anyway). `required` is `None` where
/// no token is involved (browser sessions, calendar feeds).
fn revoked(required: Option<i32>, current: Option<i32>) -> bool {
    match (required, current) {
        (Some(required), Some(current)) if required != current => {
            tracing::info!(
                token_generation = required,
                user_generation = current,
                "token of a revoked generation"
            );
            true
        }
        _ => false,
    }
}

/// The roles named by the rows of a query that left-joins `user_roles` (one row per role, `None`
/// for a user without any), sorted and without repeats; unknown names are ignored.
fn roles_of<'a>(names: impl Iterator<Item = Option<&'a str>>) -> Vec<Role> {
    let mut roles: Vec<Role> = names.filter_map(|name| name?.parse().ok()).collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Why a request was not authenticated; answers 401 (or 500 when the server cannot tell).
#[derive(Debug, thiserror::Error)]
pub enum Unauthenticated {
    /// No `Authorization: Bearer` header.
    #[error("kein Zugangstoken")]
    Missing,
    /// The token is malformed, forged, expired or revoked, or its user is gone or inactive.
    #[error("Zugangstoken nicht akzeptiert")]
    Rejected,
    /// The server is missing its auth state or the database failed.
    #[error("Anmeldung nicht prüfbar: {0}")]
    Internal(String),
}

impl ResponseError for Unauthenticated {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Rejected => StatusCode::UNAUTHORIZED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (problem, challenge) = match self {
            Self::Missing => (
                unauthorized().with_detail(
                    "Für diese Anfrage ist eine Anmeldung erforderlich. Bitte senden Sie Ihr \
                     Zugangstoken im Header „Authorization: Bearer …“.",
                ),
                Some(CHALLENGE),
            ),
            Self::Rejected => (
                unauthorized().with_detail(
                    "Das Zugangstoken ist ungültig oder abgelaufen. Bitte melden Sie sich erneut an.",
                ),
                Some(CHALLENGE_INVALID),
            ),
            Self::Internal(_) => (internal_error(), None),
        };
        let mut response = problem.error_response();
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

fn unauthorized() -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Nicht angemeldet")
}

/// The problem for failures the caller cannot fix (database down, server misconfigured).
pub(super) fn internal_error() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Interner Fehler",
    )
    .with_detail(
        "Die Anfrage konnte nicht bearbeitet werden. Bitte versuchen Sie es später erneut.",
    )
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive).
fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// Verifies the request's bearer token; the holder it names, or why it is refused.
fn verified_user(req: &HttpRequest) -> Result<StaffToken, Unauthenticated> {
    let Some(auth) = req.app_data::<web::Data<Auth>>() else {
        tracing::error!("Principal used on an app without Auth data");
        return Err(Unauthenticated::Internal("app data missing".into()));
    };
    let token = bearer_token(req).ok_or(Unauthenticated::Missing)?;
    auth.tokens.verify(&token).map_err(|error| {
        tracing::info!(%error, "bearer token refused");
        Unauthenticated::Rejected
    })
}

/// The principal holding `token`, or `Rejected` when the user is gone or inactive or the token
/// was revoked.
fn principal_of(
    conn: &mut crate::db::DbConnection,
    token: StaffToken,
) -> Result<Result<Principal, Unauthenticated>, DbError> {
    Ok(Caller { token }
        .principal_with_organisation(conn)?
        .map(|(principal, _)| principal))
}

/// The refusal of a token whose user is gone or inactive, or whose generation has passed.
fn rejected(token: StaffToken) -> Unauthenticated {
    tracing::info!(user_id = %token.user, "token of a missing or inactive user, or revoked");
    Unauthenticated::Rejected
}

impl FromRequest for Principal {
    type Error = Unauthenticated;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let verified = verified_user(req);
        let db = req.app_data::<web::Data<Database>>().cloned();
        Box::pin(async move {
            let Some(db) = db else {
                tracing::error!("Principal used on an app without Database data");
                return Err(Unauthenticated::Internal("app data missing".into()));
            };
            let token = verified?;
            db.run(move |conn| principal_of(conn, token))
                .await
                .map_err(|error| {
                    tracing::error!(%error, "cannot load the principal");
                    Unauthenticated::Internal(error.to_string())
                })?
        })
    }
}

/// A caller whose bearer token is valid, before its user is loaded.
///
/// For handlers that work on the database anyway: they load the [`Principal`] with
/// [`Caller::principal`] on the same pooled connection and in the same blocking job as their
/// own work, instead of the extractor taking a connection and a trip through the blocking pool
/// of its own. The rules are those of [`Principal`]: the user and its roles are read on every
/// request; a gone or inactive user is refused like an invalid token.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    token: StaffToken,
}

impl Caller {
    /// The principal behind the token; `Err(Unauthenticated::Rejected)` inside when the user is
    /// gone or inactive, the outer error when the database fails.
    pub fn principal(
        &self,
        conn: &mut crate::db::DbConnection,
    ) -> Result<Result<Principal, Unauthenticated>, DbError> {
        principal_of(conn, self.token)
    }

    /// Like [`Caller::principal`], with a case and its applicant read in the same query
    /// (`None` inside when the case does not exist).
    pub fn principal_with_case(
        &self,
        conn: &mut crate::db::DbConnection,
        case: CaseId,
    ) -> Result<Result<(Principal, Option<CaseWithApplicant>), Unauthenticated>, DbError> {
        let token = self.token;
        Ok(
            Principal::load_with_case(conn, token.user, Some(token.generation), case)?
                .ok_or_else(|| rejected(token)),
        )
    }

    /// Like [`Caller::principal`], with the caller's organisation read in the same query.
    pub fn principal_with_organisation(
        &self,
        conn: &mut crate::db::DbConnection,
    ) -> Result<Result<(Principal, Organisation), Unauthenticated>, DbError> {
        let token = self.token;
        Ok(
            Principal::load_with_organisation(conn, token.user, Some(token.generation))?
                .ok_or_else(|| rejected(token)),
        )
    }
}

impl FromRequest for Caller {
    type Error = Unauthenticated;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(verified_user(req).map(|token| Self { token }))
    }
}
