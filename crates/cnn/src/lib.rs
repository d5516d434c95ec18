//! # zoo-cnn
//!
//! The seed CNN of the PyTorch tutorial — `Conv(1,32,3) → ReLU → Conv(32,64,3) → ReLU →
//! MaxPool(2) → flatten(9216) → Linear(9216,128) → ReLU → Linear(128,10)`, 1,199,882
//! parameters — a stronger preset of it (batch norm, dropout, He init; trained with weight
//! decay, a cosine schedule and optional augmentation), LeNet-5 and a small residual network,
//! for 28×28 grayscale images (MNIST, Fashion-MNIST), generic over Burn's `Backend`.
//!
//! - [`model`]: [`CnnConfig`] (preset `seed`, `strong`, `lenet5` or `resnet`) and the
//!   tutorial's [`Cnn`]; [`lenet`]: [`LeNet5`]; [`resnet`]: [`ResNet`]; [`network`]: any of
//!   them as one [`Network`] ([`CnnConfig::init`]); [`layers`]: their channels-last pooling and
//!   convolution (all of these need only `burn` and `zoo-kernels`);
//! - [`data`]: IDX image sets normalised as the seed does (feature `train`);
//! - [`train`]: a whole run — data, training, plots, `report.json` (feature `train`);
//! - [`infer`]: load a saved run, classify an image file (feature `train`);
//! - `learner`: burn-train's `TrainStep` and `InferenceStep` (feature `learner`);
//! - `pytorch`: the tutorial's PyTorch weights in and out (feature `pytorch`);
//! - `vision`: burn-dataset's `ImageFolderDataset` and `MnistDataset` as its input (feature
//!   `vision`).
//!
//! The convolutions run as one gather and one GEMM each on channels-last tensors
//! (`zoo_kernels::conv`), or as the backend's own `Conv2d` where that is faster (libtorch);
//! `zoo_kernels::fast_path` decides from the backend type.
//!
//! Train on 256 of the bundled MNIST digits for one epoch and classify a test digit:
//!
//! ```
//! # fn main() -> Result<(), zoo_train::TrainError> {
//! use burn::backend::Autodiff;
//! use zoo_cnn::train::{run, CnnJob, JobContext};
//! use zoo_ndarray::NdArray;
//! use zoo_train::{ArtifactDir, Mode};
//!
//! let digits = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist-sample");
//! let dir = std::env::temp_dir().join(format!("zoo-cnn-doc-{}", std::process::id()));
//! let mut job = CnnJob::seed(); // the tutorial's CNN, Adam lr 1e-3, batch 64
//! (job.data, job.train_limit, job.train.epochs) = (Some(digits.clone()), Some(256), 1);
//! let ctx = JobContext::quiet(Some(ArtifactDir::prepare(&dir, Mode::Overwrite)?), false, "ndarray", "cpu");
//! let outcome = run::<Autodiff<NdArray>>(&job, &ctx, &digits, &Default::default())?;
//! let saved = zoo_cnn::infer::load::<NdArray>(&dir, &Default::default())?;
//! let probs = saved.probabilities(&[0u8; 28 * 28], &Default::default())?;
//! assert_eq!((probs.len(), outcome.confusion.counts.len()), (10, 100));
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

pub mod layers;
pub mod lenet;
pub mod model;
pub mod network;
pub mod resnet;
pub use lenet::LeNet5;
pub use model::{Cnn, CnnConfig, CnnPreset, conv2d_im2col};
pub use network::Network;
pub use resnet::ResNet;
pub use zoo_kernels::conv::{self, ConvPath, batch_norm_nhwc, conv_transpose2d_nhwc, conv2d_nhwc};

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
#[cfg(feature = "vision")]
pub mod vision;
