//! A whole GAN run — data, networks, adversarial training, grids, loss curves, quality
//! metrics, report — and sampling from a saved generator: what `examples/gan.rs` calls.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use zoo_data::data::Dataset;
use zoo_data::images::{ImageDatasetKind, ImageSplitSpec, ImageSplits, load_splits};
use zoo_train::adversarial::{
    GanObjective, GanReport, GanSpec, GanTrainConfig, OptimSettings, fit_gan,
};
use zoo_train::artifacts::write_json;
use zoo_train::checkpoint::ModelId;
use zoo_train::plot::gan_curves;
pub use zoo_train::train::JobContext;
use zoo_train::{DataError, OptimizerKind, RunInfo, TrainError, seed_backend};

#[cfg(test)]
use crate::infer::{SampleLimits, load_generator, write_samples};
use crate::quality::{Classifier, GanQuality, measure};
use crate::{Arch, GanConfig, Generator};

/// The four variants (presets of architecture, objective and optimisers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Variant {
    /// The tutorial's fully connected GAN.
    Seed,
    /// Deep convolutional GAN.
    Dcgan,
    /// Wasserstein GAN with weight clipping.
    Wgan,
    /// Wasserstein GAN with a gradient penalty.
    WganGp,
    /// Conditional GAN (label-conditioned G and D).
    Cgan,
}

impl Variant {
    /// The variant's name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Seed => "seed",
            Variant::Dcgan => "dcgan",
            Variant::Wgan => "wgan",
            Variant::WganGp => "wgan-gp",
            Variant::Cgan => "cgan",
        }
    }
}

/// The most generated images a quality measurement takes ([`GanJob::quality_samples`]).
pub const MAX_QUALITY_SAMPLES: usize = 100_000;

/// A complete, serialisable description of a GAN run (written as `config.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GanJob {
    /// Which preset it started from.
    pub variant: Variant,
    /// MNIST IDX directory; `None` looks in the usual places (then the bundled sample).
    pub data: Option<PathBuf>,
    /// Train on the first N training images only.
    pub train_limit: Option<usize>,
    /// Architecture.
    pub model: GanConfig,
    /// Adversarial training.
    pub train: GanTrainConfig,
    /// Generated images for the quality metrics (0: skip them).
    pub quality_samples: usize,
    /// Classifier run directory for the metrics; `None`: the bundled `assets/mnist-classifier`.
    pub classifier: Option<PathBuf>,
}

impl GanJob {
    /// The tutorial's GAN: the fully connected G and D, BCE with the non-saturating generator
    /// loss, Adam lr 2e-4 for both, batch 64, 150 epochs. Adam's β1 is 0.5, the GAN convention
    /// since Radford et al. (the tutorial names only the learning rate); on mnist-10k it
    /// reached a lower FID in 20 epochs than PyTorch's default 0.9 did in 50.
    pub fn seed() -> Self {
        Self {
            variant: Variant::Seed,
            data: None,
            train_limit: None,
            model: GanConfig::new(),
            train: GanTrainConfig::default(),
            quality_samples: 2000,
            classifier: None,
        }
    }

    /// DCGAN (Radford et al.): conv networks with batch norm, N(0, 0.02) init, Adam 2e-4 with
    /// β1 = 0.5, 30 epochs.
    pub fn dcgan() -> Self {
        let mut job = Self::seed();
        job.variant = Variant::Dcgan;
        job.model = job.model.with_arch(Arch::Conv);
        job.train.epochs = 30;
        job
    }

    /// WGAN (Arjovsky et al.) on the seed networks: critic without sigmoid, 5 critic steps per
    /// generator step, weights clipped to ±0.01, RMSprop lr 5e-5.
    pub fn wgan() -> Self {
        let mut job = Self::seed();
        job.variant = Variant::Wgan;
        let rms = OptimSettings {
            optimizer: OptimizerKind::RmsProp,
            lr: 5e-5,
            beta1: 0.9,
            beta2: 0.999,
            momentum: 0.0,
        };
        job.train.generator = rms;
        job.train.discriminator = rms;
        job.train.objective = GanObjective::Wasserstein { clip: 0.01 };
        job.train.n_critic = 5;
        job.train.epochs = 100;
        job
    }

    /// WGAN-GP (Gulrajani et al.) on the seed networks: critic without sigmoid, gradient
    /// penalty λ = 10 instead of clipping, 5 critic steps per generator step, Adam lr 1e-4,
    /// β = (0, 0.9).
    pub fn wgan_gp() -> Self {
        let mut job = Self::seed();
        job.variant = Variant::WganGp;
        let adam = OptimSettings {
            beta2: 0.9,
            ..OptimSettings::adam(1e-4, 0.0)
        };
        job.train.generator = adam;
        job.train.discriminator = adam;
        job.train.objective = GanObjective::WassersteinGp { lambda: 10.0 };
        job.train.n_critic = 5;
        job.train.epochs = 100;
        job
    }

    /// Conditional GAN (Mirza and Osindero) on the DCGAN networks: the one-hot digit is
    /// appended to G's noise and enters D as 10 constant planes; 10 epochs. (With the seed's
    /// fully connected networks, `--arch mlp`, the discriminator won outright on mnist-10k and
    /// the samples ignored their label.)
    pub fn cgan() -> Self {
        let mut job = Self::dcgan();
        job.variant = Variant::Cgan;
        job.model = job.model.with_classes(10);
        job.train.epochs = 10;
        job
    }

    /// The preset of `variant`.
    pub fn preset(variant: Variant) -> Self {
        match variant {
            Variant::Seed => Self::seed(),
            Variant::Dcgan => Self::dcgan(),
            Variant::Wgan => Self::wgan(),
            Variant::WganGp => Self::wgan_gp(),
            Variant::Cgan => Self::cgan(),
        }
    }

    /// Checks the job.
    pub fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        self.train.validate()?;
        if self.train_limit == Some(0) {
            return Err("train_limit must be at least 1".into());
        }
        if self.quality_samples != 0 && self.quality_samples < 200 {
            return Err(format!(
                "quality_samples must be 0 (no metrics) or at least 200 for a 128-feature \
                 Gaussian fit (got {})",
                self.quality_samples
            ));
        }
        if self.quality_samples > MAX_QUALITY_SAMPLES {
            return Err(format!(
                "quality_samples must be at most {MAX_QUALITY_SAMPLES} (got {}): the images \
                 are held in memory (784 bytes each) and the FID settles long before",
                self.quality_samples
            ));
        }
        Ok(())
    }

    pub(crate) fn classifier_dir(&self, bundled: &Path) -> PathBuf {
        self.classifier
            .clone()
            .unwrap_or_else(|| bundled.to_path_buf())
    }
}

/// Where the bundled assets are: the MNIST sample and the classifier run.
pub struct Assets<'a> {
    /// `assets/mnist-sample`.
    pub mnist_sample: &'a Path,
    /// `assets/mnist-classifier`.
    pub classifier: &'a Path,
}

/// What a run produced.
pub struct GanOutcome<G> {
    /// The report (also `report.json`).
    pub report: GanReport,
    /// The quality numbers, unless skipped.
    pub quality: Option<GanQuality>,
    /// The trained generator.
    pub generator: G,
}

/// Loads MNIST for a GAN: images normalised to `[-1, 1]`, no validation split.
pub fn load_data(job: &GanJob, bundled: &Path) -> Result<ImageSplits, DataError> {
    let spec = ImageSplitSpec {
        image_size: job.model.image_size,
        train_limit: job.train_limit,
        valid_fraction: 0.0,
        seed: job.train.seed,
        mean: 0.5,
        std: 0.5,
    };
    load_splits(ImageDatasetKind::Mnist, job.data.as_deref(), bundled, &spec)
}

/// The identity written into checkpoints and saved models.
pub fn model_id(job: &GanJob, float: &str) -> ModelId {
    // Layout 2: each network's layers became one enum module (`GeneratorBody`,
    // `DiscriminatorBody`) instead of two optional ones.
    ModelId::new(&format!("gan-{}", job.variant.name()), &job.model, float).with_layout(2)
}

/// Trains the job's GAN on backend `B`, then measures it.
pub fn run<B: AutodiffBackend>(
    job: &GanJob,
    ctx: &JobContext,
    assets: &Assets<'_>,
    device: &B::Device,
) -> Result<GanOutcome<Generator<B>>, TrainError> {
    job.validate().map_err(TrainError::Invalid)?;
    let data = load_data(job, assets.mnist_sample)?;
    if let Some(note) = &data.note {
        ctx.progress_note(note);
    }
    // The classifier first: a missing one should fail before, not after, training.
    let classifier = if job.quality_samples > 0 {
        Some(Classifier::<B::InnerBackend>::load(
            &job.classifier_dir(assets.classifier),
            device,
        )?)
    } else {
        None
    };
    // The final measurement's settings may change on a resume; training's are checked.
    let changes = ctx.write_config(job, &["quality_samples", "classifier"])?;
    seed_backend::<B>(device, job.train.seed);
    let g = job.model.init_generator::<B>(device);
    let d = job.model.init_discriminator::<B>(device);
    let spec = GanSpec {
        cfg: &job.train,
        model_id: model_id(job, &ctx.float),
        info: RunInfo {
            model: format!("gan-{}", job.variant.name()),
            backend: ctx.backend.clone(),
            device: ctx.device.clone(),
            dataset: data.description.clone(),
        },
        config: serde_json::to_value(job).unwrap_or_default(),
        artifacts: ctx.artifacts.as_ref(),
        resume: ctx.resume,
        progress: ctx.progress,
        resumed_with_changes: changes,
    };
    let trained = fit_gan(g, d, &data.train, spec, device)?;
    let mut report = trained.report;
    let quality = match &classifier {
        Some(c) => {
            ctx.progress_note(&format!(
                "measuring {} generated images against {} test images with {}",
                job.quality_samples,
                data.test.len(),
                c.source
            ));
            Some(measure(
                &trained.generator.valid(),
                c,
                &data.train,
                &data.test,
                job.quality_samples,
                job.train.seed,
                device,
            )?)
        }
        None => None,
    };
    report.quality = quality
        .as_ref()
        .map(|q| serde_json::to_value(q).unwrap_or_default());
    if let Some(dir) = &ctx.artifacts {
        gan_curves(
            &dir.path("losses.png"),
            &format!("GAN ({}) training", job.variant.name()),
            &report.history,
        )?;
        for (key, file) in [
            ("losses", "losses.png"),
            ("grid_final", "grid_final.png"),
            ("generator", "generator.mpk"),
        ] {
            report.extra.insert(key.into(), file.into());
        }
        write_json(&dir.report(), &report)?;
    }
    Ok(GanOutcome {
        report,
        quality,
        generator: trained.generator,
    })
}

/// The quality numbers as a short table, for the terminal.
pub fn quality_table(q: &GanQuality) -> String {
    let mut rows = vec![
        (
            "classifier-feature FID".to_string(),
            format!("{:.2}", q.fid),
        ),
        (
            "  floor (real train vs test)".into(),
            format!("{:.2}", q.fid_floor_train_vs_test),
        ),
        (
            "digits covered (≥1%)".into(),
            format!("{} / 10", q.digits_covered),
        ),
        (
            "digit entropy".into(),
            format!("{:.3} bits (uniform 3.322)", q.digit_entropy_bits),
        ),
        (
            "mean confidence".into(),
            format!("{:.3}", q.mean_confidence),
        ),
        (
            "classifier score (IS analogue)".into(),
            format!(
                "{:.2} (real test digits {:.2})",
                q.classifier_score, q.classifier_score_real
            ),
        ),
        ("digit histogram".into(), format!("{:?}", q.digit_histogram)),
    ];
    if let Some(a) = q.label_accuracy {
        rows.push(("label accuracy".into(), format!("{a:.3}")));
    }
    let mut out = format!(
        "sample quality ({} generated vs {} real test images; classifier {}, test accuracy {})\n",
        q.generated_samples,
        q.real_samples,
        q.classifier,
        q.classifier_test_accuracy
            .map_or("unknown".into(), |a| format!("{a:.4}"))
    );
    for (name, value) in rows {
        out += &format!("  {name:<30} {value}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use zoo_ndarray::NdArray;
    use zoo_train::adversarial::latent_noise;
    use zoo_train::adversarial::{ImageCritic, ImageGenerator, clip_weights, one_hot};
    use zoo_train::train::flat_params;
    use zoo_train::train::to_vec_f32;
    use zoo_train::{ArtifactDir, Mode};

    type A = Autodiff<NdArray>;

    fn repo(p: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
    }

    fn mean_d_fake(job: &GanJob, g: &Generator<NdArray>, d: &crate::Discriminator<NdArray>) -> f64 {
        let device = Default::default();
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(9);
        let z = latent_noise::<NdArray>(&mut rng, 256, job.model.latent_dim, &device);
        let labels: Vec<usize> = (0..256).map(|k| k % 10).collect();
        let cond = (job.model.classes > 0).then(|| one_hot::<NdArray>(&labels, 10, &device));
        let p = d.probability(g.generate(z, cond.clone()), cond);
        to_vec_f32(p.mean()).unwrap()[0] as f64
    }

    /// A few generator-only steps (the discriminator frozen by a zero learning rate would be
    /// refused; instead D trains too but G's effect is measured against the D it faced).
    #[test]
    fn generator_steps_raise_d_of_g_z() {
        let device = Default::default();
        let mut job = GanJob::seed();
        job.data = Some(repo("assets/mnist-sample"));
        job.train_limit = Some(256);
        job.train.epochs = 1;
        job.quality_samples = 0;
        let data = load_data(&job, &repo("assets/mnist-sample")).unwrap();
        seed_backend::<A>(&device, 3);
        let g = job.model.init_generator::<A>(&device);
        let d = job.model.init_discriminator::<A>(&device);
        let spec = |cfg| GanSpec {
            cfg,
            model_id: model_id(&job, "f32"),
            info: RunInfo {
                model: "gan".into(),
                backend: "ndarray".into(),
                device: "cpu".into(),
                dataset: "sample".into(),
            },
            config: serde_json::Value::Null,
            artifacts: None,
            resume: false,
            progress: zoo_train::ProgressMode::Quiet,
            resumed_with_changes: Vec::new(),
        };
        // One epoch of 4 steps: D learns to reject G's images, so D(G(z)) falls below 0.5.
        let trained = fit_gan(g, d, &data.train, spec(&job.train), &device).unwrap();
        let (g, d) = (trained.generator, trained.discriminator);
        let before = mean_d_fake(&job, &g.valid(), &d.valid());
        let r = &trained.report.history[0];
        assert_eq!((r.d_steps, r.g_steps), (4, 4));
        assert!(
            r.d_real > r.d_fake,
            "D(x) {} D(G(z)) {}",
            r.d_real,
            r.d_fake
        );
        // Now only G steps against this D: D(G(z)) must rise.
        let mut g = g;
        let mut opt = zoo_train::optim::ZooOptimizer::<Generator<A>, A>::new(&Default::default());
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        for _ in 0..5 {
            let z = latent_noise::<A>(&mut rng, 64, 100, &device);
            let loss = job
                .train
                .objective
                .generator_loss(d.logits(g.generate(z, None), None));
            let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &g);
            g = opt.step(2e-4, g, grads);
        }
        let after = mean_d_fake(&job, &g.valid(), &d.valid());
        assert!(after > before + 0.01, "D(G(z)) {before} -> {after}");
    }

    /// `fit_gan`'s generator step scores the fakes with a copy of the discriminator whose
    /// weights are untracked: the generator's gradients are the same bits as through the
    /// tracked discriminator, and the discriminator's weight gradients are not computed.
    #[test]
    fn untracked_discriminator_gives_the_generator_the_same_gradients() {
        let device = Default::default();
        let job = GanJob::seed();
        seed_backend::<A>(&device, 5);
        let g = job.model.init_generator::<A>(&device);
        let d = job.model.init_discriminator::<A>(&device);
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(2);
        let z = latent_noise::<A>(&mut rng, 16, 100, &device);
        let run = |d: &crate::Discriminator<A>| {
            let loss = job
                .train
                .objective
                .generator_loss(d.logits(g.generate(z.clone(), None), None));
            let grads = loss.backward();
            (grads_of(&g, &grads), grads_of(d, &grads))
        };
        let (g_tracked, d_tracked) = run(&d);
        let (g_untracked, d_untracked) = run(&burn::module::Module::no_grad(d.clone()));
        assert!(g_tracked.iter().chain(&d_tracked).all(Option::is_some));
        assert_eq!(g_tracked, g_untracked);
        assert!(d_untracked.iter().all(Option::is_none));
        assert_eq!(d_untracked.len(), 6);
    }

    /// Every float parameter's gradient in `grads`, in module order.
    fn grads_of<M: burn::module::Module<A>>(
        module: &M,
        grads: &<A as burn::tensor::backend::AutodiffBackend>::Gradients,
    ) -> Vec<Option<Vec<f32>>> {
        struct Collect<'a>(
            &'a <A as burn::tensor::backend::AutodiffBackend>::Gradients,
            Vec<Option<Vec<f32>>>,
        );
        impl burn::module::ModuleVisitor<A> for Collect<'_> {
            fn visit_float<const D: usize>(
                &mut self,
                param: &burn::module::Param<burn::tensor::Tensor<A, D>>,
            ) {
                let grad = param.val().grad(self.0);
                self.1.push(grad.map(|t| to_vec_f32(t).unwrap()));
            }
        }
        let mut c = Collect(grads, Vec::new());
        module.visit(&mut c);
        c.1
    }

    /// Trainable parameters (batch-norm running statistics are state and are left out).
    fn trainable(m: &crate::Discriminator<A>) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl burn::module::ModuleVisitor<A> for Collect {
            fn visit_float<const D: usize>(
                &mut self,
                param: &burn::module::Param<burn::tensor::Tensor<A, D>>,
            ) {
                let t = param.val();
                if t.is_require_grad() {
                    self.0.extend(to_vec_f32(t).unwrap());
                }
            }
        }
        let mut c = Collect(Vec::new());
        burn::module::Module::visit(m, &mut c);
        c.0
    }

    #[test]
    fn weight_clipping_keeps_every_critic_weight_in_range() {
        let device = Default::default();
        for arch in [Arch::Mlp, Arch::Conv] {
            let cfg = GanConfig::new().with_arch(arch).with_width(8);
            let d = cfg.init_discriminator::<A>(&device);
            let before = trainable(&d);
            assert!(before.iter().any(|w| w.abs() > 0.01));
            let all_before = flat_params::<A, _>(&d).len();
            let clipped = clip_weights(d, 0.01);
            let after = trainable(&clipped);
            assert_eq!(before.len(), after.len(), "still trainable");
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(*a, b.clamp(-0.01, 0.01));
            }
            assert!(after.iter().all(|a| a.abs() <= 0.01));
            // Batch norm's running variance (initially 1) is not a weight and stays.
            let all = flat_params::<A, _>(&clipped);
            assert_eq!(all.len(), all_before);
            if arch == Arch::Conv {
                assert!(all.contains(&1.0));
            }
        }
    }

    #[test]
    fn gradient_penalty_steps_pull_the_critic_gradient_norm_to_one() {
        use burn::tensor::{Distribution, Tensor};
        use zoo_train::adversarial::PenalizedCritic;
        let device = Default::default();
        seed_backend::<A>(&device, 5);
        let mut d = GanConfig::new().init_discriminator::<A>(&device);
        let x = |seed| {
            seed_backend::<A>(&device, seed);
            Tensor::<A, 4>::random([32, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device)
        };
        let (real, fake, eps) = (
            x(1),
            x(2),
            Tensor::<A, 4>::random([32, 1, 1, 1], Distribution::Uniform(0.0, 1.0), &device),
        );
        let mut opt = zoo_train::optim::ZooOptimizer::<crate::Discriminator<A>, A>::new(
            &zoo_train::TrainConfig::default(),
        );
        let mut values = Vec::new();
        for _ in 0..15 {
            let gp = d
                .gradient_penalty(real.clone(), fake.clone(), None, eps.clone())
                .unwrap();
            values.push(to_vec_f32(gp.clone()).unwrap()[0]);
            let grads = burn::optim::GradientsParams::from_grads(gp.backward(), &d);
            d = opt.step(1e-3, d, grads);
        }
        assert!(
            values[14] < values[0] * 0.2,
            "penalty did not fall: {values:?}"
        );
    }

    #[test]
    fn gradient_penalty_runs_through_the_conv_critic() {
        use burn::tensor::{Distribution, Tensor};
        use zoo_train::adversarial::PenalizedCritic;
        let device = Default::default();
        let d = GanConfig::new()
            .with_arch(Arch::Conv)
            .with_width(4)
            .with_classes(10)
            .init_discriminator::<A>(&device);
        let x = Tensor::<A, 4>::random([4, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
        let eps = Tensor::<A, 4>::full([4, 1, 1, 1], 0.5, &device);
        let labels = one_hot::<A>(&[1, 2, 3, 4], 10, &device);
        // Burn initialises parameters lazily; the training loop has run the critic before.
        let _ = d.forward(x.clone(), Some(labels.clone()));
        let gp = d
            .gradient_penalty(x.clone(), x.neg(), Some(labels), eps)
            .unwrap();
        let grads = gp.backward();
        let crate::DiscriminatorBody::Conv(c) = &d.body else {
            panic!("a DCGAN discriminator")
        };
        let g = c.down1.weight.grad(&grads).unwrap();
        assert!(to_vec_f32(g).unwrap().iter().any(|v| *v != 0.0));
    }

    #[test]
    fn training_writes_grids_checkpoints_and_resumes_exactly() {
        let device = Default::default();
        let dir = tempfile::tempdir().unwrap();
        let mut job = GanJob::cgan();
        job.data = Some(repo("assets/mnist-sample"));
        job.train_limit = Some(128);
        job.train.epochs = 2;
        job.quality_samples = 0;
        let assets = Assets {
            mnist_sample: &repo("assets/mnist-sample"),
            classifier: &repo("assets/mnist-classifier"),
        };
        let ctx = |mode| {
            JobContext::quiet(
                Some(ArtifactDir::prepare(dir.path(), mode).unwrap()),
                mode == Mode::Resume,
                "ndarray",
                "cpu",
            )
        };
        let straight = run::<A>(&job, &ctx(Mode::Overwrite), &assets, &device).unwrap();
        for f in [
            "grid_epoch_001.png",
            "grid_epoch_002.png",
            "grid_final.png",
            "losses.png",
            "generator.mpk",
            "discriminator.mpk",
            "report.json",
            "config.json",
        ] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
        // Resume from epoch 1 to 2: the same generator as the straight run.
        std::fs::remove_file(dir.path().join("checkpoints/epoch-00002.ckpt")).ok();
        let cks: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(cks.len(), 1, "{cks:?}");
        let resumed = run::<A>(&job, &ctx(Mode::Resume), &assets, &device).unwrap();
        assert_eq!(
            flat_params::<A, _>(&straight.generator),
            flat_params::<A, _>(&resumed.generator)
        );
        assert_eq!(resumed.report.history.len(), 2);
        assert_eq!(straight.report.history[1], {
            let mut r = resumed.report.history[1].clone();
            r.train_seconds = straight.report.history[1].train_seconds;
            r.samples_per_sec = straight.report.history[1].samples_per_sec;
            r
        });

        // Samples from the saved generator: --digit is required for a cgan and bounded.
        let saved = load_generator::<NdArray>(dir.path(), &device).unwrap();
        let out = dir.path().join("samples");
        let limits = SampleLimits::default();
        let written = write_samples(&saved.generator, 3, Some(7), &out, 1, &limits, &device);
        let written = written.unwrap();
        assert_eq!(written.count, 3);
        assert_eq!(written.path(0), out.join("sample_0000.png"));
        let img = image::open(written.path(0)).unwrap();
        assert_eq!((img.width(), img.height()), (28, 28));
        let e = write_samples(&saved.generator, 1, None, &out, 1, &limits, &device).unwrap_err();
        assert!(e.to_string().contains("needs a class"), "{e}");
        let e = write_samples(&saved.generator, 1, Some(10), &out, 1, &limits, &device);
        assert!(e.unwrap_err().to_string().contains("digit 10"));

        // Past per_folder images they go into numbered sub-folders; past max_images nothing
        // is written.
        let small = SampleLimits {
            per_folder: 4,
            max_images: 10,
            ..limits
        };
        let many = dir.path().join("many");
        let written = write_samples(&saved.generator, 10, Some(3), &many, 1, &small, &device);
        let written = written.unwrap();
        assert_eq!(written.path(9), many.join("002").join("sample_0009.png"));
        for (folder, files) in [("000", 4), ("001", 4), ("002", 2)] {
            assert_eq!(std::fs::read_dir(many.join(folder)).unwrap().count(), files);
        }
        assert!(written.bytes > 10 * 60, "{} bytes", written.bytes);
        let refused = dir.path().join("refused");
        let e = write_samples(&saved.generator, 11, Some(3), &refused, 1, &small, &device);
        let e = e.unwrap_err().to_string();
        assert!(
            e.starts_with("max_images is 10 and 11 images were asked for"),
            "{e}"
        );
        assert!(!refused.exists());
    }
}
