//! Training hyper-parameters shared by every model, and their validation.

use serde::{Deserialize, Serialize};

/// Which optimiser to train with (all from burn-optim).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with L2 weight decay added to the gradient (PyTorch's `Adam(weight_decay=...)`).
    Adam,
    /// AdamW: decoupled weight decay.
    AdamW,
    /// SGD with (optional) momentum and L2 weight decay.
    Sgd,
    /// RMSprop (smoothing 0.99, the `momentum` setting as its momentum), as the WGAN paper
    /// trains with.
    RmsProp,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "adam" => Ok(Self::Adam),
            "adamw" => Ok(Self::AdamW),
            "sgd" => Ok(Self::Sgd),
            "rmsprop" => Ok(Self::RmsProp),
            other => Err(format!(
                "unknown optimiser '{other}' (expected adam, adamw, sgd or rmsprop)"
            )),
        }
    }
}

/// Learning-rate schedule, applied per optimiser step (burn-optim schedulers underneath).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum ScheduleKind {
    /// The base learning rate throughout.
    Constant,
    /// Multiply the rate by `gamma` every `step_epochs` epochs (PyTorch `StepLR`).
    Step {
        /// Epochs between two decays.
        step_epochs: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// Cosine annealing from the base rate to `min_lr` over the whole run.
    Cosine {
        /// Final learning rate.
        min_lr: f64,
    },
    /// Multiply the rate by `factor` when the monitored validation number
    /// ([`TrainConfig::monitor`]) has not improved for `lr_patience` epochs, down to `min_lr`
    /// (PyTorch `ReduceLROnPlateau`; [`crate::plateau::PlateauLr`]). Needs a validation set.
    Plateau {
        /// Decay factor, in (0, 1).
        factor: f64,
        /// Epochs without improvement before a reduction.
        lr_patience: usize,
        /// The lowest rate.
        min_lr: f64,
    },
}

/// What early stopping and best-epoch selection watch on the validation set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Monitor {
    /// The validation loss (lower is better).
    #[default]
    Loss,
    /// The validation headline metric: accuracy (classification) or R² (regression); higher is
    /// better.
    Metric,
}

/// Everything the shared training loop needs to know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of passes over the training set.
    pub epochs: usize,
    /// Samples per optimiser step; `0` is rejected, use `full_batch` for full-batch training.
    pub batch_size: usize,
    /// Use the whole training set as one batch (ignores `batch_size`).
    pub full_batch: bool,
    /// Base learning rate.
    pub lr: f64,
    /// Optimiser.
    pub optimizer: OptimizerKind,
    /// SGD and RMSprop momentum (ignored by Adam/AdamW).
    pub momentum: f64,
    /// Weight decay: L2 penalty for Adam/SGD, decoupled decay for AdamW. `0` disables it.
    pub weight_decay: f64,
    /// Adam/AdamW/RMSprop epsilon (PyTorch's default 1e-8; Burn's default is 1e-5).
    pub adam_epsilon: f64,
    /// Adam/AdamW first-moment decay.
    pub beta1: f64,
    /// Adam/AdamW second-moment decay.
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// Learning-rate schedule.
    pub schedule: ScheduleKind,
    /// Linear warm-up from ~0 to the base rate over this many epochs (0 = none).
    pub warmup_epochs: usize,
    /// Clip the global gradient L2 norm to this value.
    pub grad_clip_norm: Option<f64>,
    /// Stop when the monitored validation number has not improved for this many epochs, and
    /// restore the best weights. Needs a validation set.
    pub patience: Option<usize>,
    /// What `patience` watches (and which epoch counts as best).
    #[serde(default)]
    pub monitor: Monitor,
    /// Seed for initialisation, shuffling and dropout.
    pub seed: u64,
    /// Batch size for evaluation passes (no gradients, so it can be larger).
    pub eval_batch_size: usize,
    /// How many epoch checkpoints to keep (the newest ones); `0` keeps all.
    pub keep_checkpoints: usize,
    /// Skip a batch whose loss is NaN or infinite (no update; counted in `report.json`)
    /// instead of stopping the run.
    #[serde(default)]
    pub skip_nonfinite: bool,
}

fn default_beta2() -> f64 {
    0.999
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            full_batch: false,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            momentum: 0.9,
            weight_decay: 0.0,
            adam_epsilon: 1e-8,
            beta1: 0.9,
            beta2: 0.999,
            schedule: ScheduleKind::Constant,
            warmup_epochs: 0,
            grad_clip_norm: None,
            patience: None,
            monitor: Monitor::Loss,
            seed: 42,
            eval_batch_size: 1024,
            keep_checkpoints: 3,
            skip_nonfinite: false,
        }
    }
}

impl TrainConfig {
    /// Checks every value, naming the offending flag in the message.
    pub fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be at least 1".into());
        }
        if self.batch_size == 0 && !self.full_batch {
            return Err("batch_size must be at least 1".into());
        }
        if self.eval_batch_size == 0 {
            return Err("eval_batch_size must be at least 1".into());
        }
        positive_finite("lr", self.lr)?;
        if self.lr > 1.0 {
            return Err(format!("lr must be at most 1 (got {})", self.lr));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!(
                "momentum must be in [0, 1) (got {})",
                self.momentum
            ));
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return Err(format!(
                "weight_decay must be a finite number >= 0 (got {})",
                self.weight_decay
            ));
        }
        positive_finite("adam_epsilon", self.adam_epsilon)?;
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(format!("beta1 must be in [0, 1) (got {})", self.beta1));
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return Err(format!("beta2 must be in [0, 1) (got {})", self.beta2));
        }
        if let Some(c) = self.grad_clip_norm {
            positive_finite("grad_clip", c)?;
        }
        if self.patience == Some(0) {
            return Err("patience must be at least 1".into());
        }
        match self.schedule {
            ScheduleKind::Constant => {}
            ScheduleKind::Step { step_epochs, gamma } => {
                if step_epochs == 0 {
                    return Err("step_epochs must be at least 1".into());
                }
                positive_finite("gamma", gamma)?;
            }
            ScheduleKind::Cosine { min_lr } => check_min_lr(min_lr, self.lr)?,
            ScheduleKind::Plateau { factor, min_lr, .. } => {
                if !(factor > 0.0 && factor < 1.0) {
                    return Err(format!("factor must be in (0, 1) (got {factor})"));
                }
                check_min_lr(min_lr, self.lr)?;
            }
        }
        if self.warmup_epochs >= self.epochs && self.warmup_epochs > 0 {
            return Err(format!(
                "warmup_epochs ({}) must be smaller than epochs ({})",
                self.warmup_epochs, self.epochs
            ));
        }
        Ok(())
    }
}

fn check_min_lr(min_lr: f64, lr: f64) -> Result<(), String> {
    if !min_lr.is_finite() || min_lr < 0.0 || min_lr > lr {
        return Err(format!("min_lr must be in [0, lr] (got {min_lr})"));
    }
    Ok(())
}

fn positive_finite(flag: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(format!("{flag} must be a positive finite number (got {v})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(TrainConfig::default().validate(), Ok(()));
    }

    #[test]
    fn bad_values_name_their_flag() {
        let cases: Vec<(TrainConfig, &str)> = vec![
            (
                TrainConfig {
                    epochs: 0,
                    ..Default::default()
                },
                "epochs",
            ),
            (
                TrainConfig {
                    batch_size: 0,
                    ..Default::default()
                },
                "batch_size",
            ),
            (
                TrainConfig {
                    lr: 0.0,
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainConfig {
                    lr: -1.0,
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainConfig {
                    lr: f64::NAN,
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainConfig {
                    lr: f64::INFINITY,
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainConfig {
                    weight_decay: -0.1,
                    ..Default::default()
                },
                "weight_decay",
            ),
            (
                TrainConfig {
                    grad_clip_norm: Some(0.0),
                    ..Default::default()
                },
                "grad_clip",
            ),
            (
                TrainConfig {
                    patience: Some(0),
                    ..Default::default()
                },
                "patience",
            ),
            (
                TrainConfig {
                    warmup_epochs: 10,
                    ..Default::default()
                },
                "warmup_epochs",
            ),
            (
                TrainConfig {
                    schedule: ScheduleKind::Step {
                        step_epochs: 0,
                        gamma: 0.1,
                    },
                    ..Default::default()
                },
                "step_epochs",
            ),
            (
                TrainConfig {
                    schedule: ScheduleKind::Plateau {
                        factor: 1.0,
                        lr_patience: 2,
                        min_lr: 0.0,
                    },
                    ..Default::default()
                },
                "factor",
            ),
            (
                TrainConfig {
                    lr: 0.01,
                    schedule: ScheduleKind::Plateau {
                        factor: 0.5,
                        lr_patience: 2,
                        min_lr: 0.1,
                    },
                    ..Default::default()
                },
                "min_lr",
            ),
        ];
        for (cfg, flag) in cases {
            let err = cfg.validate().expect_err(flag);
            assert!(err.starts_with(flag), "{err}");
        }
    }

    #[test]
    fn full_batch_allows_zero_batch_size() {
        let cfg = TrainConfig {
            batch_size: 0,
            full_batch: true,
            ..Default::default()
        };
        assert_eq!(cfg.validate(), Ok(()));
    }

    #[test]
    fn optimizer_parses() {
        assert_eq!("AdamW".parse::<OptimizerKind>(), Ok(OptimizerKind::AdamW));
        assert_eq!(
            "RMSprop".parse::<OptimizerKind>(),
            Ok(OptimizerKind::RmsProp)
        );
        assert!(
            "nadam"
                .parse::<OptimizerKind>()
                .unwrap_err()
                .contains("'nadam' (expected adam, adamw, sgd or rmsprop)")
        );
    }
}
