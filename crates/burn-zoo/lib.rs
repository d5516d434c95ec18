//! # burn-zoo
//!
//! A model zoo on [Burn](https://burn.dev): MLP, CNN, RNN, LSTM and GAN, each generic over
//! Burn's `Backend`, so the same code trains on ndarray (CPU), wgpu (GPU) and libtorch.
//!
//! This facade re-exports the model crates and owns backend selection ([`backend`]) and the
//! command-line flags the example binaries share ([`cli`]).

pub mod backend;
pub mod cli;
pub mod compare;
pub mod seq;

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

/// Keeps freed memory in glibc's heap instead of returning it to the kernel after every
/// training step (called by [`cli::parse_or_exit`], so by every example).
///
/// Why: a CNN step allocates and frees tens of megabytes of patch matrices and gradients. With
/// glibc's defaults much of that is `mmap`ed fresh and unmapped again each step, and the page
/// faults on first touch took a quarter of the seed CNN's training time on ndarray (profiled
/// with `perf`); with these settings the seed CNN trains about 20% faster. A no-op off glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before other threads
    // allocate. Values: mmap only blocks over 32 MiB (glibc's maximum), trim the heap top only
    // beyond 1 GiB free.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
