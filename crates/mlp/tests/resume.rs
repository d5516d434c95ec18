//! Resume equivalence: 100 epochs, then resume to 200, equals 200 epochs straight; and the
//! same with the plateau schedule, whose state is in the checkpoint.
//!
//! Its own test binary (one process, one test) because Burn's backend RNG is process-global:
//! other tests initialising models in parallel threads would shift its random stream.

use burn::backend::Autodiff;

use zoo_mlp::train::{JobContext, MlpJob, run};
use zoo_ndarray::NdArray;
use zoo_train::train::{flat_params, max_abs_diff};
use zoo_train::{ArtifactDir, Mode};

type B = Autodiff<NdArray>;

fn ctx(artifacts: Option<ArtifactDir>, resume: bool) -> JobContext {
    JobContext::quiet(artifacts, resume, "ndarray", "cpu")
}

#[test]
fn resume_equals_an_uninterrupted_run() {
    let device = Default::default();
    let mut job = MlpJob::seed();
    job.train.keep_checkpoints = 1;
    let straight = run::<B>(&job, &ctx(None, false), &device).unwrap();

    let dir = tempfile::tempdir().unwrap();
    job.train.epochs = 100;
    let first = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
    let half = run::<B>(&job, &ctx(Some(first), false), &device).unwrap();
    job.train.epochs = 200;
    let again = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
    let resumed = run::<B>(&job, &ctx(Some(again), true), &device).unwrap();

    assert_eq!(resumed.report.epochs_completed, 200);
    assert_eq!(resumed.report.history.len(), 200);
    let a = assert_same_weights(&straight.model, &resumed.model);
    assert_eq!(a.len(), 82);
    // The halfway model really is different: the comparison is not vacuous.
    let h = flat_params::<B, _>(&half.model);
    assert!(a.iter().zip(&h).any(|(x, y)| (x - y).abs() > 1e-3));
    assert_eq!(straight.report.test, resumed.report.test);
    plateau_resume_equals_straight();
}

/// `--schedule plateau`: the scheduler's best value, bad-epoch count and rate are in the
/// checkpoint, so a run resumed halfway reduces the rate at the same epochs and ends with the
/// same weights. Minibatches make the validation loss wobble, so the rate does fall (checked).
/// Part of the test above's process-wide sequence: one run at a time (see the module docs).
fn plateau_resume_equals_straight() {
    use zoo_train::config::ScheduleKind;
    let device = Default::default();
    let mut job = MlpJob::seed();
    job.split.valid_fraction = 0.2;
    job.train.full_batch = false;
    job.train.batch_size = 64;
    job.train.epochs = 40;
    job.train.lr = 0.05;
    job.train.keep_checkpoints = 1;
    job.train.schedule = ScheduleKind::Plateau {
        factor: 0.5,
        lr_patience: 1,
        min_lr: 0.0,
    };
    let straight = run::<B>(&job, &ctx(None, false), &device).unwrap();
    let lrs = |r: &zoo_train::report::Report| r.history.iter().map(|e| e.lr).collect::<Vec<_>>();
    let want = lrs(&straight.report);
    let reductions = want.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(
        reductions >= 2 && want[20..].windows(2).any(|w| w[1] < w[0]),
        "the rate should fall at least twice, once after the resume point: {want:?} {:?}",
        straight
            .report
            .history
            .iter()
            .map(|e| e.valid.as_ref().unwrap().loss)
            .collect::<Vec<_>>()
    );

    let dir = tempfile::tempdir().unwrap();
    job.train.epochs = 20;
    let first = ArtifactDir::prepare(dir.path(), Mode::Fresh).unwrap();
    run::<B>(&job, &ctx(Some(first), false), &device).unwrap();
    job.train.epochs = 40;
    let again = ArtifactDir::prepare(dir.path(), Mode::Resume).unwrap();
    let resumed = run::<B>(&job, &ctx(Some(again), true), &device).unwrap();
    assert_eq!(lrs(&resumed.report), want);
    assert_same_weights(&straight.model, &resumed.model);
    assert_eq!(straight.report.test, resumed.report.test);
}

/// Asserts that two models' parameters agree within 1e-6; returns the first's.
fn assert_same_weights<M: burn::module::Module<B>>(straight: &M, resumed: &M) -> Vec<f32> {
    let (a, b) = (flat_params::<B, _>(straight), flat_params::<B, _>(resumed));
    let max_diff = max_abs_diff(&a, &b);
    assert!(max_diff <= 1e-6, "max parameter difference {max_diff}");
    a
}
