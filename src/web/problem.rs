//! RFC 9457 problem details: the one error shape of the JSON API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An API error as the client sees it: a stable `type`, a German `title` and `detail`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    description = "Fehlerbeschreibung nach RFC 9457 (application/problem+json); je nach Art kommen \
                   `errors`, `reasons` oder `current_version` hinzu."
)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:vorgang:problem:not-ready`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short German summary, the same for every occurrence of this kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// German explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Members beyond RFC 9457's (`errors`, `reasons`, `current_version`), flattened in.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem of the given kind (`urn:vorgang:problem:{kind}`) and status.
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Self {
            kind: format!("urn:vorgang:problem:{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: None,
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds a member such as `errors` or `current_version`.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(key.to_string(), value);
        self
    }

    /// Adds the explanation of this occurrence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The problem for a path that does not exist.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Nicht gefunden")
            .with_detail("Unter dieser Adresse gibt es keine Ressource.")
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {}", self.title, detail),
            None => f.write_str(&self.title),
        }
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(PROBLEM_JSON)
            .json(self)
    }
}
