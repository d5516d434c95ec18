//! The seed LSTM — `LSTM(input, hidden 32) → last step → Linear` — on row-MNIST (default) or
//! the adding problem or sentence classification, with stacked, bidirectional and forget-bias
//! options; and `--task lm`, a character-level LSTM language model.
//!
//! ```sh
//! cargo run --release --example lstm                                  # row-MNIST, bundled sample
//! cargo run --release --example lstm -- --task adding --seq-len 100   # long-range memory
//! cargo run --release --example lstm -- --task text --bidirectional   # TREC, bundled
//! cargo run --release --example lstm -- --predict "Who wrote Hamlet ?"
//! cargo run --release --example lstm -- --task lm                     # characters of the TREC questions
//! cargo run --release --example lstm -- --task lm --sample 200 --prompt "What is"
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use burn_zoo::kernels::sequence::Pooling;
use burn_zoo::lstm::language::{LmJob, LmText, load as load_lm, run as run_lm};
use burn_zoo::lstm::model::LstmNetConfig;
use burn_zoo::train::TrainError;
use burn_zoo::train::sequence::SeqJob;
use clap::{Args, Parser};
use zoo_cli::backend::{BackendInfo, Run, dispatch};
use zoo_cli::cli::{
    BackendArgs, OutputArgs, SeqTaskArgs, SeqTaskKind, TrainArgs, WeightsArgs, bad_flags,
    exit_code, job_context, parse_or_exit,
};
use zoo_cli::seq::{build_job, run_example};

#[derive(Parser, Debug)]
#[command(
    about = "Train the seed LSTM on row-MNIST, the adding problem or text, or a character-level language model",
    after_help = "Defaults: the seed's LSTM (hidden 32, one layer) and training (Adam lr 1e-3, batch \
                  64, 5 epochs). row-MNIST data: --data DIR, else full MNIST in \
                  ~/.cache/burn-dataset/mnist, else the bundled sample. Text data: \
                  --train-file/--dev-file/--test-file, else the bundled TREC files. --task lm: \
                  hidden 256, dropout 0.2, windows of 50 characters, 16 columns, Adam 2e-3 with \
                  cosine decay, 15 epochs, on --text-file or the bundled TREC questions, split \
                  in order (--valid-fraction, --test-fraction)."
)]
struct Cli {
    #[command(flatten)]
    task: SeqTaskArgs,
    #[command(flatten)]
    lm: LmArgs,
    /// Hidden units per direction (default 32; --task lm: 256).
    #[arg(long)]
    hidden: Option<usize>,
    /// Stacked LSTM layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Bidirectional layers.
    #[arg(long)]
    bidirectional: bool,
    /// Dropout between stacked layers and on the features the head reads (text: also on the
    /// embeddings; --task lm: on the embeddings, between layers and before the output layer,
    /// default 0.2).
    #[arg(long)]
    dropout: Option<f64>,
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

/// The flags of `--task lm`.
#[derive(Args, Clone, Debug)]
struct LmArgs {
    /// lm: a UTF-8 text file to model (default: the bundled TREC questions).
    #[arg(long)]
    text_file: Option<PathBuf>,
    /// lm: characters per truncated-BPTT window.
    #[arg(long)]
    bptt: Option<usize>,
    /// lm: the n-gram baseline's longest order tried (chosen on validation).
    #[arg(long)]
    baseline_max_order: Option<usize>,
    /// lm: generate N characters with the model saved in --artifact-dir (no training).
    #[arg(long, value_name = "N")]
    sample: Option<usize>,
    /// lm: with --sample, divide the logits by T (below 1: safer text, above: wilder).
    #[arg(long, value_name = "T")]
    temperature: Option<f64>,
    /// lm: with --sample, the text to continue.
    #[arg(long)]
    prompt: Option<String>,
}

impl LmArgs {
    fn any(&self) -> Option<&'static str> {
        [
            (self.text_file.is_some(), "--text-file"),
            (self.bptt.is_some(), "--bptt"),
            (self.baseline_max_order.is_some(), "--baseline-max-order"),
            (self.sample.is_some(), "--sample"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

fn build(cli: &Cli) -> Result<SeqJob<LstmNetConfig>, String> {
    build_job(&cli.task, &cli.train, |input, outputs| {
        LstmNetConfig::new(input, outputs)
            .with_hidden(cli.hidden.unwrap_or(32))
            .with_layers(cli.layers)
            .with_bidirectional(cli.bidirectional)
            .with_dropout(cli.dropout.unwrap_or(0.0))
            .with_forget_bias(cli.forget_bias)
            .with_pooling(cli.pooling)
    })
}

/// The language-model job the flags describe.
fn build_lm(cli: &Cli) -> Result<LmJob, String> {
    let t = &cli.task;
    let foreign = [
        (t.data.is_some(), "--data"),
        (t.train_file.is_some(), "--train-file"),
        (t.dev_file.is_some(), "--dev-file"),
        (t.test_file.is_some(), "--test-file"),
        (t.series.is_some(), "--series"),
        (t.predict.is_some(), "--predict"),
        (t.evaluate, "--evaluate"),
        (cli.bidirectional, "--bidirectional"),
        (cli.forget_bias.is_some(), "--forget-bias"),
        (cli.weights.weights.is_some(), "--weights"),
        (cli.weights.export_weights.is_some(), "--export-weights"),
    ];
    if let Some((_, flag)) = foreign.iter().find(|(set, _)| *set) {
        return Err(format!("{flag} is not for --task lm"));
    }
    let mut job = LmJob::seed();
    if let Some(path) = &cli.lm.text_file {
        job.text = LmText::File { path: path.clone() };
    }
    job.valid_fraction = t.valid_fraction;
    job.test_fraction = t.test_fraction;
    job.model.embed_dim = t.embed_dim;
    job.model.layers = cli.layers;
    if let Some(h) = cli.hidden {
        job.model.hidden = h;
    }
    if let Some(p) = cli.dropout {
        job.model.dropout = p;
    }
    if let Some(n) = cli.lm.bptt {
        job.bptt = n;
    }
    if let Some(n) = cli.lm.baseline_max_order {
        job.baseline_max_order = n;
    }
    job.train = cli.train.apply(job.train)?;
    job.validate()?;
    Ok(job)
}

enum LmAction {
    Train(Box<LmJob>),
    Sample {
        n: usize,
        prompt: String,
        temperature: f64,
        seed: u64,
    },
}

struct LmExample {
    action: LmAction,
    dir: PathBuf,
    mode: burn_zoo::train::Mode,
    progress: burn_zoo::train::ProgressMode,
}

impl Run for LmExample {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        match self.action {
            LmAction::Sample {
                n,
                prompt,
                temperature,
                seed,
            } => {
                let saved = load_lm::<B::InnerBackend>(&self.dir, &device)?;
                println!(
                    "{}",
                    saved.generate(&prompt, n, temperature, seed, &device)?
                );
                Ok(())
            }
            LmAction::Train(job) => {
                let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
                let out = run_lm::<B>(&job, &ctx, &zoo_cli::assets_dir(), &device)?;
                let r = &out.report;
                let b = r.baseline;
                if let Some(test) = r.test {
                    println!(
                        "test: {:.4} bits per character, perplexity {:.3}; the {}-gram baseline: {:.4}, {:.3}{}",
                        test.bits_per_char,
                        test.perplexity,
                        b.order,
                        b.test.bits_per_char,
                        b.test.perplexity,
                        if test.perplexity < b.test.perplexity {
                            " (the LSTM is better)"
                        } else {
                            " (the baseline is better)"
                        }
                    );
                }
                println!(
                    "trained {} epochs in {:.1}s ({:.0} training characters/s); artifacts in {}",
                    r.epochs_completed,
                    r.wall_time_secs,
                    r.train_chars_per_sec,
                    self.dir.display()
                );
                Ok(())
            }
        }
    }
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    if cli.task.task != SeqTaskKind::Lm {
        if let Some(flag) = cli.lm.any() {
            return bad_flags(format!("{flag} is for --task lm"));
        }
        return run_example(
            &cli.task,
            &cli.train,
            &cli.weights,
            || build(&cli),
            &cli.backend,
            &cli.output,
        );
    }
    let sampling = [
        (cli.lm.temperature.is_some(), "--temperature"),
        (cli.lm.prompt.is_some(), "--prompt"),
    ];
    if let (None, Some((_, flag))) = (cli.lm.sample, sampling.iter().find(|(set, _)| *set)) {
        return bad_flags(format!("{flag} goes with --sample N"));
    }
    let action = match cli.lm.sample {
        Some(n) => {
            if n == 0 {
                return bad_flags("--sample must be at least 1");
            }
            LmAction::Sample {
                n,
                prompt: cli.lm.prompt.clone().unwrap_or_default(),
                temperature: cli.lm.temperature.unwrap_or(1.0),
                seed: cli.train.seed.unwrap_or(42),
            }
        }
        None => match build_lm(&cli) {
            Ok(job) => LmAction::Train(Box::new(job)),
            Err(e) => return bad_flags(e),
        },
    };
    let example = LmExample {
        action,
        dir: cli.output.dir("lstm-lm"),
        mode: cli.output.mode(),
        progress: cli.output.progress(),
    };
    exit_code(dispatch(cli.backend.backend, cli.backend.device, example))
}
