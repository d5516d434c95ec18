use crate::{
    ShapeOps, SharedArray,
    element::{FloatNdArrayElement, IntNdArrayElement},
    iter_range_par,
    ops::padding::apply_padding_4d,
    run_par,
    sharing::UnsafeSharedRef,
};

use burn_backend::ElementConversion;
use burn_backend::ops::conv::calculate_pool_output_size;
use ndarray::{Array4, Axis, Ix4};

pub(crate) fn max_pool2d<E: FloatNdArrayElement>(
    x: SharedArray<E>,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
) -> SharedArray<E> {
    let [kernel_height, kernel_width] = kernel_size;
    let [padding_height, padding_width] = padding;
    let [stride_height, stride_width] = stride;
    let [dilation_height, dilation_width] = dilation;
    let [batch_size, channels, x_height, x_width] = x.shape().dims();
    let inf = (-f32::INFINITY).elem::<E>();

    let out_height = calculate_pool_output_size(
        kernel_height,
        stride_height,
        padding_height,
        dilation_height,
        x_height,
        ceil_mode,
    );
    let out_width = calculate_pool_output_size(
        kernel_width,
        stride_width,
        padding_width,
        dilation_width,
        x_width,
        ceil_mode,
    );

    // Calculate extra padding needed for ceil_mode
    // The maximum input position accessed is: (out_size - 1) * stride + (kernel_size - 1) * dilation
    // This must be < input_size + 2 * total_padding
    let max_ih =
        (out_height.saturating_sub(1)) * stride_height + (kernel_height - 1) * dilation_height;
    let max_iw = (out_width.saturating_sub(1)) * stride_width + (kernel_width - 1) * dilation_width;
    let padded_height = x_height + 2 * padding_height;
    let padded_width = x_width + 2 * padding_width;
    let extra_pad_h = max_ih.saturating_sub(padded_height.saturating_sub(1));
    let extra_pad_w = max_iw.saturating_sub(padded_width.saturating_sub(1));
    let total_padding = [padding_height + extra_pad_h, padding_width + extra_pad_w];

    // burn-zoo patch: a channels-last input takes the channels-last loop.
    if total_padding == [0, 0]
        && let Some((output, _)) = max_pool2d_channels_last::<E, i64>(
            &x,
            kernel_size,
            stride,
            dilation,
            [out_height, out_width],
            false,
        )
    {
        return output.into_dyn().into_shared();
    }
    // burn-zoo patch: no padded copy when there is no padding, and a fixed-rank view: indexing
    // the dynamic-rank array element by element cost more than the pooling itself.
    let x = if total_padding == [0, 0] {
        x
    } else {
        apply_padding_4d::<E>(x, total_padding, inf)
    };
    let x = x.view().into_dimensionality::<Ix4>().expect("a 4-d input");

    // Offset to account for extra padding (extra_pad is added on both sides by apply_padding_4d)
    let offset_h = extra_pad_h;
    let offset_w = extra_pad_w;

    let mut output = Array4::from_elem((batch_size, channels, out_height, out_width), inf);
    let unsafe_shared_out = UnsafeSharedRef::new(&mut output);

    run_par!(|| {
        iter_range_par!(0, batch_size * channels).for_each(|k| unsafe {
            let b = k / channels;
            let c = k % channels;

            let output = unsafe_shared_out.get();

            for oh in 0..out_height {
                for ow in 0..out_width {
                    let mut max_val = inf;

                    for kh in 0..kernel_height {
                        let ih = offset_h + oh * stride_height + kh * dilation_height;

                        for kw in 0..kernel_width {
                            let iw = offset_w + ow * stride_width + kw * dilation_width;

                            let val = x[[b, c, ih, iw]];

                            if val > max_val {
                                max_val = val;
                            }
                        }
                    }

                    output[[b, c, oh, ow]] = max_val;
                }
            }
        })
    });

    output.into_dyn().into_shared()
}

pub(crate) fn max_pool2d_with_indices<E: FloatNdArrayElement, I: IntNdArrayElement>(
    x: SharedArray<E>,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
) -> (SharedArray<E>, SharedArray<I>) {
    let [kernel_height, kernel_width] = kernel_size;
    let [padding_height, padding_width] = padding;
    let [stride_height, stride_width] = stride;
    let [dilation_height, dilation_width] = dilation;
    let [batch_size, channels, x_height, x_width] = x.shape().dims();
    let inf = (-f32::INFINITY).elem::<E>();

    let out_height = calculate_pool_output_size(
        kernel_height,
        stride_height,
        padding_height,
        dilation_height,
        x_height,
        ceil_mode,
    );
    let out_width = calculate_pool_output_size(
        kernel_width,
        stride_width,
        padding_width,
        dilation_width,
        x_width,
        ceil_mode,
    );

    // Calculate extra padding needed for ceil_mode
    let max_ih =
        (out_height.saturating_sub(1)) * stride_height + (kernel_height - 1) * dilation_height;
    let max_iw = (out_width.saturating_sub(1)) * stride_width + (kernel_width - 1) * dilation_width;
    let padded_height = x_height + 2 * padding_height;
    let padded_width = x_width + 2 * padding_width;
    let extra_pad_h = max_ih.saturating_sub(padded_height.saturating_sub(1));
    let extra_pad_w = max_iw.saturating_sub(padded_width.saturating_sub(1));
    let total_padding = [padding_height + extra_pad_h, padding_width + extra_pad_w];

    // burn-zoo patch: a channels-last input takes the channels-last loop.
    if total_padding == [0, 0]
        && let Some((output, Some(indices))) = max_pool2d_channels_last::<E, I>(
            &x,
            kernel_size,
            stride,
            dilation,
            [out_height, out_width],
            true,
        )
    {
        return (
            output.into_dyn().into_shared(),
            indices.into_dyn().into_shared(),
        );
    }
    // burn-zoo patch: no padded copy when there is no padding, and a fixed-rank view: indexing
    // the dynamic-rank array element by element cost more than the pooling itself.
    let x = if total_padding == [0, 0] {
        x
    } else {
        apply_padding_4d::<E>(x, total_padding, inf)
    };
    let x = x.view().into_dimensionality::<Ix4>().expect("a 4-d input");

    // Offset to account for extra padding
    let offset_h = extra_pad_h;
    let offset_w = extra_pad_w;

    let mut output = Array4::from_elem((batch_size, channels, out_height, out_width), inf);
    let mut indices = Array4::<I>::zeros((batch_size, channels, out_height, out_width));

    let unsafe_shared_out = UnsafeSharedRef::new(&mut output);
    let unsafe_shared_indices = UnsafeSharedRef::new(&mut indices);

    run_par!(|| {
        iter_range_par!(0, batch_size * channels).for_each(|k| unsafe {
            let b = k / channels;
            let c = k % channels;

            let output = unsafe_shared_out.get();
            let indices = unsafe_shared_indices.get();

            for oh in 0..out_height {
                for ow in 0..out_width {
                    let mut max_val = inf;
                    let mut index = 0;

                    for kh in 0..kernel_height {
                        let ih = offset_h + oh * stride_height + kh * dilation_height;

                        for kw in 0..kernel_width {
                            let iw = offset_w + ow * stride_width + kw * dilation_width;
                            let val = x[[b, c, ih, iw]];

                            if val > max_val {
                                max_val = val;

                                // Calculate index in original (unpadded) input
                                let ih_orig = ih as i64 - (total_padding[0]) as i64;
                                let iw_orig = iw as i64 - (total_padding[1]) as i64;

                                // Clamp to valid range for index calculation
                                let ih_clamped = ih_orig.max(0).min(x_height as i64 - 1);
                                let iw_clamped = iw_orig.max(0).min(x_width as i64 - 1);

                                index = ih_clamped * x_width as i64 + iw_clamped;
                            }
                        }
                    }

                    output[[b, c, oh, ow]] = max_val;
                    indices[[b, c, oh, ow]] = index.elem();
                }
            }
        })
    });

    let output = output.into_dyn().into_shared();
    let indices = indices.into_dyn().into_shared();

    (output, indices)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn max_pool2d_backward<E: FloatNdArrayElement, I: IntNdArrayElement>(
    x: SharedArray<E>,
    _kernel_size: [usize; 2],
    _stride: [usize; 2],
    _padding: [usize; 2],
    _dilation: [usize; 2],
    _ceil_mode: bool,
    output_grad: SharedArray<E>,
    indices: SharedArray<I>,
) -> SharedArray<E> {
    let [_batch_size, _channels, height, width] = output_grad.shape().dims();
    let [batch_size, channels, height_x, width_x] = x.shape().dims();

    // burn-zoo patch: fixed-rank views (see `max_pool2d`), and the channels-last loop for a
    // channels-last `x`.
    let output_grad = output_grad
        .view()
        .into_dimensionality::<Ix4>()
        .expect("a 4-d gradient");
    let indices = indices
        .view()
        .into_dimensionality::<Ix4>()
        .expect("4-d indices");

    if let Some(output) = max_pool2d_backward_channels_last(&x, &output_grad, &indices) {
        return output.into_dyn().into_shared();
    }
    let mut output = Array4::zeros((batch_size, channels, height_x, width_x));

    let unsafe_shared_out = UnsafeSharedRef::new(&mut output);

    run_par!(|| {
        iter_range_par!(0, batch_size * channels).for_each(|k| unsafe {
            let b = k / channels;
            let c = k % channels;

            let output = unsafe_shared_out.get();

            for h in 0..height {
                for w in 0..width {
                    let index = indices[[b, c, h, w]].elem::<i64>();
                    let grad = output_grad[[b, c, h, w]];

                    let index_h = index as usize / width_x;
                    let index_w = index as usize % width_x;

                    output[[b, c, index_h, index_w]] += grad;
                }
            }
        });
    });

    output.into_dyn().into_shared()
}

/// burn-zoo patch: whether `x` (`[batch, channels, height, width]`) is a permuted
/// channels-last tensor, i.e. each image is a standard-layout `[height, width, channels]`.
fn is_channels_last<E>(x: &ndarray::ArrayView4<'_, E>) -> bool {
    let [_, c, _, w] = x.shape().try_into().expect("4 axes");
    let s = x.strides();
    c > 1 && s[1] == 1 && s[3] == c as isize && s[2] == (w * c) as isize
}

/// burn-zoo patch: max pooling of a channels-last `x` without padding, one image per task
/// with the channels as the inner loop, so every read is contiguous (the generic loop reads
/// such an input at a stride of `channels`, one cache line per element). The same maxima and
/// indices in the same scan order (first maximum wins) as the generic loop; the output is
/// the usual `[batch, channels, out_h, out_w]`. `None` for any other layout.
fn max_pool2d_channels_last<E: FloatNdArrayElement, I: IntNdArrayElement>(
    x: &SharedArray<E>,
    [kernel_height, kernel_width]: [usize; 2],
    [stride_height, stride_width]: [usize; 2],
    [dilation_height, dilation_width]: [usize; 2],
    [out_height, out_width]: [usize; 2],
    with_indices: bool,
) -> Option<(Array4<E>, Option<Array4<I>>)> {
    let x = x.view().into_dimensionality::<Ix4>().ok()?;
    if !is_channels_last(&x) {
        return None;
    }
    let [batch_size, channels, _, x_width] = x.shape().try_into().expect("4 axes");
    let inf = (-f32::INFINITY).elem::<E>();
    let plane = out_height * out_width;
    let mut output = Array4::from_elem((batch_size, channels, out_height, out_width), inf);
    let mut indices =
        with_indices.then(|| Array4::<I>::zeros((batch_size, channels, out_height, out_width)));
    let unsafe_shared_out = UnsafeSharedRef::new(&mut output);
    let unsafe_shared_indices = UnsafeSharedRef::new(&mut indices);

    run_par!(|| {
        iter_range_par!(0, batch_size).for_each(|b| unsafe {
            let image = x.index_axis(Axis(0), b).permuted_axes([1, 2, 0]);
            let image = image.to_slice().expect("a standard-layout image");
            let mut output = unsafe_shared_out.get().index_axis_mut(Axis(0), b);
            let output = output.as_slice_mut().expect("a standard-layout output");
            let mut indices = unsafe_shared_indices
                .get()
                .as_mut()
                .map(|indices| indices.index_axis_mut(Axis(0), b));
            let mut best = alloc::vec![inf; channels];
            let mut arg = alloc::vec![0i64; channels];
            for oh in 0..out_height {
                for ow in 0..out_width {
                    best.fill(inf);
                    arg.fill(0);
                    for kh in 0..kernel_height {
                        let ih = oh * stride_height + kh * dilation_height;
                        for kw in 0..kernel_width {
                            let iw = ow * stride_width + kw * dilation_width;
                            let pixel = ih * x_width + iw;
                            let row = &image[pixel * channels..(pixel + 1) * channels];
                            for ((best, arg), &val) in best.iter_mut().zip(&mut arg).zip(row) {
                                if val > *best {
                                    *best = val;
                                    *arg = pixel as i64;
                                }
                            }
                        }
                    }
                    let at = oh * out_width + ow;
                    for (c, &val) in best.iter().enumerate() {
                        output[c * plane + at] = val;
                    }
                    if let Some(indices) = indices.as_mut() {
                        for (c, &pixel) in arg.iter().enumerate() {
                            indices[[c, oh, ow]] = pixel.elem();
                        }
                    }
                }
            }
        })
    });

    Some((output, indices))
}

/// burn-zoo patch: the gradient of [`max_pool2d_channels_last`], channels-last like `x`
/// (so permuting it back is free), from standard-layout output gradients and indices, each
/// element receiving its gradients in the generic loop's order. `None` for other layouts.
fn max_pool2d_backward_channels_last<E: FloatNdArrayElement, I: IntNdArrayElement>(
    x: &SharedArray<E>,
    output_grad: &ndarray::ArrayView4<'_, E>,
    indices: &ndarray::ArrayView4<'_, I>,
) -> Option<Array4<E>> {
    let x = x.view().into_dimensionality::<Ix4>().ok()?;
    if !is_channels_last(&x) || !output_grad.is_standard_layout() || !indices.is_standard_layout() {
        return None;
    }
    let [batch_size, channels, height, width] = x.shape().try_into().expect("4 axes");
    let [_, _, out_height, out_width] = output_grad.shape().try_into().expect("4 axes");
    let plane = out_height * out_width;
    let mut output = Array4::<E>::zeros((batch_size, height, width, channels));
    let unsafe_shared_out = UnsafeSharedRef::new(&mut output);

    run_par!(|| {
        iter_range_par!(0, batch_size).for_each(|b| unsafe {
            let mut image = unsafe_shared_out.get().index_axis_mut(Axis(0), b);
            let image = image.as_slice_mut().expect("a standard-layout image");
            let grad = output_grad.index_axis(Axis(0), b);
            let grad = grad.to_slice().expect("a standard-layout gradient");
            let index = indices.index_axis(Axis(0), b);
            let index = index.to_slice().expect("standard-layout indices");
            for at in 0..plane {
                for c in 0..channels {
                    let pixel = index[c * plane + at].elem::<i64>() as usize;
                    image[pixel * channels + c] += grad[c * plane + at];
                }
            }
        })
    });

    Some(output.permuted_axes([0, 3, 1, 2]))
}
