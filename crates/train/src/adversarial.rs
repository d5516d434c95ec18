//! The adversarial training loop: a generator and a discriminator (or WGAN critic) trained
//! with two optimisers in alternating steps, with the same progress display, checkpoints
//! (both networks and both optimisers, every epoch), exact `--resume` and `report.json` as the
//! supervised loop in [`crate::train`].
//!
//! Discriminators return logits; the sigmoid of a BCE discriminator is folded into the loss as
//! `log σ(x)` (the same function as `Sigmoid` + `BCELoss`, computed without overflow).

use std::path::Path;

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::artifacts::{ArtifactDir, write_json};
use crate::checkpoint::{
    ModelId, module_from_bytes, module_to_bytes, pack_records, save_model, unpack_records,
};
use crate::config::{OptimizerKind, TrainConfig};
use crate::driver::{
    Batching, DriveSpec, EpochJob, LoopSettings, LoopState, NoExtra, Partial, StepOutcome, drive,
};
use crate::optim::ZooOptimizer;
use crate::plot::{Tile, image_grid};
use crate::progress::ProgressMode;
use crate::report::{Environment, RunInfo, RunStatus};
use crate::train::{derive_seed, to_vec_f32};
use crate::train_error::TrainError;
use zoo_data::data::Dataset;
use zoo_data::images::ImageDataset;

/// A network that turns latent vectors (and, when conditional, one-hot labels) into images in
/// `[-1, 1]`.
pub trait ImageGenerator<B: Backend>: Module<B> {
    /// Length of the latent vector.
    fn latent_dim(&self) -> usize;
    /// Classes the generator is conditioned on (0: unconditional).
    fn classes(&self) -> usize;
    /// `[n, latent]` noise and `[n, classes]` one-hot labels (conditional only) → `[n, 1, h, w]`.
    fn generate(&self, z: Tensor<B, 2>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 4>;
}

/// A discriminator or WGAN critic: `[n, 1, h, w]` images (and one-hot labels when
/// conditional) → `[n, 1]` logits (BCE) or scores (Wasserstein).
pub trait ImageCritic<B: Backend>: Module<B> {
    /// The raw output, before any sigmoid.
    fn logits(&self, x: Tensor<B, 4>, labels: Option<Tensor<B, 2>>) -> Tensor<B, 2>;
}

/// A critic that can compute the WGAN-GP gradient penalty. The penalty is a function of the
/// critic's input gradient, so training on it takes the gradient of a gradient: Burn 0.21 has
/// no `create_graph`, but a nested `Autodiff<Autodiff<B>>` backend does it — the outer
/// backward pass runs on `Autodiff<B>` and is itself recorded (see [`gradient_penalty`]).
pub trait PenalizedCritic<B: AutodiffBackend>: ImageCritic<B> {
    /// `E[(‖∇ₓ̂ C(x̂)‖₂ − 1)²]` at `x̂ = ε·real + (1 − ε)·fake` (`eps`: `[n, 1, 1, 1]`),
    /// differentiable with respect to the critic's parameters.
    fn gradient_penalty(
        &self,
        real: Tensor<B, 4>,
        fake: Tensor<B, 4>,
        labels: Option<Tensor<B, 2>>,
        eps: Tensor<B, 4>,
    ) -> Result<Tensor<B, 1>, TrainError>;
}

/// The WGAN-GP penalty for a critic `lifted` onto `Autodiff<B>` (build it with
/// `AutodiffModule::from_inner(critic.clone())`: its parameters stay the tracked leaves of `B`).
/// The input gradient comes back as a `B` tensor that still depends on those leaves, so the
/// penalty trains the critic through an ordinary `B` backward pass.
pub fn gradient_penalty<B, C>(
    lifted: &C,
    real: Tensor<B, 4>,
    fake: Tensor<B, 4>,
    labels: Option<Tensor<B, 2>>,
    eps: Tensor<B, 4>,
) -> Result<Tensor<B, 1>, TrainError>
where
    B: AutodiffBackend,
    C: ImageCritic<Autodiff<B>>,
{
    let mix = (eps.clone() * real.detach() + (eps.neg() + 1.0) * fake.detach()).detach();
    let n = mix.dims()[0];
    let x = Tensor::<Autodiff<B>, 4>::from_inner(mix).require_grad();
    let labels = labels.map(|l| Tensor::<Autodiff<B>, 2>::from_inner(l.detach()));
    let score = lifted.logits(x.clone(), labels).sum();
    let grad = x
        .grad(&score.backward())
        .ok_or_else(|| TrainError::Backend("no input gradient for the gradient penalty".into()))?;
    let norm = (grad.powi_scalar(2).reshape([n as i32, -1]).sum_dim(1) + 1e-12).sqrt();
    Ok((norm - 1.0).powi_scalar(2).mean())
}

/// The generator's loss in a BCE GAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum GeneratorLoss {
    /// Maximise `log D(G(z))`: strong gradients early on (Goodfellow et al.'s recommended form).
    NonSaturating,
    /// Minimise `log(1 - D(G(z)))`: the minimax form, whose gradient vanishes while D wins.
    Saturating,
}

/// What the two networks optimise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum GanObjective {
    /// Binary cross-entropy on the discriminator's probability.
    Bce {
        /// Generator loss form.
        generator: GeneratorLoss,
        /// Target for real images: 1, or e.g. 0.9 (one-sided label smoothing).
        real_label: f64,
    },
    /// Wasserstein: the critic maximises `E[C(x)] - E[C(G(z))]`, with every critic weight
    /// clipped to `[-clip, clip]` after each critic step (the Lipschitz constraint).
    Wasserstein {
        /// Weight-clipping bound.
        clip: f64,
    },
    /// Wasserstein with a gradient penalty instead of clipping (WGAN-GP, Gulrajani et al.): the
    /// critic's loss adds `lambda · E[(‖∇ₓ̂ C(x̂)‖₂ − 1)²]` on random interpolates of real and
    /// generated images.
    WassersteinGp {
        /// Penalty weight (10 in the paper).
        lambda: f64,
    },
}

impl GanObjective {
    /// The seed GAN's: BCE, non-saturating generator loss, real label 1.
    pub fn bce() -> Self {
        Self::Bce {
            generator: GeneratorLoss::NonSaturating,
            real_label: 1.0,
        }
    }

    /// The discriminator's (critic's) loss from logits of real and generated images.
    ///
    /// BCE: `BCE(σ(real), real_label) + BCE(σ(fake), 0)` (the sum, as PyTorch's DCGAN example
    /// reports `errD`). Wasserstein: `mean C(fake) - mean C(real)`.
    pub fn discriminator_loss<B: Backend>(
        &self,
        real: Tensor<B, 2>,
        fake: Tensor<B, 2>,
    ) -> Tensor<B, 1> {
        match *self {
            Self::Bce { real_label, .. } => {
                bce_with_logits(real, real_label) + bce_with_logits(fake, 0.0)
            }
            Self::Wasserstein { .. } | Self::WassersteinGp { .. } => fake.mean() - real.mean(),
        }
    }

    /// The generator's loss from the discriminator's logits of generated images.
    pub fn generator_loss<B: Backend>(&self, fake: Tensor<B, 2>) -> Tensor<B, 1> {
        match *self {
            Self::Bce {
                generator: GeneratorLoss::NonSaturating,
                ..
            } => bce_with_logits(fake, 1.0),
            // log(1 - σ(x)) = log σ(-x)
            Self::Bce {
                generator: GeneratorLoss::Saturating,
                ..
            } => log_sigmoid(fake.neg()).mean(),
            Self::Wasserstein { .. } | Self::WassersteinGp { .. } => fake.mean().neg(),
        }
    }

    /// The mean discriminator output reported as D(x) / D(G(z)): the probability for BCE, the
    /// raw score for a critic.
    fn output_mean<B: Backend>(&self, logits: Tensor<B, 2>) -> Tensor<B, 1> {
        match self {
            Self::Bce { .. } => sigmoid(logits).mean(),
            Self::Wasserstein { .. } | Self::WassersteinGp { .. } => logits.mean(),
        }
    }
}

/// Mean binary cross-entropy of `σ(logits)` against a constant `target`:
/// `-(t log σ(x) + (1 - t) log(1 - σ(x)))`, with `log(1 - σ(x)) = log σ(-x)`.
pub fn bce_with_logits<B: Backend>(logits: Tensor<B, 2>, target: f64) -> Tensor<B, 1> {
    let pos = log_sigmoid(logits.clone()).mul_scalar(target);
    let neg = if target < 1.0 {
        log_sigmoid(logits.neg()).mul_scalar(1.0 - target)
    } else {
        pos.zeros_like()
    };
    (pos + neg).mean().neg()
}

/// One optimiser's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimSettings {
    /// Optimiser.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
    /// Adam first-moment decay (DCGAN uses 0.5).
    pub beta1: f64,
    /// Adam second-moment decay (WGAN-GP uses 0.9).
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// SGD / RMSprop momentum.
    pub momentum: f64,
}

impl OptimSettings {
    /// Adam with learning rate `lr` and first-moment decay `beta1`.
    pub fn adam(lr: f64, beta1: f64) -> Self {
        Self {
            optimizer: OptimizerKind::Adam,
            lr,
            beta1,
            beta2: 0.999,
            momentum: 0.0,
        }
    }

    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            optimizer: self.optimizer,
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            momentum: self.momentum,
            ..Default::default()
        }
    }

    fn validate(&self, setting: &str) -> Result<(), String> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!(
                "{setting} must be a positive finite number (got {})",
                self.lr
            ));
        }
        self.train_config().validate()
    }
}

fn default_beta2() -> f64 {
    0.999
}

/// Hyper-parameters of an adversarial run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanTrainConfig {
    /// Passes over the real images.
    pub epochs: usize,
    /// Real (and generated) images per step.
    pub batch_size: usize,
    /// Seed of initialisation, shuffling, noise and the fixed grid noise.
    pub seed: u64,
    /// Generator optimiser.
    pub generator: OptimSettings,
    /// Discriminator / critic optimiser.
    pub discriminator: OptimSettings,
    /// Losses.
    pub objective: GanObjective,
    /// Discriminator steps per generator step (WGAN: 5).
    pub n_critic: usize,
    /// How many epoch checkpoints to keep (the newest); `0` keeps all.
    pub keep_checkpoints: usize,
    /// Skip a step whose discriminator or generator loss is NaN or infinite (no update of
    /// that network; counted in `report.json`) instead of stopping the run.
    #[serde(default)]
    pub skip_nonfinite: bool,
}

impl Default for GanTrainConfig {
    /// The seed GAN's training: BCE with the non-saturating generator loss, Adam 2e-4 with
    /// β1 0.5 for both networks, batch 64, one discriminator step per generator step, 150
    /// epochs, seed 42.
    fn default() -> Self {
        Self {
            epochs: 150,
            batch_size: 64,
            seed: 42,
            generator: OptimSettings::adam(2e-4, 0.5),
            discriminator: OptimSettings::adam(2e-4, 0.5),
            objective: GanObjective::bce(),
            n_critic: 1,
            keep_checkpoints: 2,
            skip_nonfinite: false,
        }
    }
}

impl GanTrainConfig {
    /// Checks every value, naming the offending flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be at least 1".into());
        }
        if self.batch_size < 2 {
            return Err("batch_size must be at least 2".into());
        }
        if self.n_critic == 0 {
            return Err("n_critic must be at least 1".into());
        }
        self.generator.validate("lr_g")?;
        self.discriminator.validate("lr_d")?;
        match self.objective {
            GanObjective::Bce { real_label, .. } if !(0.5..=1.0).contains(&real_label) => {
                Err(format!("real_label must be in [0.5, 1] (got {real_label})"))
            }
            GanObjective::Wasserstein { clip } if !(clip.is_finite() && clip > 0.0) => Err(
                format!("clip must be a positive finite number (got {clip})"),
            ),
            GanObjective::WassersteinGp { lambda } if !(lambda.is_finite() && lambda > 0.0) => Err(
                format!("gp_lambda must be a positive finite number (got {lambda})"),
            ),
            _ => Ok(()),
        }
    }
}

/// One epoch of adversarial training: means over its steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanEpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean discriminator (critic) loss.
    pub d_loss: f64,
    /// Mean generator loss.
    pub g_loss: f64,
    /// Mean D(x) on real images (probability; raw score for a critic).
    pub d_real: f64,
    /// Mean D(G(z)) on generated images at the discriminator steps.
    pub d_fake: f64,
    /// Discriminator steps.
    pub d_steps: usize,
    /// Generator steps.
    pub g_steps: usize,
    /// Seconds of training in the epoch.
    pub train_seconds: f64,
    /// Real images per second.
    pub samples_per_sec: f64,
}

/// `report.json` of a GAN run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanReport {
    /// Model, backend, device, dataset.
    #[serde(flatten)]
    pub info: RunInfo,
    /// Seed.
    pub seed: u64,
    /// How the run ended.
    pub status: RunStatus,
    /// Epochs asked for.
    pub epochs: usize,
    /// Epochs completed.
    pub epochs_completed: usize,
    /// Generator parameters.
    pub generator_params: usize,
    /// Discriminator parameters.
    pub discriminator_params: usize,
    /// Real training images.
    pub train_samples: usize,
    /// Per-epoch losses and discriminator outputs.
    pub history: Vec<GanEpochRecord>,
    /// Network updates skipped because their loss was NaN or infinite (`--skip-nonfinite`).
    #[serde(default)]
    pub skipped_nonfinite: usize,
    /// Sample quality measured after training (filled by the caller, e.g. zoo-gan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<serde_json::Value>,
    /// Mean training throughput, real images per second.
    pub train_samples_per_sec: f64,
    /// Wall time of the whole run (all sessions, when resumed).
    pub wall_time_secs: f64,
    /// Model and training configuration.
    pub config: serde_json::Value,
    /// Training settings resumed sessions changed (see [`crate::report::Report`]'s field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_with_changes: Vec<crate::resume::SettingChange>,
    /// Machine and versions.
    pub environment: Environment,
    /// Paths of plots and grids.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The most `grid_epoch_NNN.png` files a run writes: runs of more epochs write a grid every
/// `ceil(epochs / 1000)` epochs (and after the first).
pub const MAX_EPOCH_GRIDS: usize = 1000;

/// Everything about an adversarial run apart from the networks and the data.
pub struct GanSpec<'a> {
    /// Hyper-parameters.
    pub cfg: &'a GanTrainConfig,
    /// Identity of the generator + discriminator pair, checked on resume.
    pub model_id: ModelId,
    /// Model, backend, device, dataset.
    pub info: RunInfo,
    /// Full configuration, stored in the report.
    pub config: serde_json::Value,
    /// Where checkpoints, grids, the models and the report go; `None` writes nothing.
    pub artifacts: Option<&'a ArtifactDir>,
    /// Continue from the newest checkpoint in `artifacts`.
    pub resume: bool,
    /// Progress display.
    pub progress: ProgressMode,
    /// What a resume changes from the saved run (`JobContext::write_config` returns them).
    pub resumed_with_changes: Vec<crate::resume::SettingChange>,
}

/// A finished adversarial run.
pub struct GanTrained<G, D> {
    /// The generator.
    pub generator: G,
    /// The discriminator / critic.
    pub discriminator: D,
    /// The report (quality not yet filled in).
    pub report: GanReport,
}

/// The running sums of an adversarial epoch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct GanSums {
    /// Running sums of D loss, D(x), D(G(z)) and G loss.
    sums: [f64; 4],
    d_steps: usize,
    g_steps: usize,
    /// Position of the epoch's noise and label stream (ChaCha words).
    rng_word_pos: u64,
}

type GanState = LoopState<GanSums, GanEpochRecord, NoExtra>;

/// Clamps every trainable parameter of `module` to `[-clip, clip]` (batch-norm running
/// statistics are state, not parameters, and are left alone).
pub fn clip_weights<B: AutodiffBackend, M: AutodiffModule<B>>(module: M, clip: f64) -> M {
    struct Clip(f64);
    impl<B: AutodiffBackend> ModuleMapper<B> for Clip {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, tensor, mapper) = param.consume();
            let tensor = if tensor.is_require_grad() {
                // A fresh leaf: the clamp must not become part of the next step's graph.
                Tensor::from_inner(tensor.inner().clamp(-self.0, self.0)).require_grad()
            } else {
                tensor
            };
            Param::from_mapped_value(id, tensor, mapper)
        }
    }
    module.map(&mut Clip(clip))
}

/// `n` standard-normal latent vectors of length `dim` from `rng`, on `device`.
pub fn latent_noise<B: Backend>(
    rng: &mut ChaCha8Rng,
    n: usize,
    dim: usize,
    device: &B::Device,
) -> Tensor<B, 2> {
    let v: Vec<f32> = (0..n * dim).map(|_| rng.sample(StandardNormal)).collect();
    Tensor::from_data(TensorData::new(v, [n, dim]), device)
}

/// One-hot `[n, classes]` float labels.
pub fn one_hot<B: Backend>(labels: &[usize], classes: usize, device: &B::Device) -> Tensor<B, 2> {
    let mut v = vec![0f32; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        v[i * classes + l.min(classes - 1)] = 1.0;
    }
    Tensor::from_data(TensorData::new(v, [labels.len(), classes]), device)
}

/// The run's fixed grid inputs: 64 latent vectors and, for a conditional generator, the
/// labels `k % classes` — the same every epoch (and on every backend) so grids compare.
pub fn fixed_grid_inputs(seed: u64, latent: usize, classes: usize) -> (Vec<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, 0xF1_7ED));
    let z = (0..64 * latent)
        .map(|_| rng.sample(StandardNormal))
        .collect();
    let labels = (0..64)
        .map(|k| if classes > 0 { k % classes } else { 0 })
        .collect();
    (z, labels)
}

/// Generates images from `z` (`[n * latent]`) and `labels` with `generator` and returns them
/// as 8-bit grayscale pixels, `[-1, 1]` mapped to `0..=255`.
pub fn generate_pixels<B: Backend, G: ImageGenerator<B>>(
    generator: &G,
    z: &[f32],
    labels: &[usize],
    device: &B::Device,
) -> Result<(Vec<u8>, [usize; 4]), TrainError> {
    let latent = generator.latent_dim();
    let n = z.len() / latent;
    let zt = Tensor::<B, 2>::from_data(TensorData::new(z.to_vec(), [n, latent]), device);
    let cond = (generator.classes() > 0).then(|| one_hot::<B>(labels, generator.classes(), device));
    let images = generator.generate(zt, cond);
    let dims = images.dims();
    let px = to_vec_f32(images)?
        .into_iter()
        .map(|v| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
        .collect();
    Ok((px, dims))
}

/// Draws `pixels` (`[n, 1, h, w]`) as a grid of 8 columns, captioned with the labels for a
/// conditional generator.
pub fn write_grid(
    path: &std::path::Path,
    title: &str,
    pixels: &[u8],
    dims: [usize; 4],
    labels: Option<&[usize]>,
) -> Result<(), TrainError> {
    let [n, _, h, w] = dims;
    let tiles: Vec<Tile<'_>> = (0..n)
        .map(|i| Tile {
            pixels: &pixels[i * h * w..(i + 1) * h * w],
            caption: labels.map_or(String::new(), |l| l[i].to_string()),
        })
        .collect();
    image_grid(path, title, &tiles, (h, w), 8, 3)
}

/// The adversarial [`EpochJob`]: two networks, two optimisers, the epoch's noise stream.
struct Adversarial<'a, B: AutodiffBackend, G: AutodiffModule<B>, D: AutodiffModule<B>> {
    /// Both always `Some` between steps (taken only to hand them to their optimisers).
    g: Option<G>,
    d: Option<D>,
    opt_g: ZooOptimizer<G, B>,
    opt_d: ZooOptimizer<D, B>,
    data: &'a ImageDataset,
    spec: &'a GanSpec<'a>,
    /// The epoch's noise and label stream.
    rng: ChaCha8Rng,
    latent: usize,
    classes: usize,
    grid_z: Vec<f32>,
    grid_labels: Vec<usize>,
    params: (usize, usize),
    device: B::Device,
}

const IN_PLACE: &str = "the networks are in place between steps";

impl<B, G, D> Adversarial<'_, B, G, D>
where
    B: AutodiffBackend,
    G: AutodiffModule<B> + ImageGenerator<B>,
    G::InnerModule: ImageGenerator<B::InnerBackend>,
    D: AutodiffModule<B>,
{
    fn g(&self) -> &G {
        self.g.as_ref().expect(IN_PLACE)
    }

    fn d(&self) -> &D {
        self.d.as_ref().expect(IN_PLACE)
    }

    /// Draws the fixed-noise grid into `path`.
    fn grid(&self, path: &std::path::Path, title: &str) -> Result<(), TrainError> {
        let (px, dims) = generate_pixels(
            &self.g().valid(),
            &self.grid_z,
            &self.grid_labels,
            &self.device,
        )?;
        write_grid(
            path,
            title,
            &px,
            dims,
            (self.classes > 0).then_some(&self.grid_labels[..]),
        )
    }

    fn one_hot(&self, labels: &[usize]) -> Option<Tensor<B, 2>> {
        (self.classes > 0).then(|| one_hot::<B>(labels, self.classes, &self.device))
    }

    fn random_labels(&mut self, n: usize) -> Vec<usize> {
        let classes = self.classes.max(1);
        (0..n).map(|_| self.rng.random_range(0..classes)).collect()
    }
}

impl<B, G, D> EpochJob<B> for Adversarial<'_, B, G, D>
where
    B: AutodiffBackend,
    G: AutodiffModule<B> + ImageGenerator<B>,
    G::InnerModule: ImageGenerator<B::InnerBackend>,
    D: AutodiffModule<B> + PenalizedCritic<B>,
{
    type Sums = GanSums;
    type Record = GanEpochRecord;
    type Extra = NoExtra;
    type Report = GanReport;

    fn settings(&self) -> LoopSettings {
        let cfg = self.spec.cfg;
        LoopSettings {
            epochs: cfg.epochs,
            seed: cfg.seed,
            keep_checkpoints: cfg.keep_checkpoints,
            batching: Batching {
                samples: self.data.len(),
                batch_size: cfg.batch_size,
                drop_last: true,
            },
        }
    }

    fn restore(
        &mut self,
        (models, optims): (Vec<u8>, Vec<u8>),
        _: &GanState,
        path: &Path,
    ) -> Result<(), TrainError> {
        let names = ["generator", "discriminator"];
        let mut models = unpack_records(&models, &names, path)?.into_iter();
        let mut optims = unpack_records(&optims, &names, path)?.into_iter();
        let next = |it: &mut std::vec::IntoIter<Vec<u8>>| it.next().unwrap_or_default();
        let (g, d) = (
            self.g.take().expect(IN_PLACE),
            self.d.take().expect(IN_PLACE),
        );
        self.g = Some(module_from_bytes::<B, G>(
            g,
            next(&mut models),
            &self.device,
            path,
        )?);
        self.d = Some(module_from_bytes::<B, D>(
            d,
            next(&mut models),
            &self.device,
            path,
        )?);
        let cfg = self.spec.cfg;
        self.opt_g = ZooOptimizer::from_checkpoint(
            &cfg.generator.train_config(),
            next(&mut optims),
            &self.device,
            path,
        )?;
        self.opt_d = ZooOptimizer::from_checkpoint(
            &cfg.discriminator.train_config(),
            next(&mut optims),
            &self.device,
            path,
        )?;
        Ok(())
    }

    fn records(&self) -> Result<(Vec<u8>, Vec<u8>), TrainError> {
        Ok((
            pack_records(&[
                &module_to_bytes::<B, G>(self.g().clone())?,
                &module_to_bytes::<B, D>(self.d().clone())?,
            ]),
            pack_records(&[
                &self.opt_g.to_bytes().map_err(TrainError::Backend)?,
                &self.opt_d.to_bytes().map_err(TrainError::Backend)?,
            ]),
        ))
    }

    fn begin_epoch(&mut self, epoch: usize, partial: &Partial<GanSums>) {
        self.rng =
            ChaCha8Rng::seed_from_u64(derive_seed(self.spec.cfg.seed, 2 << 32 | epoch as u64));
        self.rng.set_word_pos(partial.sums.rng_word_pos as u128);
    }

    /// One discriminator step on the real images `idx`, and every `n_critic`-th step one
    /// generator step.
    fn step(
        &mut self,
        _epoch: usize,
        step: usize,
        idx: &[usize],
        part: &mut GanSums,
        skipped: &mut usize,
    ) -> Result<StepOutcome, TrainError> {
        let cfg = self.spec.cfg;
        let device = self.device.clone();
        let b = idx.len();
        // Discriminator / critic step.
        let real = self.data.inputs::<B>(idx, &device);
        let real_labels: Vec<usize> = idx.iter().map(|&i| self.data.label(i)).collect();
        let cond_real = self.one_hot(&real_labels);
        let fake_labels = self.random_labels(b);
        let cond_fake = self.one_hot(&fake_labels);
        let z = latent_noise::<B>(&mut self.rng, b, self.latent, &device);
        let fake = self.g().generate(z, cond_fake.clone()).detach();
        let real_out = self.d().logits(real.clone(), cond_real.clone());
        let fake_out = self.d().logits(fake.clone(), cond_fake);
        let mut d_loss = cfg
            .objective
            .discriminator_loss(real_out.clone(), fake_out.clone());
        if let GanObjective::WassersteinGp { lambda } = cfg.objective {
            // Interpolates keep the real images' labels.
            let eps: Vec<f32> = (0..b).map(|_| self.rng.random::<f32>()).collect();
            let eps = Tensor::<B, 4>::from_data(TensorData::new(eps, [b, 1, 1, 1]), &device);
            d_loss = d_loss
                + self
                    .d()
                    .gradient_penalty(real, fake, cond_real, eps)?
                    .mul_scalar(lambda);
        }
        let stats = to_vec_f32(Tensor::cat(
            vec![
                d_loss.clone().detach().inner(),
                cfg.objective.output_mean(real_out.detach()).inner(),
                cfg.objective.output_mean(fake_out.detach()).inner(),
            ],
            0,
        ))?;
        if stats[0].is_finite() {
            for (sum, stat) in part.sums.iter_mut().zip(&stats) {
                *sum += *stat as f64;
            }
            let grads = GradientsParams::from_grads(d_loss.backward(), self.d());
            let mut d =
                self.opt_d
                    .step(cfg.discriminator.lr, self.d.take().expect(IN_PLACE), grads);
            if let GanObjective::Wasserstein { clip } = cfg.objective {
                d = clip_weights(d, clip);
            }
            self.d = Some(d);
            part.d_steps += 1;
        } else if cfg.skip_nonfinite {
            *skipped += 1;
        } else {
            return Ok(StepOutcome::Diverged(stats[0] as f64));
        }

        // Generator step.
        let mut shown = stats[0] as f64;
        if (step + 1).is_multiple_of(cfg.n_critic) {
            let labels = self.random_labels(b);
            let cond = self.one_hot(&labels);
            let z = latent_noise::<B>(&mut self.rng, b, self.latent, &device);
            // The generator's loss needs the gradient at the discriminator's input, not at
            // its weights (which this step does not update): a copy with untracked weights
            // skips their products, about a tenth of the seed GAN's step. The generator's
            // gradients are the same bits either way.
            let critic = self.d().clone().no_grad();
            let g_loss = cfg
                .objective
                .generator_loss(critic.logits(self.g().generate(z, cond.clone()), cond));
            let value = to_vec_f32(g_loss.clone().detach().inner())?[0];
            if value.is_finite() {
                part.sums[3] += value as f64;
                shown = value as f64;
                let grads = GradientsParams::from_grads(g_loss.backward(), self.g());
                let g = self.g.take().expect(IN_PLACE);
                self.g = Some(self.opt_g.step(cfg.generator.lr, g, grads));
                part.g_steps += 1;
            } else if cfg.skip_nonfinite {
                *skipped += 1;
            } else {
                return Ok(StepOutcome::Diverged(value as f64));
            }
        }
        Ok(StepOutcome::Done(shown))
    }

    fn updates(&self, sums: &GanSums) -> usize {
        sums.d_steps
    }

    fn pause(&mut self, sums: &mut GanSums) {
        sums.rng_word_pos = u64::try_from(self.rng.get_word_pos()).unwrap_or(u64::MAX);
    }

    fn end_epoch(
        &mut self,
        epoch: usize,
        partial: Partial<GanSums>,
        _: &mut NoExtra,
    ) -> Result<(GanEpochRecord, Option<String>), TrainError> {
        let Partial {
            train_seconds,
            sums:
                GanSums {
                    sums,
                    d_steps,
                    g_steps,
                    ..
                },
            ..
        } = partial;
        let record = GanEpochRecord {
            epoch,
            d_loss: sums[0] / d_steps.max(1) as f64,
            g_loss: sums[3] / g_steps.max(1) as f64,
            d_real: sums[1] / d_steps.max(1) as f64,
            d_fake: sums[2] / d_steps.max(1) as f64,
            d_steps,
            g_steps,
            train_seconds,
            samples_per_sec: (d_steps * self.spec.cfg.batch_size) as f64 / train_seconds.max(1e-9),
        };
        Ok((record, None))
    }

    fn epoch_line(&self, r: &GanEpochRecord, epochs: usize) -> String {
        epoch_line(r, epochs)
    }

    fn epoch_files(&self, dir: &ArtifactDir, epoch: usize) -> Result<(), TrainError> {
        // At most MAX_EPOCH_GRIDS files however long the run: every k-th epoch past that many.
        let every = self.spec.cfg.epochs.div_ceil(MAX_EPOCH_GRIDS).max(1);
        if !epoch.is_multiple_of(every) && epoch != 1 {
            return Ok(());
        }
        self.grid(
            &dir.path(&format!("grid_epoch_{epoch:03}.png")),
            &format!("epoch {epoch} (fixed noise)"),
        )
    }

    fn report(&self, state: &GanState, status: RunStatus) -> GanReport {
        let (cfg, spec) = (self.spec.cfg, self.spec);
        GanReport {
            info: spec.info.clone(),
            seed: cfg.seed,
            status,
            epochs: cfg.epochs,
            epochs_completed: state.epoch,
            generator_params: self.params.0,
            discriminator_params: self.params.1,
            train_samples: self.data.len(),
            history: state.history.clone(),
            skipped_nonfinite: state.skipped_nonfinite,
            quality: None,
            train_samples_per_sec: state.samples_per_sec(|e| (e.samples_per_sec, e.train_seconds)),
            wall_time_secs: state.wall_time_secs,
            config: spec.config.clone(),
            resumed_with_changes: state.resumed_with_changes.clone(),
            environment: Environment::current(),
            extra: Default::default(),
        }
    }
}

/// Trains `generator` against `discriminator` on the real images of `data` (normalised to
/// `[-1, 1]`; its labels condition a conditional pair). Each step takes a batch of real images
/// for one discriminator step; every `n_critic`-th step is followed by one generator step.
/// Only full batches are used (a short last batch would skew batch norm). With
/// `spec.artifacts` it writes, every epoch, a checkpoint, `grid_epoch_NNN.png` from the run's
/// fixed noise and `report.json`; at the end `generator.mpk`, `discriminator.mpk` and
/// `grid_final.png`.
pub fn fit_gan<B, G, D>(
    generator: G,
    discriminator: D,
    data: &ImageDataset,
    spec: GanSpec<'_>,
    device: &B::Device,
) -> Result<GanTrained<G, D>, TrainError>
where
    B: AutodiffBackend,
    G: AutodiffModule<B> + ImageGenerator<B>,
    G::InnerModule: ImageGenerator<B::InnerBackend>,
    D: AutodiffModule<B> + PenalizedCritic<B>,
{
    let cfg = spec.cfg;
    cfg.validate().map_err(TrainError::Invalid)?;
    let n = data.len();
    if n < cfg.batch_size {
        return Err(TrainError::Invalid(format!(
            "the training set has {n} images, fewer than one batch of {}",
            cfg.batch_size
        )));
    }
    let (latent, classes) = (generator.latent_dim(), generator.classes());
    let (grid_z, grid_labels) = fixed_grid_inputs(cfg.seed, latent, classes);
    let mut job = Adversarial {
        params: (generator.num_params(), discriminator.num_params()),
        g: Some(generator),
        d: Some(discriminator),
        opt_g: ZooOptimizer::<G, B>::new(&cfg.generator.train_config()),
        opt_d: ZooOptimizer::<D, B>::new(&cfg.discriminator.train_config()),
        data,
        spec: &spec,
        rng: ChaCha8Rng::seed_from_u64(0),
        latent,
        classes,
        grid_z,
        grid_labels,
        device: device.clone(),
    };
    let drive_spec = DriveSpec {
        model_id: &spec.model_id,
        artifacts: spec.artifacts,
        resume: spec.resume,
        progress: spec.progress,
        changes: &spec.resumed_with_changes,
    };
    let mut driven = drive::<B, _>(&mut job, &drive_spec, device)?;
    driven.stamp_wall_time();
    let report = job.report(&driven.state, RunStatus::Finished);
    if let Some(dir) = spec.artifacts {
        job.grid(
            &dir.path("grid_final.png"),
            &format!("after {} epochs (fixed noise)", driven.state.epoch),
        )?;
        save_model::<B, G>(job.g().clone(), &dir.path("generator.mpk"), &spec.model_id)?;
        save_model::<B, D>(
            job.d().clone(),
            &dir.path("discriminator.mpk"),
            &spec.model_id,
        )?;
        write_json(&dir.report(), &report)?;
    }
    Ok(GanTrained {
        generator: job.g.take().expect(IN_PLACE),
        discriminator: job.d.take().expect(IN_PLACE),
        report,
    })
}

fn epoch_line(r: &GanEpochRecord, epochs: usize) -> String {
    format!(
        "epoch {:>4}/{epochs}  D loss {:.4}  G loss {:.4}  D(x) {:.3}  D(G(z)) {:.3}  | {:.0} images/s",
        r.epoch, r.d_loss, r.g_loss, r.d_real, r.d_fake, r.samples_per_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    type B = NdArray;

    /// A mid-epoch checkpoint's loop state as the GAN loop wrote it before the shared driver
    /// (format version 1) still reads and writes back unchanged.
    #[test]
    fn loop_state_keeps_its_checkpoint_layout() {
        let old = serde_json::json!({
            "epoch": 2, "history": [], "wall_time_secs": 3.0,
            "partial": {"steps": 5, "sums": [1.0, 2.0, 3.0, 4.0], "d_steps": 5, "g_steps": 4,
                        "train_seconds": 0.5, "rng_word_pos": 1234},
            "skipped_nonfinite": 0
        });
        let state: GanState = serde_json::from_value(old.clone()).unwrap();
        let partial = state.partial.clone().unwrap();
        assert_eq!((partial.steps, partial.sums.g_steps), (5, 4));
        assert_eq!(partial.sums.rng_word_pos, 1234);
        assert_eq!(partial.sums.sums, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(serde_json::to_value(&state).unwrap(), old);
    }

    fn scalar(t: Tensor<B, 1>) -> f64 {
        t.into_scalar() as f64
    }

    fn logits(v: &[f32]) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(v.to_vec(), [v.len(), 1]),
            &Default::default(),
        )
    }

    #[test]
    fn losses_match_hand_computed_values() {
        // σ(0) = 0.5, σ(ln 3) = 0.75, σ(-ln 3) = 0.25.
        let l3 = 3f32.ln();
        let real = logits(&[0.0, l3]);
        let fake = logits(&[-l3, 0.0]);
        let bce = GanObjective::bce();
        // Real: -(ln 0.5 + ln 0.75)/2; fake (target 0): -(ln 0.75 + ln 0.5)/2.
        let want = -(0.5f64.ln() + 0.75f64.ln()) / 2.0 * 2.0;
        let got = scalar(bce.discriminator_loss(real.clone(), fake.clone()));
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // Non-saturating G: -mean ln D(G(z)) = -(ln 0.25 + ln 0.5)/2.
        let want = -(0.25f64.ln() + 0.5f64.ln()) / 2.0;
        assert!((scalar(bce.generator_loss(fake.clone())) - want).abs() < 1e-6);
        // Saturating G: mean ln(1 - D(G(z))) = (ln 0.75 + ln 0.5)/2.
        let sat = GanObjective::Bce {
            generator: GeneratorLoss::Saturating,
            real_label: 1.0,
        };
        let want = (0.75f64.ln() + 0.5f64.ln()) / 2.0;
        assert!((scalar(sat.generator_loss(fake.clone())) - want).abs() < 1e-6);
        // Label smoothing 0.9 on the real term: -(0.9 ln σ + 0.1 ln(1 - σ)).
        let smooth = GanObjective::Bce {
            generator: GeneratorLoss::NonSaturating,
            real_label: 0.9,
        };
        let want =
            -(0.9 * 0.5f64.ln() + 0.1 * 0.5f64.ln() + 0.9 * 0.75f64.ln() + 0.1 * 0.25f64.ln())
                / 2.0
                - (0.75f64.ln() + 0.5f64.ln()) / 2.0;
        let got = scalar(smooth.discriminator_loss(real.clone(), fake.clone()));
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // Wasserstein: mean C(fake) - mean C(real); G: -mean C(fake).
        let w = GanObjective::Wasserstein { clip: 0.01 };
        let (r, f) = (logits(&[1.0, 3.0]), logits(&[-2.0, 0.5]));
        assert!((scalar(w.discriminator_loss(r, f.clone())) - (-0.75 - 2.0)).abs() < 1e-6);
        assert!((scalar(w.generator_loss(f)) - 0.75).abs() < 1e-6);
    }

    /// C(x) = Σ w ⊙ x per image: ∇ₓC = w for every image, so the penalty is (‖w‖ − 1)² and
    /// its gradient with respect to w is 2(‖w‖ − 1) w / ‖w‖ — a gradient of a gradient.
    #[derive(Module, Debug)]
    struct Linear4<B: Backend> {
        w: Param<Tensor<B, 1>>,
    }

    impl<B: Backend> ImageCritic<B> for Linear4<B> {
        fn logits(&self, x: Tensor<B, 4>, _: Option<Tensor<B, 2>>) -> Tensor<B, 2> {
            let n = x.dims()[0];
            (x.reshape([n, 4]) * self.w.val().reshape([1, 4])).sum_dim(1)
        }
    }

    #[test]
    fn gradient_penalty_and_its_gradient_match_the_closed_form() {
        type A = burn::backend::Autodiff<NdArray>;
        let d = Default::default();
        let w = [0.5f32, -1.0, 2.0, 0.25];
        let critic = Linear4::<A> {
            w: Param::from_tensor(Tensor::from_floats(w, &d)),
        };
        let lifted = Linear4::<Autodiff<A>>::from_inner(critic.clone());
        let img = |v: f32| Tensor::<A, 4>::full([3, 1, 2, 2], v, &d);
        let eps = Tensor::<A, 4>::from_floats([[[[0.1f32]]], [[[0.5]]], [[[0.9]]]], &d);
        let gp = gradient_penalty(&lifted, img(1.0), img(-1.0), None, eps).unwrap();
        let norm = w.iter().map(|v| (v * v) as f64).sum::<f64>().sqrt();
        let got = gp.clone().into_scalar() as f64;
        assert!((got - (norm - 1.0).powi(2)).abs() < 1e-5, "{got}");
        let grads = gp.backward();
        let g = critic
            .w
            .grad(&grads)
            .unwrap()
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        for (gi, wi) in g.iter().zip(w) {
            let want = 2.0 * (norm - 1.0) * wi as f64 / norm;
            assert!((*gi as f64 - want).abs() < 1e-5, "{gi} vs {want}");
        }
    }

    #[test]
    fn bce_is_finite_for_huge_logits() {
        let bce = GanObjective::bce();
        let l = scalar(bce.discriminator_loss(logits(&[200.0]), logits(&[-200.0])));
        assert!(l.abs() < 1e-6);
        let l = scalar(bce.discriminator_loss(logits(&[-200.0]), logits(&[200.0])));
        assert!((l - 400.0).abs() < 1e-3, "{l}");
    }

    #[test]
    fn config_errors_name_the_flag() {
        let ok = GanTrainConfig {
            epochs: 1,
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let cases: Vec<(GanTrainConfig, &str)> = vec![
            (
                GanTrainConfig {
                    n_critic: 0,
                    ..ok.clone()
                },
                "n_critic",
            ),
            (
                GanTrainConfig {
                    batch_size: 1,
                    ..ok.clone()
                },
                "batch_size",
            ),
            (
                GanTrainConfig {
                    generator: OptimSettings::adam(-1.0, 0.9),
                    ..ok.clone()
                },
                "lr_g",
            ),
            (
                GanTrainConfig {
                    objective: GanObjective::Wasserstein { clip: 0.0 },
                    ..ok.clone()
                },
                "clip",
            ),
            (
                GanTrainConfig {
                    objective: GanObjective::Bce {
                        generator: GeneratorLoss::NonSaturating,
                        real_label: 0.2,
                    },
                    ..ok.clone()
                },
                "real_label",
            ),
        ];
        for (c, flag) in cases {
            let e = c.validate().unwrap_err();
            assert!(e.starts_with(flag), "{e}");
        }
    }

    #[test]
    fn fixed_grid_inputs_are_fixed() {
        let (a, la) = fixed_grid_inputs(7, 100, 10);
        let (b, _) = fixed_grid_inputs(7, 100, 10);
        let (c, _) = fixed_grid_inputs(8, 100, 10);
        assert_eq!(a.len(), 6400);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(&la[..12], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.1, "{mean} {var}");
    }
}
