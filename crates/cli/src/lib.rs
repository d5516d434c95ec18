//! # zoo-cli
//!
//! The plumbing of burn-zoo's example binaries, not a library API: the flags they share
//! ([`cli`]), the one place that maps `--backend` / `--device` to a Burn backend type
//! ([`backend`]), the sequence jobs' flags ([`seq`]) and the backend comparison ([`compare`]).
//! The models and their training live in the zoo's library crates (`burn-zoo` and the `zoo-*`
//! crates), which know nothing of flags.

pub mod backend;
pub mod cli;
pub mod compare;
pub mod seq;

/// The `assets/` directory with the bundled data: the repository's, or `./assets` when the
/// binary runs elsewhere.
pub fn assets_dir() -> std::path::PathBuf {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
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
/// glibc's defaults each of those blocks is `mmap`ed fresh and unmapped again each step, and
/// the page faults on first touch took a quarter of the seed CNN's training time on ndarray
/// (profiled with `perf`). glibc will not raise its `mmap` threshold above 32 MiB, and the
/// seed CNN's patch matrices are 42 MB, so `mmap` is turned off instead: every block comes
/// from the heap and is reused. Measured on compare's CNN cell (interleaved runs): ndarray
/// training 431–461 → 494–526 samples/s, inference about 1.7×, tch inference about 1.3×,
/// lower peak memory, the other cells unchanged. A no-op off glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before other threads
    // allocate. Values: no `mmap`ed blocks (glibc still maps memory when the heap cannot grow,
    // and for other threads' arenas), trim the heap top only beyond 1 GiB free.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// After [`super::tune_allocator`] a block above glibc's largest `mmap` threshold (the
    /// seed CNN's 42 MB patch matrices) comes from the heap, not from a fresh mapping.
    #[test]
    fn large_blocks_come_from_the_heap() {
        super::tune_allocator();
        // SAFETY: mallinfo2 only reads allocator statistics.
        let mapped = || unsafe { libc::mallinfo2() }.hblks;
        let before = mapped();
        let block = vec![1u8; 48 << 20];
        let during = mapped();
        assert_eq!(block[block.len() - 1], 1);
        // Other tests may free mapped blocks meanwhile, never add one.
        assert!(during <= before, "{during} mapped blocks, {before} before");
    }
}
