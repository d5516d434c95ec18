//! One-step-ahead forecasting of a univariate series: reading the series from a CSV file
//! ([`read_series_csv`]) and cutting it into chronological train / validation / test sets of
//! sliding windows ([`forecast_splits`]).
//!
//! The bundled example series is `assets/sunspots.csv` (yearly sunspot numbers 1700-2008).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::data::Targets;
use crate::error::DataError;
use crate::preprocess::StandardScaler;
use crate::sequence::SequenceDataset;
use crate::table::{csv_error, quote_cell};

/// Whether a (trimmed) cell parses as a number.
fn is_number(cell: &[u8]) -> bool {
    std::str::from_utf8(cell).is_ok_and(|s| s.parse::<f64>().is_ok())
}

/// Reads one column of a CSV file as a series of finite numbers, in file order.
///
/// Fields are trimmed of surrounding whitespace and a UTF-8 byte-order mark is ignored. The
/// first row is a header when any of its cells is not a number. The column is `column`, looked
/// up by header name, when given; otherwise the only column, or the last one when there are
/// several (so `year,value` files need no option). Only the chosen column has to be numeric;
/// other columns (dates, labels) are just counted.
///
/// Errors name the file and, for row problems, the 1-based line number (the header being line
/// 1): unreadable file, empty file, a header without data rows, `column` not found (the
/// available columns are listed) or given for a file without a header, rows with a different
/// number of fields than the first row, and values of the chosen column that are not valid
/// UTF-8, not numbers or not finite. How many values the series needs is not checked here.
pub fn read_series_csv(path: &Path, column: Option<&str>) -> Result<Vec<f64>, DataError> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not a CSV file"));
    }
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(BufReader::new(file));

    let mut records = reader.byte_records();
    let Some(first) = records.next() else {
        return Err(DataError::csv(path, "empty file (no rows)"));
    };
    let mut first = first.map_err(|e| csv_error(path, e))?;
    if let Some(cell) = first.get(0)
        && let Some(rest) = cell.strip_prefix(b"\xEF\xBB\xBF")
    {
        let mut fixed = csv::ByteRecord::new();
        fixed.push_field(rest);
        for c in first.iter().skip(1) {
            fixed.push_field(c);
        }
        fixed.set_position(first.position().cloned());
        first = fixed;
    }
    let n_cols = first.len();
    let has_header = first.iter().any(|c| !is_number(c));

    let names: Option<Vec<String>> = if has_header {
        let mut names = Vec::with_capacity(n_cols);
        for (i, raw) in first.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|_| {
                DataError::csv(
                    path,
                    format!("line 1: header of column {} is not valid UTF-8", i + 1),
                )
            })?;
            names.push(name.to_owned());
        }
        Some(names)
    } else {
        None
    };

    let col = match (column, &names) {
        (Some(wanted), Some(names)) => {
            let found: Vec<usize> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() == wanted)
                .map(|(i, _)| i)
                .collect();
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Err(DataError::csv(
                        path,
                        format!(
                            "column '{wanted}' not found; available columns: {}",
                            names.join(", ")
                        ),
                    ));
                }
                many => {
                    return Err(DataError::csv(
                        path,
                        format!(
                            "column '{wanted}' appears {} times in the header",
                            many.len()
                        ),
                    ));
                }
            }
        }
        (Some(wanted), None) => {
            return Err(DataError::csv(
                path,
                format!(
                    "column '{wanted}' asked for, but the file has no header row \
                     (every cell of line 1 is a number)"
                ),
            ));
        }
        (None, _) => n_cols.saturating_sub(1),
    };
    let col_label = match &names {
        Some(names) => format!("column '{}'", names[col]),
        None => format!("column {}", col + 1),
    };

    let mut values = Vec::new();
    let rows = (!has_header)
        .then_some(Ok(first))
        .into_iter()
        .chain(records);
    for record in rows {
        let record = record.map_err(|e| csv_error(path, e))?;
        // Records are numbered by the line they start on.
        let line = record.position().map_or(
            values.len() as u64 + 1 + u64::from(has_header),
            csv::Position::line,
        );
        if record.len() != n_cols {
            let like = if has_header { "the header" } else { "line 1" };
            return Err(DataError::csv(
                path,
                format!(
                    "line {line}: expected {n_cols} fields like {like}, found {}",
                    record.len()
                ),
            ));
        }
        let raw = &record[col];
        let text = std::str::from_utf8(raw).map_err(|_| {
            DataError::csv(path, format!("line {line}, {col_label}: not valid UTF-8"))
        })?;
        let value: f64 = text.parse().map_err(|_| {
            DataError::csv(
                path,
                format!(
                    "line {line}, {col_label}: {} is not a number",
                    quote_cell(text)
                ),
            )
        })?;
        if !value.is_finite() {
            return Err(DataError::csv(
                path,
                format!(
                    "line {line}, {col_label}: {} is not a finite number",
                    quote_cell(text)
                ),
            ));
        }
        values.push(value);
    }
    if values.is_empty() {
        return Err(DataError::csv(path, "no data rows (only a header)"));
    }
    Ok(values)
}

/// Chronological train / validation / test sets of one-step-ahead forecasting windows, built
/// by [`forecast_splits`].
#[derive(Clone, Debug)]
pub struct ForecastSplits {
    /// Windows whose targets lie in the training segment (the start of the series).
    pub train: SequenceDataset,
    /// Windows whose targets lie in the validation segment (the block before the test segment).
    pub valid: SequenceDataset,
    /// Windows whose targets lie in the test segment (the end of the series).
    pub test: SequenceDataset,
    /// The standardisation applied to every value, fitted on the training segment only. An MSE
    /// on the standardised targets is `scale[0]²` times the MSE in the series' own units;
    /// [`StandardScaler::inverse_transform`] maps predictions back.
    pub scaler: StandardScaler,
    /// One line describing the split (points and windows per set, window, scaler), for logs
    /// and reports.
    pub description: String,
}

/// Number of points a fraction of `n` stands for: `ceil(fraction * n)`, 0 for a fraction 0.
fn segment_len(n: usize, fraction: f64) -> usize {
    let wanted = (fraction * n as f64).ceil();
    if wanted > 0.0 {
        (wanted as usize).min(n)
    } else {
        0
    }
}

/// Windows of `window` consecutive values of `z` whose targets are the points `targets`:
/// sample `t` has the inputs `z[t - window..t]` (one feature per step) and the target `z[t]`.
fn windows(z: &[f64], window: usize, targets: std::ops::Range<usize>) -> SequenceDataset {
    let mut values = Vec::with_capacity(targets.len() * window);
    let mut target_values = Vec::with_capacity(targets.len());
    for t in targets {
        values.extend(z[t - window..t].iter().map(|&v| v as f32));
        target_values.push(z[t] as f32);
    }
    SequenceDataset {
        values,
        steps: window,
        features: 1,
        targets: Targets::Values {
            values: target_values,
            dim: 1,
        },
    }
}

/// Cuts `series` into one-step-ahead forecasting sets without looking ahead.
///
/// The series is split chronologically into three segments: test is the last
/// `ceil(test_fraction * n)` points, validation the `ceil(valid_fraction * n)` points before
/// it, training the rest. A [`StandardScaler`] (one feature) is fitted on the training segment
/// only and applied to every value. Each sample is a sliding window: the inputs are `window`
/// consecutive standardised values (`steps = window`, `features = 1`), the target the next
/// standardised value ([`Targets::Values`], `dim` 1). Every point from index `window` on is
/// the target of exactly one sample, in the set of the segment it lies in; validation and test
/// windows may look back across the segment boundary, but no validation or test target is
/// a training target or input. Samples are in chronological order.
///
/// Errors (one line, naming the command-line flag): `window` 0, a fraction outside `[0, 1)`
/// or fractions adding up to 1 or more, and a series too short for `window + 1` training
/// points plus one point for each non-empty validation and test segment (also after the
/// fractions are rounded).
pub fn forecast_splits(
    series: &[f64],
    window: usize,
    valid_fraction: f64,
    test_fraction: f64,
) -> Result<ForecastSplits, String> {
    if window == 0 {
        return Err("window must be at least 1".into());
    }
    for (flag, f) in [
        ("valid_fraction", valid_fraction),
        ("test_fraction", test_fraction),
    ] {
        if !(0.0..1.0).contains(&f) {
            return Err(format!("{flag} must be in [0, 1), got {f}"));
        }
    }
    if valid_fraction + test_fraction >= 1.0 {
        return Err(format!(
            "valid_fraction ({valid_fraction}) plus test_fraction ({test_fraction}) must be \
             less than 1"
        ));
    }
    if let Some(bad) = series.iter().find(|v| !v.is_finite()) {
        return Err(format!("the series contains a non-finite value ({bad})"));
    }

    let n = series.len();
    let want_valid = valid_fraction > 0.0;
    let want_test = test_fraction > 0.0;
    let needed = window + 1 + usize::from(want_valid) + usize::from(want_test);
    if n < needed {
        let rest = match (want_valid, want_test) {
            (true, true) => " and one point each for validation and test",
            (true, false) => " and one point for validation",
            (false, true) => " and one point for test",
            (false, false) => "",
        };
        return Err(format!(
            "the series has {n} points; window {window} needs at least {needed} \
             ({} training points{rest})",
            window + 1
        ));
    }
    let n_test = segment_len(n, test_fraction);
    let n_valid = segment_len(n, valid_fraction);
    let n_train = n.saturating_sub(n_test + n_valid);
    if n_train < window + 1 {
        return Err(format!(
            "the series has {n} points; with valid_fraction {valid_fraction} \
             ({n_valid} points) and test_fraction {test_fraction} ({n_test} points) the \
             training segment keeps {n_train}, but window {window} needs at least {} \
             training points",
            window + 1
        ));
    }

    let scaler = StandardScaler::fit(&series[..n_train], 1);
    let mut z = series.to_vec();
    scaler.transform(&mut z);

    let valid_start = n_train;
    let test_start = n_train + n_valid;
    let train = windows(&z, window, window..valid_start);
    let valid = windows(&z, window, valid_start..test_start);
    let test = windows(&z, window, test_start..n);
    let description = format!(
        "{n} points split chronologically into {n_train} train / {n_valid} valid / {n_test} \
         test; window {window}, one-step-ahead: {} / {} / {} samples; standardised with the \
         train mean {:.4} and std {:.4}",
        n_train - window,
        n_valid,
        n_test,
        scaler.mean[0],
        scaler.scale[0]
    );
    Ok(ForecastSplits {
        train,
        valid,
        test,
        scaler,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use std::path::PathBuf;

    /// Writes `content` to a fresh temporary file and returns its path.
    fn temp_csv(name: &str, content: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zoo-forecast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn err_of(name: &str, content: &[u8], column: Option<&str>) -> String {
        let path = temp_csv(name, content);
        let msg = read_series_csv(&path, column).unwrap_err().to_string();
        assert!(
            msg.starts_with(&path.display().to_string()),
            "no file name in {msg}"
        );
        assert!(!msg.contains('\n'), "multi-line message {msg}");
        msg
    }

    fn target_values(d: &SequenceDataset) -> &[f32] {
        match &d.targets {
            Targets::Values { values, dim } => {
                assert_eq!(*dim, 1);
                values
            }
            Targets::Classes(_) => panic!("class targets"),
        }
    }

    fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-5, "{a} != {b}");
    }

    /// A series saved with a UTF-8 byte-order mark: the header still names its columns, and
    /// a headerless file's first value is still a number.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let path = temp_csv("bom-header.csv", b"\xEF\xBB\xBFyear,count\n1,5\n2,7\n");
        assert_eq!(read_series_csv(&path, Some("year")).unwrap(), [1.0, 2.0]);
        let path = temp_csv("bom-plain.csv", b"\xEF\xBB\xBF5\n7\n9\n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [5.0, 7.0, 9.0]);
    }

    #[test]
    fn shipped_sunspots_csv() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sunspots.csv");
        let s = read_series_csv(&path, None).unwrap();
        assert_eq!(s.len(), 309);
        // 1700,5 and 2008,2.9; the maximum is 190.2 (1957).
        assert_eq!(s[0], 5.0);
        assert_eq!(s[1], 11.0);
        assert_eq!(s[308], 2.9);
        assert_eq!(s[1957 - 1700], 190.2);
        assert_eq!(read_series_csv(&path, Some("sunspots")).unwrap(), s);
        let years = read_series_csv(&path, Some("year")).unwrap();
        assert_eq!(years.first(), Some(&1700.0));
        assert_eq!(years.last(), Some(&2008.0));
        assert!(years.windows(2).all(|w| w[1] == w[0] + 1.0));

        let splits = forecast_splits(&s, 20, 0.15, 0.15).unwrap();
        // ceil(0.15 * 309) = 47 points each for valid and test, 215 for training.
        assert_eq!(splits.train.len(), 215 - 20);
        assert_eq!(splits.valid.len(), 47);
        assert_eq!(splits.test.len(), 47);
        assert_eq!(splits.train.steps, 20);
        assert_eq!(splits.train.features, 1);
        let mut last = [f64::from(*target_values(&splits.test).last().unwrap())];
        splits.scaler.inverse_transform(&mut last);
        assert_close(last[0], 2.9);
    }

    #[test]
    fn header_detection_and_single_column() {
        let path = temp_csv("plain.csv", b"1\n2.5\n -3e1 \n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [1.0, 2.5, -30.0]);
        let path = temp_csv("named.csv", b"\xEF\xBB\xBFvalue\n1\n2\n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [1.0, 2.0]);
        assert_eq!(read_series_csv(&path, Some("value")).unwrap(), [1.0, 2.0]);
        // A header with one non-numeric cell is still a header.
        let path = temp_csv("mixed.csv", b"2020,y\n1,10\n2,20\n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [10.0, 20.0]);
        assert_eq!(read_series_csv(&path, Some("2020")).unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn last_column_by_default_and_others_need_not_be_numbers() {
        let path = temp_csv("dates.csv", b"date,a,b\n2001-01,1,10\n2001-02,2,20\n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [10.0, 20.0]);
        assert_eq!(read_series_csv(&path, Some("a")).unwrap(), [1.0, 2.0]);
        let path = temp_csv("noheader.csv", b"1,10\n2,20\n3,30\n");
        assert_eq!(read_series_csv(&path, None).unwrap(), [10.0, 20.0, 30.0]);
    }

    #[test]
    fn unknown_column_lists_the_columns() {
        let msg = err_of("cols.csv", b"year,sunspots\n1700,5\n", Some("spots"));
        assert!(
            msg.ends_with("column 'spots' not found; available columns: year, sunspots"),
            "{msg}"
        );
        let msg = err_of("dup.csv", b"a,a\n1,2\n", Some("a"));
        assert!(
            msg.ends_with("column 'a' appears 2 times in the header"),
            "{msg}"
        );
        let msg = err_of("nohdr.csv", b"1,2\n3,4\n", Some("a"));
        assert!(msg.contains("no header row"), "{msg}");
    }

    #[test]
    fn bad_number_names_file_line_column_and_value() {
        let msg = err_of("bad.csv", b"year,sunspots\n1700,5\n1701,abc\n", None);
        assert!(
            msg.ends_with("line 3, column 'sunspots': \"abc\" is not a number"),
            "{msg}"
        );
        let msg = err_of("bad2.csv", b"1\n2\n\"\"\n", None);
        assert!(
            msg.ends_with("line 3, column 1: \"\" is not a number"),
            "{msg}"
        );
        let msg = err_of("inf.csv", b"v\n1\ninf\n", None);
        assert!(
            msg.ends_with("line 3, column 'v': \"inf\" is not a finite number"),
            "{msg}"
        );
        let msg = err_of("nan.csv", b"v\nNaN\n", None);
        assert!(msg.ends_with("line 2, column 'v': \"NaN\" is not a finite number"));
        let long = format!("v\n{}\n", "x".repeat(100));
        let msg = err_of("long.csv", long.as_bytes(), None);
        assert!(msg.contains(&format!("\"{}\"...", "x".repeat(40))), "{msg}");
        let msg = err_of("utf8.csv", b"v\n\xff\n", None);
        assert!(
            msg.ends_with("line 2, column 'v': not valid UTF-8"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_field_count() {
        let msg = err_of("ragged.csv", b"a,b\n1,2\n3\n", None);
        assert!(
            msg.ends_with("line 3: expected 2 fields like the header, found 1"),
            "{msg}"
        );
        let msg = err_of("ragged2.csv", b"1,2\n3,4,5\n", None);
        assert!(
            msg.ends_with("line 2: expected 2 fields like line 1, found 3"),
            "{msg}"
        );
    }

    #[test]
    fn empty_file_header_only_and_missing_file() {
        let msg = err_of("empty.csv", b"", None);
        assert!(msg.ends_with("empty file (no rows)"), "{msg}");
        let msg = err_of("hdr.csv", b"year,sunspots\n", None);
        assert!(msg.ends_with("no data rows (only a header)"), "{msg}");
        let path = std::env::temp_dir().join("zoo-forecast-no-such-file.csv");
        let err = read_series_csv(&path, None).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert_eq!(err.path(), path);
    }

    #[test]
    fn windows_and_targets_on_a_small_series() {
        // 0..20: test = last ceil(0.2 * 20) = 4 points (16..20), valid = 4 points (12..16),
        // train = 12 points (0..12).
        let series: Vec<f64> = (0..20).map(f64::from).collect();
        let s = forecast_splits(&series, 3, 0.2, 0.2).unwrap();

        // The scaler saw the training segment only: mean of 0..12 = 5.5, population std.
        assert_eq!(s.scaler.n_features(), 1);
        assert_close(s.scaler.mean[0], 5.5);
        let var = (0..12).map(|v| (f64::from(v) - 5.5).powi(2)).sum::<f64>() / 12.0;
        assert_close(s.scaler.scale[0], var.sqrt());

        // Samples = target points per segment: train targets 3..12, valid 12..16, test 16..20.
        assert_eq!(s.train.len(), 9);
        assert_eq!(s.valid.len(), 4);
        assert_eq!(s.test.len(), 4);
        for d in [&s.train, &s.valid, &s.test] {
            assert_eq!(d.steps, 3);
            assert_eq!(d.features, 1);
            assert_eq!(d.values.len(), d.len() * 3);
        }
        let unscale = |v: f32| f64::from(v) * s.scaler.scale[0] + s.scaler.mean[0];

        // Inputs are the `window` values before the target.
        let first: Vec<f64> = s.train.sample(0).iter().map(|&v| unscale(v)).collect();
        assert_eq!(first.len(), 3);
        for (got, want) in first.iter().zip([0.0, 1.0, 2.0]) {
            assert_close(*got, want);
        }
        assert_close(unscale(target_values(&s.train)[0]), 3.0);
        // A standardised value: (3 - 5.5) / std.
        assert_close(
            f64::from(target_values(&s.train)[0]),
            (3.0 - 5.5) / var.sqrt(),
        );

        let train_targets: Vec<f64> = target_values(&s.train)
            .iter()
            .map(|&v| unscale(v))
            .collect();
        let valid_targets: Vec<f64> = target_values(&s.valid)
            .iter()
            .map(|&v| unscale(v))
            .collect();
        let test_targets: Vec<f64> = target_values(&s.test).iter().map(|&v| unscale(v)).collect();
        // No training target reaches the validation segment.
        assert!(train_targets.iter().all(|&t| t < 11.5));
        assert_close(*train_targets.last().unwrap(), 11.0);
        assert_close(valid_targets[0], 12.0);
        // The first test target is the first point of the test segment; its inputs look back
        // into the validation segment.
        assert_close(test_targets[0], 16.0);
        let test_inputs: Vec<f64> = s.test.sample(0).iter().map(|&v| unscale(v)).collect();
        for (got, want) in test_inputs.iter().zip([13.0, 14.0, 15.0]) {
            assert_close(*got, want);
        }
        // Every point from `window` on is a target exactly once, in order.
        let all: Vec<f64> = train_targets
            .into_iter()
            .chain(valid_targets)
            .chain(test_targets)
            .collect();
        assert_eq!(all.len(), 17);
        for (got, want) in all.iter().zip(3..20) {
            assert_close(*got, f64::from(want));
        }
        assert!(
            s.description.contains("12 train / 4 valid / 4 test"),
            "{}",
            s.description
        );
        assert!(!s.description.contains('\n'));
    }

    #[test]
    fn scaler_ignores_validation_and_test_values() {
        let mut series: Vec<f64> = (0..20).map(f64::from).collect();
        let base = forecast_splits(&series, 2, 0.25, 0.25).unwrap();
        for v in &mut series[10..] {
            *v *= 1000.0;
        }
        let changed = forecast_splits(&series, 2, 0.25, 0.25).unwrap();
        assert_eq!(base.scaler, changed.scaler);
        assert_close(changed.scaler.mean[0], 4.5);
        assert_eq!(base.train, changed.train);
        assert_ne!(base.test, changed.test);
    }

    #[test]
    fn empty_validation_and_test_segments() {
        let series: Vec<f64> = (0..10).map(f64::from).collect();
        let s = forecast_splits(&series, 4, 0.0, 0.0).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (6, 0, 0));
        assert_close(s.scaler.mean[0], 4.5);
        let s = forecast_splits(&series, 4, 0.0, 0.1).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (5, 0, 1));
        // The smallest series that fits: window + 1 training points, one valid, one test.
        let s = forecast_splits(&series[..7], 4, 0.1, 0.1).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (1, 1, 1));
    }

    #[test]
    fn errors() {
        let series: Vec<f64> = (0..20).map(f64::from).collect();
        let err = |w, v, t| forecast_splits(&series, w, v, t).unwrap_err();
        assert_eq!(err(0, 0.1, 0.1), "window must be at least 1");
        assert!(err(3, 1.0, 0.1).starts_with("valid_fraction must be in [0, 1)"));
        assert!(err(3, -0.1, 0.1).starts_with("valid_fraction must be in [0, 1)"));
        assert!(err(3, f64::NAN, 0.1).starts_with("valid_fraction must be in [0, 1)"));
        assert!(err(3, 0.1, 1.5).starts_with("test_fraction must be in [0, 1)"));
        let msg = err(3, 0.5, 0.5);
        assert!(msg.contains("valid_fraction") && msg.contains("test_fraction"));
        assert!(msg.ends_with("must be less than 1"), "{msg}");

        let msg = forecast_splits(&series[..5], 4, 0.1, 0.1).unwrap_err();
        assert_eq!(
            msg,
            "the series has 5 points; window 4 needs at least 7 (5 training points and one \
             point each for validation and test)"
        );
        let msg = forecast_splits(&series[..5], 5, 0.0, 0.0).unwrap_err();
        assert_eq!(
            msg,
            "the series has 5 points; window 5 needs at least 6 (6 training points)"
        );
        // Long enough in principle, but the rounded-up segments leave too little training.
        let msg = err(15, 0.2, 0.2);
        assert!(msg.starts_with("the series has 20 points;"), "{msg}");
        assert!(msg.contains("training segment keeps 12"), "{msg}");
        assert!(msg.contains("window 15"), "{msg}");
        assert!(!msg.contains('\n'));
        let msg = forecast_splits(&[1.0, f64::NAN, 2.0], 1, 0.0, 0.0).unwrap_err();
        assert!(msg.contains("non-finite"), "{msg}");
    }
}
