//! A small residual network for 28×28 images, after He et al. (2016), §4.2 (the CIFAR
//! networks): a 3×3 stem, three stages of two basic blocks each with 16, 32 and 64 channels
//! (the second and third stages halve the resolution with a stride-2 first convolution), global
//! average pooling and a linear classifier. 6n + 2 = 14 weighted layers for n = 2.
//!
//! A basic block is `conv 3×3 → BN → ReLU → conv 3×3 → BN`, added to the shortcut and passed
//! through ReLU. The shortcut is the identity, or where the shape changes a projection (1×1
//! convolution with the block's stride, then BN: option B of the paper). Convolutions carry no
//! bias (the batch norm after each has one), and are initialised as torchvision does (He
//! normal, fan-out); batch norms start at γ = 1, β = 0.

use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::conv::{ConvPath, batch_norm_nhwc};

use crate::layers::{conv, global_avg_pool};

/// Channels of the three stages.
pub const STAGE_CHANNELS: [usize; 3] = [16, 32, 64];
/// Basic blocks per stage.
pub const BLOCKS_PER_STAGE: usize = 2;

fn he() -> Initializer {
    Initializer::KaimingNormal {
        gain: 2f64.sqrt(),
        fan_out_only: true,
    }
}

fn conv3<B: Backend>(i: usize, o: usize, stride: usize, device: &B::Device) -> Conv2d<B> {
    Conv2dConfig::new([i, o], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(he())
        .init(device)
}

/// The shortcut of a block whose shape changes: 1×1 convolution with the block's stride, BN.
#[derive(Module, Debug)]
pub struct Projection<B: Backend> {
    conv: Conv2d<B>,
    bn: BatchNorm<B>,
}

/// One basic block.
#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    conv1: Conv2d<B>,
    bn1: BatchNorm<B>,
    conv2: Conv2d<B>,
    bn2: BatchNorm<B>,
    projection: Option<Projection<B>>,
    relu: Relu,
}

impl<B: Backend> BasicBlock<B> {
    fn new(i: usize, o: usize, stride: usize, device: &B::Device) -> Self {
        let projection = (stride != 1 || i != o).then(|| Projection {
            conv: Conv2dConfig::new([i, o], [1, 1])
                .with_stride([stride, stride])
                .with_bias(false)
                .with_initializer(he())
                .init(device),
            bn: BatchNormConfig::new(o).init(device),
        });
        Self {
            conv1: conv3(i, o, stride, device),
            bn1: BatchNormConfig::new(o).init(device),
            conv2: conv3(o, o, 1, device),
            bn2: BatchNormConfig::new(o).init(device),
            projection,
            relu: Relu::new(),
        }
    }

    /// Channels-last `x` → channels-last output.
    fn forward(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 4> {
        let shortcut = match &self.projection {
            Some(p) => batch_norm_nhwc(&p.bn, conv(&p.conv, x.clone(), path)),
            None => x.clone(),
        };
        let y = self
            .relu
            .forward(batch_norm_nhwc(&self.bn1, conv(&self.conv1, x, path)));
        let y = batch_norm_nhwc(&self.bn2, conv(&self.conv2, y, path));
        self.relu.forward(y + shortcut)
    }
}

/// The residual network: `[batch, 1, s, s]` images → `[batch, classes]` logits.
#[derive(Module, Debug)]
pub struct ResNet<B: Backend> {
    stem: Conv2d<B>,
    stem_bn: BatchNorm<B>,
    blocks: Vec<BasicBlock<B>>,
    fc: Linear<B>,
    relu: Relu,
}

impl<B: Backend> ResNet<B> {
    /// A freshly initialised network for one-channel images and `num_classes` classes (any
    /// image side from 4 up: the pooling at the end takes whatever the stages leave).
    pub fn new(num_classes: usize, device: &B::Device) -> Self {
        let [c1, ..] = STAGE_CHANNELS;
        let mut blocks = Vec::new();
        let mut i = c1;
        for (stage, &o) in STAGE_CHANNELS.iter().enumerate() {
            for b in 0..BLOCKS_PER_STAGE {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                blocks.push(BasicBlock::new(i, o, stride, device));
                i = o;
            }
        }
        Self {
            stem: conv3(1, c1, 1, device),
            stem_bn: BatchNormConfig::new(c1).init(device),
            blocks,
            fc: LinearConfig::new(i, num_classes).init(device),
            relu: Relu::new(),
        }
    }

    /// `[batch, 1, s, s]` → the 64 pooled features.
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.features_with(x, ConvPath::of::<B>())
    }

    /// [`ResNet::features`] through the given convolution path (the same function either way).
    pub fn features_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        let x = x.permute([0, 2, 3, 1]);
        let mut x = self
            .relu
            .forward(batch_norm_nhwc(&self.stem_bn, conv(&self.stem, x, path)));
        for block in &self.blocks {
            x = block.forward(x, path);
        }
        global_avg_pool(x)
    }

    /// The classifier: pooled [`ResNet::features`] → logits.
    pub fn head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc.forward(features)
    }

    /// `[batch, 1, s, s]` → `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head(self.features(x))
    }

    /// [`ResNet::forward`] through the given convolution path.
    pub fn forward_with(&self, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 2> {
        self.head(self.features_with(x, path))
    }

    /// This network with `other`'s classifier ([`ResNet::head`]'s linear layer).
    pub(crate) fn with_head_of(self, other: Self) -> Self {
        Self {
            fc: other.fc,
            ..self
        }
    }

    /// This network with every parameter but the classifier's out of training.
    pub(crate) fn freeze_features(self) -> Self {
        let fc = self.fc.clone();
        Self {
            fc,
            ..self.no_grad()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::module::AutodiffModule;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    #[test]
    fn parameters_and_shapes() {
        let d = Default::default();
        let m = ResNet::<NdArray>::new(10, &d);
        // Weights: stem 9·16; stage 1: 4 convs 9·16·16; stage 2: 9·16·32 + 3 × 9·32·32 and the
        // 16·32 projection; stage 3: 9·32·64 + 3 × 9·64·64 and the 32·64 projection; the
        // classifier 64·10 + 10. Burn counts four numbers per batch-norm channel (γ, β and the
        // running mean and variance): 16 (stem) + 4·16 + 4·32 + 32 + 4·64 + 64 channels.
        let convs = 9 * 16
            + 4 * 9 * 16 * 16
            + (9 * 16 * 32 + 3 * 9 * 32 * 32 + 16 * 32)
            + (9 * 32 * 64 + 3 * 9 * 64 * 64 + 32 * 64);
        let bn = 4 * (16 + 4 * 16 + 4 * 32 + 32 + 4 * 64 + 64);
        assert_eq!(m.num_params(), convs + bn + 650);
        assert_eq!(m.num_params(), 176_090);
        let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &d);
        assert_eq!(m.features(x.clone()).dims(), [2, 64]);
        assert_eq!(m.forward(x).dims(), [2, 10]);
        // The stride-2 stages: 28 → 14 → 7.
        let blocks: Vec<bool> = m.blocks.iter().map(|b| b.projection.is_some()).collect();
        assert_eq!(blocks, [false, false, true, false, true, false]);
    }

    #[test]
    fn both_convolution_paths_compute_the_same_function() {
        type A = Autodiff<NdArray>;
        let d = Default::default();
        let m = ResNet::<A>::new(10, &d);
        let x = Tensor::<A, 4>::random([3, 1, 28, 28], Distribution::Default, &d);
        let values = |t: Tensor<NdArray, 2>| t.into_data().to_vec::<f32>().unwrap();
        let worst = |p: &[f32], q: &[f32]| {
            let scale = p.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            p.iter()
                .zip(q)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f32::max)
                / scale
        };
        // Training mode (batch statistics) and, after those passes moved the running
        // statistics, inference.
        let a = values(m.forward_with(x.clone(), ConvPath::Im2col).inner());
        let b = values(m.forward_with(x.clone(), ConvPath::Native).inner());
        assert!(worst(&a, &b) < 1e-4, "training mode");
        let v = m.valid();
        let a = values(v.forward_with(x.clone().inner(), ConvPath::Im2col));
        let b = values(v.forward_with(x.inner(), ConvPath::Native));
        assert!(worst(&a, &b) < 1e-4, "inference");
    }
}
