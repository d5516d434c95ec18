//! # burn-zoo
//!
//! A model zoo on [Burn](https://burn.dev): MLP, CNN, RNN, LSTM and GAN, each generic over
//! Burn's `Backend`, so the same code trains on ndarray (CPU), wgpu (GPU) and libtorch.
//!
//! This facade re-exports the model crates and owns backend selection ([`backend`]) and the
//! command-line flags the example binaries share ([`cli`]).

pub mod backend;
pub mod cli;

pub use zoo_cnn as cnn;
pub use zoo_gan as gan;
pub use zoo_lstm as lstm;
pub use zoo_mlp as mlp;
pub use zoo_rnn as rnn;
pub use zoo_training as training;
