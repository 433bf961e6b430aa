//! Content-addressed blob storage: `{root}/ab/cd/abcdef…` where `abcdef…` is the lowercase hex
//! SHA-256 of the content.
//!
//! The same content is stored once, however often it is uploaded, and a blob is never rewritten:
//! a new blob is written to a temporary file in its final directory, fsynced, then hard-linked
//! to its name (which fails instead of replacing an existing file) and the directory fsynced. A
//! crash leaves at most a stray temporary file, never a partial blob under a hash name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::kind::{self, Declared, DocumentType};
use super::{DEFAULT_MAX_SIZE, DocumentError};

/// The document store under the data directory; cheap to clone, shared by handlers.
#[derive(Debug, Clone)]
pub struct DocumentStore {
    root: PathBuf,
    max_size: u64,
}

/// A blob that is now in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lowercase hex SHA-256 of the content; the blob's name.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// What the content is (decided by sniffing).
    pub document_type: DocumentType,
    /// False when identical content was stored before and has been reused.
    pub newly_written: bool,
}

/// True for exactly 64 lowercase hex digits: the only names `open` accepts, so no path can be
/// smuggled in.
pub fn is_valid_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl DocumentStore {
    /// A store rooted at `root` with the default size limit (20 MiB).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The store of an installation: `{data_dir}/documents`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("documents"))
    }

    /// The store as configured: under `data_dir`, limited to `document_max_mb`.
    pub fn for_settings(settings: &crate::config::Settings) -> Self {
        Self::in_data_dir(&settings.data_dir).with_max_size(settings.document_max_size)
    }

    /// The same store with another size limit in bytes.
    pub fn with_max_size(mut self, max_size: u64) -> Self {
        self.max_size = max_size;
        self
    }

    /// The largest accepted document in bytes; upload handlers cap their buffers with it.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The directory blobs live under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A buffer for an upload arriving in chunks, refusing more than [`Self::max_size`] bytes.
    pub fn upload_buffer(&self) -> UploadBuffer {
        UploadBuffer::new(self.max_size)
    }

    /// Checks `bytes` (not empty, not too large, an accepted type by content) and stores them,
    /// reusing an existing blob with the same hash.
    pub fn store(&self, bytes: &[u8]) -> Result<StoredBlob, DocumentError> {
        kind::check_size(bytes.len() as u64, self.max_size)?;
        let document_type = kind::sniff(bytes)?;
        self.write(bytes, document_type)
    }

    /// [`Self::store`] for an upload: additionally rejects content contradicting its declared
    /// MIME type or file name extension.
    pub fn store_upload(
        &self,
        bytes: &[u8],
        declared: &Declared<'_>,
    ) -> Result<StoredBlob, DocumentError> {
        let document_type = kind::identify(bytes, declared, self.max_size)?;
        self.write(bytes, document_type)
    }

    /// Writes `bytes` (whose hash is `sha256`) again if their blob is gone. Called after an
    /// upload's document row has committed: an Aussonderung that removed the last other
    /// document with the same content may have taken the blob away in between (see
    /// [`Self::remove_unless`]). A failure is logged: the document is recorded either way,
    /// and `vorgang audit documents` names a missing file.
    pub fn keep(&self, sha256: &str, bytes: &[u8]) {
        match self
            .path_of(sha256)
            .and_then(|path| write_once(&path, bytes))
        {
            Ok(false) => {}
            Ok(true) => tracing::info!(%sha256, "document file written again after a removal"),
            Err(error) => tracing::error!(%error, %sha256, "document file could not be kept"),
        }
    }

    /// Removes the blob `sha256` unless `needed` says a document still refers to it. `needed`
    /// is asked before and again after the blob has been moved aside: a document committed
    /// before the second question keeps its blob (it is moved back); one committed after it
    /// finds the blob gone and writes it again ([`Self::keep`]). Returns whether it removed.
    pub fn remove_unless(
        &self,
        sha256: &str,
        mut needed: impl FnMut() -> io::Result<bool>,
    ) -> io::Result<bool> {
        let path = self.path_of(sha256)?;
        if needed()? {
            return Ok(false);
        }
        let aside = path.with_file_name(format!(".{sha256}.entfernt"));
        match fs::rename(&path, &aside) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(error),
        }
        if needed()? {
            fs::rename(&aside, &path)?;
            return Ok(false);
        }
        fs::remove_file(&aside)?;
        Ok(true)
    }

    /// Opens a blob for reading; `InvalidInput` unless `sha256` is 64 lowercase hex digits.
    pub fn open(&self, sha256: &str) -> io::Result<File> {
        File::open(self.path_of(sha256)?)
    }

    /// True if a blob with this hash is stored.
    pub fn contains(&self, sha256: &str) -> bool {
        self.path_of(sha256).is_ok_and(|path| path.is_file())
    }

    /// Where the blob with this hash lives (whether or not it exists).
    pub fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_valid_sha256(sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ungültiger Dokument-Hash (erwartet 64 Hexadezimalziffern)",
            ));
        }
        Ok(self
            .root
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256))
    }

    /// Copies the blob named `sha256` from `source` into this store unless it is there,
    /// checking that the content has that hash and `size` bytes (it is never trusted: this is
    /// how backups are written and restored). Returns whether it wrote; a mismatch is
    /// `InvalidData` and leaves nothing behind.
    pub fn import(&self, sha256: &str, size: u64, mut source: impl Read) -> io::Result<bool> {
        let path = self.path_of(sha256)?;
        if let Some(existing) = existing_len(&path)? {
            return check_existing(&path, existing, size).map(|()| false);
        }
        link_new(&path, |file| {
            let (found, len) = digest_into(&mut source, file)?;
            if found != sha256 || len != size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("Inhalt weicht ab: {len} Bytes mit SHA-256 {found}"),
                ));
            }
            Ok(())
        })
    }

    fn write(
        &self,
        bytes: &[u8],
        document_type: DocumentType,
    ) -> Result<StoredBlob, DocumentError> {
        let sha256 = sha256_hex(bytes);
        let path = self.path_of(&sha256)?;
        let newly_written = write_once(&path, bytes)?;
        Ok(StoredBlob {
            sha256,
            size: bytes.len() as u64,
            document_type,
            newly_written,
        })
    }
}

/// Writes `bytes` to `path` unless it exists; returns whether it wrote.
fn write_once(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if let Some(existing) = existing_len(path)? {
        return check_existing(path, existing, bytes.len() as u64).map(|()| false);
    }
    link_new(path, |file| file.write_all(bytes))
}

/// Writes a new blob at `path` through a temporary file that `fill` writes, fsyncs and links
/// into place (never replacing a blob another writer placed first); returns whether it wrote.
fn link_new(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<bool> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("Dokumentpfad ohne Verzeichnis"))?;
    create_dirs_durably(dir)?;

    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("Dokumentpfad ohne Namen"))?;
    let temp = TempFile(dir.join(format!(
        ".{file_name}.{}.tmp",
        uuid::Uuid::new_v4().simple()
    )));
    {
        let mut file = create_private(&temp.0)?;
        fill(&mut file)?;
        file.sync_all()?;
    }
    let written = match fs::hard_link(&temp.0, path) {
        Ok(()) => true,
        // Another upload of the same content won the race: same hash, same bytes.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        // File systems without hard links: rename, after checking once more.
        Err(_) if path.exists() => false,
        Err(_) => {
            fs::rename(&temp.0, path)?;
            true
        }
    };
    drop(temp);
    crate::durable_fs::sync_dir(dir)?;
    Ok(written)
}

fn existing_len(path: &Path) -> io::Result<Option<u64>> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Same hash means same content; a different length means the store was damaged from outside.
fn check_existing(path: &Path, len: u64, expected: u64) -> io::Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "vorhandene Datei {} hat {len} statt {expected} Bytes; Dokumentablage beschädigt",
                path.display(),
            ),
        ))
    }
}

/// Lowercase hex SHA-256 and length of everything `reader` yields, read in 64 KiB pieces.
pub fn digest(mut reader: impl Read) -> io::Result<(String, u64)> {
    digest_into(&mut reader, &mut io::sink())
}

/// [`digest`] that also copies every byte to `out`.
fn digest_into(reader: &mut impl Read, out: &mut impl Write) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])?;
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

/// Lowercase hex SHA-256 of `bytes`: a blob's name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `dir` and its missing parents, fsyncing each parent whose entries changed.
fn create_dirs_durably(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => crate::durable_fs::sync_dir(parent),
        _ => Ok(()),
    }
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Removes the temporary file when dropped, whether the write succeeded or not.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Collects an upload that arrives in chunks (a multipart field) and stops at the size limit,
/// so an oversized upload is refused before it is held in memory.
#[derive(Debug)]
pub struct UploadBuffer {
    bytes: Vec<u8>,
    limit: u64,
}

impl UploadBuffer {
    /// An empty buffer accepting at most `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }

    /// Appends a chunk; [`DocumentError::TooLarge`] once the total exceeds the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), DocumentError> {
        let total = self.bytes.len() as u64 + chunk.len() as u64;
        if total > self.limit {
            return Err(DocumentError::TooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes collected so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads all of `reader`, refusing more than `limit` bytes (reads at most one byte past it).
pub fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, DocumentError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(DocumentError::TooLarge { limit });
    }
    Ok(bytes)
}
