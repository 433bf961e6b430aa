//! The case file as a ZIP archive, written as a stream: every member below one folder named
//! after the Aktenzeichen, then `pruefsummen.sha256` with the SHA-256 of every member in the
//! format of `sha256sum`, so that whoever receives the archive (the Kreisarchiv, the
//! Rechnungsprüfung) checks it with `sha256sum -c pruefsummen.sha256` in that folder.
//!
//! Members are stored uncompressed: the documents are PDF, PNG, JPEG or ZIP-based office
//! files, compressed already. The writer needs no `Seek` (sizes follow each member in a data
//! descriptor), so the archive goes to the client while it is written and a case with many
//! large documents is never held in memory.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Name of the checksum list, the last member of every archive.
pub const CHECKSUMS: &str = "pruefsummen.sha256";

/// What a member holds.
#[derive(Debug)]
pub enum Content {
    /// Text or data produced for the export.
    Bytes(Vec<u8>),
    /// A stored document, checked to exist before the archive began (so that a missing blob
    /// is known before anything is sent) and opened only when its turn comes, so that a case
    /// with hundreds of documents holds one file open, not hundreds.
    File(PathBuf),
}

/// One member of the archive.
#[derive(Debug)]
pub struct Member {
    /// Path below the archive's folder, `/` separated (`dokumente/0007-Antrag.pdf`).
    pub path: String,
    /// When its content was made, in UTC; stored as German local time (ZIP knows no zones).
    pub modified: NaiveDateTime,
    pub content: Content,
}

/// A name that unpacks on every system: characters Windows refuses in file names (`<>:"|?*`,
/// and `/` or `\` inside a name) become `_`.
pub fn portable_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// ZIP's MS-DOS time stamp for a UTC time, as wall-clock time in Germany (the 1980 epoch where
/// the time is earlier).
fn dos_time(at: NaiveDateTime) -> zip::DateTime {
    let local = chrono_tz::Europe::Berlin.from_utc_datetime(&at);
    u16::try_from(local.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                local.month() as u8,
                local.day() as u8,
                local.hour() as u8,
                local.minute() as u8,
                local.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

fn zip_error(error: zip::result::ZipError) -> io::Error {
    match error {
        zip::result::ZipError::Io(error) => error,
        other => io::Error::other(other.to_string()),
    }
}

/// Writes `members` below the folder `folder`, then the checksum list (dated `written_at`), to
/// `out` and returns it. An error of `out` (the client went away) ends the archive there.
pub fn write<W: Write>(
    out: W,
    folder: &str,
    members: Vec<Member>,
    written_at: NaiveDateTime,
) -> io::Result<W> {
    let folder = portable_name(folder);
    let mut zip = ZipWriter::new_stream(out);
    let mut checksums = String::new();
    let mut buffer = vec![0_u8; 64 * 1024];
    for member in members {
        let path = member
            .path
            .split('/')
            .map(portable_name)
            .collect::<Vec<_>>()
            .join("/");
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(dos_time(member.modified))
            .large_file(matches!(&member.content, Content::File(blob)
                if blob.metadata().is_ok_and(|m| m.len() >= u64::from(u32::MAX))));
        zip.start_file(format!("{folder}/{path}"), options)
            .map_err(zip_error)?;
        let mut hasher = Sha256::new();
        match member.content {
            Content::Bytes(bytes) => {
                hasher.update(&bytes);
                zip.write_all(&bytes)?;
            }
            Content::File(blob) => {
                let mut file = File::open(&blob)?;
                loop {
                    let read = file.read(&mut buffer)?;
                    if read == 0 {
                        break;
                    }
                    hasher.update(&buffer[..read]);
                    zip.write_all(&buffer[..read])?;
                }
            }
        }
        checksums.push_str(&format!("{:x}  {path}\n", hasher.finalize()));
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(dos_time(written_at));
    zip.start_file(format!("{folder}/{CHECKSUMS}"), options)
        .map_err(zip_error)?;
    zip.write_all(checksums.as_bytes())?;
    let mut out = zip.finish().map_err(zip_error)?.into_inner();
    out.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::zip::Archive;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn members_and_their_checksums_are_read_back_by_an_independent_reader() {
        let dir = tempfile::tempdir().unwrap();
        let stored = dir.path().join("blob");
        std::fs::write(&stored, b"%PDF-1.7 Integrationskonzept").unwrap();
        let members = vec![
            Member {
                path: "akte.html".into(),
                modified: at("2026-07-01 08:00:00"),
                content: Content::Bytes("<p>Übersicht</p>".as_bytes().to_vec()),
            },
            Member {
                path: "dokumente/0003-Konzept: Entwurf?.pdf".into(),
                modified: at("2026-07-02 09:30:00"),
                content: Content::File(stored.clone()),
            },
        ];
        let bytes = write(
            Vec::new(),
            "KI-05974-2026-0001",
            members,
            at("2026-12-04 12:00:00"),
        )
        .unwrap();

        // documents::zip reads the central directory on its own, not with the zip crate.
        let archive = Archive::parse(&bytes).expect("a readable ZIP archive");
        let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "KI-05974-2026-0001/akte.html",
                "KI-05974-2026-0001/dokumente/0003-Konzept_ Entwurf_.pdf",
                "KI-05974-2026-0001/pruefsummen.sha256",
            ]
        );
        let document = archive
            .stored_content(
                "KI-05974-2026-0001/dokumente/0003-Konzept_ Entwurf_.pdf",
                1 << 20,
            )
            .unwrap();
        assert_eq!(document, b"%PDF-1.7 Integrationskonzept");
        let sums = archive
            .stored_content("KI-05974-2026-0001/pruefsummen.sha256", 1 << 20)
            .unwrap();
        let expected = format!(
            "{:x}  akte.html\n{:x}  dokumente/0003-Konzept_ Entwurf_.pdf\n",
            Sha256::digest("<p>Übersicht</p>".as_bytes()),
            Sha256::digest(b"%PDF-1.7 Integrationskonzept"),
        );
        assert_eq!(std::str::from_utf8(sums).unwrap(), expected);
    }

    #[test]
    fn times_are_german_wall_clock_time() {
        // 06:30 UTC in summer is 08:30 in Germany, in winter 07:30.
        let summer = dos_time(at("2026-07-01 06:30:00"));
        assert_eq!((summer.hour(), summer.minute()), (8, 30));
        let winter = dos_time(at("2026-12-01 06:30:00"));
        assert_eq!((winter.hour(), winter.minute()), (7, 30));
        assert_eq!(
            dos_time(at("1970-01-01 00:00:00")),
            zip::DateTime::default()
        );
    }

    #[test]
    fn names_unpack_on_windows() {
        assert_eq!(
            portable_name("Antrag: \"final\" <v2>|?*.pdf"),
            "Antrag_ _final_ _v2____.pdf"
        );
        assert_eq!(portable_name("Übersicht 2026.pdf"), "Übersicht 2026.pdf");
    }
}
