//! Inference from a saved text run: the classes of a sentence.

use std::path::Path;

use burn::tensor::backend::Backend;
pub use zoo_train::sequence::SentenceClasses;
use zoo_train::TrainError;

use crate::RnnNetConfig;

/// Class probabilities of `sentence` under the RNN text model saved in `dir`.
pub fn classify<B: Backend>(
    dir: &Path,
    sentence: &str,
    device: &B::Device,
) -> Result<SentenceClasses, TrainError> {
    zoo_train::sequence::classify_sentence::<B, RnnNetConfig>(dir, sentence, device)
}
