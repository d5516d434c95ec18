//! A stop request (SIGINT/SIGTERM in the binaries) ends an evaluation outside training before
//! its next batch. Its own test binary: the stop flag is process-global, and a training test
//! in a parallel thread would see it.

use zoo_mlp::train::{MlpJob, architecture};
use zoo_ndarray::NdArray;
use zoo_train::{TrainError, interrupt};

#[test]
fn an_evaluation_ends_when_a_stop_is_asked_for_and_runs_whole_otherwise() {
    let device = Default::default();
    let job = MlpJob::seed();
    let mlp = architecture(&job).unwrap().init::<NdArray>(&device);
    let whole = zoo_mlp::infer::evaluate::<NdArray>(&job, &mlp, &device).unwrap();
    assert_eq!(whole.outputs.len(), 200 * 2);
    interrupt::request();
    let stopped = zoo_mlp::infer::evaluate::<NdArray>(&job, &mlp, &device);
    interrupt::clear();
    match stopped {
        Err(e @ TrainError::Stopped(_)) => assert_eq!(
            e.to_string(),
            "stopped by a signal while evaluating, after 0 of 200 samples; nothing was written"
        ),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the evaluation did not stop"),
    }
}
