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

/// The `assets/` directory with the bundled data: the repository's, or `./assets` when the
/// binary runs elsewhere.
pub fn assets_dir() -> std::path::PathBuf {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    if built.is_dir() {
        built
    } else {
        std::path::PathBuf::from("assets")
    }
}
