//! The artifact directory of a run, and crash-safe file writes.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak};

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
///
/// One process at a time writes into it: [`ArtifactDir::prepare`] takes an exclusive advisory
/// lock (`flock`) on `.lock` in the directory and holds it until the last clone of the value is
/// dropped. The kernel releases it when the process ends, however it ends (a `kill -9`
/// included), so a lock is never stale. Readers (loading a saved model to predict, evaluate or
/// generate) take no lock.
#[derive(Clone, Debug)]
pub struct ArtifactDir {
    root: PathBuf,
    _lock: Arc<DirLock>,
}

/// The open, locked `.lock` file of an artifact directory.
#[derive(Debug)]
struct DirLock {
    _file: fs::File,
}

/// The lock file's name inside an artifact directory. It stays after the run (removing it
/// would let a third process lock a new file while a second still waits on the old one).
pub const LOCK_FILE: &str = ".lock";

impl DirLock {
    /// Locks `root/.lock` for this process, or shares the lock this process already holds
    /// (flock locks belong to an open file, so a second open in one process would refuse
    /// itself).
    fn acquire(root: &Path) -> Result<Arc<Self>, TrainError> {
        static HELD: LazyLock<Mutex<HashMap<PathBuf, Weak<DirLock>>>> =
            LazyLock::new(Default::default);
        let key = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = held.get(&key).and_then(Weak::upgrade) {
            return Ok(lock);
        }
        let path = root.join(LOCK_FILE);
        let io = |source| TrainError::Io {
            path: path.clone(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(TrainError::Locked {
                    dir: root.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // The holder's pid, for the message a second writer gets.
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        let lock = Arc::new(Self { _file: file });
        held.insert(key, Arc::downgrade(&lock));
        Ok(lock)
    }
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
    /// Creates (if needed) and checks the directory: it must be a writable directory, no other
    /// process may be writing into it ([`TrainError::Locked`] names the one that is), and a
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
        let _lock = DirLock::acquire(&root)?;
        let dir = Self { root, _lock };
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
    fn a_directory_locked_elsewhere_is_refused_naming_the_holder_and_free_once_released() {
        let dir = tempfile::tempdir().unwrap();
        // Another open file description on the lock file stands for another process.
        let other = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join(LOCK_FILE))
            .unwrap();
        other.try_lock().unwrap();
        fs::write(dir.path().join(LOCK_FILE), b"4242\n").unwrap();
        let err = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap_err();
        assert!(
            matches!(
                &err,
                TrainError::Locked {
                    pid: Some(4242),
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "{}: in use by another run (pid 4242)",
                dir.path().display()
            )),
            "{text}"
        );
        drop(other);
        let a = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
        // The same process may prepare it again (the lock is shared, not refused) ...
        let b = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
        let pid = fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        // ... and while any clone lives, a second open file cannot lock it.
        drop(a);
        let probe = fs::File::open(dir.path().join(LOCK_FILE)).unwrap();
        assert!(probe.try_lock().is_err());
        drop(b);
        assert!(probe.try_lock().is_ok());
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
