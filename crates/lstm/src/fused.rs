//! Burn's `nn::Lstm`, computed with fewer operations per step. `nn::Lstm` runs eight `Linear`
//! layers per step (an input and a hidden transform per gate) and writes each step's output into
//! a preallocated tensor with `slice_assign`. Here the gates' weights and biases are stacked once
//! per forward pass, so each step is two products of `[h_{t-1}, x_t, 1]` (one for the three
//! sigmoid gates, one for the candidate cell), one sigmoid, one tanh and the cell update; the
//! outputs are returned as a list. Same parameters (checkpoints are unchanged), same outputs and
//! gradients (tested against `Lstm::forward`); on ndarray the seed LSTM trains several times
//! faster.
//!
//! Why not one product for the input projection of all steps: slicing step `t` out of a tracked
//! `[batch, time, 4·hidden]` tensor costs, on Burn 0.21's autodiff backward pass, a zero tensor
//! of the whole input and a `slice_assign` — quadratic in the sequence length. Slicing the input
//! data (not tracked) is free.

use burn::nn::Lstm;
use burn::tensor::{Tensor, backend::Backend};
use zoo_kernels::recurrent;
use zoo_kernels::sequence::{last_valid_step, stacked_gate_weights};

/// Whether [`lstm_steps`] computes what `lstm.forward(x, None)` does: batch-first, forward in
/// time, no cell clipping, separate input and forget gates.
pub fn supports(lstm: &Lstm<impl Backend>) -> bool {
    lstm.batch_first && !lstm.reverse && lstm.clip.is_none() && !lstm.input_forget
}

/// The hidden state after each step of `x` (`[batch, time, input]`, from zero states), as
/// `time` tensors of `[batch, hidden]`. Requires [`supports`].
pub fn lstm_steps<B: Backend>(lstm: &Lstm<B>, x: Tensor<B, 3>) -> Vec<Tensor<B, 2>> {
    steps_from(lstm, x, None).0
}

/// Every step's hidden state (`[batch, time, hidden]`) of `x` from the state `start`
/// (`(hidden, cell)`, `[batch, hidden]` each; zeros when `None`), and the state after the last
/// step: what truncated backpropagation through time carries from one window to the next.
/// The op-by-op path of [`lstm_steps`] (the fused layer starts from zeros); Burn's own
/// `Lstm::forward` with a state where [`supports`] does not hold.
pub fn lstm_steps_from<B: Backend>(
    lstm: &Lstm<B>,
    x: Tensor<B, 3>,
    start: Option<(Tensor<B, 2>, Tensor<B, 2>)>,
) -> (Tensor<B, 3>, (Tensor<B, 2>, Tensor<B, 2>)) {
    if !supports(lstm) {
        let state = start.map(|(h, c)| burn::nn::LstmState::new(c, h));
        let (out, state) = lstm.forward(x, state);
        return (out, (state.hidden, state.cell));
    }
    let (steps, last) = steps_from(lstm, x, start);
    (Tensor::stack(steps, 1), last)
}

#[allow(clippy::type_complexity)]
fn steps_from<B: Backend>(
    lstm: &Lstm<B>,
    x: Tensor<B, 3>,
    start: Option<(Tensor<B, 2>, Tensor<B, 2>)>,
) -> (Vec<Tensor<B, 2>>, (Tensor<B, 2>, Tensor<B, 2>)) {
    let [batch, time, d_input] = x.dims();
    let h = lstm.d_hidden;
    let device = x.device();
    let w_gates = stacked_gate_weights(
        &[&lstm.input_gate, &lstm.forget_gate, &lstm.output_gate],
        &device,
    );
    let w_cell = stacked_gate_weights(&[&lstm.cell_gate], &device);
    let ones = Tensor::ones([batch, 1], &device);
    let (mut hidden, mut cell) = start.unwrap_or_else(|| {
        (
            Tensor::zeros([batch, h], &device),
            Tensor::zeros([batch, h], &device),
        )
    });
    let mut steps: Vec<Tensor<B, 2>> = Vec::with_capacity(time);
    for t in 0..time {
        let x_t = x
            .clone()
            .slice([0..batch, t..t + 1, 0..d_input])
            .reshape([batch, d_input]);
        let z = Tensor::cat(vec![hidden, x_t, ones.clone()], 1);
        let gated = lstm
            .gate_activation
            .forward(z.clone().matmul(w_gates.clone()));
        let candidate = lstm.cell_activation.forward(z.matmul(w_cell.clone()));
        let input = gated.clone().slice([0..batch, 0..h]);
        let forget = gated.clone().slice([0..batch, h..2 * h]);
        let output = gated.slice([0..batch, 2 * h..3 * h]);
        cell = forget * cell + input * candidate;
        hidden = output * lstm.hidden_activation.forward(cell.clone());
        steps.push(hidden.clone());
    }
    (steps, (hidden, cell))
}

/// Whether [`lstm_sequence`] runs as one autodiff operation (`zoo_kernels::recurrent`): the
/// backend takes that path (`zoo_kernels::fast_path`) and the activations are the standard sigmoid / tanh / tanh.
fn whole_layer<B: Backend>(lstm: &Lstm<B>) -> bool {
    use burn::nn::activation::Activation;
    zoo_kernels::fast_path::fused_recurrent::<B>()
        && matches!(lstm.gate_activation, Activation::Sigmoid(_))
        && matches!(lstm.cell_activation, Activation::Tanh(_))
        && matches!(lstm.hidden_activation, Activation::Tanh(_))
}

/// Every step's hidden state (`[batch, time, hidden]`). Requires [`supports`]. One autodiff
/// operation with a hand-written backward pass where the backend takes that path
/// (`zoo_kernels::fast_path`), else [`lstm_steps`].
pub fn lstm_sequence<B: Backend>(lstm: &Lstm<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    if whole_layer(lstm) {
        let w = stacked_gate_weights(
            &[
                &lstm.input_gate,
                &lstm.forget_gate,
                &lstm.output_gate,
                &lstm.cell_gate,
            ],
            &x.device(),
        );
        match recurrent::sequence(x, w, recurrent::Cell::Lstm) {
            Ok(out) => return out,
            Err((x, _)) => return Tensor::stack(lstm_steps(lstm, x), 1),
        }
    }
    Tensor::stack(lstm_steps(lstm, x), 1)
}

/// The hidden state after the last step of `x`. Requires [`supports`].
pub fn lstm_last<B: Backend>(lstm: &Lstm<B>, x: Tensor<B, 3>) -> Option<Tensor<B, 2>> {
    if whole_layer(lstm) {
        let out = lstm_sequence(lstm, x);
        return (out.dims()[1] > 0).then(|| last_valid_step(out, None));
    }
    lstm_steps(lstm, x).pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::nn::LstmConfig;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    #[test]
    fn whole_layer_path_matches_burn_lstm() {
        let d = Default::default();
        let lstm = LstmConfig::new(5, 7, true).init::<A>(&d);
        assert!(whole_layer(&lstm));
        let x =
            Tensor::<A, 3>::random([4, 6, 5], Distribution::Normal(0.0, 1.0), &d).require_grad();
        let theirs = lstm.forward(x.clone(), None).0;
        let ours = lstm_sequence(&lstm, x.clone());
        let diff = (theirs.clone() - ours).abs().max().into_scalar();
        assert!(diff < 1e-5, "outputs differ by {diff}");
        let last = lstm_last(&lstm, x).unwrap();
        let diff = (theirs.slice([0..4, 5..6, 0..7]).reshape([4, 7]) - last)
            .abs()
            .max()
            .into_scalar();
        assert!(diff < 1e-5, "last step differs by {diff}");
    }

    #[test]
    fn same_outputs_and_gradients_as_burn_lstm() {
        let d = Default::default();
        let lstm = LstmConfig::new(5, 7, true).init::<A>(&d);
        assert!(supports(&lstm));
        let x =
            Tensor::<A, 3>::random([4, 6, 5], Distribution::Normal(0.0, 1.0), &d).require_grad();
        let theirs = lstm.forward(x.clone(), None).0;
        let ours = Tensor::stack(lstm_steps(&lstm, x.clone()), 1);
        let diff = (theirs.clone() - ours.clone()).abs().max().into_scalar();
        assert!(diff < 1e-5, "outputs differ by {diff}");
        let g1 = (theirs.clone() * theirs).sum().backward();
        let g2 = (ours.clone() * ours).sum().backward();
        let dx = (x.grad(&g1).unwrap() - x.grad(&g2).unwrap())
            .abs()
            .max()
            .into_scalar();
        assert!(dx < 1e-4, "input gradients differ by {dx}");
        for (name, g) in [
            ("input", &lstm.input_gate),
            ("forget", &lstm.forget_gate),
            ("output", &lstm.output_gate),
            ("cell", &lstm.cell_gate),
        ] {
            for l in [&g.input_transform, &g.hidden_transform] {
                let dw = (l.weight.grad(&g1).unwrap() - l.weight.grad(&g2).unwrap())
                    .abs()
                    .max()
                    .into_scalar();
                let b = l.bias.as_ref().unwrap();
                let db = (b.grad(&g1).unwrap() - b.grad(&g2).unwrap())
                    .abs()
                    .max()
                    .into_scalar();
                assert!(
                    dw < 1e-4 && db < 1e-4,
                    "{name} gate: weight {dw}, bias {db}"
                );
            }
        }
    }
}
