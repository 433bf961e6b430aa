//! Turns an outbox row (already rendered by the command that queued it) into a MIME message.
//!
//! Nothing is rendered here: the row's `subject` and `rendered` JSON are taken as they are. The
//! headers that identify the mail come from the row, so a resend is the same mail: `Message-ID`
//! is the row's `message_id`, `Date` its `created_at`. Every mail says it was sent by a machine
//! (`Auto-Submitted`, RFC 3834, and Exchange's `X-Auto-Response-Suppress`), so that absence
//! notices of the recipients do not answer it.

use std::time::{Duration, SystemTime};

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use serde::Deserialize;

use super::outbox::OutboxRow;

/// The `rendered` column: `{"from": "Name <addr>", "to": ["addr", …], "reply_to": "addr"?,
/// "text": …, "html": …}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Rendered {
    /// Header `From`; empty means the installation's `mail_from`.
    #[serde(default)]
    pub from: String,
    /// Header `To` and envelope recipients.
    pub to: Vec<String>,
    /// Header `Reply-To`: where an answer to the mail should go (the office that handles the
    /// case) instead of the installation's sender, which nobody reads.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

impl Rendered {
    /// Parses the `rendered` column.
    pub fn parse(json: &str) -> Result<Self, ComposeError> {
        serde_json::from_str(json)
            .map_err(|e| ComposeError(format!("„rendered“ ist unlesbar: {e}")))
    }
}

/// A row that cannot become a mail. Permanent: sending it again would fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Die Mail kann nicht erstellt werden: {0}")]
pub struct ComposeError(pub String);

/// A composed mail: the envelope and the bytes to transmit.
#[derive(Debug, Clone)]
pub struct Composed {
    /// `MAIL FROM` and `RCPT TO`.
    pub envelope: Envelope,
    /// The message as transmitted (CRLF line ends).
    pub bytes: Vec<u8>,
}

fn mailbox(text: &str, what: &str) -> Result<Mailbox, ComposeError> {
    text.trim()
        .parse()
        .map_err(|e| ComposeError(format!("{what} „{text}“ ist keine gültige Adresse ({e})")))
}

/// Builds the message of `row`: `multipart/alternative` with the plain-text part first and the
/// HTML part second. `sender` is the installation's `mail_from`: the `From` when the row has
/// none, and always the envelope sender (so bounces reach the installation).
pub fn compose(row: &OutboxRow, sender: &Mailbox) -> Result<Composed, ComposeError> {
    let rendered = Rendered::parse(&row.rendered)?;
    let from = if rendered.from.trim().is_empty() {
        sender.clone()
    } else {
        mailbox(&rendered.from, "Absender")?
    };
    if rendered.to.is_empty() {
        return Err(ComposeError("die Mail hat keinen Empfänger".into()));
    }
    let date = SystemTime::UNIX_EPOCH
        + Duration::from_micros(
            u64::try_from(row.created_at.and_utc().timestamp_micros()).unwrap_or(0),
        );
    let mut builder = Message::builder()
        .message_id(Some(row.message_id.clone()))
        .date(date)
        .from(from)
        .subject(row.subject.clone());
    if let Some(reply_to) = rendered
        .reply_to
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        builder = builder.reply_to(mailbox(reply_to, "Antwortadresse")?);
    }
    builder = builder
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "OOF, AutoReply".into(),
        ));
    let mut recipients = Vec::with_capacity(rendered.to.len());
    for to in &rendered.to {
        let to = mailbox(to, "Empfänger")?;
        recipients.push(to.email.clone());
        builder = builder.to(to);
    }
    let envelope = Envelope::new(Some(sender.email.clone()), recipients)
        .map_err(|e| ComposeError(format!("Umschlag ungültig: {e}")))?;
    let message = builder
        .envelope(envelope.clone())
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| ComposeError(e.to_string()))?;
    Ok(Composed {
        envelope,
        bytes: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(rendered: &str) -> OutboxRow {
        let at = NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        OutboxRow {
            id: 1,
            message_id: "<abc@vorgang.test>".into(),
            case_id: None,
            template: "einladung".into(),
            recipients: "[]".into(),
            context: "{}".into(),
            status: "sending".into(),
            attempts: 1,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            created_at: at,
            sent_at: None,
            invitation_id: None,
            subject: "Beteiligung".into(),
            rendered: rendered.into(),
        }
    }

    fn sender() -> Mailbox {
        "vorgang <noreply@vorgang.test>".parse().unwrap()
    }

    #[test]
    fn unusable_rows_are_errors_not_panics() {
        for rendered in [
            "",
            "{}",
            r#"{"to": [], "text": "t", "html": "h"}"#,
            r#"{"from": "kein absender", "to": ["a@b.de"], "text": "t", "html": "h"}"#,
            r#"{"to": ["@@"], "text": "t", "html": "h"}"#,
            r#"{"to": ["a@b.de"], "reply_to": "keine adresse", "text": "t", "html": "h"}"#,
        ] {
            assert!(compose(&row(rendered), &sender()).is_err(), "{rendered}");
        }
    }

    #[test]
    fn identity_headers_come_from_the_row_and_the_envelope_from_the_sender() {
        let composed = compose(
            &row(r#"{"from": "Kreis Soest <ki@kreis-soest.de>", "to": ["a@b.de"], "text": "t", "html": "<p>h</p>"}"#),
            &sender(),
        )
        .unwrap();
        let text = String::from_utf8(composed.bytes).unwrap();
        assert!(
            text.contains("Message-ID: <abc@vorgang.test>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Date: Tue, 03 Mar 2026 09:30:00 +0000\r\n"),
            "{text}"
        );
        assert_eq!(
            composed.envelope.from().map(ToString::to_string).as_deref(),
            Some("noreply@vorgang.test")
        );
        assert!(
            text.contains("Auto-Submitted: auto-generated\r\n"),
            "{text}"
        );
        assert!(
            text.contains("X-Auto-Response-Suppress: OOF, AutoReply\r\n"),
            "{text}"
        );
        assert!(!text.contains("Reply-To:"), "none asked for: {text}");
    }

    #[test]
    fn answers_are_directed_to_the_reply_address() {
        let composed = compose(
            &row(
                r#"{"to": ["a@b.de"], "reply_to": "ki@kreis-soest.de", "text": "t", "html": "h"}"#,
            ),
            &sender(),
        )
        .unwrap();
        let text = String::from_utf8(composed.bytes).unwrap();
        assert!(text.contains("Reply-To: ki@kreis-soest.de\r\n"), "{text}");
        assert!(
            text.contains("From: vorgang <noreply@vorgang.test>\r\n"),
            "{text}"
        );
    }
}
