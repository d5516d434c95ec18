//! Reader (and writer) for the IDX format of the MNIST family of data sets.
//!
//! An IDX file is a 4-byte magic number (`00 00 <type> <ndims>`), `ndims` big-endian
//! `u32` dimensions, then the elements in row-major order. Only the unsigned-byte
//! element type (`0x08`) is supported, which is what MNIST and Fashion-MNIST use.
//! Files may be gzip-compressed; compression is detected from the `1f 8b` magic bytes,
//! not from the file name.
//!
//! Parsing is strict and streaming: the element count is checked for overflow and
//! against [`MAX_IDX_BYTES`] before anything is allocated, and a file with fewer or
//! more data bytes than its header announces is rejected.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{DataError, DataResult};

/// The largest data payload [`parse_idx`] accepts, in bytes (2 GiB).
pub const MAX_IDX_BYTES: usize = 1 << 31;

/// The IDX type byte for unsigned bytes, the only element type supported.
const TYPE_U8: u8 = 0x08;

/// Capacity reserved up front while reading the payload; larger payloads grow on demand,
/// so a lying header cannot make us allocate much more than the file really holds.
const INITIAL_CAPACITY_CAP: usize = 64 << 20;

/// A decoded IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (e.g. `[n, rows, cols]` for images).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// A labelled set of grayscale images (e.g. MNIST), row-major `u8` pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSet {
    /// All pixels, image after image, each `rows * cols` bytes.
    pub images: Vec<u8>,
    /// One class label per image.
    pub labels: Vec<u8>,
    /// Image height in pixels.
    pub rows: usize,
    /// Image width in pixels.
    pub cols: usize,
}

impl ImageSet {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`, or `None` when `i` is out of range.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let size = self.rows.checked_mul(self.cols)?;
        let start = i.checked_mul(size)?;
        self.images.get(start..start.checked_add(size)?)
    }
}

/// Human-readable name of an IDX element type byte.
fn type_name(t: u8) -> &'static str {
    match t {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown",
    }
}

/// `60000x28x28`-style rendering of dimensions.
fn dims_string<T: std::fmt::Display>(dims: &[T]) -> String {
    dims.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// Reads into `buf` until it is full or the reader is exhausted; returns the count read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads an IDX file, raw or gzip-compressed (detected by its `1f 8b` magic bytes).
pub fn read_idx(path: &Path) -> DataResult<IdxArray> {
    let mut file = BufReader::new(File::open(path).map_err(|e| DataError::io(path, e))?);
    let mut magic = [0u8; 2];
    let n = read_full(&mut file, &mut magic).map_err(|e| DataError::io(path, e))?;
    let reader = (&magic[..n]).chain(file);
    if magic[..n] == [0x1f, 0x8b] {
        parse_idx(MultiGzDecoder::new(reader), path)
    } else {
        parse_idx(reader, path)
    }
}

/// Parses an uncompressed IDX stream; `path` is only used in error messages.
///
/// Errors (each naming `path`): an empty stream, a bad magic number, an element type
/// other than unsigned byte, 0 or more than 4 dimensions, a dimension of 0, a payload
/// larger than [`MAX_IDX_BYTES`], fewer data bytes than the header announces
/// ("truncated") or more ("trailing data").
pub fn parse_idx(reader: impl Read, path: &Path) -> DataResult<IdxArray> {
    let mut reader = reader;
    let io_err = |e| DataError::io(path, e);
    let fmt_err = |reason: String| DataError::format(path, reason);

    let mut magic = [0u8; 4];
    let got = read_full(&mut reader, &mut magic).map_err(io_err)?;
    if got == 0 {
        return Err(fmt_err("empty file".into()));
    }
    if got < 4 {
        return Err(fmt_err(format!(
            "truncated header: {got} bytes, shorter than the 4-byte magic number"
        )));
    }
    let [z0, z1, elem_type, ndims] = magic;
    if z0 != 0 || z1 != 0 {
        return Err(fmt_err(format!(
            "not an IDX file: magic number {z0:02x} {z1:02x} {elem_type:02x} {ndims:02x} \
             does not start with 00 00"
        )));
    }
    if elem_type != TYPE_U8 {
        return Err(fmt_err(format!(
            "unsupported element type 0x{elem_type:02x} ({}): only 0x08 (unsigned byte) is supported",
            type_name(elem_type)
        )));
    }
    if !(1..=4).contains(&ndims) {
        return Err(fmt_err(format!(
            "unsupported number of dimensions {ndims} (expected 1 to 4)"
        )));
    }

    let ndims = usize::from(ndims);
    let mut raw = [0u8; 16];
    let header_len = 4 * ndims;
    let got = read_full(&mut reader, &mut raw[..header_len]).map_err(io_err)?;
    if got < header_len {
        return Err(fmt_err(format!(
            "truncated header: {ndims} dimensions need {header_len} bytes but only {got} follow"
        )));
    }
    let dims32: Vec<u32> = raw[..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(k) = dims32.iter().position(|&d| d == 0) {
        return Err(fmt_err(format!(
            "empty: dimension {k} is 0 (header says {})",
            dims_string(&dims32)
        )));
    }
    let too_large = || {
        fmt_err(format!(
            "header says {} elements, more than the {MAX_IDX_BYTES}-byte limit",
            dims_string(&dims32)
        ))
    };
    let mut dims = Vec::with_capacity(ndims);
    let mut expected: usize = 1;
    for &d in &dims32 {
        let d = usize::try_from(d).map_err(|_| too_large())?;
        expected = expected.checked_mul(d).ok_or_else(too_large)?;
        dims.push(d);
    }
    if expected > MAX_IDX_BYTES {
        return Err(too_large());
    }

    let limit = expected.saturating_add(1);
    let mut data = Vec::with_capacity(limit.min(INITIAL_CAPACITY_CAP));
    // `expected + 1 <= 2^31 + 1` always fits in u64.
    reader
        .take(limit as u64)
        .read_to_end(&mut data)
        .map_err(io_err)?;
    if data.len() < expected {
        return Err(fmt_err(format!(
            "truncated: header says {} ({expected} bytes) but only {} bytes follow",
            dims_string(&dims),
            data.len()
        )));
    }
    if data.len() > expected {
        return Err(fmt_err(format!(
            "trailing data: more than the {expected} bytes that the header ({}) announces",
            dims_string(&dims)
        )));
    }
    Ok(IdxArray { dims, data })
}

/// Loads an image file (3-D IDX) and its label file (1-D IDX) as an [`ImageSet`].
///
/// Checks that the image and label counts agree and that every label is below
/// `num_classes`.
pub fn load_image_set(images: &Path, labels: &Path, num_classes: u8) -> DataResult<ImageSet> {
    let img = read_idx(images)?;
    let lab = read_idx(labels)?;
    let &[n_images, rows, cols] = img.dims.as_slice() else {
        return Err(DataError::format(
            images,
            format!(
                "expected 3 dimensions (images x rows x cols), found {} ({})",
                img.dims.len(),
                dims_string(&img.dims)
            ),
        ));
    };
    let &[n_labels] = lab.dims.as_slice() else {
        return Err(DataError::format(
            labels,
            format!(
                "expected 1 dimension (labels), found {} ({})",
                lab.dims.len(),
                dims_string(&lab.dims)
            ),
        ));
    };
    if n_images != n_labels {
        return Err(DataError::format(
            images,
            format!(
                "has {n_images} images but {} has {n_labels} labels",
                labels.display()
            ),
        ));
    }
    if let Some((i, &v)) = lab
        .data
        .iter()
        .enumerate()
        .find(|&(_, &v)| v >= num_classes)
    {
        return Err(DataError::format(
            labels,
            format!("label {v} at index {i} is out of range (expected labels below {num_classes})"),
        ));
    }
    Ok(ImageSet {
        images: img.data,
        labels: lab.data,
        rows,
        cols,
    })
}

/// Writes `data` as an unsigned-byte IDX file with the given dimensions, optionally
/// gzip-compressed.
///
/// Fails with [`io::ErrorKind::InvalidInput`] when `dims` has 0 or more than 4 entries,
/// a dimension does not fit in `u32`, or the product of `dims` differs from `data.len()`.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> io::Result<()> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    let ndims = u8::try_from(dims.len())
        .ok()
        .filter(|n| (1..=4).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "IDX supports 1 to 4 dimensions, got {}",
                dims.len()
            ))
        })?;
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| invalid(format!("dimensions {} overflow", dims_string(dims))))?;
    if count != data.len() {
        return Err(invalid(format!(
            "dimensions {} need {count} bytes but {} were given",
            dims_string(dims),
            data.len()
        )));
    }
    let mut header = vec![0, 0, TYPE_U8, ndims];
    for &d in dims {
        let d =
            u32::try_from(d).map_err(|_| invalid(format!("dimension {d} does not fit in u32")))?;
        header.extend_from_slice(&d.to_be_bytes());
    }
    let file = BufWriter::new(File::create(path)?);
    if gzip {
        let mut enc = GzEncoder::new(file, Compression::default());
        enc.write_all(&header)?;
        enc.write_all(data)?;
        enc.finish()?.flush()
    } else {
        let mut file = file;
        file.write_all(&header)?;
        file.write_all(data)?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zoo-idx-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn parse_bytes(bytes: &[u8]) -> DataResult<IdxArray> {
        parse_idx(bytes, Path::new("mem.idx"))
    }

    fn header(dims: &[u32]) -> Vec<u8> {
        let mut h = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            h.extend_from_slice(&d.to_be_bytes());
        }
        h
    }

    #[test]
    fn round_trip_raw_and_gzip() {
        let dir = scratch("roundtrip");
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        for gzip in [false, true] {
            // The name deliberately lies about compression: detection is by content.
            let path = dir.join(format!("a-{gzip}.idx"));
            write_idx(&path, &[2, 3, 4], &data, gzip).unwrap();
            let raw = std::fs::read(&path).unwrap();
            assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip);
            let arr = read_idx(&path).unwrap();
            assert_eq!(arr.dims, [2, 3, 4]);
            assert_eq!(arr.data, data);
        }
    }

    #[test]
    fn write_rejects_bad_shapes() {
        let dir = scratch("badwrite");
        let p = dir.join("x.idx");
        assert!(write_idx(&p, &[], &[], false).is_err());
        assert!(write_idx(&p, &[1, 1, 1, 1, 1], &[0], false).is_err());
        assert!(write_idx(&p, &[2, 2], &[0; 3], false).is_err());
        assert!(write_idx(&p, &[usize::MAX, 2], &[0; 3], false).is_err());
    }

    #[test]
    fn truncated_data_is_reported_with_sizes() {
        let mut bytes = header(&[3, 2, 2]);
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "mem.idx: truncated: header says 3x2x2 (12 bytes) but only 5 bytes follow"
        );
    }

    #[test]
    fn truncated_header_is_reported() {
        let err = parse_bytes(&[0, 0, 8]).unwrap_err().to_string();
        assert!(err.contains("truncated header"), "{err}");
        let mut bytes = header(&[3, 2]);
        bytes.truncate(9);
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("truncated header"), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let dir = scratch("gztrunc");
        let path = dir.join("t.gz");
        let data = vec![7u8; 5000];
        write_idx(&path, &[5000], &data, true).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        raw.truncate(raw.len() / 2);
        std::fs::write(&path, raw).unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let err = parse_bytes(b"hello world!").unwrap_err().to_string();
        assert!(err.contains("not an IDX file"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn wrong_type_byte_names_the_type() {
        let mut bytes = header(&[1]);
        bytes[2] = 0x0D;
        bytes.extend_from_slice(&[0; 4]);
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("0x0d (f32)"), "{err}");
        bytes[2] = 0x42;
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("0x42 (unknown)"), "{err}");
    }

    #[test]
    fn bad_dimension_counts_are_rejected() {
        for nd in [0u8, 5, 255] {
            let err = parse_bytes(&[0, 0, 8, nd]).unwrap_err().to_string();
            assert!(err.contains("number of dimensions"), "{err}");
        }
    }

    #[test]
    fn empty_file_is_rejected() {
        let err = parse_bytes(&[]).unwrap_err().to_string();
        assert_eq!(err, "mem.idx: empty file");
        let dir = scratch("empty");
        let path = dir.join("e.idx");
        std::fs::write(&path, []).unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(err.ends_with(": empty file"), "{err}");
        // A single byte is not gzip either.
        std::fs::write(&path, [0x1f]).unwrap();
        assert!(read_idx(&path).is_err());
    }

    #[test]
    fn zero_dimension_is_rejected() {
        let err = parse_bytes(&header(&[10, 0, 28])).unwrap_err().to_string();
        assert!(err.contains("empty: dimension 1 is 0"), "{err}");
    }

    #[test]
    fn huge_header_fails_fast_without_allocating() {
        let start = std::time::Instant::now();
        let err = parse_bytes(&header(&[u32::MAX; 4]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("limit"), "{err}");
        // 65536 x 65536 = 2^32 bytes: no overflow, but above the 2 GiB cap.
        let err = parse_bytes(&header(&[65536, 65536]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("limit"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn large_header_with_little_data_is_truncated_not_oom() {
        // 1 GiB announced, 10 bytes present: only a bounded buffer is reserved.
        let mut bytes = header(&[1 << 30]);
        bytes.extend_from_slice(&[0; 10]);
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("but only 10 bytes follow"), "{err}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let mut bytes = header(&[2, 2]);
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let err = parse_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("trailing data"), "{err}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let path = Path::new("/definitely/not/here.idx");
        let err = read_idx(path).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().starts_with("/definitely/not/here.idx: "));
    }

    /// Writes an image file and a label file into `dir`.
    fn write_pair(dir: &Path, n_img: usize, labels: &[u8]) -> (PathBuf, PathBuf) {
        let img = dir.join("img.idx");
        let lab = dir.join("lab.idx.gz");
        write_idx(&img, &[n_img, 2, 3], &vec![9; n_img * 6], false).unwrap();
        write_idx(&lab, &[labels.len()], labels, true).unwrap();
        (img, lab)
    }

    #[test]
    fn image_set_loads() {
        let dir = scratch("set-ok");
        let (img, lab) = write_pair(&dir, 3, &[0, 2, 1]);
        let set = load_image_set(&img, &lab, 3).unwrap();
        assert_eq!(set.len(), 3);
        assert!(!set.is_empty());
        assert_eq!((set.rows, set.cols), (2, 3));
        assert_eq!(set.labels, [0, 2, 1]);
        assert_eq!(set.image(2), Some(&[9u8; 6][..]));
        assert_eq!(set.image(3), None);
        assert_eq!(set.image(usize::MAX), None);
    }

    #[test]
    fn image_label_count_mismatch_names_both_files() {
        let dir = scratch("set-count");
        let (img, lab) = write_pair(&dir, 3, &[0, 1]);
        let err = load_image_set(&img, &lab, 10).unwrap_err().to_string();
        assert!(err.contains(&img.display().to_string()), "{err}");
        assert!(err.contains(&lab.display().to_string()), "{err}");
        assert!(
            err.contains("3 images") && err.contains("2 labels"),
            "{err}"
        );
    }

    #[test]
    fn label_out_of_range_names_index_and_value() {
        let dir = scratch("set-range");
        let (img, lab) = write_pair(&dir, 3, &[0, 1, 10]);
        let err = load_image_set(&img, &lab, 10).unwrap_err().to_string();
        assert!(err.starts_with(&lab.display().to_string()), "{err}");
        assert!(err.contains("label 10 at index 2"), "{err}");
        // num_classes = 0 rejects every label without underflowing.
        let err = load_image_set(&img, &lab, 0).unwrap_err().to_string();
        assert!(err.contains("label 0 at index 0"), "{err}");
    }

    #[test]
    fn image_set_checks_dimensionality() {
        let dir = scratch("set-dims");
        let (img, lab) = write_pair(&dir, 2, &[0, 1]);
        // Swapped arguments: the label file is not 3-D.
        let err = load_image_set(&lab, &img, 10).unwrap_err().to_string();
        assert!(err.contains("expected 3 dimensions"), "{err}");
        let err = load_image_set(&img, &img, 10).unwrap_err().to_string();
        assert!(err.contains("expected 1 dimension"), "{err}");
    }

    #[test]
    fn real_mnist_sample_parses() {
        let base = Path::new("/work/shared/datasets/mnist-10k");
        let images = base.join("t10k-images-idx3-ubyte.gz");
        let labels = base.join("t10k-labels-idx1-ubyte.gz");
        if !images.exists() || !labels.exists() {
            eprintln!("note: {} not found, skipping", base.display());
            return;
        }
        let set = load_image_set(&images, &labels, 10).unwrap();
        assert_eq!(set.len(), 2000);
        assert_eq!((set.rows, set.cols), (28, 28));
        assert_eq!(set.images.len(), 2000 * 28 * 28);
        assert!(set.labels.iter().all(|&l| l <= 9));
        // Every digit occurs in a sample of 2000.
        for d in 0..10u8 {
            assert!(set.labels.contains(&d), "digit {d} missing");
        }
    }
}
