//! The seed RNN — `RNN(input, hidden 32, tanh) → last step → Linear` — or its ReLU and GRU
//! variants, on row-MNIST (default), the adding problem or sentence classification.
//!
//! ```sh
//! cargo run --release --example rnn                                  # row-MNIST, bundled sample
//! cargo run --release --example rnn -- --cell gru
//! cargo run --release --example rnn -- --task adding --seq-len 100   # vanishing gradients
//! cargo run --release --example rnn -- --task text --cell gru        # TREC, bundled
//! cargo run --release --example rnn -- --predict "Who wrote Hamlet ?"
//! ```

use std::process::ExitCode;

use burn_zoo::rnn::{CellKind, RnnNetConfig};
use burn_zoo::train::sequence::SeqJob;
use clap::Parser;
use zoo_cli::cli::{BackendArgs, OutputArgs, SeqTaskArgs, TrainArgs, WeightsArgs, parse_or_exit};
use zoo_cli::seq::{build_job, run_example};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed RNN (tanh, ReLU or GRU cell) on row-MNIST, the adding problem or text",
    after_help = "Defaults: the seed's RNN (tanh cell, hidden 32) and training (Adam lr 1e-3, batch \
                  64, 5 epochs). row-MNIST data: --data DIR, else full MNIST in \
                  ~/.cache/burn-dataset/mnist, else the bundled sample. Text data: \
                  --train-file/--dev-file/--test-file, else the bundled TREC files."
)]
struct Cli {
    #[command(flatten)]
    task: SeqTaskArgs,
    /// Hidden units.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// Recurrent cell: tanh (the seed's), relu or gru.
    #[arg(long, value_enum, default_value_t = CellKind::Tanh)]
    cell: CellKind,
    /// Dropout on the features the head reads (text: also on the embeddings).
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    #[command(flatten)]
    weights: WeightsArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    output: OutputArgs,
}

fn build(cli: &Cli) -> Result<SeqJob<RnnNetConfig>, String> {
    build_job(&cli.task, &cli.train, |input, outputs| {
        RnnNetConfig::new(input, outputs)
            .with_hidden(cli.hidden)
            .with_cell(cli.cell)
            .with_dropout(cli.dropout)
    })
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    run_example(
        &cli.task,
        &cli.train,
        &cli.weights,
        || build(&cli),
        &cli.backend,
        &cli.output,
    )
}
