//! Errors of a training run. Each renders as one line naming the file or setting at fault.

use std::path::PathBuf;

use zoo_data::error::DataError;

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting or configuration value is unusable; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A checkpoint or model file cannot be used; the message says why.
    #[error("{}: {reason}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A fresh run was pointed at a directory that holds an earlier run.
    #[error(
        "{}: holds an earlier run; resume it (Mode::Resume), replace it (Mode::Overwrite) \
         or choose another directory",
        dir.display()
    )]
    RunExists {
        /// The artifact directory.
        dir: PathBuf,
    },
    /// Another process writes into the artifact directory (it holds the directory's lock).
    #[error(
        "{}: in use by another run ({}); two writers would overwrite each other's checkpoints, \
         so wait for it to end or stop it",
        dir.display(),
        pid.map(|p| format!("pid {p}")).unwrap_or_else(|| "pid unknown".into())
    )]
    Locked {
        /// The artifact directory.
        dir: PathBuf,
        /// The process holding the lock, when it has written its pid.
        pid: Option<u32>,
    },
    /// A resume was asked to train a run that has already done what it asks for. Not a
    /// failure: nothing was written, and the saved run is unchanged.
    #[error("{}: {reason}; nothing to do (the run is unchanged)", dir.display())]
    AlreadyTrained {
        /// The artifact directory.
        dir: PathBuf,
        /// What the run has done, e.g. `already trained 100 epochs (asked for 10)`.
        reason: String,
    },
    /// A stop was asked for ([`crate::interrupt`]) outside training: generation, evaluation,
    /// prediction. What had been written is complete; nothing half-written is left.
    #[error("stopped by a signal {0}")]
    Stopped(String),
    /// Input data is unusable.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The loss became NaN or infinite.
    #[error(
        "loss is {loss} at epoch {epoch}, step {step}; last good checkpoint: {}",
        last_checkpoint.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into())
    )]
    NonFinite {
        /// The non-finite loss value.
        loss: f64,
        /// Epoch (1-based).
        epoch: usize,
        /// Step within the epoch (1-based).
        step: usize,
        /// The newest checkpoint written before it happened.
        last_checkpoint: Option<PathBuf>,
    },
    /// A stop was asked for (Ctrl-C, SIGTERM or [`crate::interrupt::request`]); the run
    /// finished its batch and saved where it was.
    #[error(
        "interrupted at epoch {epoch}, step {step}; {}",
        checkpoint.as_ref().map(|p| format!("checkpoint written to {} (resume from it)", p.display())).unwrap_or_else(|| "no checkpoint (no artifact directory)".into())
    )]
    Interrupted {
        /// Epoch in progress (1-based).
        epoch: usize,
        /// The last step done in it (1-based).
        step: usize,
        /// The checkpoint written on the way out.
        checkpoint: Option<PathBuf>,
    },
    /// The backend failed to return data.
    #[error("backend error: {0}")]
    Backend(String),
}
