//! Minimal case rows for tests of things that hang off a case (journal, documents), inserted
//! directly so those tests do not depend on the engine.

use diesel::prelude::*;
use vorgang::db::DbConnection;
use vorgang::db::schema::{cases, organisations, workflow_definitions};

const WORKFLOW_KEY: &str = "test-workflow";

/// Inserts a case for the Kreis Kleve (`05154`) with the given Aktenzeichen; returns its id.
/// The workflow definition row it needs is created on first use.
pub fn insert_case(conn: &mut DbConnection, aktenzeichen: &str) -> i64 {
    let definition_id = match workflow_definitions::table
        .filter(workflow_definitions::key.eq(WORKFLOW_KEY))
        .select(workflow_definitions::id)
        .first::<i64>(conn)
        .optional()
        .unwrap()
    {
        Some(id) => id,
        None => {
            diesel::insert_into(workflow_definitions::table)
                .values((
                    workflow_definitions::key.eq(WORKFLOW_KEY),
                    workflow_definitions::version.eq(1),
                    workflow_definitions::hash.eq("0".repeat(64)),
                    workflow_definitions::title.eq("Testverfahren"),
                    workflow_definitions::source.eq(""),
                    workflow_definitions::definition.eq("{}"),
                    workflow_definitions::created_by.eq("test"),
                ))
                .execute(conn)
                .unwrap();
            workflow_definitions::table
                .filter(workflow_definitions::key.eq(WORKFLOW_KEY))
                .select(workflow_definitions::id)
                .first(conn)
                .unwrap()
        }
    };
    let applicant_id: i64 = organisations::table
        .filter(organisations::key.eq("05154"))
        .select(organisations::id)
        .first(conn)
        .unwrap();
    diesel::insert_into(cases::table)
        .values((
            cases::aktenzeichen.eq(aktenzeichen),
            cases::definition_id.eq(definition_id),
            cases::workflow_key.eq(WORKFLOW_KEY),
            cases::applicant_id.eq(applicant_id),
            cases::status.eq("new"),
            cases::state.eq("{}"),
            cases::version.eq(1_i64),
        ))
        .execute(conn)
        .unwrap();
    cases::table
        .filter(cases::aktenzeichen.eq(aktenzeichen))
        .select(cases::id)
        .first(conn)
        .unwrap()
}

/// Marks case `id` as submitted now, as if it had reached the Bewilligungsbehörde, so that
/// tests of what that authority may see need not play the procedure up to there.
pub fn mark_submitted(conn: &mut DbConnection, id: i64) {
    diesel::update(cases::table.find(id))
        .set(cases::submitted_at.eq(Some(chrono::Utc::now().naive_utc())))
        .execute(conn)
        .unwrap();
}
