//! What a resume may change, checked before a resumed run writes anything.
//!
//! A run's `config.json` holds its whole job (data, model, training settings). A resume with
//! another job is compared with it, setting by setting:
//! - a training setting (anything under `train` but the seed) may change: each change is a
//!   [`SettingChange`], shown to the user and kept in the checkpoints and `report.json`
//!   (`resumed_with_changes`), because such a run no longer equals an uninterrupted one;
//! - the data, the model and the seed may not: the resume is refused, naming the setting;
//! - the batch size may not change in the middle of an epoch (the saved position counts
//!   batches of the old size);
//! - a run that has already done what the resume asks for is [`TrainError::AlreadyTrained`].
//!
//! `train.epochs` is the total a resume trains to, and raising it is what resuming is for: it
//! counts as a change only when the learning-rate schedule depends on it (cosine annealing).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifacts::ArtifactDir;
use crate::checkpoint::Checkpoint;
use crate::train_error::TrainError;

/// A training setting a resumed session changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingChange {
    /// The setting: its path in the job below `train` (`lr`, `schedule.min_lr`), or the
    /// top-level key for the job's other changeable parts (the GAN's `quality_samples`).
    pub setting: String,
    /// The value the run had.
    pub from: Value,
    /// The value it continued with.
    pub to: Value,
    /// Epochs completed when the session that changed it began.
    pub after_epoch: usize,
}

impl fmt::Display for SettingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {}",
            self.setting,
            shown(&self.from),
            shown(&self.to)
        )
    }
}

/// A JSON value as a user typed it: strings without quotes, `null` as `none`.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// Leaves of a JSON object by dotted path (arrays are leaves: a changed list is one change).
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn leaf_map(v: &Value) -> std::collections::BTreeMap<String, Value> {
    let mut out = Vec::new();
    leaves("", v, &mut out);
    out.into_iter().collect()
}

/// Checks a resume of the run in `dir` with `job` (the job as it will be written to
/// `config.json`) and returns what it changes. `free` names top-level keys of the job besides
/// `train` that may change (settings of the final evaluation, say). Writes nothing.
pub fn check_resume(
    dir: &ArtifactDir,
    job: &Value,
    free: &[&str],
) -> Result<Vec<SettingChange>, TrainError> {
    let config_path = dir.path("config.json");
    if !config_path.exists() {
        // Nothing to compare with; the checkpoint's model check still applies.
        return Ok(Vec::new());
    }
    let saved: Value = crate::artifacts::read_json(&config_path, "a run configuration")?;
    let (old, new) = (leaf_map(&saved), leaf_map(job));
    let epochs_matter = |v: &Value| v.pointer("/train/schedule/kind") == Some(&"cosine".into());
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changes = Vec::new();
    for key in keys {
        let (from, to) = (
            old.get(key).cloned().unwrap_or(Value::Null),
            new.get(key).cloned().unwrap_or(Value::Null),
        );
        if from == to {
            continue;
        }
        let top = key.split('.').next().unwrap_or(key);
        let training = key.strip_prefix("train.").filter(|k| *k != "seed");
        let setting = match training {
            Some("epochs") if !epochs_matter(&saved) && !epochs_matter(job) => continue,
            Some(k) => k.to_string(),
            None if free.contains(&top) => key.clone(),
            None => {
                return Err(TrainError::Invalid(format!(
                    "{}: a resume cannot change {key} ({} -> {}): the data, the model and the \
                     seed stay as the run began; start a new run to change them",
                    config_path.display(),
                    shown(&from),
                    shown(&to)
                )));
            }
        };
        changes.push(SettingChange {
            setting,
            from,
            to,
            after_epoch: 0,
        });
    }
    check_progress(dir, &saved, job, &changes)?;
    Ok(changes)
}

/// Refuses what the saved position rules out, and reports a run with nothing left to do.
/// The newest checkpoint is where a resume starts, so it decides; `report.json` says whether
/// the run had ended there.
fn check_progress(
    dir: &ArtifactDir,
    saved: &Value,
    job: &Value,
    changes: &[SettingChange],
) -> Result<(), TrainError> {
    let Some(asked) = job.pointer("/train/epochs").and_then(Value::as_u64) else {
        return Ok(());
    };
    let Some((epoch, path)) = dir.checkpoints()?.pop() else {
        return Ok(()); // The resume itself says there is no checkpoint.
    };
    let epoch = epoch as u64;
    let ck = Checkpoint::read(&path)?;
    let partial = ck.meta.state.get("partial").filter(|p| !p.is_null());
    let report = dir.report();
    if partial.is_none() && report.exists() {
        let report: Value = crate::artifacts::read_json(&report, "a run report")?;
        let status = report.get("status").and_then(Value::as_str).unwrap_or("");
        let done = report.get("epochs_completed").and_then(Value::as_u64);
        let ended_here = done == Some(epoch);
        let patience_kept = saved.pointer("/train/patience") == job.pointer("/train/patience");
        if ended_here && status == "finished" && epoch >= asked {
            return Err(TrainError::AlreadyTrained {
                dir: dir.root().to_path_buf(),
                reason: format!("already trained {epoch} epochs (asked for {asked})"),
            });
        }
        if ended_here && status == "early_stopped" && patience_kept {
            return Err(TrainError::AlreadyTrained {
                dir: dir.root().to_path_buf(),
                reason: format!(
                    "stopped early after epoch {epoch}: its validation number stopped improving \
                     (a resume with a larger patience continues it)"
                ),
            });
        }
    }
    if epoch > asked || (partial.is_some() && epoch == asked) {
        return Err(TrainError::Invalid(format!(
            "{}: the run has trained {epoch} epochs{}; a resume trains to a total of epochs, \
             so ask for more than {epoch}",
            path.display(),
            if partial.is_some() {
                " and part of the next"
            } else {
                ""
            }
        )));
    }
    let batch_changed = changes
        .iter()
        .find(|c| c.setting == "batch_size" || c.setting == "full_batch");
    if let (Some(p), Some(c)) = (partial, batch_changed) {
        let step = p.get("steps").and_then(Value::as_u64).unwrap_or(0);
        return Err(TrainError::Invalid(format!(
            "{}: the run stopped in epoch {} after step {step}, counted in batches of its \
             {} {}; finish that epoch without changing it, then change it",
            path.display(),
            epoch + 1,
            c.setting,
            shown(&c.from)
        )));
    }
    Ok(())
}

/// Prints the changes, one line each (`warning: resumed with lr 0.01 -> 0.5 ...`).
pub fn announce(changes: &[SettingChange], config: &Path) {
    for c in changes {
        eprintln!(
            "warning: {}: resumed with {c}; the run no longer equals an uninterrupted one",
            config.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::{Mode, write_json};
    use serde_json::json;

    fn run_dir(config: Value, report: Option<Value>) -> (tempfile::TempDir, ArtifactDir) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::prepare(tmp.path(), Mode::Fresh).unwrap();
        write_json(&dir.path("config.json"), &config).unwrap();
        if let Some(r) = report {
            write_json(&dir.report(), &r).unwrap();
        }
        (tmp, dir)
    }

    fn job(lr: f64, epochs: usize, seed: u64, noise: f64) -> Value {
        json!({
            "task": {"moons": {"noise": noise}},
            "model": {"hidden": [16]},
            "train": {"lr": lr, "epochs": epochs, "seed": seed, "batch_size": 32,
                      "schedule": {"kind": "constant"}},
            "quality_samples": 100,
        })
    }

    #[test]
    fn training_settings_may_change_and_are_listed_with_their_old_and_new_values() {
        let (_t, dir) = run_dir(job(0.01, 10, 1, 0.2), None);
        let mut new = job(0.5, 20, 1, 0.2);
        new["train"]["schedule"] = json!({"kind": "step", "step_epochs": 3, "gamma": 0.5});
        let changes = check_resume(&dir, &new, &[]).unwrap();
        let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
        // epochs is the total to train to: not a change under a schedule that ignores it.
        assert_eq!(
            shown,
            [
                "lr 0.01 -> 0.5",
                "schedule.gamma none -> 0.5",
                "schedule.kind constant -> step",
                "schedule.step_epochs none -> 3"
            ]
        );
    }

    #[test]
    fn more_epochs_count_as_a_change_under_cosine_annealing() {
        let mut old = job(0.01, 10, 1, 0.2);
        old["train"]["schedule"] = json!({"kind": "cosine", "min_lr": 0.0});
        let mut new = old.clone();
        new["train"]["epochs"] = json!(20);
        let (_t, dir) = run_dir(old, None);
        let changes = check_resume(&dir, &new, &[]).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].to_string(), "epochs 10 -> 20");
    }

    #[test]
    fn the_data_the_model_and_the_seed_cannot_change() {
        let (_t, dir) = run_dir(job(0.01, 10, 1, 0.2), None);
        for (new, key) in [
            (job(0.01, 10, 2, 0.2), "train.seed (1 -> 2)"),
            (job(0.01, 10, 1, 0.3), "task.moons.noise (0.2 -> 0.3)"),
        ] {
            let err = check_resume(&dir, &new, &[]).unwrap_err().to_string();
            assert!(
                err.contains(&format!("a resume cannot change {key}")),
                "{err}"
            );
            assert!(err.contains("config.json"), "{err}");
        }
        let mut wider = job(0.01, 10, 1, 0.2);
        wider["model"]["hidden"] = json!([32]);
        let err = check_resume(&dir, &wider, &[]).unwrap_err().to_string();
        assert!(err.contains("model.hidden ([16] -> [32])"), "{err}");
        // A key named free may change.
        let mut more = job(0.01, 10, 1, 0.2);
        more["quality_samples"] = json!(500);
        let changes = check_resume(&dir, &more, &["quality_samples"]).unwrap();
        assert_eq!(changes[0].to_string(), "quality_samples 100 -> 500");
        assert!(check_resume(&dir, &more, &[]).is_err());
    }

    #[test]
    fn a_finished_run_asked_for_no_more_epochs_is_already_trained() {
        let report = json!({"status": "finished", "epochs_completed": 100});
        let (_t, dir) = run_dir(job(0.01, 100, 1, 0.2), Some(report));
        checkpoint(&dir, 100, Value::Null);
        let err = check_resume(&dir, &job(0.01, 10, 1, 0.2), &[]).unwrap_err();
        assert!(matches!(err, TrainError::AlreadyTrained { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with(
                "already trained 100 epochs (asked for 10); nothing to do (the run is unchanged)"
            ),
            "{err}"
        );
        // Asking for more is a resume like any other ...
        assert!(check_resume(&dir, &job(0.01, 101, 1, 0.2), &[]).is_ok());
        // ... and so is one whose newest checkpoint is older than the report (a crash after
        // the report, a checkpoint removed): it trains from that checkpoint.
        std::fs::remove_file(dir.checkpoint(100)).unwrap();
        checkpoint(&dir, 99, Value::Null);
        assert!(check_resume(&dir, &job(0.01, 100, 1, 0.2), &[]).is_ok());
    }

    #[test]
    fn an_early_stopped_run_is_done_unless_its_patience_grows() {
        let report = json!({"status": "early_stopped", "epochs_completed": 30});
        let mut old = job(0.01, 100, 1, 0.2);
        old["train"]["patience"] = json!(5);
        let (_t, dir) = run_dir(old.clone(), Some(report));
        checkpoint(&dir, 30, Value::Null);
        let err = check_resume(&dir, &old, &[]).unwrap_err();
        assert!(matches!(err, TrainError::AlreadyTrained { .. }), "{err:?}");
        let mut patient = old.clone();
        patient["train"]["patience"] = json!(10);
        let changes = check_resume(&dir, &patient, &[]).unwrap();
        assert_eq!(changes[0].to_string(), "patience 5 -> 10");
    }

    fn checkpoint(dir: &ArtifactDir, epoch: usize, partial: Value) {
        let ck = Checkpoint {
            meta: crate::checkpoint::CheckpointMeta {
                model: crate::checkpoint::ModelId::new("mlp", &1, "f32"),
                epoch,
                state: json!({"epoch": epoch, "partial": partial}),
            },
            model: Vec::new(),
            optimizer: Vec::new(),
        };
        crate::artifacts::atomic_write(&dir.checkpoint(epoch), &ck.encode()).unwrap();
    }

    #[test]
    fn the_batch_size_cannot_change_mid_epoch_nor_the_epochs_fall_below_those_done() {
        let (_t, dir) = run_dir(job(0.01, 10, 1, 0.2), None);
        checkpoint(&dir, 3, json!({"steps": 7, "train_seconds": 1.0}));
        let mut smaller = job(0.01, 10, 1, 0.2);
        smaller["train"]["batch_size"] = json!(16);
        let err = check_resume(&dir, &smaller, &[]).unwrap_err().to_string();
        assert!(
            err.contains(
                "stopped in epoch 4 after step 7, counted in batches of its batch_size 32"
            ),
            "{err}"
        );
        let err = check_resume(&dir, &job(0.01, 3, 1, 0.2), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has trained 3 epochs and part of the next"),
            "{err}"
        );
        // At an epoch boundary the batch size may change.
        checkpoint(&dir, 4, Value::Null);
        let changes = check_resume(&dir, &smaller, &[]).unwrap();
        assert_eq!(changes[0].to_string(), "batch_size 32 -> 16");
    }
}
