//! The web interface in in-process tests: a browser with a cookie jar, pages read completely,
//! hidden form fields, and a logged-in session in two calls.

use std::collections::BTreeMap;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::test::{self as actix_test, TestRequest};

/// A response, read completely.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// A header's value (panics when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header; status {}", self.status))
            .to_str()
            .unwrap()
    }

    /// The `Location` of a redirect (panics for anything but 303).
    pub fn location(&self) -> &str {
        assert_eq!(self.status, 303, "expected a redirect: {}", self.body);
        self.header("location")
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The `Set-Cookie` value of cookie `name` (panics when absent).
    pub fn set_cookie(&self, name: &str) -> String {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name}: {:?}", self.set_cookies()))
    }

    /// The value of the first hidden input called `name` (panics when absent).
    pub fn hidden(&self, name: &str) -> String {
        hidden_field(&self.body, name).unwrap_or_else(|| panic!("no hidden {name}: {}", self.body))
    }
}

/// The value of the first `<input type="hidden" name="NAME" value="…">` in `html`, as the
/// browser reads it (handlebars' escapes undone).
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("type=\"hidden\" name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(unescape(&html[start..start + end]))
}

/// Undoes handlebars' HTML escaping.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x60;", "`")
        .replace("&#x3D;", "=")
        .replace("&amp;", "&")
}

/// A browser: keeps the cookies the server sets and sends them back.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
    /// Client address of its requests (login limits count per address).
    pub peer: Option<std::net::SocketAddr>,
    /// The `User-Agent` header of its requests, if any.
    pub user_agent: Option<String>,
}

impl Browser {
    /// A browser without cookies, connecting from `peer`.
    pub fn from(peer: &str) -> Self {
        Self {
            cookies: BTreeMap::new(),
            peer: Some(peer.parse().unwrap()),
            user_agent: None,
        }
    }

    /// The same browser, sending `header` as its `User-Agent`.
    pub fn with_user_agent(mut self, header: &str) -> Self {
        self.user_agent = Some(header.to_string());
        self
    }

    fn prepare(&self, mut request: TestRequest) -> TestRequest {
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.insert_header(("cookie", line));
        }
        if let Some(peer) = self.peer {
            request = request.peer_addr(peer);
        }
        if let Some(agent) = &self.user_agent {
            request = request.insert_header(("user-agent", agent.as_str()));
        }
        request
    }

    fn remember(&mut self, headers: &HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    /// Sends `request` with the browser's cookies and keeps the cookies of the answer.
    pub async fn send<S, B>(&mut self, app: &S, request: TestRequest) -> Page
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let (status, headers, body) = self.send_raw(app, request).await;
        Page {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    /// Like [`Self::send`], for answers that need not be text: status, headers, body bytes.
    pub async fn send_raw<S, B>(
        &mut self,
        app: &S,
        request: TestRequest,
    ) -> (u16, HeaderMap, Vec<u8>)
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let response = actix_test::call_service(app, self.prepare(request).to_request()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = actix_test::read_body(response).await;
        self.remember(&headers);
        (status, headers, body.to_vec())
    }

    /// `GET path`.
    pub async fn get<S, B>(&mut self, app: &S, path: &str) -> Page
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        self.send(app, TestRequest::get().uri(path)).await
    }

    /// `POST path` with a urlencoded form.
    pub async fn post<S, B>(&mut self, app: &S, path: &str, form: &[(&str, &str)]) -> Page
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        self.send(app, TestRequest::post().uri(path).set_form(form))
            .await
    }

    /// Loads the login form and submits it; returns the answer to the POST.
    pub async fn login<S, B>(&mut self, app: &S, email: &str, password: &str) -> Page
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let form = self.get(app, "/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.hidden("csrf");
        self.post(
            app,
            "/login",
            &[("csrf", &csrf), ("email", email), ("passwort", password)],
        )
        .await
    }

    /// The CSRF token of the logged-in session, read from the logout form of `path`.
    pub async fn csrf_token<S, B>(&mut self, app: &S, path: &str) -> String
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let page = self.get(app, path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.hidden("csrf")
    }
}

/// The application with its pages over the shipped workflows, on the test database `$db`
/// (a pool of four) with documents under the temporary directory `$dir`.
macro_rules! ui_app {
    ($db:expr, $dir:expr) => {{
        let pool = $db.pool(4);
        let api = $crate::support::api::state(&pool, $dir.path());
        let ui = vorgang::web::ui::UiState::new(
            &"http://127.0.0.1:8080".parse().unwrap(),
            vorgang::web::ui::LegalTexts::builtin(),
        );
        actix_web::test::init_service(vorgang::web::app_with_ui(
            pool,
            $crate::support::auth::test_auth(),
            api,
            actix_web::web::Data::new(ui),
        ))
        .await
    }};
}
pub(crate) use ui_app;
