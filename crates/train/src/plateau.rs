//! ReduceLROnPlateau: the learning rate falls by a factor when the validation number stops
//! improving, as PyTorch's `torch.optim.lr_scheduler.ReduceLROnPlateau` does.
//!
//! burn-optim 0.21 has no scheduler that watches a validation number (its schedulers are
//! functions of the step count), so [`PlateauLr`] implements its [`LrScheduler`] and takes the
//! number through [`PlateauLr::observe`] after each epoch. Its state ([`PlateauState`]) is
//! small and goes into the zoo's checkpoints, so a resumed run continues with the same rate,
//! best value and count of bad epochs.

use burn::lr_scheduler::LrScheduler;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

/// PyTorch's default relative threshold: a value counts as better only when it beats the best
/// by more than this fraction of the best's magnitude.
pub const THRESHOLD: f64 = 1e-4;

/// PyTorch's `eps`: a reduction smaller than this is not made (the rate sits at its floor).
const EPS: f64 = 1e-8;

/// What a plateau scheduler carries from epoch to epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The learning rate in force.
    pub lr: f64,
    /// The best value observed so far.
    pub best: Option<f64>,
    /// Epochs since the best, counted up to `patience` (reset by a reduction).
    pub bad_epochs: usize,
    /// Reductions made so far.
    pub reductions: usize,
}

/// ReduceLROnPlateau with PyTorch's rules (relative threshold [`THRESHOLD`], no cooldown):
/// after `patience` epochs without improvement, the next epoch without one multiplies the rate
/// by `factor`, down to `min_lr`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlateauLr {
    factor: f64,
    patience: usize,
    min_lr: f64,
    lower_is_better: bool,
    state: PlateauState,
}

impl PlateauLr {
    /// A scheduler starting at `lr`. `lower_is_better`: the watched number is a loss (else a
    /// metric such as accuracy).
    pub fn new(lr: f64, factor: f64, patience: usize, min_lr: f64, lower_is_better: bool) -> Self {
        Self {
            factor,
            patience,
            min_lr,
            lower_is_better,
            state: PlateauState {
                lr,
                best: None,
                bad_epochs: 0,
                reductions: 0,
            },
        }
    }

    /// Takes one epoch's validation number; returns whether the rate was reduced. A NaN or
    /// infinite value counts as no improvement.
    pub fn observe(&mut self, value: f64) -> bool {
        let s = &mut self.state;
        let better = value.is_finite()
            && match s.best {
                None => true,
                Some(b) if self.lower_is_better => value < b - b.abs() * THRESHOLD,
                Some(b) => value > b + b.abs() * THRESHOLD,
            };
        if better {
            s.best = Some(value);
            s.bad_epochs = 0;
            return false;
        }
        s.bad_epochs += 1;
        if s.bad_epochs <= self.patience {
            return false;
        }
        s.bad_epochs = 0;
        let next = (s.lr * self.factor).max(self.min_lr);
        if s.lr - next > EPS {
            s.lr = next;
            s.reductions += 1;
            true
        } else {
            false
        }
    }

    /// The state to checkpoint.
    pub fn state(&self) -> PlateauState {
        self.state
    }

    /// Continues from a checkpointed state.
    pub fn restore(&mut self, state: PlateauState) {
        self.state = state;
    }
}

impl LrScheduler for PlateauLr {
    /// The rate, the best value (NaN for none), the bad epochs and the reductions.
    type Record<B: Backend> = (f64, f64, usize, usize);

    fn step(&mut self) -> f64 {
        self.state.lr
    }

    fn to_record<B: Backend>(&self) -> Self::Record<B> {
        let s = self.state;
        (s.lr, s.best.unwrap_or(f64::NAN), s.bad_epochs, s.reductions)
    }

    fn load_record<B: Backend>(
        mut self,
        (lr, best, bad_epochs, reductions): Self::Record<B>,
    ) -> Self {
        self.state = PlateauState {
            lr,
            best: (!best.is_nan()).then_some(best),
            bad_epochs,
            reductions,
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rates after each observed value.
    fn rates(mut s: PlateauLr, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .map(|&v| {
                s.observe(v);
                LrScheduler::step(&mut s)
            })
            .collect()
    }

    #[test]
    fn reduces_after_patience_bad_epochs_as_pytorch_does() {
        // torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2), lr 1.0,
        // stepped with these losses, gives these rates (PyTorch 2.9.0).
        let losses = [
            1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.85, 0.85, 0.85,
        ];
        let want = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25];
        assert_eq!(rates(PlateauLr::new(1.0, 0.5, 2, 0.0, true), &losses), want);
    }

    #[test]
    fn a_gain_under_the_relative_threshold_is_no_improvement() {
        // 1.0 → 0.99995 is a 5e-5 relative gain, under 1e-4: with patience 0 the rate falls
        // (to 0.01 in PyTorch 2.9.0 too).
        let mut s = PlateauLr::new(0.1, 0.1, 0, 0.0, true);
        assert!(!s.observe(1.0));
        assert!(s.observe(0.99995));
        assert!((s.state().lr - 0.01).abs() < 1e-15);
        // A clear gain resets the count.
        assert!(!s.observe(0.5));
        assert_eq!(s.state().best, Some(0.5));
    }

    #[test]
    fn a_metric_must_rise_and_the_rate_stops_at_min_lr() {
        // PyTorch 2.9.0 with mode="max", factor=0.5, patience=1, min_lr=0.04 gives these rates.
        let accs = [0.5, 0.6, 0.6, 0.55, 0.6, 0.6, 0.6];
        let want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.04, 0.04];
        let got = rates(PlateauLr::new(0.1, 0.5, 1, 0.04, false), &accs);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn a_non_finite_value_is_a_bad_epoch() {
        let mut s = PlateauLr::new(1.0, 0.5, 0, 0.0, true);
        s.observe(1.0);
        assert!(s.observe(f64::NAN));
        assert_eq!(s.state().best, Some(1.0));
        assert_eq!(s.state().reductions, 1);
    }

    #[test]
    fn its_record_and_state_restore_the_same_schedule() {
        type B = zoo_ndarray::NdArray;
        let mut a = PlateauLr::new(1.0, 0.5, 1, 0.0, true);
        for v in [1.0, 1.0, 1.0] {
            a.observe(v);
        }
        let fresh = PlateauLr::new(1.0, 0.5, 1, 0.0, true);
        let b = fresh.clone().load_record::<B>(a.to_record::<B>());
        let mut c = fresh;
        c.restore(a.state());
        assert_eq!(b, a);
        assert_eq!(c, a);
        let after = |mut s: PlateauLr| rates_after(&mut s);
        fn rates_after(s: &mut PlateauLr) -> Vec<f64> {
            [0.9, 0.95, 0.95, 0.95]
                .iter()
                .map(|&v| {
                    s.observe(v);
                    s.state().lr
                })
                .collect()
        }
        assert_eq!(after(b), after(a));
    }
}
