//! What `examples/rnn.rs` and `examples/lstm.rs` share: the seed training settings, and one
//! job type that trains either network on a sequence task on any backend.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::backend::{AutodiffBackend, Backend};
use zoo_lstm::LstmNetConfig;
use zoo_rnn::RnnNetConfig;
use zoo_train::sequence::{seed_train, SentenceClasses, SeqJob, SequenceModel};
use zoo_train::train::JobContext;
use zoo_train::{Mode, ProgressMode, Report, TrainError};

use crate::backend::{dispatch, BackendInfo, Run};
use crate::cli::{
    bad_flags, exit_code, job_context, print_run_summary, BackendArgs, OutputArgs, SeqTaskArgs,
    TrainArgs,
};

/// A recurrent network the sequence examples can train: its crate's `train::run` and
/// `infer::classify`.
pub trait SeqNet: SequenceModel {
    /// Trains the job (`zoo_rnn::train::run`, `zoo_lstm::train::run`).
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        ctx: &JobContext,
        assets: &Path,
        device: &B::Device,
    ) -> Result<Report, TrainError>;
    /// Classifies a sentence with a saved text run.
    fn classify<B: Backend>(
        dir: &Path,
        sentence: &str,
        device: &B::Device,
    ) -> Result<SentenceClasses, TrainError>;
}

impl SeqNet for LstmNetConfig {
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        ctx: &JobContext,
        assets: &Path,
        device: &B::Device,
    ) -> Result<Report, TrainError> {
        zoo_lstm::train::run::<B>(job, ctx, assets, device)
    }
    fn classify<B: Backend>(
        dir: &Path,
        sentence: &str,
        device: &B::Device,
    ) -> Result<SentenceClasses, TrainError> {
        zoo_lstm::infer::classify::<B>(dir, sentence, device)
    }
}

impl SeqNet for RnnNetConfig {
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        ctx: &JobContext,
        assets: &Path,
        device: &B::Device,
    ) -> Result<Report, TrainError> {
        zoo_rnn::train::run::<B>(job, ctx, assets, device)
    }
    fn classify<B: Backend>(
        dir: &Path,
        sentence: &str,
        device: &B::Device,
    ) -> Result<SentenceClasses, TrainError> {
        zoo_rnn::infer::classify::<B>(dir, sentence, device)
    }
}

enum Action<C> {
    Train(Box<SeqJob<C>>),
    Predict(String),
}

struct SeqExample<C> {
    action: Action<C>,
    dir: PathBuf,
    mode: Mode,
    progress: ProgressMode,
}

impl<C: SeqNet> Run for SeqExample<C> {
    type Output = Result<(), TrainError>;

    fn libtorch_one_thread(&self) -> bool {
        true
    }

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        match self.action {
            Action::Train(job) => {
                let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
                let report = C::train::<B>(&job, &ctx, &crate::assets_dir(), &device)?;
                print_run_summary(&report, &self.dir);
            }
            Action::Predict(sentence) => {
                let SentenceClasses {
                    ranked,
                    unknown_words: unknown,
                } = C::classify::<B::InnerBackend>(&self.dir, &sentence, &device)
                    .map_err(predict_error)?;
                println!("\"{sentence}\" ({unknown} word(s) not in the vocabulary):");
                for (rank, (label, p)) in ranked.iter().take(3).enumerate() {
                    println!("  {}. class {label:<8} {p:.4}", rank + 1);
                }
            }
        }
        Ok(())
    }
}

/// Names the `--predict` flag in errors about the sentence or the saved run.
fn predict_error(e: TrainError) -> TrainError {
    match e {
        TrainError::Invalid(reason) => TrainError::Invalid(format!("--predict: {reason}")),
        other => other,
    }
}

/// The job the flags describe: the task, the network `model(input features, outputs)` builds
/// for it (for text, input = `--embed-dim`, and the vocabulary comes from the training file),
/// and the seed training settings overridden by the training flags.
pub fn build_job<C: SeqNet>(
    task: &SeqTaskArgs,
    train: &TrainArgs,
    model: impl FnOnce(usize, usize) -> C,
) -> Result<SeqJob<C>, String> {
    let train = train.apply(seed_train())?;
    let task_args = task;
    let task = task_args.task()?;
    let shape = task
        .shape(&crate::assets_dir(), train.seed)
        .map_err(|e| e.to_string())?;
    let input = shape.input.unwrap_or(task_args.embed_dim);
    let model = model(input, shape.outputs).with_token_input(shape.vocab);
    model.validate()?;
    Ok(SeqJob { task, model, train })
}

/// Runs a sequence example — trains the job `build` makes (or reports its flag error), or with
/// `--predict` classifies a sentence with the saved run — and gives the process exit.
pub fn run_example<C: SeqNet>(
    task: &SeqTaskArgs,
    build: impl FnOnce() -> Result<SeqJob<C>, String>,
    backend: &BackendArgs,
    output: &OutputArgs,
) -> ExitCode {
    let action = match &task.predict {
        Some(sentence) => Action::Predict(sentence.clone()),
        None => match build() {
            Ok(job) => Action::Train(Box::new(job)),
            Err(e) => return bad_flags(e),
        },
    };
    let example = SeqExample {
        action,
        dir: output.dir(C::KIND),
        mode: output.mode(),
        progress: output.progress(),
    };
    exit_code(dispatch(backend.backend, backend.device, example))
}
