//! Preprocessing that mirrors scikit-learn: `train_test_split` index selection and
//! `StandardScaler`.
//!
//! [`train_test_split`] selects exactly the rows that
//! `sklearn.model_selection.train_test_split(..., test_size, random_state, shuffle=True)`
//! selects, so that our metrics are computed on the same held-out rows as the
//! scikit-learn/PyTorch tutorials.

use serde::{Deserialize, Serialize};

use crate::numpy_rng::NumpyRandomState;

/// Splits the row indices `0..n` into `(train_indices, test_indices)` exactly as
/// `sklearn.model_selection.train_test_split(arange(n), test_size=test_fraction,
/// random_state=seed, shuffle=True)` does (`ShuffleSplit`):
/// `n_test = ceil(test_fraction * n)`, `n_train = n - n_test`,
/// `perm = RandomState(seed).permutation(n)`, `test = perm[:n_test]`,
/// `train = perm[n_test:]`.
///
/// scikit-learn rejects a `test_fraction` outside `(0, 1)` and splits that leave the
/// training set empty; here nothing is rejected: `<= 0` or NaN gives an empty test set,
/// and when `n_test` reaches `n` the training set is empty.
pub fn train_test_split(n: usize, test_fraction: f64, seed: u32) -> (Vec<usize>, Vec<usize>) {
    let wanted = (test_fraction * n as f64).ceil();
    // `as` saturates (NaN -> 0), and the result is clamped to `n`.
    let n_test = if wanted > 0.0 {
        (wanted as usize).min(n)
    } else {
        0
    };
    let mut rng = NumpyRandomState::new(seed);
    let mut perm = rng.permutation(n);
    let train = perm.split_off(n_test);
    (train, perm)
}

/// Standardizes features to zero mean and unit variance, as scikit-learn's
/// `StandardScaler` (population standard deviation, `ddof = 0`).
///
/// Data are flat row-major slices with `n_features` values per row. Features whose
/// variance is zero (up to rounding, by scikit-learn's `_is_constant_feature` test)
/// get `scale = 1.0`, so they are only centered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Per-feature mean of the training data.
    pub mean: Vec<f64>,
    /// Per-feature standard deviation of the training data (1.0 for constant features).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits the scaler to `data` (row-major, `n_features` values per row).
    ///
    /// A trailing partial row (when `data.len()` is not a multiple of `n_features`) is
    /// ignored. With no rows at all the scaler is the identity (mean 0, scale 1).
    pub fn fit(data: &[f64], n_features: usize) -> Self {
        if n_features == 0 {
            return Self {
                mean: Vec::new(),
                scale: Vec::new(),
            };
        }
        let rows = data.chunks_exact(n_features);
        let n_rows = rows.len();
        if n_rows == 0 {
            return Self {
                mean: vec![0.0; n_features],
                scale: vec![1.0; n_features],
            };
        }
        let n = n_rows as f64;
        let mut mean = vec![0.0; n_features];
        for row in rows.clone() {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n;
        }
        let mut var = vec![0.0; n_features];
        for row in rows {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                let d = v - m;
                *s += d * d;
            }
        }
        let eps = f64::EPSILON;
        let scale = var
            .iter()
            .zip(&mean)
            .map(|(&ss, &m)| {
                let v = ss / n;
                // scikit-learn's `_is_constant_feature`.
                let bound = n * eps * v + (n * m * eps).powi(2);
                if v <= bound || !v.is_finite() {
                    1.0
                } else {
                    v.sqrt()
                }
            })
            .collect();
        Self { mean, scale }
    }

    /// The number of features the scaler was fitted on.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardizes `data` in place: `(x - mean) / scale` per feature.
    ///
    /// Rows are `self.n_features()` values long; a trailing partial row is left as is.
    pub fn transform(&self, data: &mut [f64]) {
        let n = self.n_features();
        if n == 0 {
            return;
        }
        for row in data.chunks_exact_mut(n) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
    }

    /// Undoes [`transform`](Self::transform) in place: `x * scale + mean` per feature.
    pub fn inverse_transform(&self, data: &mut [f64]) {
        let n = self.n_features();
        if n == 0 {
            return;
        }
        for row in data.chunks_exact_mut(n) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = *v * s + m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_sklearn_diabetes_sized() {
        // train, test = train_test_split(np.arange(442), test_size=0.2, random_state=42)
        // n_test = ceil(0.2 * 442) = ceil(88.4) = 89, n_train = 353.
        let (train, test) = train_test_split(442, 0.2, 42);
        assert_eq!(train.len(), 353);
        assert_eq!(test.len(), 89);
        assert_eq!(&train[..10], &[17, 66, 137, 245, 31, 84, 360, 390, 369, 94]);
        assert_eq!(
            &test[..10],
            &[287, 211, 72, 321, 73, 418, 367, 354, 281, 148]
        );
        assert_eq!(&train[350..], &[348, 435, 102]);
        assert_eq!(&test[86..], &[57, 391, 24]);
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..442).collect::<Vec<_>>());
    }

    #[test]
    fn split_uses_python_float_ceil() {
        // train_test_split(np.arange(30), test_size=0.1, random_state=3):
        // n_test = ceil(0.1 * 30) where 0.1 * 30.0 rounds to exactly 3.0 in IEEE doubles,
        // so 3 test rows and 27 training rows (the product is computed the same way here).
        let (train, test) = train_test_split(30, 0.1, 3);
        assert_eq!(test, [15, 5, 22]);
        assert_eq!(
            train,
            [
                26, 18, 14, 13, 2, 16, 1, 17, 27, 7, 12, 4, 23, 6, 20, 9, 11, 29, 19, 21, 0, 8, 28,
                3, 25, 24, 10
            ]
        );
    }

    #[test]
    fn split_clamps_bad_fractions() {
        let (train, test) = train_test_split(5, 0.0, 1);
        assert_eq!((train.len(), test.len()), (5, 0));
        let (train, test) = train_test_split(5, f64::NAN, 1);
        assert_eq!((train.len(), test.len()), (5, 0));
        let (train, test) = train_test_split(5, 3.0, 1);
        assert_eq!((train.len(), test.len()), (0, 5));
        let (train, test) = train_test_split(5, f64::INFINITY, 1);
        assert_eq!((train.len(), test.len()), (0, 5));
        assert_eq!(train_test_split(0, 0.5, 1), (Vec::new(), Vec::new()));
    }

    #[test]
    fn scaler_matches_sklearn() {
        // StandardScaler().fit([[1, 5, 2], [3, 5, 4], [8, 5, 9]])
        // column 0: mean 4, var ((-3)^2 + (-1)^2 + 4^2) / 3 = 26/3, std 2.943920288775949
        // column 1: constant -> scale 1.0; column 2: mean 5, same deviations as column 0.
        let data = [1.0, 5.0, 2.0, 3.0, 5.0, 4.0, 8.0, 5.0, 9.0];
        let s = StandardScaler::fit(&data, 3);
        assert_eq!(s.n_features(), 3);
        let want_mean = [4.0, 5.0, 5.0];
        let want_scale = [2.943920288775949, 1.0, 2.943920288775949];
        for i in 0..3 {
            assert!((s.mean[i] - want_mean[i]).abs() < 1e-12);
            assert!((s.scale[i] - want_scale[i]).abs() < 1e-12);
        }
        let mut t = data;
        s.transform(&mut t);
        // First row: (1 - 4) / 2.9439... = -1.0190493307301208, constant column -> 0.
        assert!((t[0] - (-3.0 / 2.943920288775949)).abs() < 1e-12);
        assert_eq!(t[1], 0.0);
        s.inverse_transform(&mut t);
        for (a, b) in t.iter().zip(&data) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn scaler_degenerate_inputs() {
        let s = StandardScaler::fit(&[], 2);
        assert_eq!(s.mean, [0.0, 0.0]);
        assert_eq!(s.scale, [1.0, 1.0]);
        let s = StandardScaler::fit(&[1.0, 2.0], 0);
        assert_eq!(s.n_features(), 0);
        let mut d = [1.0, 2.0];
        s.transform(&mut d);
        assert_eq!(d, [1.0, 2.0]);
        // A trailing partial row is ignored when fitting and left alone when transforming.
        let s2 = StandardScaler::fit(&[0.0, 2.0, 99.0], 2);
        assert_eq!(s2.mean, [0.0, 2.0]);
        let mut d = [0.0, 2.0, 7.0];
        s2.transform(&mut d);
        assert_eq!(d[2], 7.0);
    }

    #[test]
    fn scaler_roundtrips_through_serde() {
        let s = StandardScaler {
            mean: vec![1.5],
            scale: vec![2.0],
        };
        // Check the derives exist; format-specific tests live with the model code.
        fn is_serde<T: Serialize + for<'de> Deserialize<'de>>(_: &T) {}
        is_serde(&s);
    }
}
