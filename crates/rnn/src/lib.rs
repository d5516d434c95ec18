//! # zoo-rnn
//!
//! The seed RNN of the PyTorch tutorial — `RNN(input, hidden 32, 1 layer, batch-first) → last
//! step → Linear`, tanh cell, optionally ReLU — and the GRU of the seed's variant table, on
//! Burn's `nn::Rnn` and `nn::Gru`, generic over Burn's `Backend`; for text with an embedding in
//! front (`Embedding → RNN → Linear` on right-padded token batches).
//!
//! - [`model`]: [`RnnNetConfig`] and [`RnnNet`] (needs only `burn` and `zoo-kernels`);
//! - [`fused`]: the Elman layer as one autodiff operation where the backend takes that path;
//! - [`train`]: a whole run on a sequence task (feature `train`);
//! - [`infer`]: a saved run back, test-set evaluation, a sentence's classes (feature `train`);
//! - `pytorch`: the tutorial's PyTorch weights in and out (feature `pytorch`).
//!
//! Train the seed RNN on the adding problem for two epochs:
//!
//! ```
//! # fn main() -> Result<(), zoo_train::TrainError> {
//! use burn::backend::Autodiff;
//! use zoo_rnn::train::{run, seed_train, JobContext, SeqJob, SeqTask};
//! use zoo_rnn::RnnNetConfig;
//! use zoo_ndarray::NdArray;
//!
//! let task = SeqTask::Adding { seq_len: 10, n_train: 256 };
//! let mut train = seed_train(); // Adam lr 1e-3, batch 64
//! train.epochs = 2;
//! let job = SeqJob { task, model: RnnNetConfig::new(2, 1), train };
//! let ctx = JobContext::quiet(None, false, "ndarray", "cpu");
//! let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
//! let trained = run::<Autodiff<NdArray>>(&job, &ctx, &assets, &Default::default())?;
//! assert!(trained.report.test.is_some());
//! # Ok(())
//! # }
//! ```

pub mod fused;
pub mod model;
pub use model::{CellKind, Recurrent, RnnNet, RnnNetConfig};

#[cfg(feature = "train")]
pub mod infer;
#[cfg(feature = "learner")]
pub mod learner;
#[cfg(feature = "pytorch")]
pub mod pytorch;
#[cfg(feature = "train")]
pub mod train;
