//! Backend comparison: every model on every compiled backend, and the same seed models in
//! PyTorch, on one fixed workload per model (`examples/compare.rs`).
//!
//! Each (model, backend) cell runs in its own process (the compare binary started again with
//! `--cell`), so its peak memory is its own and a backend that fails takes only its cell down.
//! A cell trains through the zoo's own loop ([`zoo_train::fit`], [`zoo_train::adversarial::fit_gan`]) into an
//! artifact directory, reads the throughput of the epochs after the warm-up from the
//! `report.json` it wrote (the loop reads the loss back every step, so the device is synced
//! before each epoch's clock stops), times inference separately, and reports the test metric.
//! PyTorch runs `reference/pytorch_seed.py` on the very same data, written to disk by the parent
//! (`workload/<model>/`), with the same batch sizes, epochs and optimiser.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};
use zoo_data::data::{Dataset, Predict};
use zoo_data::images::{ImageDataset, ImageDatasetKind, ImageSplitSpec, load_splits};
use zoo_data::sequence::RowImages;
use zoo_gan::Generator;
use zoo_gan::train::{GanJob, Variant};
use zoo_train::adversarial::{ImageGenerator, latent_noise};
use zoo_train::artifacts::{atomic_write, read_json, write_json};
use zoo_train::checkpoint::ModelId;
use zoo_train::report::Environment;
use zoo_train::train::{JobContext, RunSpec, fit, seed_backend};
use zoo_train::{
    ArtifactDir, Mode, Objective, ProgressMode, Report, RunInfo, TrainConfig, TrainError,
};

use crate::backend::{BackendInfo, Run};

/// Version of `compare.json`'s layout; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// A model of the zoo, as compare names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The seed MLP on two moons.
    Mlp,
    /// The seed CNN on MNIST.
    Cnn,
    /// The seed RNN (tanh, hidden 32) on row-MNIST.
    Rnn,
    /// The seed LSTM (hidden 32) on row-MNIST.
    Lstm,
    /// The seed GAN on MNIST.
    Gan,
}

impl ModelKind {
    /// All models, in table order.
    pub const ALL: [ModelKind; 5] = [Self::Mlp, Self::Cnn, Self::Rnn, Self::Lstm, Self::Gan];

    /// The name used in flags, files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Cnn => "cnn",
            Self::Rnn => "rnn",
            Self::Lstm => "lstm",
            Self::Gan => "gan",
        }
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s.to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown model '{s}' (expected mlp, cnn, rnn, lstm, gan or all)")
            })
    }
}

/// The fixed workload of one model: the same for every backend and for PyTorch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Which model (the tutorial's seed architecture).
    pub model: ModelKind,
    /// The data, in words.
    pub data: String,
    /// Training samples.
    pub train_samples: usize,
    /// Test samples (metric and inference).
    pub test_samples: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Epochs left out of the training throughput (kernel compilation, allocator warm-up).
    pub warmup_epochs: usize,
    /// Training batch size; 0: the whole training set in one batch (the MLP seed).
    pub batch_size: usize,
    /// Inference batch size.
    pub eval_batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam β1.
    pub beta1: f64,
    /// Adam β2.
    pub beta2: f64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Hidden units (MLP width, RNN/LSTM state).
    pub hidden: usize,
    /// GAN latent size.
    pub latent_dim: usize,
    /// GAN: generated images scored for the FID.
    pub gan_samples: usize,
    /// Inference is repeated over the test set until this many seconds have passed.
    pub min_infer_seconds: f64,
}

impl Workload {
    /// The workload of `model`; `quick` shrinks it to a smoke run of seconds per cell.
    pub fn of(model: ModelKind, quick: bool) -> Self {
        let pick = |q: usize, full: usize| if quick { q } else { full };
        let base = Self {
            model,
            data: String::new(),
            train_samples: 0,
            test_samples: 0,
            epochs: pick(2, 3),
            warmup_epochs: 1,
            batch_size: 64,
            eval_batch_size: pick(100, 250),
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            seed: 42,
            hidden: 32,
            latent_dim: 0,
            gan_samples: 0,
            min_infer_seconds: if quick { 0.2 } else { 2.0 },
        };
        let sample = "bundled MNIST sample (assets/mnist-sample)";
        match model {
            ModelKind::Mlp => Self {
                data: "make_moons(1000, noise 0.2, seed 42), standardised, 80/20 split".into(),
                train_samples: 800,
                test_samples: 200,
                epochs: pick(30, 200),
                warmup_epochs: pick(5, 20),
                batch_size: 0,
                eval_batch_size: 200,
                lr: 0.01,
                hidden: 16,
                ..base
            },
            ModelKind::Cnn => Self {
                data: format!("{sample}, Normalize(0.5, 0.5)"),
                train_samples: pick(256, 3000),
                test_samples: pick(200, 1000),
                epochs: 2,
                ..base
            },
            ModelKind::Rnn | ModelKind::Lstm => Self {
                data: format!("{sample} as 28 rows of 28 pixels, Normalize(0.5, 0.5)"),
                // Quick keeps the training set: a few seconds, and fewer steps barely move the
                // recurrent models off chance (quick runs check that they learn).
                train_samples: 3000,
                epochs: 3,
                test_samples: pick(200, 1000),
                ..base
            },
            ModelKind::Gan => Self {
                data: format!("{sample}, scaled to [-1, 1]"),
                // Whole batches: the adversarial loop drops a short last batch.
                train_samples: pick(256, 2944),
                test_samples: 1000,
                lr: 2e-4,
                beta1: 0.5,
                latent_dim: 100,
                gan_samples: pick(200, 1000),
                ..base
            },
        }
    }

    /// The per-sample input shape and the classes, as PyTorch's script reads them.
    fn input_shape(&self) -> (Vec<usize>, usize) {
        match self.model {
            ModelKind::Mlp => (vec![2], 2),
            ModelKind::Cnn => (vec![1, 28, 28], 10),
            ModelKind::Rnn | ModelKind::Lstm => (vec![28, 28], 10),
            ModelKind::Gan => (vec![784], 0),
        }
    }

    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size.max(1),
            full_batch: self.batch_size == 0,
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            seed: self.seed,
            eval_batch_size: self.eval_batch_size,
            keep_checkpoints: 1,
            ..Default::default()
        }
    }
}

/// A metric after the workload's training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// `test_accuracy` (classifiers) or `fid` (GAN: classifier-feature FID, lower is better).
    pub name: String,
    /// Its value; `None` when it could not be measured.
    pub value: Option<f64>,
}

/// How a cell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    /// Measured.
    Ok,
    /// Ran and failed (the note says why).
    Failed,
    /// Not run (the note says why).
    Skipped,
}

/// One model on one backend (or in PyTorch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The model.
    pub model: ModelKind,
    /// `burn` or `pytorch`.
    pub framework: String,
    /// `ndarray`, `wgpu`, `tch` or `pytorch`.
    pub backend: String,
    /// The device the backend reported (wgpu: the adapter's name).
    pub device: String,
    /// Ok, failed or skipped.
    pub status: CellStatus,
    /// Why a cell failed or was skipped; other remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Training samples (GAN: real images) per second over the epochs after the warm-up.
    pub train_samples_per_sec: Option<f64>,
    /// Inference samples (GAN: generated images) per second.
    pub infer_samples_per_sec: Option<f64>,
    /// The metric after training.
    pub metric: Option<MetricValue>,
    /// Peak resident memory of the cell's process, MiB (host memory; a discrete GPU's memory is
    /// not in it).
    pub peak_rss_mb: Option<f64>,
    /// Seconds per training epoch.
    pub epoch_seconds: Vec<f64>,
    /// Mean training loss of the last epoch (GAN: the discriminator's).
    pub final_train_loss: Option<f64>,
    /// Wall time of the whole cell, seconds.
    pub wall_seconds: f64,
    /// With `--repeat N`: training samples/s of every run, in run order; the cell's other
    /// numbers are those of the run with the median training throughput ([`median_run`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub train_runs: Vec<f64>,
}

/// One cell out of repeated runs of it: the run with the median training throughput (the
/// lower middle one for an even count), so every number in the cell comes from one real run,
/// with all runs' throughputs in [`Cell::train_runs`]. A run that did not finish wins over the
/// others: a backend that fails one time in three is reported as failing. `None` for no runs.
pub fn median_run(runs: Vec<Cell>) -> Option<Cell> {
    if let Some(failed) = runs.iter().position(|c| c.status != CellStatus::Ok) {
        return runs.into_iter().nth(failed);
    }
    let throughputs: Vec<f64> = runs
        .iter()
        .map(|c| c.train_samples_per_sec.unwrap_or(f64::NAN))
        .collect();
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|&a, &b| throughputs[a].total_cmp(&throughputs[b]));
    let middle = *order.get(order.len().checked_sub(1)? / 2)?;
    let mut cell = runs.into_iter().nth(middle)?;
    if throughputs.len() > 1 {
        cell.train_runs = throughputs;
    }
    Some(cell)
}

impl Cell {
    /// A cell that did not produce numbers.
    pub fn empty(model: ModelKind, backend: &str, status: CellStatus, note: String) -> Self {
        Self {
            model,
            framework: if backend == "pytorch" {
                "pytorch"
            } else {
                "burn"
            }
            .into(),
            backend: backend.into(),
            device: String::new(),
            status,
            note: Some(note),
            train_samples_per_sec: None,
            infer_samples_per_sec: None,
            metric: None,
            peak_rss_mb: None,
            epoch_seconds: Vec::new(),
            final_train_loss: None,
            wall_seconds: 0.0,
            train_runs: Vec::new(),
        }
    }
}

/// Throughput of epochs after the first `warmup` (all of them when there are no more).
pub fn steady_throughput(samples_per_epoch: &[(f64, f64)], warmup: usize) -> Option<f64> {
    let rest = if samples_per_epoch.len() > warmup {
        &samples_per_epoch[warmup..]
    } else {
        samples_per_epoch
    };
    let (n, secs) = rest
        .iter()
        .fold((0.0, 0.0), |(n, t), (ns, ts)| (n + ns, t + ts));
    (secs > 0.0).then_some(n / secs)
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The bundled MNIST sample (the CNN, RNN, LSTM and GAN workloads' data).
fn mnist_sample() -> PathBuf {
    crate::assets_dir().join("mnist-sample")
}

/// The MNIST sample cut to the workload's sizes, normalised to `(x/255 - 0.5) / 0.5`.
pub fn image_data(w: &Workload) -> Result<(ImageDataset, ImageDataset), TrainError> {
    let sample = mnist_sample();
    let spec = ImageSplitSpec {
        image_size: 28,
        train_limit: Some(w.train_samples),
        valid_fraction: 0.0,
        seed: w.seed,
        mean: 0.5,
        std: 0.5,
    };
    let splits = load_splits(ImageDatasetKind::Mnist, Some(&sample), &sample, &spec)?;
    let test_idx: Vec<usize> = (0..w.test_samples.min(splits.test.len())).collect();
    Ok((splits.train, splits.test.subset(&test_idx)))
}

/// The two-moons split of the MLP seed.
pub fn moons_data() -> Result<zoo_mlp::Splits, TrainError> {
    zoo_mlp::moons(
        1000,
        0.2,
        42,
        zoo_mlp::SplitSpec {
            test_fraction: 0.2,
            valid_fraction: 0.0,
            seed: 42,
        },
    )
    .map_err(TrainError::Invalid)
}

/// Writes the workload's data and `spec.json` into `dir` for the PyTorch script: raw
/// little-endian `train_x.f32`, `test_x.f32` and `u8` labels `train_y.u8`, `test_y.u8`.
pub fn write_workload(w: &Workload, dir: &Path) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|source| TrainError::Io {
        path: dir.into(),
        source,
    })?;
    let f32_bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let image_rows = |d: &ImageDataset| {
        let x: Vec<f32> = (0..d.len())
            .flat_map(|i| d.pixels(i).iter().map(|&p| (p as f32 / 255.0 - 0.5) / 0.5))
            .collect();
        let y: Vec<u8> = (0..d.len()).map(|i| d.label(i) as u8).collect();
        (x, y)
    };
    let ((train_x, train_y), (test_x, test_y)) = match w.model {
        ModelKind::Mlp => {
            let s = moons_data()?;
            let labels = |d: &zoo_train::FeatureDataset| match &d.targets {
                zoo_train::Targets::Classes(c) => c.iter().map(|&c| c as u8).collect(),
                zoo_train::Targets::Values { .. } => Vec::new(),
            };
            (
                (s.train.features.clone(), labels(&s.train)),
                (s.test.features.clone(), labels(&s.test)),
            )
        }
        _ => {
            let (train, test) = image_data(w)?;
            (image_rows(&train), image_rows(&test))
        }
    };
    let write = |name: &str, bytes: &[u8]| atomic_write(&dir.join(name), bytes);
    write("train_x.f32", &f32_bytes(&train_x))?;
    write("test_x.f32", &f32_bytes(&test_x))?;
    if w.model != ModelKind::Gan {
        write("train_y.u8", &train_y)?;
        write("test_y.u8", &test_y)?;
    }
    let (input_shape, classes) = w.input_shape();
    let mut spec = serde_json::to_value(w).map_err(|e| TrainError::Invalid(e.to_string()))?;
    if let Some(map) = spec.as_object_mut() {
        map.insert("input_shape".into(), input_shape.into());
        map.insert("classes".into(), classes.into());
    }
    write_json(&dir.join("spec.json"), &spec)
}

/// One cell, run in this process on backend `B` (the child side of `compare --cell`).
pub struct CellJob {
    /// The workload.
    pub workload: Workload,
    /// The cell's artifact directory (report.json, checkpoints, the model).
    pub dir: PathBuf,
}

impl Run for CellJob {
    type Output = Result<Cell, TrainError>;

    fn libtorch_one_thread(&self) -> bool {
        matches!(self.workload.model, ModelKind::Rnn | ModelKind::Lstm)
    }

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let start = Instant::now();
        let w = &self.workload;
        let dir = ArtifactDir::prepare(&self.dir, Mode::Overwrite)?;
        let ctx = JobContext {
            artifacts: Some(dir),
            resume: false,
            progress: ProgressMode::Quiet,
            backend: info.kind.to_string(),
            device: info.device.clone(),
            float: info.float.into(),
        };
        seed_backend::<B>(&device, w.seed);
        let measured = match w.model {
            ModelKind::Mlp => {
                let s = moons_data()?;
                let cfg = zoo_mlp::MlpConfig::new().with_hidden(vec![w.hidden]);
                classifier_cell(
                    cfg.init::<B>(&device),
                    &cfg,
                    &s.train,
                    &s.test,
                    w,
                    &ctx,
                    &device,
                )?
            }
            ModelKind::Cnn => {
                let (train, test) = image_data(w)?;
                let cfg = zoo_cnn::CnnConfig::new();
                classifier_cell(
                    cfg.init::<B>(&device),
                    &cfg,
                    &train,
                    &test,
                    w,
                    &ctx,
                    &device,
                )?
            }
            ModelKind::Rnn => {
                let (train, test) = image_data(w)?;
                let cfg = zoo_rnn::RnnNetConfig::new(28, 10).with_hidden(w.hidden);
                let (train, test) = (RowImages(train), RowImages(test));
                classifier_cell(
                    cfg.init::<B>(&device),
                    &cfg,
                    &train,
                    &test,
                    w,
                    &ctx,
                    &device,
                )?
            }
            ModelKind::Lstm => {
                let (train, test) = image_data(w)?;
                let cfg = zoo_lstm::model::LstmNetConfig::new(28, 10).with_hidden(w.hidden);
                let (train, test) = (RowImages(train), RowImages(test));
                classifier_cell(
                    cfg.init::<B>(&device),
                    &cfg,
                    &train,
                    &test,
                    w,
                    &ctx,
                    &device,
                )?
            }
            ModelKind::Gan => gan_cell::<B>(w, &ctx, &device)?,
        };
        Ok(Cell {
            model: w.model,
            framework: "burn".into(),
            backend: info.kind.to_string(),
            device: info.device,
            status: CellStatus::Ok,
            note: None,
            train_samples_per_sec: measured.train,
            infer_samples_per_sec: Some(measured.infer),
            metric: Some(measured.metric),
            peak_rss_mb: peak_rss_mb(),
            epoch_seconds: measured.epoch_seconds,
            final_train_loss: measured.final_loss,
            wall_seconds: start.elapsed().as_secs_f64(),
            train_runs: Vec::new(),
        })
    }
}

/// What a cell measured.
struct Measured {
    train: Option<f64>,
    infer: f64,
    metric: MetricValue,
    epoch_seconds: Vec<f64>,
    final_loss: Option<f64>,
}

/// Trains a classifier with the zoo's loop and times its inference on the test set.
fn classifier_cell<B, M, D, C>(
    model: M,
    config: &C,
    train: &D,
    test: &D,
    w: &Workload,
    ctx: &JobContext,
    device: &B::Device,
) -> Result<Measured, TrainError>
where
    B: AutodiffBackend,
    D: Dataset,
    D::Input<B::InnerBackend>: Clone,
    M: AutodiffModule<B> + Predict<B, D::Input<B>>,
    M::InnerModule: Predict<B::InnerBackend, D::Input<B::InnerBackend>>,
    C: Serialize,
{
    let cfg = w.train_config();
    let spec = RunSpec {
        cfg: &cfg,
        objective: Objective::Classification {
            num_classes: w.input_shape().1,
        },
        model_id: ModelId::new(w.model.name(), config, &ctx.float),
        info: RunInfo {
            model: w.model.name().into(),
            backend: ctx.backend.clone(),
            device: ctx.device.clone(),
            dataset: w.data.clone(),
        },
        config: serde_json::json!({ "workload": w, "model": config }),
        artifacts: ctx.artifacts.as_ref(),
        resume: false,
        progress: ctx.progress,
        target_scaler: None,
        class_names: Vec::new(),
        resumed_with_changes: Vec::new(),
    };
    let trained = fit(model, train, None, Some(test), spec, device)?;
    // The numbers come from the report.json the run wrote, as for any zoo run.
    let report: Report = match &ctx.artifacts {
        Some(dir) => read_json(&dir.report(), "report")?,
        None => trained.report,
    };
    let per_epoch: Vec<(f64, f64)> = report
        .history
        .iter()
        .map(|e| (e.samples_per_sec * e.train_seconds, e.train_seconds))
        .collect();
    let accuracy = report.test.as_ref().map(|t| t.metrics.headline().1);
    let inner = trained.model.valid();
    let idx: Vec<usize> = (0..test.len()).collect();
    let batches: Vec<_> = idx
        .chunks(w.eval_batch_size.max(1))
        .map(|c| (c.len(), test.inputs::<B::InnerBackend>(c, device)))
        .collect();
    let infer = time_inference::<B::InnerBackend>(w.min_infer_seconds, device, || {
        batches
            .iter()
            .map(|(n, x)| (*n, inner.predict(x.clone()).sum()))
            .collect()
    })?;
    Ok(Measured {
        train: steady_throughput(&per_epoch, w.warmup_epochs),
        infer,
        metric: MetricValue {
            name: "test_accuracy".into(),
            value: accuracy,
        },
        epoch_seconds: report.history.iter().map(|e| e.train_seconds).collect(),
        final_loss: report.history.last().map(|e| e.train_loss),
    })
}

/// Samples per second of `pass` (one pass over the data: per batch its size and a scalar that
/// depends on its output, read back so lazy backends really compute it): one untimed warm-up
/// pass, then timed passes until `min_seconds` have passed.
fn time_inference<B: Backend>(
    min_seconds: f64,
    device: &B::Device,
    pass: impl Fn() -> Vec<(usize, Tensor<B, 1>)>,
) -> Result<f64, TrainError> {
    let run = || -> Result<usize, TrainError> {
        let outs = pass();
        let n = outs.iter().map(|(n, _)| n).sum();
        let total = outs
            .into_iter()
            .map(|(_, s)| s)
            .reduce(|a, b| a + b)
            .map(|t| t.into_scalar().elem::<f64>());
        if total.is_some_and(|t| !t.is_finite()) {
            return Err(TrainError::Invalid(
                "inference produced a non-finite output".into(),
            ));
        }
        Ok(n)
    };
    run()?;
    B::sync(device).map_err(|e| TrainError::Backend(format!("{e:?}")))?;
    let t0 = Instant::now();
    let mut done = 0usize;
    loop {
        done += run()?;
        if t0.elapsed().as_secs_f64() >= min_seconds {
            break;
        }
    }
    B::sync(device).map_err(|e| TrainError::Backend(format!("{e:?}")))?;
    Ok(done as f64 / t0.elapsed().as_secs_f64().max(1e-9))
}

/// The seed GAN: trained with the zoo's adversarial loop, scored with the bundled classifier.
fn gan_cell<B: AutodiffBackend>(
    w: &Workload,
    ctx: &JobContext,
    device: &B::Device,
) -> Result<Measured, TrainError> {
    let sample = mnist_sample();
    let mut job = GanJob::seed();
    job.data = Some(sample.clone());
    job.train_limit = Some(w.train_samples);
    job.train.epochs = w.epochs;
    job.train.batch_size = w.batch_size;
    job.train.seed = w.seed;
    job.quality_samples = w.gan_samples;
    let assets = zoo_gan::train::Assets {
        mnist_sample: &sample,
        classifier: &crate::assets_dir().join("mnist-classifier"),
    };
    debug_assert_eq!(job.variant, Variant::Seed);
    let out = zoo_gan::train::run::<B>(&job, ctx, &assets, device)?;
    let report = out.report;
    let per_epoch: Vec<(f64, f64)> = report
        .history
        .iter()
        .map(|e| (e.samples_per_sec * e.train_seconds, e.train_seconds))
        .collect();
    let generator: Generator<B::InnerBackend> = out.generator.valid();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(w.seed);
    let batches: Vec<Tensor<B::InnerBackend, 2>> = (0..w.test_samples.div_ceil(w.eval_batch_size))
        .map(|_| latent_noise::<B::InnerBackend>(&mut rng, w.eval_batch_size, w.latent_dim, device))
        .collect();
    let infer = time_inference::<B::InnerBackend>(w.min_infer_seconds, device, || {
        batches
            .iter()
            .map(|z| (w.eval_batch_size, generator.generate(z.clone(), None).sum()))
            .collect()
    })?;
    Ok(Measured {
        train: steady_throughput(&per_epoch, w.warmup_epochs),
        infer,
        metric: MetricValue {
            name: "fid".into(),
            value: out.quality.map(|q| q.fid),
        },
        epoch_seconds: report.history.iter().map(|e| e.train_seconds).collect(),
        final_loss: report.history.last().map(|e| e.d_loss),
    })
}

/// Scores another framework's generated images (`n × 784` bytes) with the bundled classifier:
/// the classifier-feature FID against the workload's test images, on backend `B`.
pub struct ScoreImages {
    /// The workload (its data is the reference).
    pub workload: Workload,
    /// Raw `u8` pixels, 784 per image.
    pub images: PathBuf,
}

impl Run for ScoreImages {
    type Output = Result<f64, TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _info: BackendInfo) -> Self::Output {
        let bytes = std::fs::read(&self.images).map_err(|source| TrainError::Io {
            path: self.images.clone(),
            source,
        })?;
        if bytes.is_empty() || bytes.len() % 784 != 0 {
            return Err(TrainError::Invalid(format!(
                "{}: {} bytes is not a whole number of 28x28 images",
                self.images.display(),
                bytes.len()
            )));
        }
        let n = bytes.len() / 784;
        let set = zoo_data::idx::ImageSet {
            images: bytes,
            labels: vec![0; n],
            rows: 28,
            cols: 28,
        };
        let (train, test) = image_data(&self.workload)?;
        let classifier = zoo_gan::quality::Classifier::<B::InnerBackend>::load(
            &crate::assets_dir().join("mnist-classifier"),
            &device,
        )?;
        let q = zoo_gan::quality::measure_images(&set, None, &classifier, &train, &test, &device)?;
        Ok(q.fid)
    }
}

/// The PyTorch column's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyTorchStatus {
    /// Whether the reference script ran.
    pub available: bool,
    /// The Python interpreter tried.
    pub python: String,
    /// torch's version, when it imported.
    pub torch_version: Option<String>,
    /// Why the column is missing, or how it ran.
    pub note: String,
}

/// The machine the comparison ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// OS and architecture.
    pub os: String,
    /// Total memory, GiB.
    pub memory_gib: Option<f64>,
    /// wgpu adapters the wgpu cells ran on.
    pub gpu_adapters: Vec<String>,
}

impl Machine {
    /// This machine (GPU adapters are filled in from the wgpu cells).
    pub fn current() -> Self {
        let env = Environment::current();
        let memory_gib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            let kb: f64 = s
                .lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((kb / 1024.0 / 1024.0 * 10.0).round() / 10.0)
        });
        Self {
            cpu: env.cpu,
            cpus: env.cpus,
            os: env.os,
            memory_gib,
            gpu_adapters: Vec::new(),
        }
    }
}

/// A backend's speed relative to PyTorch on one model (> 1: faster than PyTorch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// The model.
    pub model: ModelKind,
    /// The Burn backend.
    pub backend: String,
    /// Training throughput ÷ PyTorch's.
    pub train_vs_pytorch: Option<f64>,
    /// Inference throughput ÷ PyTorch's.
    pub infer_vs_pytorch: Option<f64>,
}

fn one_run() -> u32 {
    1
}

/// `compare.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// UTC date of the run, `YYYY-MM-DD`.
    pub date: String,
    /// Unix time the run finished.
    pub unix_time: u64,
    /// The command line.
    pub command: String,
    /// A `--quick` smoke run (small workloads; its numbers are not the README's).
    pub quick: bool,
    /// Runs per cell (`--repeat`), interleaved; each cell reports its median run.
    #[serde(default = "one_run")]
    pub repeat: u32,
    /// The machine.
    pub machine: Machine,
    /// burn-zoo's version.
    pub zoo_version: String,
    /// Burn's version.
    pub burn_version: String,
    /// The PyTorch column.
    pub pytorch: PyTorchStatus,
    /// The workloads, one per model compared.
    pub workloads: Vec<Workload>,
    /// Every cell, model by model.
    pub results: Vec<Cell>,
    /// Burn backends against PyTorch.
    pub ratios: Vec<Ratio>,
}

impl CompareReport {
    /// Fills [`CompareReport::ratios`] and the GPU adapters from the cells.
    pub fn finish(&mut self) {
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        self.ratios.clear();
        for c in self.results.iter().filter(|c| c.framework == "burn") {
            let torch = self
                .results
                .iter()
                .find(|p| p.model == c.model && p.framework == "pytorch");
            self.ratios.push(Ratio {
                model: c.model,
                backend: c.backend.clone(),
                train_vs_pytorch: ratio(
                    c.train_samples_per_sec,
                    torch.and_then(|p| p.train_samples_per_sec),
                ),
                infer_vs_pytorch: ratio(
                    c.infer_samples_per_sec,
                    torch.and_then(|p| p.infer_samples_per_sec),
                ),
            });
        }
        let mut adapters: Vec<String> = self
            .results
            .iter()
            .filter(|c| c.backend == "wgpu" && !c.device.is_empty())
            .map(|c| c.device.clone())
            .collect();
        adapters.dedup();
        self.machine.gpu_adapters = adapters;
    }

    /// The markdown table of all cells.
    pub fn markdown(&self) -> String {
        let num = |v: Option<f64>| match v {
            Some(v) if v >= 100.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.1}"),
            None => "—".into(),
        };
        let times = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2}×"));
        let mut out = String::from(
            "| model | backend | device | train samples/s | × PyTorch | inference samples/s | × PyTorch | metric | peak RSS MiB |\n\
             |---|---|---|---:|---:|---:|---:|---|---:|\n",
        );
        for c in &self.results {
            let r = self
                .ratios
                .iter()
                .find(|r| r.model == c.model && r.backend == c.backend);
            let metric = match (&c.metric, c.status) {
                (Some(m), _) => format!(
                    "{} {}",
                    m.name,
                    m.value.map_or("—".into(), |v| if m.name == "fid" {
                        format!("{v:.1}")
                    } else {
                        format!("{v:.4}")
                    })
                ),
                (None, CellStatus::Ok) => "—".into(),
                (None, s) => format!(
                    "{}: {}",
                    if s == CellStatus::Failed {
                        "failed"
                    } else {
                        "skipped"
                    },
                    c.note.clone().unwrap_or_default()
                ),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                c.model.name(),
                c.backend,
                if c.device.is_empty() {
                    "—"
                } else {
                    &c.device
                },
                num(c.train_samples_per_sec),
                times(r.and_then(|r| r.train_vs_pytorch)),
                num(c.infer_samples_per_sec),
                times(r.and_then(|r| r.infer_vs_pytorch)),
                metric,
                c.peak_rss_mb.map_or("—".into(), |m| format!("{m:.0}")),
            ));
        }
        out
    }

    /// The chart: training (top) and inference (bottom) speed of each Burn backend as a ratio
    /// to PyTorch's, per model, with a line at 1.0× (the absolute numbers are in the table).
    pub fn chart(&self, path: &Path) -> Result<(), TrainError> {
        let models: Vec<ModelKind> = self.workloads.iter().map(|w| w.model).collect();
        let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
        let mut backends: Vec<&str> = Vec::new();
        for r in &self.ratios {
            if !backends.contains(&r.backend.as_str()) {
                backends.push(&r.backend);
            }
        }
        let series = |f: fn(&Ratio) -> Option<f64>| -> Vec<(&str, Vec<Option<f64>>)> {
            backends
                .iter()
                .map(|b| {
                    let values = models
                        .iter()
                        .map(|m| {
                            self.ratios
                                .iter()
                                .find(|r| r.model == *m && r.backend == *b)
                                .and_then(f)
                        })
                        .collect();
                    (*b, values)
                })
                .collect()
        };
        let none = self
            .ratios
            .iter()
            .all(|r| r.train_vs_pytorch.is_none() && r.infer_vs_pytorch.is_none());
        zoo_train::plot::ratio_bars(
            path,
            &format!(
                "burn-zoo speed ÷ PyTorch{} — {} ({} CPUs), {}{}{}",
                self.pytorch
                    .torch_version
                    .as_ref()
                    .map_or(String::new(), |v| format!(" {v}")),
                self.machine.cpu,
                self.machine.cpus,
                self.date,
                if self.quick { ", quick run" } else { "" },
                if none {
                    " — no PyTorch column, no ratios"
                } else {
                    ""
                }
            ),
            &names,
            vec![
                ("training × PyTorch", series(|r| r.train_vs_pytorch)),
                ("inference × PyTorch", series(|r| r.infer_vs_pytorch)),
            ],
        )
    }
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn utc_date(unix: u64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = (unix / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What PyTorch's reference script writes (`reference/pytorch_seed.py --out`).
#[derive(Clone, Debug, Deserialize)]
pub struct PyTorchResult {
    /// torch's version.
    pub torch_version: String,
    /// Threads torch used.
    pub threads: usize,
    /// Seconds per epoch.
    pub epoch_seconds: Vec<f64>,
    /// Training samples/s after the warm-up.
    pub train_samples_per_sec: f64,
    /// Inference samples/s.
    pub infer_samples_per_sec: f64,
    /// Last epoch's mean loss.
    pub final_train_loss: Option<f64>,
    /// Test metric (GAN: null value, scored by compare from `generated`).
    pub metric: MetricValue,
    /// GAN: path of the generated images.
    #[serde(default)]
    pub generated: Option<PathBuf>,
    /// Peak RSS, MiB.
    pub peak_rss_mb: Option<f64>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
}

impl PyTorchResult {
    /// As a cell of the table.
    pub fn into_cell(self, model: ModelKind) -> Cell {
        Cell {
            model,
            framework: "pytorch".into(),
            backend: "pytorch".into(),
            device: format!("cpu, {} threads", self.threads),
            status: CellStatus::Ok,
            note: Some(format!("torch {}", self.torch_version)),
            train_samples_per_sec: Some(self.train_samples_per_sec),
            infer_samples_per_sec: Some(self.infer_samples_per_sec),
            metric: Some(self.metric),
            peak_rss_mb: self.peak_rss_mb,
            epoch_seconds: self.epoch_seconds,
            final_train_loss: self.final_train_loss,
            wall_seconds: self.wall_seconds,
            train_runs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_910_400), "2026-11-29");
    }

    #[test]
    fn repeated_cells_report_their_median_run() {
        let run = |train: f64, infer: f64| Cell {
            status: CellStatus::Ok,
            note: None,
            train_samples_per_sec: Some(train),
            infer_samples_per_sec: Some(infer),
            ..Cell::empty(ModelKind::Cnn, "ndarray", CellStatus::Ok, String::new())
        };
        // Odd count: the middle run, all of its numbers, and every run's throughput in order.
        let m = median_run(vec![run(300.0, 1.0), run(100.0, 2.0), run(200.0, 3.0)]).unwrap();
        assert_eq!(m.train_samples_per_sec, Some(200.0));
        assert_eq!(m.infer_samples_per_sec, Some(3.0));
        assert_eq!(m.train_runs, [300.0, 100.0, 200.0]);
        // Even count: the lower middle one.
        let m = median_run(vec![
            run(4.0, 0.0),
            run(1.0, 0.0),
            run(3.0, 0.0),
            run(2.0, 0.0),
        ]);
        assert_eq!(m.unwrap().train_samples_per_sec, Some(2.0));
        // One run: as it was, no run list.
        let m = median_run(vec![run(5.0, 6.0)]).unwrap();
        assert_eq!(
            (m.train_samples_per_sec, m.train_runs.len()),
            (Some(5.0), 0)
        );
        // A failed run is the cell.
        let failed = Cell::empty(ModelKind::Cnn, "ndarray", CellStatus::Failed, "boom".into());
        let m = median_run(vec![run(1.0, 0.0), failed, run(2.0, 0.0)]).unwrap();
        assert_eq!(
            (m.status, m.note.as_deref()),
            (CellStatus::Failed, Some("boom"))
        );
        assert!(median_run(Vec::new()).is_none());
    }

    /// libtorch runs the recurrent cells on one thread, the others on its default pool.
    #[test]
    fn only_recurrent_cells_ask_for_one_libtorch_thread() {
        for (model, one) in [
            (ModelKind::Mlp, false),
            (ModelKind::Cnn, false),
            (ModelKind::Rnn, true),
            (ModelKind::Lstm, true),
            (ModelKind::Gan, false),
        ] {
            let job = CellJob {
                workload: Workload::of(model, true),
                dir: PathBuf::new(),
            };
            assert_eq!(job.libtorch_one_thread(), one, "{model:?}");
        }
    }

    #[test]
    fn steady_throughput_skips_the_warm_up() {
        // 100 samples in 10 s (compiling), then 100 in 1 s twice.
        let e = [(100.0, 10.0), (100.0, 1.0), (100.0, 1.0)];
        assert_eq!(steady_throughput(&e, 1), Some(100.0));
        assert_eq!(steady_throughput(&e, 0), Some(300.0 / 12.0));
        // Not enough epochs: all of them.
        assert_eq!(steady_throughput(&e[..1], 1), Some(10.0));
        assert_eq!(steady_throughput(&[], 1), None);
    }

    #[test]
    fn ratios_and_table() {
        let mut cell = Cell::empty(ModelKind::Mlp, "ndarray", CellStatus::Ok, String::new());
        cell.note = None;
        cell.train_samples_per_sec = Some(300.0);
        cell.infer_samples_per_sec = Some(50.0);
        let mut torch = Cell::empty(ModelKind::Mlp, "pytorch", CellStatus::Ok, String::new());
        torch.train_samples_per_sec = Some(200.0);
        torch.infer_samples_per_sec = Some(100.0);
        let failed = Cell::empty(
            ModelKind::Mlp,
            "wgpu",
            CellStatus::Failed,
            "no adapter".into(),
        );
        let mut r = CompareReport {
            schema_version: SCHEMA_VERSION,
            date: utc_date(0),
            unix_time: 0,
            command: "compare".into(),
            quick: true,
            repeat: 1,
            machine: Machine::current(),
            zoo_version: "0".into(),
            burn_version: "0.21.0".into(),
            pytorch: PyTorchStatus {
                available: true,
                python: "python".into(),
                torch_version: None,
                note: String::new(),
            },
            workloads: vec![Workload::of(ModelKind::Mlp, true)],
            results: vec![cell, failed, torch],
            ratios: Vec::new(),
        };
        r.finish();
        assert_eq!(r.ratios.len(), 2);
        assert_eq!(r.ratios[0].train_vs_pytorch, Some(1.5));
        assert_eq!(r.ratios[0].infer_vs_pytorch, Some(0.5));
        assert_eq!(r.ratios[1].train_vs_pytorch, None);
        let md = r.markdown();
        assert!(
            md.contains("| mlp | ndarray | — | 300 | 1.50× | 50.0 | 0.50× |"),
            "{md}"
        );
        assert!(md.contains("failed: no adapter"), "{md}");
        let back: CompareReport =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
