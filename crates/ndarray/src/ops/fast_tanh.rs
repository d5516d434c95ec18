//! burn-zoo patch: tanh for f32 as a branch-free rational approximation (the odd degree-13 /
//! even degree-6 fit Eigen uses for `ptanh` on floats), which the compiler vectorises inside
//! `mapv_into`. libm's `tanhf` goes through `expm1f` one element at a time; on the seed LSTM it
//! was the largest single cost of a training step. Accurate to a few ulp (tested against f64
//! `tanh` below); f64 keeps the standard library's `tanh`. Plain multiply-adds, not `mul_add`:
//! without the `fma` target feature at compile time (the default x86-64 target) `mul_add` is a
//! call to a software `fmaf` per term, which made this "fast" tanh slower than libm's.

pub(crate) trait Tanh {
    fn tanh_fast(self) -> Self;
}

impl Tanh for f64 {
    #[inline]
    fn tanh_fast(self) -> Self {
        self.tanh()
    }
}

impl Tanh for f32 {
    #[inline]
    fn tanh_fast(self) -> Self {
        // Beyond ±7.905 the fit is held at its value there, which rounds to exactly ±1 in f32.
        const CLAMP: f32 = 7.905_311;
        const A1: f32 = 4.893_524_6e-3;
        const A3: f32 = 6.372_619_3e-4;
        const A5: f32 = 1.485_722_4e-5;
        const A7: f32 = 5.122_297e-8;
        const A9: f32 = -8.604_672e-11;
        const A11: f32 = 2.000_188e-13;
        const A13: f32 = -2.760_768_5e-16;
        const B0: f32 = 4.893_525e-3;
        const B2: f32 = 2.268_434_6e-3;
        const B4: f32 = 1.185_347_1e-4;
        const B6: f32 = 1.198_258_4e-6;
        // NaN passes through the clamp and the fit (no branch, so the loop stays vectorised).
        let x = self.clamp(-CLAMP, CLAMP);
        let x2 = x * x;
        let mut p = x2 * A13 + A11;
        p = x2 * p + A9;
        p = x2 * p + A7;
        p = x2 * p + A5;
        p = x2 * p + A3;
        p = x2 * p + A1;
        p *= x;
        let mut q = x2 * B6 + B4;
        q = x2 * q + B2;
        q = x2 * q + B0;
        p / q
    }
}

#[cfg(test)]
mod tests {
    use super::Tanh;

    #[test]
    fn close_to_f64_tanh_everywhere() {
        let mut worst = 0f64;
        let mut x = -12.0f32;
        while x <= 12.0 {
            let err = (x.tanh_fast() as f64 - (x as f64).tanh()).abs();
            worst = worst.max(err);
            x += 1.0e-3;
        }
        assert!(worst < 5e-7, "max error {worst}");
        assert_eq!(0f32.tanh_fast(), 0.0);
        assert!((f32::INFINITY.tanh_fast() - 1.0).abs() < 5e-7);
        assert!((f32::NEG_INFINITY.tanh_fast() + 1.0).abs() < 5e-7);
        assert!(f32::NAN.tanh_fast().is_nan());
        // Odd, and monotone on a fine grid near the origin.
        for i in 1..1000 {
            let x = i as f32 * 1e-4;
            assert_eq!((-x).tanh_fast(), -x.tanh_fast());
            assert!(x.tanh_fast() > (x - 1e-4).tanh_fast());
        }
    }
}
