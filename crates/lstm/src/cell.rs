//! One LSTM cell written from the seed's gate equations, for reading and for checking Burn's
//! `nn::Lstm` against. The production models use `nn::Lstm` / `nn::BiLstm`.
//!
//! With `z = [h_{t-1}, x_t]` (the previous hidden state and the input, concatenated):
//!
//! ```text
//! f_t  = σ(W_f · z + b_f)          forget gate: how much of the old cell to keep
//! i_t  = σ(W_i · z + b_i)          input gate: how much of the candidate to write
//! c̃_t  = tanh(W_c · z + b_c)       candidate cell
//! c_t  = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t  new cell state
//! o_t  = σ(W_o · z + b_o)          output gate
//! h_t  = o_t ⊙ tanh(c_t)           new hidden state
//! ```
//!
//! The cell state `c` and the hidden state `h` are kept apart by type ([`CellState`]), and every
//! weight and bias is a trainable [`Linear`] parameter: the two mistakes of Burn 0.21's own LSTM
//! example (hidden and cell swapped, biases created as constants), both tested for.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Lstm};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Tensor, backend::Backend};

/// The state an LSTM carries from one step to the next.
#[derive(Clone, Debug)]
pub struct CellState<B: Backend> {
    /// `h_t`, `[batch, hidden]`: the output of the step.
    pub hidden: Tensor<B, 2>,
    /// `c_t`, `[batch, hidden]`: the memory.
    pub cell: Tensor<B, 2>,
}

/// An LSTM cell: four gates, each one `Linear(hidden + input → hidden)` over `[h_{t-1}, x_t]`.
#[derive(Module, Debug)]
pub struct SeedLstmCell<B: Backend> {
    /// Forget gate `W_f`, `b_f`.
    pub forget: Linear<B>,
    /// Input gate `W_i`, `b_i`.
    pub input: Linear<B>,
    /// Candidate `W_c`, `b_c`.
    pub candidate: Linear<B>,
    /// Output gate `W_o`, `b_o`.
    pub output: Linear<B>,
}

impl<B: Backend> SeedLstmCell<B> {
    /// A cell for `d_input` features and `d_hidden` units (Burn's default initialisation).
    pub fn new(d_input: usize, d_hidden: usize, device: &B::Device) -> Self {
        let gate = || LinearConfig::new(d_hidden + d_input, d_hidden).init(device);
        Self {
            forget: gate(),
            input: gate(),
            candidate: gate(),
            output: gate(),
        }
    }

    /// Units in the hidden and cell states.
    pub fn d_hidden(&self) -> usize {
        self.forget.weight.dims()[1]
    }

    /// Zero hidden and cell states for a batch.
    pub fn zero_state(&self, batch: usize, device: &B::Device) -> CellState<B> {
        CellState {
            hidden: Tensor::zeros([batch, self.d_hidden()], device),
            cell: Tensor::zeros([batch, self.d_hidden()], device),
        }
    }

    /// One step: `x_t` is `[batch, input]`.
    pub fn step(&self, x_t: Tensor<B, 2>, state: CellState<B>) -> CellState<B> {
        let z = Tensor::cat(vec![state.hidden, x_t], 1);
        let f_t = sigmoid(self.forget.forward(z.clone()));
        let i_t = sigmoid(self.input.forward(z.clone()));
        let c_tilde = self.candidate.forward(z.clone()).tanh();
        let c_t = f_t * state.cell + i_t * c_tilde;
        let o_t = sigmoid(self.output.forward(z));
        let h_t = o_t * c_t.clone().tanh();
        CellState {
            hidden: h_t,
            cell: c_t,
        }
    }

    /// Runs a batch-first sequence `[batch, time, input]` from zero state; returns every
    /// hidden state `[batch, time, hidden]` and the final state.
    pub fn forward(&self, x: Tensor<B, 3>) -> (Tensor<B, 3>, CellState<B>) {
        let [batch, time, _] = x.dims();
        let mut state = self.zero_state(batch, &x.device());
        let mut outputs = Vec::with_capacity(time);
        for x_t in x.iter_dim(1) {
            state = self.step(x_t.squeeze_dim(1), state);
            outputs.push(state.hidden.clone());
        }
        (Tensor::stack(outputs, 1), state)
    }

    /// A cell computing exactly what `lstm` computes: each gate's input and hidden transforms
    /// become one weight over `[h, x]` and one bias (the sum of the two). `lstm` must have
    /// biases and `input_forget` off.
    pub fn from_burn(lstm: &Lstm<B>) -> Self {
        let gate = |g: &burn::nn::GateController<B>| {
            let weight = Tensor::cat(
                vec![
                    g.hidden_transform.weight.val(),
                    g.input_transform.weight.val(),
                ],
                0,
            );
            let bias = match (&g.input_transform.bias, &g.hidden_transform.bias) {
                (Some(a), Some(b)) => a.val() + b.val(),
                _ => Tensor::zeros([weight.dims()[1]], &weight.device()),
            };
            let [d_in, d_out] = weight.dims();
            let mut linear = LinearConfig::new(d_in, d_out).init(&weight.device());
            linear.weight = burn::module::Param::from_tensor(weight);
            linear.bias = Some(burn::module::Param::from_tensor(bias));
            linear
        };
        Self {
            forget: gate(&lstm.forget_gate),
            input: gate(&lstm.input_gate),
            candidate: gate(&lstm.cell_gate),
            output: gate(&lstm.output_gate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::nn::LstmConfig;
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    fn max_diff<const D: usize>(a: Tensor<NdArray, D>, b: Tensor<NdArray, D>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    #[test]
    fn matches_burn_lstm_over_a_sequence_hidden_and_cell_apart() {
        let d = Default::default();
        let lstm = LstmConfig::new(3, 5, true).init::<NdArray>(&d);
        let cell = SeedLstmCell::from_burn(&lstm);
        let x = Tensor::<NdArray, 3>::random([4, 7, 3], Distribution::Normal(0.0, 1.0), &d);
        let (ours, state) = cell.forward(x.clone());
        let (theirs, burn_state) = lstm.forward(x, None);
        assert_eq!(ours.dims(), [4, 7, 5]);
        assert!(max_diff(ours, theirs) < 1e-5);
        // The state's two halves are not swapped, and they differ (so the check means something).
        assert!(max_diff(state.hidden.clone(), burn_state.hidden) < 1e-5);
        assert!(max_diff(state.cell.clone(), burn_state.cell) < 1e-5);
        assert!(max_diff(state.hidden, state.cell) > 1e-2);
    }

    #[test]
    fn every_weight_and_bias_receives_a_gradient() {
        let d = Default::default();
        let cell = SeedLstmCell::<A>::new(3, 4, &d);
        let x = Tensor::<A, 3>::random([2, 5, 3], Distribution::Normal(0.0, 1.0), &d);
        let (_, state) = cell.forward(x);
        let grads = (state.hidden.sum() + state.cell.powi_scalar(2).sum()).backward();
        for (name, gate) in [
            ("forget", &cell.forget),
            ("input", &cell.input),
            ("candidate", &cell.candidate),
            ("output", &cell.output),
        ] {
            let w = gate.weight.grad(&grads).expect(name);
            let b = gate.bias.as_ref().unwrap().grad(&grads).expect(name);
            assert_eq!(w.dims(), [7, 4]);
            assert!(w.abs().sum().into_scalar() > 0.0, "{name} weight");
            assert!(b.abs().sum().into_scalar() > 0.0, "{name} bias");
        }
        // 4 gates × (7×4 weights + 4 biases).
        assert_eq!(cell.num_params(), 4 * (7 * 4 + 4));
    }

    #[test]
    fn the_cell_remembers_with_forget_gate_open() {
        // With f = 1 and i = 0 forced by large biases, c_t stays c_{t-1} whatever the input.
        let d = Default::default();
        let mut cell = SeedLstmCell::<NdArray>::new(2, 3, &d);
        let set_bias = |l: &mut Linear<NdArray>, v: f32| {
            l.weight = burn::module::Param::from_tensor(Tensor::zeros([5, 3], &d));
            l.bias = Some(burn::module::Param::from_tensor(Tensor::full([3], v, &d)));
        };
        set_bias(&mut cell.forget, 50.0);
        set_bias(&mut cell.input, -50.0);
        let c0 = Tensor::<NdArray, 2>::from_floats([[0.5, -0.25, 2.0]], &d);
        let mut state = CellState {
            hidden: Tensor::zeros([1, 3], &d),
            cell: c0.clone(),
        };
        for _ in 0..20 {
            let x = Tensor::random([1, 2], Distribution::Normal(0.0, 3.0), &d);
            state = cell.step(x, state);
        }
        assert!(max_diff(state.cell, c0) < 1e-6);
    }
}
