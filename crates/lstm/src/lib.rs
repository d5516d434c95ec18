//! # zoo-lstm
//!
//! The seed LSTM of the PyTorch tutorial ([`LstmNet`]: `LSTM(input, hidden 32) → last step →
//! Linear`, with stacked, bidirectional, pooling and forget-bias options) and
//! [`cell::SeedLstmCell`], one LSTM cell written from the seed's gate equations and tested
//! against Burn's `nn::Lstm`; generic over Burn's `Backend`.
//!
//! - [`model`]: [`LstmNetConfig`] and [`LstmNet`] (needs only `burn` and `zoo-kernels`);
//! - [`fused`]: the LSTM layer as one autodiff operation where the backend takes that path;
//! - [`lm`]: [`CharLm`], a character-level LSTM language model carrying its state across
//!   windows;
//! - [`language`]: a whole language-model run (truncated BPTT, an n-gram baseline, test
//!   perplexity) and text generation from a saved one (feature `train`);
//! - [`train`]: a whole run on a sequence task (feature `train`);
//! - [`infer`]: a saved run back, test-set evaluation, a sentence's classes (feature `train`);
//! - `pytorch`: the tutorial's PyTorch weights in and out (feature `pytorch`).
//!
//! Train the seed LSTM on the adding problem for two epochs:
//!
//! ```
//! # fn main() -> Result<(), zoo_train::TrainError> {
//! use burn::backend::Autodiff;
//! use zoo_lstm::train::{run, seed_train, JobContext, SeqJob, SeqTask};
//! use zoo_lstm::LstmNetConfig;
//! use zoo_ndarray::NdArray;
//!
//! let task = SeqTask::Adding { seq_len: 10, n_train: 256 };
//! let mut train = seed_train(); // Adam lr 1e-3, batch 64
//! train.epochs = 2;
//! let job = SeqJob { task, model: LstmNetConfig::new(2, 1), train };
//! let ctx = JobContext::quiet(None, false, "ndarray", "cpu");
//! let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
//! let trained = run::<Autodiff<NdArray>>(&job, &ctx, &assets, &Default::default())?;
//! assert!(trained.report.test.is_some());
//! # Ok(())
//! # }
//! ```

pub mod cell;
pub mod fused;
pub mod lm;
pub mod model;
pub use lm::{CharLm, CharLmConfig};
pub use model::{LstmNet, LstmNetConfig};

#[cfg(feature = "train")]
pub mod infer;
#[cfg(feature = "train")]
pub mod language;
#[cfg(feature = "learner")]
pub mod learner;
#[cfg(feature = "pytorch")]
pub mod pytorch;
#[cfg(feature = "train")]
pub mod train;
