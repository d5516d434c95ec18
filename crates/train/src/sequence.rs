//! The sequence tasks every recurrent model of the zoo trains on (row-MNIST, the adding problem,
//! sentence classification, forecasting): a whole run — data, training, plots, report — for any
//! network that reads `[batch, time, features]` tensors and token batches. `zoo_rnn::train` and
//! `zoo_lstm::train` are this with their network; [`classify_sentence`] is the inference side.
//! Bundled data comes from one `assets` directory: `mnist-sample/` (row-MNIST), `text/` (TREC)
//! and `sunspots.csv` (forecasting).

use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::artifacts::read_json;
use crate::artifacts::write_json;
use crate::checkpoint::ModelId;
use crate::checkpoint::load_model;
use crate::train::{JobContext, to_vec_f32};
use crate::{
    DataError, Evaluation, RunInfo, RunSpec, TrainConfig, TrainError, Trained, evaluate, fit,
};
use zoo_data::data::{Dataset, Objective, Predict};
use zoo_data::forecast::{forecast_splits, read_series_csv};
use zoo_data::images::{ImageDatasetKind, ImageSplitSpec, load_splits};
use zoo_data::items::SequenceSet;
use zoo_data::preprocess::StandardScaler;
use zoo_data::sequence::{ADDING_BASELINE_MSE, RowImages, SequenceDataset, adding_problem};
use zoo_data::text::{TextDataset, TextEncoding, TextSpec, UNK_ID};
use zoo_kernels::sequence::TokenBatch;

/// The seed's training settings for the recurrent models: Adam lr 1e-3, batch 64, 5 epochs.
pub fn seed_train() -> TrainConfig {
    TrainConfig {
        epochs: 5,
        batch_size: 64,
        lr: 1e-3,
        seed: 42,
        ..Default::default()
    }
}

/// A recurrent network's configuration, as the sequence tasks use it (implemented by
/// `zoo_rnn::RnnNetConfig` and `zoo_lstm::LstmNetConfig`).
pub trait SequenceModel: Serialize + DeserializeOwned + Clone {
    /// Model kind in reports and checkpoints (`rnn`, `lstm`).
    const KIND: &'static str;
    /// Record layout version of the network (`zoo_train::checkpoint::ModelId::layout`).
    const LAYOUT: u32 = 1;
    /// The network on backend `B`.
    type Net<B: Backend>: Module<B> + Predict<B, TokenBatch<B>>;
    /// Checks the configuration (one line naming the setting at fault).
    fn validate(&self) -> Result<(), String>;
    /// The same configuration reading token ids from a vocabulary of this size.
    fn with_token_input(self, vocab: Option<usize>) -> Self;
    /// Builds the network.
    fn build<B: Backend>(&self, device: &B::Device) -> Self::Net<B>;
}

/// A sentence's classes under a saved text model, most probable first.
#[derive(Clone, Debug, PartialEq)]
pub struct SentenceClasses {
    /// Class names with their probabilities, most probable first.
    pub ranked: Vec<(String, f32)>,
    /// Words of the sentence the vocabulary does not know.
    pub unknown_words: usize,
}

/// Class probabilities of `sentence` under the text model of kind `C` saved in `dir` (its
/// `config.json`, `vocab.json` and `model.mpk`).
pub fn classify_sentence<B: Backend, C: SequenceModel>(
    dir: &Path,
    sentence: &str,
    device: &B::Device,
) -> Result<SentenceClasses, TrainError> {
    let (job, model) = load_sequence_run::<B, C>(dir, device)?;
    if !matches!(job.task, SeqTask::Text(_)) {
        return Err(TrainError::Invalid(format!(
            "{}: the run was not trained on sentence classification",
            dir.join("config.json").display()
        )));
    }
    let encoding: TextEncoding = read_json(&dir.join("vocab.json"), "a text vocabulary")?;
    let ids = encoding
        .encode_sentence(sentence)
        .ok_or_else(|| TrainError::Invalid("sentence: it has no words".into()))?;
    let unknown_words = ids.iter().filter(|&&i| i == UNK_ID).count();
    let batch = TextDataset::batch::<B>(&[ids.as_slice()], device);
    let probs = to_vec_f32(softmax(model.predict(batch), 1))?;
    let mut ranked: Vec<(String, f32)> = probs
        .into_iter()
        .enumerate()
        .map(|(i, p)| (encoding.name(i).to_string(), p))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(SentenceClasses {
        ranked,
        unknown_words,
    })
}

/// Which task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "task")]
pub enum SeqTask {
    /// MNIST digits read row by row: 28 steps of 28 pixels, 10 classes.
    RowMnist {
        /// Directory of the four IDX files; `None`: burn-dataset's cache, else the bundled sample.
        data: Option<PathBuf>,
        /// Fraction of the training images held out for validation (seeded).
        valid_fraction: f64,
    },
    /// The adding problem ([`adding_problem`]): regression of the sum of two marked values.
    Adding {
        /// Sequence length T.
        seq_len: usize,
        /// Training sequences (validation and test sets are a tenth of this each, other seeds).
        n_train: usize,
    },
    /// Sentence classification ([`TextSpec`]): token ids through an embedding.
    Text(TextSpec),
    /// One-step-ahead forecasting of a univariate series ([`forecast_splits`]): MSE, MAE and R²
    /// in the series' units.
    Forecast {
        /// CSV file of the series; `None`: the bundled yearly sunspot numbers.
        series: Option<PathBuf>,
        /// Column to read (default: the only or the last one).
        column: Option<String>,
        /// Past values the model reads per forecast.
        window: usize,
        /// Fraction of the series (before the test block) for validation.
        valid_fraction: f64,
        /// Fraction of the series at its end for testing.
        test_fraction: f64,
    },
}

/// What a task feeds the network and wants out of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskShape {
    /// Features per step (`None` for token input: the embedding width is the model's choice).
    pub input: Option<usize>,
    /// Outputs (classes or regression values).
    pub outputs: usize,
    /// Vocabulary size for token input.
    pub vocab: Option<usize>,
}

impl SeqTask {
    /// What the network must read and produce; the text task reads its training file (under
    /// `assets` when bundled) for the vocabulary and classes.
    pub fn shape(&self, assets: &Path, seed: u64) -> Result<TaskShape, DataError> {
        let dense = |input, outputs| TaskShape {
            input: Some(input),
            outputs,
            vocab: None,
        };
        Ok(match self {
            SeqTask::RowMnist { .. } => dense(28, 10),
            SeqTask::Adding { .. } => dense(2, 1),
            SeqTask::Forecast { .. } => dense(1, 1),
            SeqTask::Text(spec) => {
                let data = spec.load(&assets.join("text"), seed)?;
                TaskShape {
                    input: None,
                    outputs: data.encoding.labels.len(),
                    vocab: Some(data.encoding.vocab.len()),
                }
            }
        })
    }

    /// Checks the task's settings.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            SeqTask::RowMnist { valid_fraction, .. } if !(0.0..1.0).contains(valid_fraction) => {
                Err(format!(
                    "valid_fraction must be in [0, 1) (got {valid_fraction})"
                ))
            }
            SeqTask::Adding { seq_len, .. } if *seq_len < 2 => {
                Err(format!("seq_len must be at least 2 (got {seq_len})"))
            }
            SeqTask::Adding { n_train, .. } if *n_train < 10 => {
                Err(format!("n_train must be at least 10 (got {n_train})"))
            }
            SeqTask::Text(spec) => spec.validate(),
            SeqTask::Forecast { window: 0, .. } => Err("window must be at least 1".into()),
            SeqTask::Forecast { test_fraction, .. }
                if !(*test_fraction > 0.0 && *test_fraction < 1.0) =>
            {
                Err(format!(
                    "test_fraction must be in (0, 1) (got {test_fraction})"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A complete, serialisable description of a sequence run (written as `config.json`); `M` is
/// the model's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeqJob<M> {
    /// Task and data.
    pub task: SeqTask,
    /// Architecture.
    pub model: M,
    /// Training hyper-parameters.
    pub train: TrainConfig,
}

/// A task's three sets, of the input type its network reads.
enum Sets {
    /// Row-MNIST: images read as 28 steps of 28 pixels.
    Rows(RowImages, Option<RowImages>, RowImages),
    /// The adding problem and forecasting: dense `[time, features]` sequences.
    Dense(SequenceDataset, Option<SequenceDataset>, SequenceDataset),
    /// Sentence classification: token ids.
    Text(TextDataset, Option<TextDataset>, TextDataset),
}

impl Sets {
    /// The three sets with one input type (a copy of each).
    fn as_sequence_sets(&self) -> (SequenceSet, Option<SequenceSet>, SequenceSet) {
        match self {
            Sets::Rows(t, v, e) => (
                SequenceSet::Rows(t.clone()),
                v.clone().map(SequenceSet::Rows),
                SequenceSet::Rows(e.clone()),
            ),
            Sets::Dense(t, v, e) => (
                SequenceSet::Dense(t.clone()),
                v.clone().map(SequenceSet::Dense),
                SequenceSet::Dense(e.clone()),
            ),
            Sets::Text(t, v, e) => (
                SequenceSet::Text(t.clone()),
                v.clone().map(SequenceSet::Text),
                SequenceSet::Text(e.clone()),
            ),
        }
    }
}

/// A task's data, loaded once for training ([`run_sequence_job`]) and for evaluation
/// ([`evaluate_sequence_job`]) alike, so both see the very same test set.
struct TaskData {
    sets: Sets,
    /// The dataset's description in the report.
    dataset: String,
    objective: Objective,
    /// Where the data came from, when the user did not say.
    note: Option<String>,
    /// Forecasting: the series' standardisation (metrics are in the series' units).
    target_scaler: Option<StandardScaler>,
    /// Text: the vocabulary and labels.
    encoding: Option<TextEncoding>,
    /// Baselines for the report, measured on this test set.
    extra: Vec<(&'static str, serde_json::Value)>,
    /// Lines about the data that the run goes on despite (text: accidental-looking labels).
    warnings: Vec<String>,
}

impl TaskData {
    fn load(task: &SeqTask, seed: u64, assets: &Path) -> Result<Self, TrainError> {
        task.validate().map_err(TrainError::Invalid)?;
        let plain = |sets, dataset, objective| TaskData {
            sets,
            dataset,
            objective,
            note: None,
            target_scaler: None,
            encoding: None,
            extra: Vec::new(),
            warnings: Vec::new(),
        };
        Ok(match task {
            SeqTask::RowMnist {
                data,
                valid_fraction,
            } => {
                let spec = ImageSplitSpec {
                    image_size: 28,
                    train_limit: None,
                    valid_fraction: *valid_fraction,
                    seed,
                    mean: 0.5,
                    std: 0.5,
                };
                let bundled = assets.join("mnist-sample");
                let data = load_splits(ImageDatasetKind::Mnist, data.as_deref(), &bundled, &spec)?;
                let sets = Sets::Rows(
                    RowImages(data.train),
                    data.valid.map(RowImages),
                    RowImages(data.test),
                );
                TaskData {
                    note: data.note,
                    ..plain(
                        sets,
                        format!("row-MNIST: {}", data.description),
                        Objective::Classification { num_classes: 10 },
                    )
                }
            }
            SeqTask::Adding { seq_len, n_train } => {
                let n_eval = (n_train / 10).max(1);
                let train = adding_problem(*n_train, *seq_len, seed);
                let valid = adding_problem(n_eval, *seq_len, seed.wrapping_add(1));
                let test = adding_problem(n_eval, *seq_len, seed.wrapping_add(2));
                // The mean predictor (always 1.0) on this very test set, beside its expectation.
                let baseline = match &test.targets {
                    zoo_data::data::Targets::Values { values, .. } => {
                        values
                            .iter()
                            .map(|v| (*v as f64 - 1.0).powi(2))
                            .sum::<f64>()
                            / values.len().max(1) as f64
                    }
                    _ => f64::NAN,
                };
                TaskData {
                    extra: vec![
                        ("baseline_mse", baseline.into()),
                        ("baseline_mse_expected", ADDING_BASELINE_MSE.into()),
                    ],
                    ..plain(
                        Sets::Dense(train, Some(valid), test),
                        format!("adding problem, T = {seq_len}"),
                        Objective::Regression,
                    )
                }
            }
            SeqTask::Forecast {
                series,
                column,
                window,
                valid_fraction,
                test_fraction,
            } => {
                let path = series
                    .clone()
                    .unwrap_or_else(|| assets.join("sunspots.csv"));
                let note = series.is_none().then(|| {
                    format!(
                        "no series file given: forecasting the bundled yearly sunspot numbers ({})",
                        path.display()
                    )
                });
                let values = read_series_csv(&path, column.as_deref())?;
                let data = forecast_splits(&values, *window, *valid_fraction, *test_fraction)
                    .map_err(TrainError::Invalid)?;
                let persistence = persistence_mse(&data.test, &data.scaler);
                let valid = (!data.valid.is_empty()).then_some(data.valid);
                TaskData {
                    note,
                    target_scaler: Some(data.scaler),
                    extra: vec![("persistence_mse", persistence.into())],
                    ..plain(
                        Sets::Dense(data.train, valid, data.test),
                        format!("forecast: {} ({})", path.display(), data.description),
                        Objective::Regression,
                    )
                }
            }
            SeqTask::Text(spec) => {
                let data = spec.load(&assets.join("text"), seed)?;
                let num_classes = data.encoding.labels.len();
                TaskData {
                    note: data.note,
                    encoding: Some(data.encoding),
                    warnings: data.warnings,
                    ..plain(
                        Sets::Text(data.train, data.valid, data.test),
                        format!("text: {}", data.description),
                        Objective::Classification { num_classes },
                    )
                }
            }
        })
    }
}

/// Trains `model` (a network of configuration `C`, e.g. an LSTM: a fresh one, or PyTorch's
/// weights to fine-tune) on the job's task on backend `B`; `assets` is the directory of
/// bundled data. Writes `config.json`, checkpoints, the model, `report.json` and
/// `training_curves.png` into the context's artifact directory (the text task also
/// `vocab.json`, which [`classify_sentence`] needs). The adding problem's report also records
/// the mean predictor's MSE on the test set (`baseline_mse`) and its expectation 1/6
/// (`baseline_mse_expected`); forecasting's, the naive forecast's (`persistence_mse`).
pub fn run_sequence_job<B, M, C>(
    job: &SeqJob<C>,
    model: M,
    ctx: &JobContext,
    assets: &Path,
    device: &B::Device,
) -> Result<Trained<M>, TrainError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Predict<B, Tensor<B, 3>> + Predict<B, TokenBatch<B>>,
    M::InnerModule: Predict<B::InnerBackend, Tensor<B::InnerBackend, 3>>
        + Predict<B::InnerBackend, TokenBatch<B::InnerBackend>>,
    C: SequenceModel,
{
    run_sequence_job_with(job, model, ctx, assets, device, None)
}

/// The network a run of `job` starts from: `start` (PyTorch's weights, say), or a fresh one of
/// `job.model`, built after seeding the backend with the job's seed; `job.model` checked.
pub fn start_net<B: Backend, C: SequenceModel>(
    job: &SeqJob<C>,
    start: Option<C::Net<B>>,
    device: &B::Device,
) -> Result<C::Net<B>, TrainError> {
    job.model.validate().map_err(TrainError::Invalid)?;
    Ok(match start {
        Some(net) => net,
        None => {
            crate::seed_backend::<B>(device, job.train.seed);
            job.model.build::<B>(device)
        }
    })
}

/// Another loop's training of a sequence model on the task's sets (training, validation,
/// test), as [`run_sequence_job_with`] takes it: what a model crate passes to train with
/// burn-train's `Learner` (`zoo_train::learner::fit_learner`), which needs the model's own
/// `TrainStep`.
pub type SequenceFit<'a, M> = &'a dyn for<'s> Fn(
    M,
    &SequenceSet,
    Option<&SequenceSet>,
    &SequenceSet,
    RunSpec<'s>,
) -> Result<Trained<M>, TrainError>;

/// [`run_sequence_job`], trained by `other` instead of the zoo's loop when given: the same
/// data, `config.json`, `vocab.json`, report extras (baselines) and `report.json`.
pub fn run_sequence_job_with<B, M, C>(
    job: &SeqJob<C>,
    model: M,
    ctx: &JobContext,
    assets: &Path,
    device: &B::Device,
    other: Option<SequenceFit<'_, M>>,
) -> Result<Trained<M>, TrainError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Predict<B, Tensor<B, 3>> + Predict<B, TokenBatch<B>>,
    M::InnerModule: Predict<B::InnerBackend, Tensor<B::InnerBackend, 3>>
        + Predict<B::InnerBackend, TokenBatch<B::InnerBackend>>,
    C: SequenceModel,
{
    let data = TaskData::load(&job.task, job.train.seed, assets)?;
    if let Some(note) = &data.note {
        ctx.progress_note(note);
    }
    for warning in &data.warnings {
        ctx.warn(warning);
    }
    let changes = ctx.write_config(job, &[])?;
    if let Some(dir) = &ctx.artifacts
        && let Some(encoding) = &data.encoding
    {
        write_json(&dir.path("vocab.json"), encoding)?;
    }
    let spec = RunSpec {
        cfg: &job.train,
        objective: data.objective,
        model_id: ModelId::new(C::KIND, &job.model, &ctx.float).with_layout(C::LAYOUT),
        info: RunInfo {
            model: C::KIND.into(),
            backend: ctx.backend.clone(),
            device: ctx.device.clone(),
            dataset: data.dataset,
        },
        config: serde_json::to_value(job).unwrap_or_default(),
        artifacts: ctx.artifacts.as_ref(),
        resume: ctx.resume,
        progress: ctx.progress,
        target_scaler: data.target_scaler,
        class_names: data
            .encoding
            .as_ref()
            .map(|e| (0..e.labels.len()).map(|i| e.name(i).to_string()).collect())
            .unwrap_or_default(),
        resumed_with_changes: changes,
    };
    let mut trained = match (other, &data.sets) {
        (Some(other), sets) => {
            let (train, valid, test) = sets.as_sequence_sets();
            other(model, &train, valid.as_ref(), &test, spec)?
        }
        (None, Sets::Rows(train, valid, test)) => {
            fit(model, train, valid.as_ref(), Some(test), spec, device)?
        }
        (None, Sets::Dense(train, valid, test)) => {
            fit(model, train, valid.as_ref(), Some(test), spec, device)?
        }
        (None, Sets::Text(train, valid, test)) => {
            fit(model, train, valid.as_ref(), Some(test), spec, device)?
        }
    };
    for (key, value) in data.extra {
        trained.report.extra.insert(key.into(), value);
    }
    if !data.warnings.is_empty() {
        trained
            .report
            .extra
            .insert("data_warnings".into(), data.warnings.into());
    }
    if let Some(dir) = &ctx.artifacts {
        write_json(&dir.report(), &trained.report)?;
    }
    Ok(trained)
}

/// The test-set evaluation of `model` (a network of `job.model`'s architecture: a saved run's,
/// or PyTorch's weights) on the job's task — the test set [`run_sequence_job`] reports on:
/// loss and metrics (in the series' units for forecasting), outputs and confusion matrix.
pub fn evaluate_sequence_job<B, M, C>(
    job: &SeqJob<C>,
    model: &M,
    assets: &Path,
    device: &B::Device,
) -> Result<Evaluation, TrainError>
where
    B: Backend,
    M: Predict<B, Tensor<B, 3>> + Predict<B, TokenBatch<B>>,
    C: SequenceModel,
{
    let data = TaskData::load(&job.task, job.train.seed, assets)?;
    let (objective, scaler) = (data.objective, data.target_scaler.as_ref());
    let batch = job.train.batch_size.max(256);
    match &data.sets {
        Sets::Rows(.., test) => evaluate(model, test, objective, batch, scaler, device),
        Sets::Dense(.., test) => evaluate(model, test, objective, batch, scaler, device),
        Sets::Text(.., test) => evaluate(model, test, objective, batch, scaler, device),
    }
}

/// The job and network of kind `C` saved in `dir` (its `config.json` and `model.mpk`).
pub fn load_sequence_run<B: Backend, C: SequenceModel>(
    dir: &Path,
    device: &B::Device,
) -> Result<(SeqJob<C>, C::Net<B>), TrainError> {
    let config = dir.join("config.json");
    let job: SeqJob<C> = read_json(&config, &format!("a saved {} run", C::KIND))?;
    job.model
        .validate()
        .map_err(|reason| TrainError::Checkpoint {
            path: config.clone(),
            reason,
        })?;
    let id = ModelId::new(C::KIND, &job.model, "f32").with_layout(C::LAYOUT);
    let model = load_model::<B, _>(
        job.model.build::<B>(device),
        &dir.join("model.mpk"),
        &id,
        device,
    )?;
    Ok((job, model))
}

/// MSE, in the series' units, of the naive forecast "next value = last value" on a forecasting
/// set (one feature per step, standardised by `scaler`): the number a model must beat.
pub fn persistence_mse(set: &SequenceDataset, scaler: &StandardScaler) -> f64 {
    let zoo_data::data::Targets::Values { values, .. } = &set.targets else {
        return f64::NAN;
    };
    let scale = scaler.scale.first().copied().unwrap_or(1.0);
    let n = values.len().max(1) as f64;
    (0..values.len())
        .map(|i| {
            let last = set.sample(i)[set.steps * set.features - 1] as f64;
            ((values[i] as f64 - last) * scale).powi(2)
        })
        .sum::<f64>()
        / n
}
