//! A short adding-problem run: the seed LSTM must beat the mean predictor (MSE 0.167) clearly.
//! Its own test binary: Burn's backend RNG is process-global.

use burn::backend::Autodiff;

use zoo_data::sequence::{ADDING_BASELINE_MSE, adding_problem};
use zoo_lstm::model::LstmNetConfig;
use zoo_ndarray::NdArray;
use zoo_train::checkpoint::ModelId;
use zoo_train::report::Metrics;
use zoo_train::{Objective, ProgressMode, RunInfo, RunSpec, TrainConfig, fit, seed_backend};

#[test]
fn lstm_beats_the_adding_baseline_on_short_sequences() {
    type B = Autodiff<NdArray>;
    let device = Default::default();
    let (train, test) = (adding_problem(2000, 20, 1), adding_problem(500, 20, 2));
    let cfg = TrainConfig {
        epochs: 6,
        batch_size: 32,
        lr: 1e-2,
        seed: 3,
        ..Default::default()
    };
    seed_backend::<B>(&device, cfg.seed);
    let model_cfg = LstmNetConfig::new(2, 1);
    let spec = RunSpec {
        cfg: &cfg,
        objective: Objective::Regression,
        model_id: ModelId::new("lstm", &model_cfg, "f32"),
        info: RunInfo {
            model: "lstm".into(),
            backend: "ndarray".into(),
            device: "cpu".into(),
            dataset: "adding problem, T = 20".into(),
        },
        config: serde_json::Value::Null,
        artifacts: None,
        resume: false,
        progress: ProgressMode::Quiet,
        target_scaler: None,
        class_names: Vec::new(),
        resumed_with_changes: Vec::new(),
    };
    let trained = fit(
        model_cfg.init::<B>(&device),
        &train,
        None,
        Some(&test),
        spec,
        &device,
    )
    .unwrap();
    let Metrics::Regression(m) = &trained.test.unwrap().summary.metrics else {
        panic!("regression metrics")
    };
    assert!(
        m.mse < ADDING_BASELINE_MSE / 4.0,
        "test MSE {} vs baseline {ADDING_BASELINE_MSE}",
        m.mse
    );
}
