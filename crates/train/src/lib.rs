//! # zoo-train
//!
//! How every burn-zoo model trains: one epoch driver ([`driver::drive`]) running the
//! supervised job ([`fit`]) and the adversarial (GAN) job ([`adversarial::fit_gan`]),
//! optimisers and schedules, checked checkpoints with exact resume, metrics, progress
//! display, `report.json` and plots. Everything that touches tensors is
//! generic over Burn's `Backend` / `AutodiffBackend`; the data comes from `zoo-data`.

pub mod adversarial;
pub mod artifacts;
pub mod checkpoint;
pub mod config;
pub mod driver;
pub mod flat_adam;
pub mod interrupt;
#[cfg(feature = "learner")]
pub mod learner;
pub mod metrics;
pub mod optim;
pub mod plateau;
pub mod plot;
pub mod progress;
pub mod report;
pub mod resume;
pub mod sequence;
pub mod train;
pub mod train_error;

pub use artifacts::{ArtifactDir, Mode};
pub use config::{Monitor, OptimizerKind, ScheduleKind, TrainConfig};
pub use report::{Report, RunInfo};
pub use train::{Evaluation, RunSpec, Trained, Trainer, evaluate, fit, seed_backend};
pub use train_error::TrainError;
pub use zoo_data::{DataError, ProgressMode};
pub use zoo_data::{Dataset, FeatureDataset, Objective, Predict, Targets};
