//! Channels-last building blocks shared by LeNet-5 and the residual network: a convolution on
//! either path, 2×2 max pooling and global average pooling, all on `[batch, h, w, c]`.
//!
//! Why channels-last: [`conv2d_nhwc`] (the im2col fast path) takes and gives that layout, so a
//! network that stays in it between layers never transposes; pooling is a reshape and a max
//! or mean over the window axes, which Burn's autodiff differentiates like any tensor op.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::conv::{ConvPath, conv2d_nhwc};

/// `conv`'s symmetric zero padding (its `PaddingConfig2d::Explicit` value, 0 when `Valid`).
fn padding_of<B: Backend>(conv: &Conv2d<B>) -> usize {
    match conv.padding {
        PaddingConfig2d::Explicit(top, ..) => top,
        _ => 0,
    }
}

/// `conv` (its own stride and symmetric padding) on channels-last `x`: the im2col GEMM, or,
/// on [`ConvPath::Native`], the backend's `Conv2d::forward` between two transposes.
pub fn conv<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>, path: ConvPath) -> Tensor<B, 4> {
    match path {
        ConvPath::Im2col => conv2d_nhwc(conv, x, conv.stride[0], padding_of(conv)),
        ConvPath::Native => conv.forward(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]),
    }
}

/// 2×2 max pooling with stride 2 of channels-last `x` (an odd last row or column is dropped,
/// as `MaxPool2d` does).
pub fn max_pool2<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, h, w, c] = x.dims();
    let (h2, w2) = (h / 2, w / 2);
    let x = if h % 2 == 1 || w % 2 == 1 {
        x.slice([0..n, 0..2 * h2, 0..2 * w2, 0..c])
    } else {
        x
    };
    x.reshape([n, h2, 2, w2, 2, c])
        .max_dim(4)
        .max_dim(2)
        .reshape([n, h2, w2, c])
}

/// The mean over all pixels of channels-last `x`: `[n, h, w, c]` → `[n, c]`.
pub fn global_avg_pool<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 2> {
    let [n, h, w, c] = x.dims();
    x.reshape([n, h * w, c]).mean_dim(1).reshape([n, c])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    fn values(t: Tensor<NdArray, 4>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn max_pool_matches_burn_max_pool_forward_and_backward() {
        let d = Default::default();
        // 7×6: the odd row is dropped by both.
        let x = Tensor::<A, 4>::random([2, 7, 6, 3], Distribution::Default, &d).require_grad();
        let ours = max_pool2(x.clone());
        let burns = MaxPool2dConfig::new([2, 2])
            .init()
            .forward(x.clone().permute([0, 3, 1, 2]))
            .permute([0, 2, 3, 1]);
        assert_eq!(ours.dims(), [2, 3, 3, 3]);
        assert_eq!(values(ours.clone().inner()), values(burns.clone().inner()));
        let up = Tensor::<A, 4>::random([2, 3, 3, 3], Distribution::Default, &d);
        let g1 = (ours * up.clone()).sum().backward();
        let g2 = (burns * up).sum().backward();
        assert_eq!(values(x.grad(&g1).unwrap()), values(x.grad(&g2).unwrap()));
    }

    #[test]
    fn global_average_is_the_mean_of_each_channel() {
        let d = Default::default();
        let x = Tensor::<NdArray, 4>::from_floats(
            [[[[1.0, 10.0], [2.0, 20.0]], [[3.0, 30.0], [6.0, 60.0]]]],
            &d,
        );
        let m = global_avg_pool(x).into_data().to_vec::<f32>().unwrap();
        assert_eq!(m, [3.0, 30.0]);
    }

    #[test]
    fn both_paths_convolve_alike_with_stride_and_padding() {
        let d = Default::default();
        let x = Tensor::<NdArray, 4>::random([2, 9, 9, 4], Distribution::Default, &d);
        for (stride, pad) in [(1, 2), (2, 1), (1, 0)] {
            let c = Conv2dConfig::new([4, 5], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .init::<NdArray>(&d);
            let a = values(conv(&c, x.clone(), ConvPath::Im2col));
            let b = values(conv(&c, x.clone(), ConvPath::Native));
            let worst = a
                .iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max);
            assert!(
                worst < 1e-5,
                "stride {stride} padding {pad}: off by {worst}"
            );
        }
    }
}
