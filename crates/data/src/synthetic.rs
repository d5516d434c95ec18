//! Synthetic toy data sets that reproduce scikit-learn's generators exactly.
//!
//! Given the same `random_state`, [`make_moons`] returns the same points, in the same
//! order, as `sklearn.datasets.make_moons`, so results can be compared one to one with
//! the scikit-learn/PyTorch tutorials.

use crate::numpy_rng::NumpyRandomState;

/// `np.linspace(0, pi, num)`: `i * (pi / (num - 1))`, with the last point set to `pi`.
fn linspace_0_pi(num: usize) -> Vec<f64> {
    let pi = std::f64::consts::PI;
    match num {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => {
            let step = pi / (num - 1) as f64;
            let mut y: Vec<f64> = (0..num).map(|i| i as f64 * step).collect();
            if let Some(last) = y.last_mut() {
                *last = pi;
            }
            y
        }
    }
}

/// Two interleaving half circles, exactly as
/// `sklearn.datasets.make_moons(n_samples, shuffle=True, noise=noise, random_state=seed)`.
///
/// The first `n_samples / 2` points (label 0) lie on the outer moon and the other
/// `n_samples - n_samples / 2` (label 1) on the inner one; the rows are then shuffled
/// with `RandomState(seed).shuffle(arange(n_samples))` and Gaussian noise with standard
/// deviation `noise` is added to every coordinate, drawn row by row.
///
/// `noise == 0.0` adds nothing (scikit-learn draws zero-scaled noise, which leaves the
/// values unchanged); a negative or NaN `noise`, which scikit-learn rejects, is treated
/// as `0.0`.
pub fn make_moons(n_samples: usize, noise: f64, seed: u32) -> (Vec<[f64; 2]>, Vec<usize>) {
    let n_out = n_samples / 2;
    let n_in = n_samples - n_out;

    let outer = linspace_0_pi(n_out);
    let inner = linspace_0_pi(n_in);
    let points: Vec<[f64; 2]> = outer
        .iter()
        .map(|&t| [t.cos(), t.sin()])
        .chain(inner.iter().map(|&t| [1.0 - t.cos(), 1.0 - t.sin() - 0.5]))
        .collect();
    let labels: Vec<usize> = std::iter::repeat_n(0, n_out)
        .chain(std::iter::repeat_n(1, n_in))
        .collect();

    let mut rng = NumpyRandomState::new(seed);
    let order = rng.permutation(n_samples);
    let mut x: Vec<[f64; 2]> = order.iter().map(|&i| points[i]).collect();
    let y: Vec<usize> = order.iter().map(|&i| labels[i]).collect();

    if noise > 0.0 {
        for row in &mut x {
            for v in row.iter_mut() {
                *v += rng.normal(0.0, noise);
            }
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: f64, want: f64) {
        assert!((got - want).abs() <= 1e-12, "got {got}, want {want}");
    }

    #[test]
    fn linspace_matches_numpy_shape() {
        assert!(linspace_0_pi(0).is_empty());
        assert_eq!(linspace_0_pi(1), [0.0]);
        let l = linspace_0_pi(3);
        assert_eq!(l[0], 0.0);
        assert_eq!(l[1], std::f64::consts::FRAC_PI_2);
        assert_eq!(l[2], std::f64::consts::PI);
    }

    #[test]
    fn moons_with_noise_match_sklearn() {
        // X, y = make_moons(1000, noise=0.2, random_state=42)  (scikit-learn 1.9.1)
        let (x, y) = make_moons(1000, 0.2, 42);
        assert_eq!(x.len(), 1000);
        assert_eq!(y.len(), 1000);
        let want_first5 = [
            [-0.1116665435998051, 0.5202237402681694],
            [1.1426498169832764, -0.3425773425006079],
            [0.7955579558212915, -0.011442306560604742],
            [0.11182667768011212, -0.5519315277962581],
            [-0.816466179332765, 0.5439960413561316],
        ];
        for (got, want) in x.iter().zip(&want_first5) {
            assert_close(got[0], want[0]);
            assert_close(got[1], want[1]);
        }
        assert_eq!(&y[..5], &[1, 1, 1, 1, 0]);
        // X[-1], y[-1]
        assert_close(x[999][0], 0.7743810104988316);
        assert_close(x[999][1], 0.6342849316279285);
        assert_eq!(y[999], 0);
        // y.sum(), X.sum(axis=0)
        assert_eq!(y.iter().sum::<usize>(), 500);
        let sx: f64 = x.iter().map(|r| r[0]).sum();
        let sy: f64 = x.iter().map(|r| r[1]).sum();
        assert!((sx - 497.0130685048067).abs() < 1e-9, "{sx}");
        assert!((sy - 244.64040658312527).abs() < 1e-9, "{sy}");
    }

    #[test]
    fn moons_without_noise_match_sklearn() {
        // X, y = make_moons(7, noise=0.0, random_state=0): 3 outer, 4 inner points.
        let (x, y) = make_moons(7, 0.0, 0);
        let want = [
            [2.0, 0.4999999999999999],
            [-1.0, 1.2246467991473532e-16],
            [6.123233995736766e-17, 1.0],
            [0.0, 0.5],
            [1.0, 0.0],
            [1.4999999999999998, -0.3660254037844387],
            [0.4999999999999999, -0.3660254037844386],
        ];
        for (got, want) in x.iter().zip(&want) {
            assert_close(got[0], want[0]);
            assert_close(got[1], want[1]);
        }
        assert_eq!(y, [1, 0, 0, 1, 0, 1, 1]);
    }

    #[test]
    fn degenerate_sizes_and_noise_do_not_panic() {
        assert_eq!(make_moons(0, 0.1, 1), (Vec::new(), Vec::new()));
        let (x, y) = make_moons(1, 0.0, 1);
        assert_eq!(y, [1]);
        assert_eq!(x, [[0.0, 0.5]]);
        let (x, _) = make_moons(2, f64::NAN, 1);
        assert!(x.iter().flatten().all(|v| v.is_finite()));
        let (x, _) = make_moons(4, -1.0, 1);
        assert_eq!(x, make_moons(4, 0.0, 1).0);
    }
}
