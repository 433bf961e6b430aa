//! The legal pages every public-sector web application needs, open without login:
//! `/impressum`, `/datenschutz` and `/barrierefreiheit` (Erklärung zur Barrierefreiheit nach
//! BITV NRW).
//!
//! The built-in texts (`templates/ui/{impressum,datenschutz,barrierefreiheit}.hbs`) are
//! placeholders that say so. The operator replaces them with HTML fragments
//! `impressum.html`, `datenschutz.html`, `barrierefreiheit.html` in `legal_dir`, read once at
//! start-up. The fragments are trusted: they come from the operator's disk like the binary, and
//! are inserted unescaped into the page (the only unescaped output of the interface).

use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{OptionalSession, UiState, layout, render};
use crate::web::api::ApiState;

/// Largest fragment read; a legal text is a few pages, anything bigger is a mistake.
const MAX_FRAGMENT_BYTES: u64 = 1024 * 1024;

/// One of the three legal pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalPage {
    /// Anbieterkennzeichnung (Impressum).
    Impressum,
    /// Datenschutzerklärung (Art. 13 DSGVO).
    Datenschutz,
    /// Erklärung zur Barrierefreiheit (BITV NRW).
    Barrierefreiheit,
}

impl LegalPage {
    /// Every legal page.
    pub const ALL: [LegalPage; 3] = [
        LegalPage::Impressum,
        LegalPage::Datenschutz,
        LegalPage::Barrierefreiheit,
    ];

    /// Name of the built-in template and stem of the operator's file.
    pub fn name(self) -> &'static str {
        match self {
            LegalPage::Impressum => "impressum",
            LegalPage::Datenschutz => "datenschutz",
            LegalPage::Barrierefreiheit => "barrierefreiheit",
        }
    }

    /// The page's heading and title.
    pub fn title(self) -> &'static str {
        match self {
            LegalPage::Impressum => "Impressum",
            LegalPage::Datenschutz => "Datenschutzerklärung",
            LegalPage::Barrierefreiheit => "Erklärung zur Barrierefreiheit",
        }
    }

    /// The operator's file in `dir`.
    pub fn file_in(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.html", self.name()))
    }
}

/// Why the operator's legal texts could not be read; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct LegalError {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// What is wrong, in German.
    pub reason: String,
}

/// The operator's legal texts, one optional HTML fragment per page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegalTexts {
    impressum: Option<String>,
    datenschutz: Option<String>,
    barrierefreiheit: Option<String>,
}

impl LegalTexts {
    /// Only the built-in placeholder texts.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// Reads the fragments found in `dir`; a page without its file keeps the built-in text.
    /// Unreadable, oversized or non-UTF-8 files are errors.
    pub fn load(dir: &Path) -> Result<Self, LegalError> {
        let mut texts = Self::default();
        for page in LegalPage::ALL {
            let path = page.file_in(dir);
            let error = |reason: String| LegalError {
                path: path.clone(),
                reason,
            };
            let size = match std::fs::metadata(&path) {
                Ok(metadata) => metadata.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(error(format!("nicht lesbar: {e}"))),
            };
            if size > MAX_FRAGMENT_BYTES {
                return Err(error(format!(
                    "größer als {} KiB",
                    MAX_FRAGMENT_BYTES / 1024
                )));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => error("ist kein UTF-8-Text".into()),
                _ => error(format!("nicht lesbar: {e}")),
            })?;
            *texts.slot(page) = Some(text);
        }
        Ok(texts)
    }

    fn slot(&mut self, page: LegalPage) -> &mut Option<String> {
        match page {
            LegalPage::Impressum => &mut self.impressum,
            LegalPage::Datenschutz => &mut self.datenschutz,
            LegalPage::Barrierefreiheit => &mut self.barrierefreiheit,
        }
    }

    /// The operator's fragment for `page`, if there is one.
    pub fn fragment(&self, page: LegalPage) -> Option<&str> {
        match page {
            LegalPage::Impressum => self.impressum.as_deref(),
            LegalPage::Datenschutz => self.datenschutz.as_deref(),
            LegalPage::Barrierefreiheit => self.barrierefreiheit.as_deref(),
        }
    }

    /// The pages still showing the built-in placeholder (logged at start-up).
    pub fn placeholders(&self) -> Vec<LegalPage> {
        LegalPage::ALL
            .into_iter()
            .filter(|page| self.fragment(*page).is_none())
            .collect()
    }
}

fn show(page: LegalPage, session: &OptionalSession, api: &ApiState, ui: &UiState) -> HttpResponse {
    let mut context = layout(page.title(), session.0.as_ref(), None);
    match ui.legal.fragment(page) {
        Some(fragment) => {
            context["inhalt"] = json!(fragment);
            render(api, StatusCode::OK, "rechtliches", &context)
        }
        None => render(api, StatusCode::OK, page.name(), &context),
    }
}

/// `GET /impressum`.
pub async fn impressum(
    session: OptionalSession,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    show(LegalPage::Impressum, &session, &api, &ui)
}

/// `GET /datenschutz`.
pub async fn datenschutz(
    session: OptionalSession,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    show(LegalPage::Datenschutz, &session, &api, &ui)
}

/// `GET /barrierefreiheit`.
pub async fn barrierefreiheit(
    session: OptionalSession,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    show(LegalPage::Barrierefreiheit, &session, &api, &ui)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_replace_pages_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("impressum.html"), "<p>Kreis Kleve</p>").unwrap();
        let texts = LegalTexts::load(dir.path()).unwrap();
        assert_eq!(
            texts.fragment(LegalPage::Impressum),
            Some("<p>Kreis Kleve</p>")
        );
        assert_eq!(texts.fragment(LegalPage::Datenschutz), None);
        assert_eq!(
            texts.placeholders(),
            [LegalPage::Datenschutz, LegalPage::Barrierefreiheit]
        );
    }

    #[test]
    fn unreadable_fragments_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("datenschutz.html"), [0xff, 0xfe]).unwrap();
        let error = LegalTexts::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("datenschutz.html"), "{error}");
        assert!(error.contains("UTF-8"), "{error}");
    }
}
