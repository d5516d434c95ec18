//! The artifact directory of a run, and crash-safe file writes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::train_error::TrainError;

/// [`zoo_data::fs::atomic_write`] with the error naming `path`.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    zoo_data::fs::atomic_write(path, bytes).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The writer's process id when `name` is one of [`atomic_write`]'s temporary files
/// (`.NAME.tmp-PID`).
fn stale_temp_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (stem, pid) = rest.rsplit_once(".tmp-")?;
    if stem.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
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
                "{shown}: exists and is not a directory"
            )));
        }
        fs::create_dir_all(root.join("checkpoints")).map_err(|e| {
            TrainError::Invalid(format!("{shown}: cannot create the directory: {e}"))
        })?;
        let probe = root.join(format!(".write-test-{}", std::process::id()));
        fs::write(&probe, b"")
            .map_err(|e| TrainError::Invalid(format!("{shown}: not writable: {e}")))?;
        let _ = fs::remove_file(&probe);
        let dir = Self { root };
        dir.remove_stale_temp_files();
        let earlier = dir.checkpoints()?;
        match mode {
            Mode::Fresh if !earlier.is_empty() || dir.report().exists() => {
                return Err(TrainError::RunExists {
                    dir: dir.root.clone(),
                });
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

    /// Removes the temporary files [`atomic_write`] leaves behind when its process is killed
    /// mid-write (`.NAME.tmp-PID` whose process is gone). Nothing else is touched.
    fn remove_stale_temp_files(&self) {
        for dir in [self.root.clone(), self.root.join("checkpoints")] {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = stale_temp_pid(&name) {
                    let alive =
                        pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
                    if !alive && entry.file_type().is_ok_and(|t| t.is_file()) {
                        let _ = fs::remove_file(entry.path());
                    }
                }
            }
        }
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
            err.contains("not a directory") && err.contains("file"),
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
        assert!(
            err.contains("holds an earlier run") && err.contains("Mode::Resume"),
            "{err}"
        );
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
    fn stale_temp_files_of_dead_writers_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let a = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
        // pid_max is at most 2^22 on Linux: this writer cannot be alive.
        let dead = a.root().join("checkpoints/.epoch-00001.ckpt.tmp-99999999");
        let live = a
            .root()
            .join(format!(".report.json.tmp-{}", std::process::id()));
        let user = ["notes.tmp-1", ".tmp-5", ".x.tmp-12ab", ".hidden"];
        fs::write(&dead, b"half").unwrap();
        fs::write(&live, b"writing").unwrap();
        for u in user {
            fs::write(a.path(u), b"mine").unwrap();
        }
        ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
        for u in user {
            assert!(a.path(u).exists(), "{u} was removed");
        }
        assert_eq!(stale_temp_pid(".model.mpk.tmp-42"), Some(42));
        assert_eq!(stale_temp_pid("model.mpk.tmp-42"), None);
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
