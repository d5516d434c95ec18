//! # zoo-kernels
//!
//! The tensor operations burn-zoo's models are built from, beyond Burn's modules:
//!
//! - [`recurrent`]: a whole recurrent layer (LSTM or Elman RNN) as one autodiff operation with
//!   a hand-written backward pass through time;
//! - [`conv`]: strided and transposed convolutions as one gather and one GEMM on channels-last
//!   tensors (im2col), with Burn's `Conv2d` / `ConvTranspose2d` parameters;
//! - [`sequence`]: the sequence helpers the recurrent models share;
//! - [`fast_path`]: which backend takes which of these paths, decided from the backend's type
//!   alone (no registration, no global switch).
//!
//! Everything is generic over Burn's `Backend`; the fast paths of a concrete backend are
//! compiled in with its cargo feature (`ndarray` for the zoo's CPU backend `zoo-ndarray`,
//! `tch` for libtorch), which the model crates forward.

pub mod conv;
pub mod fast_path;
pub mod recurrent;
pub mod sequence;

/// Reads a float tensor back to the host as `f32` values.
pub(crate) fn host_values<B: burn::tensor::backend::Backend, const D: usize>(
    t: burn::tensor::Tensor<B, D>,
) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("converted to f32 just before")
}
