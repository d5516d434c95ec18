//! # zoo-data
//!
//! burn-zoo's data sources and preprocessing: IDX image sets (MNIST, Fashion-MNIST), labelled
//! sentences with a tokenizer and vocabulary, CSV tables, series windows, synthetic sets (two
//! moons, the adding problem), splits and scalers. Each source yields model inputs as Burn
//! tensors for any backend through [`Dataset`], and is a burn-dataset `Dataset` of a documented
//! item ([`items`], with the adapter that trains the zoo's loop on any burn dataset). Downloads are behind the `download` feature,
//! the only code here that touches the network.

pub mod charlm;
pub mod data;
#[cfg(feature = "download")]
pub mod download;
pub mod error;
pub mod forecast;
pub mod fs;
pub mod idx;
pub mod images;
pub mod items;
pub mod numpy_rng;
pub mod preprocess;
pub mod progress;
pub mod sequence;
pub mod synthetic;
pub mod table;
pub mod text;

pub use data::{Dataset, FeatureDataset, Objective, Predict, Targets, derive_seed};
pub use error::DataError;
pub use progress::ProgressMode;
