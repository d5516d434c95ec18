//! A bit-exact reimplementation of numpy's legacy `np.random.RandomState`.
//!
//! scikit-learn's `random_state=<int>` arguments create `np.random.RandomState(seed)`,
//! a Mersenne Twister (MT19937) seeded with the classic `init_genrand(seed)` routine.
//! Reproducing the same stream (and the same algorithms on top of it: 53-bit doubles,
//! the polar Box–Muller Gaussian with its cached second value, masked rejection
//! sampling for bounded integers, and the Fisher–Yates shuffle) lets our data sets and
//! splits match the scikit-learn/PyTorch tutorials value for value.
//!
//! Only the algorithms that we need are implemented; each one follows numpy's
//! `_legacy` code paths (`legacy_gauss`, `random_interval`, `RandomState.shuffle` on a
//! 1-D array).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// numpy's legacy `RandomState`, seeded from a 32-bit integer.
///
/// `NumpyRandomState::new(42)` produces the same numbers as
/// `np.random.RandomState(42)` for the methods implemented here.
#[derive(Clone, Debug)]
pub struct NumpyRandomState {
    key: [u32; N],
    pos: usize,
    /// Second Gaussian of the last polar Box–Muller pair, handed out on the next call.
    cached_gauss: Option<f64>,
}

impl NumpyRandomState {
    /// Seeds the generator as `np.random.RandomState(seed)` does for an integer seed
    /// (`mt19937_seed`, identical to the reference `init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; N];
        let mut s = seed;
        for (pos, slot) in key.iter_mut().enumerate() {
            *slot = s;
            // `pos + 1 < 625`, so the cast is lossless.
            s = 1_812_433_253u32
                .wrapping_mul(s ^ (s >> 30))
                .wrapping_add(pos as u32 + 1);
        }
        Self {
            key,
            pos: N,
            cached_gauss: None,
        }
    }

    /// Regenerates the whole state block (`mt19937_gen`).
    fn generate(&mut self) {
        for i in 0..N {
            let y = (self.key[i] & UPPER_MASK) | (self.key[(i + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.key[i] = self.key[(i + M) % N] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// The next raw 32-bit output of the Mersenne Twister (tempered).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// The next 64-bit output as numpy builds it: the first 32-bit draw is the high half.
    pub fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// A uniform double in `[0, 1)` with 53 random bits, as `RandomState.random_sample()`.
    pub fn random_sample(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// A standard normal draw, as `RandomState.standard_normal()` (numpy's
    /// `legacy_gauss`: polar Box–Muller; the second value of each pair is cached and
    /// returned by the next call).
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.cached_gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// A normal draw with mean `loc` and standard deviation `scale`, as
    /// `RandomState.normal(loc, scale)` (`loc + scale * gauss`).
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// A uniform integer in `[0, max]` (inclusive), as numpy's `random_interval`:
    /// draws are masked to the smallest covering power of two minus one and rejected
    /// while greater than `max`; 32-bit draws are used when `max` fits in 32 bits.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        } else {
            loop {
                let value = self.next_u64() & mask;
                if value <= max {
                    return value;
                }
            }
        }
    }

    /// Shuffles `items` in place exactly as `RandomState.shuffle` shuffles a 1-D
    /// array: `for i in reversed(range(1, n)): j = random_interval(i); swap(i, j)`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // `j <= i < items.len()`, so the conversion back to usize is lossless.
            let j = self.random_interval(i as u64) as usize;
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`, as `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut perm: Vec<usize> = (0..n).collect();
        self.shuffle(&mut perm);
        perm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values below come from numpy 2.4.6:
    //   r = np.random.RandomState(42); r.randint(0, 2**32, size=5, dtype=np.uint32)
    // etc. (randint over the full u32 range returns the raw 32-bit draws).

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-12, "got {g}, want {w}");
        }
    }

    #[test]
    fn raw_u32_matches_numpy() {
        let mut r = NumpyRandomState::new(42);
        let got: Vec<u32> = (0..5).map(|_| r.next_u32()).collect();
        assert_eq!(
            got,
            [1608637542, 3421126067, 4083286876, 787846414, 3143890026]
        );
    }

    #[test]
    fn random_sample_matches_numpy() {
        let mut r = NumpyRandomState::new(42);
        let got: Vec<f64> = (0..5).map(|_| r.random_sample()).collect();
        assert_close(
            &got,
            &[
                0.3745401188473625,
                0.9507143064099162,
                0.7319939418114051,
                0.5986584841970366,
                0.15601864044243652,
            ],
        );
        // Largest seed: RandomState(2**32 - 1).random_sample(3)
        let mut r = NumpyRandomState::new(u32::MAX);
        let got: Vec<f64> = (0..3).map(|_| r.random_sample()).collect();
        assert_close(
            &got,
            &[0.0976320289940138, 0.9123828453026218, 0.78903530185164],
        );
    }

    #[test]
    fn standard_normal_matches_numpy() {
        let mut r = NumpyRandomState::new(42);
        let got: Vec<f64> = (0..5).map(|_| r.standard_normal()).collect();
        assert_close(
            &got,
            &[
                0.4967141530112327,
                -0.13826430117118466,
                0.6476885381006925,
                1.5230298564080254,
                -0.23415337472333597,
            ],
        );
    }

    #[test]
    fn normal_matches_numpy() {
        // RandomState(42).normal(1.5, 0.3, size=3)
        let mut r = NumpyRandomState::new(42);
        let got: Vec<f64> = (0..3).map(|_| r.normal(1.5, 0.3)).collect();
        assert_close(
            &got,
            &[1.6490142459033699, 1.4585207096486446, 1.6943065614302077],
        );
    }

    #[test]
    fn random_interval_matches_numpy_randint() {
        // RandomState(7): [r.randint(0, 101) for _ in range(5)]
        let mut r = NumpyRandomState::new(7);
        let got: Vec<u64> = (0..5).map(|_| r.random_interval(100)).collect();
        assert_eq!(got, [47, 68, 25, 67, 83]);
        // 64-bit path: RandomState(1).randint(0, 10**12 + 1, size=4, dtype=np.int64)
        let mut r = NumpyRandomState::new(1);
        let got: Vec<u64> = (0..4)
            .map(|_| r.random_interval(1_000_000_000_000))
            .collect();
        assert_eq!(
            got,
            [163196666091, 605300724808, 876169207429, 340316410816]
        );
        assert_eq!(r.random_interval(0), 0);
    }

    #[test]
    fn random_interval_edges_stay_in_range() {
        let mut r = NumpyRandomState::new(3);
        for max in [1u64, 2, 3, 255, 256, u64::from(u32::MAX), u64::MAX] {
            for _ in 0..50 {
                assert!(r.random_interval(max) <= max);
            }
        }
    }

    #[test]
    fn permutation_matches_numpy() {
        let mut r = NumpyRandomState::new(42);
        assert_eq!(r.permutation(10), [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
        let mut r = NumpyRandomState::new(0);
        assert_eq!(
            r.permutation(20),
            [
                18, 1, 19, 8, 10, 17, 6, 13, 4, 2, 5, 14, 9, 7, 16, 11, 3, 0, 15, 12
            ]
        );
    }

    #[test]
    fn shuffle_of_tiny_slices_draws_nothing() {
        let mut r = NumpyRandomState::new(42);
        let mut empty: [u8; 0] = [];
        r.shuffle(&mut empty);
        let mut one = [5];
        r.shuffle(&mut one);
        assert_eq!(one, [5]);
        // The stream is untouched: still the first draw of RandomState(42).
        assert_eq!(r.next_u32(), 1608637542);
        assert!(r.permutation(0).is_empty());
    }

    #[test]
    fn random_sample_is_in_unit_interval() {
        let mut r = NumpyRandomState::new(123);
        for _ in 0..2000 {
            let x = r.random_sample();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
