//! Sentence classification data: files of `LABEL TOKENS` lines (SST-2 `stsa.binary.*`, TREC
//! `TREC.*.all`) or CSV `label,text`, a tokenizer, a vocabulary built from the training split
//! (minimum count, `<pad>` = 0, `<unk>` = 1) and right-padded token batches with lengths
//! ([`TokenBatch`]) for Embedding → RNN/LSTM models.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData, backend::Backend};
use serde::{Deserialize, Serialize};
use zoo_kernels::sequence::TokenBatch;

use crate::data::{Dataset, Targets, validation_split};
use crate::error::DataError;

/// The padding token, id 0.
pub const PAD: &str = "<pad>";
/// The unknown-word token, id 1.
pub const UNK: &str = "<unk>";
/// Id of [`PAD`].
pub const PAD_ID: u32 = 0;
/// Id of [`UNK`].
pub const UNK_ID: u32 = 1;

/// Splits `text` into tokens the way the bundled benchmark files are tokenized (Penn Treebank
/// style): on whitespace, with punctuation split off the ends of words and the clitics `n't`,
/// `'s`, `'re`, `'ve`, `'ll`, `'d`, `'m` split off their word. Already tokenized text passes
/// through unchanged (apart from `lowercase`).
pub fn tokenize(text: &str, lowercase: bool) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let word = if lowercase {
            word.to_lowercase()
        } else {
            word.to_string()
        };
        split_word(&word, &mut out);
    }
    out
}

fn split_word(word: &str, out: &mut Vec<String>) {
    const LEADING: &[char] = &['(', '[', '{', '"', '`'];
    const TRAILING: &[char] = &[',', '!', '?', ';', ':', ')', ']', '}', '"'];
    if word.chars().all(|c| c.is_ascii_punctuation()) {
        out.push(word.to_string());
        return;
    }
    let mut rest = word;
    while let Some(c) = rest.chars().next().filter(|c| LEADING.contains(c)) {
        out.push(c.to_string());
        rest = &rest[c.len_utf8()..];
    }
    let mut tail = Vec::new();
    while let Some(c) = rest.chars().next_back() {
        // A final period is punctuation unless the word is an abbreviation ("u.s.").
        let period = c == '.' && !rest[..rest.len() - 1].contains('.');
        if (TRAILING.contains(&c) || period) && rest.len() > 1 {
            tail.push(c.to_string());
            rest = &rest[..rest.len() - 1];
        } else {
            break;
        }
    }
    let lower = rest.to_lowercase();
    let clitic = ["n't", "'s", "'re", "'ve", "'ll", "'d", "'m"]
        .iter()
        .find(|c| lower.ends_with(*c) && lower.len() > c.len())
        .map(|c| c.len());
    match clitic {
        Some(n) => {
            out.push(rest[..rest.len() - n].to_string());
            out.push(rest[rest.len() - n..].to_string());
        }
        None if !rest.is_empty() => out.push(rest.to_string()),
        None => {}
    }
    out.extend(tail.into_iter().rev());
}

/// One labelled sentence of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct LabeledText {
    /// The label as written in the file.
    pub label: String,
    /// The tokens ([`tokenize`]).
    pub tokens: Vec<String>,
    /// 1-based line of the file (for error messages).
    pub line: usize,
}

/// Reads a sentence-classification file: `LABEL<space>TOKENS` lines, or, for a `.csv` file,
/// rows `label,text` (a header row `label,text` is skipped). Blank lines are skipped. Errors
/// name the file and line: a line without text, a file without examples. Text is UTF-8, or else
/// read as Latin-1 (as the TREC and MR files are); a leading UTF-8 byte-order mark is skipped.
pub fn read_labeled(path: &Path, lowercase: bool) -> Result<Vec<LabeledText>, DataError> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not a text file"));
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    parse_labeled(bytes, is_csv, lowercase, path)
}

/// Parses the contents of a sentence-classification file (see [`read_labeled`]); `path` only
/// names the source in errors. A `.csv` file is `is_csv`.
pub fn parse_labeled(
    bytes: Vec<u8>,
    is_csv: bool,
    lowercase: bool,
    path: &Path,
) -> Result<Vec<LabeledText>, DataError> {
    // A UTF-8 byte-order mark (Windows editors and spreadsheet exports write one) is not part
    // of the first label.
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    // Older corpora (TREC, MR) are Latin-1: read bytes that are not UTF-8 as Latin-1.
    let content = String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| b as char).collect());
    let mut out = Vec::new();
    let mut push = |label: &str, text: &str, line: usize| {
        let tokens = tokenize(text, lowercase);
        if label.is_empty() || tokens.is_empty() {
            let want = if is_csv { "label,text" } else { "LABEL TOKENS" };
            return Err(DataError::format(
                path,
                format!("line {line}: expected '{want}', found a label or text missing"),
            ));
        }
        out.push(LabeledText {
            label: label.to_string(),
            tokens,
            line,
        });
        Ok(())
    };
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(content.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| DataError::csv(path, e.to_string()))?;
            let line = record.position().map_or(i + 1, |p| p.line() as usize);
            let fields: Vec<&str> = record.iter().collect();
            if fields.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if fields.len() != 2 {
                return Err(DataError::csv(
                    path,
                    format!(
                        "line {line}: expected 2 fields (label,text), found {}",
                        fields.len()
                    ),
                ));
            }
            let (label, text) = (fields[0].trim(), fields[1]);
            if i == 0 && label.eq_ignore_ascii_case("label") && text.trim() == "text" {
                continue;
            }
            push(label, text, line)?;
        }
    } else {
        for (i, raw) in content.lines().enumerate() {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let (label, text) = raw.split_once(char::is_whitespace).unwrap_or((raw, ""));
            push(label, text, i + 1)?;
        }
    }
    if out.is_empty() {
        return Err(DataError::format(path, "no labelled sentences in the file"));
    }
    Ok(out)
}

/// A vocabulary: token ↔ id, with [`PAD`] = 0 and [`UNK`] = 1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    tokens: Vec<String>,
    index: HashMap<String, u32>,
}

#[derive(Serialize, Deserialize)]
struct VocabFile {
    tokens: Vec<String>,
}

impl From<VocabFile> for Vocab {
    fn from(f: VocabFile) -> Self {
        Self::from_tokens(f.tokens)
    }
}

impl From<Vocab> for VocabFile {
    fn from(v: Vocab) -> Self {
        Self { tokens: v.tokens }
    }
}

impl PartialEq for Vocab {
    fn eq(&self, other: &Self) -> bool {
        self.tokens == other.tokens
    }
}

impl Vocab {
    /// The tokens seen at least `min_count` times in `sentences`, most frequent first (ties in
    /// byte order, so the same data always gives the same ids), after `<pad>` and `<unk>`.
    pub fn build<'a>(sentences: impl IntoIterator<Item = &'a [String]>, min_count: usize) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in sentences {
            for t in s {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, usize)> = counts
            .into_iter()
            .filter(|&(t, c)| c >= min_count.max(1) && t != PAD && t != UNK)
            .collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let tokens = [PAD, UNK]
            .into_iter()
            .chain(kept.into_iter().map(|(t, _)| t))
            .map(String::from)
            .collect();
        Self::from_tokens(tokens)
    }

    fn from_tokens(tokens: Vec<String>) -> Self {
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Self { tokens, index }
    }

    /// Number of ids (the embedding table's rows).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether only `<pad>` and `<unk>` are known.
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 2
    }

    /// The id of `token` ([`UNK_ID`] when unknown).
    pub fn id(&self, token: &str) -> u32 {
        self.index.get(token).copied().unwrap_or(UNK_ID)
    }

    /// The token of `id`.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Ids of `tokens`, at most `max_len` of them (the first ones).
    pub fn encode(&self, tokens: &[String], max_len: usize) -> Vec<u32> {
        tokens.iter().take(max_len).map(|t| self.id(t)).collect()
    }
}

/// Encoded sentences with their classes.
#[derive(Clone, Debug, PartialEq)]
pub struct TextDataset {
    /// Token ids per sentence (at least one each).
    pub ids: Vec<Vec<u32>>,
    /// Class per sentence.
    pub targets: Targets,
}

impl TextDataset {
    /// The sentences `indices`, as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            ids: indices.iter().map(|&i| self.ids[i].clone()).collect(),
            targets: self.targets.select(indices),
        }
    }

    /// One batch of `sentences` (each non-empty), padded to the longest.
    pub fn batch<B: Backend>(sentences: &[&[u32]], device: &B::Device) -> TokenBatch<B> {
        let time = sentences.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
        let mut ids = vec![PAD_ID as i64; sentences.len() * time];
        let mut lengths = Vec::with_capacity(sentences.len());
        for (b, s) in sentences.iter().enumerate() {
            for (t, &id) in s.iter().enumerate() {
                ids[b * time + t] = id as i64;
            }
            lengths.push(s.len().max(1));
        }
        TokenBatch {
            tokens: Tensor::from_data(TensorData::new(ids, [sentences.len(), time]), device),
            lengths,
        }
    }
}

impl Dataset for TextDataset {
    type Input<B: Backend> = TokenBatch<B>;

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn inputs<B: Backend>(&self, indices: &[usize], device: &B::Device) -> TokenBatch<B> {
        let rows: Vec<&[u32]> = indices.iter().map(|&i| self.ids[i].as_slice()).collect();
        Self::batch(&rows, device)
    }

    fn targets(&self) -> &Targets {
        &self.targets
    }
}

/// What a trained text model needs besides its weights to read new sentences (written as
/// `vocab.json` next to the model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextEncoding {
    /// The vocabulary of the training split.
    pub vocab: Vocab,
    /// Class labels in class-index order, as written in the files.
    pub labels: Vec<String>,
    /// Readable class names in the same order (`--label-names`; for the bundled TREC files its
    /// six coarse classes); empty: the labels themselves.
    #[serde(default)]
    pub names: Vec<String>,
    /// Whether text is lower-cased before lookup.
    pub lowercase: bool,
    /// Tokens kept per sentence.
    pub max_len: usize,
}

impl TextEncoding {
    /// The readable name of class `i` (its label when there are no names).
    pub fn name(&self, i: usize) -> &str {
        self.names
            .get(i)
            .or_else(|| self.labels.get(i))
            .map_or("?", String::as_str)
    }

    /// Ids of a raw sentence (tokenized like the training data); `None` if it has no tokens.
    pub fn encode_sentence(&self, text: &str) -> Option<Vec<u32>> {
        let tokens = tokenize(text, self.lowercase);
        (!tokens.is_empty()).then(|| self.vocab.encode(&tokens, self.max_len))
    }
}

/// Where the text splits come from and how they are encoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextSpec {
    /// Training file; `None`: the bundled TREC files.
    pub train: Option<PathBuf>,
    /// Development (validation) file; `None`: hold out `valid_fraction` of train.
    pub dev: Option<PathBuf>,
    /// Test file (required with `train`).
    pub test: Option<PathBuf>,
    /// Fraction of train held out for validation when there is no dev file.
    pub valid_fraction: f64,
    /// Tokens seen fewer times than this in train map to `<unk>`.
    pub min_count: usize,
    /// Tokens kept per sentence.
    pub max_len: usize,
    /// Lower-case all text.
    pub lowercase: bool,
    /// Readable names of the classes, in class-index order (`None`: the labels; the bundled TREC
    /// files get [`TREC_CLASSES`]).
    #[serde(default)]
    pub label_names: Option<Vec<String>>,
}

/// The bundled TREC files' coarse classes by label 0-5 (read off the questions of each label:
/// 0 "How did serfdom develop ...", 2 "What does the abbreviation AIDS stand for ?", ...).
pub const TREC_CLASSES: [&str; 6] = ["DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM"];

/// Loaded, encoded text splits.
pub struct TextSplits {
    /// Training sentences.
    pub train: TextDataset,
    /// Validation sentences (the dev file, or a seeded hold-out of train).
    pub valid: Option<TextDataset>,
    /// Test sentences.
    pub test: TextDataset,
    /// Vocabulary and labels.
    pub encoding: TextEncoding,
    /// One line on the data, for reports.
    pub description: String,
    /// Set when the bundled files were used.
    pub note: Option<String>,
    /// Labels of the training file that look accidental ([`label_warnings`]), one line each.
    pub warnings: Vec<String>,
}

/// The bundled files in `dir`: TREC train and test.
pub fn bundled_files(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("TREC.train.all"), dir.join("TREC.test.all"))
}

impl TextSpec {
    /// Checks the settings (one line naming the flag).
    pub fn validate(&self) -> Result<(), String> {
        if self.train.is_some() != self.test.is_some() {
            return Err("train_file and test_file go together".into());
        }
        if self.dev.is_some() && self.train.is_none() {
            return Err("dev_file needs train_file and test_file".into());
        }
        if !(0.0..1.0).contains(&self.valid_fraction) {
            return Err(format!(
                "valid_fraction must be in [0, 1) (got {})",
                self.valid_fraction
            ));
        }
        if self.min_count == 0 {
            return Err("min_count must be at least 1".into());
        }
        if self.max_len == 0 {
            return Err("max_len must be at least 1".into());
        }
        Ok(())
    }

    /// Loads the splits; `bundled` is the directory of the bundled TREC files, `seed` picks
    /// the validation hold-out.
    pub fn load(&self, bundled: &Path, seed: u64) -> Result<TextSplits, DataError> {
        let (train_path, test_path, note) = match (&self.train, &self.test) {
            (Some(train), Some(test)) => (train.clone(), test.clone(), None),
            _ => {
                let (train, test) = bundled_files(bundled);
                let note = format!(
                    "no training file given: using the bundled TREC question classification files in {}",
                    bundled.display()
                );
                (train, test, Some(note))
            }
        };
        let train = read_labeled(&train_path, self.lowercase)?;
        let test = read_labeled(&test_path, self.lowercase)?;
        let dev = match &self.dev {
            Some(p) => Some((p.clone(), read_labeled(p, self.lowercase)?)),
            None => None,
        };
        let labels = label_names(&train);
        let warnings = label_warnings(&train, &train_path);
        let names = match (&self.label_names, &note) {
            (Some(names), _) if names.len() != labels.len() => {
                return Err(DataError::format(
                    &train_path,
                    format!(
                        "has {} classes but label_names gives {} names",
                        labels.len(),
                        names.len()
                    ),
                ));
            }
            (Some(names), _) => names.clone(),
            (None, Some(_)) => TREC_CLASSES.iter().map(|c| c.to_string()).collect(),
            (None, None) => Vec::new(),
        };
        let vocab = Vocab::build(train.iter().map(|e| e.tokens.as_slice()), self.min_count);
        let encoding = TextEncoding {
            vocab,
            labels,
            names,
            lowercase: self.lowercase,
            max_len: self.max_len,
        };
        let encode = |examples: &[LabeledText], path: &Path| -> Result<TextDataset, DataError> {
            let mut ids = Vec::with_capacity(examples.len());
            let mut classes = Vec::with_capacity(examples.len());
            for e in examples {
                let class = encoding
                    .labels
                    .iter()
                    .position(|l| *l == e.label)
                    .ok_or_else(|| {
                        DataError::format(
                            path,
                            format!(
                                "line {}: label '{}' does not occur in the training file {}",
                                e.line,
                                e.label,
                                train_path.display()
                            ),
                        )
                    })?;
                ids.push(encoding.vocab.encode(&e.tokens, self.max_len));
                classes.push(class);
            }
            Ok(TextDataset {
                ids,
                targets: Targets::Classes(classes),
            })
        };
        let full_train = encode(&train, &train_path)?;
        let test = encode(&test, &test_path)?;
        let (train, valid, split) = match &dev {
            Some((path, dev)) => (full_train, Some(encode(dev, path)?), "dev file".to_string()),
            None if self.valid_fraction > 0.0 => {
                let (t, v) = validation_split(full_train.len(), self.valid_fraction, seed);
                (
                    full_train.subset(&t),
                    Some(full_train.subset(&v)),
                    format!("{:.0}% of train held out", self.valid_fraction * 100.0),
                )
            }
            None => (full_train, None, "no validation".to_string()),
        };
        let description = format!(
            "{} ({} train / {} valid ({split}) / {} test sentences, {} classes, vocabulary {})",
            train_path.display(),
            train.len(),
            valid.as_ref().map_or(0, |v| v.len()),
            test.len(),
            encoding.labels.len(),
            encoding.vocab.len()
        );
        Ok(TextSplits {
            train,
            valid,
            test,
            encoding,
            description,
            note,
            warnings,
        })
    }
}

/// Whether `c` prints as nothing: format characters (zero-width spaces and joiners, the
/// byte-order mark, the soft hyphen) and the no-break space, which reads as a plain space.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Labels of a training file that look like mistakes rather than classes, one line each naming
/// the file and line: a label with a single example, and labels that differ only by invisible
/// characters (a stray zero-width space or byte-order mark makes a second class of the same
/// label). Training goes on; the lines are warnings.
pub fn label_warnings(train: &[LabeledText], path: &Path) -> Vec<String> {
    // Each label with its first line and count, in the order of first appearance.
    let mut first: Vec<(&str, usize, usize)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for e in train {
        match at.get(e.label.as_str()) {
            Some(&i) => first[i].2 += 1,
            None => {
                at.insert(&e.label, first.len());
                first.push((&e.label, e.line, 1));
            }
        }
    }
    let mut out = Vec::new();
    let mut seen: HashMap<String, (&str, usize)> = HashMap::new();
    for &(label, line, _) in &first {
        let visible: String = label.chars().filter(|&c| !is_invisible(c)).collect();
        if let Some(&(other, other_line)) = seen.get(&visible) {
            out.push(format!(
                "{}: line {line}: label {label:?} differs from label {other:?} (line {other_line}) only by invisible characters; they are two classes",
                path.display()
            ));
        } else {
            seen.insert(visible, (label, line));
        }
    }
    for &(label, line, count) in &first {
        if count == 1 && first.len() > 1 {
            out.push(format!(
                "{}: line {line}: label {label:?} has a single example",
                path.display()
            ));
        }
    }
    out
}

/// Class names of a training file: `0..=max` when every label is a non-negative integer (so the
/// benchmark files' classes keep their numbers), else the distinct labels in sorted order.
pub fn label_names(train: &[LabeledText]) -> Vec<String> {
    let numeric: Option<Vec<usize>> = train.iter().map(|e| e.label.parse().ok()).collect();
    match numeric {
        Some(n) => {
            let max = n.into_iter().max().unwrap_or(0);
            (0..=max).map(|i| i.to_string()).collect()
        }
        None => {
            let mut names: Vec<String> = train.iter().map(|e| e.label.clone()).collect();
            names.sort();
            names.dedup();
            names
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_ndarray::NdArray;

    /// A sentence file saved with a UTF-8 byte-order mark, labels 0 and 1: two classes (the
    /// mark once made a third, `\u{feff}1`), in both formats.
    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_label() {
        for (is_csv, text) in [
            (false, "1 good film\n0 bad film\n1 fine film\n0 dull film\n"),
            (
                true,
                "label,text\n1,good film\n0,bad film\n1,fine film\n0,dull film\n",
            ),
        ] {
            let bytes = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
            let rows = parse_labeled(bytes, is_csv, true, Path::new("s.txt")).unwrap();
            let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
            assert_eq!(labels, ["1", "0", "1", "0"], "csv {is_csv}");
            assert_eq!(label_names(&rows), ["0", "1"]);
            assert!(label_warnings(&rows, Path::new("s.txt")).is_empty());
        }
    }

    #[test]
    fn accidental_labels_are_warned_about_by_line() {
        let text = "pos a\npos b\nneg c\nneg d\npos\u{200B} e\nneu f\n";
        let rows =
            parse_labeled(text.as_bytes().to_vec(), false, true, Path::new("s.txt")).unwrap();
        let warnings = label_warnings(&rows, Path::new("s.txt"));
        assert_eq!(
            warnings,
            [
                "s.txt: line 5: label \"pos\\u{200b}\" differs from label \"pos\" (line 1) only by invisible characters; they are two classes",
                "s.txt: line 5: label \"pos\\u{200b}\" has a single example",
                "s.txt: line 6: label \"neu\" has a single example",
            ]
        );
    }

    fn toks(s: &str) -> Vec<String> {
        tokenize(s, true)
    }

    #[test]
    fn tokenizer_matches_the_benchmark_files() {
        assert_eq!(
            toks("They don't sit still, however (entertainingly) presented."),
            [
                "they",
                "do",
                "n't",
                "sit",
                "still",
                ",",
                "however",
                "(",
                "entertainingly",
                ")",
                "presented",
                "."
            ]
        );
        assert_eq!(toks("It's the U.S. team's \"best\"?!"), {
            let v: Vec<&str> = vec![
                "it", "'s", "the", "u.s.", "team", "'s", "\"", "best", "\"", "?", "!",
            ];
            v
        });
        // Already tokenized text is unchanged.
        let line = "they presume their audience wo n't sit still for a re-imagining ... , however";
        assert_eq!(toks(line).join(" "), line);
        assert_eq!(tokenize("How far ?", false), ["How", "far", "?"]);
        assert!(toks("   ").is_empty());
    }

    #[test]
    fn vocabulary_orders_by_count_and_maps_rare_words_to_unk() {
        let s: Vec<Vec<String>> = ["b a c a", "a b d"].iter().map(|s| toks(s)).collect();
        let v = Vocab::build(s.iter().map(|x| x.as_slice()), 2);
        assert_eq!(v.len(), 4);
        assert_eq!(
            (v.id(PAD), v.id(UNK), v.id("a"), v.id("b"), v.id("c")),
            (0, 1, 2, 3, UNK_ID)
        );
        assert_eq!(v.encode(&toks("a zebra b a"), 3), [2, 1, 3]);
        let all = Vocab::build(s.iter().map(|x| x.as_slice()), 1);
        assert_eq!(all.token(4), Some("c"));
        assert_eq!(all.token(5), Some("d"));
        // The JSON form round-trips, index included.
        let json = serde_json::to_string(&all).unwrap();
        let back: Vocab = serde_json::from_str(&json).unwrap();
        assert_eq!(back, all);
        assert_eq!(back.id("d"), 5);
    }

    #[test]
    fn batches_are_right_padded_with_lengths() {
        let ds = TextDataset {
            ids: vec![vec![5, 6, 7], vec![8]],
            targets: Targets::Classes(vec![1, 0]),
        };
        let b = ds.inputs::<NdArray>(&[1, 0], &Default::default());
        assert_eq!(b.lengths, [1, 3]);
        assert_eq!(b.tokens.dims(), [2, 3]);
        let v = b
            .tokens
            .into_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .unwrap();
        assert_eq!(v, [8, 0, 0, 5, 6, 7]);
    }

    fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn reads_label_token_lines_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.txt", "1 a good film .\n\n0 bad\n");
        let e = read_labeled(&p, true).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].label.as_str(), e[0].tokens.len(), e[1].line),
            ("1", 4, 3)
        );
        let c = write(
            dir.path(),
            "b.csv",
            "label,text\npos,\"Great, really.\"\nneg,dull\n",
        );
        let e = read_labeled(&c, true).unwrap();
        assert_eq!(e[0].label, "pos");
        assert_eq!(e[0].tokens, ["great", ",", "really", "."]);
        assert_eq!(label_names(&e), ["neg", "pos"]);
    }

    #[test]
    fn bad_files_give_one_line_errors_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("empty.txt", "\n\n", "no labelled sentences"),
            (
                "nolabel.txt",
                "1 fine\n0\n",
                "line 2: expected 'LABEL TOKENS'",
            ),
            ("fields.csv", "a,b,c\n", "line 1: expected 2 fields"),
        ];
        for (name, content, want) in cases {
            let p = write(dir.path(), name, content);
            let e = read_labeled(&p, true).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(want), "{e}");
            assert_eq!(e.lines().count(), 1);
        }
        // Latin-1 text (as in TREC) is read as Latin-1.
        let latin = dir.path().join("latin.txt");
        std::fs::write(&latin, b"1 caf\xe9 au lait\n").unwrap();
        assert_eq!(
            read_labeled(&latin, true).unwrap()[0].tokens[0],
            "caf\u{e9}"
        );
        let bin = dir.path().join("bin.txt");
        std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
        let e = read_labeled(&bin, true).unwrap_err().to_string();
        assert!(e.contains("bin.txt") && e.contains("line 1"), "{e}");
        let e = read_labeled(&dir.path().join("missing.txt"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.txt"), "{e}");
    }

    #[test]
    fn bundled_trec_loads_with_holdout_and_unknown_test_labels_are_errors() {
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/text");
        let spec = TextSpec {
            train: None,
            dev: None,
            test: None,
            valid_fraction: 0.1,
            min_count: 2,
            max_len: 100,
            lowercase: true,
            label_names: None,
        };
        let s = spec.load(&bundled, 7).unwrap();
        assert_eq!((s.encoding.name(3), s.encoding.name(5)), ("HUM", "NUM"));
        assert_eq!(s.train.len() + s.valid.as_ref().unwrap().len(), 5452);
        assert_eq!(s.test.len(), 500);
        assert_eq!(s.encoding.labels, ["0", "1", "2", "3", "4", "5"]);
        let Targets::Classes(c) = &s.test.targets else {
            unreachable!()
        };
        assert!(c.iter().all(|&c| c < 6));
        assert!(s.note.is_some());
        assert!(s.encoding.vocab.len() > 1000);
        // Seeded: the same seed gives the same split, another seed another one.
        assert_eq!(spec.load(&bundled, 7).unwrap().train, s.train);
        assert_ne!(spec.load(&bundled, 8).unwrap().train, s.train);

        let dir = tempfile::tempdir().unwrap();
        let train = write(dir.path(), "train.txt", "0 a b\n1 c d\n");
        let test = write(dir.path(), "test.txt", "0 a\n2 b\n");
        let spec = TextSpec {
            train: Some(train),
            test: Some(test.clone()),
            valid_fraction: 0.0,
            min_count: 1,
            ..spec
        };
        let named = TextSpec {
            test: Some(write(dir.path(), "ok.txt", "1 c\n")),
            label_names: Some(vec!["neg".into(), "pos".into()]),
            ..spec.clone()
        };
        let enc = named.load(&bundled, 7).unwrap().encoding;
        assert_eq!(
            (enc.name(0), enc.name(1), enc.labels[1].as_str()),
            ("neg", "pos", "1")
        );
        let wrong = TextSpec {
            label_names: Some(vec!["a".into()]),
            ..named
        };
        let e = wrong.load(&bundled, 7).err().unwrap().to_string();
        assert!(
            e.contains("train.txt: has 2 classes but label_names gives 1"),
            "{e}"
        );
        let e = spec.load(&bundled, 7).err().unwrap().to_string();
        assert!(
            e.contains("test.txt") && e.contains("line 2: label '2' does not occur"),
            "{e}"
        );
    }
}
