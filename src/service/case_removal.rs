//! Deleting whole cases with every row that belongs to them, then their document files: what the
//! removal of the demo data and the Aussonderung (`service::retention`) share. Nothing else in
//! vorgang deletes a case.

use std::collections::BTreeSet;

use diesel::prelude::*;

use crate::db::schema::{
    answers, case_assignments, case_events, case_origins, cases, documents, extension_requests,
    follow_ups, invitations, outbox, partner_links, responsibility_notices, timers,
    window_reminders,
};
use crate::db::{DbConnection, DbError};
use crate::documents::DocumentStore;

/// What [`delete_rows`] deleted.
#[derive(Debug, Default)]
pub(crate) struct Deleted {
    pub cases: usize,
    pub journal_entries: usize,
    pub documents: usize,
    pub answers: usize,
    pub invitations: usize,
    pub mails: usize,
    pub timers: usize,
    /// SHA-256 of the deleted documents, for [`release_blobs`] after the commit.
    pub blobs: BTreeSet<String>,
}

/// The ids of the invitations of `case_ids`.
pub(crate) fn invitations_of(
    conn: &mut DbConnection,
    case_ids: &[i64],
) -> Result<Vec<i64>, DbError> {
    Ok(invitations::table
        .filter(invitations::case_id.eq_any(case_ids))
        .select(invitations::id)
        .load(conn)?)
}

/// Mails about `case_ids` (or their invitations) still waiting to be sent.
pub(crate) fn unsent_mails(conn: &mut DbConnection, case_ids: &[i64]) -> Result<i64, DbError> {
    let invitation_ids = invitations_of(conn, case_ids)?;
    Ok(outbox::table
        .filter(
            outbox::case_id
                .eq_any(case_ids)
                .or(outbox::invitation_id.eq_any(&invitation_ids)),
        )
        .filter(outbox::status.eq_any(["pending", "sending"]))
        .count()
        .get_result(conn)?)
}

/// Deletes `case_ids` with their journals, documents, consultations (links, answers), mails,
/// timers and Wiedervorlagen, children first. Runs inside the caller's write transaction.
pub(crate) fn delete_rows(conn: &mut DbConnection, case_ids: &[i64]) -> Result<Deleted, DbError> {
    let mut deleted = Deleted::default();
    let invitation_ids = invitations_of(conn, case_ids)?;
    diesel::delete(
        partner_links::table.filter(partner_links::invitation_id.eq_any(&invitation_ids)),
    )
    .execute(conn)?;
    diesel::delete(
        extension_requests::table.filter(extension_requests::invitation_id.eq_any(&invitation_ids)),
    )
    .execute(conn)?;
    diesel::delete(
        responsibility_notices::table
            .filter(responsibility_notices::invitation_id.eq_any(&invitation_ids)),
    )
    .execute(conn)?;
    deleted.mails = diesel::delete(
        outbox::table.filter(
            outbox::case_id
                .eq_any(case_ids)
                .or(outbox::invitation_id.eq_any(&invitation_ids)),
        ),
    )
    .execute(conn)?;
    deleted.answers =
        diesel::delete(answers::table.filter(answers::invitation_id.eq_any(&invitation_ids)))
            .execute(conn)?;
    deleted.invitations =
        diesel::delete(invitations::table.filter(invitations::id.eq_any(&invitation_ids)))
            .execute(conn)?;
    deleted.timers =
        diesel::delete(timers::table.filter(timers::case_id.eq_any(case_ids))).execute(conn)?;
    deleted.blobs = documents::table
        .filter(documents::case_id.eq_any(case_ids))
        .select(documents::sha256)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    deleted.documents =
        diesel::delete(documents::table.filter(documents::case_id.eq_any(case_ids)))
            .execute(conn)?;
    diesel::delete(follow_ups::table.filter(follow_ups::case_id.eq_any(case_ids))).execute(conn)?;
    diesel::delete(case_assignments::table.filter(case_assignments::case_id.eq_any(case_ids)))
        .execute(conn)?;
    diesel::delete(window_reminders::table.filter(window_reminders::case_id.eq_any(case_ids)))
        .execute(conn)?;
    // A case started by a removed one stays, without its link (its journal names the origin).
    diesel::delete(
        case_origins::table.filter(
            case_origins::case_id
                .eq_any(case_ids)
                .or(case_origins::origin_case_id.eq_any(case_ids)),
        ),
    )
    .execute(conn)?;
    // Whole journals go: every other case's chain stays intact.
    deleted.journal_entries =
        diesel::delete(case_events::table.filter(case_events::case_id.eq_any(case_ids)))
            .execute(conn)?;
    deleted.cases =
        diesel::delete(cases::table.filter(cases::id.eq_any(case_ids))).execute(conn)?;
    Ok(deleted)
}

/// Removes the files of `blobs` that no document refers to any more; returns how many it
/// removed. Runs after the commit of [`delete_rows`]: a failure leaves a file without a document
/// (logged), never a document without its file. An upload of the same content at the same time
/// keeps its file (see [`DocumentStore::remove_unless`]).
pub(crate) fn release_blobs(
    conn: &mut DbConnection,
    store: &DocumentStore,
    blobs: &BTreeSet<String>,
) -> usize {
    let mut removed = 0;
    for sha256 in blobs {
        let outcome = store.remove_unless(sha256, || {
            documents::table
                .filter(documents::sha256.eq(sha256))
                .count()
                .get_result::<i64>(conn)
                .map(|count| count > 0)
                .map_err(std::io::Error::other)
        });
        match outcome {
            Ok(true) => removed += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, %sha256, "file of a deleted document not removed");
            }
        }
    }
    removed
}
