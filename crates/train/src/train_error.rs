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
