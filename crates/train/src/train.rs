//! The one supervised training loop every classifier and regressor in the zoo uses.
//!
//! Why not burn-train's `Learner`: the zoo needs things its 0.21 loop does not give — exact
//! resume (per-step RNG streams, mid-epoch checkpoints on Ctrl-C, optimiser state, schedule
//! position and history restored so a resumed run equals an uninterrupted one), a checkpoint
//! header checked before loading,
//! atomic writes, NaN detection at the step it happens, full-batch epochs without per-epoch
//! dataloader overhead, and one `report.json` schema shared with the GAN loop. Optimisers,
//! schedulers, gradient clipping and losses are burn-optim's and burn-nn's.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig, MseLoss, Reduction};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::artifacts::{write_json, ArtifactDir};
use crate::checkpoint::{
    load_module, module_from_bytes, module_to_bytes, read_resume_checkpoint, save_module,
    write_epoch_checkpoint, ModelId,
};
use crate::config::{Monitor, TrainConfig};
use crate::interrupt;
use crate::metrics::{classification_metrics, regression_metrics, ConfusionMatrix};
use crate::optim::{Schedule, ZooOptimizer};
use crate::progress::{Progress, ProgressMode};
use crate::report::{
    Environment, EpochRecord, EvalSummary, Metrics, Report, RunInfo, RunStatus, SampleCounts,
};
use crate::train_error::TrainError;
use zoo_data::data::{Dataset, Objective, Predict, TargetTensor, Targets};
use zoo_data::preprocess::StandardScaler;

/// Everything about a run apart from the model and the data.
pub struct RunSpec<'a> {
    /// Hyper-parameters.
    pub cfg: &'a TrainConfig,
    /// Loss and metrics.
    pub objective: Objective,
    /// Identity written into checkpoints and checked on resume.
    pub model_id: ModelId,
    /// Model, backend, device, dataset (for the report).
    pub info: RunInfo,
    /// Full configuration (model + training + data), stored in the report.
    pub config: serde_json::Value,
    /// Where checkpoints, the model and the report go; `None` writes nothing.
    pub artifacts: Option<&'a ArtifactDir>,
    /// Continue from the newest checkpoint in `artifacts`.
    pub resume: bool,
    /// Progress display.
    pub progress: ProgressMode,
    /// Regression targets were standardised with this scaler: metrics are reported in the
    /// original units (the loss stays in standardised units).
    pub target_scaler: Option<StandardScaler>,
}

/// Where and how an example's job runs: its artifact directory and the backend it got.
pub struct JobContext {
    /// Artifact directory (`None`: write nothing).
    pub artifacts: Option<ArtifactDir>,
    /// Continue from the newest checkpoint.
    pub resume: bool,
    /// Progress display.
    pub progress: ProgressMode,
    /// Backend name.
    pub backend: String,
    /// Device name.
    pub device: String,
    /// Float element type of the backend.
    pub float: String,
}

impl JobContext {
    /// A context with no progress output (tests, library use).
    pub fn quiet(
        artifacts: Option<ArtifactDir>,
        resume: bool,
        backend: &str,
        device: &str,
    ) -> Self {
        Self {
            artifacts,
            resume,
            progress: ProgressMode::Quiet,
            backend: backend.into(),
            device: device.into(),
            float: "f32".into(),
        }
    }

    /// Shows a one-line note unless the run is quiet.
    pub fn progress_note(&self, line: &str) {
        if self.progress != ProgressMode::Quiet {
            eprintln!("{line}");
        }
    }
}

/// A finished (or early-stopped) run.
pub struct Trained<M> {
    /// The final model: the last epoch's, or the best validation epoch's with early stopping.
    pub model: M,
    /// The report, as written to `report.json`.
    pub report: Report,
    /// The test-set evaluation, when a test set was given.
    pub test: Option<Evaluation>,
}

/// The result of an evaluation pass.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Mean loss and metrics.
    pub summary: EvalSummary,
    /// Class probabilities (`[n, classes]`) or predictions (`[n, dim]`), row-major.
    pub outputs: Vec<f32>,
    /// Confusion matrix (classification).
    pub confusion: Option<ConfusionMatrix>,
}

/// Loop state saved in every checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LoopState {
    epoch: usize,
    iteration: usize,
    history: Vec<EpochRecord>,
    /// Best monitored validation score so far (lower is better: the loss, or minus the metric).
    #[serde(alias = "best_valid_loss")]
    best_score: Option<f64>,
    best_epoch: Option<usize>,
    bad_epochs: usize,
    wall_time_secs: f64,
    stopped_early: bool,
    /// The epoch in progress when a stop was asked for (`None` at epoch boundaries).
    #[serde(default)]
    partial: Option<PartialEpoch>,
    /// Batches skipped for a non-finite loss (`--skip-nonfinite`), all epochs.
    #[serde(default)]
    skipped_nonfinite: usize,
}

/// How far an interrupted epoch got: the batches done and their running sums, so a resumed
/// run finishes the epoch exactly as an uninterrupted one would.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PartialEpoch {
    /// Batches done (trained or skipped).
    steps: usize,
    /// Sum of per-sample losses over the trained batches.
    loss_sum: f64,
    /// Correct training predictions (classification).
    correct: i64,
    /// Samples in the trained batches.
    samples: usize,
    /// Seconds of training spent on the epoch so far.
    train_seconds: f64,
    /// Learning rate of the last step done.
    lr: f64,
}

/// The backend RNG stream of one training step. Seeding per step (not per epoch) lets a run
/// stopped mid-epoch resume with the same dropout masks it would have drawn.
pub fn step_stream(epoch: usize, step: usize) -> u64 {
    3 << 60 | (epoch as u64) << 28 | step as u64
}

pub use zoo_data::derive_seed;

/// Seeds the backend's RNG (weight initialisation, dropout) for a run with `seed`.
/// Call it before building the model.
///
/// Burn's backend RNG is process-global: two runs training at once in one process draw from
/// the same stream, so runs are reproducible only one at a time per process.
pub fn seed_backend<B: Backend>(device: &B::Device, seed: u64) {
    B::seed(device, derive_seed(seed, u64::MAX));
}

/// Reads a tensor back to the host as `f32`.
pub fn to_vec_f32<B: Backend, const D: usize>(t: Tensor<B, D>) -> Result<Vec<f32>, TrainError> {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .map_err(|e| TrainError::Backend(format!("{e:?}")))
}

/// All float parameters of a module, flattened in visiting order (for equality checks).
pub fn flat_params<B: Backend, M: burn::module::Module<B>>(module: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl<B: Backend> burn::module::ModuleVisitor<B> for Collect {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
            self.0.extend(to_vec_f32(param.val()).unwrap_or_default());
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// The largest absolute difference between two parameter lists of equal length (from
/// [`flat_params`]): how far apart two models are.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "parameter lists of different lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

enum Loss<B: Backend> {
    CrossEntropy(CrossEntropyLoss<B>),
    Mse(MseLoss),
}

impl<B: Backend> Loss<B> {
    fn new(objective: Objective, device: &B::Device) -> Self {
        match objective {
            Objective::Classification { .. } => {
                Loss::CrossEntropy(CrossEntropyLossConfig::new().init(device))
            }
            Objective::Regression => Loss::Mse(MseLoss::new()),
        }
    }

    fn forward(
        &self,
        output: Tensor<B, 2>,
        targets: TargetTensor<B>,
    ) -> Result<Tensor<B, 1>, TrainError> {
        match (self, targets) {
            (Loss::CrossEntropy(l), TargetTensor::Classes(t)) => Ok(l.forward(output, t)),
            (Loss::Mse(l), TargetTensor::Values(t)) => Ok(l.forward(output, t, Reduction::Mean)),
            _ => Err(TrainError::Invalid(
                "dataset targets do not match the objective (classes vs values)".into(),
            )),
        }
    }
}

/// Evaluates `model` on all of `data`, in batches of `batch_size`. For regression with a
/// `target_scaler`, predictions and metrics are mapped back to the original units.
pub fn evaluate<B, M, D>(
    model: &M,
    data: &D,
    objective: Objective,
    batch_size: usize,
    target_scaler: Option<&StandardScaler>,
    device: &B::Device,
) -> Result<Evaluation, TrainError>
where
    B: Backend,
    D: Dataset,
    M: Predict<B, D::Input<B>>,
{
    let n = data.len();
    if n == 0 {
        return Err(TrainError::Invalid(
            "cannot evaluate on an empty dataset".into(),
        ));
    }
    let idx: Vec<usize> = (0..n).collect();
    let mut outputs = Vec::new();
    let mut width = 0;
    for chunk in idx.chunks(batch_size.max(1)) {
        let out = model.predict(data.inputs::<B>(chunk, device));
        width = out.dims()[1];
        outputs.extend(to_vec_f32(out)?);
    }
    match (objective, data.targets()) {
        (Objective::Classification { num_classes }, Targets::Classes(t)) => {
            if width != num_classes {
                return Err(TrainError::Invalid(format!(
                    "model outputs {width} values, the objective has {num_classes} classes"
                )));
            }
            // Log-softmax on the host: the loss, then probabilities for the metrics.
            let mut nll = 0.0f64;
            for (row, &target) in outputs.chunks_mut(width).zip(t) {
                let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let lse = max as f64
                    + row
                        .iter()
                        .map(|&v| ((v - max) as f64).exp())
                        .sum::<f64>()
                        .ln();
                nll += lse - row[target] as f64;
                for v in row.iter_mut() {
                    *v = ((*v as f64) - lse).exp() as f32;
                }
            }
            let (metrics, confusion) = classification_metrics(&outputs, num_classes, t);
            Ok(Evaluation {
                summary: EvalSummary {
                    loss: nll / n as f64,
                    metrics: Metrics::Classification(metrics),
                },
                outputs,
                confusion: Some(confusion),
            })
        }
        (Objective::Regression, Targets::Values { values, dim }) => {
            if width != *dim {
                return Err(TrainError::Invalid(format!(
                    "model outputs {width} values per sample, targets have {dim}"
                )));
            }
            let mut pred: Vec<f64> = outputs.iter().map(|&v| v as f64).collect();
            let mut target: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            let loss = regression_metrics(&pred, &target).mse;
            if let Some(s) = target_scaler {
                s.inverse_transform(&mut pred);
                s.inverse_transform(&mut target);
            }
            let metrics = regression_metrics(&pred, &target);
            Ok(Evaluation {
                summary: EvalSummary {
                    loss,
                    metrics: Metrics::Regression(metrics),
                },
                outputs: pred.iter().map(|&v| v as f32).collect(),
                confusion: None,
            })
        }
        _ => Err(TrainError::Invalid(
            "dataset targets do not match the objective (classes vs values)".into(),
        )),
    }
}

/// Trains `model` on `train`, validating on `valid` after every epoch and testing the final
/// model on `test`. With `spec.artifacts` it writes a checkpoint per epoch, `best.mpk` (early
/// stopping), `model.mpk` and `report.json`; with `spec.resume` it continues from the newest
/// checkpoint there.
pub fn fit<B, M, D>(
    model: M,
    train: &D,
    valid: Option<&D>,
    test: Option<&D>,
    spec: RunSpec<'_>,
    device: &B::Device,
) -> Result<Trained<M>, TrainError>
where
    B: AutodiffBackend,
    D: Dataset,
    M: AutodiffModule<B> + Predict<B, D::Input<B>>,
    M::InnerModule: Predict<B::InnerBackend, D::Input<B::InnerBackend>>,
{
    let cfg = spec.cfg;
    cfg.validate().map_err(TrainError::Invalid)?;
    if train.is_empty() {
        return Err(TrainError::Invalid("the training set is empty".into()));
    }
    if cfg.patience.is_some() && valid.is_none() {
        return Err(TrainError::Invalid(
            "patience needs a validation set (set a validation fraction)".into(),
        ));
    }
    let n = train.len();
    let batch_size = if cfg.full_batch {
        n
    } else {
        cfg.batch_size.min(n)
    };
    let steps_per_epoch = n.div_ceil(batch_size);
    let mut schedule = Schedule::new(cfg, steps_per_epoch).map_err(TrainError::Invalid)?;
    let mut optim = ZooOptimizer::<M, B>::new(cfg);
    let mut model = model;
    let mut state = LoopState::default();
    let mut best: Option<M> = None;
    let mut last_checkpoint = None;

    if spec.resume {
        let (ck, loaded, path) = read_resume_checkpoint(spec.artifacts, &spec.model_id)?;
        state = loaded;
        model = module_from_bytes::<B, M>(model, ck.model, device, &path)?;
        optim =
            optim
                .load_bytes(ck.optimizer, device)
                .map_err(|reason| TrainError::Checkpoint {
                    path: path.clone(),
                    reason,
                })?;
        if let Some(dir) = spec.artifacts.filter(|_| state.best_epoch.is_some()) {
            let best_path = dir.path("best.mpk");
            if best_path.exists() {
                best = Some(load_module::<B, M>(model.clone(), &best_path, device)?);
            }
        }
        schedule.skip(state.iteration + state.partial.as_ref().map_or(0, |p| p.steps));
        last_checkpoint = Some(path);
    }

    let param_count = model.num_params();
    let mut progress = Progress::new(spec.progress, cfg.epochs);
    if spec.resume {
        progress.note(&match &state.partial {
            Some(p) => format!(
                "resuming epoch {} of {} at step {} of {steps_per_epoch}",
                state.epoch + 1,
                cfg.epochs,
                p.steps + 1
            ),
            None => format!("resuming after epoch {} of {}", state.epoch, cfg.epochs),
        });
    }
    let loss_fn = Loss::<B>::new(spec.objective, device);
    let classification = matches!(spec.objective, Objective::Classification { .. });
    let session_start = Instant::now();
    let wall_before = state.wall_time_secs;

    let report_of = |state: &LoopState, status: RunStatus, test_summary: Option<EvalSummary>| {
        let (samples, secs) = state.history.iter().fold((0.0, 0.0), |(s, t), e| {
            (s + e.samples_per_sec * e.train_seconds, t + e.train_seconds)
        });
        Report {
            info: spec.info.clone(),
            seed: cfg.seed,
            status,
            epochs: cfg.epochs,
            epochs_completed: state.epoch,
            best_epoch: state.best_epoch.filter(|_| cfg.patience.is_some()),
            param_count,
            samples: SampleCounts {
                train: n,
                valid: valid.map_or(0, |v| v.len()),
                test: test.map_or(0, |t| t.len()),
            },
            history: state.history.clone(),
            test: test_summary,
            skipped_nonfinite: state.skipped_nonfinite,
            train_samples_per_sec: if secs > 0.0 { samples / secs } else { 0.0 },
            wall_time_secs: state.wall_time_secs,
            config: spec.config.clone(),
            environment: Environment::current(),
            extra: Default::default(),
        }
    };

    let save_checkpoint = |model: &M,
                           optim: &ZooOptimizer<M, B>,
                           state: &LoopState,
                           epoch: usize,
                           dir: &ArtifactDir|
     -> Result<std::path::PathBuf, TrainError> {
        let records = (
            module_to_bytes::<B, M>(model.clone())?,
            optim.to_bytes().map_err(TrainError::Backend)?,
        );
        write_epoch_checkpoint(
            dir,
            &spec.model_id,
            epoch,
            state,
            records,
            cfg.keep_checkpoints,
        )
    };

    while state.epoch < cfg.epochs && !state.stopped_early {
        let epoch = state.epoch + 1;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            cfg.seed,
            1 << 32 | epoch as u64,
        )));

        progress.start_epoch(epoch, cfg.epochs, steps_per_epoch);
        let t0 = Instant::now();
        let mut part = state.partial.take().unwrap_or_default();
        let mut lr = if part.steps > 0 { part.lr } else { cfg.lr };
        for (step, idx) in order.chunks(batch_size).enumerate().skip(part.steps) {
            B::seed(device, derive_seed(cfg.seed, step_stream(epoch, step)));
            lr = schedule.step();
            part.lr = lr;
            let output = model.predict(train.train_inputs::<B>(idx, epoch, device));
            let targets = train.targets().tensor::<B>(idx, device);
            let batch_correct = match (classification, &targets) {
                (true, TargetTensor::Classes(t)) => {
                    let pred = output.clone().argmax(1).squeeze_dim::<1>(1);
                    pred.equal(t.clone())
                        .int()
                        .sum()
                        .into_scalar()
                        .elem::<i64>()
                }
                _ => 0,
            };
            let loss = loss_fn.forward(output, targets)?;
            let loss_value = loss.clone().into_scalar().elem::<f64>();
            part.steps = step + 1;
            if loss_value.is_finite() {
                part.loss_sum += loss_value * idx.len() as f64;
                part.correct += batch_correct;
                part.samples += idx.len();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
            } else if cfg.skip_nonfinite {
                state.skipped_nonfinite += 1;
            } else {
                state.wall_time_secs = wall_before + session_start.elapsed().as_secs_f64();
                if let Some(dir) = spec.artifacts {
                    write_json(&dir.report(), &report_of(&state, RunStatus::Diverged, None))?;
                }
                return Err(TrainError::NonFinite {
                    loss: loss_value,
                    epoch,
                    step: step + 1,
                    last_checkpoint,
                });
            }
            progress.step(loss_value);
            if interrupt::requested() {
                part.train_seconds += t0.elapsed().as_secs_f64();
                state.partial = Some(part);
                state.wall_time_secs = wall_before + session_start.elapsed().as_secs_f64();
                let mut checkpoint = None;
                if let Some(dir) = spec.artifacts {
                    checkpoint = Some(save_checkpoint(&model, &optim, &state, epoch, dir)?);
                    write_json(
                        &dir.report(),
                        &report_of(&state, RunStatus::Interrupted, None),
                    )?;
                }
                return Err(TrainError::Interrupted {
                    epoch,
                    step: step + 1,
                    checkpoint,
                });
            }
        }
        if part.samples == 0 {
            return Err(TrainError::Invalid(format!(
                "every batch of epoch {epoch} had a non-finite loss (skip_nonfinite skipped \
                 them all); last good checkpoint: {}",
                last_checkpoint
                    .as_ref()
                    .map_or("none".into(), |p| p.display().to_string())
            )));
        }
        let train_seconds = part.train_seconds + t0.elapsed().as_secs_f64();

        let valid_summary = match valid {
            Some(v) => Some(
                evaluate::<B::InnerBackend, _, D>(
                    &model.valid(),
                    v,
                    spec.objective,
                    cfg.eval_batch_size,
                    spec.target_scaler.as_ref(),
                    device,
                )?
                .summary,
            ),
            None => None,
        };
        state.iteration += steps_per_epoch;
        state.epoch = epoch;
        let record = EpochRecord {
            epoch,
            lr,
            train_loss: part.loss_sum / part.samples as f64,
            train_accuracy: classification.then(|| part.correct as f64 / part.samples as f64),
            valid: valid_summary.clone(),
            train_seconds,
            samples_per_sec: n as f64 / train_seconds.max(1e-9),
        };
        progress.end_epoch(epoch, cfg.epochs, &epoch_line(&record, cfg.epochs));
        state.history.push(record);

        if let Some(v) = &valid_summary {
            let score = match cfg.monitor {
                Monitor::Loss => v.loss,
                Monitor::Metric => -v.metrics.headline().1,
            };
            if state.best_score.is_none_or(|b| score < b) {
                state.best_score = Some(score);
                state.best_epoch = Some(epoch);
                state.bad_epochs = 0;
                if cfg.patience.is_some() {
                    if let Some(dir) = spec.artifacts {
                        save_module::<B, M>(model.clone(), &dir.path("best.mpk"))?;
                    }
                    best = Some(model.clone());
                }
            } else {
                state.bad_epochs += 1;
                if cfg.patience.is_some_and(|p| state.bad_epochs >= p) {
                    state.stopped_early = true;
                    progress.note(&format!(
                        "early stopping after epoch {epoch}: no validation improvement for {} epochs; \
                         restoring epoch {}",
                        state.bad_epochs,
                        state.best_epoch.unwrap_or(epoch)
                    ));
                }
            }
        }
        state.wall_time_secs = wall_before + session_start.elapsed().as_secs_f64();

        if let Some(dir) = spec.artifacts {
            let path = save_checkpoint(&model, &optim, &state, epoch, dir)?;
            write_json(&dir.report(), &report_of(&state, RunStatus::Running, None))?;
            last_checkpoint = Some(path);
        }
    }

    let status = if state.stopped_early {
        RunStatus::EarlyStopped
    } else {
        RunStatus::Finished
    };
    if cfg.patience.is_some() {
        if let Some(b) = best {
            model = b;
        }
    }
    let test_eval = match test {
        Some(t) => Some(evaluate::<B::InnerBackend, _, D>(
            &model.valid(),
            t,
            spec.objective,
            cfg.eval_batch_size,
            spec.target_scaler.as_ref(),
            device,
        )?),
        None => None,
    };
    state.wall_time_secs = wall_before + session_start.elapsed().as_secs_f64();
    let report = report_of(
        &state,
        status,
        test_eval.as_ref().map(|e| e.summary.clone()),
    );
    if let Some(dir) = spec.artifacts {
        crate::checkpoint::save_model::<B, M>(
            model.clone(),
            &dir.path("model.mpk"),
            &spec.model_id,
        )?;
        write_json(&dir.report(), &report)?;
    }
    Ok(Trained {
        model,
        report,
        test: test_eval,
    })
}

fn epoch_line(r: &EpochRecord, epochs: usize) -> String {
    let mut line = format!("epoch {:>4}/{epochs}  loss {:.4}", r.epoch, r.train_loss);
    if let Some(a) = r.train_accuracy {
        line += &format!("  acc {a:.4}");
    }
    if let Some(v) = &r.valid {
        let (name, value) = v.metrics.headline();
        line += &format!("  | valid loss {:.4}  {name} {value:.4}", v.loss);
    }
    line + &format!("  | lr {:.2e}  {:.0} samples/s", r.lr, r.samples_per_sec)
}
