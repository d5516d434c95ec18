//! What `examples/rnn.rs` and `examples/lstm.rs` share: the seed training settings, and one
//! job type that trains either network on a sequence task on any backend.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zoo_lstm::model::{LstmNet, LstmNetConfig};
use zoo_rnn::{RnnNet, RnnNetConfig};
use zoo_training::artifacts::read_json;
use zoo_training::checkpoint::{load_model, ModelId};
use zoo_training::data::Predict;
use zoo_training::seqjob::{run_sequence_job, SeqJob, SeqTask};
use zoo_training::text::{TextDataset, TextEncoding, TokenBatch, UNK_ID};
use zoo_training::train::{to_vec_f32, JobContext};
use zoo_training::{seed_backend, Mode, ProgressMode, Report, TrainConfig, TrainError};

use crate::backend::{dispatch, BackendInfo, Run};
use crate::cli::{
    bad_flags, exit_code, job_context, print_run_summary, BackendArgs, OutputArgs, SeqTaskArgs,
    TrainArgs,
};

/// The seed's training settings for the recurrent models: Adam lr 1e-3, batch 64, 5 epochs.
pub fn seed_train() -> TrainConfig {
    TrainConfig {
        epochs: 5,
        batch_size: 64,
        lr: 1e-3,
        seed: 42,
        ..Default::default()
    }
}

/// A recurrent network configuration the sequence examples can train.
pub trait SeqNet: Serialize + DeserializeOwned + Clone {
    /// Model kind in reports and checkpoints (`rnn`, `lstm`).
    const KIND: &'static str;
    /// The network on backend `B`.
    type Net<B: Backend>: Module<B> + Predict<B, TokenBatch<B>>;
    /// Checks the configuration (one line naming the flag at fault).
    fn validate(&self) -> Result<(), String>;
    /// The same configuration reading token ids from a vocabulary of this size.
    fn with_token_input(self, vocab: Option<usize>) -> Self;
    /// Builds the network.
    fn build<B: Backend>(&self, device: &B::Device) -> Self::Net<B>;
    /// Initialises the network (seeded) and trains it on the job's task.
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        ctx: &JobContext,
        device: &B::Device,
    ) -> Result<Report, TrainError>;
}

/// Both networks train the same way: seed the backend, initialise, run the task.
macro_rules! seq_net {
    ($config:ty, $net:ident, $kind:literal) => {
        impl SeqNet for $config {
            const KIND: &'static str = $kind;
            type Net<B: Backend> = $net<B>;
            fn validate(&self) -> Result<(), String> {
                <$config>::validate(self)
            }
            fn with_token_input(self, vocab: Option<usize>) -> Self {
                self.with_vocab(vocab)
            }
            fn build<B: Backend>(&self, device: &B::Device) -> $net<B> {
                self.init::<B>(device)
            }
            fn train<B: AutodiffBackend>(
                job: &SeqJob<Self>,
                ctx: &JobContext,
                device: &B::Device,
            ) -> Result<Report, TrainError> {
                seed_backend::<B>(device, job.train.seed);
                let model = job.model.init::<B>(device);
                run_sequence_job(job, Self::KIND, model, ctx, &crate::assets_dir(), device)
            }
        }
    };
}

seq_net!(LstmNetConfig, LstmNet, "lstm");
seq_net!(RnnNetConfig, RnnNet, "rnn");

/// Class probabilities of `sentence` under the text model saved in `dir` (its `config.json`,
/// `vocab.json` and `model.mpk`), with the class names and the number of words the vocabulary
/// does not know.
pub fn classify_sentence<B: Backend, C: SeqNet>(
    dir: &Path,
    sentence: &str,
    device: &B::Device,
) -> Result<(Vec<(String, f32)>, usize), TrainError> {
    let config = dir.join("config.json");
    let job: SeqJob<C> = read_json(&config, &format!("a saved {} run", C::KIND))?;
    if !matches!(job.task, SeqTask::Text(_)) {
        return Err(TrainError::Invalid(format!(
            "--predict: the run in {} was not trained on --task text",
            dir.display()
        )));
    }
    let encoding: TextEncoding = read_json(&dir.join("vocab.json"), "a text vocabulary")?;
    let id = ModelId::new(C::KIND, &job.model, "f32");
    let model = load_model::<B, _>(
        job.model.build::<B>(device),
        &dir.join("model.mpk"),
        &id,
        device,
    )?;
    let ids = encoding
        .encode_sentence(sentence)
        .ok_or_else(|| TrainError::Invalid("--predict: the sentence has no words".into()))?;
    let unknown = ids.iter().filter(|&&i| i == UNK_ID).count();
    let batch = TextDataset::batch::<B>(&[ids.as_slice()], device);
    let probs = to_vec_f32(softmax(model.predict(batch), 1))?;
    let mut ranked: Vec<(String, f32)> = probs
        .into_iter()
        .enumerate()
        .map(|(i, p)| (encoding.name(i).to_string(), p))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok((ranked, unknown))
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
                let report = C::train::<B>(&job, &ctx, &device)?;
                print_run_summary(&report, &self.dir);
            }
            Action::Predict(sentence) => {
                let (ranked, unknown) =
                    classify_sentence::<B::InnerBackend, C>(&self.dir, &sentence, &device)?;
                println!("\"{sentence}\" ({unknown} word(s) not in the vocabulary):");
                for (rank, (label, p)) in ranked.iter().take(3).enumerate() {
                    println!("  {}. class {label:<8} {p:.4}", rank + 1);
                }
            }
        }
        Ok(())
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
