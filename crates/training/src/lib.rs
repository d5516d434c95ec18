//! # zoo-training
//!
//! What every burn-zoo model shares: data sources and preprocessing, the supervised training
//! loop and the adversarial (GAN) loop, metrics, checkpoints, progress display and `report.json`. Everything that touches
//! tensors is generic over Burn's `Backend` / `AutodiffBackend`.

pub mod adversarial;
pub mod artifacts;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod download;
pub mod error;
pub mod flat_adam;
pub mod forecast;
pub mod idx;
pub mod images;
pub mod interrupt;
pub mod metrics;
pub mod numpy_rng;
pub mod optim;
pub mod per_backend;
pub mod plot;
pub mod preprocess;
pub mod progress;
pub mod recurrent;
pub mod report;
pub mod seqjob;
pub mod sequence;
pub mod synthetic;
pub mod table;
pub mod text;
pub mod train;
pub mod train_error;

pub use artifacts::{ArtifactDir, Mode};
pub use config::{Monitor, OptimizerKind, ScheduleKind, TrainConfig};
pub use data::{Dataset, FeatureDataset, Objective, Predict, Targets};
pub use error::DataError;
pub use progress::ProgressMode;
pub use report::{Report, RunInfo};
pub use train::{evaluate, fit, seed_backend, Evaluation, RunSpec, Trained};
pub use train_error::TrainError;
