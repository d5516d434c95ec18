//! Resume equivalence for the LSTM: two stacked layers with dropout between them (the backend
//! RNG), gradient clipping and a step schedule. Two epochs, then resume to four, equals four
//! epochs straight.
//!
//! The character language model: a run stopped mid-epoch (its carried LSTM state in the
//! checkpoint) and resumed ends with the weights of the same run left alone.
//!
//! Its own test binary, its tests one at a time (`SERIAL`): Burn's backend RNG is
//! process-global.

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

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn stacked_lstm_with_dropout_resumes_to_the_uninterrupted_parameters() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

#[test]
fn language_model_stopped_mid_epoch_resumes_to_the_uninterrupted_parameters() {
    use zoo_lstm::language::{LmJob, LmText, run};
    use zoo_train::train::JobContext;
    use zoo_train::{TrainError, interrupt};
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let assets = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"));
    let questions = zoo_data::charlm::read_questions(&assets.join("text/TREC.train.all")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("questions.txt");
    std::fs::write(&text, questions.chars().take(8000).collect::<String>()).unwrap();
    let mut job = LmJob::seed();
    job.text = LmText::File { path: text };
    (job.model.hidden, job.model.embed_dim, job.model.layers) = (12, 6, 2);
    (job.bptt, job.train.batch_size, job.train.epochs) = (16, 6, 3);
    let device = Default::default();
    let ctx = |dir: Option<ArtifactDir>, resume| JobContext::quiet(dir, resume, "ndarray", "cpu");
    let straight = run::<B>(&job, &ctx(None, false), &assets, &device).unwrap();

    // Stopped as Ctrl-C stops it once epoch 1's checkpoint exists: in epoch 2, mid-way.
    let runs = tmp.path().join("run");
    let first = runs.join("checkpoints/epoch-00001.ckpt");
    let watcher = std::thread::spawn(move || {
        while !first.exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        interrupt::request();
    });
    let dir = ArtifactDir::prepare(&runs, Mode::Fresh).unwrap();
    let stopped = run::<B>(&job, &ctx(Some(dir), false), &assets, &device);
    watcher.join().unwrap();
    interrupt::clear();
    let Err(TrainError::Interrupted { epoch, step, .. }) = stopped else {
        panic!("the run was not interrupted")
    };
    assert_eq!(epoch, 2);
    assert!(step < 30, "stopped at step {step}, not mid-epoch");
    let again = ArtifactDir::prepare(&runs, Mode::Resume).unwrap();
    let resumed = run::<B>(&job, &ctx(Some(again), true), &assets, &device).unwrap();
    assert_eq!(resumed.report.epochs_completed, 3);
    let (a, b) = (
        flat_params::<B, _>(&straight.model),
        flat_params::<B, _>(&resumed.model),
    );
    let max_diff = max_abs_diff(&a, &b);
    assert!(max_diff <= 1e-6, "max parameter difference {max_diff}");
    assert_eq!(straight.report.test, resumed.report.test);
}
