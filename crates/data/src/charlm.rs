//! Character-level language-model data: a vocabulary of the characters of the training text,
//! a chronological train/valid/test split, PyTorch's `batchify` layout (the stream cut into
//! `batch` parallel columns, read in windows of `bptt` steps with the next character as the
//! target), and the baseline every LSTM language model is measured against: an n-gram model
//! with interpolated absolute discounting, its order chosen on the validation text.
//!
//! Written here because neither burn-dataset nor a well-kept crate has a character-level
//! corpus pipeline or a smoothed n-gram model over a given vocabulary.

use std::collections::HashMap;
use std::path::Path;

use crate::error::DataError;

/// Id of the unknown character (one the training text does not contain).
pub const UNK_CHAR_ID: u32 = 0;

/// The characters of a training text, id 0 for any other character.
#[derive(Clone, Debug, PartialEq)]
pub struct CharVocab {
    /// Characters by id; `chars[0]` is unused (the unknown character).
    chars: Vec<char>,
    index: HashMap<char, u32>,
}

impl CharVocab {
    /// Every distinct character of `text`, in code-point order, after the unknown character.
    pub fn from_text(text: &str) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Self::from_chars(chars)
    }

    /// A vocabulary of these characters (ids 1..), as saved by [`CharVocab::chars`].
    pub fn from_chars(chars: Vec<char>) -> Self {
        let mut all = vec!['\u{fffd}'];
        all.extend(chars);
        let index = all
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, &c)| (c, i as u32))
            .collect();
        Self { chars: all, index }
    }

    /// The known characters, in id order (without the unknown character).
    pub fn chars(&self) -> &[char] {
        &self.chars[1..]
    }

    /// Ids, the unknown character included.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Never: the unknown character is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The id of `c` ([`UNK_CHAR_ID`] when the training text did not contain it).
    pub fn id(&self, c: char) -> u32 {
        self.index.get(&c).copied().unwrap_or(UNK_CHAR_ID)
    }

    /// The character of `id` (U+FFFD for the unknown one or an id out of range).
    pub fn char(&self, id: u32) -> char {
        self.chars.get(id as usize).copied().unwrap_or('\u{fffd}')
    }

    /// `text` as ids.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.id(c)).collect()
    }

    /// Ids as text.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&i| self.char(i)).collect()
    }
}

/// A text cut in three, in order: the first `1 - valid - test` of its characters train, the
/// next `valid` validate, the last `test` test (a language model must not see the future).
#[derive(Clone, Debug, PartialEq)]
pub struct ChronoSplit<'a> {
    /// The training text.
    pub train: &'a str,
    /// The validation text.
    pub valid: &'a str,
    /// The test text.
    pub test: &'a str,
}

/// Splits `text` by character count (at character boundaries). Each part must hold at least
/// `min_chars` characters.
pub fn chronological_split(
    text: &str,
    valid_fraction: f64,
    test_fraction: f64,
    min_chars: usize,
) -> Result<ChronoSplit<'_>, String> {
    for (name, f) in [("valid", valid_fraction), ("test", test_fraction)] {
        if !(f > 0.0 && f < 1.0) {
            return Err(format!("the {name} fraction must be in (0, 1) (got {f})"));
        }
    }
    if valid_fraction + test_fraction >= 1.0 {
        return Err(format!(
            "the valid and test fractions leave nothing to train on ({valid_fraction} + {test_fraction})"
        ));
    }
    let n = text.chars().count();
    let n_test = (n as f64 * test_fraction).round() as usize;
    let n_valid = (n as f64 * valid_fraction).round() as usize;
    let n_train = n.saturating_sub(n_test + n_valid);
    let smallest = n_train.min(n_valid).min(n_test);
    if smallest < min_chars {
        return Err(format!(
            "{n} characters split {n_train} / {n_valid} / {n_test}: each part needs at least {min_chars}"
        ));
    }
    let byte = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(b, _)| b)
    };
    let (a, b) = (byte(n_train), byte(n_train + n_valid));
    Ok(ChronoSplit {
        train: &text[..a],
        valid: &text[a..b],
        test: &text[b..],
    })
}

/// A stream of ids laid out as PyTorch's word-language-model example does (`batchify`): cut
/// into `batch` equal columns (the remainder dropped), column `j` holding ids
/// `j·len .. (j+1)·len`, so that window `k` of every column continues window `k - 1` and the
/// hidden state can be carried from one to the next.
#[derive(Clone, Debug, PartialEq)]
pub struct Batchified {
    /// `[batch][len]` ids, row-major by column.
    pub columns: Vec<Vec<u32>>,
}

impl Batchified {
    /// `ids` in `batch` columns; `None` when a column would hold fewer than two ids.
    pub fn new(ids: &[u32], batch: usize) -> Option<Self> {
        let len = ids.len() / batch.max(1);
        if batch == 0 || len < 2 {
            return None;
        }
        Some(Self {
            columns: ids[..len * batch]
                .chunks(len)
                .map(<[u32]>::to_vec)
                .collect(),
        })
    }

    /// Ids per column.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// Never (a column holds at least two ids).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The windows of at most `bptt` steps: `(start, steps)`, each input `start..start+steps`
    /// predicting `start+1..start+steps+1`, covering every id but the last of each column.
    pub fn windows(&self, bptt: usize) -> Vec<(usize, usize)> {
        let last = self.len() - 1;
        (0..last)
            .step_by(bptt.max(1))
            .map(|s| (s, bptt.max(1).min(last - s)))
            .collect()
    }

    /// Inputs and targets of one window, each `[batch * steps]` row-major (`[batch, steps]`).
    pub fn window(&self, start: usize, steps: usize) -> (Vec<u32>, Vec<u32>) {
        let mut x = Vec::with_capacity(self.columns.len() * steps);
        let mut y = Vec::with_capacity(self.columns.len() * steps);
        for col in &self.columns {
            x.extend_from_slice(&col[start..start + steps]);
            y.extend_from_slice(&col[start + 1..start + steps + 1]);
        }
        (x, y)
    }
}

/// An n-gram model over a vocabulary of `vocab` ids with interpolated absolute discounting
/// (Ney, Essen and Kneser 1994): `P(c | h) = max(n(h c) − D, 0) / n(h) + D · N₁₊(h ·) / n(h) ·
/// P(c | h')`, `h'` the history one character shorter, down to the uniform distribution; a
/// history never seen in training falls through to the shorter one. Every distribution sums
/// to one over the vocabulary (tested).
#[derive(Clone, Debug)]
pub struct NGram {
    order: usize,
    vocab: usize,
    discount: f64,
    /// Per history length `k` (0..order): history → (total count, distinct continuations,
    /// continuation counts).
    tables: Vec<HashMap<Vec<u32>, History>>,
}

#[derive(Clone, Debug, Default)]
struct History {
    total: u64,
    next: HashMap<u32, u64>,
}

impl NGram {
    /// Counts every n-gram of order up to `order` (≥ 1) in `ids`.
    pub fn train(ids: &[u32], vocab: usize, order: usize, discount: f64) -> Self {
        let order = order.max(1);
        let mut tables = vec![HashMap::new(); order];
        for (i, &c) in ids.iter().enumerate() {
            for (k, table) in tables.iter_mut().enumerate() {
                if k > i {
                    break;
                }
                let h: &mut History = table.entry(ids[i - k..i].to_vec()).or_default();
                h.total += 1;
                *h.next.entry(c).or_default() += 1;
            }
        }
        Self {
            order,
            vocab,
            discount,
            tables,
        }
    }

    /// The model's order (history length + 1).
    pub fn order(&self) -> usize {
        self.order
    }

    /// `P(c | history)`, reading at most the last `order - 1` ids of `history`.
    pub fn prob(&self, history: &[u32], c: u32) -> f64 {
        let k = history.len().min(self.order - 1);
        let mut p = 1.0 / self.vocab as f64;
        for len in 0..=k {
            let h = &history[history.len() - len..];
            let Some(stats) = self.tables[len].get(h) else {
                break;
            };
            let total = stats.total as f64;
            let seen = stats.next.get(&c).copied().unwrap_or(0) as f64;
            let distinct = stats.next.len() as f64;
            p = (seen - self.discount).max(0.0) / total + self.discount * distinct / total * p;
        }
        p
    }

    /// Mean negative log-likelihood (nats) of every id of `ids` but the first, each given the
    /// ids before it (the next `order - 2` read a shorter history): the characters a language
    /// model reading `ids` as one stream predicts. 0 for fewer than two ids.
    pub fn mean_nll(&self, ids: &[u32]) -> f64 {
        if ids.len() < 2 {
            return 0.0;
        }
        let nll: f64 = (1..ids.len())
            .map(|i| {
                let from = i.saturating_sub(self.order - 1);
                -self.prob(&ids[from..i], ids[i]).ln()
            })
            .sum();
        nll / (ids.len() - 1) as f64
    }

    /// The model of the order in `1..=max_order` with the lowest validation NLL (discount 0.75),
    /// and that NLL.
    pub fn fit(train: &[u32], valid: &[u32], vocab: usize, max_order: usize) -> (Self, f64) {
        let unigram = Self::train(train, vocab, 1, 0.75);
        let nll = unigram.mean_nll(valid);
        let mut best = (unigram, nll);
        for order in 2..=max_order {
            let model = Self::train(train, vocab, order, 0.75);
            let nll = model.mean_nll(valid);
            if nll < best.1 {
                best = (model, nll);
            }
        }
        best
    }
}

/// Reads a UTF-8 text file whole (a leading byte-order mark dropped). A directory, bytes that
/// are not UTF-8 or an empty file are errors naming the file.
pub fn read_text(path: &Path) -> Result<String, DataError> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not a text file"));
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&bytes)
        .to_vec();
    let text = String::from_utf8(bytes).map_err(|e| {
        DataError::format(
            path,
            format!(
                "not UTF-8 text (byte {} is not part of a UTF-8 character)",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(DataError::format(path, "holds no text"));
    }
    Ok(text)
}

/// The questions of a `LABEL TOKENS` file ([`crate::text::read_labeled`]: TREC, SST-2),
/// labels dropped, one a line, case kept.
pub fn read_questions(path: &Path) -> Result<String, DataError> {
    let lines = crate::text::read_labeled(path, false)?;
    Ok(lines
        .iter()
        .map(|l| l.tokens.join(" "))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Bits per character of a mean NLL in nats.
pub fn bits_per_char(mean_nll_nats: f64) -> f64 {
    mean_nll_nats / std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_files_are_read_whole_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.txt");
        std::fs::write(&ok, "\u{feff}héllo\nwörld\n").unwrap();
        assert_eq!(read_text(&ok).unwrap(), "héllo\nwörld\n");
        let latin = dir.path().join("latin.txt");
        std::fs::write(&latin, b"caf\xe9").unwrap();
        let e = read_text(&latin).unwrap_err().to_string();
        assert!(e.contains("latin.txt") && e.contains("byte 3"), "{e}");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, " \n").unwrap();
        assert!(
            read_text(&empty)
                .unwrap_err()
                .to_string()
                .contains("no text")
        );
        assert!(
            read_text(dir.path())
                .unwrap_err()
                .to_string()
                .contains("directory")
        );
        let trec = dir.path().join("q.all");
        std::fs::write(&trec, b"1 How far is it ?\n0 What is caf\xe9 ?\n").unwrap();
        assert_eq!(
            read_questions(&trec).unwrap(),
            "How far is it ?\nWhat is café ?"
        );
    }

    #[test]
    fn vocab_round_trips_and_maps_unseen_characters_to_unk() {
        let v = CharVocab::from_text("abcab é");
        assert_eq!(v.chars(), &[' ', 'a', 'b', 'c', 'é']);
        assert_eq!(v.len(), 6);
        assert_eq!(v.encode("ab z"), vec![2, 3, 1, UNK_CHAR_ID]);
        assert_eq!(v.decode(&v.encode("cab é")), "cab é");
        assert_eq!(CharVocab::from_chars(v.chars().to_vec()), v);
    }

    #[test]
    fn split_is_chronological_at_character_boundaries() {
        let text = "ééééééééééabcdefghij";
        let s = chronological_split(text, 0.25, 0.25, 2).unwrap();
        assert_eq!((s.train, s.valid, s.test), ("éééééééééé", "abcde", "fghij"));
        assert!(
            chronological_split(text, 0.5, 0.5, 1)
                .unwrap_err()
                .contains("nothing")
        );
        assert!(
            chronological_split(text, 0.0, 0.5, 1)
                .unwrap_err()
                .contains("valid")
        );
        assert!(
            chronological_split("abc", 0.3, 0.3, 2)
                .unwrap_err()
                .contains("at least 2")
        );
    }

    #[test]
    fn batchify_cuts_columns_and_windows_continue_each_other() {
        let ids: Vec<u32> = (0..23).collect();
        let b = Batchified::new(&ids, 3).unwrap();
        assert_eq!(b.len(), 7);
        assert_eq!(b.columns[1], (7..14).collect::<Vec<_>>());
        assert_eq!(b.windows(4), vec![(0, 4), (4, 2)]);
        let (x, y) = b.window(4, 2);
        assert_eq!(x, vec![4, 5, 11, 12, 18, 19]);
        assert_eq!(y, vec![5, 6, 12, 13, 19, 20]);
        assert!(Batchified::new(&ids, 12).is_none());
    }

    #[test]
    fn ngram_distributions_sum_to_one_and_match_hand_counts() {
        let ids = [1u32, 2, 1, 2, 1, 3];
        let m = NGram::train(&ids, 4, 2, 0.5);
        for h in [&[][..], &[1], &[2], &[3], &[0]] {
            let total: f64 = (0..4).map(|c| m.prob(h, c)).sum();
            assert!((total - 1.0).abs() < 1e-12, "{h:?}: {total}");
        }
        // Unigram: n = 6, counts 1:3 2:2 3:1, 3 distinct: (3 - .5)/6 + .5·3/6·(1/4).
        let uni = 2.5 / 6.0 + 0.25 / 4.0;
        assert!((m.prob(&[], 1) - uni).abs() < 1e-12);
        // After 1 (seen 3 times: 2, 2, 3): P(2 | 1) = (2 - .5)/3 + .5·2/3·P(2).
        let p2 = 1.5 / 6.0 + 0.25 / 4.0;
        assert!((m.prob(&[1], 2) - (1.5 / 3.0 + (1.0 / 3.0) * p2)).abs() < 1e-12);
        // An unseen history reads the unigram.
        assert_eq!(m.prob(&[0], 2), m.prob(&[], 2));
    }

    #[test]
    fn a_longer_order_wins_on_repetitive_text_and_uniform_is_log_vocab() {
        let ids: Vec<u32> = "abcabcabcabcabcabc"
            .bytes()
            .map(|b| (b - b'a') as u32)
            .collect();
        let (m, nll) = NGram::fit(&ids[..12], &ids[12..], 3, 4);
        assert!(m.order() >= 2 && nll < 0.5, "order {} nll {nll}", m.order());
        let uniform = NGram::train(&[], 5, 1, 0.75);
        assert!((uniform.mean_nll(&[0, 1, 4]) - 5f64.ln()).abs() < 1e-12);
        assert!((bits_per_char(2f64.ln()) - 1.0).abs() < 1e-12);
    }
}
