//! Burn's `nn::Rnn`, computed with fewer operations per step. Each step is one product of
//! `[h_{t-1}, x_t, 1]` with the stacked recurrent weight, input weight and bias, then the
//! activation; the hidden states are returned as a list instead of being written into a
//! preallocated tensor with one `slice_assign` per step. Same parameters, same outputs and
//! gradients (tested against `Rnn::forward`); on ndarray the seed RNN trains several times faster.
//!
//! Why not one product for the input projection of all steps: slicing step `t` out of a tracked
//! `[batch, time, hidden]` tensor costs, on Burn 0.21's autodiff backward pass, a zero tensor of
//! the whole input and a `slice_assign` — quadratic in the sequence length. Slicing the input
//! data (not tracked) is free.

use burn::nn::Rnn;
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::recurrent;
use zoo_kernels::sequence::{last_valid_step, stacked_gate_weights};

/// Whether [`rnn_steps`] computes what `rnn.forward(x, None)` does: batch-first, forward in
/// time, no state clipping.
pub fn supports(rnn: &Rnn<impl Backend>) -> bool {
    rnn.batch_first && !rnn.reverse && rnn.clip.is_none()
}

/// The hidden state after each step of `x` (`[batch, time, input]`, from a zero state), as
/// `time` tensors of `[batch, hidden]`. Requires [`supports`].
pub fn rnn_steps<B: Backend>(rnn: &Rnn<B>, x: Tensor<B, 3>) -> Vec<Tensor<B, 2>> {
    let [batch, time, d_input] = x.dims();
    let hidden = rnn.d_hidden;
    let device = x.device();
    // Rows: the recurrent weight, the input weight, the bias (read against a column of ones).
    let w = stacked_gate_weights(&[&rnn.gate], &device);
    let ones = Tensor::ones([batch, 1], &device);
    let mut h = Tensor::zeros([batch, hidden], &device);
    let mut steps: Vec<Tensor<B, 2>> = Vec::with_capacity(time);
    for t in 0..time {
        let x_t = x
            .clone()
            .slice([0..batch, t..t + 1, 0..d_input])
            .reshape([batch, d_input]);
        let z = Tensor::cat(vec![h, x_t, ones.clone()], 1);
        h = rnn.hidden_activation.forward(z.matmul(w.clone()));
        steps.push(h.clone());
    }
    steps
}

/// The fused cell of `rnn` when [`rnn_sequence`] can run it as one autodiff operation
/// (`zoo_kernels::recurrent`): the backend takes that path (`zoo_kernels::fast_path`) and the activation is tanh or relu.
fn whole_layer<B: Backend>(rnn: &Rnn<B>) -> Option<recurrent::Cell> {
    use burn::nn::activation::Activation;
    if !zoo_kernels::fast_path::fused_recurrent::<B>() {
        return None;
    }
    match rnn.hidden_activation {
        Activation::Tanh(_) => Some(recurrent::Cell::RnnTanh),
        Activation::Relu(_) => Some(recurrent::Cell::RnnRelu),
        _ => None,
    }
}

/// Every step's hidden state (`[batch, time, hidden]`). Requires [`supports`]. One autodiff
/// operation with a hand-written backward pass where the backend takes that path
/// (`zoo_kernels::fast_path`), else [`rnn_steps`].
pub fn rnn_sequence<B: Backend>(rnn: &Rnn<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    if let Some(cell) = whole_layer(rnn) {
        let w = stacked_gate_weights(&[&rnn.gate], &x.device());
        match recurrent::sequence(x, w, cell) {
            Ok(out) => return out,
            Err((x, _)) => return Tensor::stack(rnn_steps(rnn, x), 1),
        }
    }
    Tensor::stack(rnn_steps(rnn, x), 1)
}

/// The hidden state after the last step of `x`. Requires [`supports`].
pub fn rnn_last<B: Backend>(rnn: &Rnn<B>, x: Tensor<B, 3>) -> Option<Tensor<B, 2>> {
    if whole_layer(rnn).is_some() {
        let out = rnn_sequence(rnn, x);
        return (out.dims()[1] > 0).then(|| last_valid_step(out, None));
    }
    rnn_steps(rnn, x).pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::nn::RnnConfig;
    use burn::nn::activation::ActivationConfig;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    #[test]
    fn same_outputs_and_gradients_as_burn_rnn() {
        let d = Default::default();
        for act in [ActivationConfig::Tanh, ActivationConfig::Relu] {
            let rnn = RnnConfig::new(5, 7, true)
                .with_hidden_activation(act)
                .init::<A>(&d);
            assert!(supports(&rnn));
            let x = Tensor::<A, 3>::random([4, 6, 5], Distribution::Normal(0.0, 1.0), &d)
                .require_grad();
            let theirs = rnn.forward(x.clone(), None).0;
            let ours = Tensor::stack(rnn_steps(&rnn, x.clone()), 1);
            let diff = (theirs.clone() - ours.clone()).abs().max().into_scalar();
            assert!(diff < 1e-5, "outputs differ by {diff}");
            // Gradients of the same loss with respect to the input and the recurrent weight.
            let g1 = (theirs.clone() * theirs).sum().backward();
            let g2 = (ours.clone() * ours).sum().backward();
            let w = &rnn.gate.hidden_transform.weight;
            let dw = (w.grad(&g1).unwrap() - w.grad(&g2).unwrap())
                .abs()
                .max()
                .into_scalar();
            let dx = (x.grad(&g1).unwrap() - x.grad(&g2).unwrap())
                .abs()
                .max()
                .into_scalar();
            // Relative to the gradients' size: the ReLU cell's reach ~100 here, and f32 sums
            // in a different order differ by a few ulp of that.
            let scale = |g: Tensor<NdArray, 2>| 1.0 + g.abs().max().into_scalar();
            let (sw, sx) = (
                scale(w.grad(&g1).unwrap()),
                scale(x.grad(&g1).unwrap().reshape([4 * 6, 5])),
            );
            assert!(
                dw < 1e-5 * sw && dx < 1e-5 * sx,
                "gradients differ: weight {dw} (of {sw}), input {dx} (of {sx})"
            );
        }
    }
}
