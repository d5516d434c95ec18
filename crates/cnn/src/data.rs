//! The CNN's data: MNIST or Fashion-MNIST IDX files (or the bundled sample), normalised as the
//! seed does, split train / validation / test.

use std::path::Path;

use zoo_data::DataError;
use zoo_data::images::{ImageSplitSpec, ImageSplits, load_splits};

use crate::train::CnnJob;

/// MNIST normalisation of the seed: `Normalize(0.5, 0.5)`.
pub const MEAN: f32 = 0.5;
/// See [`MEAN`].
pub const STD: f32 = 0.5;

/// Loaded data of a job.
pub type CnnData = ImageSplits;

/// Finds and loads the job's data (`bundled`: the MNIST sample shipped in `assets/`).
pub fn load_data(job: &CnnJob, bundled: &Path) -> Result<CnnData, DataError> {
    let spec = ImageSplitSpec {
        image_size: job.model.image_size,
        train_limit: job.train_limit,
        valid_fraction: job.valid_fraction,
        seed: job.train.seed,
        mean: MEAN,
        std: STD,
    };
    let mut data = load_splits(job.dataset, job.data.as_deref(), bundled, &spec)?;
    data.train = data.train.with_augment(job.augment);
    Ok(data)
}
