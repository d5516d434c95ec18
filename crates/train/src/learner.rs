//! burn-train's `Learner` as a second trainer of the zoo's supervised models (feature
//! `learner`): the same model, data, loss, optimiser and report as [`crate::fit`], trained by
//! burn-train's `SupervisedTraining` with its metrics, renderer (its TUI on a terminal with
//! burn's `tui` feature, plain lines otherwise), checkpointer, early stopping and multi-device
//! strategy.
//!
//! A model takes part by implementing burn-train's `TrainStep` and `InferenceStep` on a
//! [`Batch`] of its input, with [`LearnerOutput`] as the output; [`train_step`] and
//! [`inference_step`] are those bodies for any [`Predict`] model. [`fit_learner`] then trains it
//! on any zoo [`Dataset`] (burn batches sample indices through [`IndexBatcher`]), evaluates it
//! on the test set with the zoo's metrics and writes the zoo's `model.mpk`, plots and
//! `report.json`, so `infer::load` of every model crate reads a run either trainer made.
//! burn-train's own files (metric logs, `experiment.log`, its checkpoints) go to `RUN/burn/`.
//!
//! What the zoo loop does that this trainer does not, refused with a one-line error: resuming a
//! zoo-loop checkpoint or resuming mid-epoch (burn-train checkpoints whole epochs, and resumes
//! from its own), skipping non-finite batches, optimisers other than Adam, learning-rate
//! schedules and warm-up, epoch-seeded augmentation.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher as BurnBatcher;
use burn::data::dataset::InMemDataset;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
use burn::optim::AdamConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::record::CompactRecorder;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, Transaction};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{
    AccuracyInput, AccuracyMetric, Adaptor, LearningRateMetric, LossInput, LossMetric,
    MetricDefinition,
};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::{
    ExecutionStrategy, InferenceStep, ItemLazy, Learner, LearnerSummary,
    MetricEarlyStoppingStrategy, MultiDeviceOptim, StoppingCondition, SupervisedTraining,
    TrainOutput, TrainStep,
};
use burn_flex::Flex;
use zoo_data::data::{Dataset, Objective, Predict, TargetTensor};
use zoo_data::items::Batch;

use crate::config::{Monitor, OptimizerKind, ScheduleKind};
use crate::report::{Environment, EpochRecord, Report, RunStatus, SampleCounts};
use crate::train::{RunSpec, Trained, check_sets, finish};
use crate::train_error::TrainError;

/// One step's output: the zoo loop's loss (cross-entropy for classes, mean squared error for
/// values), the model's `[batch, outputs]` and the targets; burn-train's loss, accuracy and
/// learning-rate metrics read it.
pub struct LearnerOutput<B: Backend> {
    /// The mean loss of the batch.
    pub loss: Tensor<B, 1>,
    /// Logits (classification) or predictions (regression).
    pub output: Tensor<B, 2>,
    /// The batch's targets.
    pub targets: TargetTensor<B>,
}

impl<B: Backend> LearnerOutput<B> {
    /// The output of `output` against `targets`, with the zoo loop's loss.
    pub fn new(output: Tensor<B, 2>, targets: TargetTensor<B>) -> Self {
        let loss = match &targets {
            TargetTensor::Classes(t) => CrossEntropyLossConfig::new()
                .init(&output.device())
                .forward(output.clone(), t.clone()),
            TargetTensor::Values(t) => {
                MseLoss::new().forward(output.clone(), t.clone(), Reduction::Mean)
            }
        };
        Self {
            loss,
            output,
            targets,
        }
    }
}

impl<B: Backend> ItemLazy for LearnerOutput<B> {
    // As burn-train's own outputs do: one read of the three tensors into its CPU backend, so
    // the training (autodiff) and validation (inner) outputs feed the same metrics.
    type ItemSync = LearnerOutput<Flex>;

    fn sync(self) -> LearnerOutput<Flex> {
        let classes = matches!(self.targets, TargetTensor::Classes(_));
        let transaction = Transaction::default()
            .register(self.output)
            .register(self.loss);
        let transaction = match self.targets {
            TargetTensor::Classes(t) => transaction.register(t),
            TargetTensor::Values(t) => transaction.register(t),
        };
        let [output, loss, targets]: [TensorData; 3] = transaction
            .execute()
            .try_into()
            .expect("a transaction of three tensors reads three");
        let device = Default::default();
        LearnerOutput {
            output: Tensor::from_data(output, &device),
            loss: Tensor::from_data(loss, &device),
            targets: if classes {
                TargetTensor::Classes(Tensor::from_data(targets, &device))
            } else {
                TargetTensor::Values(Tensor::from_data(targets, &device))
            },
        }
    }
}

impl<B: Backend> Adaptor<LossInput<B>> for LearnerOutput<B> {
    fn adapt(&self) -> LossInput<B> {
        LossInput::new(self.loss.clone())
    }
}

impl<B: Backend> Adaptor<AccuracyInput<B>> for LearnerOutput<B> {
    /// # Panics
    ///
    /// On a regression output: [`fit_learner`] registers accuracy for classification only.
    fn adapt(&self) -> AccuracyInput<B> {
        match &self.targets {
            TargetTensor::Classes(t) => AccuracyInput::new(self.output.clone(), t.clone()),
            TargetTensor::Values(_) => panic!("accuracy of a regression output"),
        }
    }
}

/// burn-train's `TrainStep::step` for a [`Predict`] model: forward, the zoo's loss, backward.
pub fn train_step<B, M, X>(model: &M, batch: Batch<B, X>) -> TrainOutput<LearnerOutput<B>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Predict<B, X>,
{
    let out = LearnerOutput::new(model.predict(batch.inputs), batch.targets);
    TrainOutput::new(model, out.loss.backward(), out)
}

/// burn-train's `InferenceStep::step` for a [`Predict`] model.
pub fn inference_step<B: Backend, M: Predict<B, X>, X>(
    model: &M,
    batch: Batch<B, X>,
) -> LearnerOutput<B> {
    LearnerOutput::new(model.predict(batch.inputs), batch.targets)
}

/// burn's batcher over sample indices of a zoo [`Dataset`]: burn's `DataLoader` shuffles and
/// splits the indices (across devices, too), and each batch is the dataset's own inputs and
/// targets for them, on the batch's backend.
pub struct IndexBatcher<D>(pub Arc<D>);

impl<D> Clone for IndexBatcher<D> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<B: Backend, D: Dataset> BurnBatcher<B, usize, Batch<B, D::Input<B>>> for IndexBatcher<D> {
    fn batch(&self, indices: Vec<usize>, device: &B::Device) -> Batch<B, D::Input<B>> {
        Batch {
            inputs: self.0.inputs::<B>(&indices, device),
            targets: self.0.targets().tensor(&indices, device),
        }
    }
}

/// A renderer that shows nothing (quiet runs and tests): burn-train's own print every step.
struct Silent;

impl MetricsRendererTraining for Silent {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
    fn render_train(&mut self, _item: TrainingProgress, _progress: Vec<ProgressType>) {}
    fn render_valid(&mut self, _item: TrainingProgress, _progress: Vec<ProgressType>) {}
}

impl MetricsRendererEvaluation for Silent {
    fn render_test(&mut self, _item: EvaluationProgress, _progress: Vec<ProgressType>) {}
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl MetricsRenderer for Silent {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}

/// The newest of burn-train's epoch checkpoints (`model-N.mpk`) in `dir`.
fn newest_burn_checkpoint(dir: &Path) -> Option<usize> {
    std::fs::read_dir(dir.join("checkpoint"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".mpk")?
                .parse()
                .ok()
        })
        .max()
}

/// What the burn trainer cannot do of `spec`, as the error the run stops with.
fn unsupported(spec: &RunSpec<'_>) -> Option<String> {
    let cfg = spec.cfg;
    let why = if cfg.skip_nonfinite {
        "skip_nonfinite needs the zoo trainer (burn-train's Learner has no such option)"
    } else if cfg.optimizer != OptimizerKind::Adam {
        "optimizer: the burn trainer takes adam only (burn-optim's Adam, as the zoo trainer's)"
    } else if cfg.schedule != ScheduleKind::Constant || cfg.warmup_epochs > 0 {
        "schedule: the burn trainer keeps the learning rate constant (a schedule or warmup_epochs needs the zoo trainer)"
    } else if cfg.patience.is_some()
        && cfg.monitor == Monitor::Metric
        && spec.objective == Objective::Regression
    {
        "monitor: the burn trainer watches the validation loss or accuracy (R² needs the zoo trainer)"
    } else {
        return None;
    };
    Some(why.to_string())
}

/// Trains `model` with burn-train's `SupervisedTraining` on `devices` (one: its single-device
/// strategy; several: its multi-device strategy, one worker per device, gradients summed on the
/// first), then evaluates and writes as [`crate::fit`]: the same settings (`spec`), the same
/// data, the same `model.mpk` and `report.json` (with the history burn-train logged), and the
/// same errors for bad sets. With `spec.resume` it continues from burn-train's newest epoch
/// checkpoint in `RUN/burn/checkpoint`.
pub fn fit_learner<B, M, D>(
    model: M,
    train: &D,
    valid: Option<&D>,
    test: Option<&D>,
    spec: RunSpec<'_>,
    devices: &[B::Device],
) -> Result<Trained<M>, TrainError>
where
    B: AutodiffBackend,
    D: Dataset + Clone + 'static,
    D::Input<B>: Send + Clone + std::fmt::Debug,
    D::Input<B::InnerBackend>: Send + Clone + std::fmt::Debug,
    M: TrainStep<Input = Batch<B, D::Input<B>>, Output = LearnerOutput<B>>
        + AutodiffModule<B>
        + Display
        + 'static,
    M::InnerModule: InferenceStep<
            Input = Batch<B::InnerBackend, D::Input<B::InnerBackend>>,
            Output = LearnerOutput<B::InnerBackend>,
        > + Predict<B::InnerBackend, D::Input<B::InnerBackend>>,
{
    let Some(device) = devices.first() else {
        return Err(TrainError::Invalid("devices: none given".into()));
    };
    check_sets(&spec, train, valid, test)?;
    if let Some(why) = unsupported(&spec) {
        return Err(TrainError::Invalid(why));
    }
    let cfg = spec.cfg;
    // burn-train writes its logs and checkpoints into a directory: RUN/burn, or a scratch one.
    let scratch;
    let burn_dir: PathBuf = match spec.artifacts {
        Some(dir) => dir.path("burn"),
        None => {
            scratch = tempfile::tempdir().map_err(|source| TrainError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            scratch.path().to_path_buf()
        }
    };
    let resume_from = match (spec.resume, spec.artifacts) {
        (true, Some(dir)) => {
            if let Some((_, ckpt)) = dir.checkpoints().ok().and_then(|c| c.last().cloned()) {
                return Err(TrainError::Invalid(format!(
                    "resume: {} was written by the zoo trainer; resume it with the zoo trainer",
                    ckpt.display()
                )));
            }
            match newest_burn_checkpoint(&burn_dir) {
                Some(epoch) if epoch >= cfg.epochs => {
                    return Err(TrainError::AlreadyTrained {
                        dir: dir.root().to_path_buf(),
                        reason: format!(
                            "already trained {epoch} epochs (asked for {})",
                            cfg.epochs
                        ),
                    });
                }
                Some(epoch) => Some(epoch),
                None => {
                    return Err(TrainError::Invalid(format!(
                        "resume: no checkpoint in {}",
                        burn_dir.join("checkpoint").display()
                    )));
                }
            }
        }
        _ => None,
    };

    let n = train.len();
    let batch_size = if cfg.full_batch {
        n
    } else {
        cfg.batch_size.min(n)
    };
    let eval_batch = cfg.eval_batch_size.max(1);
    let train_loader = DataLoaderBuilder::new(IndexBatcher(Arc::new(train.clone())))
        .batch_size(batch_size)
        .shuffle(cfg.seed)
        .build(InMemDataset::new((0..n).collect::<Vec<usize>>()));
    // burn-train always validates; without a validation set it iterates no samples.
    let valid_n = valid.map_or(0, |v| v.len());
    let valid_loader = DataLoaderBuilder::<B::InnerBackend, usize, _>::new(IndexBatcher(Arc::new(
        valid.unwrap_or(train).clone(),
    )))
    .batch_size(eval_batch)
    .build(InMemDataset::new((0..valid_n).collect::<Vec<usize>>()));

    let classification = matches!(spec.objective, Objective::Classification { .. });
    let mut training = SupervisedTraining::new(&burn_dir, train_loader, valid_loader)
        .metrics((LossMetric::new(), LearningRateMetric::new()))
        .num_epochs(cfg.epochs)
        .with_checkpointing_strategy(KeepLastNCheckpoints::new(cfg.keep_checkpoints.max(1)));
    if classification {
        training = training.metrics((AccuracyMetric::new(),));
    }
    if spec.artifacts.is_some() {
        training = training.with_file_checkpointer(CompactRecorder::new());
    } else {
        training = training.with_application_logger(None);
    }
    if let Some(epoch) = resume_from {
        training = training.checkpoint(epoch);
    }
    if let Some(patience) = cfg.patience {
        let condition = StoppingCondition::NoImprovementSince { n_epochs: patience };
        let stopping = match (cfg.monitor, classification) {
            (Monitor::Metric, true) => MetricEarlyStoppingStrategy::new(
                &AccuracyMetric::<B>::new(),
                Aggregate::Mean,
                Direction::Highest,
                Split::Valid,
                condition,
            ),
            _ => MetricEarlyStoppingStrategy::new(
                &LossMetric::<B>::new(),
                Aggregate::Mean,
                Direction::Lowest,
                Split::Valid,
                condition,
            ),
        };
        training = training.early_stopping(stopping);
    }
    if spec.progress == crate::progress::ProgressMode::Quiet {
        training = training.renderer(Silent);
    }
    if devices.len() > 1 {
        training = training.with_training_strategy(
            ExecutionStrategy::multi(devices.to_vec(), MultiDeviceOptim::OptimMainDevice).into(),
        );
    }

    let l2 = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
    let optim = AdamConfig::new()
        .with_beta_1(cfg.beta1 as f32)
        .with_beta_2(cfg.beta2 as f32)
        .with_epsilon(cfg.adam_epsilon as f32)
        .with_weight_decay(l2)
        .with_grad_clipping(
            cfg.grad_clip_norm
                .map(|c| GradientClippingConfig::Norm(c as f32)),
        )
        .init();
    let param_count = model.num_params();

    // The zoo's stop flag (SIGINT, SIGTERM, `interrupt::request`) stops burn-train through its
    // interrupter: burn-train ends the epoch's step and returns.
    let interrupter = training.interrupter();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if crate::interrupt::requested() {
                    interrupter.stop(Some("stop requested (SIGINT or SIGTERM)"));
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let start = Instant::now();
    let result = training.launch(Learner::new(model, optim, cfg.lr));
    let seconds = start.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    // The trained model comes back on the inner backend: give it its autodiff back.
    let model = M::from_inner(result.model);

    let summary = LearnerSummary::new(&burn_dir, &["Loss", "Accuracy", "Learning Rate"]).ok();
    let series = |split: &[burn::train::MetricSummary], name: &str| -> Vec<(usize, f64)> {
        split
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.entries.iter().map(|e| (e.step, e.value)).collect())
            .unwrap_or_default()
    };
    let (train_loss, train_acc, lrs, valid_loss, valid_acc) = match &summary {
        Some(s) => (
            series(&s.metrics.train, "Loss"),
            series(&s.metrics.train, "Accuracy"),
            series(&s.metrics.train, "Learning Rate"),
            series(&s.metrics.valid, "Loss"),
            series(&s.metrics.valid, "Accuracy"),
        ),
        None => Default::default(),
    };
    let at = |s: &[(usize, f64)], epoch: usize| s.iter().find(|(e, _)| *e == epoch).map(|p| p.1);
    let epochs_done = train_loss.last().map_or(0, |(e, _)| *e);
    let interrupted = crate::interrupt::requested();
    // burn-train times nothing per epoch: each epoch gets its share of the run's wall time
    // (training and validation).
    let trained_epochs = epochs_done.saturating_sub(resume_from.unwrap_or(0)).max(1);
    let per_epoch = seconds / trained_epochs as f64;
    let history: Vec<EpochRecord> = train_loss
        .iter()
        .map(|&(epoch, loss)| EpochRecord {
            epoch,
            lr: at(&lrs, epoch).unwrap_or(cfg.lr),
            train_loss: loss,
            // burn-train's accuracy is a percentage.
            train_accuracy: at(&train_acc, epoch).map(|a| a / 100.0),
            valid: None,
            train_seconds: per_epoch,
            samples_per_sec: n as f64 / per_epoch,
        })
        .collect();
    let mut extra = serde_json::Map::new();
    extra.insert("trainer".into(), "burn-train".into());
    extra.insert("devices".into(), devices.len().into());
    if valid.is_some() {
        let rows: Vec<serde_json::Value> = valid_loss
            .iter()
            .map(|&(epoch, loss)| {
                serde_json::json!({
                    "epoch": epoch,
                    "loss": loss,
                    "accuracy": at(&valid_acc, epoch).map(|a| a / 100.0),
                })
            })
            .collect();
        extra.insert("valid_history".into(), rows.into());
    }
    let status = if interrupted {
        RunStatus::Interrupted
    } else if epochs_done < cfg.epochs {
        RunStatus::EarlyStopped
    } else {
        RunStatus::Finished
    };
    let report = Report {
        info: spec.info.clone(),
        seed: cfg.seed,
        status,
        epochs: cfg.epochs,
        epochs_completed: epochs_done,
        best_epoch: None,
        param_count,
        samples: SampleCounts {
            train: n,
            valid: valid_n,
            test: test.map_or(0, |t| t.len()),
        },
        history,
        test: None,
        skipped_nonfinite: 0,
        train_samples_per_sec: (n * trained_epochs) as f64 / seconds.max(1e-9),
        wall_time_secs: seconds,
        config: spec.config.clone(),
        resumed_with_changes: spec.resumed_with_changes.clone(),
        environment: Environment::current(),
        extra,
    };
    if interrupted {
        if let Some(dir) = spec.artifacts {
            crate::artifacts::write_json(&dir.report(), &report)?;
        }
        return Err(TrainError::Stopped(format!(
            "during epoch {} of {}; burn-train's newest epoch checkpoint is in {} (resume from it)",
            epochs_done + 1,
            cfg.epochs,
            burn_dir.join("checkpoint").display()
        )));
    }
    finish::<B, M, D>(model, report, test, &spec, device)
}
