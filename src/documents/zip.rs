//! Just enough of the ZIP format to tell ODT, DOCX and XLSX apart from other ZIP files: the entry
//! names from the central directory (where the archive itself lists its contents, whatever the
//! order of the entries) and the content of one stored entry (ODF's `mimetype`).
//!
//! Nothing is decompressed. Every offset read from the input is bounds-checked; malformed input
//! yields `None`, never a panic (a property test feeds random bytes).

/// End of central directory record.
const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
/// ZIP64 end of central directory locator and record.
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: usize = 20;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
/// Central directory file header.
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const CENTRAL_LEN: usize = 46;
/// Local file header.
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;
/// More entries than any office document has; bounds the work on hostile input.
const MAX_ENTRIES: u64 = 65_535;
/// Compression method "stored".
const STORED: u16 = 0;

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's path inside the archive (ZIP names are bytes; non-UTF-8 is replaced).
    pub name: String,
    method: u16,
    compressed_size: u64,
    local_header_offset: u64,
}

/// A parsed ZIP central directory over the archive's bytes.
#[derive(Debug)]
pub struct Archive<'a> {
    bytes: &'a [u8],
    entries: Vec<Entry>,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let slice = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([slice[0], slice[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(slice);
    Some(u64::from_le_bytes(array))
}

impl<'a> Archive<'a> {
    /// Reads the central directory; `None` if `bytes` is not a well-formed ZIP archive that starts
    /// with a local file header (as every office document does).
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        if u32_at(bytes, 0)? != LOCAL_SIGNATURE {
            return None;
        }
        let eocd = find_eocd(bytes)?;
        let (count, size, offset) = directory_location(bytes, eocd)?;
        if count > MAX_ENTRIES {
            return None;
        }
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        if end > eocd {
            return None;
        }
        let directory = bytes.get(start..end)?;
        let mut entries = Vec::new();
        let mut at = 0usize;
        for _ in 0..count {
            if u32_at(directory, at)? != CENTRAL_SIGNATURE {
                return None;
            }
            let method = u16_at(directory, at + 10)?;
            let compressed = u32_at(directory, at + 20)?;
            let uncompressed = u32_at(directory, at + 24)?;
            let name_len = usize::from(u16_at(directory, at + 28)?);
            let extra_len = usize::from(u16_at(directory, at + 30)?);
            let comment_len = usize::from(u16_at(directory, at + 32)?);
            let local = u32_at(directory, at + 42)?;
            let name_start = at + CENTRAL_LEN;
            let name = directory.get(name_start..name_start.checked_add(name_len)?)?;
            let extra_start = name_start + name_len;
            let extra = directory.get(extra_start..extra_start.checked_add(extra_len)?)?;
            let (compressed_size, local_header_offset) =
                zip64_sizes(extra, uncompressed, compressed, local)?;
            entries.push(Entry {
                name: String::from_utf8_lossy(name).into_owned(),
                method,
                compressed_size,
                local_header_offset,
            });
            at = extra_start
                .checked_add(extra_len)?
                .checked_add(comment_len)?;
        }
        Some(Self { bytes, entries })
    }

    /// The entries in central-directory order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// True if an entry has exactly this name.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// True if any entry's name starts with `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.entries.iter().any(|e| e.name.starts_with(prefix))
    }

    /// The content of a *stored* (uncompressed) entry of at most `limit` bytes; `None` if the
    /// entry is missing, compressed, larger, or its local header is malformed.
    pub fn stored_content(&self, name: &str, limit: u64) -> Option<&'a [u8]> {
        let entry = self.entries.iter().find(|e| e.name == name)?;
        if entry.method != STORED || entry.compressed_size > limit {
            return None;
        }
        let header = usize::try_from(entry.local_header_offset)
            .ok()
            .filter(|&h| h < self.bytes.len())?;
        if u32_at(self.bytes, header)? != LOCAL_SIGNATURE {
            return None;
        }
        let name_len = usize::from(u16_at(self.bytes, header + 26)?);
        let extra_len = usize::from(u16_at(self.bytes, header + 28)?);
        let local_name = self
            .bytes
            .get(header + LOCAL_LEN..(header + LOCAL_LEN).checked_add(name_len)?)?;
        if local_name != entry.name.as_bytes() {
            return None;
        }
        let data = header + LOCAL_LEN + name_len + extra_len;
        let len = usize::try_from(entry.compressed_size).ok()?;
        self.bytes.get(data..data.checked_add(len)?)
    }
}

/// Position of the end-of-central-directory record: searched backwards over the last 64 KiB
/// (the record may be followed by a comment of up to 65,535 bytes).
fn find_eocd(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        u32_at(bytes, at) == Some(EOCD_SIGNATURE)
            && u16_at(bytes, at + 20)
                .is_some_and(|comment| at + EOCD_LEN + usize::from(comment) <= bytes.len())
    })
}

/// Entry count, size and offset of the central directory, from the classic record or, when that
/// says "see ZIP64", from the ZIP64 record.
fn directory_location(bytes: &[u8], eocd: usize) -> Option<(u64, u64, u64)> {
    let count = u16_at(bytes, eocd + 10)?;
    let size = u32_at(bytes, eocd + 12)?;
    let offset = u32_at(bytes, eocd + 16)?;
    if count != u16::MAX && size != u32::MAX && offset != u32::MAX {
        return Some((u64::from(count), u64::from(size), u64::from(offset)));
    }
    let locator = eocd.checked_sub(ZIP64_LOCATOR_LEN)?;
    if u32_at(bytes, locator)? != ZIP64_LOCATOR_SIGNATURE {
        return None;
    }
    let record = usize::try_from(u64_at(bytes, locator + 8)?)
        .ok()
        .filter(|&r| r < locator)?;
    if u32_at(bytes, record)? != ZIP64_EOCD_SIGNATURE {
        return None;
    }
    Some((
        u64_at(bytes, record + 32)?,
        u64_at(bytes, record + 40)?,
        u64_at(bytes, record + 48)?,
    ))
}

/// Applies the ZIP64 extra field (id 0x0001) to the 32-bit values that are saturated: its 64-bit
/// values appear in the order uncompressed, compressed, local header offset, each only if needed.
fn zip64_sizes(extra: &[u8], uncompressed: u32, compressed: u32, local: u32) -> Option<(u64, u64)> {
    let mut compressed_size = u64::from(compressed);
    let mut local_offset = u64::from(local);
    if uncompressed != u32::MAX && compressed != u32::MAX && local != u32::MAX {
        return Some((compressed_size, local_offset));
    }
    let mut at = 0usize;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at)?;
        let len = usize::from(u16_at(extra, at + 2)?);
        let data = extra.get(at + 4..(at + 4).checked_add(len)?)?;
        if id == 0x0001 {
            let mut field = 0usize;
            if uncompressed == u32::MAX {
                field += 8;
            }
            if compressed == u32::MAX {
                compressed_size = u64_at(data, field)?;
                field += 8;
            }
            if local == u32::MAX {
                local_offset = u64_at(data, field)?;
            }
            return Some((compressed_size, local_offset));
        }
        at += 4 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DOCX: &[u8] = include_bytes!("../../tests/fixtures/documents/minimal.docx");
    const ODT: &[u8] = include_bytes!("../../tests/fixtures/documents/minimal.odt");

    #[test]
    fn lists_the_central_directory() {
        let archive = Archive::parse(DOCX).unwrap();
        let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
        );
        assert!(archive.contains("_rels/.rels"));
        assert!(archive.has_prefix("word/"));
        assert!(!archive.has_prefix("xl/"));
    }

    #[test]
    fn reads_a_stored_entry_but_not_a_compressed_one() {
        let archive = Archive::parse(ODT).unwrap();
        assert_eq!(
            archive.stored_content("mimetype", 100),
            Some(&b"application/vnd.oasis.opendocument.text"[..])
        );
        assert_eq!(
            archive.stored_content("mimetype", 10),
            None,
            "over the limit"
        );
        assert_eq!(archive.stored_content("content.xml", 10_000), None);
        assert_eq!(archive.stored_content("fehlt", 100), None);
    }

    #[test]
    fn a_trailing_comment_is_skipped() {
        let mut bytes = DOCX.to_vec();
        let eocd = find_eocd(&bytes).unwrap();
        let comment = b"Kommentar PK\x05\x06 mit falscher Signatur";
        bytes[eocd + 20..eocd + 22].copy_from_slice(&(comment.len() as u16).to_le_bytes());
        bytes.extend_from_slice(comment);
        assert_eq!(Archive::parse(&bytes).unwrap().entries().len(), 3);
    }

    #[test]
    fn malformed_archives_are_rejected() {
        assert!(Archive::parse(b"").is_none());
        assert!(Archive::parse(b"PK\x03\x04").is_none());
        assert!(
            Archive::parse(&DOCX[..DOCX.len() - 1]).is_none(),
            "cut EOCD"
        );
        assert!(
            Archive::parse(&DOCX[..DOCX.len() / 2]).is_none(),
            "cut in half"
        );
        // The central directory pointing past the end of the file.
        let mut bytes = DOCX.to_vec();
        let eocd = find_eocd(&bytes).unwrap();
        bytes[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.wrapping_sub(1).to_le_bytes());
        assert!(Archive::parse(&bytes).is_none());
        // An empty archive does not start with a local header.
        assert!(Archive::parse(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").is_none());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Archive::parse(&bytes);
            let mut prefixed = b"PK\x03\x04".to_vec();
            prefixed.extend_from_slice(&bytes);
            let _ = Archive::parse(&prefixed);
        }

        #[test]
        fn corrupting_any_byte_never_panics(at in 0usize..913, value in any::<u8>()) {
            let mut bytes = DOCX.to_vec();
            let at = at % bytes.len();
            bytes[at] = value;
            if let Some(archive) = Archive::parse(&bytes) {
                let _ = archive.stored_content("word/document.xml", 1 << 20);
            }
        }
    }
}
