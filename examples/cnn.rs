//! The seed CNN on MNIST (the bundled sample when full MNIST is not found), Fashion-MNIST, or
//! your IDX files; and inference on your own image from a saved run or PyTorch's weights.
//!
//! With no flags: the tutorial's run — Conv(1,32,3) → ReLU → Conv(32,64,3) → ReLU → MaxPool(2)
//! → Linear(9216,128) → ReLU → Linear(128,10), Normalize(0.5, 0.5), Adam lr 1e-3, batch 64,
//! 5 epochs — on ndarray.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn_zoo::cnn::CnnPreset;
use burn_zoo::cnn::data::load_data;
use burn_zoo::cnn::infer::{SavedCnn, evaluate, load as load_saved, load_image, top_k};
use burn_zoo::cnn::train::{CnnJob, run_with};
use burn_zoo::data::download::{default_mirror, download_idx_files};
use burn_zoo::data::images::{ImageDatasetKind, dataset_cache};
use burn_zoo::train::{Dataset, Mode, TrainError};
use clap::Parser;
use zoo_cli::backend::{BackendInfo, Run, dispatch};
use zoo_cli::cli::{
    BackendArgs, OutputArgs, TrainArgs, WeightsArgs, bad_flags, exit_code, job_context,
    parse_or_exit, print_evaluation, weights_error,
};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed CNN on MNIST or Fashion-MNIST, or classify an image with a saved run",
    after_help = "Presets: seed = the tutorial (Adam 1e-3, batch 64, 5 epochs); strong = batch norm, \
                  dropout, He init, AdamW weight decay 1e-4, warm-up + cosine, 10 epochs (--augment adds \
                  random shifts and rotations); lenet5 = LeNet-5 (61,706 parameters), Adam 1e-3, \
                  cosine, 15 epochs, shifts and rotations; resnet = a 14-layer residual network, AdamW weight decay 1e-4, warm-up + \
                  cosine, 15 epochs. Data: --data DIR, else burn-dataset's cache (~/.cache/burn-dataset/mnist \
                  or fashion-mnist; --download fills it), else the bundled MNIST sample \
                  (Fashion-MNIST: /usr/share/datasets/fashion-mnist)."
)]
struct Cli {
    /// mnist or fashion-mnist.
    #[arg(long, value_enum, default_value_t = ImageDatasetKind::Mnist)]
    dataset: ImageDatasetKind,
    /// Directory with the four IDX files (raw or .gz, standard names).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Download the full dataset into burn-dataset's cache (~/.cache/burn-dataset/<dataset>)
    /// first; files already there are kept. Needs the network.
    #[arg(long, conflicts_with = "data")]
    download: bool,
    /// Where --download fetches the four `.gz` files from (a URL ending in `/`; default: the
    /// dataset's usual mirror).
    #[arg(long, requires = "download")]
    mirror: Option<String>,
    /// The network and its training settings: seed (the tutorial's CNN and settings), strong,
    /// lenet5 or resnet.
    #[arg(long, visible_alias = "arch", value_enum, default_value_t = CnnPreset::Seed)]
    preset: CnnPreset,
    /// Fraction of the training images held out for validation.
    #[arg(long)]
    valid_fraction: Option<f64>,
    /// Train on the first N training images only (quick runs).
    #[arg(long)]
    train_limit: Option<usize>,
    /// Augment training images with random shifts (±2 px) and rotations (±10°), seeded.
    #[arg(long)]
    augment: bool,
    /// Transfer learning: start from the feature layers of the run saved in DIR (same --arch),
    /// under a fresh classifier for this run's dataset.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["weights", "predict", "predict_idx", "evaluate"]
    )]
    init_from: Option<PathBuf>,
    /// `features`: train the classifier only, keeping the starting network's feature layers
    /// (from --init-from or --weights) as they are.
    #[arg(long, value_enum, conflicts_with_all = ["predict", "predict_idx", "evaluate"])]
    freeze: Option<Freeze>,
    /// Classify this image (PNG or PGM, any size) with the model saved in --artifact-dir.
    #[arg(long, conflicts_with = "predict_idx")]
    predict: Option<PathBuf>,
    /// Classify test image number N with the model saved in --artifact-dir.
    #[arg(long)]
    predict_idx: Option<usize>,
    /// Evaluate on the test set and exit: the --weights, else the model saved in
    /// --artifact-dir.
    #[arg(long, conflicts_with_all = ["predict", "predict_idx"])]
    evaluate: bool,
    #[command(flatten)]
    weights: WeightsArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// What `--freeze` keeps fixed.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Freeze {
    /// Every layer but the classifier.
    Features,
}

enum Action {
    Train,
    Evaluate,
    PredictFile(PathBuf),
    PredictIdx(usize),
}

struct Job {
    action: Action,
    /// The job the flags describe (the architecture of --weights).
    job: Box<CnnJob>,
    /// `--trainer` and `--devices`.
    train: TrainArgs,
    weights: WeightsArgs,
    dir: PathBuf,
    mode: Mode,
    progress: burn_zoo::train::ProgressMode,
}

impl Job {
    /// The model to run inference with: PyTorch's --weights, else the run saved in the
    /// artifact directory.
    fn model<B: Backend>(&self, device: &B::Device) -> Result<SavedCnn<B>, TrainError> {
        match &self.weights.weights {
            Some(file) => Ok(SavedCnn {
                job: (*self.job).clone(),
                model: burn_zoo::cnn::pytorch::load::<B>(&self.job.model, file, device)
                    .map_err(weights_error)?,
            }),
            None => load_saved::<B>(&self.dir, device),
        }
    }

    fn export<B: Backend>(
        &self,
        model: &burn_zoo::cnn::Network<B>,
        job: &CnnJob,
    ) -> Result<(), TrainError> {
        if let Some(file) = &self.weights.export_weights {
            burn_zoo::cnn::pytorch::save(model, &job.model, file).map_err(weights_error)?;
            println!("weights in PyTorch's layout: {}", file.display());
        }
        Ok(())
    }
}

impl Run for Job {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let bundled = zoo_cli::assets_dir().join("mnist-sample");
        match &self.action {
            Action::Train => {}
            Action::Evaluate => {
                let saved = self.model::<B::InnerBackend>(&device)?;
                print_evaluation(&evaluate(&saved.job, &saved.model, &bundled, &device)?);
                return self.export(&saved.model, &saved.job);
            }
            Action::PredictFile(path) => {
                let saved = self.model::<B::InnerBackend>(&device)?;
                let px = load_image(path, saved.job.model.image_size as u32)?;
                return print_top3(
                    &saved.probabilities(&px, &device)?,
                    saved.job.dataset,
                    &path.display().to_string(),
                );
            }
            &Action::PredictIdx(i) => {
                let saved = self.model::<B::InnerBackend>(&device)?;
                let data = load_data(&saved.job, &bundled)?;
                if i >= data.test.len() {
                    return Err(TrainError::Invalid(format!(
                        "--predict-idx {i}: the test set has {} images",
                        data.test.len()
                    )));
                }
                let probs = saved.probabilities(data.test.pixels(i), &device)?;
                let truth = saved.job.dataset.classes()[data.test.label(i)];
                return print_top3(
                    &probs,
                    saved.job.dataset,
                    &format!("test image {i} (true class {truth})"),
                );
            }
        };
        let job = &self.job;
        let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
        let start = match &self.weights.weights {
            Some(file) => Some(
                burn_zoo::cnn::pytorch::load::<B>(&job.model, file, &device)
                    .map_err(weights_error)?,
            ),
            None => None,
        };
        let trainer = self.train.trainer::<B>(&info, &device)?;
        let out = run_with::<B>(job, &ctx, &bundled, start, &trainer, &device)?;
        println!("{}", out.report.test_table());
        println!(
            "confusion matrix (rows: true class, columns: predicted)\n{}",
            out.confusion
        );
        println!(
            "trained {} epochs in {:.1}s ({:.0} training samples/s); artifacts in {}",
            out.report.epochs_completed,
            out.report.wall_time_secs,
            out.report.train_samples_per_sec,
            self.dir.display()
        );
        self.export(&out.model, job)
    }
}

fn print_top3(probs: &[f32], dataset: ImageDatasetKind, what: &str) -> Result<(), TrainError> {
    println!("{what}:");
    for (rank, (class, p)) in top_k(probs, 3).into_iter().enumerate() {
        println!("  {}. {:<12} {:.4}", rank + 1, dataset.classes()[class], p);
    }
    Ok(())
}

fn build(cli: &Cli) -> Result<CnnJob, String> {
    let mut job = match cli.preset {
        CnnPreset::Seed => CnnJob::seed(),
        CnnPreset::Strong => CnnJob::strong(),
        CnnPreset::Lenet5 => CnnJob::lenet5(),
        CnnPreset::Resnet => CnnJob::resnet(),
    };
    job.dataset = cli.dataset;
    job.data = cli.data.clone();
    job.train_limit = cli.train_limit;
    if cli.train_limit == Some(0) {
        return Err("--train-limit must be at least 1".into());
    }
    if let Some(v) = cli.valid_fraction {
        if !(0.0..1.0).contains(&v) {
            return Err(format!("--valid-fraction must be in [0, 1) (got {v})"));
        }
        job.valid_fraction = v;
    }
    job.train = cli.train.apply(job.train)?;
    if cli.augment {
        job = job.augmented();
    }
    job.init_from = cli.init_from.clone();
    if let Some(Freeze::Features) = cli.freeze {
        if cli.init_from.is_none() && cli.weights.weights.is_none() {
            return Err(
                "--freeze features needs a trained network to keep: --init-from DIR or --weights FILE"
                    .into(),
            );
        }
        job.freeze_features = true;
    }
    Ok(job)
}

/// `--download`: fetches the dataset into burn-dataset's cache before anything else runs.
fn download(cli: &Cli) -> Result<(), String> {
    let kind = cli.dataset;
    let cache = dataset_cache(kind)
        .ok_or("--download: no cache folder (neither XDG_CACHE_HOME nor HOME is set)")?;
    let stop = burn_zoo::train::interrupt::requested;
    let mirror = cli.mirror.as_deref().unwrap_or(default_mirror(kind));
    if !mirror.ends_with('/') {
        return Err(format!("--mirror {mirror}: must end with '/'"));
    }
    let done = download_idx_files(mirror, &cache, cli.output.progress(), &stop)
        .map_err(|e| format!("--download: {e}"))?;
    eprintln!(
        "{}: {} downloaded, {} already present",
        cache.display(),
        done.fetched.len(),
        done.present.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    if cli.download
        && let Err(e) = download(&cli)
    {
        eprintln!("error: {e}");
        return if burn_zoo::train::interrupt::requested() {
            ExitCode::from(burn_zoo::train::interrupt::EXIT_STATUS)
        } else {
            ExitCode::FAILURE
        };
    }
    let action = match (&cli.predict, cli.predict_idx) {
        (Some(p), _) => Action::PredictFile(p.clone()),
        (None, Some(i)) => Action::PredictIdx(i),
        (None, None) if cli.evaluate => Action::Evaluate,
        (None, None) => Action::Train,
    };
    let job = match build(&cli) {
        Ok(job) => job,
        Err(e) => return bad_flags(e),
    };
    if cli.weights.export_weights.is_some()
        && matches!(action, Action::PredictFile(_) | Action::PredictIdx(_))
    {
        return bad_flags("--export-weights goes with training or --evaluate, not --predict");
    }
    if let Err(e) = cli.weights.validate() {
        return bad_flags(e);
    }
    let job = Job {
        action,
        job: Box::new(job),
        train: cli.train.clone(),
        weights: cli.weights.clone(),
        dir: cli.output.dir("cnn"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, job))
}
