//! Evaluation metrics on plain `f64`/`f32` slices, following scikit-learn's definitions.
//!
//! Classification: [`accuracy`], [`ConfusionMatrix`] with per-class and macro-averaged
//! precision, recall and F1 (scikit-learn semantics: macro averages run over the classes
//! that occur in the targets or the predictions, and a zero denominator gives 0), and
//! [`roc_auc`] (Mann–Whitney statistic with average ranks for ties).
//! Regression: [`mse`], [`rmse`], [`mae`], [`r2`]. Language models: [`perplexity`].
//! Helpers: [`argmax`] and a numerically stable [`softmax`].
//!
//! No function panics: slices of different lengths are compared up to the shorter one,
//! and empty inputs give 0 (documented per function).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Fraction of positions where `pred` equals `target` (over the shorter length);
/// 0.0 when there is nothing to compare.
pub fn accuracy(pred: &[usize], target: &[usize]) -> f64 {
    let n = pred.len().min(target.len());
    if n == 0 {
        return 0.0;
    }
    let correct = pred.iter().zip(target).filter(|(p, t)| p == t).count();
    correct as f64 / n as f64
}

/// `a / b`, or 0.0 when `b` is zero (scikit-learn's `zero_division=0`).
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A confusion matrix: `counts[t * num_classes + p]` is the number of samples of true
/// class `t` predicted as class `p`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// The number of classes (rows and columns).
    pub num_classes: usize,
    /// Counts, row-major: row = true class, column = predicted class.
    pub counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Counts `(target[i], pred[i])` pairs (up to the shorter length). Pairs with a class
    /// `>= num_classes` on either side are not counted. Allocates `num_classes²` counters.
    pub fn from_predictions(pred: &[usize], target: &[usize], num_classes: usize) -> Self {
        let mut counts = vec![0u64; num_classes.saturating_mul(num_classes)];
        for (&p, &t) in pred.iter().zip(target) {
            if p < num_classes && t < num_classes {
                counts[t * num_classes + p] += 1;
            }
        }
        Self {
            num_classes,
            counts,
        }
    }

    /// The number of samples of true class `t` predicted as `p` (0 when out of range).
    pub fn get(&self, t: usize, p: usize) -> u64 {
        if t >= self.num_classes || p >= self.num_classes {
            return 0;
        }
        self.counts
            .get(t * self.num_classes + p)
            .copied()
            .unwrap_or(0)
    }

    /// The total number of counted samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0, |acc, &c| acc.saturating_add(c))
    }

    /// The number of samples whose true class is `c` (row sum).
    pub fn support(&self, c: usize) -> u64 {
        (0..self.num_classes).fold(0, |acc, p| acc.saturating_add(self.get(c, p)))
    }

    /// The number of samples predicted as class `c` (column sum).
    pub fn predicted(&self, c: usize) -> u64 {
        (0..self.num_classes).fold(0, |acc, t| acc.saturating_add(self.get(t, c)))
    }

    /// Precision of class `c`: `tp / predicted(c)`, 0 when nothing was predicted as `c`.
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.get(c, c), self.predicted(c))
    }

    /// Recall of class `c`: `tp / support(c)`, 0 when class `c` never occurs.
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.get(c, c), self.support(c))
    }

    /// F1 score of class `c`: `2 tp / (support + predicted)`, 0 when both are 0.
    pub fn f1(&self, c: usize) -> f64 {
        // In f64 so that huge (deserialized) counts cannot overflow.
        let denom = self.support(c) as f64 + self.predicted(c) as f64;
        if denom == 0.0 {
            0.0
        } else {
            2.0 * self.get(c, c) as f64 / denom
        }
    }

    /// The classes that occur among the targets or the predictions.
    fn present_classes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.num_classes).filter(|&c| self.support(c) > 0 || self.predicted(c) > 0)
    }

    /// Mean of `f` over the present classes; 0 when no class is present.
    fn macro_average(&self, f: impl Fn(usize) -> f64) -> f64 {
        let (sum, n) = self
            .present_classes()
            .fold((0.0, 0usize), |(s, n), c| (s + f(c), n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    }

    /// Macro-averaged precision (`precision_score(average="macro", zero_division=0)`).
    pub fn macro_precision(&self) -> f64 {
        self.macro_average(|c| self.precision(c))
    }

    /// Macro-averaged recall (`recall_score(average="macro", zero_division=0)`).
    pub fn macro_recall(&self) -> f64 {
        self.macro_average(|c| self.recall(c))
    }

    /// Macro-averaged F1: the mean of per-class F1 scores (`f1_score(average="macro")`).
    pub fn macro_f1(&self) -> f64 {
        self.macro_average(|c| self.f1(c))
    }
}

impl fmt::Display for ConfusionMatrix {
    /// An aligned table, one row per true class, one column per predicted class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let corner = "true\\pred";
        let max_count = self.counts.iter().copied().max().unwrap_or(0);
        let width = max_count
            .to_string()
            .len()
            .max(self.num_classes.saturating_sub(1).to_string().len());
        write!(f, "{corner}")?;
        for p in 0..self.num_classes {
            write!(f, " {p:>width$}")?;
        }
        for t in 0..self.num_classes {
            writeln!(f)?;
            write!(f, "{t:>w$}", w = corner.len())?;
            for p in 0..self.num_classes {
                write!(f, " {:>width$}", self.get(t, p))?;
            }
        }
        Ok(())
    }
}

/// `(score, positive)` pairs, sorted by ascending score, with the counts of positives and
/// negatives.
type ScoredPairs = (Vec<(f64, bool)>, usize, usize);

/// [`ScoredPairs`] of `scores` and `positive` (up to the shorter length; ordered by
/// [`f64::total_cmp`]); `None` when only one class occurs.
fn scored_pairs(scores: &[f64], positive: &[bool]) -> Option<ScoredPairs> {
    let mut pairs: Vec<(f64, bool)> = scores
        .iter()
        .copied()
        .zip(positive.iter().copied())
        .collect();
    let n_pos = pairs.iter().filter(|(_, p)| *p).count();
    let n_neg = pairs.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some((pairs, n_pos, n_neg))
}

/// The ROC curve of `scores` for the binary labels `positive` (up to the shorter length):
/// `(false positive rate, true positive rate)` from `(0, 0)` to `(1, 1)`, one point per
/// distinct score, thresholds from the highest score down (tied scores move both rates at
/// once, as `sklearn.metrics.roc_curve`). `None` when only one class occurs.
pub fn roc_points(scores: &[f64], positive: &[bool]) -> Option<Vec<(f64, f64)>> {
    let (mut pairs, n_pos, n_neg) = scored_pairs(scores, positive)?;
    pairs.reverse();
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start;
        while end < pairs.len() && pairs[end].0 == pairs[start].0 {
            if pairs[end].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            end += 1;
        }
        points.push((fp as f64 / n_neg as f64, tp as f64 / n_pos as f64));
        start = end;
    }
    Some(points)
}

/// Area under the ROC curve of `scores` for the binary labels `positive` (up to the
/// shorter length), as `sklearn.metrics.roc_auc_score`.
///
/// Computed as the Mann–Whitney statistic with average ranks, so tied scores between a
/// positive and a negative count one half; O(n log n). `None` when only one class
/// occurs. NaN scores are ordered by [`f64::total_cmp`] and never tie.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let (pairs, n_pos, n_neg) = scored_pairs(scores, positive)?;
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start + 1;
        while end < pairs.len() && pairs[end].0 == pairs[start].0 {
            end += 1;
        }
        let avg_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = pairs[start..end].iter().filter(|(_, p)| *p).count();
        rank_sum += avg_rank * pos_in_group as f64;
        start = end;
    }
    let n_pos = n_pos as f64;
    let n_neg = n_neg as f64;
    Some((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// Pairs of `(pred, target)` up to the shorter length.
fn pairs<'a>(pred: &'a [f64], target: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    pred.iter().copied().zip(target.iter().copied())
}

/// Mean of `f(pred, target)` over the pairs; 0.0 when empty.
fn mean_over(pred: &[f64], target: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let n = pred.len().min(target.len());
    if n == 0 {
        return 0.0;
    }
    pairs(pred, target).map(|(p, t)| f(p, t)).sum::<f64>() / n as f64
}

/// Mean squared error; 0.0 for empty input.
pub fn mse(pred: &[f64], target: &[f64]) -> f64 {
    mean_over(pred, target, |p, t| (p - t) * (p - t))
}

/// Root mean squared error; 0.0 for empty input.
pub fn rmse(pred: &[f64], target: &[f64]) -> f64 {
    mse(pred, target).sqrt()
}

/// Mean absolute error; 0.0 for empty input.
pub fn mae(pred: &[f64], target: &[f64]) -> f64 {
    mean_over(pred, target, |p, t| (p - t).abs())
}

/// Coefficient of determination `1 - SS_res / SS_tot`, as `sklearn.metrics.r2_score`.
///
/// When the targets are constant (`SS_tot == 0`) the result is 1.0 for a perfect
/// prediction and 0.0 otherwise (scikit-learn's convention). Empty input gives 0.0.
pub fn r2(pred: &[f64], target: &[f64]) -> f64 {
    let n = pred.len().min(target.len());
    if n == 0 {
        return 0.0;
    }
    let mean = target[..n].iter().sum::<f64>() / n as f64;
    let ss_tot: f64 = target[..n].iter().map(|t| (t - mean) * (t - mean)).sum();
    let ss_res: f64 = pairs(pred, target).map(|(p, t)| (t - p) * (t - p)).sum();
    if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// Perplexity from the mean negative log-likelihood per token, in nats: `exp(nll)`.
pub fn perplexity(mean_nll_nats: f64) -> f64 {
    mean_nll_nats.exp()
}

/// Index of the first maximum of `row`, ignoring NaN; 0 for an empty or all-NaN row.
pub fn argmax(row: &[f32]) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in row.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// Numerically stable softmax of `row` (the maximum is subtracted before `exp`).
///
/// NaN entries get probability 0. If some entries are `+inf`, they share the mass
/// equally; if no entry is a number above `-inf`, the result is uniform.
pub fn softmax(row: &[f32]) -> Vec<f32> {
    if row.is_empty() {
        return Vec::new();
    }
    let max = row
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f32::NEG_INFINITY, f32::max);
    let uniform = || vec![1.0 / row.len() as f32; row.len()];
    if max == f32::NEG_INFINITY {
        return uniform();
    }
    let exps: Vec<f32> = if max == f32::INFINITY {
        row.iter()
            .map(|&v| if v == f32::INFINITY { 1.0 } else { 0.0 })
            .collect()
    } else {
        row.iter()
            .map(|&v| if v.is_nan() { 0.0 } else { (v - max).exp() })
            .collect()
    };
    // The maximum contributes exp(0) = 1, so the sum is at least 1.
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Summary of a classifier's quality; precision, recall and F1 are macro averages.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ClassificationMetrics {
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Macro-averaged precision.
    pub precision: f64,
    /// Macro-averaged recall.
    pub recall: f64,
    /// Macro-averaged F1 score.
    pub f1: f64,
    /// ROC AUC of the class-1 probability (binary problems with both classes only).
    pub auc: Option<f64>,
}

/// Evaluates class probabilities `probs` (row-major, `num_classes` per row) against
/// `target`: the prediction is each row's [`argmax`]. Rows are paired with targets up to
/// the shorter count. The AUC is computed only when `num_classes == 2`, from the class-1
/// probabilities.
pub fn classification_metrics(
    probs: &[f32],
    num_classes: usize,
    target: &[usize],
) -> (ClassificationMetrics, ConfusionMatrix) {
    if num_classes == 0 {
        return (
            ClassificationMetrics::default(),
            ConfusionMatrix::from_predictions(&[], &[], 0),
        );
    }
    let rows: Vec<&[f32]> = probs.chunks_exact(num_classes).take(target.len()).collect();
    let target = &target[..rows.len()];
    let pred: Vec<usize> = rows.iter().map(|r| argmax(r)).collect();
    let cm = ConfusionMatrix::from_predictions(&pred, target, num_classes);
    let auc = if num_classes == 2 {
        let scores: Vec<f64> = rows.iter().map(|r| f64::from(r[1])).collect();
        let positive: Vec<bool> = target.iter().map(|&t| t == 1).collect();
        roc_auc(&scores, &positive)
    } else {
        None
    };
    let metrics = ClassificationMetrics {
        accuracy: accuracy(&pred, target),
        precision: cm.macro_precision(),
        recall: cm.macro_recall(),
        f1: cm.macro_f1(),
        auc,
    };
    (metrics, cm)
}

/// Summary of a regressor's quality.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RegressionMetrics {
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

/// Computes all [`RegressionMetrics`] of `pred` against `target`.
pub fn regression_metrics(pred: &[f64], target: &[f64]) -> RegressionMetrics {
    RegressionMetrics {
        mse: mse(pred, target),
        rmse: rmse(pred, target),
        mae: mae(pred, target),
        r2: r2(pred, target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12, "got {a}, want {b}");
    }

    #[test]
    fn accuracy_counts_matches() {
        // 3 of 4 equal -> 0.75
        close(accuracy(&[0, 1, 2, 2], &[0, 1, 2, 1]), 0.75);
        close(accuracy(&[], &[]), 0.0);
        // Compared up to the shorter length: [1, 0] vs [1, 1] -> 1/2.
        close(accuracy(&[1, 0, 5], &[1, 1]), 0.5);
    }

    // y_true = [0, 1, 2, 2, 1, 0, 3, 3], y_pred = [0, 2, 2, 2, 1, 0, 0, 1]
    const YT: [usize; 8] = [0, 1, 2, 2, 1, 0, 3, 3];
    const YP: [usize; 8] = [0, 2, 2, 2, 1, 0, 0, 1];

    #[test]
    fn confusion_matrix_counts() {
        let cm = ConfusionMatrix::from_predictions(&YP, &YT, 4);
        // Rows = true class: 0 -> {0: 2}, 1 -> {1: 1, 2: 1}, 2 -> {2: 2}, 3 -> {0: 1, 1: 1}
        assert_eq!(cm.counts, [2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 0, 1, 1, 0, 0]);
        assert_eq!(cm.get(3, 1), 1);
        assert_eq!(cm.get(9, 0), 0);
        assert_eq!(cm.total(), 8);
        assert_eq!(cm.support(1), 2);
        assert_eq!(cm.predicted(0), 3);
    }

    #[test]
    fn per_class_scores() {
        let cm = ConfusionMatrix::from_predictions(&YP, &YT, 4);
        // class 0: tp 2, predicted 3, support 2 -> p 2/3, r 1, f1 = 2*2/(2+3) = 0.8
        close(cm.precision(0), 2.0 / 3.0);
        close(cm.recall(0), 1.0);
        close(cm.f1(0), 0.8);
        // class 1: tp 1, predicted 2, support 2 -> p 0.5, r 0.5, f1 0.5
        close(cm.f1(1), 0.5);
        // class 3: never predicted -> precision 0 (zero_division=0), tp 0 -> recall 0, f1 0
        close(cm.precision(3), 0.0);
        close(cm.recall(3), 0.0);
        close(cm.f1(3), 0.0);
    }

    #[test]
    fn macro_scores_match_sklearn() {
        // precision_recall_fscore_support(YT, YP, average='macro', zero_division=0)
        //   = (0.45833333333333326, 0.625, 0.525)
        // p: (2/3 + 1/2 + 2/3 + 0) / 4 = 0.458333...
        // r: (1 + 1/2 + 1 + 0) / 4 = 0.625
        // f1: (0.8 + 0.5 + 0.8 + 0) / 4 = 0.525
        let cm = ConfusionMatrix::from_predictions(&YP, &YT, 4);
        close(cm.macro_precision(), 0.45833333333333326);
        close(cm.macro_recall(), 0.625);
        close(cm.macro_f1(), 0.525);
        // A class absent from both targets and predictions (class 4) is not averaged.
        let cm5 = ConfusionMatrix::from_predictions(&YP, &YT, 5);
        close(cm5.macro_precision(), 0.45833333333333326);
        close(cm5.macro_f1(), 0.525);
    }

    #[test]
    fn macro_scores_with_class_only_in_predictions() {
        // y_true = [0, 0, 1, 1], y_pred = [0, 2, 1, 1]; sklearn macro: (2/3, 0.5, 5/9)
        // class 0: p 1/1, r 1/2, f1 2/3; class 1: p 1, r 1, f1 1;
        // class 2: p 0/1 = 0, r 0 (no support), f1 0.
        // p = (1 + 1 + 0)/3, r = (0.5 + 1 + 0)/3, f1 = (2/3 + 1 + 0)/3 = 0.5555...
        let cm = ConfusionMatrix::from_predictions(&[0, 2, 1, 1], &[0, 0, 1, 1], 3);
        close(cm.macro_precision(), 0.6666666666666666);
        close(cm.macro_recall(), 0.5);
        close(cm.macro_f1(), 0.5555555555555555);
    }

    #[test]
    fn out_of_range_and_empty_confusion() {
        let cm = ConfusionMatrix::from_predictions(&[0, 7], &[0, 1], 2);
        assert_eq!(cm.total(), 1);
        let empty = ConfusionMatrix::from_predictions(&[], &[], 3);
        close(empty.macro_f1(), 0.0);
        let none = ConfusionMatrix::from_predictions(&[0], &[0], 0);
        assert_eq!(none.total(), 0);
        assert_eq!(none.to_string(), "true\\pred");
    }

    #[test]
    fn display_is_aligned() {
        let cm = ConfusionMatrix::from_predictions(&[0, 1, 1, 1], &[0, 1, 1, 0], 2);
        let want = "true\\pred 0 1\n        0 1 1\n        1 0 2";
        assert_eq!(cm.to_string(), want);
        // Wider counts widen every column.
        let pred = vec![0; 120];
        let cm = ConfusionMatrix::from_predictions(&pred, &pred, 2);
        let want = "true\\pred   0   1\n        0 120   0\n        1   0   0";
        assert_eq!(cm.to_string(), want);
    }

    #[test]
    fn roc_points_match_sklearn_and_integrate_to_the_auc() {
        // roc_curve([0,0,1,1,1,0,1,1], [0.1,0.4,0.35,0.8,0.4,0.4,0.9,0.1]):
        // fpr [0, 0, 0, 2/3, 2/3, 1], tpr [0, .2, .4, .6, .8, 1] (without sklearn's drop of
        // collinear points: here every distinct threshold is a point).
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.1];
        let p = [false, false, true, true, true, false, true, true];
        let pts = roc_points(&s, &p).unwrap();
        let want = [
            (0.0, 0.0),
            (0.0, 0.2),
            (0.0, 0.4),
            (2.0 / 3.0, 0.6),
            (2.0 / 3.0, 0.8),
            (1.0, 1.0),
        ];
        assert_eq!(pts.len(), want.len());
        for (a, b) in pts.iter().zip(want) {
            close(a.0, b.0);
            close(a.1, b.1);
        }
        // The trapezoids under the points are the AUC.
        let area: f64 = pts
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum();
        close(area, roc_auc(&s, &p).unwrap());
        assert!(roc_points(&s, &[true; 8]).is_none());
    }

    #[test]
    fn roc_auc_with_ties_matches_sklearn() {
        // roc_auc_score([0,0,1,1,1,0,1,1], [0.1,0.4,0.35,0.8,0.4,0.4,0.9,0.1]) = 0.6333...
        // positives 0.35, 0.8, 0.4, 0.9, 0.1 vs negatives 0.1, 0.4, 0.4 (15 pairs):
        // 0.35 beats 1; 0.8 beats 3; 0.4 beats 1 and ties 2 (+1); 0.9 beats 3;
        // 0.1 ties 1 (+0.5) -> 9.5 / 15 = 0.6333...
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.1];
        let p = [false, false, true, true, true, false, true, true];
        close(roc_auc(&s, &p).unwrap(), 0.6333333333333333);
    }

    #[test]
    fn roc_auc_edge_cases() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[], &[]), None);
        close(roc_auc(&[0.1, 0.9], &[false, true]).unwrap(), 1.0);
        close(roc_auc(&[0.9, 0.1], &[false, true]).unwrap(), 0.0);
        // All scores tied -> every pair counts one half.
        close(
            roc_auc(&[0.5; 4], &[true, false, true, false]).unwrap(),
            0.5,
        );
        // NaN does not panic.
        assert!(roc_auc(&[f64::NAN, 0.3, 0.2], &[true, false, true]).is_some());
    }

    #[test]
    fn regression_metrics_match_sklearn() {
        // target [3, -0.5, 2, 7], pred [2.5, 0, 2, 8]; errors -0.5, 0.5, 0, 1
        // mse = (0.25 + 0.25 + 0 + 1) / 4 = 0.375; mae = (0.5 + 0.5 + 0 + 1) / 4 = 0.5
        // mean target 2.875; SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
        // r2 = 1 - 1.5 / 29.1875 = 0.9486081370449679 (sklearn r2_score)
        let target = [3.0, -0.5, 2.0, 7.0];
        let pred = [2.5, 0.0, 2.0, 8.0];
        let m = regression_metrics(&pred, &target);
        close(m.mse, 0.375);
        close(m.rmse, 0.375f64.sqrt());
        close(m.mae, 0.5);
        close(m.r2, 0.9486081370449679);
    }

    #[test]
    fn r2_constant_target_convention() {
        close(r2(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
        close(r2(&[1.0, 2.0], &[1.0, 1.0]), 0.0);
        close(r2(&[], &[]), 0.0);
        close(mse(&[], &[1.0]), 0.0);
        // Predicting the mean gives 0; anti-correlated predictions go negative:
        // target [1, 3], pred [3, 1]: SS_res = 8, SS_tot = 2 -> 1 - 4 = -3
        close(r2(&[2.0, 2.0], &[1.0, 3.0]), 0.0);
        close(r2(&[3.0, 1.0], &[1.0, 3.0]), -3.0);
    }

    #[test]
    fn perplexity_is_exp() {
        close(perplexity(0.0), 1.0);
        // A uniform model over 10 tokens has nll ln 10 and perplexity 10.
        close(perplexity(10f64.ln()), 10.0);
    }

    #[test]
    fn argmax_first_max_and_nan() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.1, 0.3]), 2);
        assert_eq!(argmax(&[0.5, f32::NAN, 0.4]), 0);
        assert_eq!(argmax(&[]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
        assert_eq!(argmax(&[-1.0, f32::INFINITY]), 1);
    }

    #[test]
    fn softmax_is_stable() {
        // softmax([1, 2, 3]) = e^{-2,-1,0} / (e^-2 + e^-1 + 1)
        let s = softmax(&[1.0, 2.0, 3.0]);
        let z = (-2f32).exp() + (-1f32).exp() + 1.0;
        for (got, want) in s
            .iter()
            .zip([(-2f32).exp() / z, (-1f32).exp() / z, 1.0 / z])
        {
            assert!((got - want).abs() < 1e-6);
        }
        // Large logits do not overflow.
        let s = softmax(&[1000.0, 1000.0]);
        assert_eq!(s, [0.5, 0.5]);
        assert!(softmax(&[]).is_empty());
        assert_eq!(softmax(&[f32::NAN, 0.0]), [0.0, 1.0]);
        assert_eq!(
            softmax(&[f32::INFINITY, 0.0, f32::INFINITY]),
            [0.5, 0.0, 0.5]
        );
        assert_eq!(softmax(&[f32::NEG_INFINITY; 2]), [0.5, 0.5]);
        assert_eq!(softmax(&[f32::NAN; 4]), [0.25; 4]);
    }

    #[test]
    fn classification_summary_binary() {
        // Rows (p0, p1): predictions argmax -> [1, 0, 1, 0]; targets [1, 0, 0, 0]
        // accuracy 3/4; class 0: tp 2, pred 2, support 3 -> p 1, r 2/3, f1 4/5
        // class 1: tp 1, pred 2, support 1 -> p 1/2, r 1, f1 2/3
        // macro p = 0.75, r = 5/6, f1 = (0.8 + 2/3) / 2 = 11/15
        // AUC on p1 = [0.9, 0.2, 0.6, 0.3] with positive only the first: 3/3 pairs = 1.0
        let probs = [0.1, 0.9, 0.8, 0.2, 0.4, 0.6, 0.7, 0.3];
        let (m, cm) = classification_metrics(&probs, 2, &[1, 0, 0, 0]);
        close(m.accuracy, 0.75);
        close(m.precision, 0.75);
        close(m.recall, 5.0 / 6.0);
        close(m.f1, 11.0 / 15.0);
        close(m.auc.unwrap(), 1.0);
        assert_eq!(cm.counts, [2, 1, 0, 1]);
    }

    #[test]
    fn classification_summary_multiclass_and_degenerate() {
        let probs = [0.2, 0.5, 0.3, 0.6, 0.3, 0.1];
        let (m, cm) = classification_metrics(&probs, 3, &[1, 2]);
        close(m.accuracy, 0.5);
        assert_eq!(m.auc, None);
        assert_eq!(cm.total(), 2);
        let (m, _) = classification_metrics(&probs, 0, &[1, 2]);
        close(m.accuracy, 0.0);
        // More targets than rows, and a partial trailing row: pairs are truncated.
        let (m, cm) = classification_metrics(&[0.9, 0.1, 0.5], 2, &[0, 1, 1]);
        close(m.accuracy, 1.0);
        assert_eq!(cm.total(), 1);
        assert_eq!(m.auc, None);
    }

    #[test]
    fn huge_or_inconsistent_counts_do_not_panic() {
        let cm = ConfusionMatrix {
            num_classes: 2,
            counts: vec![u64::MAX, u64::MAX, u64::MAX],
        };
        assert_eq!(cm.total(), u64::MAX);
        assert_eq!(cm.get(1, 1), 0);
        close(cm.f1(0), 1.0);
        assert!(cm.macro_f1().is_finite());
        assert!(!cm.to_string().is_empty());
    }

    #[test]
    fn summaries_are_serde() {
        fn is_serde<T: Serialize + for<'de> Deserialize<'de>>() {}
        is_serde::<ClassificationMetrics>();
        is_serde::<RegressionMetrics>();
        is_serde::<ConfusionMatrix>();
    }
}
