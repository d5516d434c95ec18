//! The epoch loop every zoo training run shares: resume from the newest checkpoint, a seeded
//! shuffle per epoch, one backend RNG stream per step, non-finite losses, Ctrl-C mid-epoch, a
//! checkpoint and `report.json` after every epoch. The supervised loop ([`crate::fit`]) and
//! the adversarial loop ([`crate::adversarial::fit_gan`]) are two [`EpochJob`]s: each supplies
//! its step, its running sums and its report; [`drive`] does the rest.
//!
//! Why not burn-train's `SupervisedTraining`: see [`crate::train`]. Its loop has no mid-epoch
//! resume and no second optimiser.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::Backend;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::artifacts::{ArtifactDir, write_json};
use crate::checkpoint::{ModelId, read_resume_checkpoint, write_epoch_checkpoint};
use crate::interrupt;
use crate::progress::{Progress, ProgressMode};
use crate::report::RunStatus;
use crate::resume::SettingChange;
use crate::train::{derive_seed, step_stream};
use crate::train_error::TrainError;

/// The loop state saved in every checkpoint (as JSON; `J::Extra`'s fields sit beside the
/// common ones, so the files keep the layout the two loops wrote before they shared this).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoopState<P, R, X> {
    /// Epochs completed.
    pub epoch: usize,
    /// One record per completed epoch.
    pub history: Vec<R>,
    /// Wall time of all sessions so far.
    pub wall_time_secs: f64,
    /// The epoch in progress when a stop was asked for (`None` at epoch boundaries).
    #[serde(default)]
    pub partial: Option<Partial<P>>,
    /// Updates skipped for a non-finite loss (`skip_nonfinite`), all epochs.
    #[serde(default)]
    pub skipped_nonfinite: usize,
    /// Settings changed by resumed sessions ([`crate::resume`]), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_with_changes: Vec<SettingChange>,
    /// The job's own state (early stopping, schedule position).
    #[serde(flatten)]
    pub extra: X,
}

impl<P, R, X: Default> Default for LoopState<P, R, X> {
    fn default() -> Self {
        Self {
            epoch: 0,
            history: Vec::new(),
            wall_time_secs: 0.0,
            partial: None,
            skipped_nonfinite: 0,
            resumed_with_changes: Vec::new(),
            extra: X::default(),
        }
    }
}

impl<P, R, X> LoopState<P, R, X> {
    /// Mean training throughput over the epochs so far, samples per second (0 before any).
    pub fn samples_per_sec(&self, of: impl Fn(&R) -> (f64, f64)) -> f64 {
        let (samples, secs) = self
            .history
            .iter()
            .map(of)
            .fold((0.0, 0.0), |(s, t), (r, e)| (s + r * e, t + e));
        if secs > 0.0 { samples / secs } else { 0.0 }
    }
}

/// How far an interrupted epoch got, so a resumed run finishes it as an uninterrupted one
/// would: the steps done, the seconds they took and the job's running sums.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Partial<P> {
    /// Steps done (trained or skipped).
    pub steps: usize,
    /// Seconds of training spent on the epoch so far.
    pub train_seconds: f64,
    /// The job's running sums.
    #[serde(flatten)]
    pub sums: P,
}

/// What one step did.
pub enum StepOutcome {
    /// Trained (or skipped a non-finite update, counted by the job); the loss to display.
    Done(f64),
    /// A loss was NaN or infinite and the job does not skip: the run stops.
    Diverged(f64),
}

/// How an epoch's samples are batched.
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    /// Training samples.
    pub samples: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Drop a short last batch (the GAN: it would skew batch norm).
    pub drop_last: bool,
}

impl Batching {
    /// Steps per epoch.
    pub fn steps(&self) -> usize {
        if self.drop_last {
            self.samples / self.batch_size
        } else {
            self.samples.div_ceil(self.batch_size)
        }
    }
}

/// What [`drive`] needs to know of a job's hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct LoopSettings {
    /// Epochs asked for.
    pub epochs: usize,
    /// Seed of the shuffles and of the per-step backend RNG streams.
    pub seed: u64,
    /// Epoch checkpoints to keep (0: all).
    pub keep_checkpoints: usize,
    /// How the samples are batched.
    pub batching: Batching,
}

/// Loop state of a job that keeps none of its own.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct NoExtra {}

/// A kind of training run: its networks and optimisers, its step and its report.
pub trait EpochJob<B: Backend> {
    /// Running sums of an epoch in progress (saved in a mid-epoch checkpoint).
    type Sums: Clone + Default + Serialize + DeserializeOwned;
    /// One completed epoch's entry in the history.
    type Record: Clone + Serialize + DeserializeOwned;
    /// The job's own loop state.
    type Extra: Clone + Default + Serialize + DeserializeOwned;
    /// `report.json`.
    type Report: Serialize;

    /// Epochs, seed, batching and checkpoints to keep.
    fn settings(&self) -> LoopSettings;

    /// Loads the networks and optimisers from a checkpoint's model and optimiser sections
    /// (`path`, named in errors), with the loop state it was saved with.
    fn restore(
        &mut self,
        records: (Vec<u8>, Vec<u8>),
        state: &LoopState<Self::Sums, Self::Record, Self::Extra>,
        path: &Path,
    ) -> Result<(), TrainError>;
    /// The checkpoint's model and optimiser sections.
    fn records(&self) -> Result<(Vec<u8>, Vec<u8>), TrainError>;

    /// Before the first (or, resumed, the next) step of `epoch`.
    fn begin_epoch(&mut self, _epoch: usize, _partial: &Partial<Self::Sums>) {}
    /// Step `step` (from 0) of `epoch` on the samples `batch` (indices into the training
    /// set), with the backend RNG already seeded for it. Non-finite updates the job skips go
    /// into `skipped`.
    fn step(
        &mut self,
        epoch: usize,
        step: usize,
        batch: &[usize],
        sums: &mut Self::Sums,
        skipped: &mut usize,
    ) -> Result<StepOutcome, TrainError>;
    /// Network updates made with `sums` (0 when every step was skipped as non-finite).
    fn updates(&self, sums: &Self::Sums) -> usize;
    /// A stop was asked for mid-epoch: save what a resumed epoch needs into `sums`.
    fn pause(&mut self, _sums: &mut Self::Sums) {}
    /// The epoch's last step is done: its record (after validation), and a note to show
    /// after its line (early stopping). May update `extra`.
    fn end_epoch(
        &mut self,
        epoch: usize,
        partial: Partial<Self::Sums>,
        extra: &mut Self::Extra,
    ) -> Result<(Self::Record, Option<String>), TrainError>;
    /// The progress line of an epoch.
    fn epoch_line(&self, record: &Self::Record, epochs: usize) -> String;
    /// Files the job writes after each epoch, before the checkpoint (the GAN's grids).
    fn epoch_files(&self, _dir: &ArtifactDir, _epoch: usize) -> Result<(), TrainError> {
        Ok(())
    }
    /// Whether the run is over before its last epoch (early stopping).
    fn stopped(&self, _extra: &Self::Extra) -> bool {
        false
    }
    /// The report of the run so far.
    fn report(
        &self,
        state: &LoopState<Self::Sums, Self::Record, Self::Extra>,
        status: RunStatus,
    ) -> Self::Report;
}

/// Where a driven run writes and how it shows progress.
pub struct DriveSpec<'a> {
    /// Identity written into checkpoints and checked on resume.
    pub model_id: &'a ModelId,
    /// Where checkpoints and the report go; `None` writes nothing.
    pub artifacts: Option<&'a ArtifactDir>,
    /// Continue from the newest checkpoint in `artifacts`.
    pub resume: bool,
    /// Progress display.
    pub progress: ProgressMode,
    /// What this session changes from the saved run ([`crate::resume::check_resume`]); kept in
    /// the loop state, so every later report lists them.
    pub changes: &'a [SettingChange],
}

/// Runs `job`'s epochs (from its newest checkpoint with `spec.resume`) and returns the loop
/// state after the last one, the status to report, and the wall time of the sessions so far
/// at the moment it returns. The job writes its final files itself.
pub fn drive<B: Backend, J: EpochJob<B>>(
    job: &mut J,
    spec: &DriveSpec<'_>,
    device: &B::Device,
) -> Result<Driven<StateOf<B, J>>, TrainError> {
    let LoopSettings {
        epochs,
        seed,
        keep_checkpoints,
        batching,
    } = job.settings();
    let steps = batching.steps();
    let mut state = StateOf::<B, J>::default();
    let mut last_checkpoint: Option<PathBuf> = None;
    if spec.resume {
        let (ck, loaded, path) = read_resume_checkpoint(spec.artifacts, spec.model_id)?;
        state = loaded;
        state
            .resumed_with_changes
            .extend(spec.changes.iter().map(|c| SettingChange {
                after_epoch: state.epoch,
                ..c.clone()
            }));
        job.restore((ck.model, ck.optimizer), &state, &path)?;
        last_checkpoint = Some(path);
    }
    let mut progress = Progress::new(spec.progress, epochs);
    if spec.resume {
        progress.note(&match &state.partial {
            Some(p) => format!(
                "resuming epoch {} of {epochs} at step {} of {steps}",
                state.epoch + 1,
                p.steps + 1
            ),
            None => format!("resuming after epoch {} of {epochs}", state.epoch),
        });
    }
    let session_start = Instant::now();
    let wall_before = state.wall_time_secs;
    let wall = || wall_before + session_start.elapsed().as_secs_f64();
    let save = |job: &J, state: &LoopState<_, _, _>, epoch, dir: &ArtifactDir| {
        write_epoch_checkpoint(
            dir,
            spec.model_id,
            epoch,
            state,
            job.records()?,
            keep_checkpoints,
        )
    };

    while state.epoch < epochs && !job.stopped(&state.extra) {
        let epoch = state.epoch + 1;
        let mut order: Vec<usize> = (0..batching.samples).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            seed,
            1 << 32 | epoch as u64,
        )));
        let mut partial = state.partial.take().unwrap_or_default();
        job.begin_epoch(epoch, &partial);
        progress.start_epoch(epoch, epochs, steps);
        let t0 = Instant::now();
        for step in partial.steps..steps {
            let start = step * batching.batch_size;
            let batch = &order[start..(start + batching.batch_size).min(batching.samples)];
            B::seed(device, derive_seed(seed, step_stream(epoch, step)));
            let outcome = job.step(
                epoch,
                step,
                batch,
                &mut partial.sums,
                &mut state.skipped_nonfinite,
            )?;
            partial.steps = step + 1;
            match outcome {
                StepOutcome::Done(shown) => progress.step(shown),
                StepOutcome::Diverged(loss) => {
                    state.wall_time_secs = wall();
                    if let Some(dir) = spec.artifacts {
                        write_json(&dir.report(), &job.report(&state, RunStatus::Diverged))?;
                    }
                    return Err(TrainError::NonFinite {
                        loss,
                        epoch,
                        step: step + 1,
                        last_checkpoint,
                    });
                }
            }
            if interrupt::requested() {
                partial.train_seconds += t0.elapsed().as_secs_f64();
                job.pause(&mut partial.sums);
                state.partial = Some(partial);
                state.wall_time_secs = wall();
                let mut checkpoint = None;
                if let Some(dir) = spec.artifacts {
                    checkpoint = Some(save(job, &state, epoch, dir)?);
                    write_json(&dir.report(), &job.report(&state, RunStatus::Interrupted))?;
                }
                return Err(TrainError::Interrupted {
                    epoch,
                    step: step + 1,
                    checkpoint,
                });
            }
        }
        partial.train_seconds += t0.elapsed().as_secs_f64();
        if job.updates(&partial.sums) == 0 {
            return Err(TrainError::Invalid(format!(
                "every step of epoch {epoch} had a non-finite loss (skip_nonfinite skipped \
                 them all); last good checkpoint: {}",
                last_checkpoint
                    .as_ref()
                    .map_or("none".into(), |p| p.display().to_string())
            )));
        }
        let (record, note) = job.end_epoch(epoch, partial, &mut state.extra)?;
        progress.end_epoch(epoch, epochs, &job.epoch_line(&record, epochs));
        if let Some(note) = note {
            progress.note(&note);
        }
        state.history.push(record);
        state.epoch = epoch;
        state.wall_time_secs = wall();
        if let Some(dir) = spec.artifacts {
            job.epoch_files(dir, epoch)?;
            last_checkpoint = Some(save(job, &state, epoch, dir)?);
            write_json(&dir.report(), &job.report(&state, RunStatus::Running))?;
        }
    }
    let status = if job.stopped(&state.extra) {
        RunStatus::EarlyStopped
    } else {
        RunStatus::Finished
    };
    Ok(Driven {
        state,
        status,
        wall_before,
        session_start,
    })
}

/// The loop state of job `J`.
pub type StateOf<B, J> =
    LoopState<<J as EpochJob<B>>::Sums, <J as EpochJob<B>>::Record, <J as EpochJob<B>>::Extra>;

/// A run [`drive`] finished: its loop state and how it ended.
pub struct Driven<S> {
    /// The loop state after the last epoch.
    pub state: S,
    /// Finished or early-stopped.
    pub status: RunStatus,
    wall_before: f64,
    session_start: Instant,
}

impl<P, R, X> Driven<LoopState<P, R, X>> {
    /// Sets the state's wall time to now (call it before the final report).
    pub fn stamp_wall_time(&mut self) {
        self.state.wall_time_secs = self.wall_before + self.session_start.elapsed().as_secs_f64();
    }
}
