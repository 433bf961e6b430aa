//! Handlebars templates for mails and pages: the shipped set compiled into the binary, overridden
//! file by file from the operator's template directory, rendered in strict mode so that a missing
//! variable is an error instead of an empty string.
//!
//! Layout below the template directory:
//! - `mail/{name}.subject.hbs`, `mail/{name}.text.hbs`, `mail/{name}.html.hbs`: one mail;
//! - `partials/{name}.hbs`: partials usable from mails and pages;
//! - `ui/{name}.hbs`: HTML pages, `ui/partials/{name}.hbs` their partials.
//!
//! Subjects and plain-text parts are rendered without HTML escaping (a link stays a link); HTML
//! parts and pages escape every value.
//!
//! Besides the templates, pure renderers for the administration pages live here: [`diagram`]
//! draws a workflow definition as SVG, [`bpmn`] writes it as a BPMN 2.0 file with the same
//! layout, [`diff`] compares two versions of its source.

pub mod bpmn;
pub mod diagram;
pub mod diff;
mod overrides;
pub mod spreadsheet;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::Value;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// The three parts of a mail template.
const MAIL_PARTS: [&str; 3] = ["subject", "text", "html"];

/// Why templates could not be loaded or rendered; German, because operators read it.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// An override file could not be read.
    #[error("Vorlage {path} kann nicht gelesen werden: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    /// A template does not parse.
    #[error("Vorlage {name} ist fehlerhaft: {reason}")]
    Syntax { name: String, reason: String },
    /// Only some parts of a mail template exist.
    #[error("Mailvorlage {name}: es fehlt {missing} (erwartet werden subject, text und html)")]
    Incomplete { name: String, missing: String },
    /// The template is not there at all.
    #[error("Vorlage {0} gibt es nicht")]
    Unknown(String),
    /// Rendering failed, usually a variable the context does not provide.
    #[error("Vorlage {name}: {reason}")]
    Render { name: String, reason: String },
}

/// A mail template with a context it is rendered with in use: rendering every such sample at
/// start-up stops a broken override before a real mail depends on it, and tests read the
/// shipped mails through the same samples.
#[derive(Debug, Clone)]
pub struct SampleMail {
    pub template: &'static str,
    /// What the subject may use (no personal data).
    pub subject: Value,
    pub context: Value,
}

impl SampleMail {
    /// A sample whose subject reads the same context as its body (mails to staff).
    pub fn new(template: &'static str, context: Value) -> Self {
        Self {
            template,
            subject: context.clone(),
            context,
        }
    }

    /// Renders the sample with `templates`.
    pub fn render(&self, templates: &Templates) -> Result<RenderedMail, TemplateError> {
        templates.render_mail(self.template, &self.subject, &self.context)
    }
}

/// A rendered mail, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedMail {
    /// One line, no personal data (rendered from a restricted context).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// All templates, parsed once at start-up.
pub struct Templates {
    /// Subjects and plain text: no escaping.
    text: Handlebars<'static>,
    /// HTML mail parts and pages: HTML escaping.
    html: Handlebars<'static>,
    mails: BTreeSet<String>,
    pages: BTreeSet<String>,
    /// Doubts about the operator's page overrides, see [`Templates::override_warnings`].
    override_warnings: Vec<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("mails", &self.mails)
            .field("pages", &self.pages)
            .finish()
    }
}

impl Templates {
    /// The shipped templates only.
    pub fn embedded() -> Result<Self, TemplateError> {
        Self::from_files(embedded_files())
    }

    /// The shipped templates, with every `*.hbs` file found below `dir` replacing or adding to
    /// them; a missing `dir` means no overrides.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let embedded = embedded_files();
        let mut files = embedded.clone();
        if dir.is_dir() {
            read_dir_into(dir, dir, &mut files)?;
        }
        let override_warnings = overrides::check(&files, &embedded);
        Ok(Self {
            override_warnings,
            ..Self::from_files(files)?
        })
    }

    /// What looks wrong in the operator's page overrides without being certain to be: a
    /// variable no shipped page uses (a page renders in strict mode and fails on an unknown
    /// one when shown), a page that replaces none. German; `serve` logs them at start-up and
    /// `vorgang validate` prints them.
    pub fn override_warnings(&self) -> &[String] {
        &self.override_warnings
    }

    fn from_files(files: BTreeMap<String, String>) -> Result<Self, TemplateError> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let syntax = |name: &str, e: handlebars::TemplateError| TemplateError::Syntax {
            name: name.to_string(),
            reason: e.to_string(),
        };
        let mut mail_parts: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        let mut pages = BTreeSet::new();
        for (path, source) in &files {
            let Some(stem) = path.strip_suffix(".hbs") else {
                continue;
            };
            if let Some(partial) = stem.strip_prefix("partials/") {
                text.register_partial(partial, source)
                    .map_err(|e| syntax(path, e))?;
                html.register_partial(partial, source)
                    .map_err(|e| syntax(path, e))?;
            } else if let Some(partial) = stem.strip_prefix("ui/partials/") {
                html.register_partial(partial, source)
                    .map_err(|e| syntax(path, e))?;
            } else if let Some(page) = stem.strip_prefix("ui/") {
                html.register_template_string(stem, source)
                    .map_err(|e| syntax(path, e))?;
                pages.insert(page.to_string());
            } else if let Some(mail) = stem.strip_prefix("mail/") {
                let Some((name, part)) = mail.rsplit_once('.') else {
                    continue;
                };
                let registry = match part {
                    "subject" | "text" => &mut text,
                    "html" => &mut html,
                    _ => continue,
                };
                registry
                    .register_template_string(stem, source)
                    .map_err(|e| syntax(path, e))?;
                mail_parts
                    .entry(name.to_string())
                    .or_default()
                    .insert(match part {
                        "subject" => "subject",
                        "text" => "text",
                        _ => "html",
                    });
            }
        }
        let mut mails = BTreeSet::new();
        for (name, parts) in mail_parts {
            if let Some(missing) = MAIL_PARTS.iter().find(|p| !parts.contains(*p)) {
                let missing = format!("mail/{name}.{missing}.hbs");
                return Err(TemplateError::Incomplete { name, missing });
            }
            mails.insert(name);
        }
        Ok(Self {
            text,
            html,
            mails,
            pages,
            override_warnings: Vec::new(),
        })
    }

    /// Names of the complete mail templates.
    pub fn mail_names(&self) -> &BTreeSet<String> {
        &self.mails
    }

    /// Renders mail `name`: the subject from `subject_context` (kept free of personal data by
    /// what the caller puts there), text and HTML from `context`.
    pub fn render_mail(
        &self,
        name: &str,
        subject_context: &Value,
        context: &Value,
    ) -> Result<RenderedMail, TemplateError> {
        if !self.mails.contains(name) {
            return Err(TemplateError::Unknown(format!("mail/{name}")));
        }
        let render = |registry: &Handlebars<'static>, part: &str, data: &Value| {
            let full = format!("mail/{name}.{part}");
            registry
                .render(&full, data)
                .map_err(|e| TemplateError::Render {
                    name: format!("{full}.hbs"),
                    reason: describe_render_error(&e),
                })
        };
        let subject = render(&self.text, "subject", subject_context)?;
        Ok(RenderedMail {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: render(&self.text, "text", context)?,
            html: render(&self.html, "html", context)?,
        })
    }

    /// Renders page `ui/{name}.hbs` with HTML escaping.
    pub fn render_page(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        let full = format!("ui/{name}");
        if !self.pages.contains(name) {
            return Err(TemplateError::Unknown(full));
        }
        self.html
            .render(&full, context)
            .map_err(|e| TemplateError::Render {
                name: format!("{full}.hbs"),
                reason: describe_render_error(&e),
            })
    }
}

/// A render error in German where it matters most: a variable the template uses but the context
/// does not provide.
fn describe_render_error(error: &handlebars::RenderError) -> String {
    use handlebars::RenderErrorReason;
    let position = match (error.line_no, error.column_no) {
        (Some(line), Some(column)) => format!(" (Zeile {line}, Spalte {column})"),
        _ => String::new(),
    };
    match error.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("unbekannte Variable „{path}“{position}")
        }
        RenderErrorReason::PartialNotFound(partial) => {
            format!("unbekannter Baustein „{partial}“{position}")
        }
        other => format!("{other}{position}"),
    }
}

fn embedded_files() -> BTreeMap<String, String> {
    embedded::EMBEDDED
        .iter()
        .map(|(path, source)| (path.to_string(), source.to_string()))
        .collect()
}

fn read_dir_into(
    base: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, String>,
) -> Result<(), TemplateError> {
    let unreadable = |path: &Path, e: std::io::Error| TemplateError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    for entry in fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
        let entry = entry.map_err(|e| unreadable(dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            read_dir_into(base, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "hbs") {
            let source = fs::read_to_string(&path).map_err(|e| unreadable(&path, e))?;
            let Ok(relative) = path.strip_prefix(base) else {
                continue;
            };
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.insert(relative, source);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_override(
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, Result<Templates, TemplateError>) {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        let templates = Templates::load(dir.path());
        (dir, templates)
    }

    #[test]
    fn shipped_templates_are_complete_and_parse() {
        let templates = Templates::embedded().unwrap();
        assert!(templates.mail_names().contains("beteiligung_einladung"));
        assert!(templates.mail_names().contains("beteiligung_bestaetigung"));
    }

    #[test]
    fn text_parts_keep_urls_and_html_parts_escape() {
        let (_dir, templates) = with_override(&[
            ("mail/probe.subject.hbs", "Az. {{aktenzeichen}}\n"),
            ("mail/probe.text.hbs", "{{link}} {{name}}"),
            ("mail/probe.html.hbs", "<a href=\"{{link}}\">{{name}}</a>"),
        ]);
        let templates = templates.unwrap();
        let context = json!({"link": "https://x.test/a?b=1&c=2", "name": "<script>"});
        let mail = templates
            .render_mail("probe", &json!({"aktenzeichen": "KI-1"}), &context)
            .unwrap();
        assert_eq!(mail.subject, "Az. KI-1");
        assert_eq!(mail.text, "https://x.test/a?b=1&c=2 <script>");
        assert_eq!(
            mail.html,
            "<a href=\"https://x.test/a?b&#x3D;1&amp;c&#x3D;2\">&lt;script&gt;</a>"
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_naming_it() {
        let (_dir, templates) = with_override(&[
            ("mail/probe.subject.hbs", "{{aktenzeichen}}"),
            ("mail/probe.text.hbs", "Hallo {{empfaenger.name}}"),
            ("mail/probe.html.hbs", "x"),
        ]);
        let error = templates
            .unwrap()
            .render_mail("probe", &json!({"aktenzeichen": "A"}), &json!({}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("mail/probe.text.hbs"), "{error}");
        assert!(error.contains("empfaenger.name"), "{error}");
    }

    #[test]
    fn the_subject_sees_only_its_own_context() {
        let (_dir, templates) = with_override(&[
            (
                "mail/probe.subject.hbs",
                "{{aktenzeichen}} {{antwort.name}}",
            ),
            ("mail/probe.text.hbs", "x"),
            ("mail/probe.html.hbs", "x"),
        ]);
        let full = json!({"aktenzeichen": "A", "antwort": {"name": "Frau Muster"}});
        let error = templates
            .unwrap()
            .render_mail("probe", &json!({"aktenzeichen": "A"}), &full)
            .unwrap_err();
        assert!(error.to_string().contains("antwort.name"), "{error}");
    }

    #[test]
    fn an_incomplete_mail_template_is_refused() {
        let (_dir, templates) = with_override(&[("mail/halb.subject.hbs", "x")]);
        let error = templates.unwrap_err().to_string();
        assert!(error.contains("mail/halb.text.hbs"), "{error}");
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let (_dir, templates) = with_override(&[("ui/kaputt.hbs", "{{#if x}}")]);
        let error = templates.unwrap_err().to_string();
        assert!(error.contains("ui/kaputt.hbs"), "{error}");
    }

    #[test]
    fn overrides_replace_shipped_files_one_by_one() {
        let (_dir, templates) = with_override(&[
            (
                "mail/beteiligung_einladung.subject.hbs",
                "Eigener Betreff {{aktenzeichen}}",
            ),
            ("mail/beteiligung_einladung.text.hbs", "Text"),
            ("mail/beteiligung_einladung.html.hbs", "<p>HTML</p>"),
        ]);
        let templates = templates.unwrap();
        let embedded = Templates::embedded().unwrap();
        assert_eq!(templates.mail_names(), embedded.mail_names());
        let mail = templates
            .render_mail(
                "beteiligung_einladung",
                &json!({"aktenzeichen": "A"}),
                &json!({}),
            )
            .unwrap();
        assert_eq!(mail.subject, "Eigener Betreff A");
        assert_eq!(mail.text, "Text");
    }
}
