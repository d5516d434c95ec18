//! burn-dataset's image datasets as the CNN's input (feature `vision`): a [`Collate`] for
//! [`ImageDatasetItem`] (an `ImageFolderDataset` of PNG/JPEG folders, one folder per class)
//! and one for [`MnistItem`] (burn's `MnistDataset`), so that
//! [`zoo_data::items::FromBurn`] trains the zoo's CNN on them with the zoo's loop and
//! [`zoo_data::items::Batcher`] batches them for burn-train.
//!
//! ```no_run
//! use burn_dataset::vision::ImageFolderDataset;
//! use zoo_cnn::vision::FolderImages;
//! use zoo_data::items::FromBurn;
//!
//! let folders = ImageFolderDataset::new_classification("digits/train").unwrap();
//! let train = FromBurn::new(folders, FolderImages::mnist()).unwrap();
//! // zoo_train::fit(model, &train, None, None, spec, &device) trains on it.
//! ```

use burn::tensor::{Tensor, TensorData, backend::Backend};
use burn_dataset::vision::{Annotation, ImageDatasetItem, MnistItem, PixelDepth};
use zoo_data::items::{Collate, Target};

/// [`ImageDatasetItem`]s to the CNN's `[batch, 1, rows, cols]` input: each image must be
/// `rows x cols` and have a single class label; colour images are averaged to grey (alpha
/// ignored); 8- and 16-bit pixels are scaled to 0..1, float pixels taken as 0..1; then
/// normalised as `(p - mean) / std`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FolderImages {
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// Normalisation mean (on the 0..1 scale).
    pub mean: f32,
    /// Normalisation standard deviation.
    pub std: f32,
}

impl FolderImages {
    /// 28x28 grey images normalised as the seed CNN's MNIST data (mean 0.5, std 0.5).
    pub fn mnist() -> Self {
        Self {
            rows: 28,
            cols: 28,
            mean: 0.5,
            std: 0.5,
        }
    }

    fn grey(&self, item: &ImageDatasetItem) -> Vec<f32> {
        let px = self.rows * self.cols;
        let channels = (item.image.len() / px.max(1)).max(1);
        // grey, grey+alpha: the first channel; RGB, RGBA: the mean of the three colours.
        let colour = if channels >= 3 { 3 } else { 1 };
        let value = |p: &PixelDepth| match *p {
            PixelDepth::U8(v) => v as f32 / 255.0,
            PixelDepth::U16(v) => v as f32 / 65535.0,
            PixelDepth::F32(v) => v,
        };
        item.image
            .chunks(channels)
            .map(|c| {
                let g = c[..colour].iter().map(value).sum::<f32>() / colour as f32;
                (g - self.mean) / self.std
            })
            .collect()
    }
}

impl Collate<ImageDatasetItem> for FolderImages {
    type Input<B: Backend> = Tensor<B, 4>;

    fn target(&self, item: &ImageDatasetItem) -> Result<Target, String> {
        let path = &item.image_path;
        if (item.image_height, item.image_width) != (self.rows, self.cols) {
            return Err(format!(
                "{path}: {}x{} pixels, the CNN takes {}x{}",
                item.image_width, item.image_height, self.cols, self.rows
            ));
        }
        let px = self.rows * self.cols;
        if item.image.is_empty()
            || !item.image.len().is_multiple_of(px)
            || item.image.len() / px > 4
        {
            return Err(format!(
                "{path}: {} pixel values do not make a {}x{} image of 1 to 4 channels",
                item.image.len(),
                self.rows,
                self.cols
            ));
        }
        match &item.annotation {
            Annotation::Label(c) => Ok(Target::Class(*c)),
            _ => Err(format!("{path}: not a single-label classification item")),
        }
    }

    fn inputs<B: Backend>(&self, items: Vec<ImageDatasetItem>, device: &B::Device) -> Tensor<B, 4> {
        let n = items.len();
        let values: Vec<f32> = items.iter().flat_map(|i| self.grey(i)).collect();
        Tensor::from_data(
            TensorData::new(values, [n, 1, self.rows, self.cols]),
            device,
        )
    }
}

/// [`MnistItem`]s (burn's `MnistDataset`: 28x28 pixels 0..255 as floats) to the CNN's input,
/// normalised as the seed's MNIST data (`(p / 255 - 0.5) / 0.5`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BurnMnist;

impl Collate<MnistItem> for BurnMnist {
    type Input<B: Backend> = Tensor<B, 4>;

    fn target(&self, item: &MnistItem) -> Result<Target, String> {
        Ok(Target::Class(item.label as usize))
    }

    fn inputs<B: Backend>(&self, items: Vec<MnistItem>, device: &B::Device) -> Tensor<B, 4> {
        let n = items.len();
        let values: Vec<f32> = items
            .iter()
            .flat_map(|i| i.image.iter().flatten().map(|&p| (p / 255.0 - 0.5) / 0.5))
            .collect();
        Tensor::from_data(TensorData::new(values, [n, 1, 28, 28]), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn_dataset::vision::ImageFolderDataset;
    use std::path::Path;
    use zoo_data::Dataset;
    use zoo_data::idx::{ImageSet, load_image_set};
    use zoo_data::images::ImageDataset;
    use zoo_data::items::FromBurn;
    use zoo_ndarray::NdArray;
    use zoo_train::checkpoint::ModelId;
    use zoo_train::report::Metrics;
    use zoo_train::{Objective, RunSpec, fit};

    fn sample(split: &str) -> ImageSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist-sample");
        load_image_set(
            &dir.join(format!("{split}-images-idx3-ubyte.gz")),
            &dir.join(format!("{split}-labels-idx1-ubyte.gz")),
            10,
        )
        .unwrap()
    }

    /// One PNG per image, in a folder per digit: what a user's own image folders look like.
    fn write_folders(set: &ImageSet, root: &Path) {
        for (i, &label) in set.labels.iter().enumerate() {
            let dir = root.join(label.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let px = set.images[i * 784..(i + 1) * 784].to_vec();
            image::GrayImage::from_raw(28, 28, px)
                .unwrap()
                .save(dir.join(format!("{i:05}.png")))
                .unwrap();
        }
    }

    #[test]
    fn image_folder_dataset_trains_the_seed_cnn_to_088() {
        let tmp = tempfile::tempdir().unwrap();
        let (train_set, test_set) = (sample("train"), sample("t10k"));
        write_folders(&train_set, &tmp.path().join("train"));
        write_folders(&test_set, &tmp.path().join("test"));
        let folders = |split: &str| {
            FromBurn::new(
                ImageFolderDataset::new_classification(tmp.path().join(split)).unwrap(),
                FolderImages::mnist(),
            )
            .unwrap()
        };
        let (train, test) = (folders("train"), folders("test"));
        assert_eq!((train.len(), test.len()), (3000, 1000));

        // The PNGs give exactly the pixels the IDX path gives (folder order, not file order).
        let idx = ImageDataset::new(&train_set, 0.5, 0.5);
        let first: usize = (0..3000).find(|&i| train_set.labels[i] == 0).unwrap();
        let dev = Default::default();
        assert_eq!(
            train.inputs::<NdArray>(&[0], &dev).to_data(),
            idx.inputs::<NdArray>(&[first], &dev).to_data()
        );

        let job = crate::train::CnnJob::seed(); // Adam lr 1e-3, batch 64
        let mut cfg = job.train.clone();
        cfg.epochs = 2;
        let spec = RunSpec::new(
            &cfg,
            Objective::Classification { num_classes: 10 },
            ModelId::new("cnn", &job.model, "f32"),
        );
        type B = Autodiff<NdArray>;
        zoo_train::seed_backend::<B>(&dev, 42);
        let trained = fit(
            job.model.init::<B>(&dev),
            &train,
            None,
            Some(&test),
            spec,
            &dev,
        )
        .unwrap();
        let Some(Metrics::Classification(m)) = trained.report.test.map(|t| t.metrics) else {
            panic!("no classification metrics")
        };
        // The `cnn` binary on the same 3,000 digits for 2 epochs: 0.904.
        assert!(m.accuracy >= 0.88, "test accuracy {}", m.accuracy);
    }

    #[test]
    fn a_wrong_sized_image_is_refused_naming_its_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("7");
        std::fs::create_dir_all(&dir).unwrap();
        image::GrayImage::new(28, 28)
            .save(dir.join("a.png"))
            .unwrap();
        image::GrayImage::new(32, 28)
            .save(dir.join("b.png"))
            .unwrap();
        let err = FromBurn::new(
            ImageFolderDataset::new_classification(tmp.path()).unwrap(),
            FolderImages::mnist(),
        )
        .err()
        .unwrap();
        assert!(
            err.starts_with("item 1: ")
                && err.ends_with("b.png: 32x28 pixels, the CNN takes 28x28"),
            "{err}"
        );
    }
}
