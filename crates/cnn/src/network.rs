//! [`Network`]: whichever architecture a [`CnnConfig`] names — the tutorial's CNN (seed or
//! strong preset, [`Cnn`]), [`LeNet5`] or the residual network ([`ResNet`]) — behind one type
//! with one `forward`.
//!
//! It is a Burn module (an enum module), so it trains, saves and loads as any other. The zoo's
//! own runs train and save the variant's network itself (`model.mpk` holds a [`Cnn`] record for
//! the tutorial presets, as before this enum existed), so earlier runs and checkpoints still
//! load.

use burn::module::Module;
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
