//! burn-train's `TrainStep` and `InferenceStep` for every CNN network (feature `learner`) —
//! [`Cnn`], [`LeNet5`], [`ResNet`] and the [`Network`] enum — on a [`Batch`] of
//! `[batch, 1, 28, 28]` images: what `zoo_train::learner::fit_learner` and a user's own
//! `SupervisedTraining` train them with.

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use zoo_data::items::Batch;
use zoo_train::learner::{LearnerOutput, inference_step, train_step};

use crate::lenet::LeNet5;
use crate::resnet::ResNet;
use crate::{Cnn, Network};

macro_rules! steps {
    ($($net:ident),*) => {$(
        impl<B: AutodiffBackend> TrainStep for $net<B> {
            type Input = Batch<B, Tensor<B, 4>>;
            type Output = LearnerOutput<B>;

            fn step(&self, batch: Self::Input) -> TrainOutput<LearnerOutput<B>> {
                train_step(self, batch)
            }
        }

        impl<B: Backend> InferenceStep for $net<B> {
            type Input = Batch<B, Tensor<B, 4>>;
            type Output = LearnerOutput<B>;

            fn step(&self, batch: Self::Input) -> LearnerOutput<B> {
                inference_step(self, batch)
            }
        }
    )*};
}
steps!(Cnn, LeNet5, ResNet, Network);
