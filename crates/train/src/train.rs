//! The one supervised training loop every classifier and regressor in the zoo uses.
//!
//! Why not burn-train's `Learner`: the zoo needs things its 0.21 loop does not give — exact
//! resume (per-step RNG streams, mid-epoch checkpoints on Ctrl-C, optimiser state, schedule
//! position and history restored so a resumed run equals an uninterrupted one), a checkpoint
//! header checked before loading,
//! atomic writes, NaN detection at the step it happens, full-batch epochs without per-epoch
//! dataloader overhead, and one `report.json` schema shared with the GAN loop. Optimisers,
//! schedulers, gradient clipping and losses are burn-optim's and burn-nn's.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig, MseLoss, Reduction};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};

use crate::artifacts::{ArtifactDir, write_json};
use crate::checkpoint::{ModelId, load_module, module_from_bytes, module_to_bytes, save_module};
use crate::config::{Monitor, ScheduleKind, TrainConfig};
use crate::driver::{
    Batching, DriveSpec, EpochJob, LoopSettings, LoopState, Partial, StepOutcome, drive,
};
use crate::metrics::{ConfusionMatrix, classification_metrics, regression_metrics};
use crate::optim::{Schedule, ZooOptimizer};
use crate::plateau::PlateauState;
use crate::progress::ProgressMode;
use crate::report::{
    Environment, EpochRecord, EvalSummary, Metrics, Report, RunInfo, RunStatus, SampleCounts,
};
use crate::resume::SettingChange;
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
    /// Class names for the test plots (`confusion.png`); empty: the class indices.
    pub class_names: Vec<String>,
    /// What a resume changes from the saved run ([`JobContext::write_config`] returns them).
    pub resumed_with_changes: Vec<SettingChange>,
}

impl<'a> RunSpec<'a> {
    /// A run of `model` (its kind, e.g. `mlp`) with `cfg` toward `objective` that writes
    /// nothing and shows no progress: what a caller training on its own data starts from, then
    /// sets `artifacts`, `progress` and the rest as it needs.
    pub fn new(cfg: &'a TrainConfig, objective: Objective, model: ModelId) -> Self {
        Self {
            cfg,
            objective,
            info: RunInfo {
                model: model.kind.clone(),
                backend: String::new(),
                device: String::new(),
                dataset: String::new(),
            },
            model_id: model,
            config: serde_json::Value::Null,
            artifacts: None,
            resume: false,
            progress: ProgressMode::Quiet,
            target_scaler: None,
            class_names: Vec::new(),
            resumed_with_changes: Vec::new(),
        }
    }
}

/// Which loop trains a run: the zoo's own ([`fit`]: exact mid-epoch resume, checked
/// checkpoints, schedules, non-finite handling) or burn-train's `Learner`
/// (`zoo_train::learner::fit_learner`, feature `learner` of the model crates: burn-train's
/// metrics, renderer, checkpointer and multi-device strategy). `D` is the backend's device type.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Trainer<D> {
    /// The zoo's loop, on the job's device.
    #[default]
    Zoo,
    /// burn-train's `SupervisedTraining`: on one device, or data parallel over several (one
    /// worker per device, gradients summed on the first).
    Burn {
        /// The devices; the first holds the model between steps.
        devices: Vec<D>,
    },
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

    /// Writes `job` as the run's `config.json` (nothing without an artifact directory). On a
    /// resume it first checks the job against the saved one ([`crate::resume::check_resume`]:
    /// the data, the model and the seed may not change, nor the batch size mid-epoch; a run
    /// with nothing left to do is [`TrainError::AlreadyTrained`], before anything is written),
    /// prints one line per changed training setting and returns the changes, for
    /// [`RunSpec::resumed_with_changes`]. `free` names the job's top-level keys besides `train`
    /// that may change too.
    pub fn write_config<J: Serialize>(
        &self,
        job: &J,
        free: &[&str],
    ) -> Result<Vec<SettingChange>, TrainError> {
        let Some(dir) = &self.artifacts else {
            return Ok(Vec::new());
        };
        let path = dir.path("config.json");
        let value = serde_json::to_value(job).map_err(|e| {
            TrainError::Invalid(format!("{}: cannot serialise the job: {e}", path.display()))
        })?;
        let changes = if self.resume {
            crate::resume::check_resume(dir, &value, free)?
        } else {
            Vec::new()
        };
        crate::resume::announce(&changes, &path);
        write_json(&path, &value)?;
        Ok(changes)
    }

    /// A line about the user's data that the run goes on despite (a label that looks
    /// accidental): printed as `warning: …` on stderr, in quiet mode too.
    pub fn warn(&self, line: &str) {
        eprintln!("warning: {line}");
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

impl<M> Trained<M> {
    /// The same run with its model passed through `f` (wrapped in an enum, say).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Trained<N> {
        Trained {
            model: f(self.model),
            report: self.report,
            test: self.test,
        }
    }
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
    /// The true targets, in the order of `outputs`: class indices (classification) or values
    /// in the outputs' units (regression).
    pub targets: Vec<f64>,
}

/// The supervised loop's own checkpointed state, beside [`LoopState`]'s common fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct EarlyStopping {
    /// Steps completed in finished epochs (the schedule's position).
    iteration: usize,
    /// Best monitored validation score so far (lower is better: the loss, or minus the metric).
    #[serde(alias = "best_valid_loss")]
    best_score: Option<f64>,
    best_epoch: Option<usize>,
    bad_epochs: usize,
    stopped_early: bool,
    /// The plateau schedule's state after the last finished epoch (`--schedule plateau`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plateau: Option<PlateauState>,
}

/// The running sums of a supervised epoch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct EpochSums {
    /// Sum of per-sample losses over the trained batches.
    loss_sum: f64,
    /// Correct training predictions (classification).
    correct: i64,
    /// Samples in the trained batches.
    samples: usize,
    /// Learning rate of the last step done.
    lr: f64,
}

type State = LoopState<EpochSums, EpochRecord, EarlyStopping>;

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
/// `target_scaler`, predictions and metrics are mapped back to the original units. A stop
/// asked for meanwhile ([`crate::interrupt`]) ends it after the current batch with
/// [`TrainError::Stopped`].
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
    evaluate_all(
        model,
        data,
        objective,
        batch_size,
        target_scaler,
        device,
        true,
    )
}

/// [`evaluate`]; `interruptible: false` inside a training run, whose own loop stops at the
/// next batch with a checkpoint (a validation pass abandoned halfway would lose the epoch).
fn evaluate_all<B, M, D>(
    model: &M,
    data: &D,
    objective: Objective,
    batch_size: usize,
    target_scaler: Option<&StandardScaler>,
    device: &B::Device,
    interruptible: bool,
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
        if interruptible && crate::interrupt::requested() {
            return Err(TrainError::Stopped(format!(
                "while evaluating, after {} of {n} samples; nothing was written",
                chunk[0]
            )));
        }
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
                targets: t.iter().map(|&c| c as f64).collect(),
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
                targets: target,
            })
        }
        _ => Err(TrainError::Invalid(
            "dataset targets do not match the objective (classes vs values)".into(),
        )),
    }
}

/// The supervised [`EpochJob`]: one model, one optimiser and its schedule, validation and
/// early stopping after each epoch.
struct Supervised<'a, B: AutodiffBackend, M: AutodiffModule<B>, D> {
    /// Always `Some` between steps (taken only to hand it to the optimiser).
    model: Option<M>,
    optim: ZooOptimizer<M, B>,
    schedule: Schedule,
    /// The best validation epoch's model (early stopping).
    best: Option<M>,
    train: &'a D,
    valid: Option<&'a D>,
    test: Option<&'a D>,
    spec: &'a RunSpec<'a>,
    loss_fn: Loss<B>,
    batch_size: usize,
    param_count: usize,
    device: B::Device,
}

impl<B, M, D> Supervised<'_, B, M, D>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
{
    fn model(&self) -> &M {
        self.model
            .as_ref()
            .expect("the model is in place between steps")
    }

    fn classification(&self) -> bool {
        matches!(self.spec.objective, Objective::Classification { .. })
    }
}

impl<B, M, D> EpochJob<B> for Supervised<'_, B, M, D>
where
    B: AutodiffBackend,
    D: Dataset,
    M: AutodiffModule<B> + Predict<B, D::Input<B>>,
    M::InnerModule: Predict<B::InnerBackend, D::Input<B::InnerBackend>>,
{
    type Sums = EpochSums;
    type Record = EpochRecord;
    type Extra = EarlyStopping;
    type Report = Report;

    fn settings(&self) -> LoopSettings {
        let cfg = self.spec.cfg;
        LoopSettings {
            epochs: cfg.epochs,
            seed: cfg.seed,
            keep_checkpoints: cfg.keep_checkpoints,
            batching: Batching {
                samples: self.train.len(),
                batch_size: self.batch_size,
                drop_last: false,
            },
        }
    }

    fn restore(
        &mut self,
        (model, optim): (Vec<u8>, Vec<u8>),
        state: &State,
        path: &Path,
    ) -> Result<(), TrainError> {
        let current = self
            .model
            .take()
            .expect("the model is in place between steps");
        let model = module_from_bytes::<B, M>(current, model, &self.device, path)?;
        self.optim = ZooOptimizer::from_checkpoint(self.spec.cfg, optim, &self.device, path)?;
        if let Some(dir) = self
            .spec
            .artifacts
            .filter(|_| state.extra.best_epoch.is_some())
        {
            let best_path = dir.path("best.mpk");
            if best_path.exists() {
                self.best = Some(load_module::<B, M>(
                    model.clone(),
                    &best_path,
                    &self.device,
                )?);
            }
        }
        self.model = Some(model);
        self.schedule
            .skip(state.extra.iteration + state.partial.as_ref().map_or(0, |p| p.steps));
        if let Some(p) = state.extra.plateau {
            self.schedule.restore_plateau(p);
        }
        Ok(())
    }

    fn records(&self) -> Result<(Vec<u8>, Vec<u8>), TrainError> {
        Ok((
            module_to_bytes::<B, M>(self.model().clone())?,
            self.optim.to_bytes().map_err(TrainError::Backend)?,
        ))
    }

    fn step(
        &mut self,
        epoch: usize,
        _step: usize,
        idx: &[usize],
        sums: &mut EpochSums,
        skipped: &mut usize,
    ) -> Result<StepOutcome, TrainError> {
        let lr = self.schedule.step();
        sums.lr = lr;
        let output = self
            .model()
            .predict(self.train.train_inputs::<B>(idx, epoch, &self.device));
        let targets = self.train.targets().tensor::<B>(idx, &self.device);
        let batch_correct = match (self.classification(), &targets) {
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
        let loss = self.loss_fn.forward(output, targets)?;
        let loss_value = loss.clone().into_scalar().elem::<f64>();
        if loss_value.is_finite() {
            sums.loss_sum += loss_value * idx.len() as f64;
            sums.correct += batch_correct;
            sums.samples += idx.len();
            let grads = GradientsParams::from_grads(loss.backward(), self.model());
            let model = self
                .model
                .take()
                .expect("the model is in place between steps");
            self.model = Some(self.optim.step(lr, model, grads));
        } else if self.spec.cfg.skip_nonfinite {
            *skipped += 1;
        } else {
            return Ok(StepOutcome::Diverged(loss_value));
        }
        Ok(StepOutcome::Done(loss_value))
    }

    fn updates(&self, sums: &EpochSums) -> usize {
        sums.samples
    }

    fn end_epoch(
        &mut self,
        epoch: usize,
        partial: Partial<EpochSums>,
        stop: &mut EarlyStopping,
    ) -> Result<(EpochRecord, Option<String>), TrainError> {
        let (cfg, spec) = (self.spec.cfg, self.spec);
        let valid_summary = match self.valid {
            Some(v) => Some(
                evaluate_all::<B::InnerBackend, _, D>(
                    &self.model().valid(),
                    v,
                    spec.objective,
                    cfg.eval_batch_size,
                    spec.target_scaler.as_ref(),
                    &self.device,
                    false,
                )?
                .summary,
            ),
            None => None,
        };
        stop.iteration += self.settings().batching.steps();
        let sums = &partial.sums;
        let n = self.train.len();
        let record = EpochRecord {
            epoch,
            lr: sums.lr,
            train_loss: sums.loss_sum / sums.samples as f64,
            train_accuracy: self
                .classification()
                .then(|| sums.correct as f64 / sums.samples as f64),
            valid: valid_summary.clone(),
            train_seconds: partial.train_seconds,
            samples_per_sec: n as f64 / partial.train_seconds.max(1e-9),
        };
        let mut note = None;
        if let Some(v) = &valid_summary {
            // The monitored number; early stopping minimises `score` (minus a metric).
            let (watched, name, score) = match cfg.monitor {
                Monitor::Loss => (v.loss, "loss", v.loss),
                Monitor::Metric => {
                    let m = v.metrics.headline().1;
                    (m, "metric", -m)
                }
            };
            if self.schedule.observe(watched) {
                let lr = self.schedule.plateau_state().map_or(0.0, |p| p.lr);
                note = Some(format!(
                    "epoch {epoch}: the validation {name} stopped improving; learning rate now \
                     {lr:.2e}"
                ));
            }
            stop.plateau = self.schedule.plateau_state();
            if stop.best_score.is_none_or(|b| score < b) {
                stop.best_score = Some(score);
                stop.best_epoch = Some(epoch);
                stop.bad_epochs = 0;
                if cfg.patience.is_some() {
                    if let Some(dir) = spec.artifacts {
                        save_module::<B, M>(self.model().clone(), &dir.path("best.mpk"))?;
                    }
                    self.best = Some(self.model().clone());
                }
            } else {
                stop.bad_epochs += 1;
                if cfg.patience.is_some_and(|p| stop.bad_epochs >= p) {
                    stop.stopped_early = true;
                    let reduced = note.take().map(|n| n + "\n").unwrap_or_default();
                    note = Some(
                        reduced
                            + &format!(
                                "early stopping after epoch {epoch}: no validation improvement for {} \
                         epochs; restoring epoch {}",
                                stop.bad_epochs,
                                stop.best_epoch.unwrap_or(epoch)
                            ),
                    );
                }
            }
        }
        Ok((record, note))
    }

    fn epoch_line(&self, r: &EpochRecord, epochs: usize) -> String {
        epoch_line(r, epochs)
    }

    fn stopped(&self, stop: &EarlyStopping) -> bool {
        stop.stopped_early
    }

    fn report(&self, state: &State, status: RunStatus) -> Report {
        let (cfg, spec) = (self.spec.cfg, self.spec);
        Report {
            info: spec.info.clone(),
            seed: cfg.seed,
            status,
            epochs: cfg.epochs,
            epochs_completed: state.epoch,
            best_epoch: state.extra.best_epoch.filter(|_| cfg.patience.is_some()),
            param_count: self.param_count,
            samples: SampleCounts {
                train: self.train.len(),
                valid: self.valid.map_or(0, |v| v.len()),
                test: self.test.map_or(0, |t| t.len()),
            },
            history: state.history.clone(),
            test: None,
            skipped_nonfinite: state.skipped_nonfinite,
            train_samples_per_sec: state.samples_per_sec(|e| (e.samples_per_sec, e.train_seconds)),
            wall_time_secs: state.wall_time_secs,
            config: spec.config.clone(),
            resumed_with_changes: state.resumed_with_changes.clone(),
            environment: Environment::current(),
            extra: Default::default(),
        }
    }
}

/// Trains `model` on `train`, validating on `valid` after every epoch and testing the final
/// model on `test`. With `spec.artifacts` it writes a checkpoint per epoch, `best.mpk` (early
/// stopping), `model.mpk`, `training_curves.png`, the test plots ([`crate::plot::evaluation_plots`]:
/// `confusion.png` and, with two classes, `roc.png`; `predicted_vs_true.png` for a
/// regression) and `report.json`; with `spec.resume` it continues from the newest checkpoint
/// there.
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
    check_sets(&spec, train, valid, test)?;
    let n = train.len();
    let batch_size = if cfg.full_batch {
        n
    } else {
        cfg.batch_size.min(n)
    };
    let schedule = Schedule::new(cfg, n.div_ceil(batch_size)).map_err(TrainError::Invalid)?;
    let mut job = Supervised {
        param_count: model.num_params(),
        model: Some(model),
        optim: ZooOptimizer::<M, B>::new(cfg),
        schedule,
        best: None,
        train,
        valid,
        test,
        spec: &spec,
        loss_fn: Loss::<B>::new(spec.objective, device),
        batch_size,
        device: device.clone(),
    };
    let drive_spec = DriveSpec {
        model_id: &spec.model_id,
        artifacts: spec.artifacts,
        resume: spec.resume,
        progress: spec.progress,
        changes: &spec.resumed_with_changes,
    };
    let mut driven = drive::<B, _>(&mut job, &drive_spec, device)?;
    let mut model = job
        .model
        .take()
        .expect("the model is in place between steps");
    if cfg.patience.is_some()
        && let Some(b) = job.best.take()
    {
        model = b;
    }
    driven.stamp_wall_time();
    let report = job.report(&driven.state, driven.status);
    finish::<B, M, D>(model, report, test, &spec, device)
}

/// The checks every loop makes before it trains: the settings, a non-empty training set,
/// classes inside the objective's, and a validation set where patience needs one.
pub(crate) fn check_sets<D: Dataset>(
    spec: &RunSpec<'_>,
    train: &D,
    valid: Option<&D>,
    test: Option<&D>,
) -> Result<(), TrainError> {
    spec.cfg.validate().map_err(TrainError::Invalid)?;
    if train.is_empty() {
        return Err(TrainError::Invalid("the training set is empty".into()));
    }
    if let Objective::Classification { num_classes } = spec.objective {
        for (name, set) in [
            ("training", Some(train)),
            ("validation", valid),
            ("test", test),
        ] {
            if let Some(Err(e)) = set.map(|d| d.targets().check_classes(num_classes)) {
                return Err(TrainError::Invalid(format!("the {name} set: {e}")));
            }
        }
    }
    if spec.cfg.patience.is_some() && valid.is_none() {
        return Err(TrainError::Invalid(
            "patience needs a validation set (set a validation fraction)".into(),
        ));
    }
    if matches!(spec.cfg.schedule, ScheduleKind::Plateau { .. }) && valid.is_none() {
        return Err(TrainError::Invalid(
            "the plateau schedule needs a validation set (set a validation fraction)".into(),
        ));
    }
    Ok(())
}

/// What every loop does with its trained model: evaluates it on `test`, and with artifacts
/// saves `model.mpk`, the training curves, the test plots and `report.json`.
pub(crate) fn finish<B, M, D>(
    model: M,
    mut report: Report,
    test: Option<&D>,
    spec: &RunSpec<'_>,
    device: &B::Device,
) -> Result<Trained<M>, TrainError>
where
    B: AutodiffBackend,
    D: Dataset,
    M: AutodiffModule<B>,
    M::InnerModule: Predict<B::InnerBackend, D::Input<B::InnerBackend>>,
{
    let test_eval = match test {
        Some(t) => Some(evaluate_all::<B::InnerBackend, _, D>(
            &model.valid(),
            t,
            spec.objective,
            spec.cfg.eval_batch_size,
            spec.target_scaler.as_ref(),
            device,
            false,
        )?),
        None => None,
    };
    report.test = test_eval.as_ref().map(|e| e.summary.clone());
    if let Some(dir) = spec.artifacts {
        crate::checkpoint::save_model::<B, M>(
            model.clone(),
            &dir.path("model.mpk"),
            &spec.model_id,
        )?;
        let what = spec.info.model.to_uppercase();
        crate::plot::training_curves(
            &dir.path("training_curves.png"),
            &format!("{what} training"),
            &report.history,
        )?;
        report
            .extra
            .insert("training_curves".into(), "training_curves.png".into());
        if let Some(eval) = &test_eval {
            for (key, file) in crate::plot::evaluation_plots(dir, &what, eval, &spec.class_names)? {
                report.extra.insert(key, file);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A mid-epoch checkpoint's loop state as the supervised loop wrote it before the shared
    /// driver (format version 1) still reads, field for field, and writes the same keys.
    #[test]
    fn loop_state_keeps_its_checkpoint_layout() {
        let old = serde_json::json!({
            "epoch": 1, "iteration": 4, "history": [], "best_valid_loss": 0.5,
            "best_epoch": 1, "bad_epochs": 0, "wall_time_secs": 1.5, "stopped_early": false,
            "partial": {"steps": 2, "loss_sum": 1.0, "correct": 3, "samples": 16,
                        "train_seconds": 0.25, "lr": 0.001},
            "skipped_nonfinite": 1
        });
        let state: State = serde_json::from_value(old.clone()).unwrap();
        assert_eq!((state.epoch, state.extra.iteration), (1, 4));
        assert_eq!(state.extra.best_score, Some(0.5));
        assert_eq!(state.skipped_nonfinite, 1);
        let partial = state.partial.clone().unwrap();
        assert_eq!((partial.steps, partial.train_seconds), (2, 0.25));
        assert_eq!((partial.sums.correct, partial.sums.samples), (3, 16));
        assert_eq!(partial.sums.lr, 0.001);
        let mut written = serde_json::to_value(&state).unwrap();
        let renamed = written["best_score"].take();
        let map = written.as_object_mut().unwrap();
        map.remove("best_score");
        map.insert("best_valid_loss".into(), renamed);
        assert_eq!(written, old);
    }
}
