//! The artifact directory of a run, and crash-safe file writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::train_error::TrainError;

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one:
/// write a temporary file beside it, fsync it, rename it over `path`, fsync the directory.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let io = |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    };
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
    result.map_err(io)
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| TrainError::Invalid(format!("{}: cannot serialise: {e}", path.display())))?;
    bytes.push(b'\n');
    atomic_write(path, &bytes)
}

/// Reads a JSON file written by [`write_json`]; an unparsable file is an error naming it and
/// saying it is not `what` (e.g. "a CNN run configuration").
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, TrainError> {
    let bytes = fs::read(path).map_err(|source| TrainError::Io {
        path: path.into(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        reason: format!("not {what}: {e}"),
    })
}

/// The directory a run writes into. It is never deleted, and files in it that the zoo did not
/// write are never touched.
#[derive(Clone, Debug)]
pub struct ArtifactDir {
    root: PathBuf,
}

/// How a run treats what is already in its artifact directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new run: refuses a directory that holds another run's checkpoints or report.
    Fresh,
    /// A new run that replaces an earlier run's files (`--overwrite`).
    Overwrite,
    /// Continue from the newest checkpoint (`--resume`).
    Resume,
}

impl ArtifactDir {
    /// Creates (if needed) and checks the directory: it must be a writable directory, and a
    /// fresh run may not mix its files with an earlier run's.
    pub fn prepare(root: impl Into<PathBuf>, mode: Mode) -> Result<Self, TrainError> {
        let root = root.into();
        let shown = root.display().to_string();
        if root.exists() && !root.is_dir() {
            return Err(TrainError::Invalid(format!(
                "--artifact-dir {shown}: exists and is not a directory"
            )));
        }
        fs::create_dir_all(root.join("checkpoints")).map_err(|e| {
            TrainError::Invalid(format!("--artifact-dir {shown}: cannot create it: {e}"))
        })?;
        let probe = root.join(format!(".write-test-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| {
            TrainError::Invalid(format!("--artifact-dir {shown}: not writable: {e}"))
        })?;
        let _ = fs::remove_file(&probe);
        let dir = Self { root };
        let earlier = dir.checkpoints()?;
        match mode {
            Mode::Fresh if !earlier.is_empty() || dir.report().exists() => {
                return Err(TrainError::Invalid(format!(
                    "--artifact-dir {shown}: holds an earlier run; pass --resume to continue \
                     it, --overwrite to replace it, or choose another directory"
                )));
            }
            Mode::Overwrite => {
                for (_, path) in earlier {
                    fs::remove_file(&path).map_err(|source| TrainError::Io { path, source })?;
                }
            }
            _ => {}
        }
        Ok(dir)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `report.json`.
    pub fn report(&self) -> PathBuf {
        self.path("report.json")
    }

    /// The checkpoint file of `epoch`.
    pub fn checkpoint(&self, epoch: usize) -> PathBuf {
        self.root
            .join("checkpoints")
            .join(format!("epoch-{epoch:05}.ckpt"))
    }

    /// Existing epoch checkpoints, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<(usize, PathBuf)>, TrainError> {
        let dir = self.root.join("checkpoints");
        let entries = fs::read_dir(&dir).map_err(|source| TrainError::Io { path: dir, source })?;
        let mut found: Vec<(usize, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let epoch = name
                    .strip_prefix("epoch-")?
                    .strip_suffix(".ckpt")?
                    .parse()
                    .ok()?;
                Some((epoch, e.path()))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    /// Deletes all but the newest `keep` epoch checkpoints (`keep == 0` keeps all).
    pub fn prune_checkpoints(&self, keep: usize) -> Result<(), TrainError> {
        if keep == 0 {
            return Ok(());
        }
        let all = self.checkpoints()?;
        let n = all.len().saturating_sub(keep);
        for (_, path) in all.into_iter().take(n) {
            fs::remove_file(&path).map_err(|source| TrainError::Io { path, source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        atomic_write(&p, b"old").unwrap();
        atomic_write(&p, b"new contents").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new contents");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn artifact_dir_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        fs::write(&f, b"x").unwrap();
        let err = ArtifactDir::prepare(&f, Mode::Fresh)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a directory") && err.contains("--artifact-dir"),
            "{err}"
        );
    }

    #[test]
    fn fresh_run_refuses_earlier_run_and_overwrite_keeps_user_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
        atomic_write(&a.checkpoint(1), b"c").unwrap();
        fs::write(a.path("notes.txt"), b"mine").unwrap();
        let err = ArtifactDir::prepare(dir.path(), Mode::Fresh)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--resume"), "{err}");
        let a = ArtifactDir::prepare(dir.path(), Mode::Overwrite).unwrap();
        assert!(a.checkpoints().unwrap().is_empty());
        assert_eq!(fs::read(a.path("notes.txt")).unwrap(), b"mine");
    }

    #[test]
    fn prune_keeps_newest() {
        let dir = tempfile::tempdir().unwrap();
        let a = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
        for e in [1, 2, 3, 10] {
            atomic_write(&a.checkpoint(e), b"c").unwrap();
        }
        a.prune_checkpoints(2).unwrap();
        let left: Vec<usize> = a
            .checkpoints()
            .unwrap()
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        assert_eq!(left, vec![3, 10]);
    }

    #[test]
    fn uncreatable_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        fs::write(&f, b"x").unwrap();
        let err = ArtifactDir::prepare(f.join("sub"), Mode::Fresh)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot create"), "{err}");
    }
}
