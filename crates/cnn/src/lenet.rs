//! LeNet-5 (LeCun et al., 1998), adapted to 28×28 inputs as is usual today: the first
//! convolution pads by 2 so it sees the 32×32 field the original was drawn for, ReLU replaces
//! the scaled tanh and max pooling the trainable subsampling, and the last layer is a linear
//! classifier instead of the Gaussian connections.
//!
//! `conv 5×5 (1→6, padding 2) → ReLU → max pool 2 → conv 5×5 (6→16) → ReLU → max pool 2 →
//! flatten (16·5·5 = 400) → 120 → ReLU → 84 → ReLU → classes`: 61,706 parameters for ten
//! classes, a twentieth of the seed CNN's 1,199,882.

use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::conv::ConvPath;

use crate::layers::{conv, max_pool2};

/// LeNet-5's sizes for square `image_size` inputs: the side after the second pooling.
pub(crate) fn lenet_side(image_size: usize) -> usize {
    (image_size / 2).saturating_sub(4) / 2
}

/// LeNet-5: `[batch, 1, s, s]` images → `[batch, classes]` logits.
#[derive(Module, Debug)]
pub struct LeNet5<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    fc1: Linear<B>,
    fc2: Linear<B>,
    fc3: Linear<B>,
    relu: Relu,
}

impl<B: Backend> LeNet5<B> {
    /// A freshly initialised LeNet-5 (PyTorch's default initialisation, as the seed CNN) for
    /// square images of side `image_size` (at least 12) and `num_classes` classes.
    pub fn new(image_size: usize, num_classes: usize, device: &B::Device) -> Self {
        let init = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        };
        let side = lenet_side(image_size);
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(init.clone())
                .init(device)
        };
        Self {
            conv1: Conv2dConfig::new([1, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .with_initializer(init.clone())
                .init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5])
                .with_initializer(init.clone())
                .init(device),
            fc1: linear(16 * side * side, 120),
            fc2: linear(120, 84),
            fc3: linear(84, num_classes),
            relu: Relu::new(),
        }
    }

    /// `[batch, 1, s, s]` → the 84 penultimate features (after ReLU).
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.features_with(x, ConvPath::of::<B>())
    }

    /// [`LeNet5::features`] through the given convolution path (the same function either way).
    pub fn features_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        let x = x.permute([0, 2, 3, 1]);
        let x = max_pool2(self.relu.forward(conv(&self.conv1, x, path)));
        let x = max_pool2(self.relu.forward(conv(&self.conv2, x, path)));
        // PyTorch's flattening order (c, h, w), so its LeNet-5 weights would fit.
        let x = x.permute([0, 3, 1, 2]).flatten::<2>(1, 3);
        let x = self.relu.forward(self.fc1.forward(x));
        self.relu.forward(self.fc2.forward(x))
    }

    /// The classifier: penultimate [`LeNet5::features`] → logits.
    pub fn head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc3.forward(features)
    }

    /// `[batch, 1, s, s]` → `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head(self.features(x))
    }

    /// [`LeNet5::forward`] through the given convolution path.
    pub fn forward_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        self.head(self.features_with(x, path))
    }

    /// This network with `other`'s classifier ([`LeNet5::head`]'s linear layer).
    pub(crate) fn with_head_of(self, other: Self) -> Self {
        Self {
            fc3: other.fc3,
            ..self
        }
    }

    /// This network with every parameter but the classifier's out of training.
    pub(crate) fn freeze_features(self) -> Self {
        let fc3 = self.fc3.clone();
        Self {
            fc3,
            ..self.no_grad()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    #[test]
    fn lenet5_has_61_706_parameters_and_classic_shapes() {
        let d = Default::default();
        let m = LeNet5::<NdArray>::new(28, 10, &d);
        // conv1 6·25+6, conv2 16·6·25+16, 400·120+120, 120·84+84, 84·10+10.
        assert_eq!(m.num_params(), 156 + 2_416 + 48_120 + 10_164 + 850);
        assert_eq!(m.num_params(), 61_706);
        let x = Tensor::<NdArray, 4>::zeros([3, 1, 28, 28], &d);
        assert_eq!(m.features(x.clone()).dims(), [3, 84]);
        assert_eq!(m.forward(x).dims(), [3, 10]);
    }

    #[test]
    fn both_convolution_paths_compute_the_same_logits_and_gradients() {
        type A = Autodiff<NdArray>;
        let d = Default::default();
        let m = LeNet5::<A>::new(28, 10, &d);
        let x = Tensor::<A, 4>::random([4, 1, 28, 28], Distribution::Default, &d);
        let run = |path| {
            let y = m.forward_with(x.clone(), path);
            let g = y.clone().powi_scalar(2).sum().backward();
            let w = m.conv1.weight.grad(&g).unwrap().flatten::<1>(0, 3);
            (
                y.inner().into_data().to_vec::<f32>().unwrap(),
                w.into_data().to_vec::<f32>().unwrap(),
            )
        };
        let (a, b) = (run(ConvPath::Im2col), run(ConvPath::Native));
        let worst = |p: &[f32], q: &[f32]| {
            let scale = p.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            p.iter()
                .zip(q)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f32::max)
                / scale
        };
        assert!(worst(&a.0, &b.0) < 1e-4, "logits");
        assert!(worst(&a.1, &b.1) < 1e-4, "conv1 gradient");
    }
}
