//! Crash-safe file writes: the one implementation for every file Credence writes outside a
//! database (keys and their manifest, the log's key files and exports, contributors' files,
//! snapshot exports, an auditor's state file). It lives in this crate because both the auditor's
//! `credence-verify` and the server write such files, and the server builds on this crate.
//!
//! Written by hand because the well-kept crates that do write + fsync + rename (for example
//! `atomic-write-file`) set a file's permission bits only after creating it, so a secret would
//! be readable by others for a moment; here the temp file is created with its final mode.
//!
//! Invariant: a crash at any point leaves either the old file or the complete new one, never a
//! torn or empty one: the bytes go to a temp file in the same directory, created fresh with the
//! final permission bits (so a secret is never readable by others, not even for a moment), which
//! is fsynced, renamed over the target, and then the directory is fsynced so the rename itself
//! survives a power loss. A failed write removes its temp file.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::Path;

/// Writes `bytes` to `path` with Unix permission bits `mode`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_atomic_with(path, mode, |w| w.write_all(bytes))
}

/// Writes what `fill` streams to `path` with Unix permission bits `mode`.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // A leftover of a crashed earlier attempt by a process with this pid is stale.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let file = options.open(&tmp)?;
        {
            let mut w = BufWriter::new(&file);
            fill(&mut w)?;
            w.flush()?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_with_the_given_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"old", 0o644).unwrap();
        write_atomic(&path, b"new contents", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new contents");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_removes_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"old", 0o644).unwrap();
        let e = write_atomic_with(&path, 0o644, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("serializer failed"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "serializer failed");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
