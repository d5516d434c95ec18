//! Resume equivalence for the LSTM: two stacked layers with dropout between them (the backend
//! RNG), gradient clipping and a step schedule. Two epochs, then resume to four, equals four
//! epochs straight.
//!
//! Its own test binary (one process, one test): Burn's backend RNG is process-global.

use burn::backend::Autodiff;

use zoo_data::sequence::adding_problem;
use zoo_lstm::model::{LstmNet, LstmNetConfig};
use zoo_ndarray::NdArray;
use zoo_train::checkpoint::ModelId;
use zoo_train::train::{flat_params, max_abs_diff};
use zoo_train::{
    ArtifactDir, Mode, Objective, ProgressMode, RunInfo, RunSpec, ScheduleKind, TrainConfig,
    Trained, fit, seed_backend,
};

type B = Autodiff<NdArray>;

#[test]
fn stacked_lstm_with_dropout_resumes_to_the_uninterrupted_parameters() {
    let device = Default::default();
    let (train, test) = (adding_problem(600, 15, 1), adding_problem(100, 15, 2));
    let model_cfg = LstmNetConfig::new(2, 1).with_layers(2).with_dropout(0.2);
    let mut cfg = TrainConfig {
        epochs: 4,
        batch_size: 32,
        lr: 1e-2,
        seed: 5,
        grad_clip_norm: Some(1.0),
        schedule: ScheduleKind::Step {
            step_epochs: 1,
            gamma: 0.7,
        },
        ..Default::default()
    };
    let go = |cfg: &TrainConfig, dir: Option<&ArtifactDir>, resume: bool| -> Trained<LstmNet<B>> {
        seed_backend::<B>(&device, cfg.seed);
        let spec = RunSpec {
            cfg,
            objective: Objective::Regression,
            model_id: ModelId::new("lstm", &model_cfg, "f32"),
            info: RunInfo {
                model: "lstm".into(),
                backend: "ndarray".into(),
                device: "cpu".into(),
                dataset: "adding problem, T = 15".into(),
            },
            config: serde_json::Value::Null,
            artifacts: dir,
            resume,
            progress: ProgressMode::Quiet,
            target_scaler: None,
            class_names: Vec::new(),
            resumed_with_changes: Vec::new(),
        };
        fit(
            model_cfg.init::<B>(&device),
            &train,
            None,
            Some(&test),
            spec,
            &device,
        )
        .unwrap()
    };
    let straight = go(&cfg, None, false);
    let tmp = tempfile::tempdir().unwrap();
    cfg.epochs = 2;
    let half = go(
        &cfg,
        Some(&ArtifactDir::prepare(tmp.path(), Mode::Fresh).unwrap()),
        false,
    );
    cfg.epochs = 4;
    let resumed = go(
        &cfg,
        Some(&ArtifactDir::prepare(tmp.path(), Mode::Resume).unwrap()),
        true,
    );
    assert_eq!(resumed.report.epochs_completed, 4);
    let (a, b) = (
        flat_params::<B, _>(&straight.model),
        flat_params::<B, _>(&resumed.model),
    );
    let max_diff = max_abs_diff(&a, &b);
    assert!(max_diff <= 1e-6, "max parameter difference {max_diff}");
    let h = flat_params::<B, _>(&half.model);
    assert!(a.iter().zip(&h).any(|(x, y)| (x - y).abs() > 1e-3));
    assert_eq!(straight.report.test, resumed.report.test);
}
