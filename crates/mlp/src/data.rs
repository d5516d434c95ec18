//! The MLP's data: two moons (the seed's task) and CSV regression, split train / validation /
//! test and standardised on the training rows.

use zoo_data::DataError;
use zoo_data::data::{FeatureDataset, Targets};
use zoo_data::preprocess::{StandardScaler, train_test_split};
use zoo_data::synthetic::make_moons;
use zoo_data::table::read_csv;

/// A train/validation/test split of standardised features, with the scaler fitted on train.
#[derive(Clone, Debug)]
pub struct Splits {
    /// Training set.
    pub train: FeatureDataset,
    /// Validation set (carved from train), if asked for.
    pub valid: Option<FeatureDataset>,
    /// Test set.
    pub test: FeatureDataset,
    /// Feature scaler fitted on the training rows.
    pub scaler: StandardScaler,
    /// Target scaler (regression), fitted on the training targets.
    pub target_scaler: Option<StandardScaler>,
    /// Feature names.
    pub feature_names: Vec<String>,
}

/// How to split a dataset.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitSpec {
    /// Fraction held out for test (scikit-learn's `train_test_split`, same rows for the same seed).
    pub test_fraction: f64,
    /// Fraction of the remaining training rows held out for validation.
    pub valid_fraction: f64,
    /// Split seed (the seed's `random_state=42`).
    pub seed: u32,
}

impl SplitSpec {
    fn validate(&self) -> Result<(), String> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(format!(
                "test_fraction must be in (0, 1) (got {})",
                self.test_fraction
            ));
        }
        if !(0.0..1.0).contains(&self.valid_fraction) {
            return Err(format!(
                "valid_fraction must be in [0, 1) (got {})",
                self.valid_fraction
            ));
        }
        Ok(())
    }
}

fn split_standardise(
    features: Vec<f64>,
    n_features: usize,
    targets: Targets,
    scale_targets: bool,
    spec: SplitSpec,
    feature_names: Vec<String>,
) -> Result<Splits, String> {
    spec.validate()?;
    let n = targets.len();
    let (mut train_idx, test_idx) = train_test_split(n, spec.test_fraction, spec.seed);
    let mut valid_idx = Vec::new();
    if spec.valid_fraction > 0.0 {
        let (tr, va) = train_test_split(
            train_idx.len(),
            spec.valid_fraction,
            spec.seed.wrapping_add(1),
        );
        valid_idx = va.iter().map(|&i| train_idx[i]).collect();
        train_idx = tr.iter().map(|&i| train_idx[i]).collect();
    }
    if train_idx.is_empty() || test_idx.is_empty() {
        return Err(format!("{n} rows are too few to split"));
    }
    let train_rows = zoo_data::data::gather_rows(&features, n_features, &train_idx);
    let scaler = StandardScaler::fit(&train_rows, n_features);
    let mut scaled = features;
    scaler.transform(&mut scaled);
    let scaled: Vec<f32> = scaled.iter().map(|&v| v as f32).collect();

    let (targets, target_scaler) = match targets {
        Targets::Values { values, dim } if scale_targets => {
            let train_t: Vec<f64> = zoo_data::data::gather_rows(&values, dim, &train_idx)
                .iter()
                .map(|&v| v as f64)
                .collect();
            let ts = StandardScaler::fit(&train_t, dim);
            let mut v: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            ts.transform(&mut v);
            (
                Targets::Values {
                    values: v.iter().map(|&x| x as f32).collect(),
                    dim,
                },
                Some(ts),
            )
        }
        t => (t, None),
    };
    let all = FeatureDataset::new(scaled, n_features, targets)?;
    Ok(Splits {
        train: all.subset(&train_idx),
        valid: (!valid_idx.is_empty()).then(|| all.subset(&valid_idx)),
        test: all.subset(&test_idx),
        scaler,
        target_scaler,
        feature_names,
    })
}

/// The seed's data: `make_moons(n, noise, seed)`, split 80/20 and standardised on the train rows.
pub fn moons(
    n_samples: usize,
    noise: f64,
    data_seed: u32,
    spec: SplitSpec,
) -> Result<Splits, String> {
    if n_samples < 10 {
        return Err(format!("n_samples must be at least 10 (got {n_samples})"));
    }
    if !noise.is_finite() || noise < 0.0 {
        return Err(format!("noise must be a finite number >= 0 (got {noise})"));
    }
    let (x, y) = make_moons(n_samples, noise, data_seed);
    let features: Vec<f64> = x.iter().flat_map(|p| p.iter().copied()).collect();
    split_standardise(
        features,
        2,
        Targets::Classes(y),
        false,
        spec,
        vec!["x1".into(), "x2".into()],
    )
}

/// A CSV regression task: every column but `target` is a feature; features and target are
/// standardised on the training rows (metrics are reported in the target's own units).
pub fn csv_regression(
    path: &std::path::Path,
    target: &str,
    spec: SplitSpec,
) -> Result<Splits, DataError> {
    let table = read_csv(path, target)?;
    let dim_err = |reason: String| DataError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let n_features = table.n_features();
    let targets = Targets::Values {
        values: table.targets.iter().map(|&v| v as f32).collect(),
        dim: 1,
    };
    split_standardise(
        table.features,
        n_features,
        targets,
        true,
        spec,
        table.feature_names,
    )
    .map_err(dim_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moons_split_is_the_seed_split() {
        let s = moons(
            1000,
            0.2,
            42,
            SplitSpec {
                test_fraction: 0.2,
                valid_fraction: 0.0,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!((s.train.targets.len(), s.test.targets.len()), (800, 200));
        assert!(s.valid.is_none());
        // Standardised on train: each training column has mean 0 and unit variance.
        for c in 0..2 {
            let col: Vec<f64> = (0..800).map(|i| s.train.row(i)[c] as f64).collect();
            let mean = col.iter().sum::<f64>() / 800.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 800.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
        let v = moons(
            1000,
            0.2,
            42,
            SplitSpec {
                test_fraction: 0.2,
                valid_fraction: 0.1,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!(
            v.train.targets.len() + v.valid.as_ref().unwrap().targets.len(),
            800
        );
    }
}
