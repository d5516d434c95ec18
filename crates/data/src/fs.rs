//! Files written whole or not at all.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one:
/// write a temporary file beside it, fsync it, rename it over `path`, fsync the directory.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The file system holding `path`: bytes an unprivileged writer may still use, and the size
/// of its allocation blocks (a file takes whole blocks). Unix only (statvfs); elsewhere
/// `Unsupported`.
pub fn free_space(path: &Path) -> std::io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(path)?;
        let block = s.f_frsize.max(1);
        Ok((s.f_bavail.saturating_mul(block), block))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Err(std::io::ErrorKind::Unsupported.into())
    }
}
