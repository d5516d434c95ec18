//! [`Network`]: whichever architecture a [`CnnConfig`] names — the tutorial's CNN (seed or
//! strong preset, [`Cnn`]), [`LeNet5`] or the residual network ([`ResNet`]) — behind one type
//! with one `forward`.
//!
//! It is a Burn module (an enum module), so it trains, saves and loads as any other. The zoo's
//! own runs train and save the variant's network itself (`model.mpk` holds a [`Cnn`] record for
//! the tutorial presets, as before this enum existed), so earlier runs and checkpoints still
//! load.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::conv::ConvPath;

use crate::lenet::LeNet5;
use crate::resnet::ResNet;
use crate::{Cnn, CnnConfig, CnnPreset};

/// One of the zoo's image classifiers: `[batch, 1, s, s]` → `[batch, classes]` logits.
// The variants differ in size by their layer handles (the tensors live on the heap or the
// device); a run holds one network for its whole life, so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network<B: Backend> {
    /// The tutorial's CNN (presets `seed` and `strong`).
    Tutorial(Cnn<B>),
    /// LeNet-5 (preset `lenet5`).
    LeNet5(LeNet5<B>),
    /// The residual network (preset `resnet`).
    ResNet(ResNet<B>),
}

impl CnnConfig {
    /// Builds the network of [`CnnConfig::preset`], freshly initialised.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Network<B> {
        match self.preset {
            CnnPreset::Seed | CnnPreset::Strong => Network::Tutorial(self.init_tutorial(device)),
            CnnPreset::Lenet5 => {
                Network::LeNet5(LeNet5::new(self.image_size, self.num_classes, device))
            }
            CnnPreset::Resnet => Network::ResNet(ResNet::new(self.num_classes, device)),
        }
    }
}

impl<B: Backend> Network<B> {
    /// `[batch, 1, s, s]` → `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Self::Tutorial(m) => m.forward(x),
            Self::LeNet5(m) => m.forward(x),
            Self::ResNet(m) => m.forward(x),
        }
    }

    /// [`Network::forward`] through the given convolution path (the same function either way).
    pub fn forward_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        match self {
            Self::Tutorial(m) => m.forward_with(x, path),
            Self::LeNet5(m) => m.forward_with(x, path),
            Self::ResNet(m) => m.forward_with(x, path),
        }
    }

    /// The penultimate features (128 for the tutorial CNN, 84 for LeNet-5, 64 for the residual
    /// network).
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Self::Tutorial(m) => m.features(x),
            Self::LeNet5(m) => m.features(x),
            Self::ResNet(m) => m.features(x),
        }
    }

    /// The classifier on [`Network::features`].
    pub fn head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Tutorial(m) => m.head(features),
            Self::LeNet5(m) => m.head(features),
            Self::ResNet(m) => m.head(features),
        }
    }

    /// Whether this is the network `preset` builds (the tutorial CNN for `seed` and `strong`).
    pub fn is(&self, preset: CnnPreset) -> bool {
        matches!(
            (self, preset),
            (Self::Tutorial(_), CnnPreset::Seed | CnnPreset::Strong)
                | (Self::LeNet5(_), CnnPreset::Lenet5)
                | (Self::ResNet(_), CnnPreset::Resnet)
        )
    }

    /// Transfer learning's start: this (trained) network's feature layers under `fresh`'s
    /// classifier — the last linear layer, [`Network::head`] — which may have another number
    /// of classes. Both must be the same architecture with the same image size (a seed
    /// network's features under a strong one's head would not be a network); that is an
    /// error here only when the variants differ, so check the configurations first.
    pub fn with_head_of(self, fresh: Network<B>) -> Result<Self, String> {
        match (self, fresh) {
            (Self::Tutorial(m), Self::Tutorial(f)) => Ok(Self::Tutorial(m.with_head_of(f))),
            (Self::LeNet5(m), Self::LeNet5(f)) => Ok(Self::LeNet5(m.with_head_of(f))),
            (Self::ResNet(m), Self::ResNet(f)) => Ok(Self::ResNet(m.with_head_of(f))),
            (from, to) => Err(format!(
                "the features of a {} cannot go under the head of a {}",
                from.kind(),
                to.kind()
            )),
        }
    }

    /// This network with only its classifier ([`Network::head`]) left to train: every other
    /// parameter stops requiring gradients, so no optimizer moves it (weight decay included).
    /// Batch-norm layers in the features still update their running statistics in training
    /// mode, as PyTorch's do under `requires_grad = False`.
    pub fn freeze_features(self) -> Self {
        match self {
            Self::Tutorial(m) => Self::Tutorial(m.freeze_features()),
            Self::LeNet5(m) => Self::LeNet5(m.freeze_features()),
            Self::ResNet(m) => Self::ResNet(m.freeze_features()),
        }
    }

    /// How many parameters (scalars) training moves: [`Module::num_params`] less the frozen
    /// ones.
    pub fn num_trainable_params(&self) -> usize {
        struct Count(usize);
        impl<B: Backend> ModuleVisitor<B> for Count {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                if param.val().is_require_grad() {
                    self.0 += param.lazy_shape().num_elements();
                }
            }
        }
        let mut count = Count(0);
        self.visit(&mut count);
        count.0
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Tutorial(_) => "tutorial CNN",
            Self::LeNet5(_) => "LeNet-5",
            Self::ResNet(_) => "residual network",
        }
    }

    /// The tutorial CNN inside, if this is one (what PyTorch's tutorial weights fit).
    pub fn tutorial(&self) -> Option<&Cnn<B>> {
        match self {
            Self::Tutorial(m) => Some(m),
            _ => None,
        }
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 4>> for Network<B> {
    fn predict(&self, input: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 4>> for LeNet5<B> {
    fn predict(&self, input: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 4>> for ResNet<B> {
    fn predict(&self, input: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn each_preset_builds_its_network() {
        let d = Default::default();
        let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &d);
        for (preset, params, width) in [
            (CnnPreset::Seed, 1_199_882, 128),
            (CnnPreset::Lenet5, 61_706, 84),
            (CnnPreset::Resnet, 176_090, 64),
        ] {
            let net = CnnConfig::new().with_preset(preset).init::<NdArray>(&d);
            assert_eq!(net.num_params(), params, "{preset:?}");
            assert_eq!(net.features(x.clone()).dims(), [2, width], "{preset:?}");
            assert_eq!(net.forward(x.clone()).dims(), [2, 10], "{preset:?}");
            assert_eq!(net.tutorial().is_some(), preset == CnnPreset::Seed);
        }
    }
}
