//! burn-train's `TrainStep` and `InferenceStep` for the CNN (feature `learner`), on a
//! [`Batch`] of `[batch, 1, 28, 28]` images: what `zoo_train::learner::fit_learner` and a
//! user's own `SupervisedTraining` train it with.

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use zoo_data::items::Batch;
use zoo_train::learner::{LearnerOutput, inference_step, train_step};

use crate::Cnn;

impl<B: AutodiffBackend> TrainStep for Cnn<B> {
    type Input = Batch<B, Tensor<B, 4>>;
    type Output = LearnerOutput<B>;

    fn step(&self, batch: Self::Input) -> TrainOutput<LearnerOutput<B>> {
        train_step(self, batch)
    }
}

impl<B: Backend> InferenceStep for Cnn<B> {
    type Input = Batch<B, Tensor<B, 4>>;
    type Output = LearnerOutput<B>;

    fn step(&self, batch: Self::Input) -> LearnerOutput<B> {
        inference_step(self, batch)
    }
}
