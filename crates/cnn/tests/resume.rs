//! Resume equivalence for the CNN with everything that carries state across epochs: the
//! strong preset (batch-norm statistics, dropout), AdamW, warm-up then cosine decay, and
//! seeded augmentation. A four-epoch run stopped in epoch 3 (as Ctrl-C stops it) and resumed
//! ends with the parameters of the same run left alone.
//!
//! Its own test binary (one process, one test): Burn's backend RNG is process-global.

use std::path::PathBuf;

use burn::backend::Autodiff;

use zoo_cnn::train::{CnnJob, run};
use zoo_ndarray::NdArray;
use zoo_train::train::{JobContext, flat_params, max_abs_diff};
use zoo_train::{ArtifactDir, Mode, TrainError, interrupt};

type B = Autodiff<NdArray>;

#[test]
fn strong_augmented_cnn_resumes_to_the_uninterrupted_parameters() {
    let bundled = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/mnist-sample"
    ));
    let device = Default::default();
    let ctx = |dir: Option<ArtifactDir>, resume| JobContext::quiet(dir, resume, "ndarray", "cpu");
    let mut job = CnnJob::strong().augmented();
    job.data = Some(bundled.clone());
    job.train_limit = Some(320);
    job.train.batch_size = 32;
    job.train.epochs = 4;
    let straight = run::<B>(&job, &ctx(None, false), &bundled, &device).unwrap();

    // The same 4-epoch run (the cosine schedule spans all four), stopped as Ctrl-C would once
    // epoch 2's checkpoint exists, then resumed.
    let tmp = tempfile::tempdir().unwrap();
    let second = tmp.path().join("checkpoints/epoch-00002.ckpt");
    let watcher = std::thread::spawn(move || {
        while !second.exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        interrupt::request();
    });
    let first = ArtifactDir::prepare(tmp.path(), Mode::Fresh).unwrap();
    let stopped = run::<B>(&job, &ctx(Some(first), false), &bundled, &device);
    watcher.join().unwrap();
    interrupt::clear();
    let Err(TrainError::Interrupted { epoch, .. }) = stopped else {
        panic!("the run was not interrupted")
    };
    assert_eq!(epoch, 3);
    let again = ArtifactDir::prepare(tmp.path(), Mode::Resume).unwrap();
    let resumed = run::<B>(&job, &ctx(Some(again), true), &bundled, &device).unwrap();

    assert_eq!(resumed.report.epochs_completed, 4);
    let (a, b) = (
        flat_params::<B, _>(&straight.model),
        flat_params::<B, _>(&resumed.model),
    );
    let max_diff = max_abs_diff(&a, &b);
    assert!(max_diff <= 1e-6, "max parameter difference {max_diff}");
    assert_eq!(straight.report.test, resumed.report.test);
}
