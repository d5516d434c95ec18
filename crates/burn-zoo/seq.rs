//! What `examples/rnn.rs` and `examples/lstm.rs` share: the seed training settings, and one
//! job type that trains either network on a sequence task on any backend.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;
use zoo_lstm::model::LstmNetConfig;
use zoo_rnn::RnnNetConfig;
use zoo_training::seqjob::{run_sequence_job, SeqJob};
use zoo_training::train::JobContext;
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
pub trait SeqNet: Serialize + Clone {
    /// Model kind in reports and checkpoints (`rnn`, `lstm`).
    const KIND: &'static str;
    /// Checks the configuration (one line naming the flag at fault).
    fn validate(&self) -> Result<(), String>;
    /// Initialises the network (seeded) and trains it on the job's task.
    fn train<B: AutodiffBackend>(
        job: &SeqJob<Self>,
        ctx: &JobContext,
        device: &B::Device,
    ) -> Result<Report, TrainError>;
}

/// Both networks train the same way: seed the backend, initialise, run the task.
macro_rules! seq_net {
    ($config:ty, $kind:literal) => {
        impl SeqNet for $config {
            const KIND: &'static str = $kind;
            fn validate(&self) -> Result<(), String> {
                <$config>::validate(self)
            }
            fn train<B: AutodiffBackend>(
                job: &SeqJob<Self>,
                ctx: &JobContext,
                device: &B::Device,
            ) -> Result<Report, TrainError> {
                seed_backend::<B>(device, job.train.seed);
                let model = job.model.init::<B>(device);
                run_sequence_job(job, Self::KIND, model, ctx, &bundled(), device)
            }
        }
    };
}

seq_net!(LstmNetConfig, "lstm");
seq_net!(RnnNetConfig, "rnn");

fn bundled() -> PathBuf {
    crate::assets_dir().join("mnist-sample")
}

struct SeqExample<C> {
    job: SeqJob<C>,
    dir: PathBuf,
    mode: Mode,
    progress: ProgressMode,
}

impl<C: SeqNet> Run for SeqExample<C> {
    type Output = Result<(), TrainError>;

    fn run<B: AutodiffBackend>(self, device: B::Device, info: BackendInfo) -> Self::Output {
        let ctx = job_context(&self.dir, self.mode, self.progress, &info)?;
        let report = C::train::<B>(&self.job, &ctx, &device)?;
        print_run_summary(&report, &self.dir);
        Ok(())
    }
}

/// The job the flags describe: the task, the network `model(input features, outputs)` builds
/// for it, and the seed training settings overridden by the training flags.
pub fn build_job<C: SeqNet>(
    task: &SeqTaskArgs,
    train: &TrainArgs,
    model: impl FnOnce(usize, usize) -> C,
) -> Result<SeqJob<C>, String> {
    let task = task.task()?;
    let (input, outputs) = task.shape();
    let model = model(input, outputs);
    model.validate()?;
    Ok(SeqJob {
        task,
        model,
        train: train.apply(seed_train())?,
    })
}

/// Runs a sequence example's job (or reports its flag error) and gives the process exit.
pub fn run_example<C: SeqNet>(
    job: Result<SeqJob<C>, String>,
    backend: &BackendArgs,
    output: &OutputArgs,
) -> ExitCode {
    let job = match job {
        Ok(job) => job,
        Err(e) => return bad_flags(e),
    };
    let example = SeqExample {
        job,
        dir: output.dir(C::KIND),
        mode: output.mode(),
        progress: output.progress(),
    };
    exit_code(dispatch(backend.backend, backend.device, example))
}
