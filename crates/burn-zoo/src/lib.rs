//! # burn-zoo
//!
//! A model zoo on [Burn](https://burn.dev): MLP, CNN, RNN, LSTM and GAN, each generic over
//! Burn's `Backend`, so the same code trains on the zoo's CPU backend (a faster burn-ndarray),
//! wgpu (GPU) and libtorch (CPU or CUDA).
//!
//! This facade re-exports the zoo's crates under short names; each can also be used alone:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`mlp`] | `zoo-mlp` | the tutorial's MLP (two moons) and a tabular regressor |
//! | [`cnn`] | `zoo-cnn` | the tutorial's CNN (MNIST) and a stronger preset |
//! | [`rnn`] | `zoo-rnn` | Elman RNN and GRU classifiers |
//! | [`lstm`] | `zoo-lstm` | LSTM classifiers, regressors and an LSTM cell from its equations |
//! | [`gan`] | `zoo-gan` | the tutorial's GAN, DCGAN, WGAN(-GP), conditional GAN, FID |
//! | [`data`] | `zoo-data` | data sources, splits, scalers, tokenizer |
//! | [`train`] | `zoo-train` | training loops, checkpoints, reports, metrics, plots |
//! | `weights` | `zoo-weights` | PyTorch `state_dict`s in and out, every key and shape checked (feature `pytorch`) |
//! | [`kernels`] | `zoo-kernels` | fused recurrent layers, im2col convolution, fast-path table |
//! | [`ndarray`] | `zoo-ndarray` | the zoo's CPU backend (feature `ndarray`, on by default) |

pub use zoo_cnn as cnn;
pub use zoo_data as data;
pub use zoo_gan as gan;
pub use zoo_kernels as kernels;
pub use zoo_lstm as lstm;
pub use zoo_mlp as mlp;
#[cfg(feature = "ndarray")]
pub use zoo_ndarray as ndarray;
pub use zoo_rnn as rnn;
pub use zoo_train as train;
#[cfg(feature = "pytorch")]
pub use zoo_weights as weights;
