//! Numeric CSV tables for regression: feature columns plus one target column.
//!
//! [`read_csv`] requires a header row, parses every other cell as a finite `f64`, and
//! reports any problem as a one-line [`DataError`] naming the file and, where it
//! applies, the line (1-based, the header being line 1), the column and the bad value.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::error::{DataError, DataResult};

/// The longest cell text quoted in an error message, in characters.
const MAX_QUOTED_CHARS: usize = 40;

/// A numeric table: feature matrix (row-major) plus one target value per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Names of the feature columns, in file order (the target column left out).
    pub feature_names: Vec<String>,
    /// Name of the target column.
    pub target_name: String,
    /// Feature values, row-major: `n_rows * n_features()` values.
    pub features: Vec<f64>,
    /// Target values, one per row.
    pub targets: Vec<f64>,
    /// Number of data rows.
    pub n_rows: usize,
}

impl Table {
    /// The number of feature columns.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The feature values of row `i`, or `None` when `i` is out of range.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        let n = self.n_features();
        let start = i.checked_mul(n)?;
        self.features.get(start..start.checked_add(n)?)
    }
}

/// Converts a csv-crate error into a [`DataError`] for `path`.
pub(crate) fn csv_error(path: &Path, err: csv::Error) -> DataError {
    if !err.is_io_error() {
        return DataError::csv(path, err.to_string());
    }
    match err.into_kind() {
        csv::ErrorKind::Io(e) => DataError::io(path, e),
        other => DataError::csv(path, format!("{other:?}")),
    }
}

/// Quotes a cell for an error message, cut to [`MAX_QUOTED_CHARS`] characters.
pub(crate) fn quote_cell(cell: &str) -> String {
    let mut chars = cell.chars();
    let head: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    if chars.next().is_some() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

/// Reads a CSV file with a header row into a [`Table`], using column `target` as the
/// target and all other columns as features.
///
/// Fields are trimmed of surrounding whitespace. Errors name the file and, for cell
/// problems, the line number and column: unreadable file, empty file, header without
/// data rows, `target` not among the columns (the available ones are listed) or present
/// more than once, rows with a different number of fields than the header, cells that
/// are not valid UTF-8, not numbers, or not finite.
pub fn read_csv(path: &Path, target: &str) -> DataResult<Table> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not a CSV file"));
    }
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(BufReader::new(file));

    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    if header.is_empty() {
        return Err(DataError::csv(path, "empty file (no header row)"));
    }
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw).map_err(|_| {
            DataError::csv(
                path,
                format!("line 1: header of column {} is not valid UTF-8", i + 1),
            )
        })?;
        names.push(name.to_owned());
    }

    let target_cols: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.as_str() == target)
        .map(|(i, _)| i)
        .collect();
    let target_col = match target_cols.as_slice() {
        [] => {
            return Err(DataError::csv(
                path,
                format!(
                    "target column {target:?} not found; available columns: {}",
                    names.join(", ")
                ),
            ));
        }
        [one] => *one,
        many => {
            return Err(DataError::csv(
                path,
                format!(
                    "target column {target:?} appears {} times in the header",
                    many.len()
                ),
            ));
        }
    };

    let n_cols = names.len();
    let mut features = Vec::new();
    let mut targets = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut n_rows = 0usize;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        // Records are numbered by the line they start on; the header is line 1.
        let line = record
            .position()
            .map_or(n_rows as u64 + 2, csv::Position::line);
        if record.len() != n_cols {
            return Err(DataError::csv(
                path,
                format!(
                    "line {line}: expected {n_cols} fields like the header, found {}",
                    record.len()
                ),
            ));
        }
        for (col, raw) in record.iter().enumerate() {
            let column = &names[col];
            let text = std::str::from_utf8(raw).map_err(|_| {
                DataError::csv(
                    path,
                    format!("line {line}, column {column:?}: not valid UTF-8"),
                )
            })?;
            let value: f64 = text.parse().map_err(|_| {
                DataError::csv(
                    path,
                    format!(
                        "line {line}, column {column:?}: not a number: {}",
                        quote_cell(text)
                    ),
                )
            })?;
            if !value.is_finite() {
                return Err(DataError::csv(
                    path,
                    format!(
                        "line {line}, column {column:?}: not a finite number: {}",
                        quote_cell(text)
                    ),
                ));
            }
            if col == target_col {
                targets.push(value);
            } else {
                features.push(value);
            }
        }
        n_rows += 1;
    }
    if n_rows == 0 {
        return Err(DataError::csv(path, "no data rows (only a header)"));
    }

    let target_name = names.remove(target_col);
    Ok(Table {
        feature_names: names,
        target_name,
        features,
        targets,
        n_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Writes `content` to a fresh temporary file and returns its path.
    fn temp_csv(name: &str, content: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zoo-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn err_of(name: &str, content: &[u8], target: &str) -> String {
        let path = temp_csv(name, content);
        let msg = read_csv(&path, target).unwrap_err().to_string();
        assert!(
            msg.starts_with(&path.display().to_string()),
            "no file name in {msg}"
        );
        assert!(!msg.contains('\n'), "multi-line message {msg}");
        msg
    }

    #[test]
    fn reads_a_small_table() {
        let path = temp_csv("ok.csv", b"a, y ,b\n1,2,3\n 4.5 ,-6e1,7\n");
        let t = read_csv(&path, "y").unwrap();
        assert_eq!(t.feature_names, ["a", "b"]);
        assert_eq!(t.target_name, "y");
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.n_features(), 2);
        assert_eq!(t.features, [1.0, 3.0, 4.5, 7.0]);
        assert_eq!(t.targets, [2.0, -60.0]);
        assert_eq!(t.row(1), Some(&[4.5, 7.0][..]));
        assert_eq!(t.row(2), None);
    }

    #[test]
    fn strips_a_utf8_bom_and_allows_target_only() {
        let path = temp_csv("bom.csv", b"\xEF\xBB\xBFy\n1\n2\n");
        let t = read_csv(&path, "y").unwrap();
        assert_eq!(t.n_features(), 0);
        assert_eq!(t.targets, [1.0, 2.0]);
    }

    #[test]
    fn missing_file() {
        let err = read_csv(Path::new("/no/such/file.csv"), "y").unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().starts_with("/no/such/file.csv: "));
    }

    #[test]
    fn empty_file() {
        let msg = err_of("empty.csv", b"", "y");
        assert!(msg.ends_with("empty file (no header row)"), "{msg}");
    }

    #[test]
    fn header_only() {
        let msg = err_of("header.csv", b"a,y\n", "y");
        assert!(msg.ends_with("no data rows (only a header)"), "{msg}");
    }

    #[test]
    fn target_not_found_lists_columns() {
        let msg = err_of("notarget.csv", b"a,b\n1,2\n", "target");
        assert!(
            msg.ends_with("target column \"target\" not found; available columns: a, b"),
            "{msg}"
        );
    }

    #[test]
    fn duplicate_target() {
        let msg = err_of("dup.csv", b"y,a,y\n1,2,3\n", "y");
        assert!(msg.contains("appears 2 times"), "{msg}");
    }

    #[test]
    fn non_numeric_cell_names_line_column_and_value() {
        let msg = err_of("nan.csv", b"a,y\n1,2\n3,abc\n", "y");
        assert!(
            msg.ends_with("line 3, column \"y\": not a number: \"abc\""),
            "{msg}"
        );
        let msg = err_of("blank.csv", b"a,y\n,2\n", "y");
        assert!(
            msg.ends_with("line 2, column \"a\": not a number: \"\""),
            "{msg}"
        );
    }

    #[test]
    fn long_bad_values_are_truncated() {
        let long = "x".repeat(100);
        let msg = err_of("long.csv", format!("a,y\n{long},1\n").as_bytes(), "y");
        assert!(
            msg.ends_with(&format!("\"{}\"...", "x".repeat(40))),
            "{msg}"
        );
        // Multi-byte characters are cut on a character boundary.
        let long = "é".repeat(50);
        let msg = err_of("long2.csv", format!("a,y\n{long},1\n").as_bytes(), "y");
        assert!(msg.contains(&"é".repeat(40)) && !msg.contains(&"é".repeat(41)));
    }

    #[test]
    fn non_finite_cells() {
        for bad in ["inf", "NaN", "-infinity", "1e999"] {
            let msg = err_of("inf.csv", format!("a,y\n1,2\n2,{bad}\n").as_bytes(), "y");
            assert!(
                msg.ends_with(&format!(
                    "line 3, column \"y\": not a finite number: \"{bad}\""
                )),
                "{msg}"
            );
        }
    }

    #[test]
    fn ragged_rows() {
        let msg = err_of("ragged.csv", b"a,b,y\n1,2,3\n4,5\n", "y");
        assert!(
            msg.ends_with("line 3: expected 3 fields like the header, found 2"),
            "{msg}"
        );
        let msg = err_of("ragged2.csv", b"a,y\n1,2\n1,2,3\n", "y");
        assert!(msg.contains("found 3"), "{msg}");
    }

    #[test]
    fn non_utf8() {
        let msg = err_of("latin1.csv", b"a,y\n1,\xE9\n", "y");
        assert!(
            msg.ends_with("line 2, column \"y\": not valid UTF-8"),
            "{msg}"
        );
        let msg = err_of("latin1h.csv", b"\xE9,y\n1,2\n", "y");
        assert!(msg.contains("line 1: header of column 1"), "{msg}");
    }

    #[test]
    fn line_numbers_count_multiline_fields() {
        // The quoted field spans lines 2-3, so the bad record starts on line 4.
        let msg = err_of("multi.csv", b"a,y\n\"1\n\",2\n3,x\n", "y");
        assert!(
            msg.ends_with("line 4, column \"y\": not a number: \"x\""),
            "{msg}"
        );
    }

    #[test]
    fn real_diabetes_csv() {
        let path = Path::new("/work/shared/datasets/tabular/diabetes.csv");
        if !path.exists() {
            eprintln!("note: {} not found, skipping", path.display());
            return;
        }
        let t = read_csv(path, "target").unwrap();
        assert_eq!(t.n_rows, 442);
        assert_eq!(t.n_features(), 10);
        assert_eq!(
            t.feature_names,
            [
                "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"
            ]
        );
        assert_eq!(t.features.len(), 4420);
        assert_eq!(t.targets.len(), 442);
        // First line: 59,2,32.1,101.0,157,93.2,38.0,4.0,4.8598,87,151
        assert_eq!(
            t.row(0),
            Some(&[59.0, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0][..])
        );
        assert_eq!(t.targets[0], 151.0);
        assert_eq!(t.targets[441], 57.0);
    }
}
