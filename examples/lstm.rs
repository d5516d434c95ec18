//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — on row-MNIST (default) or
//! the adding problem, with stacked, bidirectional and forget-bias options.
//!
//! ```sh
//! cargo run --release --example lstm                                  # row-MNIST, bundled sample
//! cargo run --release --example lstm -- --task adding --seq-len 100   # long-range memory
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use burn_zoo::backend::{dispatch, BackendInfo, Run};
use burn_zoo::cli::{
    bad_flags, exit_code, job_context, parse_or_exit, print_run_summary, BackendArgs, OutputArgs,
    SeqTaskArgs, TrainArgs,
};
use burn_zoo::lstm::model::LstmNetConfig;
use burn_zoo::training::seqjob::{run_sequence_job, SeqJob};
use burn_zoo::training::{seed_backend, Mode, TrainConfig, TrainError};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed LSTM on row-MNIST or the adding problem",
    after_help = "Defaults: the seed's LSTM (hidden 32, one layer) and training (Adam lr 1e-3, batch \
                  64, 5 epochs). row-MNIST data: --data DIR, else full MNIST in \
                  ~/.cache/burn-dataset/mnist, else the bundled sample."
)]
struct Cli {
    #[command(flatten)]
    task: SeqTaskArgs,
    /// Hidden units per direction.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// Stacked LSTM layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Bidirectional layers.
    #[arg(long)]
    bidirectional: bool,
    /// Dropout between stacked layers.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Initial forget-gate bias (e.g. 1.0); default: Burn's initialisation.
    #[arg(long)]
    forget_bias: Option<f32>,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    output: OutputArgs,
}

struct Job {
    job: SeqJob<LstmNetConfig>,
    dir: PathBuf,
    mode: Mode,
    progress: burn_zoo::training::ProgressMode,
}

impl Run for Job {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
        seed_backend::<B>(&device, self.job.train.seed);
        let model = self.job.model.init::<B>(&device);
        let bundled = burn_zoo::assets_dir().join("mnist-sample");
        let report = run_sequence_job(&self.job, "lstm", model, &ctx, &bundled, &device)?;
        print_run_summary(&report, &self.dir);
        Ok(())
    }
}

fn build(cli: &Cli) -> Result<SeqJob<LstmNetConfig>, String> {
    let task = cli.task.task()?;
    let (input, outputs) = task.shape();
    let model = LstmNetConfig::new(input, outputs)
        .with_hidden(cli.hidden)
        .with_layers(cli.layers)
        .with_bidirectional(cli.bidirectional)
        .with_dropout(cli.dropout)
        .with_forget_bias(cli.forget_bias);
    model.validate()?;
    let seed = TrainConfig {
        epochs: 5,
        batch_size: 64,
        lr: 1e-3,
        seed: 42,
        ..Default::default()
    };
    Ok(SeqJob {
        task,
        model,
        train: cli.train.apply(seed)?,
    })
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let job = match build(&cli) {
        Ok(job) => job,
        Err(e) => return bad_flags(e),
    };
    let job = Job {
        job,
        dir: cli.output.dir("lstm"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, job))
}
