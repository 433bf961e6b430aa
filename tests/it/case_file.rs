//! The case file export on both databases: a case with data, documents, a Vermerk and an
//! answered Beteiligung comes out as one ZIP archive whose members are read back with
//! `documents::zip` (not the writer's crate); the checksums, the documents' bytes and the
//! journal's hash chain are checked from the archive alone. Refusals answer before anything is
//! streamed and as the API or the staff pages answer elsewhere.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vorgang::db::models::Role;
use vorgang::documents::zip::Archive;
use vorgang::journal::hash::{GENESIS_HASH, HashInput, entry_hash};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};

struct Reply {
    status: StatusCode,
    headers: actix_web::http::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = actix_test::read_body(response).await.to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }};
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

/// The personal link's token from the first invitation mail's plain text.
pub(crate) fn first_invitation_token(db: &TestDatabase) -> String {
    use diesel::prelude::*;
    use vorgang::db::schema::outbox;
    let rendered: String = outbox::table
        .filter(outbox::template.eq("beteiligung_einladung"))
        .order(outbox::id)
        .select(outbox::rendered)
        .first(&mut db.connection())
        .unwrap();
    let rendered: Value = serde_json::from_str(&rendered).unwrap();
    let text = rendered["text"].as_str().unwrap();
    let start = text.find("/beteiligung/").expect("link in mail") + "/beteiligung/".len();
    text[start..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .to_string()
}

/// Every member of the archive by its path below the archive's one folder.
fn members<'a>(archive: &Archive<'a>, folder: &str) -> BTreeMap<String, &'a [u8]> {
    archive
        .entries()
        .iter()
        .map(|entry| {
            let path = entry
                .name
                .strip_prefix(&format!("{folder}/"))
                .unwrap_or_else(|| panic!("{} outside the folder {folder}", entry.name));
            let content = archive
                .stored_content(&entry.name, 1 << 26)
                .unwrap_or_else(|| panic!("{} is not stored readably", entry.name));
            (path.to_string(), content)
        })
        .collect()
}

both_backends! {
    async fn the_case_file_holds_everything_the_case_holds_and_proves_it(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (soest, kleve, bewilligung) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)),
                staff_token(&create_user(&mut conn, "k@kreis-kleve.de", "05154", &[Role::Koordination], None)),
                staff_token(&create_user(&mut conn, "b@bra.nrw.de", "KFI", &[Role::Bewilligung], None)),
            )
        };
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&soest))
            .set_json(json!({ "workflow": "ki-antrag", "data": crate::beteiligung::application() })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let case = created.json();
        let id = case["id"].as_i64().unwrap();
        let aktenzeichen = case["aktenzeichen"].as_str().unwrap().to_string();

        let konzept = pdf("Integrationskonzept 2026");
        let stored = send!(app, crate::support::api::upload(id, &soest, "Konzept: Entwurf.pdf", "application/pdf", &konzept));
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text());
        let document = stored.json();
        let noted = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/notes")).insert_header(bearer(&soest))
            .set_json(json!({ "text": "Telefonat mit dem Schulamt:\nRäume ab März frei." })));
        assert_eq!(noted.status, StatusCode::CREATED, "{}", noted.text());
        // The adopted concept refers to the document by its number.
        let referred = send!(app, actix_test::TestRequest::patch().uri(&format!("/api/v1/cases/{id}/data")).insert_header(bearer(&soest))
            .set_json(json!({ "version": 1, "data": { "integrationskonzept": { "dokument": document["id"].as_i64().unwrap().to_string() } } })));
        assert_eq!(referred.status, StatusCode::OK, "{}", referred.text());
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&soest)).set_json(json!({ "version": 2 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text());
        let token = first_invitation_token(&db);
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung_mit_hinweisen", "stellungnahme": "Die Räume <b>fehlen</b> noch.", "name": "Frau Muster" })));
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text());

        let export = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&soest)));
        assert_eq!(export.status, StatusCode::OK, "{}", export.text());
        assert_eq!(export.header("content-type"), "application/zip");
        assert!(export.header("content-disposition").contains(&format!("filename=\"{aktenzeichen}.zip\"")), "{}", export.header("content-disposition"));

        let archive = Archive::parse(&export.body).expect("a well-formed ZIP archive");
        let members = members(&archive, &aktenzeichen);
        let document_path = format!("dokumente/{:04}-Konzept_ Entwurf.pdf", document["id"].as_i64().unwrap());
        let names: Vec<&str> = members.keys().map(String::as_str).collect();
        let expected_names = {
            let mut names = vec!["akte.html", "beteiligung.json", document_path.as_str(), "journal.json",
                                 "pruefsummen.sha256", "verfahren/ki-antrag-v1.yaml", "vorgang.json"];
            names.sort_unstable();
            names
        };
        assert_eq!(names, expected_names);

        // The document as uploaded; the definition as deployed.
        assert_eq!(members[&document_path], konzept.as_slice());
        let definition = std::str::from_utf8(members["verfahren/ki-antrag-v1.yaml"]).unwrap();
        assert!(definition.starts_with("# Antrag auf Einrichtung"), "{definition}");

        // Every other member's SHA-256 is listed, and matches.
        let sums = std::str::from_utf8(members["pruefsummen.sha256"]).unwrap();
        let listed: BTreeMap<&str, &str> = sums.lines()
            .map(|line| { let (sum, path) = line.split_once("  ").unwrap(); (path, sum) })
            .collect();
        assert_eq!(listed.len(), members.len() - 1, "{sums}");
        for (path, content) in &members {
            if path != "pruefsummen.sha256" {
                assert_eq!(listed[path.as_str()], format!("{:x}", Sha256::digest(content)), "{path}");
            }
        }

        // The case with its data and documents.
        let vorgang: Value = serde_json::from_slice(members["vorgang.json"]).unwrap();
        assert_eq!(vorgang["format"], "vorgang.akte.v1");
        assert_eq!(vorgang["exported_by"], "k@kreis-soest.de");
        assert_eq!(vorgang["case"]["aktenzeichen"], aktenzeichen.as_str());
        assert_eq!(vorgang["case"]["applicant"]["key"], "05974");
        assert_eq!(vorgang["case"]["data"]["zentrum_name"], crate::beteiligung::application()["zentrum_name"]);
        assert_eq!(vorgang["documents"][0]["path"], document_path.as_str());
        assert_eq!(vorgang["documents"][0]["sha256"], format!("{:x}", Sha256::digest(&konzept)));

        // The journal's chain holds, computed from the archive alone, and ends where the case
        // file says it does.
        let journal: Value = serde_json::from_slice(members["journal.json"]).unwrap();
        let entries = journal["entries"].as_array().unwrap();
        let mut previous = GENESIS_HASH.to_string();
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry["seq"], i as i64 + 1);
            assert_eq!(entry["prev_hash"], previous.as_str());
            let at = chrono::NaiveDateTime::parse_from_str(entry["at"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.6fZ").unwrap();
            let payload = serde_json::to_string(&entry["payload"]).unwrap();
            let computed = entry_hash(&HashInput {
                case_id: id,
                seq: i as i32 + 1,
                at,
                actor: entry["actor"].as_str().unwrap(),
                kind: entry["kind"].as_str().unwrap(),
                payload: &payload,
                prev_hash: &previous,
            });
            assert_eq!(entry["hash"], computed.as_str(), "entry {}", i + 1);
            previous = computed;
        }
        assert!(entries.iter().any(|e| e["kind"] == "note_added"));
        assert!(entries.iter().any(|e| e["kind"] == "answer_recorded"));
        assert_eq!(vorgang["journal"]["entries"], entries.len());
        assert_eq!(vorgang["journal"]["newest_hash"], previous.as_str());

        // The Beteiligung with the answer's text.
        let beteiligung: Value = serde_json::from_slice(members["beteiligung.json"]).unwrap();
        let invitations = beteiligung["invitations"].as_array().unwrap();
        assert_eq!(invitations.len(), 2);
        let answered = invitations.iter().find(|i| i["status"] == "answered").expect("one answered invitation");
        assert_eq!(answered["answers"][0]["text"], "Die Räume <b>fehlen</b> noch.");
        assert_eq!(answered["answers"][0]["votum"], "zustimmung_mit_hinweisen");

        // The overview for people: German, escaped, with what the file holds.
        let html = std::str::from_utf8(members["akte.html"]).unwrap();
        assert!(html.contains("<html lang=\"de\">"));
        assert!(html.contains(&format!("<h1>{aktenzeichen}</h1>")));
        assert!(html.contains("Kreis Soest"));
        assert!(html.contains("Telefonat mit dem Schulamt:\nRäume ab März frei."), "the Vermerk with its line break");
        assert!(html.contains("Die Räume &lt;b&gt;fehlen&lt;&#x2F;b&gt; noch.") || html.contains("Die Räume &lt;b&gt;fehlen&lt;/b&gt; noch."), "the answer, escaped");
        assert!(html.contains("Votum Zustimmung mit Hinweisen"));
        assert!(html.contains(&format!("href=\"{document_path}\"")), "the document linked inside the archive");
        assert!(html.contains(&format!("Konzept: Entwurf.pdf (Dokument Nr. {})", document["id"])), "data fields by label, documents by name: {html}");
        assert!(html.contains(&previous), "the newest hash");
        assert!(html.contains("(über den persönlichen Link)") && !html.contains("beteiligung:"), "the partner by its name, not its key");

        // The export is journaled before the archive is sent: who took the file and the newest
        // entry it holds, chained after that entry.
        let journal_of = |reply: Reply| -> Vec<Value> { reply.json().as_array().cloned().unwrap_or_default() };
        let recorded = journal_of(send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&soest))));
        assert_eq!(recorded.len(), entries.len() + 1);
        let export_entry = recorded.last().unwrap();
        assert_eq!(export_entry["kind"], "case_file_exported");
        assert_eq!(export_entry["actor"], "k@kreis-soest.de");
        assert_eq!(export_entry["payload"], json!({ "journal_seq": entries.len() }));
        assert_eq!(export_entry["prev_hash"], previous.as_str());
        let at = chrono::NaiveDateTime::parse_from_str(export_entry["at"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.6fZ").unwrap();
        assert_eq!(vorgang["exported_at"], vorgang::journal::hash::format_at(at), "the archive and its record name one moment");

        // The next export's file holds the record of the first, in its journal and its overview.
        let version = || actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&soest));
        let before = send!(app, version()).json()["version"].clone();
        let again = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&soest)));
        assert_eq!(again.status, StatusCode::OK, "{}", again.text());
        assert_eq!(send!(app, version()).json()["version"], before, "an export is no new version");
        let second = Archive::parse(&again.body).expect("a well-formed ZIP archive");
        let second = self::members(&second, &aktenzeichen);
        let journal: Value = serde_json::from_slice(second["journal.json"]).unwrap();
        assert_eq!(journal["entries"].as_array().unwrap().last(), Some(export_entry));
        let html = std::str::from_utf8(second["akte.html"]).unwrap();
        assert!(html.contains(&format!("Akte exportiert (ZIP-Archiv mit dem Journal bis Eintrag {})", entries.len())), "{html}");
        let exports = entries.len() + 2;

        // Refusals come before the archive, as problem+json; nothing is streamed.
        let foreign = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&kleve)));
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert_eq!(foreign.header("content-type"), "application/problem+json");
        let unsubmitted = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&bewilligung)));
        assert_eq!(unsubmitted.status, StatusCode::NOT_FOUND, "the Bewilligungsbehörde does not see a draft");
        let anonymous = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")));
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let unknown = send!(app, actix_test::TestRequest::get().uri("/api/v1/cases/999999/export").insert_header(bearer(&soest)));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);

        // A document missing from the store fails the export with 500 before any byte of it.
        let sha = document["sha256"].as_str().unwrap();
        let blob = dir.path().join("documents").join(&sha[0..2]).join(&sha[2..4]).join(sha);
        std::fs::remove_file(&blob).unwrap_or_else(|e| panic!("{}: {e}", blob.display()));
        let broken = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&soest)));
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(broken.header("content-type"), "application/problem+json");

        // Neither a refused nor a failed export is recorded: only an archive ready to be sent.
        let recorded = journal_of(send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&soest))));
        assert_eq!(recorded.len(), exports);
    }
}
