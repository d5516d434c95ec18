//! burn-train's `TrainStep` and `InferenceStep` for the RNN/GRU network (feature `learner`), on
//! a [`Batch`] of [`SequenceInput`]s (dense steps or token ids, whichever the task reads): what
//! `zoo_train::learner::fit_learner` and a user's own `SupervisedTraining` train it with.

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use zoo_data::Predict;
use zoo_data::items::{Batch, SequenceInput};
use zoo_kernels::sequence::TokenBatch;
use zoo_train::learner::{LearnerOutput, inference_step, train_step};

use crate::RnnNet;

impl<B: Backend> Predict<B, SequenceInput<B>> for RnnNet<B> {
    fn predict(&self, input: SequenceInput<B>) -> Tensor<B, 2> {
        match input {
            SequenceInput::Values(x) => Predict::<B, Tensor<B, 3>>::predict(self, x),
            SequenceInput::Tokens(x) => Predict::<B, TokenBatch<B>>::predict(self, x),
        }
    }
}

impl<B: AutodiffBackend> TrainStep for RnnNet<B> {
    type Input = Batch<B, SequenceInput<B>>;
    type Output = LearnerOutput<B>;

    fn step(&self, batch: Self::Input) -> TrainOutput<LearnerOutput<B>> {
        train_step(self, batch)
    }
}

impl<B: Backend> InferenceStep for RnnNet<B> {
    type Input = Batch<B, SequenceInput<B>>;
    type Output = LearnerOutput<B>;

    fn step(&self, batch: Self::Input) -> LearnerOutput<B> {
        inference_step(self, batch)
    }
}
