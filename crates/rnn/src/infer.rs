//! Inference: a saved run back ([`load`]), the test-set evaluation of a network on a job's
//! task ([`evaluate`]) and the classes of a sentence under a saved text run ([`classify`]).

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_train::sequence::SentenceClasses;
use zoo_train::sequence::SeqJob;
use zoo_train::{Evaluation, TrainError};

use crate::{RnnNet, RnnNetConfig};

/// The job and network of the RNN run saved in `dir` (`config.json`, `model.mpk`).
pub fn load<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(SeqJob<RnnNetConfig>, RnnNet<B>), TrainError> {
    zoo_train::sequence::load_sequence_run::<B, RnnNetConfig>(dir, device)
}

/// The test-set evaluation of `model` (of `job.model`'s architecture: a saved run's, or
/// PyTorch's weights through [`crate::pytorch::load`]) on `job`'s task; `assets` is the
/// directory of bundled data.
pub fn evaluate<B: Backend>(
    job: &SeqJob<RnnNetConfig>,
    model: &RnnNet<B>,
    assets: &Path,
    device: &B::Device,
) -> Result<Evaluation, TrainError> {
    zoo_train::sequence::evaluate_sequence_job(job, model, assets, device)
}

/// Class probabilities of `sentence` under the RNN text model saved in `dir`.
pub fn classify<B: Backend>(
    dir: &Path,
    sentence: &str,
    device: &B::Device,
) -> Result<SentenceClasses, TrainError> {
    zoo_train::sequence::classify_sentence::<B, RnnNetConfig>(dir, sentence, device)
}
