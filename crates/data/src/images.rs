//! MNIST-format image classification data: where the files are found, and an in-memory
//! [`ImageDataset`] with optional seeded augmentation (random shifts and small rotations).

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::derive_seed;
use crate::data::{Dataset, Targets};
use crate::error::{DataError, DataResult};
use crate::idx::{ImageSet, load_image_set};

/// Standard IDX file names of the four MNIST-format files.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Which image dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ImageDatasetKind {
    /// Handwritten digits.
    Mnist,
    /// Zalando's clothing images.
    FashionMnist,
}

impl ImageDatasetKind {
    /// Class names.
    pub fn classes(self) -> [&'static str; 10] {
        match self {
            Self::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Self::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// Name used in reports and flags.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
        }
    }
}

/// The four files of a train/test pair.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxFiles {
    /// Training images, training labels, test images, test labels.
    pub paths: [PathBuf; 4],
}

/// Finds the four standard files in `dir`, raw or `.gz`, either side by side or in burn-dataset's
/// cache layout (`dir/train/…`, `dir/test/…`). The error lists what is missing.
pub fn find_idx_files(dir: &Path) -> DataResult<IdxFiles> {
    if !dir.is_dir() {
        return Err(DataError::format(
            dir,
            "not a directory (expected the four MNIST-format IDX files in it)",
        ));
    }
    let mut found = Vec::with_capacity(4);
    let mut missing = Vec::new();
    for (i, name) in FILES.iter().enumerate() {
        let sub = if i < 2 { "train" } else { "test" };
        let candidates = [
            dir.join(name),
            dir.join(format!("{name}.gz")),
            dir.join(sub).join(name),
            dir.join(sub).join(format!("{name}.gz")),
        ];
        match candidates.into_iter().find(|p| p.is_file()) {
            Some(p) => found.push(p),
            None => missing.push(format!("{name}[.gz]")),
        }
    }
    if !missing.is_empty() {
        return Err(DataError::format(
            dir,
            format!("missing {}", missing.join(", ")),
        ));
    }
    let paths: [PathBuf; 4] = found
        .try_into()
        .map_err(|_| DataError::format(dir, "internal: file count"))?;
    Ok(IdxFiles { paths })
}

/// Where a dataset was found.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// The files.
    pub files: IdxFiles,
    /// Human-readable origin, e.g. `full MNIST from ~/.cache/burn-dataset/mnist`.
    pub description: String,
    /// A one-line note to show the user when the run falls back to the bundled sample.
    pub note: Option<String>,
}

/// burn-dataset's MNIST cache (`~/.cache/burn-dataset/mnist`), where `--download` puts it.
pub fn burn_dataset_cache() -> Option<PathBuf> {
    dataset_cache(ImageDatasetKind::Mnist)
}

/// burn-dataset's cache folder for `kind`: `~/.cache/burn-dataset/mnist` (where burn-dataset's
/// `MnistDataset` and `--download` put MNIST) or `~/.cache/burn-dataset/fashion-mnist`
/// (`--download --dataset fashion-mnist`). Honours `XDG_CACHE_HOME`.
pub fn dataset_cache(kind: ImageDatasetKind) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("burn-dataset").join(kind.name()))
}

/// Debian's `dataset-fashion-mnist` package location.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// Resolves the data of `kind`: `--data DIR` if given; else the files in `cache` (burn-dataset's
/// cache for `kind`, see [`dataset_cache`]); else Fashion-MNIST from Debian's package, or for
/// MNIST the sample bundled in `bundled` (with a note saying so).
pub fn locate(
    kind: ImageDatasetKind,
    data: Option<&Path>,
    cache: Option<&Path>,
    bundled: &Path,
) -> DataResult<Located> {
    if let Some(dir) = data {
        return Ok(Located {
            files: find_idx_files(dir)?,
            description: format!("{} from {}", kind.name(), dir.display()),
            note: None,
        });
    }
    match kind {
        ImageDatasetKind::Mnist => {
            if let Some(cache) = cache
                && let Ok(files) = find_idx_files(cache)
            {
                return Ok(Located {
                    files,
                    description: format!("full MNIST from {}", cache.display()),
                    note: None,
                });
            }
            let files = find_idx_files(bundled)?;
            Ok(Located {
                files,
                description: format!("bundled MNIST sample ({})", bundled.display()),
                note: Some(format!(
                    "note: full MNIST not found in burn-dataset's cache; using the bundled sample \
                     ({}); give the directory of your own copy",
                    bundled.display()
                )),
            })
        }
        ImageDatasetKind::FashionMnist => {
            if let Some(files) = cache.and_then(|c| find_idx_files(c).ok()) {
                return Ok(Located {
                    description: format!("Fashion-MNIST from {}", files_dir(&files)),
                    files,
                    note: None,
                });
            }
            let dir = Path::new(DEBIAN_FASHION_MNIST);
            let files = find_idx_files(dir).map_err(|_| {
                DataError::format(
                    dir,
                    "Fashion-MNIST not found: install Debian's dataset-fashion-mnist, give the directory \
                     of your copy or download it (zoo_data::download)",
                )
            })?;
            Ok(Located {
                files,
                description: format!("Fashion-MNIST from {}", dir.display()),
                note: None,
            })
        }
    }
}

fn files_dir(files: &IdxFiles) -> String {
    let first = &files.paths[0];
    let dir = first.parent().unwrap_or(first);
    // burn-dataset's layout keeps the files in train/ and test/ under the dataset folder.
    let dir = if dir.ends_with("train") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    };
    dir.display().to_string()
}

/// Loads the train and test sets of `located`.
pub fn load(located: &Located) -> DataResult<(ImageSet, ImageSet)> {
    let [ti, tl, si, sl] = &located.files.paths;
    let train = load_image_set(ti, tl, 10)?;
    let test = load_image_set(si, sl, 10)?;
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(DataError::format(
            si,
            format!(
                "images are {}x{}, training images are {}x{}",
                test.rows, test.cols, train.rows, train.cols
            ),
        ));
    }
    Ok((train, test))
}

/// How [`load_splits`] cuts and normalises a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSplitSpec {
    /// Required image height and width.
    pub image_size: usize,
    /// Keep only the first N training images (quick runs).
    pub train_limit: Option<usize>,
    /// Fraction of the training images held out for validation (seeded); 0 for none.
    pub valid_fraction: f64,
    /// Seed of the validation split.
    pub seed: u64,
    /// Normalisation `(x / 255 - mean) / std`.
    pub mean: f32,
    /// See `mean`.
    pub std: f32,
}

/// The normalised training, validation and test sets of a dataset, and where they came from.
pub struct ImageSplits {
    /// Training images.
    pub train: ImageDataset,
    /// Validation images (carved from train; the test set is never used for selection).
    pub valid: Option<ImageDataset>,
    /// Test images.
    pub test: ImageDataset,
    /// Where they came from.
    pub description: String,
    /// The fallback note, when the bundled sample is used.
    pub note: Option<String>,
}

/// Finds ([`locate`]) and loads `kind`, checks the image size, and cuts it as `spec` says.
pub fn load_splits(
    kind: ImageDatasetKind,
    data: Option<&Path>,
    bundled: &Path,
    spec: &ImageSplitSpec,
) -> DataResult<ImageSplits> {
    let cache = dataset_cache(kind);
    let located = locate(kind, data, cache.as_deref(), bundled)?;
    let (train_set, test_set) = load(&located)?;
    if (train_set.rows, train_set.cols) != (spec.image_size, spec.image_size) {
        return Err(DataError::format(
            &located.files.paths[0],
            format!(
                "images are {}x{}, the model takes {2}x{2}",
                train_set.rows, train_set.cols, spec.image_size
            ),
        ));
    }
    let mut train = ImageDataset::new(&train_set, spec.mean, spec.std);
    if let Some(n) = spec.train_limit {
        let idx: Vec<usize> = (0..n.min(train.len())).collect();
        train = train.subset(&idx);
    }
    let (train, valid) = if spec.valid_fraction > 0.0 {
        let (t, v) = train.split_validation(spec.valid_fraction, spec.seed);
        (t, Some(v))
    } else {
        (train, None)
    };
    Ok(ImageSplits {
        train,
        valid,
        test: ImageDataset::new(&test_set, spec.mean, spec.std),
        description: located.description,
        note: located.note,
    })
}

/// Seeded augmentation of training images.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augment {
    /// Largest shift in pixels, each axis.
    pub max_shift: f32,
    /// Largest rotation in degrees, either way.
    pub max_degrees: f32,
    /// Seed; each sample's transform depends on (seed, epoch, sample index) only.
    pub seed: u64,
}

/// Grayscale images in memory, normalised as `(x / 255 - mean) / std`; inputs are
/// `[batch, 1, rows, cols]` tensors.
#[derive(Clone, Debug)]
pub struct ImageDataset {
    images: Vec<u8>,
    rows: usize,
    cols: usize,
    targets: Targets,
    mean: f32,
    std: f32,
    augment: Option<Augment>,
}

impl ImageDataset {
    /// Wraps `set`, normalising with `mean` and `std` (MNIST seed: 0.5, 0.5).
    pub fn new(set: &ImageSet, mean: f32, std: f32) -> Self {
        Self {
            images: set.images.clone(),
            rows: set.rows,
            cols: set.cols,
            targets: Targets::Classes(set.labels.iter().map(|&l| l as usize).collect()),
            mean,
            std,
            augment: None,
        }
    }

    /// Enables augmentation of training batches.
    pub fn with_augment(mut self, augment: Option<Augment>) -> Self {
        self.augment = augment;
        self
    }

    /// The samples `indices`, as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let px = self.rows * self.cols;
        Self {
            images: crate::data::gather_rows(&self.images, px, indices),
            targets: self.targets.select(indices),
            ..self.clone()
        }
    }

    /// Splits off a seeded random `fraction` for validation: `(train, valid)`.
    pub fn split_validation(&self, fraction: f64, seed: u64) -> (Self, Self) {
        let (train, valid) = crate::data::validation_split(self.len(), fraction, seed);
        (self.subset(&train), self.subset(&valid))
    }

    /// Image height and width.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Raw pixels of sample `i`.
    pub fn pixels(&self, i: usize) -> &[u8] {
        let px = self.rows * self.cols;
        &self.images[i * px..(i + 1) * px]
    }

    /// Image height.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Image width.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Pixels of sample `i`, normalised as the model sees them (not augmented).
    pub fn normalised(&self, i: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows * self.cols);
        self.normalise(self.pixels(i).iter().map(|&p| p as f32), &mut out);
        out
    }

    /// Class of sample `i`.
    pub fn label(&self, i: usize) -> usize {
        match &self.targets {
            Targets::Classes(c) => c[i],
            Targets::Values { .. } => 0,
        }
    }

    fn normalise(&self, pixels: impl Iterator<Item = f32>, out: &mut Vec<f32>) {
        let (m, s) = (self.mean, self.std);
        out.extend(pixels.map(|p| (p / 255.0 - m) / s));
    }

    fn tensor<B: Backend>(&self, data: Vec<f32>, n: usize, device: &B::Device) -> Tensor<B, 4> {
        Tensor::from_data(TensorData::new(data, [n, 1, self.rows, self.cols]), device)
    }
}

/// Shifts and rotates a `rows x cols` image about its centre (bilinear, zero outside).
pub fn transform_image(
    src: &[u8],
    rows: usize,
    cols: usize,
    dx: f32,
    dy: f32,
    degrees: f32,
) -> Vec<f32> {
    let (s, c) = degrees.to_radians().sin_cos();
    let (cy, cx) = ((rows as f32 - 1.0) / 2.0, (cols as f32 - 1.0) / 2.0);
    let at = |y: isize, x: isize| -> f32 {
        if y < 0 || x < 0 || y >= rows as isize || x >= cols as isize {
            0.0
        } else {
            src[y as usize * cols + x as usize] as f32
        }
    };
    let mut out = Vec::with_capacity(rows * cols);
    for y in 0..rows {
        for x in 0..cols {
            // Inverse map: output pixel -> source position.
            let (u, v) = (x as f32 - cx - dx, y as f32 - cy - dy);
            let sx = c * u + s * v + cx;
            let sy = -s * u + c * v + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let v = at(y0, x0) * (1.0 - fx) * (1.0 - fy)
                + at(y0, x0 + 1) * fx * (1.0 - fy)
                + at(y0 + 1, x0) * (1.0 - fx) * fy
                + at(y0 + 1, x0 + 1) * fx * fy;
            out.push(v);
        }
    }
    out
}

impl Dataset for ImageDataset {
    type Input<B: Backend> = Tensor<B, 4>;

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> Tensor<B, 4> {
        let mut data = Vec::with_capacity(indices.len() * self.rows * self.cols);
        for &i in indices {
            self.normalise(self.pixels(i).iter().map(|&p| p as f32), &mut data);
        }
        self.tensor(data, indices.len(), device)
    }

    fn train_inputs<B: Backend>(
        &self,
        indices: &[usize],
        epoch: usize,
        device: &B::Device,
    ) -> Tensor<B, 4> {
        let Some(a) = self.augment else {
            return self.inputs(indices, device);
        };
        let mut data = Vec::with_capacity(indices.len() * self.rows * self.cols);
        for &i in indices {
            let mut rng =
                ChaCha8Rng::seed_from_u64(derive_seed(a.seed, ((epoch as u64) << 32) | i as u64));
            let dx = rng.random_range(-a.max_shift..=a.max_shift);
            let dy = rng.random_range(-a.max_shift..=a.max_shift);
            let deg = rng.random_range(-a.max_degrees..=a.max_degrees);
            let img = transform_image(self.pixels(i), self.rows, self.cols, dx, dy, deg);
            self.normalise(img.into_iter(), &mut data);
        }
        self.tensor(data, indices.len(), device)
    }

    fn targets(&self) -> &Targets {
        &self.targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::write_idx;
    use zoo_ndarray::NdArray;

    fn write_set(dir: &Path, n: usize, gz: bool) {
        let ext = if gz { ".gz" } else { "" };
        let imgs: Vec<u8> = (0..n * 16).map(|i| (i % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        for (name, dims, data) in [
            (FILES[0], vec![n, 4, 4], &imgs),
            (FILES[1], vec![n], &labels),
            (FILES[2], vec![n, 4, 4], &imgs),
            (FILES[3], vec![n], &labels),
        ] {
            write_idx(&dir.join(format!("{name}{ext}")), &dims, data, gz).unwrap();
        }
    }

    #[test]
    fn finds_raw_gz_and_cache_layouts() {
        let d = tempfile::tempdir().unwrap();
        write_set(d.path(), 3, true);
        assert!(find_idx_files(d.path()).unwrap().paths[0].ends_with("train-images-idx3-ubyte.gz"));
        let c = tempfile::tempdir().unwrap();
        for sub in ["train", "test"] {
            std::fs::create_dir_all(c.path().join(sub)).unwrap();
        }
        write_set(&c.path().join("train"), 3, false);
        std::fs::rename(
            c.path().join("train").join(FILES[2]),
            c.path().join("test").join(FILES[2]),
        )
        .unwrap();
        std::fs::rename(
            c.path().join("train").join(FILES[3]),
            c.path().join("test").join(FILES[3]),
        )
        .unwrap();
        let f = find_idx_files(c.path()).unwrap();
        assert!(f.paths[2].ends_with("test/t10k-images-idx3-ubyte"));
        let (train, test) = load(&Located {
            files: f,
            description: String::new(),
            note: None,
        })
        .unwrap();
        assert_eq!((train.len(), test.len(), train.rows), (3, 3, 4));
    }

    #[test]
    fn missing_files_are_listed() {
        let d = tempfile::tempdir().unwrap();
        let err = find_idx_files(d.path()).unwrap_err().to_string();
        assert!(
            err.contains("missing train-images-idx3-ubyte[.gz]") && err.contains("t10k-labels"),
            "{err}"
        );
        let err = locate(
            ImageDatasetKind::Mnist,
            Some(&d.path().join("nope")),
            None,
            d.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn bundled_sample_is_found_with_a_note() {
        let bundled = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/mnist-sample"
        ));
        let empty = tempfile::tempdir().unwrap();
        let loc = locate(ImageDatasetKind::Mnist, None, Some(empty.path()), bundled).unwrap();
        assert!(loc.note.as_deref().unwrap().contains("bundled sample"));
        assert!(loc.description.starts_with("bundled MNIST sample"));
        // A cache that holds the files wins over the bundled sample.
        let cached = locate(ImageDatasetKind::Mnist, None, Some(bundled), empty.path()).unwrap();
        assert!(cached.description.starts_with("full MNIST") && cached.note.is_none());
        // Fashion-MNIST in the cache (burn-dataset's train/ test/ layout, as --download writes).
        let cache = tempfile::tempdir().unwrap();
        for name in FILES {
            let split = if name.starts_with("train") {
                "train"
            } else {
                "test"
            };
            std::fs::create_dir_all(cache.path().join(split)).unwrap();
            std::fs::copy(
                bundled.join(format!("{name}.gz")),
                cache.path().join(split).join(format!("{name}.gz")),
            )
            .unwrap();
        }
        let fashion = locate(
            ImageDatasetKind::FashionMnist,
            None,
            Some(cache.path()),
            empty.path(),
        )
        .unwrap();
        assert_eq!(
            fashion.description,
            format!("Fashion-MNIST from {}", cache.path().display())
        );
        let (train, test) = load(&loc).unwrap();
        assert_eq!(
            (train.len(), test.len(), train.rows, train.cols),
            (3000, 1000, 28, 28)
        );
        assert!(train.labels.iter().all(|&l| l <= 9));
    }

    #[test]
    fn normalisation_and_shapes() {
        let set = ImageSet {
            images: vec![0, 255, 51, 102],
            labels: vec![3],
            rows: 2,
            cols: 2,
        };
        let ds = ImageDataset::new(&set, 0.5, 0.5);
        let x = ds.inputs::<NdArray>(&[0], &Default::default());
        assert_eq!(x.dims(), [1, 1, 2, 2]);
        let v = x.into_data().to_vec::<f32>().unwrap();
        let want = [-1.0, 1.0, -0.6, -0.2];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{v:?}");
        }
    }

    #[test]
    fn identity_transform_and_shift() {
        let src: Vec<u8> = (0..25).map(|i| i as u8 * 10).collect();
        let same = transform_image(&src, 5, 5, 0.0, 0.0, 0.0);
        assert!(
            same.iter()
                .zip(&src)
                .all(|(a, &b)| (a - b as f32).abs() < 1e-4)
        );
        let shifted = transform_image(&src, 5, 5, 1.0, 0.0, 0.0);
        // Shifted one pixel right: column 0 is empty, column 1 holds the old column 0.
        assert_eq!(shifted[0], 0.0);
        assert!((shifted[1] - src[0] as f32).abs() < 1e-4);
        let rotated = transform_image(&src, 5, 5, 0.0, 0.0, 90.0);
        assert!((rotated[12] - src[12] as f32).abs() < 1e-3, "centre stays");
    }

    #[test]
    fn augmentation_is_seeded_and_per_epoch() {
        let set = ImageSet {
            images: (0..784).map(|i| (i % 251) as u8).collect(),
            labels: vec![1],
            rows: 28,
            cols: 28,
        };
        let aug = Augment {
            max_shift: 2.0,
            max_degrees: 10.0,
            seed: 7,
        };
        let ds = ImageDataset::new(&set, 0.5, 0.5).with_augment(Some(aug));
        let d = Default::default();
        let a = ds
            .train_inputs::<NdArray>(&[0], 1, &d)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let b = ds
            .train_inputs::<NdArray>(&[0], 1, &d)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let c = ds
            .train_inputs::<NdArray>(&[0], 2, &d)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let plain = ds
            .inputs::<NdArray>(&[0], &d)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, plain);
    }

    #[test]
    fn validation_split_is_disjoint_and_seeded() {
        let set = ImageSet {
            images: vec![0; 100 * 4],
            labels: (0..100).map(|i| (i % 10) as u8).collect(),
            rows: 2,
            cols: 2,
        };
        let ds = ImageDataset::new(&set, 0.5, 0.5);
        let (tr, va) = ds.split_validation(0.1, 3);
        assert_eq!((tr.len(), va.len()), (90, 10));
        let (tr2, _) = ds.split_validation(0.1, 3);
        assert_eq!(tr.targets, tr2.targets);
    }
}
