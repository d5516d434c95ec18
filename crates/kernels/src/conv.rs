//! Convolutions, strided and transposed, as one gather and one GEMM each on channels-last
//! (`[batch, h, w, c]`) tensors, with the parameters of Burn's `Conv2d` / `ConvTranspose2d`
//! modules (identical results to their `forward`, tested).
//!
//! Why: burn-ndarray 0.21 computes both with direct loops: they took 85% of the seed CNN's
//! training time on a 2-core CPU while GEMM took under 1%, and a DCGAN step ran at 6 images/s.
//! Here the patches are gathered with one `select` on the flattened pixel axis — in
//! channels-last layout each gathered row is a contiguous run of `c` values — and multiplied
//! by the weight reshaped to the same order. Autodiff derives the backward pass (a scatter-add
//! and two GEMMs); the output is already the next layer's layout. Out-of-image taps read an
//! appended zero pixel, so padding costs no padded copy.

use burn::nn::BatchNorm;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

/// How a network convolves: the channels-last gather-and-GEMM functions of this module, or the
/// backend's own `Conv2d` (NCHW). Both compute the same function (tested).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPath {
    /// [`conv2d_nhwc`] and friends.
    Im2col,
    /// Burn's `Conv2d::forward`, the backend's own kernel.
    Native,
}

impl ConvPath {
    /// The faster path for `B` ([`crate::fast_path::native_conv`]).
    pub fn of<B: Backend>() -> Self {
        if crate::fast_path::native_conv::<B>() {
            Self::Native
        } else {
            Self::Im2col
        }
    }
}

fn index<B: Backend>(idx: Vec<i64>, device: &B::Device) -> Tensor<B, 1, Int> {
    let n = idx.len();
    Tensor::from_data(TensorData::new(idx, [n]), device)
}

/// `[n, p, c]` with one zero row appended along the middle axis: `[n, p + 1, c]`.
fn with_zero_row<B: Backend>(x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [n, _, c] = x.dims();
    let zero = Tensor::zeros([n, 1, c], &x.device());
    Tensor::cat(vec![x, zero], 1)
}

/// Convolution of channels-last `x` with `conv`'s weight `[out, in, kh, kw]` and bias, with
/// `stride` and zero `padding` on every side (ungrouped, undilated):
/// `[n, h, w, in]` → `[n, oh, ow, out]`.
pub fn conv2d_nhwc<B: Backend>(
    conv: &Conv2d<B>,
    x: Tensor<B, 4>,
    stride: usize,
    padding: usize,
) -> Tensor<B, 4> {
    let [n, h, w, c] = x.dims();
    let [o, _, kh, kw] = conv.weight.dims();
    let oh = (h + 2 * padding - kh) / stride + 1;
    let ow = (w + 2 * padding - kw) / stride + 1;
    let zero = (h * w) as i64;
    let mut idx = Vec::with_capacity(oh * ow * kh * kw);
    for y in 0..oh {
        for xx in 0..ow {
            for i in 0..kh {
                for j in 0..kw {
                    let iy = (y * stride + i) as i64 - padding as i64;
                    let ix = (xx * stride + j) as i64 - padding as i64;
                    let inside = (0..h as i64).contains(&iy) && (0..w as i64).contains(&ix);
                    idx.push(if inside { iy * w as i64 + ix } else { zero });
                }
            }
        }
    }
    let device = x.device();
    let flat = x.reshape([n, h * w, c]);
    let flat = if padding > 0 {
        with_zero_row(flat)
    } else {
        flat
    };
    let patches = flat
        .select(1, index::<B>(idx, &device))
        .reshape([n * oh * ow, kh * kw * c]);
    let weight = conv
        .weight
        .val()
        .permute([2, 3, 1, 0])
        .reshape([kh * kw * c, o]);
    let mut out = patches.matmul(weight);
    if let Some(bias) = &conv.bias {
        out = out + bias.val().reshape([1, o]);
    }
    out.reshape([n, oh, ow, o])
}

/// Transposed convolution of channels-last `x` with `conv`'s weight `[in, out, kh, kw]` and
/// bias, `stride` and `padding`: `[n, h, w, in]` → `[n, (h-1)s - 2p + kh, …, out]`.
///
/// Every input pixel's contribution to its `kh × kw` output window is one GEMM
/// (`[n·h·w, in] × [in, kh·kw·out]`); each output pixel then gathers and sums its at most
/// `⌈kh/s⌉·⌈kw/s⌉` taps.
pub fn conv_transpose2d_nhwc<B: Backend>(
    conv: &ConvTranspose2d<B>,
    x: Tensor<B, 4>,
    stride: usize,
    padding: usize,
) -> Tensor<B, 4> {
    let [n, h, w, c] = x.dims();
    let [_, o, kh, kw] = conv.weight.dims();
    let oh = (h - 1) * stride + kh - 2 * padding;
    let ow = (w - 1) * stride + kw - 2 * padding;
    // [in, out, kh, kw] → [in, (kh, kw, out)]
    let weight = conv
        .weight
        .val()
        .permute([0, 2, 3, 1])
        .reshape([c, kh * kw * o]);
    let cols = x.reshape([n * h * w, c]).matmul(weight);
    let device = cols.device();
    let out = if h == 1 && w == 1 && padding == 0 {
        // A 1×1 input (the generator's projection): the window is the output.
        cols.reshape([n, oh, ow, o])
    } else {
        let (ty, tx) = (kh.div_ceil(stride), kw.div_ceil(stride));
        let taps = ty * tx;
        let zero = (h * w * kh * kw) as i64;
        let mut idx = Vec::with_capacity(oh * ow * taps);
        for y in 0..oh {
            for xx in 0..ow {
                let before = idx.len();
                // Output (y, x) receives input (iy, ix) through kernel tap (i, j) when
                // y = iy·s + i - p.
                for iy in 0..h {
                    let i = (y + padding) as i64 - (iy * stride) as i64;
                    if !(0..kh as i64).contains(&i) {
                        continue;
                    }
                    for ix in 0..w {
                        let j = (xx + padding) as i64 - (ix * stride) as i64;
                        if (0..kw as i64).contains(&j) {
                            idx.push(((iy * w + ix) * kh * kw) as i64 + i * kw as i64 + j);
                        }
                    }
                }
                idx.resize(before + taps, zero);
            }
        }
        with_zero_row(cols.reshape([n, h * w * kh * kw, o]))
            .select(1, index::<B>(idx, &device))
            .reshape([n, oh * ow, taps, o])
            .sum_dim(2)
            .reshape([n, oh, ow, o])
    };
    match &conv.bias {
        Some(bias) => out + bias.val().reshape([1, 1, 1, o]),
        None => out,
    }
}

/// Batch norm over the channels of a channels-last tensor (statistics per channel over batch
/// and pixels, as `BatchNorm2d` on NCHW).
pub fn batch_norm_nhwc<B: Backend>(bn: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let dims = x.dims();
    bn.forward(x.reshape([dims[0] * dims[1] * dims[2], dims[3]]))
        .reshape(dims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    fn max_diff(p: Tensor<NdArray, 4>, q: Tensor<NdArray, 4>) -> f32 {
        assert_eq!(p.dims(), q.dims());
        let (p, q) = (
            p.into_data().to_vec::<f32>().unwrap(),
            q.into_data().to_vec::<f32>().unwrap(),
        );
        p.iter()
            .zip(&q)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    fn nchw(x: Tensor<A, 4>) -> Tensor<A, 4> {
        x.permute([0, 3, 1, 2])
    }

    /// Burn's output `a` and ours `b` of the same input `x` and `weight` agree, and so do the
    /// gradients of both under the same non-uniform upstream gradient.
    fn assert_same(
        a: Tensor<A, 4>,
        b: Tensor<A, 4>,
        x: &Tensor<A, 4>,
        weight: &burn::module::Param<Tensor<A, 4>>,
        case: &str,
    ) {
        let d = Default::default();
        assert!(
            max_diff(a.clone().inner(), b.clone().inner()) < 1e-5,
            "{case}"
        );
        let up = Tensor::<A, 4>::random(a.dims(), Distribution::Default, &d);
        let ga = (a * up.clone()).sum().backward();
        let gb = (b * up).sum().backward();
        assert!(
            max_diff(x.grad(&ga).unwrap(), x.grad(&gb).unwrap()) < 1e-5,
            "{case}"
        );
        assert!(
            max_diff(weight.grad(&ga).unwrap(), weight.grad(&gb).unwrap()) < 1e-4,
            "{case}"
        );
    }

    fn input(cin: usize, size: usize) -> Tensor<A, 4> {
        Tensor::<A, 4>::random(
            [2, cin, size, size],
            Distribution::Default,
            &Default::default(),
        )
        .require_grad()
    }

    #[test]
    fn strided_padded_conv_matches_burn_forward_and_backward() {
        for (cin, cout, k, s, p, size) in
            [(3, 5, 4, 2, 1, 14), (2, 4, 7, 1, 0, 7), (1, 3, 3, 1, 1, 6)]
        {
            let conv = Conv2dConfig::new([cin, cout], [k, k])
                .with_stride([s, s])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init::<A>(&Default::default());
            let x = input(cin, size);
            let a = conv.forward(x.clone());
            let b = nchw(conv2d_nhwc(&conv, x.clone().permute([0, 2, 3, 1]), s, p));
            assert_same(a, b, &x, &conv.weight, &format!("conv {k} {s} {p}"));
        }
    }

    #[test]
    fn transposed_conv_matches_burn_forward_and_backward() {
        for (cin, cout, k, s, p, size) in
            [(4, 3, 4, 2, 1, 7), (5, 2, 7, 1, 0, 1), (2, 2, 3, 2, 0, 4)]
        {
            let conv = ConvTranspose2dConfig::new([cin, cout], [k, k])
                .with_stride([s, s])
                .with_padding([p, p])
                .init::<A>(&Default::default());
            let x = input(cin, size);
            let a = conv.forward(x.clone());
            let b = nchw(conv_transpose2d_nhwc(
                &conv,
                x.clone().permute([0, 2, 3, 1]),
                s,
                p,
            ));
            assert_same(a, b, &x, &conv.weight, &format!("transposed {k} {s} {p}"));
        }
    }
}
