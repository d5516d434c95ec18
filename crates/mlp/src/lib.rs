//! # zoo-mlp
//!
//! The seed multi-layer perceptron of the PyTorch tutorial — `Linear(2,16) → ReLU →
//! Linear(16,2)` on two moons — with configurable hidden sizes, activation, dropout and
//! initialisation, generic over Burn's `Backend`; and the pipelines of its two tasks, two-moons
//! classification and tabular (CSV) regression.
//!
//! - [`model`]: [`MlpConfig`] and [`Mlp`] (needs only `burn`);
//! - [`data`]: two moons and CSV tables, split and standardised (feature `train`);
//! - [`train`]: a whole run — data, training, plots, `report.json` (feature `train`);
//! - [`infer`]: load a saved run and predict (feature `train`);
//! - `learner`: burn-train's `TrainStep` and `InferenceStep` (feature `learner`);
//! - `pytorch`: the tutorial's PyTorch weights in and out (feature `pytorch`).
//!
//! Train the seed model for a few epochs on the zoo's CPU backend and predict two points:
//!
//! ```
//! # fn main() -> Result<(), zoo_train::TrainError> {
//! use burn::backend::Autodiff;
//! use zoo_mlp::train::{run, JobContext, MlpJob};
//! use zoo_train::{ArtifactDir, Mode};
//! use zoo_ndarray::NdArray;
//!
//! let dir = std::env::temp_dir().join(format!("zoo-mlp-doc-{}", std::process::id()));
//! let mut job = MlpJob::seed(); // make_moons(1000, 0.2), 2-16-2 ReLU, Adam lr 0.01
//! job.train.epochs = 20;
//! let ctx = JobContext::quiet(Some(ArtifactDir::prepare(&dir, Mode::Overwrite)?), false, "ndarray", "cpu");
//! let outcome = run::<Autodiff<NdArray>>(&job, &ctx, &Default::default())?;
//! assert!(outcome.report.test.is_some());
//! let saved = zoo_mlp::infer::load::<NdArray>(&dir, &Default::default())?;
//! let probs = saved.predict(&[0.0, 0.5, 1.5, -0.4], &Default::default())?; // two points
//! assert_eq!(probs.len(), 4);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

pub mod model;
pub use model::{Mlp, MlpActivation, MlpConfig, MlpInit};

#[cfg(feature = "train")]
pub mod data;
#[cfg(feature = "train")]
pub mod infer;
#[cfg(feature = "learner")]
pub mod learner;
#[cfg(feature = "pytorch")]
pub mod pytorch;
#[cfg(feature = "train")]
pub mod train;
#[cfg(feature = "train")]
pub use data::{SplitSpec, Splits, csv_regression, moons};
