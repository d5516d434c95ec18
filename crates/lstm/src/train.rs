//! The LSTM's runs: the sequence tasks of [`zoo_train::sequence`] (row-MNIST, the adding
//! problem, sentence classification, forecasting) with an [`LstmNet`].

use std::path::Path;

use burn::tensor::backend::{AutodiffBackend, Backend};
pub use zoo_train::sequence::{SeqJob, SeqTask, SequenceModel, seed_train};
pub use zoo_train::train::JobContext;
use zoo_train::{TrainError, Trained, Trainer, seed_backend};

use crate::{LstmNet, LstmNetConfig};

impl SequenceModel for LstmNetConfig {
    const KIND: &'static str = "lstm";
    type Net<B: Backend> = LstmNet<B>;
    fn validate(&self) -> Result<(), String> {
        LstmNetConfig::validate(self)
    }
    fn with_token_input(self, vocab: Option<usize>) -> Self {
        self.with_vocab(vocab)
    }
    fn build<B: Backend>(&self, device: &B::Device) -> LstmNet<B> {
        self.init::<B>(device)
    }
}

/// Seeds the backend, builds the job's network and trains it on the job's task; `assets` is
/// the directory of bundled data (`mnist-sample/`, `text/`, `sunspots.csv`). Writes
/// `config.json`, checkpoints, `model.mpk`, `report.json` and `training_curves.png` into the
/// context's artifact directory (text runs also `vocab.json`). Returns the report, the trained
/// network and its test-set evaluation.
pub fn run<B: AutodiffBackend>(
    job: &SeqJob<LstmNetConfig>,
    ctx: &JobContext,
    assets: &Path,
    device: &B::Device,
) -> Result<Trained<LstmNet<B>>, TrainError> {
    job.model.validate().map_err(TrainError::Invalid)?;
    seed_backend::<B>(device, job.train.seed);
    let model = job.model.init::<B>(device);
    run_from(job, model, ctx, assets, device)
}

/// Trains (fine-tunes) `model`, a network of `job.model`'s architecture — PyTorch's weights
/// through [`crate::pytorch::load`], say — instead of a fresh one; otherwise as [`run`].
pub fn run_from<B: AutodiffBackend>(
    job: &SeqJob<LstmNetConfig>,
    model: LstmNet<B>,
    ctx: &JobContext,
    assets: &Path,
    device: &B::Device,
) -> Result<Trained<LstmNet<B>>, TrainError> {
    // The loop seeds the backend before every step, so a given model trains the same however
    // it was made.
    job.model.validate().map_err(TrainError::Invalid)?;
    zoo_train::sequence::run_sequence_job(job, model, ctx, assets, device)
}

/// [`run`] (or [`run_from`] `start`) with the loop `trainer` names: the zoo's, or burn-train's
/// `Learner` on its devices (which needs this crate's `learner` feature).
pub fn run_with<B: AutodiffBackend>(
    job: &SeqJob<LstmNetConfig>,
    start: Option<LstmNet<B>>,
    ctx: &JobContext,
    assets: &Path,
    trainer: &Trainer<B::Device>,
    device: &B::Device,
) -> Result<Trained<LstmNet<B>>, TrainError> {
    let model = zoo_train::sequence::start_net(job, start, device)?;
    match trainer {
        Trainer::Zoo => zoo_train::sequence::run_sequence_job(job, model, ctx, assets, device),
        Trainer::Burn { devices } => burn_fit(job, model, ctx, assets, devices, device),
    }
}

#[cfg(feature = "learner")]
fn burn_fit<B: AutodiffBackend>(
    job: &SeqJob<LstmNetConfig>,
    model: LstmNet<B>,
    ctx: &JobContext,
    assets: &Path,
    devices: &[B::Device],
    device: &B::Device,
) -> Result<Trained<LstmNet<B>>, TrainError> {
    use zoo_train::sequence::{SequenceFit, run_sequence_job_with};
    let fit: SequenceFit<'_, LstmNet<B>> = &|model, train, valid, test, spec| {
        zoo_train::learner::fit_learner(model, train, valid, Some(test), spec, devices)
    };
    run_sequence_job_with(job, model, ctx, assets, device, Some(fit))
}

#[cfg(not(feature = "learner"))]
fn burn_fit<B: AutodiffBackend>(
    _job: &SeqJob<LstmNetConfig>,
    _model: LstmNet<B>,
    _ctx: &JobContext,
    _assets: &Path,
    _devices: &[B::Device],
    _device: &B::Device,
) -> Result<Trained<LstmNet<B>>, TrainError> {
    Err(TrainError::Invalid(
        "the burn trainer needs zoo-lstm's `learner` feature".into(),
    ))
}
