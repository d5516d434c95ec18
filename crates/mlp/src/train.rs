//! A whole MLP run: data, model, training, plots and report — what `examples/mlp.rs` calls;
//! [`crate::infer::load`] reads back what it saved.

use std::path::PathBuf;

use burn::module::AutodiffModule;
use burn::tensor::activation::softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use zoo_train::artifacts::write_json;
use zoo_train::checkpoint::ModelId;
use zoo_train::metrics::ConfusionMatrix;
use zoo_train::plot::{DecisionMap, decision_map};
pub use zoo_train::train::JobContext;
use zoo_train::train::to_vec_f32;
use zoo_train::{
    Objective, Report, RunInfo, RunSpec, TrainConfig, TrainError, Trainer, fit, seed_backend,
};

use crate::MlpConfig;
use crate::data::{SplitSpec, Splits, csv_regression, moons};
use crate::infer::Scalers;

/// What to learn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MlpTask {
    /// Two-moons classification (scikit-learn's `make_moons`).
    Moons {
        /// Samples generated.
        n_samples: usize,
        /// Gaussian noise standard deviation.
        noise: f64,
        /// Generator seed (`random_state`).
        data_seed: u32,
    },
    /// Regression on a CSV file: every column but `target` is a feature.
    Regression {
        /// The CSV file (header row required).
        data: PathBuf,
        /// Target column name.
        target: String,
    },
}

/// A complete, serialisable description of an MLP run (written as `config.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MlpJob {
    /// Task and data.
    pub task: MlpTask,
    /// Train/validation/test split.
    pub split: SplitSpec,
    /// Architecture; `input` and `output` are set from the data.
    pub model: MlpConfig,
    /// Training hyper-parameters.
    pub train: TrainConfig,
}

impl MlpJob {
    /// The seed run: make_moons(1000, noise 0.2, seed 42), 80/20 split, 2→16→2 ReLU MLP,
    /// Adam lr 0.01, 200 full-batch epochs.
    pub fn seed() -> Self {
        Self {
            task: MlpTask::Moons {
                n_samples: 1000,
                noise: 0.2,
                data_seed: 42,
            },
            split: SplitSpec {
                test_fraction: 0.2,
                valid_fraction: 0.0,
                seed: 42,
            },
            model: MlpConfig::new(),
            train: TrainConfig {
                epochs: 200,
                full_batch: true,
                lr: 0.01,
                seed: 42,
                ..Default::default()
            },
        }
    }
}

/// What a run produced.
pub struct MlpOutcome<M> {
    /// The final report (also in `report.json`).
    pub report: Report,
    /// Test confusion matrix (classification).
    pub confusion: Option<ConfusionMatrix>,
    /// The trained model.
    pub model: M,
}

/// Loads the job's data.
pub fn load_data(job: &MlpJob) -> Result<Splits, TrainError> {
    match &job.task {
        MlpTask::Moons {
            n_samples,
            noise,
            data_seed,
        } => moons(*n_samples, *noise, *data_seed, job.split).map_err(TrainError::Invalid),
        MlpTask::Regression { data, target } => Ok(csv_regression(data, target, job.split)?),
    }
}

/// The job's MLP architecture: its `model` with `input` and `output` set from the data (the
/// number of feature columns; two classes, or one regression target). Reads the data.
pub fn architecture(job: &MlpJob) -> Result<MlpConfig, TrainError> {
    let splits = load_data(job)?;
    resolve(job, &splits)
}

fn resolve(job: &MlpJob, splits: &Splits) -> Result<MlpConfig, TrainError> {
    let output = match job.task {
        MlpTask::Moons { .. } => 2,
        MlpTask::Regression { .. } => 1,
    };
    let config = job
        .model
        .clone()
        .with_input(splits.train.n_features)
        .with_output(output);
    config.validate().map_err(TrainError::Invalid)?;
    Ok(config)
}

/// Runs `job` on backend `B`, from a fresh initialisation.
pub fn run<B: AutodiffBackend>(
    job: &MlpJob,
    ctx: &JobContext,
    device: &B::Device,
) -> Result<MlpOutcome<crate::Mlp<B>>, TrainError> {
    train(job, ctx, None, &Trainer::Zoo, device)
}

/// [`run`] (or [`run_from`] `start`) with the loop `trainer` names: the zoo's, or burn-train's
/// `Learner` on its devices (which needs this crate's `learner` feature).
pub fn run_with<B: AutodiffBackend>(
    job: &MlpJob,
    ctx: &JobContext,
    start: Option<crate::Mlp<B>>,
    trainer: &Trainer<B::Device>,
    device: &B::Device,
) -> Result<MlpOutcome<crate::Mlp<B>>, TrainError> {
    train(job, ctx, start, trainer, device)
}

/// Trains (fine-tunes) `model` — PyTorch's weights through [`crate::pytorch::load`] with
/// [`architecture`]'s configuration, say — instead of a fresh MLP; otherwise as [`run`]. A
/// model of other widths than the job's data needs is an error.
pub fn run_from<B: AutodiffBackend>(
    job: &MlpJob,
    ctx: &JobContext,
    model: crate::Mlp<B>,
    device: &B::Device,
) -> Result<MlpOutcome<crate::Mlp<B>>, TrainError> {
    train(job, ctx, Some(model), &Trainer::Zoo, device)
}

fn train<B: AutodiffBackend>(
    job: &MlpJob,
    ctx: &JobContext,
    start: Option<crate::Mlp<B>>,
    trainer: &Trainer<B::Device>,
    device: &B::Device,
) -> Result<MlpOutcome<crate::Mlp<B>>, TrainError> {
    let splits = load_data(job)?;
    let model_cfg = resolve(job, &splits)?;
    let objective = match job.task {
        MlpTask::Moons { .. } => Objective::Classification { num_classes: 2 },
        MlpTask::Regression { .. } => Objective::Regression,
    };
    let dataset = match &job.task {
        MlpTask::Moons {
            n_samples,
            noise,
            data_seed,
        } => format!("make_moons(n={n_samples}, noise={noise}, seed={data_seed})"),
        MlpTask::Regression { data, target } => {
            format!("{} (target '{target}')", data.display())
        }
    };
    let widths: Vec<usize> = std::iter::once(model_cfg.input)
        .chain(model_cfg.hidden.iter().copied())
        .chain([model_cfg.output])
        .collect();
    if let Some(found) = start.as_ref().map(|m| m.widths()).filter(|w| *w != widths) {
        return Err(TrainError::Invalid(format!(
            "the starting MLP has widths {found:?}, the job's data and model need {widths:?}"
        )));
    }
    let mut job = job.clone();
    job.model = model_cfg.clone();
    let changes = ctx.write_config(&job, &[])?;
    if let Some(dir) = &ctx.artifacts {
        let scalers = Scalers {
            features: splits.scaler.clone(),
            target: splits.target_scaler.clone(),
        };
        write_json(&dir.path("scalers.json"), &scalers)?;
    }

    seed_backend::<B>(device, job.train.seed);
    let model = start.unwrap_or_else(|| model_cfg.init::<B>(device));
    let spec = RunSpec {
        cfg: &job.train,
        objective,
        model_id: ModelId::new("mlp", &model_cfg, &ctx.float),
        info: RunInfo {
            model: "mlp".into(),
            backend: ctx.backend.clone(),
            device: ctx.device.clone(),
            dataset,
        },
        config: serde_json::to_value(&job).unwrap_or_default(),
        artifacts: ctx.artifacts.as_ref(),
        resume: ctx.resume,
        progress: ctx.progress,
        target_scaler: splits.target_scaler.clone(),
        class_names: Vec::new(),
        resumed_with_changes: changes,
    };
    let trained = match trainer {
        Trainer::Zoo => fit(
            model,
            &splits.train,
            splits.valid.as_ref(),
            Some(&splits.test),
            spec,
            device,
        )?,
        Trainer::Burn { devices } => burn_fit(model, &splits, spec, devices)?,
    };
    let mut report = trained.report;
    let confusion = trained.test.as_ref().and_then(|t| t.confusion.clone());

    if let Some(dir) = &ctx.artifacts {
        if let (Some(test), MlpTask::Moons { .. }) = (&trained.test, &job.task) {
            let path = dir.path("decision_boundary.png");
            let acc = report
                .test
                .as_ref()
                .map(|t| t.metrics.headline().1)
                .unwrap_or(0.0);
            draw_boundary::<B>(&trained.model, &splits, &test.outputs, acc, &path, device)?;
            report
                .extra
                .insert("decision_boundary".into(), "decision_boundary.png".into());
        }
        if let Some(c) = &confusion {
            report.extra.insert(
                "confusion_matrix".into(),
                serde_json::to_value(&c.counts).unwrap_or_default(),
            );
        }
        write_json(&dir.report(), &report)?;
    }
    Ok(MlpOutcome {
        report,
        confusion,
        model: trained.model,
    })
}

#[cfg(feature = "learner")]
fn burn_fit<B: AutodiffBackend>(
    model: crate::Mlp<B>,
    splits: &Splits,
    spec: RunSpec<'_>,
    devices: &[B::Device],
) -> Result<zoo_train::Trained<crate::Mlp<B>>, TrainError> {
    let (valid, test) = (splits.valid.as_ref(), Some(&splits.test));
    zoo_train::learner::fit_learner(model, &splits.train, valid, test, spec, devices)
}

#[cfg(not(feature = "learner"))]
fn burn_fit<B: AutodiffBackend>(
    _model: crate::Mlp<B>,
    _splits: &Splits,
    _spec: RunSpec<'_>,
    _devices: &[B::Device],
) -> Result<zoo_train::Trained<crate::Mlp<B>>, TrainError> {
    Err(TrainError::Invalid(
        "the burn trainer needs zoo-mlp's `learner` feature".into(),
    ))
}

/// Evaluates the model on a grid over the (standardised) test points and draws the map.
fn draw_boundary<B: AutodiffBackend>(
    model: &crate::Mlp<B>,
    splits: &Splits,
    test_probs: &[f32],
    accuracy: f64,
    path: &std::path::Path,
    device: &B::Device,
) -> Result<(), TrainError> {
    let test = &splits.test;
    let n = test.targets.len();
    let (mut xr, mut yr) = ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN));
    for i in 0..n {
        let r = test.row(i);
        xr = (xr.0.min(r[0] as f64), xr.1.max(r[0] as f64));
        yr = (yr.0.min(r[1] as f64), yr.1.max(r[1] as f64));
    }
    let res = 150;
    let axis = |(lo, hi): (f64, f64)| -> Vec<f64> {
        let (lo, hi) = (lo - 0.5, hi + 0.5);
        (0..res)
            .map(|i| lo + (hi - lo) * i as f64 / (res - 1) as f64)
            .collect()
    };
    let (xs, ys) = (axis(xr), axis(yr));
    let grid: Vec<f32> = ys
        .iter()
        .flat_map(|&y| xs.iter().flat_map(move |&x| [x as f32, y as f32]))
        .collect();
    let inner = model.valid();
    let logits = inner.forward(Tensor::from_data(
        TensorData::new(grid, [res * res, 2]),
        device,
    ));
    let probs = to_vec_f32(softmax(logits, 1))?;
    let p1: Vec<f32> = probs.chunks(2).map(|p| p[1]).collect();
    let classes = match &test.targets {
        zoo_train::Targets::Classes(c) => c.clone(),
        _ => vec![0; n],
    };
    let points: Vec<(f64, f64, usize, usize)> = (0..n)
        .map(|i| {
            let r = test.row(i);
            let pred = usize::from(test_probs[2 * i + 1] > test_probs[2 * i]);
            (r[0] as f64, r[1] as f64, classes[i], pred)
        })
        .collect();
    let map = DecisionMap {
        xs: &xs,
        ys: &ys,
        p1: &p1,
        points: &points,
        labels: ("x1 (standardised)", "x2 (standardised)"),
    };
    decision_map(
        path,
        &format!("MLP decision boundary, test accuracy {accuracy:.3}"),
        &map,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use zoo_ndarray::NdArray;
    use zoo_train::report::Metrics;
    use zoo_train::{ArtifactDir, Mode};

    type B = Autodiff<NdArray>;

    fn ctx(artifacts: Option<ArtifactDir>, resume: bool) -> JobContext {
        JobContext::quiet(artifacts, resume, "ndarray", "cpu")
    }

    fn params(m: &crate::Mlp<B>) -> Vec<f32> {
        zoo_train::train::flat_params::<B, _>(m)
    }

    #[test]
    fn seed_run_reaches_096_test_accuracy() {
        let out = run::<B>(&MlpJob::seed(), &ctx(None, false), &Default::default()).unwrap();
        let Some(Metrics::Classification(m)) = out.report.test.map(|t| t.metrics) else {
            panic!("no classification metrics")
        };
        assert!(m.accuracy >= 0.96, "test accuracy {}", m.accuracy);
        assert!(m.auc.unwrap() > 0.98, "auc {:?}", m.auc);
        assert_eq!(out.report.epochs_completed, 200);
        assert_eq!(out.report.param_count, 82);
    }

    #[test]
    fn diabetes_regression_reaches_r2_045() {
        let mut job = MlpJob::seed();
        job.task = MlpTask::Regression {
            data: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/diabetes.csv"
            )),
            target: "target".into(),
        };
        job.train.epochs = 300;
        job.train.weight_decay = 0.01;
        let out = run::<B>(&job, &ctx(None, false), &Default::default()).unwrap();
        let Some(Metrics::Regression(m)) = out.report.test.map(|t| t.metrics) else {
            panic!("no regression metrics")
        };
        assert!(m.r2 >= 0.45, "R² {}", m.r2);
        // Metrics are in the target's units (disease progression, tens to hundreds).
        assert!(m.rmse > 20.0 && m.rmse < 80.0, "rmse {}", m.rmse);
    }

    #[test]
    fn resume_refuses_another_architecture() {
        let device = Default::default();
        let dir = tempfile::tempdir().unwrap();
        let mut job = MlpJob::seed();
        job.train.epochs = 2;
        run::<B>(
            &job,
            &ctx(
                Some(ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap()),
                false,
            ),
            &device,
        )
        .unwrap();
        job.model = job.model.with_hidden(vec![32]);
        let again = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
        let err = run::<B>(&job, &ctx(Some(again), true), &device)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("config.json: a resume cannot change model.hidden"),
            "{err}"
        );
    }

    #[test]
    fn nonfinite_loss_stops_naming_the_step_or_is_skipped_and_counted() {
        use zoo_train::{FeatureDataset, ProgressMode, Targets};
        let device = Default::default();
        let data = |poison: bool| {
            let mut x: Vec<f32> = (0..32).map(|i| (i as f32 * 0.37).sin()).collect();
            if poison {
                x[10] = f32::NAN; // sample 5
            }
            let y = (0..16).map(|i| i % 2).collect();
            FeatureDataset::new(x, 2, Targets::Classes(y)).unwrap()
        };
        let model_cfg = MlpJob::seed().model.with_input(2).with_output(2);
        let train = |cfg: &TrainConfig, poison: bool, dir: &ArtifactDir, resume: bool| {
            let spec = RunSpec {
                cfg,
                objective: Objective::Classification { num_classes: 2 },
                model_id: ModelId::new("mlp", &model_cfg, "f32"),
                info: RunInfo {
                    model: "mlp".into(),
                    backend: "ndarray".into(),
                    device: "cpu".into(),
                    dataset: "poisoned".into(),
                },
                config: serde_json::Value::Null,
                artifacts: Some(dir),
                resume,
                progress: ProgressMode::Quiet,
                target_scaler: None,
                class_names: Vec::new(),
                resumed_with_changes: Vec::new(),
            };
            fit(
                model_cfg.init::<B>(&device),
                &data(poison),
                None,
                None,
                spec,
                &device,
            )
        };
        let mut cfg = TrainConfig {
            epochs: 1,
            batch_size: 4,
            ..Default::default()
        };
        // One clean epoch, then the poisoned sample: stop at epoch 2, naming the checkpoint.
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::prepare(tmp.path(), Mode::Fresh).unwrap();
        train(&cfg, false, &dir, false).unwrap();
        cfg.epochs = 3;
        let err = train(&cfg, true, &dir, true).err().unwrap().to_string();
        assert!(
            err.starts_with("loss is NaN at epoch 2, step ") && err.contains("epoch-00001.ckpt"),
            "{err}"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.report()).unwrap()).unwrap();
        assert_eq!(report["status"], "diverged");
        assert_eq!(report["epochs_completed"], 1);

        // --skip-nonfinite: the poisoned batch (one of four per epoch) is skipped every epoch.
        cfg.skip_nonfinite = true;
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::prepare(tmp.path(), Mode::Fresh).unwrap();
        let out = train(&cfg, true, &dir, false).unwrap();
        assert_eq!(out.report.skipped_nonfinite, 3);
        assert_eq!(out.report.epochs_completed, 3);
        assert!(params(&out.model).iter().all(|v| v.is_finite()));
        assert!(out.report.history.iter().all(|e| e.train_loss.is_finite()));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.report()).unwrap()).unwrap();
        assert_eq!(report["skipped_nonfinite"], 3);
        assert_eq!(report["status"], "finished");
    }

    #[test]
    fn resume_without_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
        let err = run::<B>(&MlpJob::seed(), &ctx(Some(a), true), &Default::default())
            .err()
            .unwrap();
        assert!(
            err.to_string().starts_with("resume: no checkpoint in"),
            "{err}"
        );
    }

    #[test]
    fn artifacts_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut job = MlpJob::seed();
        job.train.epochs = 5;
        let a = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
        let out = run::<B>(&job, &ctx(Some(a), false), &Default::default()).unwrap();
        for f in [
            "config.json",
            "model.mpk",
            "report.json",
            "training_curves.png",
            "decision_boundary.png",
            "confusion.png",
            "roc.png",
        ] {
            assert!(dir.path().join(f).is_file(), "{f} missing");
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        for key in [
            "model",
            "backend",
            "device",
            "seed",
            "dataset",
            "epochs",
            "history",
            "test",
            "train_samples_per_sec",
            "wall_time_secs",
            "param_count",
        ] {
            assert!(report.get(key).is_some(), "report.json lacks {key}");
        }
        assert_eq!(report["extra"]["confusion_plot"], "confusion.png");
        assert_eq!(report["extra"]["roc"], "roc.png");
        assert_eq!(report["status"], "finished");
        assert_eq!(report["history"].as_array().unwrap().len(), 5);
        // The saved model reloads and predicts like the trained one.
        let cfg: MlpJob =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap())
                .unwrap();
        let m = zoo_train::checkpoint::load_module::<B, crate::Mlp<B>>(
            cfg.model.init(&Default::default()),
            &dir.path().join("model.mpk"),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(params(&m), params(&out.model));
    }
}
