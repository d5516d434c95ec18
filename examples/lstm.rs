//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — on row-MNIST (default) or
//! the adding problem, with stacked, bidirectional and forget-bias options.
//!
//! ```sh
//! cargo run --release --example lstm                                  # row-MNIST, bundled sample
//! cargo run --release --example lstm -- --task adding --seq-len 100   # long-range memory
//! ```

use std::process::ExitCode;

use burn_zoo::cli::{parse_or_exit, BackendArgs, OutputArgs, SeqTaskArgs, TrainArgs};
use burn_zoo::lstm::model::LstmNetConfig;
use burn_zoo::seq::{build_job, run_example};
use burn_zoo::training::seqjob::SeqJob;
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

fn build(cli: &Cli) -> Result<SeqJob<LstmNetConfig>, String> {
    build_job(&cli.task, &cli.train, |input, outputs| {
        LstmNetConfig::new(input, outputs)
            .with_hidden(cli.hidden)
            .with_layers(cli.layers)
            .with_bidirectional(cli.bidirectional)
            .with_dropout(cli.dropout)
            .with_forget_bias(cli.forget_bias)
    })
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    run_example(build(&cli), &cli.backend, &cli.output)
}
