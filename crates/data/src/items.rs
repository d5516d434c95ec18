//! The zoo's data as burn-dataset sees it, and any burn-dataset data as the zoo's loop sees it.
//!
//! - Every zoo data source is a [`burn::data::dataset::Dataset`] of a documented item:
//!   [`FeatureDataset`] of [`FeatureItem`]s (tables, two moons), [`ImageDataset`] of
//!   [`ImageItem`]s, [`TextDataset`] of [`SentenceItem`]s, [`SequenceDataset`] and [`RowImages`]
//!   of [`SequenceItem`]s (row-MNIST, the adding problem, series windows). So burn's own
//!   combinators (`ShuffledDataset`, `PartialDataset`, `MapperDataset`, ...) and its
//!   `DataLoader` work on them.
//! - A [`Collate`] turns items into one model input, for any backend, and reads each item's
//!   target; [`Batcher`] makes it burn's `Batcher` (items to a [`Batch`] of inputs and targets),
//!   the batch burn-train's `Learner` steps on.
//! - [`FromBurn`] is the adapter the other way: any burn `Dataset<I>` plus a [`Collate<I>`] is a
//!   zoo [`crate::Dataset`], so the zoo's loop (`zoo_train::fit`) trains a zoo model on a user's
//!   `InMemDataset::from_csv`, an `ImageFolderDataset` or their own dataset without converting
//!   it. It reads every item once when built, to check its shape and collect the targets the
//!   loop's metrics need.
//!
//! Why [`Collate`] and not burn's `Batcher` alone: burn's `Batcher<B, I, O>` is a trait per
//! backend, and the zoo's loop needs one batcher that serves the autodiff backend (training) and
//! its inner backend (evaluation), which a bound cannot say of burn's trait; [`Collate`] is
//! generic per call, and [`Batcher`] implements burn's trait for every backend from it.

use std::marker::PhantomData;

use burn::data::dataloader::batcher::Batcher as BurnBatcher;
use burn::data::dataset::Dataset as BurnDataset;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, FeatureDataset, TargetTensor, Targets};
use crate::images::ImageDataset;
use crate::sequence::{RowImages, SequenceDataset};
use crate::text::TextDataset;

/// The target of one item: a class index or regression values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// A class index (`0..num_classes`).
    Class(usize),
    /// Regression values (one or more).
    Values(Vec<f32>),
}

/// One row of a [`FeatureDataset`]: its features (standardised where the dataset is) and its
/// target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureItem {
    /// The feature values.
    pub features: Vec<f32>,
    /// The class or regression values.
    pub target: Target,
}

/// One image of an [`ImageDataset`]: `rows * cols` grey pixels, row-major, normalised as the
/// dataset normalises them (`(p / 255 - mean) / std`; not augmented), and its class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageItem {
    /// Normalised pixels, row after row.
    pub pixels: Vec<f32>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// Class index.
    pub label: usize,
}

/// One sentence of a [`TextDataset`]: its token ids (at least one, in the dataset's
/// vocabulary) and its class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentenceItem {
    /// Token ids.
    pub tokens: Vec<u32>,
    /// Class index.
    pub label: usize,
}

/// One fixed-length sequence of a [`SequenceDataset`] or [`RowImages`]: `steps * features`
/// values, step after step, and its target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceItem {
    /// The values, step after step.
    pub values: Vec<f32>,
    /// Time steps.
    pub steps: usize,
    /// Values per step.
    pub features: usize,
    /// The class or regression values.
    pub target: Target,
}

fn target_of(targets: &Targets, i: usize) -> Target {
    match targets {
        Targets::Classes(c) => Target::Class(c[i]),
        Targets::Values { values, dim } => Target::Values(values[i * dim..(i + 1) * dim].to_vec()),
    }
}

impl BurnDataset<FeatureItem> for FeatureDataset {
    fn get(&self, index: usize) -> Option<FeatureItem> {
        (index < self.targets.len()).then(|| FeatureItem {
            features: self.row(index).to_vec(),
            target: target_of(&self.targets, index),
        })
    }

    fn len(&self) -> usize {
        self.targets.len()
    }
}

impl BurnDataset<ImageItem> for ImageDataset {
    fn get(&self, index: usize) -> Option<ImageItem> {
        (index < Dataset::len(self)).then(|| ImageItem {
            pixels: self.normalised(index),
            rows: self.rows(),
            cols: self.cols(),
            label: self.label(index),
        })
    }

    fn len(&self) -> usize {
        Dataset::len(self)
    }
}

impl BurnDataset<SentenceItem> for TextDataset {
    fn get(&self, index: usize) -> Option<SentenceItem> {
        let tokens = self.ids.get(index)?.clone();
        match target_of(&self.targets, index) {
            Target::Class(label) => Some(SentenceItem { tokens, label }),
            Target::Values(_) => None,
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

impl BurnDataset<SequenceItem> for SequenceDataset {
    fn get(&self, index: usize) -> Option<SequenceItem> {
        (index < self.targets.len()).then(|| SequenceItem {
            values: self.sample(index).to_vec(),
            steps: self.steps,
            features: self.features,
            target: target_of(&self.targets, index),
        })
    }

    fn len(&self) -> usize {
        self.targets.len()
    }
}

impl BurnDataset<SequenceItem> for RowImages {
    fn get(&self, index: usize) -> Option<SequenceItem> {
        let image: ImageItem = self.0.get(index)?;
        Some(SequenceItem {
            values: image.pixels,
            steps: image.rows,
            features: image.cols,
            target: Target::Class(image.label),
        })
    }

    fn len(&self) -> usize {
        Dataset::len(&self.0)
    }
}

/// Items to one model input, for any backend; and each item's target.
///
/// Implement it for your own item type to train a zoo model on your own burn dataset
/// ([`FromBurn`]), or use the ones here for the zoo's items.
pub trait Collate<I>: Send + Sync {
    /// The model input a batch of items makes on backend `B`.
    type Input<B: Backend>;

    /// Checks one item's shape and returns its target; the error says what is wrong in one
    /// line (the caller names the item).
    fn target(&self, item: &I) -> Result<Target, String>;

    /// The model input of `items`, each of which [`Collate::target`] accepted.
    fn inputs<B: Backend>(&self, items: Vec<I>, device: &B::Device) -> Self::Input<B>;
}

/// A batch of model inputs and their targets: what burn-train's `TrainStep` and
/// `InferenceStep` of the zoo's models take.
#[derive(Clone, Debug)]
pub struct Batch<B: Backend, X> {
    /// The model input.
    pub inputs: X,
    /// The targets.
    pub targets: TargetTensor<B>,
}

/// Burn's [`Batcher`](BurnBatcher) for every backend, from a [`Collate`].
///
/// # Panics
///
/// On an item its collate rejects (burn's batcher cannot return an error): check a dataset
/// first, as [`FromBurn::new`] does, or use items the zoo's own datasets made.
#[derive(Clone, Copy, Debug, Default)]
pub struct Batcher<C>(pub C);

impl<B: Backend, I, C: Collate<I>> BurnBatcher<B, I, Batch<B, C::Input<B>>> for Batcher<C> {
    fn batch(&self, items: Vec<I>, device: &B::Device) -> Batch<B, C::Input<B>> {
        let targets: Vec<Target> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                self.0
                    .target(item)
                    .unwrap_or_else(|e| panic!("item {i} of the batch: {e}"))
            })
            .collect();
        let targets = collect_targets(&targets)
            .unwrap_or_else(|e| panic!("{e}"))
            .tensor(&(0..items.len()).collect::<Vec<_>>(), device);
        Batch {
            inputs: self.0.inputs(items, device),
            targets,
        }
    }
}

/// The items' targets as one [`Targets`]: all classes, or all values of one width.
fn collect_targets(targets: &[Target]) -> Result<Targets, String> {
    match targets.first() {
        None | Some(Target::Class(_)) => targets
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                Target::Class(c) => Ok(*c),
                Target::Values(_) => Err(format!(
                    "item {i} has regression values, the first item a class"
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Targets::Classes),
        Some(Target::Values(first)) => {
            let dim = first.len();
            if dim == 0 {
                return Err("item 0 has an empty target".into());
            }
            let mut values = Vec::with_capacity(targets.len() * dim);
            for (i, t) in targets.iter().enumerate() {
                match t {
                    Target::Values(v) if v.len() == dim => values.extend_from_slice(v),
                    Target::Values(v) => {
                        return Err(format!(
                            "item {i} has {} target values, item 0 has {dim}",
                            v.len()
                        ));
                    }
                    Target::Class(_) => {
                        return Err(format!(
                            "item {i} has a class, the first item regression values"
                        ));
                    }
                }
            }
            Ok(Targets::Values { values, dim })
        }
    }
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{got} {what}, expected {want}"))
    }
}

/// [`FeatureItem`]s to a `[batch, width]` tensor (the MLP's input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Features per item.
    pub width: usize,
}

impl Collate<FeatureItem> for Features {
    type Input<B: Backend> = Tensor<B, 2>;

    fn target(&self, item: &FeatureItem) -> Result<Target, String> {
        check_len("features", item.features.len(), self.width)?;
        Ok(item.target.clone())
    }

    fn inputs<B: Backend>(&self, items: Vec<FeatureItem>, device: &B::Device) -> Tensor<B, 2> {
        let n = items.len();
        let values: Vec<f32> = items.into_iter().flat_map(|i| i.features).collect();
        Tensor::from_data(TensorData::new(values, [n, self.width]), device)
    }
}

/// [`ImageItem`]s to a `[batch, 1, rows, cols]` tensor (the CNN's input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Images {
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Collate<ImageItem> for Images {
    type Input<B: Backend> = Tensor<B, 4>;

    fn target(&self, item: &ImageItem) -> Result<Target, String> {
        if (item.rows, item.cols) != (self.rows, self.cols) {
            return Err(format!(
                "a {}x{} image, expected {}x{}",
                item.rows, item.cols, self.rows, self.cols
            ));
        }
        check_len("pixels", item.pixels.len(), self.rows * self.cols)?;
        Ok(Target::Class(item.label))
    }

    fn inputs<B: Backend>(&self, items: Vec<ImageItem>, device: &B::Device) -> Tensor<B, 4> {
        let n = items.len();
        let values: Vec<f32> = items.into_iter().flat_map(|i| i.pixels).collect();
        Tensor::from_data(
            TensorData::new(values, [n, 1, self.rows, self.cols]),
            device,
        )
    }
}

/// [`SequenceItem`]s to a `[batch, steps, features]` tensor (the recurrent models' dense
/// input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequences {
    /// Time steps per item.
    pub steps: usize,
    /// Values per step.
    pub features: usize,
}

impl Collate<SequenceItem> for Sequences {
    type Input<B: Backend> = Tensor<B, 3>;

    fn target(&self, item: &SequenceItem) -> Result<Target, String> {
        if (item.steps, item.features) != (self.steps, self.features) {
            return Err(format!(
                "{} steps of {} values, expected {} of {}",
                item.steps, item.features, self.steps, self.features
            ));
        }
        check_len("values", item.values.len(), self.steps * self.features)?;
        Ok(item.target.clone())
    }

    fn inputs<B: Backend>(&self, items: Vec<SequenceItem>, device: &B::Device) -> Tensor<B, 3> {
        let n = items.len();
        let values: Vec<f32> = items.into_iter().flat_map(|i| i.values).collect();
        Tensor::from_data(
            TensorData::new(values, [n, self.steps, self.features]),
            device,
        )
    }
}

/// [`SentenceItem`]s to a padded [`zoo_kernels::sequence::TokenBatch`] (the recurrent models'
/// text input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sentences {
    /// The vocabulary size: every token id must be below it.
    pub vocab_size: usize,
}

impl Collate<SentenceItem> for Sentences {
    type Input<B: Backend> = zoo_kernels::sequence::TokenBatch<B>;

    fn target(&self, item: &SentenceItem) -> Result<Target, String> {
        if item.tokens.is_empty() {
            return Err("an empty sentence".into());
        }
        if let Some(t) = item.tokens.iter().find(|&&t| t as usize >= self.vocab_size) {
            return Err(format!(
                "token id {t}, outside the vocabulary of {}",
                self.vocab_size
            ));
        }
        Ok(Target::Class(item.label))
    }

    fn inputs<B: Backend>(
        &self,
        items: Vec<SentenceItem>,
        device: &B::Device,
    ) -> zoo_kernels::sequence::TokenBatch<B> {
        let rows: Vec<&[u32]> = items.iter().map(|i| i.tokens.as_slice()).collect();
        TextDataset::batch(&rows, device)
    }
}

/// Any burn `Dataset<I>` with a [`Collate<I>`], as a zoo [`Dataset`] the zoo's loop trains on.
///
/// ```
/// use burn::data::dataset::InMemDataset;
/// use zoo_data::items::{FeatureItem, Features, FromBurn, Target};
/// use zoo_data::Dataset;
///
/// let rows = vec![
///     FeatureItem { features: vec![0.0, 1.0], target: Target::Class(0) },
///     FeatureItem { features: vec![1.0, 0.0], target: Target::Class(1) },
/// ];
/// let data = FromBurn::new(InMemDataset::new(rows), Features { width: 2 }).unwrap();
/// assert_eq!(data.len(), 2);
/// let x = data.inputs::<zoo_ndarray::NdArray>(&[1, 0], &Default::default());
/// assert_eq!(x.dims(), [2, 2]);
/// ```
pub struct FromBurn<D, I, C> {
    dataset: D,
    collate: C,
    targets: Targets,
    item: PhantomData<fn() -> I>,
}

impl<D: BurnDataset<I>, I, C: Collate<I>> FromBurn<D, I, C> {
    /// Wraps `dataset`, reading every item once: each must be there and of the collate's
    /// shape, and the targets all classes or all values of one width. The error names the
    /// first item that is not.
    pub fn new(dataset: D, collate: C) -> Result<Self, String> {
        let n = dataset.len();
        if n == 0 {
            return Err("the dataset is empty".into());
        }
        let mut targets = Vec::with_capacity(n);
        for i in 0..n {
            let item = dataset
                .get(i)
                .ok_or_else(|| format!("item {i} of {n} is missing (get returned None)"))?;
            targets.push(
                collate
                    .target(&item)
                    .map_err(|e| format!("item {i}: {e}"))?,
            );
        }
        let targets = collect_targets(&targets)?;
        Ok(Self {
            dataset,
            collate,
            targets,
            item: PhantomData,
        })
    }

    /// The wrapped burn dataset.
    pub fn inner(&self) -> &D {
        &self.dataset
    }
}

impl<D: BurnDataset<I>, I, C: Collate<I>> Dataset for FromBurn<D, I, C> {
    type Input<B: Backend> = C::Input<B>;

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> C::Input<B> {
        // `new` read every index once, so only a dataset that changes underneath fails here.
        let items = indices
            .iter()
            .map(|&i| {
                self.dataset
                    .get(i)
                    .unwrap_or_else(|| panic!("item {i} disappeared from the dataset"))
            })
            .collect();
        self.collate.inputs(items, device)
    }

    fn targets(&self) -> &Targets {
        &self.targets
    }
}

/// A recurrent model's input, dense or tokens: the one input type its burn-train steps take,
/// whichever task it trains on.
#[derive(Clone, Debug)]
pub enum SequenceInput<B: Backend> {
    /// `[batch, steps, features]` values (row-MNIST, the adding problem, series windows).
    Values(Tensor<B, 3>),
    /// Padded token ids (sentences).
    Tokens(zoo_kernels::sequence::TokenBatch<B>),
}

/// Any of the zoo's sequence datasets, with [`SequenceInput`] as its input.
#[derive(Clone, Debug)]
pub enum SequenceSet {
    /// Images read row by row.
    Rows(RowImages),
    /// Dense sequences.
    Dense(SequenceDataset),
    /// Sentences.
    Text(TextDataset),
}

impl Dataset for SequenceSet {
    type Input<B: Backend> = SequenceInput<B>;

    fn len(&self) -> usize {
        match self {
            SequenceSet::Rows(d) => Dataset::len(d),
            SequenceSet::Dense(d) => Dataset::len(d),
            SequenceSet::Text(d) => Dataset::len(d),
        }
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> SequenceInput<B> {
        match self {
            SequenceSet::Rows(d) => SequenceInput::Values(d.inputs(indices, device)),
            SequenceSet::Dense(d) => SequenceInput::Values(d.inputs(indices, device)),
            SequenceSet::Text(d) => SequenceInput::Tokens(d.inputs(indices, device)),
        }
    }

    fn train_inputs<B: Backend>(
        &self,
        indices: &[usize],
        epoch: usize,
        device: &B::Device,
    ) -> SequenceInput<B> {
        match self {
            SequenceSet::Rows(d) => SequenceInput::Values(d.train_inputs(indices, epoch, device)),
            SequenceSet::Dense(d) => SequenceInput::Values(d.train_inputs(indices, epoch, device)),
            SequenceSet::Text(d) => SequenceInput::Tokens(d.train_inputs(indices, epoch, device)),
        }
    }

    fn targets(&self) -> &Targets {
        match self {
            SequenceSet::Rows(d) => d.targets(),
            SequenceSet::Dense(d) => d.targets(),
            SequenceSet::Text(d) => d.targets(),
        }
    }
}

/// Class indices of a batch, for a caller building its own [`Batch`].
pub fn class_tensor<B: Backend>(classes: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = classes.iter().map(|&c| c as i64).collect();
    Tensor::from_data(TensorData::new(v, [classes.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataset::InMemDataset;
    use zoo_ndarray::NdArray;

    fn moons_like() -> FeatureDataset {
        FeatureDataset::new(
            vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5],
            2,
            Targets::Classes(vec![0, 1, 1]),
        )
        .unwrap()
    }

    #[test]
    fn a_zoo_dataset_is_a_burn_dataset_of_its_items() {
        let d = moons_like();
        let item: FeatureItem = BurnDataset::get(&d, 1).unwrap();
        assert_eq!(
            item,
            FeatureItem {
                features: vec![1.0, 0.0],
                target: Target::Class(1)
            }
        );
        assert!(BurnDataset::<FeatureItem>::get(&d, 3).is_none());
        // Burn's DataLoader batches it through the zoo's batcher.
        let loader = DataLoaderBuilder::new(Batcher(Features { width: 2 }))
            .batch_size(2)
            .build(d);
        let batches: Vec<Batch<NdArray, Tensor<NdArray, 2>>> = loader.iter().collect();
        assert_eq!(batches.len(), 2);
        assert_eq!(
            batches[0].inputs.to_data().to_vec::<f32>().unwrap(),
            vec![0.0, 1.0, 1.0, 0.0]
        );
        let TargetTensor::Classes(t) = &batches[1].targets else {
            panic!("classes expected")
        };
        assert_eq!(t.to_data().to_vec::<i64>().unwrap(), vec![1]);
    }

    #[test]
    fn the_adapter_gives_the_zoo_loop_the_same_batches() {
        let d = moons_like();
        let rows: Vec<FeatureItem> = (0..3).filter_map(|i| BurnDataset::get(&d, i)).collect();
        let adapted = FromBurn::new(InMemDataset::new(rows), Features { width: 2 }).unwrap();
        assert_eq!(adapted.targets(), d.targets());
        let dev = Default::default();
        assert_eq!(
            adapted.inputs::<NdArray>(&[2, 0], &dev).to_data(),
            d.inputs::<NdArray>(&[2, 0], &dev).to_data()
        );
    }

    #[test]
    fn bad_items_are_refused_naming_the_item() {
        let err = |items: Vec<FeatureItem>| {
            FromBurn::new(InMemDataset::new(items), Features { width: 2 })
                .err()
                .unwrap()
        };
        assert_eq!(err(vec![]), "the dataset is empty");
        let ok = FeatureItem {
            features: vec![0.0, 1.0],
            target: Target::Class(0),
        };
        let short = FeatureItem {
            features: vec![0.0],
            target: Target::Class(1),
        };
        assert_eq!(
            err(vec![ok.clone(), short]),
            "item 1: 1 features, expected 2"
        );
        let values = FeatureItem {
            features: vec![0.0, 1.0],
            target: Target::Values(vec![0.5]),
        };
        assert_eq!(
            err(vec![ok, values]),
            "item 1 has regression values, the first item a class"
        );
    }

    #[test]
    fn images_sentences_and_sequences_round_trip_through_their_items() {
        use crate::idx::ImageSet;
        let set = ImageSet {
            images: (0..8).map(|p| p * 30).collect(),
            labels: vec![3, 7],
            rows: 2,
            cols: 2,
        };
        let images = ImageDataset::new(&set, 0.5, 0.5);
        let item: ImageItem = BurnDataset::get(&images, 1).unwrap();
        assert_eq!(item.label, 7);
        assert_eq!(item.rows, 2);
        let dev = Default::default();
        let via_items = Images { rows: 2, cols: 2 }.inputs::<NdArray>(
            (0..2)
                .filter_map(|i| BurnDataset::get(&images, i))
                .collect(),
            &dev,
        );
        assert_eq!(
            via_items.to_data(),
            images.inputs::<NdArray>(&[0, 1], &dev).to_data()
        );
        let rows = RowImages(images);
        let seq: SequenceItem = BurnDataset::get(&rows, 0).unwrap();
        assert_eq!((seq.steps, seq.features), (2, 2));
        assert_eq!(seq.target, Target::Class(3));

        let text = TextDataset {
            ids: vec![vec![2, 3], vec![4]],
            targets: Targets::Classes(vec![1, 0]),
        };
        let s: SentenceItem = BurnDataset::get(&text, 1).unwrap();
        assert_eq!(
            s,
            SentenceItem {
                tokens: vec![4],
                label: 0
            }
        );
        let err = FromBurn::new(text.clone(), Sentences { vocab_size: 4 })
            .err()
            .unwrap();
        assert_eq!(err, "item 1: token id 4, outside the vocabulary of 4");
        let batch = FromBurn::new(text, Sentences { vocab_size: 5 })
            .unwrap()
            .inputs::<NdArray>(&[0, 1], &dev);
        assert_eq!(batch.lengths, vec![2, 1]);
    }
}
