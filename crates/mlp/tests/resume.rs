//! Resume equivalence: 100 epochs, then resume to 200, equals 200 epochs straight.
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
fn resume_100_plus_100_equals_200_epochs() {
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
    let (a, b) = (
        flat_params::<B, _>(&straight.model),
        flat_params::<B, _>(&resumed.model),
    );
    assert_eq!(a.len(), 82);
    let max_diff = max_abs_diff(&a, &b);
    assert!(max_diff <= 1e-6, "max parameter difference {max_diff}");
    // The halfway model really is different: the comparison is not vacuous.
    let h = flat_params::<B, _>(&half.model);
    assert!(a.iter().zip(&h).any(|(x, y)| (x - y).abs() > 1e-3));
    assert_eq!(straight.report.test, resumed.report.test);
}
