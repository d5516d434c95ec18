//! Adam over all of a module's parameters at once.
//!
//! burn-optim's `Adam` (through its `OptimizerAdaptor`) updates each parameter tensor on its
//! own: thirteen tensor operations per tensor per step, whatever the tensor's size. On libtorch
//! each operation is a call of a few microseconds, and Burn's `nn::Lstm` keeps every gate's
//! input and hidden transform apart: the seed LSTM has 18 parameter tensors (PyTorch's has 6),
//! so its optimiser step alone was about 230 libtorch calls. [`FlatAdam`] concatenates the
//! gradients into one vector, runs burn-optim's Adam arithmetic once on moments of the same
//! layout, and hands each parameter its slice of the update: twelve operations in all and four
//! per tensor.
//!
//! The arithmetic is burn-optim's, operation for operation, so the parameters come out the same
//! to the bit (tested), and the record is burn-optim's (one `AdamState` per parameter), so a
//! checkpoint written by either loads in the other. Where the flat layout does not fit, the
//! step is burn-optim's own `Adam`, on the same state: with gradient clipping (burn-optim clips
//! each tensor on its own), on a step where some parameter has no gradient, after restoring
//! per-parameter states whose step counts differ, and for tensors of rank above 6.

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::record::AdaptorRecord;
use burn::optim::{Adam, AdamState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Shape, Tensor};

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

/// burn-optim's Adam record: one state per parameter.
pub type AdamRecord<M, B> = <OptimizerAdaptor<Adam, M, B> as Optimizer<M, B>>::Record;

/// Adam's hyper-parameters, as burn-optim's `AdamConfig` takes them (no AMSGrad).
#[derive(Clone, Copy, Debug)]
pub struct AdamHyper {
    /// First-moment decay.
    pub beta_1: f32,
    /// Second-moment decay.
    pub beta_2: f32,
    /// Added to the second moment's root.
    pub epsilon: f32,
    /// L2 penalty added to the gradient (PyTorch's `Adam` `weight_decay`).
    pub weight_decay: Option<f32>,
}

/// A parameter's place in the flat vectors: its id and shape, in module order.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    id: ParamId,
    shape: Shape,
}

/// The flat state: the moments of every parameter, concatenated in slot order.
#[derive(Clone)]
struct Flat<B: Backend> {
    slots: Vec<Slot>,
    /// Steps taken (burn-optim's `time`); the moments are `None` before the first.
    time: usize,
    moments: Option<(Tensor<B, 1>, Tensor<B, 1>)>,
}

/// Adam on one flat vector of all parameters (see the module documentation).
#[derive(Clone)]
pub struct FlatAdam<M: AutodiffModule<B>, B: AutodiffBackend> {
    hyper: AdamHyper,
    clipping: bool,
    /// burn-optim's Adam, built from the same hyper-parameters: it holds the state whenever
    /// `flat` is `None`, and steps where the flat layout does not fit.
    adaptor: OptimizerAdaptor<Adam, M, B>,
    flat: Option<Flat<Inner<B>>>,
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> FlatAdam<M, B> {
    /// `adaptor` is burn-optim's Adam built from `hyper` (with the gradient clipping, if any,
    /// which `clipping` says).
    pub fn new(hyper: AdamHyper, adaptor: OptimizerAdaptor<Adam, M, B>, clipping: bool) -> Self {
        Self {
            hyper,
            clipping,
            adaptor,
            flat: None,
        }
    }

    /// Whether the last step ran on the flat layout.
    pub fn is_flat(&self) -> bool {
        self.flat.is_some()
    }

    /// One optimiser step with learning rate `lr`.
    pub fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        if !self.clipping {
            let mut slots = Slots(Vec::new());
            module.visit(&mut slots);
            let fits = grads.len() == slots.0.len() && slots.0.iter().all(|s| rank(s) <= 6);
            if fits {
                if let Some(flat) = self.take_flat(slots.0) {
                    return self.flat_step(lr, module, grads, flat);
                }
            }
        }
        self.unflatten();
        self.adaptor.step(lr, module, grads)
    }

    /// The state, as burn-optim's per-parameter record.
    pub fn to_record(&self) -> AdamRecord<M, B> {
        match &self.flat {
            Some(flat) => flat_record::<M, B>(flat),
            None => self.adaptor.to_record(),
        }
    }

    /// Restores a state written by [`Self::to_record`] or by burn-optim's Adam.
    pub fn load_record(mut self, record: AdamRecord<M, B>) -> Self {
        self.flat = None;
        self.adaptor = self.adaptor.load_record(record);
        self
    }

    /// Moves a flat state into the adaptor, for a step of burn-optim's own.
    fn unflatten(&mut self) {
        if let Some(flat) = self.flat.take() {
            self.adaptor = self.adaptor.clone().load_record(flat_record::<M, B>(&flat));
        }
    }

    /// The flat state for `slots`: the current one if it has that layout, else one built
    /// from the per-parameter states (none yet: a fresh one). `None` when those states do
    /// not make one flat state (a missing parameter, differing step counts, AMSGrad).
    fn take_flat(&mut self, slots: Vec<Slot>) -> Option<Flat<Inner<B>>> {
        if self.flat.as_ref().is_some_and(|f| f.slots == slots) {
            return self.flat.take();
        }
        self.unflatten();
        let record = self.adaptor.to_record();
        if record.is_empty() {
            return Some(Flat {
                slots,
                time: 0,
                moments: None,
            });
        }
        let mut time = None;
        let (mut m1, mut m2) = (Vec::new(), Vec::new());
        for slot in &slots {
            let (t, a, b) = flat_state::<B>(record.get(&slot.id)?.clone(), slot)?;
            if *time.get_or_insert(t) != t {
                return None;
            }
            m1.push(a);
            m2.push(b);
        }
        self.adaptor = self.adaptor.clone().load_record(Default::default());
        Some(Flat {
            slots,
            time: time.unwrap_or(0),
            moments: Some((Tensor::cat(m1, 0), Tensor::cat(m2, 0))),
        })
    }

    fn flat_step(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
        mut flat: Flat<Inner<B>>,
    ) -> M {
        let AdamHyper {
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
        } = self.hyper;
        let mut gather = Gather::<B> {
            grads: &mut grads,
            flat: Vec::with_capacity(flat.slots.len()),
            params: weight_decay.map(|_| Vec::with_capacity(flat.slots.len())),
        };
        module.visit(&mut gather);
        let mut grad = Tensor::cat(gather.flat, 0);
        if let (Some(penalty), Some(params)) = (weight_decay, gather.params) {
            grad = Tensor::cat(params, 0).mul_scalar(penalty).add(grad);
        }
        // burn-optim's `AdaptiveMomentum::transform` and `Adam::step`, operation for operation.
        let (f1, f2) = (1.0 - beta_1, 1.0 - beta_2);
        let (moment_1, moment_2) = match flat.moments.take() {
            Some((m1, m2)) => (
                m1.mul_scalar(beta_1).add(grad.clone().mul_scalar(f1)),
                m2.mul_scalar(beta_2).add(grad.square().mul_scalar(f2)),
            ),
            None => (grad.clone().mul_scalar(f1), grad.square().mul_scalar(f2)),
        };
        flat.time += 1;
        let time = flat.time as i32;
        let bias_correction2_sqrt = (1.0 - beta_2.powi(time)).sqrt();
        let combined_factor = bias_correction2_sqrt / (1.0 - beta_1.powi(time));
        let delta = moment_1
            .clone()
            .mul_scalar(combined_factor)
            .div(
                moment_2
                    .clone()
                    .sqrt()
                    .add_scalar(epsilon * bias_correction2_sqrt),
            )
            .mul_scalar(lr);
        flat.moments = Some((moment_1, moment_2));
        let module = module.map(&mut Scatter::<B> { delta, offset: 0 });
        self.flat = Some(flat);
        module
    }
}

fn rank(slot: &Slot) -> usize {
    slot.shape.num_dims()
}

/// Calls `$f::<D>($args)` for the rank `D` of `$slot`, 1 to 6.
macro_rules! by_rank {
    ($slot:expr, $f:ident::<$($g:ty),*>($($arg:expr),*)) => {
        match rank($slot) {
            1 => $f::<$($g,)* 1>($($arg),*),
            2 => $f::<$($g,)* 2>($($arg),*),
            3 => $f::<$($g,)* 3>($($arg),*),
            4 => $f::<$($g,)* 4>($($arg),*),
            5 => $f::<$($g,)* 5>($($arg),*),
            6 => $f::<$($g,)* 6>($($arg),*),
            r => unreachable!("rank {r}: the flat layout takes ranks 1 to 6"),
        }
    };
}

/// One parameter's burn-optim state as (step count, flat first moment, flat second moment);
/// `None` with AMSGrad's extra moment.
#[allow(clippy::type_complexity)]
fn flat_state<B: AutodiffBackend>(
    record: AdaptorRecord<Adam, B>,
    slot: &Slot,
) -> Option<(usize, Tensor<Inner<B>, 1>, Tensor<Inner<B>, 1>)> {
    fn at<B: AutodiffBackend, const D: usize>(
        record: AdaptorRecord<Adam, B>,
        n: usize,
    ) -> Option<(usize, Tensor<Inner<B>, 1>, Tensor<Inner<B>, 1>)> {
        let state: AdamState<Inner<B>, D> = record.into_state();
        let m = state.momentum;
        m.max_moment_2
            .is_none()
            .then(|| (m.time, m.moment_1.reshape([n]), m.moment_2.reshape([n])))
    }
    by_rank!(slot, at::<B>(record, slot.shape.num_elements()))
}

/// The flat state as burn-optim's per-parameter record.
fn flat_record<M: AutodiffModule<B>, B: AutodiffBackend>(
    flat: &Flat<Inner<B>>,
) -> AdamRecord<M, B> {
    fn at<B: AutodiffBackend, const D: usize>(
        time: usize,
        m1: Tensor<Inner<B>, 1>,
        m2: Tensor<Inner<B>, 1>,
        shape: &Shape,
    ) -> AdaptorRecord<Adam, B> {
        let dims: [usize; D] = shape.dims();
        let momentum = AdaptiveMomentumState::new(time, m1.reshape(dims), m2.reshape(dims));
        AdaptorRecord::from_state::<D>(AdamState::new(momentum))
    }
    let mut record = AdamRecord::<M, B>::default();
    let Some((m1, m2)) = &flat.moments else {
        return record;
    };
    let mut offset = 0;
    for slot in &flat.slots {
        let range = offset..offset + slot.shape.num_elements();
        offset = range.end;
        let (a, b) = (m1.clone().slice(range.clone()), m2.clone().slice(range));
        let r = by_rank!(slot, at::<B>(flat.time, a, b, &slot.shape));
        record.insert(slot.id, r);
    }
    record
}

/// Every float parameter's id and shape, in module order.
struct Slots(Vec<Slot>);

impl<B: Backend> ModuleVisitor<B> for Slots {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(Slot {
            id: param.id,
            shape: param.lazy_shape(),
        });
    }
}

/// Takes every parameter's gradient (and, for weight decay, its value) out flat, in module
/// order.
struct Gather<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    flat: Vec<Tensor<Inner<B>, 1>>,
    params: Option<Vec<Tensor<Inner<B>, 1>>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Gather<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let n = param.lazy_shape().num_elements();
        let grad = self
            .grads
            .remove::<Inner<B>, D>(param.id)
            .expect("every parameter has a gradient: checked against the count before");
        self.flat.push(grad.reshape([n]));
        if let Some(params) = &mut self.params {
            params.push(param.val().inner().reshape([n]));
        }
    }
}

/// Subtracts each parameter's slice of the flat update.
struct Scatter<B: AutodiffBackend> {
    delta: Tensor<Inner<B>, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Scatter<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let dims = tensor.dims();
        let n: usize = dims.iter().product();
        let delta = self
            .delta
            .clone()
            .slice(self.offset..self.offset + n)
            .reshape(dims);
        self.offset += n;
        let require_grad = tensor.is_require_grad();
        let mut tensor = Tensor::from_inner(tensor.inner() - delta);
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::Module;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::AdamConfig;

    type A = Autodiff<NdArray>;

    /// Parameters of ranks 1, 2 and 4.
    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        linear: Linear<B>,
        conv: Conv2d<B>,
    }

    fn net() -> Net<A> {
        let d = Default::default();
        let net = Net {
            linear: LinearConfig::new(3, 4).init(&d),
            conv: Conv2dConfig::new([1, 2], [3, 3]).init(&d),
        };
        // Parameters initialise lazily, and a clone taken before would draw its own values.
        bits(&net);
        net
    }

    /// A loss whose gradients change with the parameters.
    fn grads(net: &Net<A>, seed: u64) -> GradientsParams {
        let d = Default::default();
        // Deterministic inputs (the backend's random generator is shared between tests).
        let vals = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i as u64 * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0)
                .collect()
        };
        let x = Tensor::<A, 1>::from_floats(vals(15).as_slice(), &d).reshape([5, 3]);
        let img = Tensor::<A, 1>::from_floats(vals(72).as_slice(), &d).reshape([2, 1, 6, 6]);
        let y = net.linear.forward(x);
        let z = net.conv.forward(img);
        let loss = (y.clone() * y).sum() + (z.clone() * z).sum().sin();
        GradientsParams::from_grads(loss.backward(), net)
    }

    fn bits(net: &Net<A>) -> Vec<u32> {
        let mut out = Vec::new();
        for t in [
            net.linear.weight.val().into_data(),
            net.linear.bias.as_ref().unwrap().val().into_data(),
            net.conv.weight.val().into_data(),
            net.conv.bias.as_ref().unwrap().val().into_data(),
        ] {
            out.extend(t.to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()));
        }
        out
    }

    fn hyper(weight_decay: Option<f32>) -> AdamHyper {
        AdamHyper {
            beta_1: 0.9,
            beta_2: 0.99,
            epsilon: 1e-8,
            weight_decay,
        }
    }

    fn burn_adam(h: AdamHyper) -> OptimizerAdaptor<Adam, Net<A>, A> {
        AdamConfig::new()
            .with_beta_1(h.beta_1)
            .with_beta_2(h.beta_2)
            .with_epsilon(h.epsilon)
            .with_weight_decay(h.weight_decay.map(WeightDecayConfig::new))
            .init()
    }

    #[test]
    fn same_bits_as_burn_optim_adam_and_records_carry_over_both_ways() {
        for wd in [None, Some(0.01)] {
            let h = hyper(wd);
            let (mut theirs, mut ours) = (burn_adam(h), FlatAdam::new(h, burn_adam(h), false));
            let mut a = net();
            let mut b = net().load_record(a.clone().into_record());
            assert_eq!(bits(&a), bits(&b), "start");
            for step in 0..4 {
                a = theirs.step(1e-2, a.clone(), grads(&a, step));
                b = ours.step(1e-2, b.clone(), grads(&b, step));
                assert!(ours.is_flat());
                assert_eq!(bits(&a), bits(&b), "step {step}, weight decay {wd:?}");
            }
            // Our record into burn-optim's Adam, and burn-optim's into a fresh FlatAdam: the
            // runs go on in step.
            let mut theirs2 = burn_adam(h).load_record(ours.to_record());
            let mut ours2 = FlatAdam::new(h, burn_adam(h), false).load_record(theirs.to_record());
            let (mut c, mut e) = (a.clone(), b.clone());
            for step in 4..7 {
                a = theirs.step(1e-2, a.clone(), grads(&a, step));
                b = ours.step(1e-2, b.clone(), grads(&b, step));
                c = theirs2.step(1e-2, c.clone(), grads(&c, step));
                e = ours2.step(1e-2, e.clone(), grads(&e, step));
                assert!(ours2.is_flat());
                assert_eq!(bits(&a), bits(&b), "step {step}");
                assert_eq!(
                    bits(&a),
                    bits(&c),
                    "step {step}: burn-optim from our record"
                );
                assert_eq!(
                    bits(&a),
                    bits(&e),
                    "step {step}: ours from burn-optim's record"
                );
            }
        }
    }

    #[test]
    fn a_missing_gradient_or_clipping_takes_burn_optims_path() {
        let h = hyper(None);
        let (mut theirs, mut ours) = (burn_adam(h), FlatAdam::new(h, burn_adam(h), false));
        let mut a = net();
        let mut b = net().load_record(a.clone().into_record());
        for step in 0..2 {
            a = theirs.step(1e-2, a.clone(), grads(&a, step));
            b = ours.step(1e-2, b.clone(), grads(&b, step));
        }
        // The conv bias gets no gradient on this step: burn-optim leaves it alone and keeps
        // its state; so must we.
        let id = a.conv.bias.as_ref().unwrap().id;
        let mut ga = grads(&a, 2);
        let mut gb = grads(&b, 2);
        ga.remove::<NdArray, 1>(id);
        gb.remove::<NdArray, 1>(id);
        a = theirs.step(1e-2, a.clone(), ga);
        b = ours.step(1e-2, b.clone(), gb);
        assert!(!ours.is_flat());
        assert_eq!(bits(&a), bits(&b), "partial step");
        // Step counts now differ between parameters: burn-optim's path from here on.
        for step in 3..5 {
            a = theirs.step(1e-2, a.clone(), grads(&a, step));
            b = ours.step(1e-2, b.clone(), grads(&b, step));
            assert!(!ours.is_flat());
            assert_eq!(bits(&a), bits(&b), "step {step}");
        }
        let clip = burn::grad_clipping::GradientClippingConfig::Norm(0.1);
        let mut clipped = FlatAdam::new(h, burn_adam(h).with_grad_clipping(clip.init()), true);
        let n = net();
        let _stepped = clipped.step(1e-2, n.clone(), grads(&n, 0));
        assert!(!clipped.is_flat());
    }
}
