//! Which files may be uploaded, decided from their content alone.
//!
//! Magic bytes decide PDF, PNG and JPEG. ODT, DOCX and XLSX are ZIP containers: their central
//! directory is read ([`super::zip`]) and ODF's stored `mimetype` entry, respectively OOXML's
//! `[Content_Types].xml` and the `word/` or `xl/` parts, decide. The `infer` crate is used only to
//! *name* rejected content in messages: its own checks are too lenient to admit files (`%PDF`
//! anywhere in the first KiB, OOXML judged from the first few local headers only).
//!
//! A declared type (multipart `Content-Type`, file name extension) is never trusted, but when it
//! contradicts the content the upload is rejected: such a file is either mislabelled or crafted.

use std::fmt;

use serde::Serialize;

use super::DocumentError;
use super::zip::Archive;

/// The document types vorgang accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentType {
    /// Portable Document Format: decisions, scanned letters.
    Pdf,
    /// OpenDocument text, as written by LibreOffice and many municipal offices.
    Odt,
    /// Word document (Office Open XML), without macros.
    Docx,
    /// Excel workbook (Office Open XML), without macros: budgets, staffing plans.
    Xlsx,
    /// PNG image: screenshots, diagrams.
    Png,
    /// JPEG image: photos, scans.
    Jpeg,
}

impl DocumentType {
    /// Every accepted type, in the order messages list them.
    pub const ALL: [DocumentType; 6] = [
        Self::Pdf,
        Self::Odt,
        Self::Docx,
        Self::Xlsx,
        Self::Png,
        Self::Jpeg,
    ];

    /// The canonical MIME type, stored with the document and sent as `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The canonical file name extension, without dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Odt => "odt",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }

    /// Short name as users know it ("PDF").
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Odt => "ODT",
            Self::Docx => "DOCX",
            Self::Xlsx => "XLSX",
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
        }
    }

    /// Description with indefinite article, for sentences ("ist aber ein PNG-Bild").
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Pdf => "ein PDF-Dokument",
            Self::Odt => "ein OpenDocument-Text (ODT)",
            Self::Docx => "ein Word-Dokument (DOCX)",
            Self::Xlsx => "eine Excel-Tabelle (XLSX)",
            Self::Png => "ein PNG-Bild",
            Self::Jpeg => "ein JPEG-Bild",
        }
    }

    /// The type a MIME type names (aliases in use by browsers included); `None` if no accepted one.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let mime = mime
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.mime() == mime)
            .or(match mime.as_str() {
                "application/x-pdf" | "application/acrobat" => Some(Self::Pdf),
                "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
                "image/x-png" => Some(Self::Png),
                _ => None,
            })
    }

    /// The type a file name extension names (case-insensitive, without dot).
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "pdf" => Some(Self::Pdf),
            "odt" => Some(Self::Odt),
            "docx" => Some(Self::Docx),
            "xlsx" => Some(Self::Xlsx),
            "png" => Some(Self::Png),
            "jpg" | "jpeg" | "jpe" | "jfif" => Some(Self::Jpeg),
            _ => None,
        }
    }

    fn is_zip_container(self) -> bool {
        matches!(self, Self::Odt | Self::Docx | Self::Xlsx)
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What the uploader said the file is; both parts optional and never trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared<'a> {
    /// The multipart field's `Content-Type`.
    pub content_type: Option<&'a str>,
    /// The file name as sent by the client.
    pub filename: Option<&'a str>,
}

/// Full check of an upload: not empty, at most `max_size` bytes, content of an accepted type, and
/// not contradicting what was declared. Returns the type the content has.
pub fn identify(
    bytes: &[u8],
    declared: &Declared<'_>,
    max_size: u64,
) -> Result<DocumentType, DocumentError> {
    check_size(bytes.len() as u64, max_size)?;
    let actual = sniff(bytes)?;
    check_declared(actual, declared)?;
    Ok(actual)
}

/// Rejects empty and oversized content.
pub(crate) fn check_size(size: u64, max_size: u64) -> Result<(), DocumentError> {
    if size == 0 {
        return Err(DocumentError::Empty);
    }
    if size > max_size {
        return Err(DocumentError::TooLarge { limit: max_size });
    }
    Ok(())
}

/// The accepted type of `bytes`, judged from content only.
pub fn sniff(bytes: &[u8]) -> Result<DocumentType, DocumentError> {
    if bytes.is_empty() {
        return Err(DocumentError::Empty);
    }
    // "%PDF-1.x" / "%PDF-2.0" at the very start (not merely somewhere in the first KiB).
    if bytes.starts_with(b"%PDF-") && bytes.get(5).is_some_and(u8::is_ascii_digit) {
        return Ok(DocumentType::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(DocumentType::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(DocumentType::Jpeg);
    }
    if let Some(archive) = Archive::parse(bytes) {
        return classify_zip(&archive);
    }
    Err(DocumentError::NotAllowed {
        detected: describe_unknown(bytes),
    })
}

/// ODF text, OOXML word processing or spreadsheet; anything else in a ZIP is refused.
fn classify_zip(archive: &Archive<'_>) -> Result<DocumentType, DocumentError> {
    let refuse = |what: &str| {
        Err(DocumentError::NotAllowed {
            detected: Some(what.to_string()),
        })
    };
    let odf_mimetype = archive.stored_content("mimetype", 100);
    let ooxml = archive.contains("[Content_Types].xml");
    match (odf_mimetype, ooxml) {
        (Some(_), true) => refuse("ein ZIP-Archiv mit widersprüchlichem Inhalt (ODF und OOXML)"),
        (Some(mimetype), false) => match mimetype {
            b"application/vnd.oasis.opendocument.text" if archive.contains("content.xml") => {
                Ok(DocumentType::Odt)
            }
            b"application/vnd.oasis.opendocument.text" => {
                refuse("ein unvollständiges OpenDocument (content.xml fehlt)")
            }
            b"application/vnd.oasis.opendocument.spreadsheet" => {
                refuse("eine OpenDocument-Tabelle (ODS)")
            }
            b"application/vnd.oasis.opendocument.presentation" => {
                refuse("eine OpenDocument-Präsentation (ODP)")
            }
            _ => refuse("ein anderes OpenDocument-Format"),
        },
        (None, true) => {
            let word = archive.has_prefix("word/");
            let excel = archive.has_prefix("xl/");
            let powerpoint = archive.has_prefix("ppt/");
            let macros = archive
                .entries()
                .iter()
                .any(|e| e.name.ends_with("vbaProject.bin"));
            match (word, excel, powerpoint) {
                (true, false, false) if macros => refuse("ein Word-Dokument mit Makros (DOCM)"),
                (false, true, false) if macros => refuse("eine Excel-Tabelle mit Makros (XLSM)"),
                (true, false, false) => Ok(DocumentType::Docx),
                (false, true, false) => Ok(DocumentType::Xlsx),
                (false, false, true) => refuse("eine PowerPoint-Präsentation (PPTX)"),
                (false, false, false) => refuse("ein anderes Office-Open-XML-Format"),
                _ => refuse("ein ZIP-Archiv mit widersprüchlichem Inhalt (mehrere Office-Formate)"),
            }
        }
        (None, false) => refuse("ein ZIP-Archiv"),
    }
}

/// A German description of content that is not accepted, if it can be named.
fn describe_unknown(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(
            "ein älteres oder verschlüsseltes Office-Dokument (z. B. DOC, XLS)".to_string(),
        );
    }
    if let Some(kind) = infer::get(bytes) {
        // infer is more lenient than we are; what it accepts and we do not is damaged or odd.
        if let Some(accepted) = DocumentType::from_mime(kind.mime_type()) {
            return Some(format!(
                "eine beschädigte oder ungültige {}-Datei",
                accepted.label()
            ));
        }
        let named = match kind.extension() {
            "exe" | "dll" => "ein Windows-Programm (EXE)",
            "elf" => "ein Linux-Programm (ELF)",
            "mach" => "ein macOS-Programm",
            "html" => "eine HTML-Seite",
            "xml" => "eine XML-Datei",
            "zip" => "ein ZIP-Archiv",
            "rar" => "ein RAR-Archiv",
            "7z" => "ein 7z-Archiv",
            "gz" => "ein gzip-Archiv",
            "gif" => "ein GIF-Bild",
            "bmp" => "ein BMP-Bild",
            "tif" => "ein TIFF-Bild",
            "webp" => "ein WebP-Bild",
            "heif" => "ein HEIF-Bild",
            "rtf" => "ein RTF-Dokument",
            "sh" => "ein Shell-Skript",
            _ => return Some(format!("eine Datei vom Typ {}", kind.mime_type())),
        };
        return Some(named.to_string());
    }
    let head = &bytes[..bytes.len().min(1024)];
    let lowered = String::from_utf8_lossy(head).to_ascii_lowercase();
    if lowered.contains("<html")
        || lowered.contains("<!doctype html")
        || lowered.contains("<script")
    {
        return Some("eine HTML-Seite".to_string());
    }
    if lowered.contains("<svg") {
        return Some("eine SVG-Grafik".to_string());
    }
    if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        return Some("eine Textdatei".to_string());
    }
    None
}

/// A type somebody claimed for the file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Claim {
    Accepted(DocumentType),
    /// Anything else, described as the user wrote it ("EXE", "text/html").
    Other(String),
    /// A generic ZIP MIME type: compatible with the ZIP-based document types.
    Zip,
}

impl Claim {
    fn allows(&self, actual: DocumentType) -> bool {
        match self {
            Claim::Accepted(claimed) => *claimed == actual,
            Claim::Zip => actual.is_zip_container(),
            Claim::Other(_) => false,
        }
    }

    fn label(&self) -> String {
        match self {
            Claim::Accepted(claimed) => claimed.label().to_string(),
            Claim::Other(text) => text.clone(),
            Claim::Zip => "ZIP".to_string(),
        }
    }
}

/// MIME types that mean "some file" rather than a claim.
const GENERIC_MIME_TYPES: &[&str] = &[
    "application/octet-stream",
    "binary/octet-stream",
    "application/binary",
    "application/unknown",
    "application/download",
    "application/force-download",
    "application/x-download",
];

/// Extensions of well-known types that are not accepted; an extension outside this list and the
/// accepted ones ("Antrag 03.2026") is not taken as a claim.
const OTHER_EXTENSIONS: &[&str] = &[
    "exe", "dll", "com", "bat", "cmd", "msi", "ps1", "sh", "js", "mjs", "vbs", "jar", "scr", "apk",
    "html", "htm", "xhtml", "svg", "xml", "txt", "csv", "rtf", "doc", "dot", "docm", "dotx", "xls",
    "xlsm", "xlsb", "xltx", "ppt", "pptx", "pptm", "pps", "ppsx", "odp", "ods", "odg", "ott",
    "zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "gif", "bmp", "tif", "tiff", "webp",
    "heic", "heif", "ico", "mp3", "mp4", "mov", "avi", "wav", "eml", "msg", "iso", "lnk",
];

fn mime_claim(content_type: &str) -> Option<Claim> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime.is_empty() || GENERIC_MIME_TYPES.contains(&mime.as_str()) {
        return None;
    }
    if let Some(claimed) = DocumentType::from_mime(&mime) {
        return Some(Claim::Accepted(claimed));
    }
    if matches!(
        mime.as_str(),
        "application/zip" | "application/x-zip" | "application/x-zip-compressed"
    ) {
        return Some(Claim::Zip);
    }
    Some(Claim::Other(mime))
}

fn extension_claim(filename: &str) -> Option<Claim> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let (_, extension) = base.rsplit_once('.')?;
    let lowered = extension.trim().to_ascii_lowercase();
    if let Some(claimed) = DocumentType::from_extension(&lowered) {
        return Some(Claim::Accepted(claimed));
    }
    OTHER_EXTENSIONS
        .contains(&lowered.as_str())
        .then(|| Claim::Other(lowered.to_ascii_uppercase()))
}

/// Rejects content whose declared MIME type or file name extension names another type.
pub fn check_declared(actual: DocumentType, declared: &Declared<'_>) -> Result<(), DocumentError> {
    let claims = [
        declared.content_type.and_then(mime_claim),
        declared.filename.and_then(extension_claim),
    ];
    for claim in claims.into_iter().flatten() {
        if !claim.allows(actual) {
            return Err(DocumentError::Mismatch {
                declared: claim.label(),
                actual,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_aliases_and_parameters_are_understood() {
        assert_eq!(
            DocumentType::from_mime("Application/PDF; charset=binary"),
            Some(DocumentType::Pdf)
        );
        assert_eq!(
            DocumentType::from_mime("image/jpg"),
            Some(DocumentType::Jpeg)
        );
        assert_eq!(DocumentType::from_mime("text/plain"), None);
        for kind in DocumentType::ALL {
            assert_eq!(DocumentType::from_mime(kind.mime()), Some(kind));
            assert_eq!(DocumentType::from_extension(kind.extension()), Some(kind));
        }
    }

    #[test]
    fn only_known_extensions_are_claims() {
        assert_eq!(
            extension_claim("Bescheid.PDF"),
            Some(Claim::Accepted(DocumentType::Pdf))
        );
        assert_eq!(
            extension_claim("C:\\Users\\x\\setup.exe"),
            Some(Claim::Other("EXE".into()))
        );
        assert_eq!(extension_claim("Antrag 03.2026"), None);
        assert_eq!(extension_claim("Antrag"), None);
        assert_eq!(extension_claim("dir.pdf/Antrag"), None);
    }

    #[test]
    fn generic_mime_types_claim_nothing_and_zip_fits_containers() {
        assert_eq!(mime_claim("application/octet-stream"), None);
        assert_eq!(mime_claim(""), None);
        assert!(
            mime_claim("application/zip")
                .unwrap()
                .allows(DocumentType::Docx)
        );
        assert!(
            !mime_claim("application/zip")
                .unwrap()
                .allows(DocumentType::Pdf)
        );
    }
}
