//! Which backend takes which fast path, decided from the backend's type alone.
//!
//! Burn 0.21 has no specialisation and no hook for custom autodiff operations on a generic
//! `B: Backend`: the whole-layer recurrent operation ([`crate::recurrent`]) must name the
//! concrete `Autodiff<I>` it registers its backward node on, and only some backends have a
//! convolution that beats the zoo's im2col. So the generic model code asks this module, which
//! compares `B` with the concrete backends compiled in through this crate's cargo features:
//!
//! | backend (`f32`) | feature | recurrent layers in training | CNN convolution |
//! |---|---|---|---|
//! | `Autodiff<zoo_ndarray::NdArray>` | `ndarray` | one host-memory autodiff op | im2col |
//! | `Autodiff<LibTorch>`, CPU device | `tch` | one host-memory autodiff op | libtorch's own |
//! | `Autodiff<LibTorch>`, CUDA device | `tch` | one autodiff op in libtorch's tensors | libtorch's own |
//! | any other (wgpu, flex, candle, ...) | | Burn's op-by-op layers | im2col |
//!
//! Nothing is registered and no global switch is read: a crate that depends on the model
//! crates (whose default `ndarray` feature turns on this crate's) and trains on
//! `Autodiff<zoo_ndarray::NdArray>` gets the same paths as the zoo's binaries. Every path
//! computes the same function (tested against Burn's modules), so the choice is speed only.

use std::any::{Any, TypeId};

use burn::tensor::backend::Backend;

/// Whether `A` and `B` are the same type.
#[cfg_attr(not(any(feature = "ndarray", feature = "tch")), allow(dead_code))]
pub(crate) fn same_type<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

/// `value` as a `U` when `T` is `U`, else `value` back.
#[cfg_attr(not(any(feature = "ndarray", feature = "tch")), allow(dead_code))]
pub(crate) fn cast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(u) => Ok(u.take().expect("filled just above")),
        None => Err(slot.take().expect("filled just above")),
    }
}

/// [`cast`] where `T` is known to be `U` (checked with [`same_type`] just before).
#[cfg_attr(not(any(feature = "ndarray", feature = "tch")), allow(dead_code))]
pub(crate) fn cast_checked<T: 'static, U: 'static>(value: T) -> U {
    match cast::<T, U>(value) {
        Ok(u) => u,
        Err(_) => panic!(
            "{} is not {}: same_type is checked before every cast",
            std::any::type_name::<T>(),
            std::any::type_name::<U>()
        ),
    }
}

/// Whether training on `B` runs the recurrent layers as one autodiff operation
/// ([`crate::recurrent::sequence`]); see the module table.
pub fn fused_recurrent<B: Backend>() -> bool {
    #[cfg(feature = "ndarray")]
    if same_type::<B, burn::backend::Autodiff<zoo_ndarray::NdArray<f32>>>() {
        return true;
    }
    #[cfg(feature = "tch")]
    if same_type::<B, burn::backend::Autodiff<burn::backend::LibTorch<f32>>>() {
        return true;
    }
    false
}

/// Whether the CNN convolves with `B`'s own `Conv2d` (NCHW) rather than the im2col path of
/// [`crate::conv`]: libtorch's (oneDNN on the CPU, cuDNN on CUDA) beats a gather and a GEMM;
/// through im2col the seed CNN ran at 0.7–0.8× PyTorch's speed on tch.
pub fn native_conv<B: Backend>() -> bool {
    #[cfg(feature = "tch")]
    if same_type::<B, burn::backend::LibTorch<f32>>()
        || same_type::<B, burn::backend::Autodiff<burn::backend::LibTorch<f32>>>()
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use zoo_ndarray::NdArray;

    #[test]
    fn casts_only_between_equal_types() {
        assert_eq!(cast::<u8, u8>(3), Ok(3));
        assert_eq!(cast::<u8, u16>(3), Err(3));
    }

    #[test]
    fn the_table_holds_for_the_compiled_backends() {
        assert_eq!(
            fused_recurrent::<Autodiff<NdArray>>(),
            cfg!(feature = "ndarray")
        );
        // Inference and other element types keep Burn's layers.
        assert!(!fused_recurrent::<NdArray>());
        assert!(!fused_recurrent::<Autodiff<NdArray<f64>>>());
        assert!(!native_conv::<Autodiff<NdArray>>());
    }
}
