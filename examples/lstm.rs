//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — on row-MNIST (default) or
//! the adding problem or sentence classification, with stacked, bidirectional and forget-bias
//! options.
//!
//! ```sh
//! cargo run --release --example lstm                                  # row-MNIST, bundled sample
//! cargo run --release --example lstm -- --task adding --seq-len 100   # long-range memory
//! cargo run --release --example lstm -- --task text --bidirectional   # TREC, bundled
//! cargo run --release --example lstm -- --predict "Who wrote Hamlet ?"
//! ```

use std::process::ExitCode;

use burn_zoo::kernels::sequence::Pooling;
use burn_zoo::lstm::model::LstmNetConfig;
use burn_zoo::train::sequence::SeqJob;
use clap::Parser;
use zoo_cli::cli::{BackendArgs, OutputArgs, SeqTaskArgs, TrainArgs, WeightsArgs, parse_or_exit};
use zoo_cli::seq::{build_job, run_example};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed LSTM on row-MNIST, the adding problem or text",
    after_help = "Defaults: the seed's LSTM (hidden 32, one layer) and training (Adam lr 1e-3, batch \
                  64, 5 epochs). row-MNIST data: --data DIR, else full MNIST in \
                  ~/.cache/burn-dataset/mnist, else the bundled sample. Text data: \
                  --train-file/--dev-file/--test-file, else the bundled TREC files."
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
    /// Dropout between stacked layers and on the features the head reads (text: also on the
    /// embeddings).
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Initial forget-gate bias (e.g. 1.0); default: Burn's initialisation.
    #[arg(long)]
    forget_bias: Option<f32>,
    /// What the head reads: last (the last step, the seed's), max or mean over the steps.
    #[arg(long, value_enum, default_value_t = Pooling::Last)]
    pooling: Pooling,
    #[command(flatten)]
    weights: WeightsArgs,
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
            .with_pooling(cli.pooling)
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
