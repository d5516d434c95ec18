//! The seed RNN — `RNN(input, hidden 32, tanh) → last step → Linear` — or its ReLU and GRU
//! variants, on row-MNIST (default) or the adding problem.
//!
//! ```sh
//! cargo run --release --example rnn                                  # row-MNIST, bundled sample
//! cargo run --release --example rnn -- --cell gru
//! cargo run --release --example rnn -- --task adding --seq-len 100   # vanishing gradients
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use burn_zoo::backend::{dispatch, BackendInfo, Run};
use burn_zoo::cli::{
    bad_flags, exit_code, job_context, parse_or_exit, print_run_summary, BackendArgs, OutputArgs,
    SeqTaskArgs, TrainArgs,
};
use burn_zoo::rnn::{CellKind, RnnNetConfig};
use burn_zoo::training::seqjob::{run_sequence_job, SeqJob};
use burn_zoo::training::{seed_backend, Mode, TrainConfig, TrainError};
use clap::{Parser, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed RNN (tanh, ReLU or GRU cell) on row-MNIST or the adding problem",
    after_help = "Defaults: the seed's RNN (tanh cell, hidden 32) and training (Adam lr 1e-3, batch \
                  64, 5 epochs). row-MNIST data: --data DIR, else full MNIST in \
                  ~/.cache/burn-dataset/mnist, else the bundled sample."
)]
struct Cli {
    #[command(flatten)]
    task: SeqTaskArgs,
    /// Hidden units.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// Recurrent cell: tanh (the seed's), relu or gru.
    #[arg(long, value_enum, default_value_t = Cell::Tanh)]
    cell: Cell,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Cell {
    Tanh,
    Relu,
    Gru,
}

struct Job {
    job: SeqJob<RnnNetConfig>,
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
        let report = run_sequence_job(&self.job, "rnn", model, &ctx, &bundled, &device)?;
        print_run_summary(&report, &self.dir);
        Ok(())
    }
}

fn build(cli: &Cli) -> Result<SeqJob<RnnNetConfig>, String> {
    let task = cli.task.task()?;
    let (input, outputs) = task.shape();
    let model = RnnNetConfig::new(input, outputs)
        .with_hidden(cli.hidden)
        .with_cell(match cli.cell {
            Cell::Tanh => CellKind::Tanh,
            Cell::Relu => CellKind::Relu,
            Cell::Gru => CellKind::Gru,
        });
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
        dir: cli.output.dir("rnn"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, job))
}
