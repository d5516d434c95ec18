//! The optimiser and learning-rate schedule behind [`TrainConfig`], built from burn-optim.
//!
//! burn-optim's optimisers are distinct types; [`ZooOptimizer`] puts the three the zoo offers
//! behind one type so the training loop and checkpoints stay non-generic over the choice.

use burn::grad_clipping::GradientClippingConfig;
use burn::lr_scheduler::LrScheduler;
use burn::lr_scheduler::constant::ConstantLr;
use burn::lr_scheduler::cosine::{CosineAnnealingLrScheduler, CosineAnnealingLrSchedulerConfig};
use burn::lr_scheduler::linear::{LinearLrScheduler, LinearLrSchedulerConfig};
use burn::lr_scheduler::step::{StepLrScheduler, StepLrSchedulerConfig};
use burn::module::AutodiffModule;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig, adaptor::OptimizerAdaptor, decay::WeightDecayConfig,
};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;

use crate::config::{Monitor, OptimizerKind, ScheduleKind, TrainConfig};
use crate::flat_adam::{AdamHyper, FlatAdam};
use crate::plateau::{PlateauLr, PlateauState};

type Bytes = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Adam, AdamW or SGD (with momentum), as chosen by [`TrainConfig::optimizer`].
#[derive(Clone)]
pub enum ZooOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    /// Adam (L2 weight decay added to the gradient, as PyTorch's `Adam`), on all parameters
    /// at once ([`FlatAdam`]).
    Adam(FlatAdam<M, B>),
    /// AdamW (decoupled weight decay).
    AdamW(OptimizerAdaptor<AdamW, M, B>),
    /// SGD with momentum.
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
    /// RMSprop.
    RmsProp(OptimizerAdaptor<RmsProp, M, B>),
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> ZooOptimizer<M, B> {
    /// Builds the optimiser described by `cfg`.
    ///
    /// Gradient clipping is burn-optim's norm clipping, applied to each parameter tensor.
    pub fn new(cfg: &TrainConfig) -> Self {
        let clip = cfg
            .grad_clip_norm
            .map(|c| GradientClippingConfig::Norm(c as f32));
        let l2 = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
        match cfg.optimizer {
            OptimizerKind::Adam => {
                let hyper = AdamHyper {
                    beta_1: cfg.beta1 as f32,
                    beta_2: cfg.beta2 as f32,
                    epsilon: cfg.adam_epsilon as f32,
                    weight_decay: l2.as_ref().map(|w| w.penalty),
                };
                let burn_adam = AdamConfig::new()
                    .with_beta_1(hyper.beta_1)
                    .with_beta_2(hyper.beta_2)
                    .with_epsilon(hyper.epsilon)
                    .with_weight_decay(l2)
                    .with_grad_clipping(clip.clone())
                    .init();
                Self::Adam(FlatAdam::new(hyper, burn_adam, clip.is_some()))
            }
            OptimizerKind::AdamW => Self::AdamW(
                AdamWConfig::new()
                    .with_beta_1(cfg.beta1 as f32)
                    .with_beta_2(cfg.beta2 as f32)
                    .with_epsilon(cfg.adam_epsilon as f32)
                    .with_weight_decay(cfg.weight_decay as f32)
                    .with_grad_clipping(clip)
                    .init(),
            ),
            OptimizerKind::Sgd => {
                // PyTorch's SGD has no dampening by default; burn-optim's default is 0.1.
                let momentum = (cfg.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(cfg.momentum)
                        .with_dampening(0.0)
                });
                Self::Sgd(
                    SgdConfig::new()
                        .with_momentum(momentum)
                        .with_weight_decay(l2)
                        .with_gradient_clipping(clip)
                        .init(),
                )
            }
            // PyTorch's RMSprop defaults: smoothing 0.99, no momentum unless asked for.
            OptimizerKind::RmsProp => Self::RmsProp(
                RmsPropConfig::new()
                    .with_alpha(0.99)
                    .with_momentum(cfg.momentum as f32)
                    .with_epsilon(cfg.adam_epsilon as f32)
                    .with_weight_decay(l2)
                    .with_grad_clipping(clip)
                    .init(),
            ),
        }
    }

    /// One optimiser step with learning rate `lr`.
    pub fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        match self {
            Self::Adam(o) => o.step(lr, module, grads),
            Self::AdamW(o) => o.step(lr, module, grads),
            Self::Sgd(o) => o.step(lr, module, grads),
            Self::RmsProp(o) => o.step(lr, module, grads),
        }
    }

    /// Serialises the optimiser state (moments, step counts) for a checkpoint.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        fn rec<O, M, B>(o: &O) -> Result<Vec<u8>, String>
        where
            O: Optimizer<M, B>,
            M: AutodiffModule<B>,
            B: AutodiffBackend,
        {
            Recorder::<B>::record(&Bytes::default(), o.to_record(), ()).map_err(|e| e.to_string())
        }
        match self {
            Self::Adam(o) => rec(o),
            Self::AdamW(o) => rec(o),
            Self::Sgd(o) => rec(o),
            Self::RmsProp(o) => rec(o),
        }
    }

    /// The optimiser `cfg` describes, with the state of a checkpoint's optimiser section
    /// (read from `path`, which a mismatch names).
    pub fn from_checkpoint(
        cfg: &TrainConfig,
        bytes: Vec<u8>,
        device: &B::Device,
        path: &std::path::Path,
    ) -> Result<Self, crate::TrainError> {
        Self::new(cfg)
            .load_bytes(bytes, device)
            .map_err(|reason| crate::TrainError::Checkpoint {
                path: path.into(),
                reason,
            })
    }

    /// Restores the state written by [`Self::to_bytes`].
    pub fn load_bytes(self, bytes: Vec<u8>, device: &B::Device) -> Result<Self, String> {
        fn load<O, M, B>(o: O, bytes: Vec<u8>, device: &B::Device) -> Result<O, String>
        where
            O: Optimizer<M, B>,
            M: AutodiffModule<B>,
            B: AutodiffBackend,
        {
            let record = Recorder::<B>::load(&Bytes::default(), bytes, device)
                .map_err(|e| format!("optimiser state does not match this optimiser: {e}"))?;
            Ok(o.load_record(record))
        }
        Ok(match self {
            Self::Adam(o) => Self::Adam(load(o, bytes, device)?),
            Self::AdamW(o) => Self::AdamW(load(o, bytes, device)?),
            Self::Sgd(o) => Self::Sgd(load(o, bytes, device)?),
            Self::RmsProp(o) => Self::RmsProp(load(o, bytes, device)?),
        })
    }
}

#[derive(Clone)]
enum MainSchedule {
    Constant(ConstantLr),
    Step(StepLrScheduler),
    Cosine(CosineAnnealingLrScheduler),
    Plateau(PlateauLr),
}

/// The learning rate for every optimiser step: burn-optim's constant, step or cosine scheduler,
/// or the zoo's plateau scheduler ([`PlateauLr`]), multiplied by burn-optim's linear scheduler
/// as a warm-up factor during the first epochs.
///
/// The step-count schedules are pure functions of the step count, so resuming replays them
/// with [`Schedule::skip`]; the plateau scheduler's state ([`Schedule::plateau_state`]) goes
/// into checkpoints instead and comes back with [`Schedule::restore_plateau`].
#[derive(Clone)]
pub struct Schedule {
    main: MainSchedule,
    warmup: Option<LinearLrScheduler>,
}

impl Schedule {
    /// The schedule for a run of `cfg.epochs` epochs of `iters_per_epoch` steps.
    pub fn new(cfg: &TrainConfig, iters_per_epoch: usize) -> Result<Self, String> {
        let iters_per_epoch = iters_per_epoch.max(1);
        let total = cfg.epochs * iters_per_epoch;
        let main = match cfg.schedule {
            ScheduleKind::Constant => MainSchedule::Constant(ConstantLr::new(cfg.lr)),
            ScheduleKind::Step { step_epochs, gamma } => MainSchedule::Step(
                StepLrSchedulerConfig::new(cfg.lr, step_epochs * iters_per_epoch)
                    .with_gamma(gamma)
                    .init()?,
            ),
            ScheduleKind::Cosine { min_lr } => MainSchedule::Cosine(
                CosineAnnealingLrSchedulerConfig::new(cfg.lr, total.max(1))
                    .with_min_lr(min_lr)
                    .init()?,
            ),
            ScheduleKind::Plateau {
                factor,
                lr_patience,
                min_lr,
            } => MainSchedule::Plateau(PlateauLr::new(
                cfg.lr,
                factor,
                lr_patience,
                min_lr,
                cfg.monitor == Monitor::Loss,
            )),
        };
        let warmup = if cfg.warmup_epochs > 0 {
            let n = cfg.warmup_epochs * iters_per_epoch;
            Some(LinearLrSchedulerConfig::new(1.0 / (n + 1) as f64, 1.0, n).init()?)
        } else {
            None
        };
        Ok(Self { main, warmup })
    }

    /// The learning rate for the next optimiser step.
    pub fn step(&mut self) -> f64 {
        let lr = match &mut self.main {
            MainSchedule::Constant(s) => LrScheduler::step(s),
            MainSchedule::Step(s) => s.step(),
            MainSchedule::Cosine(s) => s.step(),
            MainSchedule::Plateau(s) => LrScheduler::step(s),
        };
        match &mut self.warmup {
            Some(w) => lr * w.step(),
            None => lr,
        }
    }

    /// Advances the schedule by `steps` optimiser steps (used on resume).
    pub fn skip(&mut self, steps: usize) {
        for _ in 0..steps {
            self.step();
        }
    }

    /// Gives the plateau scheduler an epoch's validation number (the loss, or the headline
    /// metric, as [`TrainConfig::monitor`] says); returns whether the rate was reduced. Other
    /// schedules ignore it.
    pub fn observe(&mut self, value: f64) -> bool {
        match &mut self.main {
            MainSchedule::Plateau(p) => p.observe(value),
            _ => false,
        }
    }

    /// The plateau scheduler's state, to checkpoint (`None` for the other schedules).
    pub fn plateau_state(&self) -> Option<PlateauState> {
        match &self.main {
            MainSchedule::Plateau(p) => Some(p.state()),
            _ => None,
        }
    }

    /// Continues the plateau scheduler from a checkpointed state.
    pub fn restore_plateau(&mut self, state: PlateauState) {
        if let MainSchedule::Plateau(p) = &mut self.main {
            p.restore(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lrs(cfg: &TrainConfig, iters: usize, n: usize) -> Vec<f64> {
        let mut s = Schedule::new(cfg, iters).unwrap();
        (0..n).map(|_| s.step()).collect()
    }

    #[test]
    fn rmsprop_and_adam_beta2_steps_match_hand_computed_values() {
        use burn::backend::Autodiff;
        use burn::module::Param;
        use burn::nn::{Linear, LinearConfig};
        use burn::tensor::Tensor;
        use zoo_ndarray::NdArray;
        type A = Autodiff<NdArray>;
        let d = Default::default();
        // loss = sum(x W) with x = [1, -2]: dL/dW = [[1], [-2]] whatever W is.
        let step = |cfg: &TrainConfig| -> Vec<f32> {
            let mut lin: Linear<A> = LinearConfig::new(2, 1).with_bias(false).init(&d);
            lin.weight = Param::from_tensor(Tensor::from_floats([[0.0f32], [0.0]], &d));
            let loss = lin
                .forward(Tensor::<A, 2>::from_floats([[1.0, -2.0]], &d))
                .sum();
            let grads = GradientsParams::from_grads(loss.backward(), &lin);
            let lin = ZooOptimizer::<Linear<A>, A>::new(cfg).step(cfg.lr, lin, grads);
            lin.weight.val().into_data().to_vec::<f32>().unwrap()
        };
        // RMSprop, first step: v = 0.01 g², update lr g / (√v + ε) = 10 lr sign(g).
        let rms = TrainConfig {
            optimizer: OptimizerKind::RmsProp,
            lr: 0.001,
            momentum: 0.0,
            ..Default::default()
        };
        let w = step(&rms);
        assert!(
            (w[0] + 0.01).abs() < 1e-6 && (w[1] - 0.01).abs() < 1e-6,
            "{w:?}"
        );
        // Adam's first step is lr sign(g) for any β2; a second-moment decay outside [0, 1)
        // is refused by name.
        let adam = TrainConfig {
            lr: 0.001,
            beta2: 0.9,
            ..Default::default()
        };
        let w = step(&adam);
        assert!(
            (w[0] + 0.001).abs() < 1e-6 && (w[1] - 0.001).abs() < 1e-6,
            "{w:?}"
        );
        let bad = TrainConfig {
            beta2: 1.0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().starts_with("beta2"));
    }

    #[test]
    fn constant_schedule() {
        let cfg = TrainConfig {
            lr: 0.01,
            epochs: 3,
            ..Default::default()
        };
        assert_eq!(lrs(&cfg, 2, 6), vec![0.01; 6]);
    }

    #[test]
    fn step_schedule_decays_per_epoch_block() {
        let cfg = TrainConfig {
            lr: 0.1,
            epochs: 4,
            schedule: ScheduleKind::Step {
                step_epochs: 1,
                gamma: 0.5,
            },
            ..Default::default()
        };
        let got = lrs(&cfg, 2, 6);
        let want = [0.1, 0.1, 0.05, 0.05, 0.025, 0.025];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn cosine_schedule_ends_at_min() {
        let cfg = TrainConfig {
            lr: 0.1,
            epochs: 2,
            schedule: ScheduleKind::Cosine { min_lr: 0.0 },
            ..Default::default()
        };
        // 4 steps in all: lr_t = 0.05 (1 + cos(pi t / 4)), t = 0..3
        let got = lrs(&cfg, 2, 4);
        let want = [
            0.1,
            0.05 * (1.0 + 0.5f64.sqrt()),
            0.05,
            0.05 * (1.0 - 0.5f64.sqrt()),
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn warmup_ramps_then_holds() {
        let cfg = TrainConfig {
            lr: 0.1,
            epochs: 3,
            warmup_epochs: 1,
            ..Default::default()
        };
        // 3 warm-up steps: factors 1/4, 2/4, 3/4, then 1.
        let got = lrs(&cfg, 3, 5);
        let want = [0.025, 0.05, 0.075, 0.1, 0.1];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn plateau_schedule_follows_the_observed_numbers_under_warmup() {
        let cfg = TrainConfig {
            lr: 0.1,
            epochs: 4,
            warmup_epochs: 1,
            schedule: ScheduleKind::Plateau {
                factor: 0.5,
                lr_patience: 0,
                min_lr: 0.0,
            },
            ..Default::default()
        };
        let mut s = Schedule::new(&cfg, 1).unwrap();
        // Warm-up factor 1/2 on the first step; then each bad epoch halves the rate.
        assert!((s.step() - 0.05).abs() < 1e-12);
        assert!(!s.observe(1.0));
        assert!((s.step() - 0.1).abs() < 1e-12);
        assert!(s.observe(1.5));
        assert!((s.step() - 0.05).abs() < 1e-12);
        let state = s.plateau_state().unwrap();
        assert_eq!((state.best, state.reductions), (Some(1.0), 1));
        // A fresh schedule restored from the state, past its warm-up, gives the same rate.
        let mut r = Schedule::new(&cfg, 1).unwrap();
        r.skip(3);
        r.restore_plateau(state);
        assert_eq!(r.step(), s.step());
        // The step-count schedules carry no plateau state.
        assert_eq!(
            Schedule::new(&TrainConfig::default(), 1)
                .unwrap()
                .plateau_state(),
            None
        );
    }

    #[test]
    fn skip_matches_stepping() {
        let cfg = TrainConfig {
            lr: 0.1,
            epochs: 5,
            warmup_epochs: 1,
            schedule: ScheduleKind::Cosine { min_lr: 0.001 },
            ..Default::default()
        };
        let mut a = Schedule::new(&cfg, 3).unwrap();
        let mut b = a.clone();
        for _ in 0..7 {
            a.step();
        }
        b.skip(7);
        assert_eq!(a.step(), b.step());
    }
}
