//! `GET /vorgaenge/liste.csv`: the case list with its filters and order as a CSV file for a
//! spreadsheet (the Bewilligungsbehörde's overview of the applications of all Kreise, a Kreis's
//! report to its committee).
//!
//! Written as a German spreadsheet opens it without an import dialogue: UTF-8 with a byte order
//! mark, `;` between the cells, CRLF line ends, dates as `TT.MM.JJJJ`. A cell that a spreadsheet
//! would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is
//! prefixed with `'`, so an Aktenzeichen pattern or an organisation's name cannot run one.
//! Every matching case is listed, or none: a list longer than [`MAX_ROWS`] is refused with a
//! German page rather than cut short.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;

use super::case_list::{ListQuery, Listed, check, refused};
use super::start::german_time;
use super::{UiSession, error_page};
use crate::db::Database;
use crate::render::spreadsheet;
use crate::service::{ServiceError, case_list, cases, clock};
use crate::web::api::{ApiState, blocking};

/// Where the file is served.
pub const PATH: &str = "/vorgaenge/liste.csv";

/// Most cases in one file; a longer list must be narrowed by its filters.
pub const MAX_ROWS: i64 = 10_000;

/// The header row.
const HEADINGS: [&str; 11] = [
    "Aktenzeichen",
    "Verfahren",
    "Antragsteller",
    "Gemeindeschlüssel bzw. Kennung",
    "Status",
    "Aktuelle Schritte",
    "Nächste Frist",
    "Angelegt",
    "Zuletzt geändert",
    "Eingereicht",
    "Zuständig (eigene Organisation)",
];

fn time(at: Option<NaiveDateTime>) -> String {
    at.map(german_time).unwrap_or_default()
}

/// The file: byte order mark, header row, one row per case.
pub(super) fn write(rows: &[Listed]) -> Result<Vec<u8>, ServiceError> {
    let records = rows.iter().map(|row| {
        let frist = row
            .frist
            .map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or_default();
        [
            row.aktenzeichen.clone(),
            row.verfahren.clone(),
            row.antragsteller.clone(),
            row.ags.clone(),
            row.status.clone(),
            row.schritte.join(", "),
            frist,
            time(Some(row.angelegt)),
            time(Some(row.geaendert)),
            time(row.eingereicht),
            row.zustaendig.clone().unwrap_or_default(),
        ]
    });
    spreadsheet::table(&HEADINGS, records).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// `GET /vorgaenge/liste.csv` with the parameters of `/vorgaenge` (the page is ignored).
pub async fn download(
    req: HttpRequest,
    session: UiSession,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let checked = match serde_urlencoded::from_str::<ListQuery>(req.query_string())
        .map_err(|_| "Die Suchangaben konnten nicht gelesen werden.".to_string())
        .and_then(|query| check(query, session.principal().user_id, clock::now().today))
    {
        Ok(checked) => checked,
        Err(message) => return refused(&api, &session, &message),
    };
    let principal = session.principal().clone();
    let state = api.clone().into_inner();
    let sort = checked.order();
    let filter = checked.filter;
    let found = blocking(&db, move |conn| {
        let found = case_list::search(conn, &principal, &filter, sort, 1, MAX_ROWS)?;
        if found.total > MAX_ROWS {
            return Ok(Err(found.total));
        }
        let mut rows = Vec::with_capacity(found.rows.len());
        for (row, applicant) in found.rows {
            rows.push(Listed::of(
                &cases::from_row(conn, &state.registry, row)?,
                &applicant,
            ));
        }
        let rows = Listed::with_assignees(conn, principal.organisation_id, rows)?;
        Ok(Ok(write(&rows)?))
    })
    .await;
    match found {
        Ok(Ok(bytes)) => {
            let today = clock::now().today.format("%Y-%m-%d");
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"vorgaenge-{today}.csv\""),
                ))
                .insert_header(("Cache-Control", "no-store"))
                .body(bytes)
        }
        Ok(Err(total)) => refused(
            &api,
            &session,
            &format!(
                "Die Liste umfasst {total} Vorgänge; eine CSV-Datei nimmt höchstens {MAX_ROWS} \
                 auf. Bitte grenzen Sie die Liste mit den Filtern ein."
            ),
        ),
        Err(error) => {
            tracing::error!(?error, "case list export failed");
            error_page(
                &api,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&session),
                "Interner Fehler",
                "Die Liste kann gerade nicht erstellt werden. Bitte versuchen Sie es später \
                 erneut.",
                "",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn listed(aktenzeichen: &str, antragsteller: &str) -> Listed {
        let at = NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(6, 30, 0)
            .unwrap();
        Listed {
            id: 1,
            aktenzeichen: aktenzeichen.into(),
            antragsteller: antragsteller.into(),
            ags: "05974".into(),
            verfahren: "Antrag auf Einrichtung".into(),
            status: "laufend".into(),
            schritte: vec!["Beteiligung der örtlichen Partner".into(), "Konzept".into()],
            frist: NaiveDate::from_ymd_opt(2026, 7, 31),
            angelegt: at,
            geaendert: at,
            eingereicht: None,
            zustaendig: Some("Anna Berg".into()),
        }
    }

    #[test]
    fn a_german_spreadsheet_reads_the_file_as_written() {
        let bytes = write(&[listed("KI-05974-2026-0001", "Kreis Soest; \"Nord\"")]).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "byte order mark");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines.len(),
            3,
            "header, one row, the final line end: {text:?}"
        );
        assert!(lines[0].starts_with("Aktenzeichen;Verfahren;Antragsteller;"));
        assert_eq!(
            lines[1],
            "KI-05974-2026-0001;Antrag auf Einrichtung;\"Kreis Soest; \"\"Nord\"\"\";05974;laufend;\
             Beteiligung der örtlichen Partner, Konzept;31.07.2026;01.07.2026, 08:30 Uhr;\
             01.07.2026, 08:30 Uhr;;Anna Berg"
        );
        assert_eq!(lines[2], "");
    }

    #[test]
    fn nothing_in_a_cell_runs_as_a_formula() {
        let bytes = write(&[listed("=1+1", "Kreis Soest")]).unwrap();
        assert!(std::str::from_utf8(&bytes).unwrap().contains("\r\n'=1+1;"));
    }
}
