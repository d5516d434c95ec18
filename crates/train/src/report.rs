//! `report.json`: what a run did and measured. The compare run and the README read these.

use serde::{Deserialize, Serialize};

use crate::metrics::{ClassificationMetrics, RegressionMetrics};

/// Metrics of one evaluation pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Classification metrics.
    Classification(ClassificationMetrics),
    /// Regression metrics.
    Regression(RegressionMetrics),
}

impl Metrics {
    /// The headline number: accuracy or R².
    pub fn headline(&self) -> (&'static str, f64) {
        match self {
            Metrics::Classification(m) => ("acc", m.accuracy),
            Metrics::Regression(m) => ("r2", m.r2),
        }
    }
}

/// Loss and metrics of one evaluation pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// Mean loss per sample.
    pub loss: f64,
    /// Metrics.
    pub metrics: Metrics,
}

/// One epoch of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean training loss per sample.
    pub train_loss: f64,
    /// Training accuracy (classification) over the epoch's batches, as the model changed.
    pub train_accuracy: Option<f64>,
    /// Validation loss and metrics, when there is a validation set.
    pub valid: Option<EvalSummary>,
    /// Seconds spent training in this epoch (evaluation excluded).
    pub train_seconds: f64,
    /// Training samples per second in this epoch.
    pub samples_per_sec: f64,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Still running (a report written mid-run).
    Running,
    /// All epochs done.
    Finished,
    /// Stopped early by the patience rule; the best weights were restored.
    EarlyStopped,
    /// Stopped by the user (Ctrl-C / SIGTERM) after a batch; a checkpoint holds where it was.
    Interrupted,
    /// Stopped at a non-finite loss (without `--skip-nonfinite`).
    Diverged,
}

/// Where and on what a run happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Model kind, e.g. `mlp`.
    pub model: String,
    /// Backend name: `ndarray`, `wgpu` or `tch`.
    pub backend: String,
    /// Device, as the backend names it.
    pub device: String,
    /// Dataset description (name and source).
    pub dataset: String,
}

/// The whole report of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Model, backend, device, dataset.
    #[serde(flatten)]
    pub info: RunInfo,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// How the run ended.
    pub status: RunStatus,
    /// Epochs asked for.
    pub epochs: usize,
    /// Epochs completed.
    pub epochs_completed: usize,
    /// Epoch whose weights the final model holds, when early stopping picked one.
    pub best_epoch: Option<usize>,
    /// Trainable parameters.
    pub param_count: usize,
    /// Training, validation and test set sizes.
    pub samples: SampleCounts,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// Test-set evaluation of the final model.
    pub test: Option<EvalSummary>,
    /// Training batches skipped because their loss was NaN or infinite (`--skip-nonfinite`).
    #[serde(default)]
    pub skipped_nonfinite: usize,
    /// Mean training throughput over all epochs (samples per second, evaluation excluded).
    pub train_samples_per_sec: f64,
    /// Wall time of the whole run in seconds (all sessions, when resumed).
    pub wall_time_secs: f64,
    /// Model and training configuration.
    pub config: serde_json::Value,
    /// Training settings resumed sessions changed (`lr 0.01 -> 0.5` after epoch 3): such a
    /// run is no longer equal to an uninterrupted one. Absent when none changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_with_changes: Vec<crate::resume::SettingChange>,
    /// Machine and versions.
    pub environment: Environment,
    /// Model-specific extras (paths of plots, confusion matrix, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Set sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleCounts {
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub valid: usize,
    /// Test samples.
    pub test: usize,
}

/// Machine and software versions, recorded with every report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// `burn-zoo` version.
    pub zoo_version: String,
    /// Burn version.
    pub burn_version: String,
    /// Operating system and architecture.
    pub os: String,
    /// CPU model name, when known.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Unix time the report was written.
    pub unix_time: u64,
}

impl Environment {
    /// Reads the current machine.
    pub fn current() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Self {
            zoo_version: env!("CARGO_PKG_VERSION").into(),
            burn_version: "0.21.0".into(),
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            cpu,
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

impl Report {
    /// A short table of the test metrics, for the terminal.
    pub fn test_table(&self) -> String {
        let Some(test) = &self.test else {
            return "no test set".into();
        };
        let rows: Vec<(&str, String)> = match &test.metrics {
            Metrics::Classification(m) => {
                let mut r = vec![
                    ("accuracy", format!("{:.4}", m.accuracy)),
                    ("precision (macro)", format!("{:.4}", m.precision)),
                    ("recall (macro)", format!("{:.4}", m.recall)),
                    ("F1 (macro)", format!("{:.4}", m.f1)),
                ];
                if let Some(auc) = m.auc {
                    r.push(("ROC AUC", format!("{auc:.4}")));
                }
                r
            }
            Metrics::Regression(m) => vec![
                ("MSE", format!("{:.4}", m.mse)),
                ("RMSE", format!("{:.4}", m.rmse)),
                ("MAE", format!("{:.4}", m.mae)),
                ("R²", format!("{:.4}", m.r2)),
            ],
        };
        let mut out = format!(
            "test metrics ({} {} on {}, {} samples)\n",
            self.info.model, self.info.backend, self.info.device, self.samples.test
        );
        out += "| metric            | value      |\n|-------------------|------------|\n";
        for (name, value) in rows {
            out += &format!("| {name:<17} | {value:<10} |\n");
        }
        out
    }
}
