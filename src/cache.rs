//! Records on disk: where they live, who may read them, atomic replacement and the mint lock.
//!
//! Readers never lock: a record is replaced by `rename`, so a reader sees the old or the new
//! file, never half of one. Minting takes an exclusive lock on a sibling `.lock` file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::record::Record;
use crate::target::Target;

/// Records are small; anything bigger than this is not ours.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

pub struct Cache {
    dir: PathBuf,
}

/// What reading a record found.
pub enum Lookup {
    Missing,
    Found(Box<Record>),
    /// Present but unusable (damaged, for another target); the reason is for a warning.
    Damaged(String),
    /// Present but not trustworthy (a link, or writable by others); never read.
    Untrusted(String),
}

/// Held while minting; released on drop (and by the kernel if the process dies).
pub struct MintLock {
    _file: File,
}

impl Cache {
    /// `BEDROCK_ENV_CACHE_DIR`, else `$XDG_CACHE_HOME/bedrock-env`, else `~/.cache/bedrock-env`.
    pub fn locate(getenv: &dyn Fn(&str) -> Option<String>) -> io::Result<Cache> {
        let nonempty = |name: &str| getenv(name).filter(|v| !v.is_empty());
        let dir = if let Some(dir) = nonempty("BEDROCK_ENV_CACHE_DIR") {
            PathBuf::from(dir)
        } else if let Some(xdg) = nonempty("XDG_CACHE_HOME").filter(|p| p.starts_with('/')) {
            PathBuf::from(xdg).join("bedrock-env")
        } else if let Some(home) = nonempty("HOME") {
            PathBuf::from(home).join(".cache").join("bedrock-env")
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no cache directory: set HOME, XDG_CACHE_HOME or BEDROCK_ENV_CACHE_DIR",
            ));
        };
        Ok(Cache { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn record_path(&self, target: &Target) -> PathBuf {
        self.dir.join(target.cache_file_name())
    }

    fn lock_path(&self, target: &Target) -> PathBuf {
        self.dir.join(format!("{}.lock", target.cache_file_name()))
    }

    /// Reads the record for `target` without taking any lock.
    pub fn read(&self, target: &Target) -> Lookup {
        if let Err(reason) = self.check_dir(false) {
            return match reason {
                DirState::Missing => Lookup::Missing,
                DirState::Untrusted(why) => Lookup::Untrusted(why),
            };
        }
        let path = self.record_path(target);
        match read_private_file(&path) {
            Ok(None) => Lookup::Missing,
            Ok(Some(bytes)) => match Record::parse_for(&bytes, &target.identity()) {
                Ok(record) => Lookup::Found(Box::new(record)),
                Err(why) => Lookup::Damaged(format!("{}: {why}", path.display())),
            },
            Err(FileProblem::Untrusted(why)) => {
                Lookup::Untrusted(format!("{}: {why}", path.display()))
            }
            Err(FileProblem::Io(e)) => Lookup::Damaged(format!("{}: {e}", path.display())),
        }
    }

    /// Creates the directory (0700) if needed and checks it is ours and private.
    pub fn ensure_dir(&self) -> io::Result<()> {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        match self.check_dir(true) {
            Ok(()) => Ok(()),
            Err(DirState::Missing) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} could not be created", self.dir.display()),
            )),
            Err(DirState::Untrusted(why)) => {
                Err(io::Error::new(io::ErrorKind::PermissionDenied, why))
            }
        }
    }

    /// Checks the directory is ours and private. With `tighten`, a directory of ours that is too
    /// open is made 0700 (we are about to write into it); without, a writable-by-others
    /// directory is untrusted, since someone else could have put a record there.
    fn check_dir(&self, tighten: bool) -> Result<(), DirState> {
        let meta = match fs::symlink_metadata(&self.dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(DirState::Missing),
            Err(e) => return Err(DirState::Untrusted(format!("{}: {e}", self.dir.display()))),
        };
        if !meta.is_dir() {
            return Err(DirState::Untrusted(format!(
                "{} is not a directory",
                self.dir.display()
            )));
        }
        if meta.uid() != current_uid() {
            return Err(DirState::Untrusted(format!(
                "{} belongs to another user",
                self.dir.display()
            )));
        }
        if !tighten && meta.mode() & 0o022 != 0 {
            return Err(DirState::Untrusted(format!(
                "{} is writable by group or others",
                self.dir.display()
            )));
        }
        if tighten && meta.mode() & 0o077 != 0 {
            // Ours but too open (an old umask, a manual mkdir): tighten rather than refuse.
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
                DirState::Untrusted(format!(
                    "{} is accessible to others and could not be made private: {e}",
                    self.dir.display()
                ))
            })?;
        }
        Ok(())
    }

    /// Atomically replaces the record for `target`: write a private temp file, fsync, rename,
    /// fsync the directory. `rename` replaces a symlink itself rather than writing through it.
    /// Only the holder of the mint lock writes, so any other temp file for this target was left
    /// by a writer that died (`kill -9`, power loss) and is removed here.
    pub fn write(&self, _lock: &MintLock, target: &Target, record: &Record) -> io::Result<()> {
        self.ensure_dir()?;
        let path = self.record_path(target);
        let tmp_prefix = format!(".{}.", target.cache_file_name());
        let tmp = self
            .dir
            .join(format!("{tmp_prefix}{}.tmp", std::process::id()));
        // A stale file under our own name (a dead process with a recycled pid) would make
        // `create_new` fail: it is not ours to keep.
        let _ = remove_if_exists(&tmp);
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            // The mode passed to open is filtered by the umask; make sure it is exactly 0600.
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
            file.write_all(&record.to_json())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
            return result;
        }
        // Make the rename itself durable; a failure here loses nothing that was promised.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        self.remove_stale_temps(&tmp_prefix);
        Ok(())
    }

    /// Removes `<prefix><pid>.tmp` files: only called by the lock holder, after its own rename.
    fn remove_stale_temps(&self, prefix: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let is_stale_temp = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".tmp"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
            if is_stale_temp {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Blocks until this process holds the mint lock for `target`.
    pub fn lock(&self, target: &Target) -> io::Result<MintLock> {
        let file = self.open_lock(target)?;
        fs4::FileExt::lock(&file)?;
        Ok(MintLock { _file: file })
    }

    /// Takes the mint lock if nobody holds it.
    pub fn try_lock(&self, target: &Target) -> io::Result<Option<MintLock>> {
        let file = self.open_lock(target)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(Some(MintLock { _file: file })),
            Err(fs4::TryLockError::WouldBlock) => Ok(None),
            Err(fs4::TryLockError::Error(e)) => Err(e),
        }
    }

    fn open_lock(&self, target: &Target) -> io::Result<File> {
        self.ensure_dir()?;
        // std opens files close-on-exec (O_CLOEXEC), so a credential_process child that
        // outlives us cannot inherit the descriptor and with it the lock (tests/faults.rs).
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.lock_path(target))?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.uid() != current_uid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not a lock file of ours",
                    self.lock_path(target).display()
                ),
            ));
        }
        // The umask filters the mode given to open: make it exactly 0600 whatever the umask.
        if meta.mode() & 0o777 != 0o600 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }

    /// Every record file in the cache directory (not locks or temp files).
    pub fn record_files(&self) -> io::Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Reads any record file in the directory, for `status` (identity not checked).
    pub fn read_any(&self, path: &Path) -> Result<Record, String> {
        if let Err(DirState::Untrusted(why)) = self.check_dir(false) {
            return Err(why);
        }
        match read_private_file(path) {
            Ok(Some(bytes)) => {
                let identity = Record::claimed_identity(&bytes)?;
                Record::parse_for(&bytes, &identity)
            }
            Ok(None) => Err("missing".to_owned()),
            Err(FileProblem::Untrusted(why)) => Err(why),
            Err(FileProblem::Io(e)) => Err(e.to_string()),
        }
    }

    /// Removes the record (and its lock file) for `target`.
    pub fn remove(&self, target: &Target) -> io::Result<bool> {
        let removed = remove_if_exists(&self.record_path(target))?;
        remove_if_exists(&self.lock_path(target))?;
        Ok(removed)
    }

    /// Removes every record, lock and temp file; returns how many records went.
    pub fn remove_all(&self) -> io::Result<usize> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut records = 0;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.ends_with(".json") || name.ends_with(".lock") || name.ends_with(".tmp");
            if ours && remove_if_exists(&path)? && name.ends_with(".json") && !name.starts_with('.')
            {
                records += 1;
            }
        }
        Ok(records)
    }
}

enum DirState {
    Missing,
    Untrusted(String),
}

enum FileProblem {
    Untrusted(String),
    Io(io::Error),
}

/// Opens without following links and refuses files others could have written.
fn read_private_file(path: &Path) -> Result<Option<Vec<u8>>, FileProblem> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(FileProblem::Untrusted("is a symbolic link".to_owned()));
        }
        Err(e) => return Err(FileProblem::Io(e)),
    };
    let meta = file.metadata().map_err(FileProblem::Io)?;
    if !meta.is_file() {
        return Err(FileProblem::Untrusted("is not a regular file".to_owned()));
    }
    if meta.uid() != current_uid() {
        return Err(FileProblem::Untrusted("belongs to another user".to_owned()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(FileProblem::Untrusted(
            "is writable by group or others".to_owned(),
        ));
    }
    let mut bytes = Vec::with_capacity(4096);
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(FileProblem::Io)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(FileProblem::Io(io::Error::other("record is too large")));
    }
    Ok(Some(bytes))
}

fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The real user id: records and the cache directory must belong to it.
pub fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
