//! The whole-layer recurrent operation on host memory: for backends whose tensors live in main
//! memory (ndarray, libtorch on the CPU), where every tensor operation on a `[64, 32]` step
//! costs microseconds of dispatch that the arithmetic does not need. The layer's input and
//! weights are read out once, the forward and backward passes run as plain loops over `f32`
//! slices with `matrixmultiply`'s GEMM (the kernel ndarray itself uses), and the results go back
//! as tensors. Same layout and gradients as the tensor version in the parent module (tested).

use super::Cell;

/// Everything is row-major `f32`. `x`: `[batch, time, input]`; `w`: `[hidden + input + 1,
/// gates · hidden]` (rows `[hidden; input; bias]`).
#[derive(Clone, Debug)]
pub(super) struct Dims {
    pub batch: usize,
    pub time: usize,
    pub input: usize,
    pub hidden: usize,
    pub cell: Cell,
}

impl Dims {
    fn cols(&self) -> usize {
        self.cell.gates() * self.hidden
    }
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
pub(super) struct Saved {
    pub dims: Dims,
    x: Vec<f32>,
    w: Vec<f32>,
    /// Gate activations, `[batch · time, gates · hidden]` (LSTM: `i, f, o, c̃`; RNN: unused).
    acts: Vec<f32>,
    /// LSTM cell states `c_t` and `tanh(c_t)`, `[batch · time, hidden]` each.
    c: Vec<f32>,
    tc: Vec<f32>,
    /// The layer's output (`h_t`), `[batch · time, hidden]`.
    out: Vec<f32>,
}

/// The number of elements a `rows × cols` matrix with strides `(rs, cs)` reaches.
fn span(rows: usize, cols: usize, (rs, cs): (usize, usize)) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

/// matrixmultiply (with its `threading` feature, which burn-ndarray turns on) splits a product
/// across threads once `m·k + k·n` reaches 2^15. For the products here a cross-thread hand-off
/// costs more than it saves, and under libtorch it competes with OpenMP's spinning workers
/// (measured on the seed LSTM: tch 7.7k → 14.8k samples/s on one thread). So [`gemm`] cuts a
/// product into pieces below that size.
const ONE_THREAD: usize = (1 << 15) - 1;

/// `C ← A·B + beta·C` for an `m × k` `A` and a `k × n` `B`, with (row, column) element strides,
/// bounds-checked against the slices, on the calling thread (see [`ONE_THREAD`]).
#[allow(clippy::too_many_arguments)]
fn gemm(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    sa: (usize, usize),
    b: &[f32],
    sb: (usize, usize),
    beta: f32,
    c: &mut [f32],
    sc: (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for r in 0..m {
            for col in 0..n {
                c[r * sc.0 + col * sc.1] *= beta;
            }
        }
        return;
    }
    assert!(
        span(m, k, sa) <= a.len() && span(k, n, sb) <= b.len() && span(m, n, sc) <= c.len(),
        "gemm operands out of bounds"
    );
    let m_piece = m.min(256);
    let k_piece = (ONE_THREAD / (m_piece + n)).clamp(1, k);
    let s = |v: usize| v as isize;
    for r0 in (0..m).step_by(m_piece) {
        let rows = m_piece.min(m - r0);
        for k0 in (0..k).step_by(k_piece) {
            let depth = k_piece.min(k - k0);
            // SAFETY: the assertion above keeps every element the strides reach inside its
            // slice (each piece is inside the whole), and `c` is a unique borrow whose strides
            // (row-major, non-zero) do not alias.
            unsafe {
                matrixmultiply::sgemm(
                    rows,
                    depth,
                    n,
                    1.0,
                    a.as_ptr().add(r0 * sa.0 + k0 * sa.1),
                    s(sa.0),
                    s(sa.1),
                    b.as_ptr().add(k0 * sb.0),
                    s(sb.0),
                    s(sb.1),
                    if k0 == 0 { beta } else { 1.0 },
                    c.as_mut_ptr().add(r0 * sc.0),
                    s(sc.0),
                    s(sc.1),
                );
            }
        }
    }
}

/// `σ(v) = (1 + tanh(v/2)) / 2`, exactly; through [`tanh`], so it vectorises too.
#[inline(always)]
fn sigmoid(v: f32) -> f32 {
    0.5 + 0.5 * tanh(0.5 * v)
}

/// `tanh` as a branch-free rational fit (the odd degree-13 / even degree-6 one Eigen uses for
/// floats; within 5e-7 of f64 `tanh`, tested below). Unlike libm's `tanhf`/`expf` calls the
/// compiler vectorises it, and the LSTM step evaluates five of these per unit. The vendored
/// burn-ndarray has the same fit for its own `tanh` (`vendor/burn-ndarray/src/ops/fast_tanh.rs`,
/// private to that crate).
#[inline(always)]
fn tanh(v: f32) -> f32 {
    // Beyond ±7.905 the fit is held at its value there, which rounds to exactly ±1 in f32.
    // NaN passes through.
    let x = v.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let mut p = x2 * -2.760_768_5e-16 + 2.000_188e-13;
    p = x2 * p + -8.604_672e-11;
    p = x2 * p + 5.122_297e-8;
    p = x2 * p + 1.485_722_4e-5;
    p = x2 * p + 6.372_619_3e-4;
    p = x2 * p + 4.893_524_6e-3;
    let mut q = x2 * 1.198_258_4e-6 + 1.185_347_1e-4;
    q = x2 * q + 2.268_434_6e-3;
    q = x2 * q + 4.893_525e-3;
    x * p / q
}

/// All hidden states (`[batch · time, hidden]`) and, with `keep`, what the backward pass needs.
///
/// The element-wise loops here and in [`backward`] vectorise; built for the x86-64 baseline
/// they run 4 floats wide (SSE2). Where the CPU has AVX2, both passes run a second build of the
/// same body, 8 wide: the same operations in the same order (no fused multiply-add), so the
/// same bits (tested).
pub(super) fn forward(
    dims: Dims,
    x: Vec<f32>,
    w: Vec<f32>,
    keep: bool,
) -> (Vec<f32>, Option<Saved>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(dims: Dims, x: Vec<f32>, w: Vec<f32>, keep: bool) -> (Vec<f32>, Option<Saved>) {
            forward_loops(dims, x, w, keep)
        }
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2(dims, x, w, keep) };
    }
    forward_loops(dims, x, w, keep)
}

/// [`forward`]'s body, inlined into each of its builds.
#[inline(always)]
fn forward_loops(dims: Dims, x: Vec<f32>, w: Vec<f32>, keep: bool) -> (Vec<f32>, Option<Saved>) {
    let Dims {
        batch,
        time,
        input: d,
        hidden: h,
        cell,
    } = dims;
    let cols = dims.cols();
    let rows = batch * time;
    let (w_h, rest) = w.split_at(h * cols);
    let (w_x, bias) = rest.split_at(d * cols);
    // Every step's input projection in one product, on top of the bias.
    let mut g = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        g.extend_from_slice(bias);
    }
    gemm(
        (rows, d, cols),
        &x,
        (d, 1),
        w_x,
        (cols, 1),
        1.0,
        &mut g,
        (cols, 1),
    );
    let mut out = vec![0.0f32; rows * h];
    let lstm = cell == Cell::Lstm;
    let mut c = vec![0.0f32; if lstm { rows * h } else { 0 }];
    let mut tc = vec![0.0f32; if lstm { rows * h } else { 0 }];
    let zeros = vec![0.0f32; h];
    for t in 0..time {
        if t > 0 {
            // g_t += h_{t-1} · W_h, for every batch row at once (rows `b · time + t`).
            gemm(
                (batch, h, cols),
                &out[(t - 1) * h..],
                (time * h, 1),
                w_h,
                (cols, 1),
                1.0,
                &mut g[t * cols..],
                (time * cols, 1),
            );
        }
        for b in 0..batch {
            let row = b * time + t;
            let gr = &mut g[row * cols..(row + 1) * cols];
            let o_row = row * h..(row + 1) * h;
            match cell {
                Cell::Lstm => {
                    let (sig, cand) = gr.split_at_mut(3 * h);
                    sig.iter_mut().for_each(|v| *v = sigmoid(*v));
                    cand.iter_mut().for_each(|v| *v = tanh(*v));
                    let (i, f, o) = (&sig[..h], &sig[h..2 * h], &sig[2 * h..]);
                    // Equal-length slices, no index arithmetic: the loops vectorise.
                    let (c_done, c_rest) = c.split_at_mut(row * h);
                    let c_prev = if t > 0 {
                        &c_done[(row - 1) * h..]
                    } else {
                        &zeros[..]
                    };
                    let c_new = &mut c_rest[..h];
                    for (((y, &f), &cp), (&i, &cand)) in c_new
                        .iter_mut()
                        .zip(f)
                        .zip(&c_prev[..h])
                        .zip(i.iter().zip(cand.iter()))
                    {
                        *y = f * cp + i * cand;
                    }
                    let tc_row = &mut tc[o_row.clone()];
                    for (y, &v) in tc_row.iter_mut().zip(c_new.iter()) {
                        *y = tanh(v);
                    }
                    for ((y, &o), &tcv) in out[o_row].iter_mut().zip(o).zip(tc_row.iter()) {
                        *y = o * tcv;
                    }
                }
                Cell::RnnTanh => {
                    for (y, &v) in out[o_row].iter_mut().zip(gr.iter()) {
                        *y = tanh(v);
                    }
                }
                Cell::RnnRelu => {
                    for (y, &v) in out[o_row].iter_mut().zip(gr.iter()) {
                        *y = v.max(0.0);
                    }
                }
            }
        }
    }
    let saved = keep.then(|| Saved {
        dims,
        x,
        w,
        acts: if lstm { g } else { Vec::new() },
        c,
        tc,
        out: out.clone(),
    });
    (out, saved)
}

/// Backpropagation through time: the gradients of `x` (`[batch · time, input]`) and of `w`
/// given the gradient of every hidden state (`[batch · time, hidden]`).
pub(super) fn backward(s: &Saved, dout: &[f32]) -> (Vec<f32>, Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(s: &Saved, dout: &[f32]) -> (Vec<f32>, Vec<f32>) {
            backward_loops(s, dout)
        }
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2(s, dout) };
    }
    backward_loops(s, dout)
}

/// [`backward`]'s body, inlined into each of its builds (see [`forward`]).
#[inline(always)]
fn backward_loops(s: &Saved, dout: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let Dims {
        batch,
        time,
        input: d,
        hidden: h,
        cell,
    } = s.dims;
    let cols = s.dims.cols();
    let rows = batch * time;
    let w_h = &s.w[..h * cols];
    let w_x = &s.w[h * cols..(h + d) * cols];
    let mut dg = vec![0.0f32; rows * cols];
    let mut dh_next = vec![0.0f32; batch * h];
    let mut dc_next = vec![0.0f32; if cell == Cell::Lstm { batch * h } else { 0 }];
    let zeros = vec![0.0f32; h];
    for t in (0..time).rev() {
        for b in 0..batch {
            let row = b * time + t;
            let dgr = &mut dg[row * cols..(row + 1) * cols];
            let dh_row = &dh_next[b * h..(b + 1) * h];
            let dout_row = &dout[row * h..(row + 1) * h];
            match cell {
                Cell::Lstm => {
                    let c_prev = if t > 0 {
                        &s.c[(row - 1) * h..row * h]
                    } else {
                        &zeros[..]
                    };
                    lstm_row_backward(
                        dout_row,
                        dh_row,
                        &s.acts[row * cols..(row + 1) * cols],
                        &s.tc[row * h..(row + 1) * h],
                        c_prev,
                        &mut dc_next[b * h..(b + 1) * h],
                        dgr,
                    );
                }
                Cell::RnnTanh | Cell::RnnRelu => {
                    let y = &s.out[row * h..(row + 1) * h];
                    for j in 0..h {
                        let dh = dout_row[j] + dh_row[j];
                        dgr[j] = if cell == Cell::RnnTanh {
                            dh * (1.0 - y[j] * y[j])
                        } else if y[j] > 0.0 {
                            dh
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
        if t > 0 {
            // dh_{t-1} = dg_t · W_hᵀ.
            gemm(
                (batch, cols, h),
                &dg[t * cols..],
                (time * cols, 1),
                w_h,
                (1, cols),
                0.0,
                &mut dh_next,
                (h, 1),
            );
        }
    }
    // h_{t-1} for every row (zeros at t = 0), then the weight gradients over all rows at once.
    let mut h_prev = vec![0.0f32; rows * h];
    for b in 0..batch {
        for t in 1..time {
            let (dst, src) = ((b * time + t) * h, (b * time + t - 1) * h);
            h_prev[dst..dst + h].copy_from_slice(&s.out[src..src + h]);
        }
    }
    let mut dw = vec![0.0f32; (h + d + 1) * cols];
    let (dw_h, rest) = dw.split_at_mut(h * cols);
    let (dw_x, db) = rest.split_at_mut(d * cols);
    gemm(
        (h, rows, cols),
        &h_prev,
        (1, h),
        &dg,
        (cols, 1),
        0.0,
        dw_h,
        (cols, 1),
    );
    gemm(
        (d, rows, cols),
        &s.x,
        (1, d),
        &dg,
        (cols, 1),
        0.0,
        dw_x,
        (cols, 1),
    );
    for r in dg.chunks_exact(cols) {
        for (acc, &v) in db.iter_mut().zip(r) {
            *acc += v;
        }
    }
    let mut dx = vec![0.0f32; rows * d];
    gemm(
        (rows, cols, d),
        &dg,
        (cols, 1),
        w_x,
        (1, cols),
        0.0,
        &mut dx,
        (d, 1),
    );
    (dx, dw)
}

/// One LSTM row of one step of [`backward`]: from the gradient reaching `h_t` (`dh`: from the
/// output and from step `t + 1`), the gate activations `acts` (`[i, f, o, c̃]`), `tanh(c_t)`
/// and `c_{t-1}`, the gate pre-activation gradients `dg` (`[i, f, o, c̃]`); `dc` carries the
/// cell gradient from step `t + 1` in and to step `t - 1` out. Its own function because the
/// compiler takes its slice arguments as non-overlapping, which it cannot know of slices cut
/// from buffers inside one function: only so does the loop vectorise.
#[inline(always)]
fn lstm_row_backward(
    dout: &[f32],
    dh_next: &[f32],
    acts: &[f32],
    tc: &[f32],
    c_prev: &[f32],
    dc: &mut [f32],
    dg: &mut [f32],
) {
    let h = dc.len();
    let (i, f, o, cand) = (
        &acts[..h],
        &acts[h..2 * h],
        &acts[2 * h..3 * h],
        &acts[3 * h..4 * h],
    );
    let (dgi, rest) = dg.split_at_mut(h);
    let (dgf, rest) = rest.split_at_mut(h);
    let (dgo, dgc) = rest.split_at_mut(h);
    // Every slice cut to exactly `h`: no bounds checks in the loop.
    let (dout, dh_next, tc, c_prev) = (&dout[..h], &dh_next[..h], &tc[..h], &c_prev[..h]);
    let (dgf, dgo, dgc) = (&mut dgf[..h], &mut dgo[..h], &mut dgc[..h]);
    for j in 0..h {
        let dh = dout[j] + dh_next[j];
        let dcj = dh * o[j] * (1.0 - tc[j] * tc[j]) + dc[j];
        dgi[j] = dcj * cand[j] * i[j] * (1.0 - i[j]);
        dgf[j] = dcj * c_prev[j] * f[j] * (1.0 - f[j]);
        dgo[j] = dh * tc[j] * o[j] * (1.0 - o[j]);
        dgc[j] = dcj * i[j] * (1.0 - cand[j] * cand[j]);
        dc[j] = dcj * f[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_and_sigmoid_within_5e_7_of_f64() {
        let (mut worst_t, mut worst_s) = (0f64, 0f64);
        let mut v = -20.0f32;
        while v <= 20.0 {
            let x = v as f64;
            worst_t = worst_t.max((tanh(v) as f64 - x.tanh()).abs());
            worst_s = worst_s.max((sigmoid(v) as f64 - 1.0 / (1.0 + (-x).exp())).abs());
            v += 1e-3;
        }
        assert!(
            worst_t < 5e-7 && worst_s < 5e-7,
            "tanh {worst_t}, sigmoid {worst_s}"
        );
        assert!(tanh(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert!((tanh(f32::INFINITY) - 1.0).abs() < 5e-7 && sigmoid(f32::NEG_INFINITY) < 5e-7);
    }

    /// The pieces [`gemm`] cuts a product into (here 3 row pieces × 2 depth pieces, a
    /// transposed `A`, `beta = 0.5`) add up to the whole product.
    #[test]
    fn gemm_in_pieces_equals_the_whole_product() {
        let (m, k, n) = (600, 70, 300);
        let val = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
        // A stored transposed (k × m, row-major), read with strides (1, m).
        let a: Vec<f32> = (0..k * m).map(val).collect();
        let b: Vec<f32> = (0..k * n).map(|i| val(i + 13)).collect();
        let mut c: Vec<f32> = (0..m * n).map(|i| val(i + 29)).collect();
        let c0 = c.clone();
        assert!(m * k + k * n > ONE_THREAD && (ONE_THREAD / (256 + n)) < k);
        gemm((m, k, n), &a, (1, m), &b, (n, 1), 0.5, &mut c, (n, 1));
        let mut worst = 0f64;
        for r in 0..m {
            for col in 0..n {
                let want = 0.5 * c0[r * n + col] as f64
                    + (0..k)
                        .map(|p| a[p * m + r] as f64 * b[p * n + col] as f64)
                        .sum::<f64>();
                worst = worst.max((c[r * n + col] as f64 - want).abs());
            }
        }
        assert!(worst < 1e-4, "differs by {worst}");
    }

    /// The AVX2 build of both passes (where the CPU has it) gives the same bits as the
    /// baseline build, for every cell. (That the passes compute the right values is tested in
    /// the parent module, against Burn's layers.)
    #[test]
    fn avx2_and_baseline_builds_agree_bit_for_bit() {
        let val = |i: usize| ((i * 7919 + 17) % 1000) as f32 / 500.0 - 1.0;
        for cell in [Cell::Lstm, Cell::RnnTanh, Cell::RnnRelu] {
            let dims = Dims {
                batch: 5,
                time: 7,
                input: 3,
                hidden: 12,
                cell,
            };
            let x: Vec<f32> = (0..5 * 7 * 3).map(val).collect();
            let w: Vec<f32> = (0..(12 + 3 + 1) * dims.cols())
                .map(|i| 0.5 * val(i + 3))
                .collect();
            let dout: Vec<f32> = (0..5 * 7 * 12).map(|i| val(i + 11)).collect();
            let (out_a, saved_a) = forward(dims.clone(), x.clone(), w.clone(), true);
            let (out_b, saved_b) = forward_loops(dims.clone(), x.clone(), w.clone(), true);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&out_a), bits(&out_b), "{cell:?} forward");
            let (saved_a, saved_b) = (saved_a.unwrap(), saved_b.unwrap());
            let (dx_a, dw_a) = backward(&saved_a, &dout);
            let (dx_b, dw_b) = backward_loops(&saved_b, &dout);
            assert_eq!(bits(&dx_a), bits(&dx_b), "{cell:?} dx");
            assert_eq!(bits(&dw_a), bits(&dw_b), "{cell:?} dw");
        }
    }
}
