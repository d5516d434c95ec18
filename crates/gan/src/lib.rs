//! # zoo-gan
//!
//! The seed GAN — G: `Linear(100,256) ReLU Linear(256,512) ReLU Linear(512,784) Tanh`, D:
//! `Linear(784,512) LeakyReLU(0.2) Linear(512,256) LeakyReLU(0.2) Linear(256,1) Sigmoid` — and
//! its variants for 28×28 grayscale images: a DCGAN (transposed-conv generator, strided-conv
//! discriminator, batch norm, N(0, 0.02) init), a WGAN critic (the same networks without the
//! sigmoid, weight clipping or a gradient penalty) and a conditional GAN (both networks see the
//! one-hot label).
//!
//! The discriminators return logits: the final `Sigmoid` is folded into the loss
//! (see `zoo_train::adversarial`), and [`Discriminator::probability`] applies it.
//!
//! - [`model`]: [`GanConfig`], [`Generator`], [`Discriminator`] (needs only `burn` and
//!   `zoo-kernels`);
//! - [`train`]: a whole adversarial run (feature `train`);
//! - [`infer`]: load a saved generator, draw samples, measure them (feature `train`);
//! - `pytorch`: the tutorial's PyTorch weights in and out (feature `pytorch`);
//! - [`quality`] (feature `train`): sample quality measured with the zoo's own MNIST
//!   classifier (the seed CNN): a Fréchet distance in its feature space and the coverage of
//!   the ten digits.
//!
//! Train the seed GAN for one epoch on 512 bundled digits and draw four samples:
//!
//! ```
//! # fn main() -> Result<(), zoo_train::TrainError> {
//! use burn::backend::Autodiff;
//! use zoo_gan::train::{run, Assets, GanJob, JobContext};
//! use zoo_ndarray::NdArray;
//! use zoo_train::{ArtifactDir, Mode};
//!
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
//! let assets = Assets { mnist_sample: &root.join("mnist-sample"), classifier: &root.join("mnist-classifier") };
//! let dir = std::env::temp_dir().join(format!("zoo-gan-doc-{}", std::process::id()));
//! let mut job = GanJob::seed(); // the tutorial's G and D, BCE, Adam 2e-4, batch 64
//! (job.train_limit, job.train.epochs, job.quality_samples) = (Some(512), 1, 0);
//! let ctx = JobContext::quiet(Some(ArtifactDir::prepare(&dir, Mode::Overwrite)?), false, "ndarray", "cpu");
//! run::<Autodiff<NdArray>>(&job, &ctx, &assets, &Default::default())?;
//! let saved = zoo_gan::infer::load_generator::<NdArray>(&dir, &Default::default())?;
//! let limits = zoo_gan::infer::SampleLimits::default(); // 1,000 files a folder, 100,000 at most
//! let pngs = zoo_gan::infer::write_samples(&saved.generator, 4, None, &dir.join("samples"), 7, &limits, &Default::default())?;
//! assert_eq!(pngs.count, 4);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

pub mod model;
pub use model::*;

#[cfg(feature = "train")]
pub mod infer;
#[cfg(feature = "pytorch")]
pub mod pytorch;
#[cfg(feature = "train")]
pub mod quality;
#[cfg(feature = "train")]
pub mod train;
#[cfg(feature = "train")]
pub use zoo_train::adversarial::{ImageCritic, ImageGenerator, PenalizedCritic};
