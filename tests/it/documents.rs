//! Documents: admission by content, content-addressed storage, and the `documents` rows on both
//! backends.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vorgang::db::DbError;
use vorgang::documents::{
    self, DEFAULT_MAX_SIZE, Declared, DocumentError, DocumentStore, DocumentType, NewDocument,
    UploadBuffer,
};

use crate::support::TestDatabase;
use crate::support::cases::insert_case;

const ODT: &[u8] = include_bytes!("../fixtures/documents/minimal.odt");
const ODS: &[u8] = include_bytes!("../fixtures/documents/minimal.ods");
const DOCX: &[u8] = include_bytes!("../fixtures/documents/minimal.docx");
const DOCX_REORDERED: &[u8] = include_bytes!("../fixtures/documents/reordered.docx");
const DOCM: &[u8] = include_bytes!("../fixtures/documents/macro.docm");
const XLSX: &[u8] = include_bytes!("../fixtures/documents/minimal.xlsx");
const PPTX: &[u8] = include_bytes!("../fixtures/documents/minimal.pptx");
const PLAIN_ZIP: &[u8] = include_bytes!("../fixtures/documents/plain.zip");

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(
        b"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
    );
    bytes.extend_from_slice(b"\x90\x77\x53\xde\x00\x00\x00\x00IEND\xae\x42\x60\x82");
    bytes
}

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn identify(bytes: &[u8]) -> Result<DocumentType, DocumentError> {
    documents::identify(bytes, &Declared::default(), DEFAULT_MAX_SIZE)
}

fn declared<'a>(content_type: Option<&'a str>, filename: Option<&'a str>) -> Declared<'a> {
    Declared {
        content_type,
        filename,
    }
}

#[test]
fn every_accepted_type_is_recognised_by_content() {
    let samples: [(&str, Vec<u8>, DocumentType, &str, &str); 7] = [
        ("pdf", pdf(), DocumentType::Pdf, "application/pdf", "pdf"),
        ("png", png(), DocumentType::Png, "image/png", "png"),
        ("jpeg", jpeg(), DocumentType::Jpeg, "image/jpeg", "jpg"),
        (
            "odt",
            ODT.to_vec(),
            DocumentType::Odt,
            "application/vnd.oasis.opendocument.text",
            "odt",
        ),
        (
            "docx",
            DOCX.to_vec(),
            DocumentType::Docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        (
            "docx, main part first",
            DOCX_REORDERED.to_vec(),
            DocumentType::Docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        (
            "xlsx",
            XLSX.to_vec(),
            DocumentType::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    ];
    for (name, bytes, expected, mime, extension) in samples {
        let found = identify(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found, expected, "{name}");
        assert_eq!(found.mime(), mime, "{name}");
        assert_eq!(found.extension(), extension, "{name}");
        // With matching declarations, under a different name, and with a generic MIME type.
        let file = format!("Anlage.{}", extension.to_uppercase());
        for declared in [
            declared(Some(mime), Some(&file)),
            declared(Some("application/octet-stream"), Some("Anlage")),
            declared(None, Some("Antrag vom 03.03.2026")),
        ] {
            assert_eq!(
                documents::identify(&bytes, &declared, DEFAULT_MAX_SIZE).unwrap(),
                expected,
                "{name} {declared:?}"
            );
        }
    }
    // Office containers may arrive as application/zip.
    let as_zip = declared(Some("application/x-zip-compressed"), Some("Bericht.docx"));
    assert_eq!(
        documents::identify(DOCX, &as_zip, DEFAULT_MAX_SIZE).unwrap(),
        DocumentType::Docx
    );
}

fn refused(bytes: &[u8]) -> String {
    match identify(bytes) {
        Err(error @ DocumentError::NotAllowed { .. }) => error.to_string(),
        other => panic!("expected NotAllowed, got {other:?}"),
    }
}

#[test]
fn other_content_is_refused_and_named() {
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.resize(256, 0);
    let html = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>";
    let cases: [(&str, &[u8], &str); 10] = [
        ("exe", &exe, "ein Windows-Programm (EXE)"),
        ("html", html, "eine HTML-Seite"),
        ("zip", PLAIN_ZIP, "ein ZIP-Archiv"),
        ("pptx", PPTX, "eine PowerPoint-Präsentation (PPTX)"),
        ("ods", ODS, "eine OpenDocument-Tabelle (ODS)"),
        ("docm", DOCM, "ein Word-Dokument mit Makros (DOCM)"),
        (
            "text",
            "Sehr geehrte Damen und Herren,\n".as_bytes(),
            "eine Textdatei",
        ),
        (
            "gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
            "ein GIF-Bild",
        ),
        (
            "ole2",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00",
            "ein älteres oder verschlüsseltes Office-Dokument",
        ),
        (
            "pdf not at the start",
            b"junk\n%PDF-1.7\n",
            "eine beschädigte oder ungültige PDF-Datei",
        ),
    ];
    for (name, bytes, named) in cases {
        let message = refused(bytes);
        assert!(
            message.starts_with("Dieser Dateityp ist nicht erlaubt"),
            "{name}: {message}"
        );
        assert!(message.contains(named), "{name}: {message}");
        assert!(
            message.ends_with("erlaubt sind PDF, ODT, DOCX, XLSX, PNG und JPEG."),
            "{message}"
        );
    }
    let unknown = refused(&[0x00, 0x01, 0x02, 0xfe, 0xff, 0x00]);
    assert!(
        unknown.contains("keinem erlaubten Typ zuzuordnen"),
        "{unknown}"
    );
}

#[test]
fn a_declared_type_contradicting_the_content_is_refused() {
    let lying_name =
        documents::identify(&png(), &declared(None, Some("Scan.pdf")), DEFAULT_MAX_SIZE);
    let error = lying_name.unwrap_err();
    assert!(matches!(
        error,
        DocumentError::Mismatch {
            actual: DocumentType::Png,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "Die Datei gibt sich als PDF aus, ist aber ein PNG-Bild."
    );

    let lying_mime = documents::identify(
        &png(),
        &declared(Some("application/pdf"), Some("scan")),
        DEFAULT_MAX_SIZE,
    );
    assert_eq!(
        lying_mime.unwrap_err().to_string(),
        "Die Datei gibt sich als PDF aus, ist aber ein PNG-Bild."
    );

    let odd = documents::identify(
        &pdf(),
        &declared(None, Some("rechnung.exe")),
        DEFAULT_MAX_SIZE,
    );
    assert_eq!(
        odd.unwrap_err().to_string(),
        "Die Datei gibt sich als EXE aus, ist aber ein PDF-Dokument."
    );
    let html_mime = documents::identify(
        DOCX,
        &declared(Some("text/html; charset=utf-8"), None),
        DEFAULT_MAX_SIZE,
    );
    assert_eq!(
        html_mime.unwrap_err().to_string(),
        "Die Datei gibt sich als text/html aus, ist aber ein Word-Dokument (DOCX)."
    );
    let docx_as_xlsx = documents::identify(
        DOCX,
        &declared(None, Some("Haushalt.xlsx")),
        DEFAULT_MAX_SIZE,
    );
    assert_eq!(
        docx_as_xlsx.unwrap_err().to_string(),
        "Die Datei gibt sich als XLSX aus, ist aber ein Word-Dokument (DOCX)."
    );
}

#[test]
fn empty_and_oversized_input_is_refused() {
    let empty = identify(b"").unwrap_err();
    assert!(matches!(empty, DocumentError::Empty));
    assert_eq!(empty.to_string(), "Die Datei ist leer.");

    let mut big = pdf();
    big.resize(DEFAULT_MAX_SIZE as usize, b' ');
    assert_eq!(
        identify(&big).unwrap(),
        DocumentType::Pdf,
        "exactly the limit is fine"
    );
    big.push(b' ');
    let too_big = identify(&big).unwrap_err();
    assert!(matches!(too_big, DocumentError::TooLarge { limit } if limit == 20 * 1024 * 1024));
    assert_eq!(
        too_big.to_string(),
        "Die Datei ist zu groß: erlaubt sind höchstens 20 MB."
    );

    let small_limit = documents::identify(&pdf(), &Declared::default(), 10).unwrap_err();
    assert_eq!(
        small_limit.to_string(),
        "Die Datei ist zu groß: erlaubt sind höchstens 10 Bytes."
    );
}

#[test]
fn uploads_are_capped_while_they_arrive() {
    let mut buffer = UploadBuffer::new(10);
    buffer.push(b"%PDF-").unwrap();
    buffer.push(b"1.7\n\n").unwrap();
    assert!(matches!(
        buffer.push(b"x"),
        Err(DocumentError::TooLarge { limit: 10 })
    ));

    assert_eq!(
        documents::read_limited(&b"0123456789"[..], 10)
            .unwrap()
            .len(),
        10
    );
    assert!(matches!(
        documents::read_limited(&b"0123456789A"[..], 10),
        Err(DocumentError::TooLarge { limit: 10 })
    ));
    let store = DocumentStore::new("/nicht/benutzt").with_max_size(1234);
    assert_eq!(store.max_size(), 1234);
    let mut buffer = store.upload_buffer();
    assert!(buffer.push(&vec![0; 1235]).is_err());
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn blobs_are_content_addressed_and_never_rewritten() {
    use std::os::unix::fs::MetadataExt;

    let data_dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::in_data_dir(data_dir.path());
    let bytes = pdf();
    let first = store.store(&bytes).unwrap();
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(first.sha256, sha256);
    assert_eq!(first.size, bytes.len() as u64);
    assert_eq!(first.document_type, DocumentType::Pdf);
    assert!(first.newly_written);

    let path = data_dir
        .path()
        .join("documents")
        .join(&sha256[..2])
        .join(&sha256[2..4])
        .join(&sha256);
    assert_eq!(files_under(data_dir.path()), std::slice::from_ref(&path));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let before = std::fs::metadata(&path).unwrap();
    assert_eq!(before.mode() & 0o777, 0o600);

    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = store
        .store_upload(
            &bytes,
            &declared(Some("application/pdf"), Some("nochmal.pdf")),
        )
        .unwrap();
    assert_eq!(second.sha256, first.sha256);
    assert!(!second.newly_written);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (after.ino(), after.mtime_nsec(), after.mtime()),
        (before.ino(), before.mtime_nsec(), before.mtime())
    );
    assert_eq!(
        files_under(data_dir.path()),
        std::slice::from_ref(&path),
        "one blob, no temporary files"
    );

    let mut read_back = Vec::new();
    std::io::Read::read_to_end(&mut store.open(&sha256).unwrap(), &mut read_back).unwrap();
    assert_eq!(read_back, bytes);
    assert!(store.contains(&sha256));

    // Different content, different blob.
    let other = store.store(&png()).unwrap();
    assert_ne!(other.sha256, sha256);
    assert_eq!(files_under(data_dir.path()).len(), 2);
}

#[test]
fn refused_content_is_not_stored() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::in_data_dir(data_dir.path());
    assert!(matches!(
        store.store(PLAIN_ZIP),
        Err(DocumentError::NotAllowed { .. })
    ));
    assert!(matches!(store.store(b""), Err(DocumentError::Empty)));
    assert!(matches!(
        store.store_upload(&png(), &declared(None, Some("a.pdf"))),
        Err(DocumentError::Mismatch { .. })
    ));
    assert!(matches!(
        store.clone().with_max_size(8).store(&pdf()),
        Err(DocumentError::TooLarge { limit: 8 })
    ));
    assert!(files_under(data_dir.path()).is_empty());
}

#[test]
fn concurrent_stores_of_the_same_content_leave_one_blob() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::in_data_dir(data_dir.path());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || store.store(DOCX).unwrap())
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(|r| r.sha256 == results[0].sha256));
    assert!(results.iter().filter(|r| r.newly_written).count() <= 1);
    let files = files_under(data_dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), DOCX);
}

#[test]
fn open_refuses_anything_but_a_hash() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::in_data_dir(data_dir.path());
    let secret = data_dir.path().join("secret");
    std::fs::write(&secret, "geheim").unwrap();
    let valid_but_missing = "ab".repeat(32);
    for bad in [
        "../secret",
        "../../secret",
        "/etc/passwd",
        "",
        &"a".repeat(63),
        &"a".repeat(65),
        &"A".repeat(64),
        &format!("{}/..", "a".repeat(61)),
        &format!("..{}", "a".repeat(62)),
        &format!("{}\0", "a".repeat(63)),
    ] {
        let error = store.open(bad).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        assert!(!store.contains(bad));
    }
    assert_eq!(
        store.open(&valid_but_missing).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}

#[test]
fn content_disposition_keeps_umlauts_and_escapes_quotes() {
    assert_eq!(
        documents::content_disposition("Bericht \"Ärger\" Müller.pdf"),
        "attachment; filename=\"Bericht 'Aerger' Mueller.pdf\"; \
         filename*=UTF-8''Bericht%20%22%C3%84rger%22%20M%C3%BCller.pdf"
    );
    assert_eq!(
        documents::content_disposition("../../Straße;50%.docx"),
        "attachment; filename=\"Strasse;50%.docx\"; filename*=UTF-8''Stra%C3%9Fe%3B50%25.docx"
    );
    assert_eq!(
        documents::content_disposition("Zeichen\r\nX-Injected: 1.pdf"),
        "attachment; filename=\"ZeichenX-Injected: 1.pdf\"; filename*=UTF-8''ZeichenX-Injected%3A%201.pdf"
    );
    assert_eq!(
        documents::content_disposition("日本.png"),
        "attachment; filename=\"__.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"
    );
}

both_backends! {
    fn documents_are_recorded_found_and_listed_per_case(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = insert_case(&mut conn, "05154-KI-2026-0001");
        let other_case = insert_case(&mut conn, "05154-KI-2026-0002");
        let data_dir = tempfile::tempdir().unwrap();
        let store = DocumentStore::in_data_dir(data_dir.path());
        let blob = store
            .store_upload(DOCX, &declared(None, Some("C:\\Temp\\Stellungnahme Jugendamt \"final\".docx")))
            .unwrap();

        let first = documents::insert(
            &mut conn,
            NewDocument::for_blob(
                case_id,
                &blob,
                "C:\\Temp\\Stellungnahme Jugendamt \"final\".docx",
                "koordination@kreis-kleve.de",
                true,
            ),
        )
        .unwrap();
        assert_eq!(first.case_id, case_id);
        assert_eq!(first.sha256, blob.sha256);
        assert_eq!(first.size, DOCX.len() as i64);
        assert_eq!(first.content_type, DocumentType::Docx.mime());
        assert_eq!(first.filename, "Stellungnahme Jugendamt \"final\".docx");
        assert_eq!(first.uploaded_by, "koordination@kreis-kleve.de");
        assert!(first.partner_visible);
        assert_eq!(
            first.content_disposition(),
            "attachment; filename=\"Stellungnahme Jugendamt 'final'.docx\"; \
             filename*=UTF-8''Stellungnahme%20Jugendamt%20%22final%22.docx"
        );

        let second = documents::insert(
            &mut conn,
            NewDocument {
                case_id,
                sha256: blob.sha256.clone(),
                size: blob.size as i64,
                content_type: blob.document_type.mime().into(),
                filename: "Übersicht.docx".into(),
                uploaded_by: "system".into(),
                partner_visible: false,
                internal_to: None,
            },
        )
        .unwrap();
        assert!(second.id > first.id);
        assert!(!second.partner_visible);

        assert_eq!(documents::find(&mut conn, case_id, first.id).unwrap(), Some(first.clone()));
        assert_eq!(documents::find(&mut conn, other_case, first.id).unwrap(), None, "ids of other cases are not found");
        assert_eq!(documents::find(&mut conn, case_id, second.id + 100).unwrap(), None);
        assert_eq!(documents::list(&mut conn, case_id).unwrap(), [first.clone(), second]);
        assert!(documents::list(&mut conn, other_case).unwrap().is_empty());

        let orphan = documents::insert(
            &mut conn,
            NewDocument::for_blob(other_case + 100, &blob, "x.docx", "system", false),
        );
        assert!(matches!(orphan, Err(DbError::Query(_))), "{orphan:?}");
    }
}

/// A blob is removed only when it is not needed, asked before and after it is moved aside; an
/// upload that committed after the second question writes its blob again.
#[test]
fn a_blob_is_removed_only_when_no_document_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = DocumentStore::in_data_dir(dir.path());
    let bytes = pdf();
    let sha256 = store.store(&bytes).unwrap().sha256;

    // Needed from the start: untouched, asked once.
    let mut asked = 0;
    let removed = store.remove_unless(&sha256, || {
        asked += 1;
        Ok(true)
    });
    assert!(!removed.unwrap());
    assert_eq!(asked, 1);
    assert!(store.contains(&sha256));

    // A document committed between the two questions: the blob is moved back, unchanged.
    let mut answers = [false, true].into_iter();
    let removed = store.remove_unless(&sha256, || Ok(answers.next().unwrap()));
    assert!(!removed.unwrap());
    assert_eq!(
        std::fs::read(store.path_of(&sha256).unwrap()).unwrap(),
        bytes
    );

    // Needed by nobody: gone, with nothing left beside it.
    assert!(store.remove_unless(&sha256, || Ok(false)).unwrap());
    assert!(!store.contains(&sha256));
    let folder = store
        .path_of(&sha256)
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    // Removing it again is no error.
    assert!(!store.remove_unless(&sha256, || Ok(false)).unwrap());

    // An upload that found the blob before it went writes it again after its commit.
    store.keep(&sha256, &bytes);
    assert_eq!(
        std::fs::read(store.path_of(&sha256).unwrap()).unwrap(),
        bytes
    );
    // A failing question removes nothing.
    let failed = store.remove_unless(&sha256, || Err(std::io::Error::other("Datenbank weg")));
    assert!(failed.is_err());
    assert!(store.contains(&sha256));
}
