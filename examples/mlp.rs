//! The seed MLP on two moons (default), or an MLP regressor on a CSV file.
//!
//! With no flags this reproduces the tutorial's run: make_moons(1000, noise 0.2, seed 42),
//! standardised, 80/20 split (scikit-learn's rows), Linear(2,16) → ReLU → Linear(16,2),
//! Adam lr 0.01, 200 full-batch epochs, on ndarray. `--task regression` trains on the bundled
//! diabetes data (or `--data FILE --target COLUMN`). `--weights FILE` starts from PyTorch's
//! `state_dict` (fine-tuning, or `--evaluate`); `--export-weights FILE.safetensors` writes the
//! model back in PyTorch's layout.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn_zoo::mlp::infer::{evaluate, load as load_saved};
use burn_zoo::mlp::train::{MlpJob, MlpTask, architecture, run_with};
use burn_zoo::mlp::{Mlp, MlpActivation, MlpConfig, MlpInit};
use burn_zoo::train::{Mode, TrainError};
use clap::{Parser, ValueEnum};
use zoo_cli::backend::{BackendInfo, Run, dispatch};
use zoo_cli::cli::{
    BackendArgs, OutputArgs, TrainArgs, WeightsArgs, bad_flags, exit_code, job_context,
    parse_or_exit, print_evaluation, weights_error,
};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed MLP (two moons) or an MLP regressor (CSV)",
    after_help = "Seed defaults: classification: 200 full-batch epochs, Adam lr 0.01, hidden 16; \
                  regression: 300 full-batch epochs, Adam lr 0.01, hidden 16, weight decay 0.01."
)]
struct Cli {
    /// classification (two moons) or regression (CSV).
    #[arg(long, value_enum, default_value_t = Task::Classification)]
    task: Task,
    /// Regression data: a CSV file with a header row [default: assets/diabetes.csv].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Regression target column.
    #[arg(long, default_value = "target")]
    target: String,
    /// Two moons: samples.
    #[arg(long, default_value_t = 1000)]
    n_samples: usize,
    /// Two moons: noise standard deviation.
    #[arg(long, default_value_t = 0.2)]
    noise: f64,
    /// Seed of the data generator and of the train/test split (scikit-learn's random_state).
    #[arg(long, default_value_t = 42)]
    data_seed: u32,
    /// Fraction of rows held out for test.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Fraction of the training rows held out for validation (needed by --patience).
    #[arg(long, default_value_t = 0.0)]
    valid_fraction: f64,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    hidden: Vec<usize>,
    /// Hidden activation.
    #[arg(long, value_enum, default_value_t = MlpActivation::Relu)]
    activation: MlpActivation,
    /// Dropout probability after each hidden layer.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Weight initialisation.
    #[arg(long, value_enum, default_value_t = MlpInit::Default)]
    init: MlpInit,
    /// Evaluate on the test split and exit: the --weights (with the architecture the other
    /// flags give), else the model saved in --artifact-dir.
    #[arg(long)]
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

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Task {
    Classification,
    Regression,
}

struct Job {
    job: MlpJob,
    /// `--trainer` and `--devices`.
    train: TrainArgs,
    /// Evaluate instead of training.
    evaluate: bool,
    weights: WeightsArgs,
    dir: PathBuf,
    mode: Mode,
    progress: burn_zoo::train::ProgressMode,
}

impl Job {
    fn export<B: Backend>(&self, mlp: &Mlp<B>, config: &MlpConfig) -> Result<(), TrainError> {
        if let Some(file) = &self.weights.export_weights {
            burn_zoo::mlp::pytorch::save(mlp, config, file).map_err(weights_error)?;
            println!("weights in PyTorch's layout: {}", file.display());
        }
        Ok(())
    }

    /// `--evaluate`: PyTorch's --weights with the flags' architecture, else the saved run.
    fn evaluate<B: Backend>(&self, device: &B::Device) -> Result<(), TrainError> {
        let (job, mlp) = match &self.weights.weights {
            Some(file) => {
                let mut job = self.job.clone();
                job.model = architecture(&job)?;
                let mlp = burn_zoo::mlp::pytorch::load::<B>(&job.model, file, device)
                    .map_err(weights_error)?;
                (job, mlp)
            }
            None => {
                let saved = load_saved::<B>(&self.dir, device)?;
                (saved.job, saved.model)
            }
        };
        print_evaluation(&evaluate::<B>(&job, &mlp, device)?);
        self.export(&mlp, &job.model)
    }
}

impl Run for Job {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        if self.evaluate {
            return self.evaluate::<B::InnerBackend>(&device);
        }
        let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
        let config = architecture(&self.job)?;
        let start = match &self.weights.weights {
            Some(file) => Some(
                burn_zoo::mlp::pytorch::load::<B>(&config, file, &device).map_err(weights_error)?,
            ),
            None => None,
        };
        let trainer = self.train.trainer::<B>(&info, &device)?;
        let out = run_with::<B>(&self.job, &ctx, start, &trainer, &device)?;
        println!("{}", out.report.test_table());
        if let Some(c) = &out.confusion {
            println!("confusion matrix (rows: true class, columns: predicted)\n{c}");
        }
        println!(
            "trained {} epochs in {:.1}s ({:.0} samples/s); artifacts in {}",
            out.report.epochs_completed,
            out.report.wall_time_secs,
            out.report.train_samples_per_sec,
            self.dir.display()
        );
        self.export(&out.model, &config)
    }
}

fn build(cli: &Cli) -> Result<MlpJob, String> {
    let mut job = MlpJob::seed();
    if let Task::Regression = cli.task {
        let data = cli
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("assets/diabetes.csv"));
        job.task = MlpTask::Regression {
            data,
            target: cli.target.clone(),
        };
        job.train.epochs = 300;
        job.train.weight_decay = 0.01;
    } else {
        if cli.data.is_some() {
            return Err("--data is for --task regression (two moons are generated)".into());
        }
        job.task = MlpTask::Moons {
            n_samples: cli.n_samples,
            noise: cli.noise,
            data_seed: cli.data_seed,
        };
    }
    job.split.test_fraction = cli.test_fraction;
    job.split.valid_fraction = cli.valid_fraction;
    job.split.seed = cli.data_seed;
    job.model = job
        .model
        .with_hidden(cli.hidden.clone())
        .with_dropout(cli.dropout)
        .with_activation(cli.activation)
        .with_init(cli.init);
    job.model.validate()?;
    job.train = cli.train.apply(job.train)?;
    Ok(job)
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let job = match build(&cli) {
        Ok(job) => job,
        Err(e) => return bad_flags(e),
    };
    if let Err(e) = cli.weights.validate() {
        return bad_flags(e);
    }
    let job = Job {
        job,
        train: cli.train.clone(),
        evaluate: cli.evaluate,
        weights: cli.weights.clone(),
        dir: cli.output.dir("mlp"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, job))
}
