//! The logged-in user of a page: extractors over the `vorgang_session` cookie.
//!
//! - [`UiSession`] (pages shown with GET): no session → 303 to `/login?next=…`; a user who must
//!   change the password → 303 to `/passwort`. `UiSession<AllowPending>` skips the latter (the
//!   password page itself).
//! - [`OptionalSession`]: pages open to everybody that show the user when there is one.
//! - POST handlers get their session from [`super::csrf::CsrfForm`] only, which checks the form's
//!   CSRF token first: [`UiSession`] refuses unsafe methods, so a form handler cannot forget it.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::{UiState, cookie, csrf};
use crate::auth::proxy_login::Vouched;
use crate::auth::session::{self as store, SessionRecord};
use crate::auth::{Auth, CaseScope, Denied, Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::Organisation;
use crate::web::api::ApiState;

/// A live session of the web interface and the user behind it, loaded for this request.
#[derive(Debug, Clone)]
pub struct Session {
    record: SessionRecord,
    csrf_token: String,
    /// A trusted proxy names this very user in this request (single sign-on).
    vouched_by_proxy: bool,
}

impl Session {
    fn new(record: SessionRecord, proxy_names: Option<&str>) -> Self {
        let csrf_token = csrf::token_for(record.csrf_secret());
        let vouched_by_proxy = proxy_names == Some(record.principal.email.as_str());
        Self {
            record,
            csrf_token,
            vouched_by_proxy,
        }
    }

    /// The user as permission checks see it; the same as for an API token.
    pub fn principal(&self) -> &Principal {
        &self.record.principal
    }

    /// The user's organisation.
    pub fn organisation(&self) -> &Organisation {
        &self.record.organisation
    }

    /// The user's name for greetings and the header.
    pub fn display_name(&self) -> &str {
        &self.record.display_name
    }

    /// Whether the user still has to replace a one-time password.
    pub fn must_change_password(&self) -> bool {
        self.record.must_change_password
    }

    /// Whether the user has a password of vorgang; one the proxy logs in need not have one.
    pub fn has_password(&self) -> bool {
        self.record.has_password
    }

    /// Whether a trusted proxy names this very user in the current request: its word stands in
    /// for a password the user does not have.
    pub fn vouched_by_proxy(&self) -> bool {
        self.vouched_by_proxy
    }

    /// Row id of the session (to keep it when ending the user's other sessions).
    pub fn id(&self) -> i64 {
        self.record.id
    }

    /// The hidden `csrf` value every form of this session must send back (see
    /// [`super::csrf::CsrfForm`]); templates get it as `sitzung.csrf` through [`super::layout`].
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// Whether the user may do `permission`: the very function the API decides with, so the two
    /// can never disagree.
    pub fn authorize(
        &self,
        permission: Permission,
        case: Option<&CaseScope>,
    ) -> Result<(), Denied> {
        authorize(self.principal(), permission, case)
    }

    /// Checks a submitted CSRF token against the session's secret (constant time).
    pub(super) fn csrf_matches(&self, token: &str) -> bool {
        csrf::verify(self.record.csrf_secret(), token)
    }
}

/// Whether a session whose user must still change the password is good enough for a page.
pub trait SessionPolicy {
    /// `true` only for the password page (and logout).
    const ALLOW_PENDING_PASSWORD_CHANGE: bool;
}

/// The default policy: the user has no pending password change.
#[derive(Debug)]
pub struct Ready;

impl SessionPolicy for Ready {
    const ALLOW_PENDING_PASSWORD_CHANGE: bool = false;
}

/// For the password page and logout: a pending password change is fine.
#[derive(Debug)]
pub struct AllowPending;

impl SessionPolicy for AllowPending {
    const ALLOW_PENDING_PASSWORD_CHANGE: bool = true;
}

/// Extractor of pages shown with GET or HEAD: the logged-in user, or a redirect to the login
/// (keeping the address as `next`), or to `/passwort` while the password must be changed.
#[derive(Debug)]
pub struct UiSession<P: SessionPolicy = Ready> {
    session: Session,
    _policy: PhantomData<P>,
}

impl<P: SessionPolicy> UiSession<P> {
    /// The session itself.
    pub fn into_inner(self) -> Session {
        self.session
    }
}

impl<P: SessionPolicy> Deref for UiSession<P> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<P: SessionPolicy + 'static> FromRequest for UiSession<P> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if !matches!(*req.method(), Method::GET | Method::HEAD) {
                // A programming error: form handlers must take `CsrfForm`.
                tracing::error!(method = %req.method(), path = req.path(), "UiSession used on an unsafe method");
                return Err(super::internal_error(&req));
            }
            let session = load(&req).await?;
            let session = require::<P>(session, Some(&local_target(&req)))?;
            Ok(Self {
                session,
                _policy: PhantomData,
            })
        })
    }
}

/// Extractor of pages open to everybody (login, legal pages): the session when there is one.
#[derive(Debug)]
pub struct OptionalSession(pub Option<Session>);

impl FromRequest for OptionalSession {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(&req).await.map(OptionalSession) })
    }
}

/// The request's own path and query: where to come back to after logging in.
fn local_target(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string())
}

/// Applies the policy: no session → login (with `next` for pages), pending password change →
/// the password page unless `P` allows it.
pub(super) fn require<P: SessionPolicy>(
    session: Option<Session>,
    next: Option<&str>,
) -> Result<Session, actix_web::Error> {
    let Some(session) = session else {
        let location = match next.and_then(super::login::local_path) {
            Some(next) if next != "/login" => {
                format!("/login?next={}", super::encode_query_value(next))
            }
            _ => "/login".to_string(),
        };
        return Err(super::redirect_error(&location));
    };
    if session.must_change_password() && !P::ALLOW_PENDING_PASSWORD_CHANGE {
        return Err(super::redirect_error("/passwort"));
    }
    Ok(session)
}

/// The live session of the request's cookie, if any; an error page when the database fails.
pub(super) async fn load(req: &HttpRequest) -> Result<Option<Session>, actix_web::Error> {
    let Some(value) = cookie::read(req, cookie::SESSION) else {
        return Ok(None);
    };
    let (Some(db), Some(ui)) = (
        req.app_data::<web::Data<Database>>().cloned(),
        req.app_data::<web::Data<UiState>>().cloned(),
    ) else {
        tracing::error!("web interface used on an app without Database or UiState data");
        return Err(super::internal_error(req));
    };
    let proxy_names = proxy_named_user(req);
    let named = proxy_names.clone();
    let now = chrono::Utc::now().naive_utc();
    let lifetimes = ui.sessions;
    match db
        .run(move |conn| {
            let Some(record) = store::lookup(conn, &value, now, lifetimes)? else {
                return Ok(None);
            };
            let someone_else = proxy_names
                .as_ref()
                .is_some_and(|named| *named != record.principal.email);
            if record.through_proxy && someone_else {
                // A shared workstation: someone else logged in to the network in this browser.
                store::delete(conn, record.id)?;
                tracing::info!(
                    user_id = %record.principal.user_id,
                    "session started through the proxy ended: the proxy names another user"
                );
                return Ok(None);
            }
            Ok(Some(record))
        })
        .await
    {
        Ok(record) => Ok(record.map(|record| Session::new(record, named.as_deref()))),
        Err(error) => {
            tracing::error!(%error, "cannot load the session");
            Err(super::internal_error(req))
        }
    }
}

/// The address a trusted proxy names as the browser's user (`proxy_login_header`), if the
/// server is set up for it and the request carries one.
fn proxy_named_user(req: &HttpRequest) -> Option<String> {
    let auth = req.app_data::<web::Data<Auth>>()?;
    match auth.proxy_login.as_ref()?.vouched(req, &auth.proxies) {
        Vouched::Email(email) => Some(email),
        Vouched::Nobody | Vouched::Untrusted => None,
    }
}

/// The state the pages render with; an error page when the app lacks it.
pub(super) fn api_state(req: &HttpRequest) -> Result<web::Data<ApiState>, actix_web::Error> {
    req.app_data::<web::Data<ApiState>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("web interface used on an app without ApiState data");
            actix_web::error::InternalError::new(
                "app data missing",
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .into()
        })
}
