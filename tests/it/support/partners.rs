//! Partner bodies with mailboxes, and the mail settings commands run with in tests.

use std::sync::Arc;

use vorgang::db::DbConnection;
use vorgang::db::models::{NewOrganisation, Organisation};
use vorgang::render::Templates;
use vorgang::service::mail::Outgoing;

use super::auth::test_secret;

/// The partner bodies the test applications name in `beteiligte`, with their mailboxes.
pub const PARTNERS: [(&str, &str, &str); 2] = [
    (
        "SCHULAMT-SO",
        "Schulamt für den Kreis Soest",
        "schulamt@kreis-soest.test",
    ),
    (
        "05974-JA",
        "Jugendamt des Kreises Soest",
        "jugendamt@kreis-soest.test",
    ),
];

/// Creates the [`PARTNERS`] (idempotent per database).
pub fn add_partners(conn: &mut DbConnection) {
    for (key, name, mailbox) in PARTNERS {
        if Organisation::find_by_key(conn, key).unwrap().is_none() {
            add_partner(conn, key, name, Some(mailbox));
        }
    }
}

/// Creates one partner organisation.
pub fn add_partner(
    conn: &mut DbConnection,
    key: &str,
    name: &str,
    mailbox: Option<&str>,
) -> Organisation {
    NewOrganisation {
        key,
        name,
        kind: "partner",
        parent_id: None,
        mailbox,
    }
    .insert(conn)
    .unwrap()
}

/// Mail settings of in-process tests: shipped templates, the test secret, `https://vorgang.test`.
pub fn outgoing() -> Outgoing {
    Outgoing {
        templates: Arc::new(Templates::load(&root().join("templates")).unwrap()),
        signer: Arc::new(vorgang::auth::Signer::new(&test_secret())),
        public_url: url::Url::parse("https://vorgang.test").unwrap(),
        from: "vorgang <noreply@vorgang.test>".into(),
        mail_domain: "vorgang.test".into(),
        link_grace: chrono::TimeDelta::days(14),
        hold_until: None,
    }
}

/// The project root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
