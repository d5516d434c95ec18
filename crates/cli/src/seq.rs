//! What `examples/rnn.rs` and `examples/lstm.rs` share: the seed training settings, and one
//! job type that trains either network on a sequence task on any backend.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn_zoo::weights::WeightsError;
use zoo_lstm::LstmNetConfig;
use zoo_rnn::RnnNetConfig;
use zoo_train::sequence::{SentenceClasses, SeqJob, SequenceModel, load_sequence_run, seed_train};
use zoo_train::train::JobContext;
use zoo_train::{Evaluation, Mode, ProgressMode, TrainError, Trained, Trainer};

use crate::backend::{BackendInfo, Run, dispatch};
use crate::cli::{
    BackendArgs, OutputArgs, SeqTaskArgs, TrainArgs, WeightsArgs, bad_flags, exit_code,
    job_context, print_evaluation, print_run_summary, weights_error,
};

/// A recurrent network the sequence examples can train, evaluate and exchange with PyTorch:
/// its crate's `train`, `infer` and `pytorch` modules.
pub trait SeqNet: SequenceModel {
    /// Trains the job from `start`, else from a fresh network, with `trainer`'s loop
    /// (`zoo_rnn::train::run_with`, `zoo_lstm::train::run_with`).
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        start: Option<Self::Net<B>>,
        ctx: &JobContext,
        assets: &Path,
        trainer: &Trainer<B::Device>,
        device: &B::Device,
    ) -> Result<Trained<Self::Net<B>>, TrainError>;
    /// The test-set evaluation of a network on the job's task.
    fn evaluate<B: Backend>(
        job: &SeqJob<Self>,
        net: &Self::Net<B>,
        assets: &Path,
        device: &B::Device,
    ) -> Result<Evaluation, TrainError>;
    /// Classifies a sentence with a saved text run.
    fn classify<B: Backend>(
        dir: &Path,
        sentence: &str,
        device: &B::Device,
    ) -> Result<SentenceClasses, TrainError>;
    /// A network of this architecture with a PyTorch `state_dict`'s weights.
    fn load_weights<B: Backend>(
        &self,
        file: &Path,
        device: &B::Device,
    ) -> Result<Self::Net<B>, WeightsError>;
    /// Writes a network in PyTorch's layout and names.
    fn save_weights<B: Backend>(&self, net: &Self::Net<B>, file: &Path)
    -> Result<(), WeightsError>;
}

/// Implements [`SeqNet`] for a network crate: the same six calls into its modules.
macro_rules! seq_net {
    ($config:ty, $krate:ident) => {
        impl SeqNet for $config {
            fn train<B: AutodiffBackend>(
                job: &SeqJob<Self>,
                start: Option<Self::Net<B>>,
                ctx: &JobContext,
                assets: &Path,
                trainer: &Trainer<B::Device>,
                device: &B::Device,
            ) -> Result<Trained<Self::Net<B>>, TrainError> {
                $krate::train::run_with::<B>(job, start, ctx, assets, trainer, device)
            }
            fn evaluate<B: Backend>(
                job: &SeqJob<Self>,
                net: &Self::Net<B>,
                assets: &Path,
                device: &B::Device,
            ) -> Result<Evaluation, TrainError> {
                $krate::infer::evaluate::<B>(job, net, assets, device)
            }
            fn classify<B: Backend>(
                dir: &Path,
                sentence: &str,
                device: &B::Device,
            ) -> Result<SentenceClasses, TrainError> {
                $krate::infer::classify::<B>(dir, sentence, device)
            }
            fn load_weights<B: Backend>(
                &self,
                file: &Path,
                device: &B::Device,
            ) -> Result<Self::Net<B>, WeightsError> {
                $krate::pytorch::load::<B>(self, file, device)
            }
            fn save_weights<B: Backend>(
                &self,
                net: &Self::Net<B>,
                file: &Path,
            ) -> Result<(), WeightsError> {
                $krate::pytorch::save(net, self, file)
            }
        }
    };
}

seq_net!(LstmNetConfig, zoo_lstm);
seq_net!(RnnNetConfig, zoo_rnn);

enum Action<C> {
    /// Train the job (from --weights when given).
    Train(Box<SeqJob<C>>),
    /// Evaluate --weights with the job's architecture and task, or (no job) the saved run.
    Evaluate(Option<Box<SeqJob<C>>>),
    Predict(String),
}

struct SeqExample<C> {
    action: Action<C>,
    /// `--trainer` and `--devices`.
    train: TrainArgs,
    weights: WeightsArgs,
    dir: PathBuf,
    mode: Mode,
    progress: ProgressMode,
}

impl<C: SeqNet> SeqExample<C> {
    fn export<B: Backend>(&self, job: &SeqJob<C>, net: &C::Net<B>) -> Result<(), TrainError> {
        if let Some(file) = &self.weights.export_weights {
            job.model.save_weights(net, file).map_err(weights_error)?;
            println!("weights in PyTorch's layout: {}", file.display());
        }
        Ok(())
    }
}

impl<C: SeqNet> Run for SeqExample<C> {
    type Output = Result<(), TrainError>;

    fn libtorch_one_thread(&self) -> bool {
        true
    }

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let assets = crate::assets_dir();
        match &self.action {
            Action::Train(job) => {
                let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
                let start = match &self.weights.weights {
                    Some(file) => Some(
                        job.model
                            .load_weights::<B>(file, &device)
                            .map_err(weights_error)?,
                    ),
                    None => None,
                };
                let trainer = self.train.trainer::<B>(&info, &device)?;
                let trained = C::train::<B>(job, start, &ctx, &assets, &trainer, &device)?;
                print_run_summary(&trained.report, &self.dir);
                self.export(job, &trained.model)
            }
            Action::Evaluate(job) => {
                let (job, net) = match (job, &self.weights.weights) {
                    (Some(job), Some(file)) => {
                        let net = job
                            .model
                            .load_weights::<B::InnerBackend>(file, &device)
                            .map_err(weights_error)?;
                        ((**job).clone(), net)
                    }
                    _ => load_sequence_run::<B::InnerBackend, C>(&self.dir, &device)?,
                };
                print_evaluation(&C::evaluate(&job, &net, &assets, &device)?);
                self.export(&job, &net)
            }
            Action::Predict(sentence) => {
                let SentenceClasses {
                    ranked,
                    unknown_words: unknown,
                } = C::classify::<B::InnerBackend>(&self.dir, sentence, &device)
                    .map_err(predict_error)?;
                println!("\"{sentence}\" ({unknown} word(s) not in the vocabulary):");
                for (rank, (label, p)) in ranked.iter().take(3).enumerate() {
                    println!("  {}. class {label:<8} {p:.4}", rank + 1);
                }
                Ok(())
            }
        }
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

/// Runs a sequence example — trains the job `build` makes (or reports its flag error), from
/// `--weights` when given; with `--evaluate` evaluates `--weights` (or the saved run) on the
/// test set; with `--predict` classifies a sentence with the saved run — and gives the process
/// exit. `--export-weights` writes the trained or evaluated network in PyTorch's layout.
pub fn run_example<C: SeqNet>(
    task: &SeqTaskArgs,
    train: &TrainArgs,
    weights: &WeightsArgs,
    build: impl FnOnce() -> Result<SeqJob<C>, String>,
    backend: &BackendArgs,
    output: &OutputArgs,
) -> ExitCode {
    if let Err(e) = weights.validate() {
        return bad_flags(e);
    }
    let action = if let Some(sentence) = &task.predict {
        if weights.weights.is_some() || weights.export_weights.is_some() {
            return bad_flags(
                "--predict reads the saved run's vocabulary and model: it takes neither \
                 --weights nor --export-weights (fine-tune --weights on the text task first)",
            );
        }
        Action::Predict(sentence.clone())
    } else if task.evaluate && weights.weights.is_none() {
        Action::Evaluate(None)
    } else {
        match build() {
            Ok(job) if task.evaluate => Action::Evaluate(Some(Box::new(job))),
            Ok(job) => Action::Train(Box::new(job)),
            Err(e) => return bad_flags(e),
        }
    };
    let example = SeqExample {
        action,
        train: train.clone(),
        weights: weights.clone(),
        dir: output.dir(C::KIND),
        mode: output.mode(),
        progress: output.progress(),
    };
    exit_code(dispatch(backend.backend, backend.device, example))
}
