//! The networks: [`GanConfig`] (the tutorial's MLP pair by default, or the DCGAN pair; optional
//! class conditioning), [`Generator`] (latent → image in `[-1, 1]`) and [`Discriminator`]
//! (image → logit).

use burn::backend::Autodiff;
use burn::config::Config;
use burn::module::AutodiffModule;
use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, LeakyRelu, LeakyReluConfig, Linear, LinearConfig, PaddingConfig2d,
    Relu,
};
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::{AutodiffBackend, Backend};
use zoo_kernels::conv::{batch_norm_nhwc, conv_transpose2d_nhwc, conv2d_nhwc};
#[cfg(feature = "train")]
use zoo_train::adversarial::{ImageCritic, ImageGenerator, PenalizedCritic};

/// Network family.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Arch {
    /// The seed's fully connected networks.
    Mlp,
    /// DCGAN: transposed convolutions up, strided convolutions down, batch norm.
    Conv,
}

/// Architecture of a generator + discriminator pair.
#[derive(Config, Debug, PartialEq)]
pub struct GanConfig {
    /// Network family.
    #[config(default = "Arch::Mlp")]
    pub arch: Arch,
    /// Latent vector length.
    #[config(default = 100)]
    pub latent_dim: usize,
    /// Classes both networks are conditioned on; 0 for an unconditional GAN.
    #[config(default = 0)]
    pub classes: usize,
    /// DCGAN base width (ngf = ndf): G has 2w then w channels, D has w then 2w.
    #[config(default = 64)]
    pub width: usize,
    /// Image height and width (square, one channel).
    #[config(default = 28)]
    pub image_size: usize,
}

impl GanConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        if self.latent_dim == 0 {
            return Err("latent_dim must be at least 1".into());
        }
        if self.arch == Arch::Conv && (self.image_size < 8 || !self.image_size.is_multiple_of(4)) {
            return Err(format!(
                "the DCGAN needs an image size that is a multiple of 4, at least 8 (got {})",
                self.image_size
            ));
        }
        if self.arch == Arch::Conv && self.width == 0 {
            return Err("width must be at least 1".into());
        }
        Ok(())
    }

    /// The DCGAN's weight init: N(0, 0.02) (Radford et al.).
    fn dcgan_init() -> Initializer {
        Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        }
    }

    /// Batch norm with the DCGAN init: scale N(1, 0.02), shift 0.
    fn dcgan_bn<B: Backend>(n: usize, device: &B::Device) -> BatchNorm<B> {
        let mut bn = BatchNormConfig::new(n).init(device);
        bn.gamma = Initializer::Normal {
            mean: 1.0,
            std: 0.02,
        }
        .init([n], device);
        bn
    }

    /// The generator.
    pub fn init_generator<B: Backend>(&self, device: &B::Device) -> Generator<B> {
        let input = self.latent_dim + self.classes;
        let pixels = self.image_size * self.image_size;
        let body = match self.arch {
            // PyTorch's default Linear init (Burn's LinearConfig default).
            Arch::Mlp => GeneratorBody::Mlp(MlpGenerator {
                fc1: LinearConfig::new(input, 256).init(device),
                fc2: LinearConfig::new(256, 512).init(device),
                fc3: LinearConfig::new(512, pixels).init(device),
            }),
            Arch::Conv => {
                let (w, init) = (self.width, Self::dcgan_init());
                let up = |i, o| {
                    ConvTranspose2dConfig::new([i, o], [4, 4])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_bias(false)
                        .with_initializer(init.clone())
                };
                GeneratorBody::Conv(ConvGenerator {
                    // 1×1 → (size/4)×(size/4)
                    project: ConvTranspose2dConfig::new(
                        [input, 2 * w],
                        [self.image_size / 4, self.image_size / 4],
                    )
                    .with_bias(false)
                    .with_initializer(init.clone())
                    .init(device),
                    bn0: Self::dcgan_bn(2 * w, device),
                    up1: up(2 * w, w).init(device),
                    bn1: Self::dcgan_bn(w, device),
                    up2: up(w, 1).init(device),
                })
            }
        };
        Generator {
            body,
            relu: Relu::new(),
            latent_dim: self.latent_dim,
            classes: self.classes,
            image_size: self.image_size,
        }
    }

    /// The discriminator (its output is a logit; a WGAN uses it as the critic's score).
    pub fn init_discriminator<B: Backend>(&self, device: &B::Device) -> Discriminator<B> {
        let pixels = self.image_size * self.image_size;
        let body = match self.arch {
            Arch::Mlp => DiscriminatorBody::Mlp(MlpDiscriminator {
                fc1: LinearConfig::new(pixels + self.classes, 512).init(device),
                fc2: LinearConfig::new(512, 256).init(device),
                fc3: LinearConfig::new(256, 1).init(device),
            }),
            Arch::Conv => {
                let (w, init) = (self.width, Self::dcgan_init());
                let down = |i, o| {
                    Conv2dConfig::new([i, o], [4, 4])
                        .with_stride([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .with_bias(false)
                        .with_initializer(init.clone())
                };
                DiscriminatorBody::Conv(ConvDiscriminator {
                    // Labels enter as `classes` constant planes next to the image.
                    down1: down(1 + self.classes, w).init(device),
                    down2: down(w, 2 * w).init(device),
                    bn2: Self::dcgan_bn(2 * w, device),
                    // (size/4)×(size/4) → 1×1
                    head: Conv2dConfig::new([2 * w, 1], [self.image_size / 4, self.image_size / 4])
                        .with_bias(false)
                        .with_initializer(init)
                        .init(device),
                })
            }
        };
        Discriminator {
            body,
            leaky: LeakyReluConfig::new().with_negative_slope(0.2).init(),
            classes: self.classes,
        }
    }
}

/// The seed generator's layers.
#[derive(Module, Debug)]
pub struct MlpGenerator<B: Backend> {
    fc1: Linear<B>,
    fc2: Linear<B>,
    fc3: Linear<B>,
}

/// The DCGAN generator's layers.
#[derive(Module, Debug)]
pub struct ConvGenerator<B: Backend> {
    project: ConvTranspose2d<B>,
    bn0: BatchNorm<B>,
    up1: ConvTranspose2d<B>,
    bn1: BatchNorm<B>,
    up2: ConvTranspose2d<B>,
}

/// The layers of a [`Generator`], by architecture.
// One body per network, built once: the size difference between the variants costs nothing,
// and boxing would hide the layers from `#[derive(Module)]`.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum GeneratorBody<B: Backend> {
    /// The seed's fully connected generator.
    Mlp(MlpGenerator<B>),
    /// The DCGAN generator.
    Conv(ConvGenerator<B>),
}

/// A generator: latent vector (+ one-hot label) → image in `[-1, 1]`.
#[derive(Module, Debug)]
pub struct Generator<B: Backend> {
    pub(crate) body: GeneratorBody<B>,
    relu: Relu,
    latent_dim: usize,
    classes: usize,
    image_size: usize,
}

impl<B: Backend> Generator<B> {
    /// `[n, latent]` (+ `[n, classes]` one-hot) → `[n, 1, size, size]`.
    pub fn forward(&self, z: Tensor<B, 2>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 4> {
        let n = z.dims()[0];
        let s = self.image_size;
        let x = match labels {
            Some(l) if self.classes > 0 => Tensor::cat(vec![z, l], 1),
            _ => z,
        };
        let c = match &self.body {
            GeneratorBody::Mlp(m) => {
                let x = self.relu.forward(m.fc1.forward(x));
                let x = self.relu.forward(m.fc2.forward(x));
                return m.fc3.forward(x).tanh().reshape([n, 1, s, s]);
            }
            GeneratorBody::Conv(c) => c,
        };
        // Channels-last throughout (see `zoo_cnn::conv`); one output channel makes the last
        // reshape to NCHW free.
        let width = x.dims()[1];
        let x = x.reshape([n, 1, 1, width]);
        let x = conv_transpose2d_nhwc(&c.project, x, 1, 0);
        let x = self.relu.forward(batch_norm_nhwc(&c.bn0, x));
        let x = conv_transpose2d_nhwc(&c.up1, x, 2, 1);
        let x = self.relu.forward(batch_norm_nhwc(&c.bn1, x));
        conv_transpose2d_nhwc(&c.up2, x, 2, 1)
            .tanh()
            .reshape([n, 1, s, s])
    }
}

#[cfg(feature = "train")]
impl<B: Backend> ImageGenerator<B> for Generator<B> {
    fn latent_dim(&self) -> usize {
        self.latent_dim
    }
    fn classes(&self) -> usize {
        self.classes
    }
    fn generate(&self, z: Tensor<B, 2>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 4> {
        self.forward(z, labels)
    }
}

/// The seed discriminator's layers.
#[derive(Module, Debug)]
pub struct MlpDiscriminator<B: Backend> {
    fc1: Linear<B>,
    fc2: Linear<B>,
    fc3: Linear<B>,
}

/// The DCGAN discriminator's layers.
#[derive(Module, Debug)]
pub struct ConvDiscriminator<B: Backend> {
    pub(crate) down1: Conv2d<B>,
    down2: Conv2d<B>,
    bn2: BatchNorm<B>,
    head: Conv2d<B>,
}

/// `x W + b` with a `Linear`'s parameters, as a plain matmul: Burn 0.21's fused `linear` op
/// has no second derivative ("Can't differentiate linear_x_backward"), which the WGAN-GP
/// penalty needs; matmul and add have one. Same values as `Linear::forward`.
fn dense<B: Backend>(l: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let y = x.matmul(l.weight.val());
    match &l.bias {
        Some(b) => y + b.val().unsqueeze(),
        None => y,
    }
}

/// The layers of a [`Discriminator`], by architecture.
#[allow(clippy::large_enum_variant)] // as for `GeneratorBody`
#[derive(Module, Debug)]
pub enum DiscriminatorBody<B: Backend> {
    /// The seed's fully connected discriminator.
    Mlp(MlpDiscriminator<B>),
    /// The DCGAN discriminator.
    Conv(ConvDiscriminator<B>),
}

/// A discriminator (or WGAN critic): image (+ one-hot label) → one logit / score.
#[derive(Module, Debug)]
pub struct Discriminator<B: Backend> {
    pub(crate) body: DiscriminatorBody<B>,
    leaky: LeakyRelu,
    classes: usize,
}

impl<B: Backend> Discriminator<B> {
    /// `[n, 1, size, size]` (+ `[n, classes]` one-hot) → `[n, 1]` logits.
    pub fn forward(&self, x: Tensor<B, 4>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 2> {
        let [n, _, h, w] = x.dims();
        let labels = labels.filter(|_| self.classes > 0);
        let c = match &self.body {
            DiscriminatorBody::Mlp(m) => {
                let x = x.reshape([n, h * w]);
                let x = match labels {
                    Some(l) => Tensor::cat(vec![x, l], 1),
                    None => x,
                };
                let x = self.leaky.forward(dense(&m.fc1, x));
                let x = self.leaky.forward(dense(&m.fc2, x));
                return dense(&m.fc3, x);
            }
            DiscriminatorBody::Conv(c) => c,
        };
        // Channels-last (free for one channel); labels become constant planes after the image.
        let x = x.reshape([n, h, w, 1]);
        let x = match labels {
            Some(l) => {
                let planes = l
                    .reshape([n, 1, 1, self.classes])
                    .expand([n, h, w, self.classes]);
                Tensor::cat(vec![x, planes], 3)
            }
            None => x,
        };
        let x = self.leaky.forward(conv2d_nhwc(&c.down1, x, 2, 1));
        let x = conv2d_nhwc(&c.down2, x, 2, 1);
        let x = self.leaky.forward(batch_norm_nhwc(&c.bn2, x));
        conv2d_nhwc(&c.head, x, 1, 0).reshape([n, 1])
    }

    /// D(x): the probability that `x` is real (the seed's `Sigmoid` output).
    pub fn probability(&self, x: Tensor<B, 4>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 2> {
        sigmoid(self.forward(x, labels))
    }
}

#[cfg(feature = "train")]
impl<B: Backend> ImageCritic<B> for Discriminator<B> {
    fn logits(&self, x: Tensor<B, 4>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 2> {
        self.forward(x, labels)
    }
}

#[cfg(feature = "train")]
impl<B: AutodiffBackend> PenalizedCritic<B> for Discriminator<B> {
    fn gradient_penalty(
        &self,
        real: Tensor<B, 4>,
        fake: Tensor<B, 4>,
        labels: Option<Tensor<B, 2>>,
        eps: Tensor<B, 4>,
    ) -> Result<Tensor<B, 1>, zoo_train::TrainError> {
        let lifted = Discriminator::<Autodiff<B>>::from_inner(self.clone());
        zoo_train::adversarial::gradient_penalty(&lifted, real, fake, labels, eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;
    use zoo_train::adversarial::one_hot;

    type B = NdArray;

    #[test]
    fn seed_networks_have_the_tutorial_shapes_and_sizes() {
        let d = Default::default();
        let cfg = GanConfig::new();
        let g = cfg.init_generator::<B>(&d);
        let disc = cfg.init_discriminator::<B>(&d);
        // (100·256 + 256) + (256·512 + 512) + (512·784 + 784)
        assert_eq!(g.num_params(), 25_856 + 131_584 + 402_192);
        // (784·512 + 512) + (512·256 + 256) + (256 + 1)
        assert_eq!(disc.num_params(), 401_920 + 131_328 + 257);
        let z = Tensor::<B, 2>::random([5, 100], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
        let x = g.forward(z, None);
        assert_eq!(x.dims(), [5, 1, 28, 28]);
        let v = x.clone().into_data().to_vec::<f32>().unwrap();
        assert!(v.iter().all(|p| (-1.0..=1.0).contains(p)));
        assert_eq!(disc.forward(x.clone(), None).dims(), [5, 1]);
        let p = disc
            .probability(x, None)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn dcgan_shapes_and_init() {
        let d = Default::default();
        let cfg = GanConfig::new().with_arch(Arch::Conv);
        let g = cfg.init_generator::<B>(&d);
        let disc = cfg.init_discriminator::<B>(&d);
        let z = Tensor::<B, 2>::random([3, 100], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
        let x = g.forward(z, None);
        assert_eq!(x.dims(), [3, 1, 28, 28]);
        assert_eq!(disc.forward(x, None).dims(), [3, 1]);
        // N(0, 0.02) weights: the projection has 100·128·49 of them.
        let GeneratorBody::Conv(c) = &g.body else {
            panic!("a DCGAN generator")
        };
        let w = c.project.weight.val();
        let v = w.into_data().to_vec::<f32>().unwrap();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let sd =
            (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!(mean.abs() < 1e-3 && (sd - 0.02).abs() < 1e-3, "{mean} {sd}");
    }

    #[test]
    fn dcgan_forward_equals_burns_nchw_modules() {
        // The channels-last GEMM path against Burn's own Conv2d / ConvTranspose2d forward.
        let d = Default::default();
        let cfg = GanConfig::new()
            .with_arch(Arch::Conv)
            .with_width(8)
            .with_classes(10);
        let g = cfg.init_generator::<B>(&d);
        let disc = cfg.init_discriminator::<B>(&d);
        let z = Tensor::<B, 2>::random([3, 100], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
        let l = one_hot::<B>(&[1, 5, 9], 10, &d);
        let GeneratorBody::Conv(c) = &g.body else {
            panic!("a DCGAN generator")
        };
        let x = Tensor::cat(vec![z.clone(), l.clone()], 1).reshape([3, 110, 1, 1]);
        let x = g.relu.forward(c.bn0.forward(c.project.forward(x)));
        let x = g.relu.forward(c.bn1.forward(c.up1.forward(x)));
        let want = c.up2.forward(x).tanh();
        let got = g.forward(z, Some(l.clone()));
        let diff = |a: Tensor<B, 4>, b: Tensor<B, 4>| {
            let (a, b) = (
                a.into_data().to_vec::<f32>().unwrap(),
                b.into_data().to_vec::<f32>().unwrap(),
            );
            a.iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(diff(want.clone(), got.clone()) < 1e-5);
        let DiscriminatorBody::Conv(k) = &disc.body else {
            panic!("a DCGAN discriminator")
        };
        let planes = l.clone().reshape([3, 10, 1, 1]).expand([3, 10, 28, 28]);
        let x = Tensor::cat(vec![got.clone(), planes], 1);
        let x = disc.leaky.forward(k.down1.forward(x));
        let x = disc.leaky.forward(k.bn2.forward(k.down2.forward(x)));
        let want = k.head.forward(x);
        let got = disc.forward(got, Some(l)).reshape([3, 1, 1, 1]);
        assert!(diff(want, got) < 1e-5);
    }

    #[test]
    fn conditional_networks_use_the_label() {
        let d = Default::default();
        for arch in [Arch::Mlp, Arch::Conv] {
            let cfg = GanConfig::new()
                .with_arch(arch)
                .with_classes(10)
                .with_width(8);
            let g = cfg.init_generator::<B>(&d);
            let disc = cfg.init_discriminator::<B>(&d);
            let z =
                Tensor::<B, 2>::random([2, 100], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
            let z = Tensor::cat(vec![z.clone().narrow(0, 0, 1), z.narrow(0, 0, 1)], 0);
            // The same noise with labels 3 and 7 gives two different images.
            let x = g.forward(z, Some(one_hot::<B>(&[3, 7], 10, &d)));
            let v = x.clone().into_data().to_vec::<f32>().unwrap();
            assert!(
                v[..784]
                    .iter()
                    .zip(&v[784..])
                    .any(|(a, b)| (a - b).abs() > 1e-4)
            );
            // The same image judged under two labels gets two different scores.
            let same = Tensor::cat(vec![x.clone().narrow(0, 0, 1), x.narrow(0, 0, 1)], 0);
            let s = disc
                .forward(same, Some(one_hot::<B>(&[3, 7], 10, &d)))
                .into_data()
                .to_vec::<f32>()
                .unwrap();
            assert!((s[0] - s[1]).abs() > 1e-6, "{arch:?} {s:?}");
        }
    }

    #[test]
    fn bad_sizes_are_refused() {
        let e = GanConfig::new()
            .with_arch(Arch::Conv)
            .with_image_size(30)
            .validate()
            .unwrap_err();
        assert!(e.contains("multiple of 4"), "{e}");
        assert!(GanConfig::new().with_image_size(30).validate().is_ok());
    }
}
