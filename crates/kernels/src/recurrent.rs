//! A whole recurrent layer (LSTM or Elman RNN, batch-first, forward in time, zero initial
//! state) as one autodiff operation with a hand-written backward pass through time.
//!
//! Why: Burn's autodiff records every tensor operation of every step (an LSTM step is about
//! fourteen), and on small tensors (`[64, 32]`) that bookkeeping, not the arithmetic, is the
//! cost. Here the forward pass runs on the inner backend without a graph, keeps what the
//! backward pass needs, and registers one node; the backward pass computes the gradients of the
//! input and of the stacked weights directly. The weights are the
//! [`crate::sequence::stacked_gate_weights`] layout: rows `[hidden; input; bias]`, gates side
//! by side in columns (LSTM: input, forget, output, cell).
//!
//! A model stays generic over `B: Backend`: it asks [`sequence`], which runs the fused
//! operation when `B` is one of the autodiff backends of [`crate::fast_path`], and otherwise
//! hands the inputs back for the op-by-op path. Two variants of [`fused`]: one computes with the
//! inner backend's tensor operations (any device); the host one reads the input and weights into
//! main memory once and runs both passes as plain loops and `matrixmultiply` products (for
//! backends whose tensors live in main memory: there the per-operation dispatch, not the
//! arithmetic, dominates even without a graph).

mod host;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

use crate::host_values;

/// The recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `LSTM`: gates `[i, f, o, c̃]` in the weight columns.
    Lstm,
    /// Elman RNN with `tanh`.
    RnnTanh,
    /// Elman RNN with `relu`.
    RnnRelu,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::RnnTanh | Cell::RnnRelu => 1,
        }
    }
}

/// All hidden states (`[batch, time, hidden]`) of a recurrent layer over `x`
/// (`[batch, time, input]`) with stacked weights `w` (`[hidden + input + 1, gates · hidden]`),
/// from zero states, as one autodiff operation when `B` takes that path
/// ([`crate::fast_path::fused_recurrent`]). `Err` gives the inputs back otherwise, for the
/// op-by-op layer.
#[allow(clippy::type_complexity)]
pub fn sequence<B: Backend>(
    x: Tensor<B, 3>,
    w: Tensor<B, 2>,
    cell: Cell,
) -> Result<Tensor<B, 3>, (Tensor<B, 3>, Tensor<B, 2>)> {
    #[cfg(feature = "ndarray")]
    let (x, w) = match sequence_on::<B, zoo_ndarray::NdArray<f32>>(x, w, cell, |_| true) {
        Ok(out) => return Ok(out),
        Err(inputs) => inputs,
    };
    #[cfg(feature = "tch")]
    let (x, w) = match sequence_on::<B, burn::backend::LibTorch<f32>>(x, w, cell, |d| {
        matches!(d, burn::backend::libtorch::LibTorchDevice::Cpu)
    }) {
        Ok(out) => return Ok(out),
        Err(inputs) => inputs,
    };
    // Without a backend feature no backend takes the fused path.
    let _ = cell;
    Err((x, w))
}

/// [`fused`] when `B` is `Autodiff<I>`, in main memory where `host` says so for the device.
#[cfg(any(feature = "ndarray", feature = "tch"))]
#[allow(clippy::type_complexity)]
fn sequence_on<B: Backend, I: Backend>(
    x: Tensor<B, 3>,
    w: Tensor<B, 2>,
    cell: Cell,
    host: impl Fn(&I::Device) -> bool,
) -> Result<Tensor<B, 3>, (Tensor<B, 3>, Tensor<B, 2>)> {
    use crate::fast_path::{cast_checked, same_type};
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    if !same_type::<B, Autodiff<I>>() {
        return Err((x, w));
    }
    let x = cast_checked::<_, Tensor<Autodiff<I>, 3>>(x);
    let w = cast_checked::<_, Tensor<Autodiff<I>, 2>>(w);
    let on_host = host(&x.device());
    let out = fused::<I, NoCheckpointing>(x, w, cell, on_host);
    Ok(cast_checked::<_, Tensor<B, 3>>(out))
}

/// The layer as one autodiff node on `Autodiff<B, C>`, computed with the inner backend's tensor
/// operations or, with `host`, in main memory (see the module documentation). [`sequence`]
/// picks the variant for the backends of [`crate::fast_path`]; call this directly for any
/// other `Autodiff<B, C>`.
pub fn fused<B: Backend, C: CheckpointStrategy>(
    x: Tensor<Autodiff<B, C>, 3>,
    w: Tensor<Autodiff<B, C>, 2>,
    cell: Cell,
    host: bool,
) -> Tensor<Autodiff<B, C>, 3> {
    let x = x.into_primitive().tensor();
    let w = w.into_primitive().tensor();
    let x_in = Tensor::<B, 3>::from_primitive(TensorPrimitive::Float(x.primitive.clone()));
    let w_in = Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(w.primitive.clone()));
    let kind = SequenceBackward
        .prepare::<C>([x.node.clone(), w.node.clone()])
        .compute_bound()
        .stateful();
    let keep = matches!(kind, OpsKind::Tracked(_));
    let (out, state) = if host {
        let [batch, time, input] = x_in.dims();
        let hidden = w_in.dims()[1] / cell.gates();
        let device = x_in.device();
        let dims = host::Dims {
            batch,
            time,
            input,
            hidden,
            cell,
        };
        let (out, saved) = host::forward(dims, host_values(x_in), host_values(w_in), keep);
        let out = Tensor::<B, 3>::from_data(TensorData::new(out, [batch, time, hidden]), &device);
        (out, saved.map(|saved| State::Host(saved, device)))
    } else {
        let (out, saved) = forward(x_in, w_in, cell, keep);
        (out, saved.map(State::Tensor))
    };
    let out = out.into_primitive().tensor();
    let out = match kind {
        OpsKind::Tracked(prep) => prep.finish(state.expect("kept for a tracked op"), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// What the backward pass needs, per variant.
#[derive(Clone, Debug)]
enum State<B: Backend> {
    Tensor(Saved<B>),
    Host(host::Saved, B::Device),
}

#[derive(Debug)]
struct SequenceBackward;

impl<B: Backend> Backward<B, 2> for SequenceBackward {
    type State = State<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad_out =
            Tensor::<B, 3>::from_primitive(TensorPrimitive::Float(grads.consume::<B>(&ops.node)));
        let (dx, dw) = match ops.state {
            State::Tensor(saved) => backward(saved, grad_out),
            State::Host(saved, device) => {
                let (dx, dw) = host::backward(&saved, &host_values(grad_out));
                let host::Dims {
                    batch,
                    time,
                    input,
                    hidden,
                    cell,
                } = saved.dims;
                let dw_shape = [hidden + input + 1, cell.gates() * hidden];
                (
                    Tensor::from_data(TensorData::new(dx, [batch, time, input]), &device),
                    Tensor::from_data(TensorData::new(dw, dw_shape), &device),
                )
            }
        };
        let [x_node, w_node] = ops.parents;
        if let Some(node) = x_node {
            grads.register::<B>(node.id, dx.into_primitive().tensor());
        }
        if let Some(node) = w_node {
            grads.register::<B>(node.id, dw.into_primitive().tensor());
        }
    }
}

/// What the tensor variant's backward pass needs from its forward pass.
#[derive(Clone, Debug)]
struct Saved<B: Backend> {
    cell: Cell,
    x: Tensor<B, 3>,
    w: Tensor<B, 2>,
    /// `h_{t-1}` for every step (the first is zeros).
    h_prev: Vec<Tensor<B, 2>>,
    /// Per step. LSTM: `[i, f, o, c̃, c_{t-1}, tanh(c_t)]`; RNN: `[h_t]`.
    acts: Vec<Vec<Tensor<B, 2>>>,
}

fn forward<B: Backend>(
    x: Tensor<B, 3>,
    w: Tensor<B, 2>,
    cell: Cell,
    keep: bool,
) -> (Tensor<B, 3>, Option<Saved<B>>) {
    let [batch, time, d] = x.dims();
    let [rows, cols] = w.dims();
    let h = cols / cell.gates();
    debug_assert_eq!(rows, h + d + 1);
    let device = x.device();
    let w_h = w.clone().slice([0..h, 0..cols]);
    let w_x = w.clone().slice([h..h + d, 0..cols]);
    let bias = w.clone().slice([h + d..rows, 0..cols]);
    // The input projection of every step in one product (no graph here, so slicing it per
    // step costs nothing).
    let proj =
        (x.clone().reshape([batch * time, d]).matmul(w_x) + bias).reshape([batch, time, cols]);
    let mut hidden = Tensor::<B, 2>::zeros([batch, h], &device);
    let mut c = Tensor::<B, 2>::zeros([batch, h], &device);
    let mut outs = Vec::with_capacity(time);
    let mut h_prev = Vec::with_capacity(if keep { time } else { 0 });
    let mut acts = Vec::with_capacity(if keep { time } else { 0 });
    for t in 0..time {
        let g = proj
            .clone()
            .slice([0..batch, t..t + 1, 0..cols])
            .reshape([batch, cols])
            + hidden.clone().matmul(w_h.clone());
        let next = match cell {
            Cell::Lstm => {
                let sig = sigmoid(g.clone().slice([0..batch, 0..3 * h]));
                let cand = g.slice([0..batch, 3 * h..4 * h]).tanh();
                let i = sig.clone().slice([0..batch, 0..h]);
                let f = sig.clone().slice([0..batch, h..2 * h]);
                let o = sig.slice([0..batch, 2 * h..3 * h]);
                let c_new = f.clone() * c.clone() + i.clone() * cand.clone();
                let tc = c_new.clone().tanh();
                let next = o.clone() * tc.clone();
                if keep {
                    acts.push(vec![i, f, o, cand, c.clone(), tc]);
                }
                c = c_new;
                next
            }
            Cell::RnnTanh | Cell::RnnRelu => {
                let next = if cell == Cell::RnnTanh {
                    g.tanh()
                } else {
                    relu(g)
                };
                if keep {
                    acts.push(vec![next.clone()]);
                }
                next
            }
        };
        if keep {
            h_prev.push(hidden);
        }
        hidden = next;
        outs.push(hidden.clone());
    }
    let out = Tensor::stack(outs, 1);
    let saved = keep.then_some(Saved {
        cell,
        x,
        w,
        h_prev,
        acts,
    });
    (out, saved)
}

/// Backpropagation through time: the gradients of `x` and `w` given the gradient of every
/// hidden state.
fn backward<B: Backend>(s: Saved<B>, grad_out: Tensor<B, 3>) -> (Tensor<B, 3>, Tensor<B, 2>) {
    let [batch, time, d] = s.x.dims();
    let [rows, cols] = s.w.dims();
    let h = cols / s.cell.gates();
    let w_h_t = s.w.clone().slice([0..h, 0..cols]).transpose();
    let device = s.x.device();
    let mut dh_next = Tensor::<B, 2>::zeros([batch, h], &device);
    let mut dc_next = Tensor::<B, 2>::zeros([batch, h], &device);
    let mut dgs = vec![None; time];
    for t in (0..time).rev() {
        let dh = grad_out
            .clone()
            .slice([0..batch, t..t + 1, 0..h])
            .reshape([batch, h])
            + dh_next;
        let a = &s.acts[t];
        let dg = match s.cell {
            Cell::Lstm => {
                let (i, f, o, cand, c_prev, tc) = (&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
                let d_o = dh.clone() * tc.clone();
                let one_minus_tc2 = tc.clone().powi_scalar(2).neg().add_scalar(1.0);
                let dc = dh * o.clone() * one_minus_tc2 + dc_next;
                let sig_grad = |s: &Tensor<B, 2>| s.clone() - s.clone().powi_scalar(2);
                let dgi = dc.clone() * cand.clone() * sig_grad(i);
                let dgf = dc.clone() * c_prev.clone() * sig_grad(f);
                let dgo = d_o * sig_grad(o);
                let dgc =
                    dc.clone() * i.clone() * cand.clone().powi_scalar(2).neg().add_scalar(1.0);
                dc_next = dc * f.clone();
                Tensor::cat(vec![dgi, dgf, dgo, dgc], 1)
            }
            Cell::RnnTanh => dh * a[0].clone().powi_scalar(2).neg().add_scalar(1.0),
            Cell::RnnRelu => dh * a[0].clone().greater_elem(0.0).float(),
        };
        dh_next = dg.clone().matmul(w_h_t.clone());
        dgs[t] = Some(dg);
    }
    let dgs: Vec<Tensor<B, 2>> = dgs.into_iter().flatten().collect();
    // Batch-major rows (`b · time + t`), as `x` flattens.
    let dg_all = Tensor::stack::<3>(dgs, 1).reshape([batch * time, cols]);
    let h_prev = Tensor::stack::<3>(s.h_prev, 1).reshape([batch * time, h]);
    let x_flat = s.x.reshape([batch * time, d]);
    let dw_h = h_prev.transpose().matmul(dg_all.clone());
    let dw_x = x_flat.transpose().matmul(dg_all.clone());
    let db = dg_all.clone().sum_dim(0);
    let dw = Tensor::cat(vec![dw_h, dw_x, db], 0);
    debug_assert_eq!(dw.dims(), [rows, cols]);
    let w_x_t = s.w.slice([h..h + d, 0..cols]).transpose();
    let dx = dg_all.matmul(w_x_t).reshape([batch, time, d]);
    (dx, dw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::stacked_gate_weights;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::nn::activation::ActivationConfig;
    use burn::nn::{GateController, LstmConfig, RnnConfig};
    use burn::tensor::Distribution;
    use zoo_ndarray::NdArray;

    type A = Autodiff<NdArray>;

    fn max_diff<const D: usize>(a: Tensor<NdArray, D>, b: Tensor<NdArray, D>) -> f32 {
        let scale = a.clone().abs().max().into_scalar().max(1.0);
        (a - b).abs().max().into_scalar() / scale
    }

    /// Compares outputs and the gradients of `x` and of every gate's weights and biases
    /// between Burn's layer (`reference`) and [`sequence`], under a random weighting of the
    /// outputs (so every output's gradient differs).
    fn check(
        gates: &[&GateController<A>],
        x: Tensor<A, 3>,
        reference: &dyn Fn(Tensor<A, 3>) -> Tensor<A, 3>,
        cell: Cell,
    ) {
        for (name, host) in [("tensor", false), ("host", true)] {
            // A fresh graph for each: a backward pass consumes the one it runs on.
            check_op(gates, x.clone(), reference(x.clone()), cell, name, host);
        }
    }

    fn check_op(
        gates: &[&GateController<A>],
        x: Tensor<A, 3>,
        reference: Tensor<A, 3>,
        cell: Cell,
        variant: &str,
        host: bool,
    ) {
        let label = format!("{cell:?} ({variant})");
        let w = stacked_gate_weights(gates, &x.device());
        let ours = fused::<NdArray, NoCheckpointing>(x.clone(), w, cell, host);
        let mix = Tensor::<A, 3>::random(ours.dims(), Distribution::Normal(0.0, 1.0), &x.device());
        let d = max_diff(reference.clone().inner(), ours.clone().inner());
        assert!(d < 1e-5, "{label}: outputs differ by {d}");
        let g1 = (reference * mix.clone()).sum().backward();
        let g2 = (ours * mix).sum().backward();
        let d = max_diff(x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        assert!(d < 1e-5, "{label}: input gradients differ by {d}");
        for (k, g) in gates.iter().enumerate() {
            for l in [&g.input_transform, &g.hidden_transform] {
                let dw = max_diff(l.weight.grad(&g1).unwrap(), l.weight.grad(&g2).unwrap());
                let b = l.bias.as_ref().unwrap();
                let db = max_diff(b.grad(&g1).unwrap(), b.grad(&g2).unwrap());
                assert!(
                    dw < 1e-5 && db < 1e-5,
                    "{label} gate {k}: weight {dw}, bias {db}"
                );
            }
        }
    }

    #[test]
    fn fused_layers_match_burn_lstm_and_rnn_in_outputs_and_gradients() {
        let d = Default::default();
        // (batch, time, input, hidden), including single steps and single rows.
        for (batch, time, input, hidden) in [(4, 6, 5, 7), (1, 1, 3, 2), (3, 2, 1, 4)] {
            let x = || {
                Tensor::<A, 3>::random([batch, time, input], Distribution::Normal(0.0, 1.0), &d)
                    .require_grad()
            };
            let lstm = LstmConfig::new(input, hidden, true).init::<A>(&d);
            check(
                &[
                    &lstm.input_gate,
                    &lstm.forget_gate,
                    &lstm.output_gate,
                    &lstm.cell_gate,
                ],
                x(),
                &|xs| lstm.forward(xs, None).0,
                Cell::Lstm,
            );
            for (act, cell) in [
                (ActivationConfig::Tanh, Cell::RnnTanh),
                (ActivationConfig::Relu, Cell::RnnRelu),
            ] {
                let rnn = RnnConfig::new(input, hidden, true)
                    .with_hidden_activation(act)
                    .init::<A>(&d);
                check(&[&rnn.gate], x(), &|xs| rnn.forward(xs, None).0, cell);
            }
        }
    }

    #[test]
    fn off_the_fast_path_the_inputs_come_back() {
        let d = Default::default();
        let x = Tensor::<NdArray, 3>::zeros([2, 3, 4], &d);
        let w = Tensor::<NdArray, 2>::zeros([4 + 4 + 1, 4], &d);
        let (x2, w2) = sequence(x, w, Cell::RnnTanh).err().unwrap();
        assert_eq!((x2.dims(), w2.dims()), ([2, 3, 4], [9, 4]));
    }
}
