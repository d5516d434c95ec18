//! The seed GAN, DCGAN, WGAN or conditional GAN on MNIST (the bundled sample when full MNIST
//! is not found), with sample quality measured by the zoo's MNIST classifier; or images sampled
//! from a saved generator.
//!
//! With no flags: the tutorial's GAN — G Linear(100,256) ReLU Linear(256,512) ReLU
//! Linear(512,784) Tanh, D Linear(784,512) LeakyReLU(0.2) Linear(512,256) LeakyReLU(0.2)
//! Linear(256,1) Sigmoid, BCE with the non-saturating generator loss, Adam lr 2e-4 for both,
//! batch 64 — on ndarray.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use burn_zoo::gan::Arch;
use burn_zoo::gan::infer::{
    SampleLimits, SavedGenerator, evaluate_saved, load_generator, write_samples,
};
use burn_zoo::gan::train::{Assets, GanJob, Variant, quality_table, run};
use burn_zoo::train::adversarial::{GanObjective, GeneratorLoss};
use burn_zoo::train::{Mode, OptimizerKind, TrainError};
use clap::Parser;
use zoo_cli::backend::{BackendInfo, Run, dispatch};
use zoo_cli::cli::{
    BackendArgs, OutputArgs, bad_flags, check_export_path, exit_code, job_context, parse_or_exit,
    weights_error,
};

#[derive(Parser, Debug)]
#[command(
    about = "Train a GAN on MNIST and measure its samples, or sample a saved generator",
    after_help = "Variants: seed = the tutorial's fully connected GAN (BCE, Adam 2e-4 β1 0.5, 150 epochs); \
                  dcgan = conv G/D, batch norm, N(0, 0.02) init, Adam β1 0.5 (30 epochs); wgan = \
                  the seed networks as generator and critic, weight clipping ±0.01, 5 critic steps \
                  per G step, RMSprop 5e-5 (100 epochs); wgan-gp = the same with a gradient penalty (λ 10) \
                  instead of clipping, Adam 1e-4 β (0, 0.9); cgan = the DCGAN conditioned on the digit \
                  (10 epochs). Quality: classifier-feature FID (the zoo's MNIST CNN, not Inception), \
                  digit coverage and confidence, written to report.json. Data: --data DIR, else \
                  ~/.cache/burn-dataset/mnist, else the bundled sample."
)]
struct Cli {
    /// seed, dcgan, wgan, wgan-gp or cgan.
    #[arg(long, value_enum, default_value_t = Variant::Seed)]
    variant: Variant,
    /// Directory with the four MNIST IDX files (raw or .gz).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Train on the first N training images only (quick runs).
    #[arg(long)]
    train_limit: Option<usize>,
    /// Network family, overriding the variant's: mlp or conv.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// DCGAN base width (G: 2w then w channels; D: w then 2w).
    #[arg(long)]
    width: Option<usize>,
    /// Latent vector length.
    #[arg(long)]
    latent_dim: Option<usize>,
    /// Epochs (passes over the real images; with --resume, the total).
    #[arg(long)]
    epochs: Option<usize>,
    /// Real images per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Generator learning rate.
    #[arg(long)]
    lr_g: Option<f64>,
    /// Discriminator (critic) learning rate.
    #[arg(long)]
    lr_d: Option<f64>,
    /// Adam β1 of both optimisers.
    #[arg(long)]
    beta1: Option<f64>,
    /// Adam β2 of both optimisers.
    #[arg(long)]
    beta2: Option<f64>,
    /// Optimiser of both networks: adam, adamw, sgd or rmsprop.
    #[arg(long, value_parser = parse_optimizer)]
    optimizer: Option<OptimizerKind>,
    /// BCE generator loss: non-saturating (maximise log D(G(z))) or saturating (minimise
    /// log(1 - D(G(z))), for comparison).
    #[arg(long, value_enum)]
    g_loss: Option<GeneratorLoss>,
    /// Target for real images in the BCE loss: 1, or 0.9 for one-sided label smoothing.
    #[arg(long)]
    real_label: Option<f64>,
    /// Discriminator steps per generator step.
    #[arg(long)]
    n_critic: Option<usize>,
    /// WGAN weight-clipping bound.
    #[arg(long)]
    clip: Option<f64>,
    /// WGAN-GP gradient-penalty weight.
    #[arg(long)]
    gp_lambda: Option<f64>,
    /// Seed of initialisation, shuffling, noise and the fixed grid noise.
    #[arg(long)]
    seed: Option<u64>,
    /// Epoch checkpoints to keep (newest); 0 keeps all.
    #[arg(long)]
    keep_checkpoints: Option<usize>,
    /// Skip (and count in report.json) a step whose discriminator or generator loss is NaN or
    /// infinite instead of stopping the run.
    #[arg(long)]
    skip_nonfinite: bool,
    /// Generated images for the quality metrics after training (0: skip them).
    #[arg(long)]
    quality_samples: Option<usize>,
    /// Saved CNN run used for the metrics (default: the bundled assets/mnist-classifier).
    #[arg(long)]
    classifier: Option<PathBuf>,
    /// Sample N images from the generator saved in --artifact-dir instead of training.
    #[arg(long, requires = "out", conflicts_with = "evaluate")]
    generate: Option<usize>,
    /// Measure the generator saved in --artifact-dir again instead of training (with
    /// --quality-samples / --classifier if given); writes quality.json there.
    #[arg(long)]
    evaluate: bool,
    /// Where --generate writes sample_NNNN.png (past 1,000 images, into sub-folders 000/,
    /// 001/, ... of 1,000 each).
    #[arg(long, requires = "generate")]
    out: Option<PathBuf>,
    /// The most images --generate writes; more is refused before anything is written.
    #[arg(long, default_value_t = 100_000, requires = "generate")]
    max_images: usize,
    /// The digit to draw (conditional generators, with --generate).
    #[arg(long, requires = "generate")]
    digit: Option<usize>,
    /// A PyTorch state_dict of the --variant's generator (the tutorial's nn.Sequential):
    /// --generate samples from it instead of a saved run.
    #[arg(long, value_name = "FILE", requires = "generate")]
    weights: Option<PathBuf>,
    /// Write the trained generator to FILE.safetensors under the PyTorch tutorial's names.
    #[arg(long, value_name = "FILE.safetensors", conflicts_with_all = ["generate", "evaluate"])]
    export_weights: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    output: OutputArgs,
}

fn parse_optimizer(s: &str) -> Result<OptimizerKind, String> {
    s.parse()
}

enum Action {
    Train(Box<GanJob>),
    Generate {
        n: usize,
        out: PathBuf,
        digit: Option<usize>,
        seed: u64,
        /// PyTorch's generator weights with the flags' job, instead of the saved run.
        weights: Option<(PathBuf, Box<GanJob>)>,
        max_images: usize,
    },
    Evaluate {
        samples: Option<usize>,
        classifier: Option<PathBuf>,
    },
}

struct Job {
    action: Action,
    export_weights: Option<PathBuf>,
    dir: PathBuf,
    mode: Mode,
    progress: burn_zoo::train::ProgressMode,
}

impl Run for Job {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let root = zoo_cli::assets_dir();
        let (mnist_sample, classifier) = (root.join("mnist-sample"), root.join("mnist-classifier"));
        let assets = Assets {
            mnist_sample: &mnist_sample,
            classifier: &classifier,
        };
        let job = match self.action {
            Action::Train(job) => job,
            Action::Generate {
                n,
                out,
                digit,
                seed,
                weights,
                max_images,
            } => {
                let (saved, from) = match weights {
                    Some((file, job)) => {
                        let generator = burn_zoo::gan::pytorch::load_generator::<B::InnerBackend>(
                            &job.model, &file, &device,
                        )
                        .map_err(weights_error)?;
                        let from = file.display().to_string();
                        (
                            SavedGenerator {
                                job: *job,
                                generator,
                            },
                            from,
                        )
                    }
                    None => (
                        load_generator::<B::InnerBackend>(&self.dir, &device)?,
                        self.dir.display().to_string(),
                    ),
                };
                let limits = SampleLimits {
                    max_images,
                    progress: self.progress,
                    ..SampleLimits::default()
                };
                let written =
                    write_samples(&saved.generator, n, digit, &out, seed, &limits, &device)?;
                println!(
                    "wrote {} images ({:.1} MB) from the {} generator in {from} to {}",
                    written.count,
                    written.bytes as f64 / 1e6,
                    saved.job.variant.name(),
                    out.display()
                );
                return Ok(());
            }
            Action::Evaluate {
                samples,
                classifier,
            } => {
                let q = evaluate_saved::<B::InnerBackend>(
                    &self.dir,
                    &assets,
                    samples,
                    classifier.as_deref(),
                    &device,
                )?;
                println!("{}", quality_table(&q));
                println!("written to {}", self.dir.join("quality.json").display());
                return Ok(());
            }
        };
        let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
        let out = run::<B>(&job, &ctx, &assets, &device)?;
        if let Some(q) = &out.quality {
            println!("{}", quality_table(q));
        }
        println!(
            "trained {} epochs in {:.1}s ({:.0} real images/s); grids, losses.png, report.json in {}",
            out.report.epochs_completed,
            out.report.wall_time_secs,
            out.report.train_samples_per_sec,
            self.dir.display()
        );
        if let Some(file) = &self.export_weights {
            burn_zoo::gan::pytorch::save_generator(&out.generator, &job.model, file)
                .map_err(weights_error)?;
            println!("generator weights in PyTorch's layout: {}", file.display());
        }
        Ok(())
    }
}

fn build(cli: &Cli) -> Result<GanJob, String> {
    let mut job = GanJob::preset(cli.variant);
    job.data = cli.data.clone();
    job.train_limit = cli.train_limit;
    if let Some(a) = cli.arch {
        job.model.arch = a;
    }
    if let Some(w) = cli.width {
        job.model.width = w;
    }
    if let Some(l) = cli.latent_dim {
        job.model.latent_dim = l;
    }
    let t = &mut job.train;
    if let Some(v) = cli.epochs {
        t.epochs = v;
    }
    if let Some(v) = cli.batch_size {
        t.batch_size = v;
    }
    if let Some(v) = cli.lr_g {
        t.generator.lr = v;
    }
    if let Some(v) = cli.lr_d {
        t.discriminator.lr = v;
    }
    if let Some(v) = cli.beta1 {
        t.generator.beta1 = v;
        t.discriminator.beta1 = v;
    }
    if let Some(v) = cli.beta2 {
        t.generator.beta2 = v;
        t.discriminator.beta2 = v;
    }
    if let Some(v) = cli.optimizer {
        t.generator.optimizer = v;
        t.discriminator.optimizer = v;
    }
    if let Some(v) = cli.n_critic {
        t.n_critic = v;
    }
    if let Some(v) = cli.seed {
        t.seed = v;
    }
    if let Some(v) = cli.keep_checkpoints {
        t.keep_checkpoints = v;
    }
    t.skip_nonfinite |= cli.skip_nonfinite;
    match &mut t.objective {
        GanObjective::Bce {
            generator,
            real_label,
        } => {
            if cli.clip.is_some() || cli.gp_lambda.is_some() {
                return Err("--clip and --gp-lambda apply to --variant wgan / wgan-gp only".into());
            }
            if let Some(l) = cli.g_loss {
                *generator = l;
            }
            if let Some(v) = cli.real_label {
                *real_label = v;
            }
        }
        GanObjective::Wasserstein { clip } => {
            if cli.g_loss.is_some() || cli.real_label.is_some() || cli.gp_lambda.is_some() {
                return Err("--g-loss, --real-label and --gp-lambda do not apply to wgan".into());
            }
            if let Some(v) = cli.clip {
                *clip = v;
            }
        }
        GanObjective::WassersteinGp { lambda } => {
            if cli.g_loss.is_some() || cli.real_label.is_some() || cli.clip.is_some() {
                return Err("--g-loss, --real-label and --clip do not apply to wgan-gp".into());
            }
            if let Some(v) = cli.gp_lambda {
                *lambda = v;
            }
        }
    }
    if let Some(v) = cli.quality_samples {
        job.quality_samples = v;
    }
    job.classifier = cli.classifier.clone();
    job.validate()?;
    Ok(job)
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let action = match (cli.generate, &cli.out) {
        (Some(n), Some(out)) => {
            if n == 0 {
                return bad_flags("--generate must be at least 1");
            }
            let weights = match &cli.weights {
                Some(file) if !file.is_file() => {
                    return bad_flags(format!("--weights {}: no such file", file.display()));
                }
                Some(file) => match build(&cli) {
                    Ok(job) => Some((file.clone(), Box::new(job))),
                    Err(e) => return bad_flags(e),
                },
                None => None,
            };
            Action::Generate {
                n,
                out: out.clone(),
                digit: cli.digit,
                seed: cli.seed.unwrap_or(0),
                weights,
                max_images: cli.max_images,
            }
        }
        _ if cli.evaluate => Action::Evaluate {
            samples: cli.quality_samples,
            classifier: cli.classifier.clone(),
        },
        _ => match build(&cli) {
            Ok(job) => Action::Train(Box::new(job)),
            Err(e) => return bad_flags(e),
        },
    };
    if let Some(Err(e)) = cli.export_weights.as_deref().map(check_export_path) {
        return bad_flags(e);
    }
    let job = Job {
        action,
        export_weights: cli.export_weights.clone(),
        dir: cli.output.dir("gan"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, job))
}
