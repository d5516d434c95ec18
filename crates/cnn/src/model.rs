//! [`CnnConfig`] (which preset, how many classes, what image size) and the tutorial's network,
//! [`Cnn`] (`[batch, 1, 28, 28]` → `[batch, classes]` logits; the seed and strong presets).
//! [`CnnConfig::init`] builds any preset as a [`crate::Network`].

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::conv::{ConvPath, batch_norm_nhwc, conv2d_nhwc};

/// Architecture presets.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CnnPreset {
    /// The tutorial's network, exactly.
    Seed,
    /// Same layout plus batch norm after each conv and the hidden linear layer, dropout
    /// (0.25 after pooling, 0.5 before the classifier) and He initialisation.
    Strong,
    /// LeNet-5 adapted to 28×28 ([`crate::lenet`]): 61,706 parameters.
    Lenet5,
    /// A residual network of three stages of two basic blocks ([`crate::resnet`]).
    Resnet,
}

impl CnnPreset {
    /// The preset's name as the zoo spells it: `seed`, `strong`, `lenet5`, `resnet`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Strong => "strong",
            Self::Lenet5 => "lenet5",
            Self::Resnet => "resnet",
        }
    }
}

/// CNN architecture.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Which layout.
    #[config(default = "CnnPreset::Seed")]
    pub preset: CnnPreset,
    /// Output classes.
    #[config(default = 10)]
    pub num_classes: usize,
    /// Input height and width (square).
    #[config(default = 28)]
    pub image_size: usize,
}

impl CnnConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        if self.image_size < 6 {
            return Err(format!(
                "images must be at least 6x6 (got {0}x{0})",
                self.image_size
            ));
        }
        if self.num_classes < 2 {
            return Err("a classifier needs at least 2 classes".into());
        }
        if self.preset == CnnPreset::Lenet5 && self.image_size < 12 {
            return Err(format!(
                "LeNet-5 needs images of at least 12x12 (got {0}x{0})",
                self.image_size
            ));
        }
        Ok(())
    }

    /// The tutorial CNN's flattened feature size after its conv stack: 64 × ((size − 4) / 2)².
    pub fn flat_features(&self) -> usize {
        let s = (self.image_size - 4) / 2;
        64 * s * s
    }

    /// The tutorial CNN, with batch norm, dropout and He initialisation for the strong preset
    /// (every other preset is built by [`CnnConfig::init`]).
    pub(crate) fn init_tutorial<B: Backend>(&self, device: &B::Device) -> Cnn<B> {
        let strong = self.preset == CnnPreset::Strong;
        let init = if strong {
            Initializer::KaimingNormal {
                gain: 2f64.sqrt(),
                fan_out_only: false,
            }
        } else {
            // PyTorch's default for Conv2d and Linear.
            Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            }
        };
        let bn = |n| strong.then(|| BatchNormConfig::new(n).init(device));
        Cnn {
            conv1: Conv2dConfig::new([1, 32], [3, 3])
                .with_initializer(init.clone())
                .init(device),
            bn1: bn(32),
            conv2: Conv2dConfig::new([32, 64], [3, 3])
                .with_initializer(init.clone())
                .init(device),
            bn2: bn(64),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            drop1: DropoutConfig::new(if strong { 0.25 } else { 0.0 }).init(),
            fc1: LinearConfig::new(self.flat_features(), 128)
                .with_initializer(init.clone())
                .init(device),
            bn3: bn(128),
            drop2: DropoutConfig::new(if strong { 0.5 } else { 0.0 }).init(),
            fc2: LinearConfig::new(128, self.num_classes)
                .with_initializer(init)
                .init(device),
            relu: Relu::new(),
        }
    }
}

/// The CNN.
#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    conv1: Conv2d<B>,
    bn1: Option<BatchNorm<B>>,
    conv2: Conv2d<B>,
    bn2: Option<BatchNorm<B>>,
    pool: MaxPool2d,
    drop1: Dropout,
    fc1: Linear<B>,
    bn3: Option<BatchNorm<B>>,
    drop2: Dropout,
    fc2: Linear<B>,
    relu: Relu,
}

/// A stride-1, unpadded, ungrouped convolution of an NCHW tensor computed as im2col + one GEMM,
/// with the parameters of `conv` (identical results to `conv.forward`, tested). See
/// [`conv2d_nhwc`], which does the work in channels-last layout.
pub fn conv2d_im2col<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    conv2d_nhwc(conv, x.permute([0, 2, 3, 1]), 1, 0).permute([0, 3, 1, 2])
}

impl<B: Backend> Cnn<B> {
    /// The layer's batch norm (strong preset), if it has one, over Burn's layout (channels in
    /// dimension 1).
    fn norm<const D: usize>(bn: &Option<BatchNorm<B>>, x: Tensor<B, D>) -> Tensor<B, D> {
        match bn {
            Some(bn) => bn.forward(x),
            None => x,
        }
    }

    /// Batch norm over the channels of a channels-last tensor, when the preset has it.
    fn norm_nhwc(bn: &Option<BatchNorm<B>>, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match bn {
            Some(bn) => batch_norm_nhwc(bn, x),
            None => x,
        }
    }

    /// `[batch, 1, 28, 28]` → the 128 penultimate features (after ReLU).
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.features_with(x, ConvPath::of::<B>())
    }

    /// [`Cnn::features`] through the given convolution path (the same function either way).
    pub fn features_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        let x = if path == ConvPath::Native {
            let x = self
                .relu
                .forward(Self::norm(&self.bn1, self.conv1.forward(x)));
            self.relu
                .forward(Self::norm(&self.bn2, self.conv2.forward(x)))
        } else {
            // Channels-last through both convolutions (a free reshape for one input channel),
            // back to NCHW for pooling so the flattened order is PyTorch's (c, h, w).
            let x = x.permute([0, 2, 3, 1]);
            let x = self.relu.forward(Self::norm_nhwc(
                &self.bn1,
                conv2d_nhwc(&self.conv1, x, 1, 0),
            ));
            let x = self.relu.forward(Self::norm_nhwc(
                &self.bn2,
                conv2d_nhwc(&self.conv2, x, 1, 0),
            ));
            x.permute([0, 3, 1, 2])
        };
        let x = self.drop1.forward(self.pool.forward(x));
        self.relu.forward(Self::norm(
            &self.bn3,
            self.fc1.forward(x.flatten::<2>(1, 3)),
        ))
    }

    /// The classifier head: penultimate [`Cnn::features`] → `[batch, classes]` logits.
    pub fn head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc2.forward(self.drop2.forward(features))
    }

    /// `[batch, 1, 28, 28]` → `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head(self.features(x))
    }

    /// [`Cnn::forward`] through the given convolution path (the same function either way).
    pub fn forward_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        self.head(self.features_with(x, path))
    }

    /// This network with `other`'s classifier ([`Cnn::head`]'s linear layer).
    pub(crate) fn with_head_of(self, other: Self) -> Self {
        Self {
            fc2: other.fc2,
            ..self
        }
    }

    /// This network with every parameter but the classifier's out of training.
    pub(crate) fn freeze_features(self) -> Self {
        let fc2 = self.fc2.clone();
        Self {
            fc2,
            ..self.no_grad()
        }
    }
}

#[cfg(feature = "train")]
impl<B: Backend> zoo_data::Predict<B, Tensor<B, 4>> for Cnn<B> {
    fn predict(&self, input: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    #[test]
    fn seed_cnn_has_1_199_882_parameters() {
        let m = CnnConfig::new().init_tutorial::<NdArray>(&Default::default());
        assert_eq!(m.num_params(), 1_199_882);
        assert_eq!(CnnConfig::new().flat_features(), 9216);
    }

    #[test]
    fn layer_shapes() {
        let m = CnnConfig::new().init_tutorial::<NdArray>(&Default::default());
        let x = Tensor::<NdArray, 4>::zeros([3, 1, 28, 28], &Default::default());
        let c1 = m.conv1.forward(x.clone());
        assert_eq!(c1.dims(), [3, 32, 26, 26]);
        let c2 = m.conv2.forward(c1);
        assert_eq!(c2.dims(), [3, 64, 24, 24]);
        assert_eq!(m.pool.forward(c2).dims(), [3, 64, 12, 12]);
        assert_eq!(m.features(x.clone()).dims(), [3, 128]);
        assert_eq!(m.forward(x).dims(), [3, 10]);
    }

    #[test]
    fn im2col_conv_matches_burn_conv_forward_and_backward() {
        use burn::backend::Autodiff;
        type A = Autodiff<NdArray>;
        let d = Default::default();
        let conv = Conv2dConfig::new([3, 5], [3, 3]).init::<A>(&d);
        let x = Tensor::<A, 4>::random([2, 3, 7, 6], burn::tensor::Distribution::Default, &d)
            .require_grad();
        let a = conv.forward(x.clone());
        let b = conv2d_im2col(&conv, x.clone());
        assert_eq!(a.dims(), [2, 5, 5, 4]);
        let close = |p: Tensor<NdArray, 4>, q: Tensor<NdArray, 4>| {
            let (p, q) = (
                p.into_data().to_vec::<f32>().unwrap(),
                q.into_data().to_vec::<f32>().unwrap(),
            );
            p.iter()
                .zip(&q)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(close(a.clone().inner(), b.clone().inner()) < 1e-5);
        // Same gradients for the input and the weight under a non-uniform upstream gradient.
        let up = Tensor::<A, 4>::random([2, 5, 5, 4], burn::tensor::Distribution::Default, &d);
        let ga = (a * up.clone()).sum().backward();
        let gb = (b * up).sum().backward();
        assert!(close(x.grad(&ga).unwrap(), x.grad(&gb).unwrap()) < 1e-5);
        assert!(
            close(
                conv.weight.grad(&ga).unwrap(),
                conv.weight.grad(&gb).unwrap()
            ) < 1e-5
        );
    }

    #[test]
    fn strong_preset_shapes_and_parameters() {
        let m = CnnConfig::new()
            .with_preset(CnnPreset::Strong)
            .init_tutorial::<NdArray>(&Default::default());
        // Seed parameters plus, per batch-norm feature, gamma, beta and the running mean and
        // variance (Burn counts all four): 4 * (32 + 64 + 128).
        assert_eq!(m.num_params(), 1_199_882 + 4 * (32 + 64 + 128));
        let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &Default::default());
        assert_eq!(m.forward(x).dims(), [2, 10]);
    }

    /// Through [`ConvPath::Native`] the network computes the same logits and parameter
    /// gradients through Burn's `Conv2d` as through the channels-last im2col path (seed
    /// preset, training), and the same logits for the strong preset in inference (batch norm
    /// on running statistics moved by three training passes, no dropout).
    #[test]
    fn native_conv_path_matches_the_im2col_path() {
        use burn::backend::Autodiff;
        use burn::module::AutodiffModule;
        type I = NdArray;
        type A = Autodiff<I>;
        let d = Default::default();
        let x = Tensor::<A, 4>::random([4, 1, 28, 28], burn::tensor::Distribution::Default, &d);
        let worst = |a: &[f32], b: &[f32]| {
            let scale = a.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            a.iter()
                .zip(b)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f32::max)
                / scale
        };
        let values = |t: Tensor<I, 1>| t.into_data().to_vec::<f32>().unwrap();
        let seed = CnnConfig::new().init_tutorial::<A>(&d);
        let path = |native: bool| {
            if native {
                ConvPath::Native
            } else {
                ConvPath::Im2col
            }
        };
        let train = |native: bool| {
            let logits = seed.forward_with(x.clone(), path(native));
            let grads = logits.clone().powi_scalar(2).sum().backward();
            [
                logits.inner().flatten::<1>(0, 1),
                seed.conv1.weight.grad(&grads).unwrap().flatten::<1>(0, 3),
                seed.conv2.weight.grad(&grads).unwrap().flatten::<1>(0, 3),
                seed.fc1.weight.grad(&grads).unwrap().flatten::<1>(0, 1),
            ]
            .map(values)
        };
        let strong = CnnConfig::new()
            .with_preset(CnnPreset::Strong)
            .init_tutorial::<A>(&d);
        // Training-mode passes move the batch norms' running statistics off their identity
        // start, so inference depends on them.
        for _ in 0..3 {
            let _ = strong.forward(x.clone() * 3.0 + 1.0);
        }
        let strong = strong.valid();
        let infer = |native: bool| {
            values(
                strong
                    .forward_with(x.clone().inner(), path(native))
                    .flatten::<1>(0, 1),
            )
        };
        let (im2col, native) = (train(false), train(true));
        let (strong_im2col, strong_native) = (infer(false), infer(true));
        for (k, (a, b)) in im2col.iter().zip(&native).enumerate() {
            let w = worst(a, b);
            assert!(
                w < 1e-4,
                "seed: output {k} (logits, conv1, conv2, fc1) off by {w}"
            );
        }
        let w = worst(&strong_im2col, &strong_native);
        assert!(w < 1e-4, "strong preset logits off by {w}");
    }
}
