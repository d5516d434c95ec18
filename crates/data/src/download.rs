//! `--download`: fetches full MNIST (or Fashion-MNIST) into burn-dataset's cache
//! (`~/.cache/burn-dataset/mnist`, `train/` and `test/`, uncompressed: the layout burn-dataset's
//! own `MnistDataset` uses), so both burn-dataset and the zoo find it afterwards offline.
//!
//! Only an explicit user command downloads: nothing in the zoo reaches the network otherwise.
//! Each file is checked as IDX before it is written, and written atomically, so an interrupted
//! or failed download never leaves a half-written file in the cache.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::read::GzDecoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{DataError, DataResult};
use crate::fs::atomic_write;
use crate::idx::parse_idx;
use crate::images::{FILES, ImageDatasetKind};
use crate::progress::ProgressMode;

/// The mirror burn-dataset downloads MNIST from (the CVDF copy of Yann LeCun's files).
pub const MNIST_MIRROR: &str = "https://storage.googleapis.com/cvdf-datasets/mnist/";

/// Zalando's own download location for Fashion-MNIST.
pub const FASHION_MNIST_MIRROR: &str =
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// The mirror `--download` uses for `kind`.
pub fn default_mirror(kind: ImageDatasetKind) -> &'static str {
    match kind {
        ImageDatasetKind::Mnist => MNIST_MIRROR,
        ImageDatasetKind::FashionMnist => FASHION_MNIST_MIRROR,
    }
}

/// Largest compressed file accepted (the MNIST training images are 9.9 MB).
const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// Where each standard file goes under the cache: burn-dataset's `train/` and `test/`.
fn cache_path(cache: &Path, name: &str) -> PathBuf {
    let split = if name.starts_with("train") {
        "train"
    } else {
        "test"
    };
    cache.join(split).join(name)
}

/// What a download did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Downloaded {
    /// Files fetched now.
    pub fetched: Vec<PathBuf>,
    /// Files already present and valid, left alone.
    pub present: Vec<PathBuf>,
}

/// Downloads the four MNIST-format files (`train-images-idx3-ubyte.gz`, ...) from `mirror` (a
/// URL ending in `/`, see [`default_mirror`]) into `cache` (see [`crate::images::dataset_cache`]). Files already there and valid are
/// kept. Errors are one line naming the URL or the file, e.g. when there is no network.
/// `stop` is asked between chunks of 64 KiB (the binaries pass their SIGINT/SIGTERM flag):
/// when it says yes, the download ends with an error and the file being fetched is not
/// written (the ones before it are complete).
pub fn download_idx_files(
    mirror: &str,
    cache: &Path,
    progress: ProgressMode,
    stop: &dyn Fn() -> bool,
) -> DataResult<Downloaded> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut done = Downloaded::default();
    for name in FILES {
        let dest = cache_path(cache, name);
        if dest.is_file() && crate::idx::read_idx(&dest).is_ok() {
            done.present.push(dest);
            continue;
        }
        let url = format!("{mirror}{name}.gz");
        let gz = fetch(&agent, &url, progress, stop)?;
        let mut raw = Vec::new();
        GzDecoder::new(&gz[..])
            .take(MAX_DOWNLOAD_BYTES * 8)
            .read_to_end(&mut raw)
            .map_err(|e| DataError::format(&url, format!("not a gzip file: {e}")))?;
        parse_idx(&raw[..], Path::new(&url))?;
        let dir = dest.parent().unwrap_or(cache);
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        atomic_write(&dest, &raw).map_err(|e| DataError::io(&dest, e))?;
        done.fetched.push(dest);
    }
    Ok(done)
}

/// GETs `url` into memory, with a byte progress bar on a terminal.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    progress: ProgressMode,
    stop: &dyn Fn() -> bool,
) -> DataResult<Vec<u8>> {
    let offline = |e: String| {
        DataError::format(
            url,
            format!(
                "download failed: {e} (no network? copy the IDX files into a directory and read them from there, or use \
                 the bundled sample)"
            ),
        )
    };
    let response = agent.get(url).call().map_err(|e| {
        offline(match e {
            ureq::Error::Status(code, r) => format!("HTTP {code} {}", r.status_text()),
            // The transport error's own text repeats the URL; keep its message only.
            ureq::Error::Transport(t) => t
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| t.kind().to_string()),
        })
    })?;
    let total = response
        .header("Content-Length")
        .and_then(|v| v.parse::<u64>().ok());
    if total.is_some_and(|n| n > MAX_DOWNLOAD_BYTES) {
        return Err(DataError::format(
            url,
            format!("refusing a download over {MAX_DOWNLOAD_BYTES} bytes"),
        ));
    }
    let bar = match progress {
        ProgressMode::Quiet => ProgressBar::hidden(),
        _ => {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} ({eta})")
            {
                bar.set_style(style);
            }
            bar.set_message(format!("downloading {url}"));
            bar
        }
    };
    let mut body = Vec::new();
    let mut reader = bar.wrap_read(response.into_reader().take(MAX_DOWNLOAD_BYTES + 1));
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if stop() {
            bar.finish_and_clear();
            return Err(DataError::format(
                url,
                format!(
                    "stopped by a signal after {} bytes; this file was not written",
                    body.len()
                ),
            ));
        }
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(k) => body.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(offline(e.to_string())),
        }
    }
    bar.finish_and_clear();
    if body.len() as u64 > MAX_DOWNLOAD_BYTES {
        return Err(DataError::format(
            url,
            format!("refusing a download over {MAX_DOWNLOAD_BYTES} bytes"),
        ));
    }
    if progress != ProgressMode::Quiet {
        eprintln!("downloaded {url} ({} bytes)", body.len());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A one-thread HTTP server answering each GET with the gzipped bundled file of that
    /// name (404 for others); returns its base URL.
    fn serve(dir: PathBuf, requests: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let file = dir.join(path.trim_start_matches('/'));
                seen.push(path);
                match std::fs::read(&file) {
                    Ok(body) => {
                        write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .unwrap();
                        stream.write_all(&body).unwrap();
                    }
                    Err(_) => {
                        write!(
                            stream,
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .unwrap();
                    }
                }
            }
            seen
        });
        (base, handle)
    }

    fn bundled() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist-sample")
    }

    #[test]
    fn downloads_into_burn_dataset_layout_then_keeps_valid_files() {
        let (base, server) = serve(bundled(), 4);
        let cache = tempfile::tempdir().unwrap();
        let done = download_idx_files(&base, cache.path(), ProgressMode::Quiet, &|| false).unwrap();
        assert_eq!(done.fetched.len(), 4);
        let mut seen = server.join().unwrap();
        seen.sort();
        assert_eq!(
            seen,
            [
                "/t10k-images-idx3-ubyte.gz",
                "/t10k-labels-idx1-ubyte.gz",
                "/train-images-idx3-ubyte.gz",
                "/train-labels-idx1-ubyte.gz"
            ]
        );
        // Uncompressed, under train/ and test/, and the same images as the source.
        let got =
            crate::idx::read_idx(&cache.path().join("train/train-images-idx3-ubyte")).unwrap();
        let want = crate::idx::read_idx(&bundled().join("train-images-idx3-ubyte.gz")).unwrap();
        assert_eq!(got.dims, want.dims);
        assert_eq!(got.data, want.data);
        assert!(cache.path().join("test/t10k-labels-idx1-ubyte").is_file());
        let located = crate::images::find_idx_files(cache.path()).unwrap();
        assert!(located.paths[0].ends_with("train/train-images-idx3-ubyte"));
        // A second run touches no network (nothing listens at this address any more).
        let again =
            download_idx_files(&base, cache.path(), ProgressMode::Quiet, &|| false).unwrap();
        assert_eq!((again.fetched.len(), again.present.len()), (0, 4));
    }

    #[test]
    fn a_stop_ends_the_download_between_chunks_and_writes_nothing() {
        let (base, _server) = serve(bundled(), 1);
        let cache = tempfile::tempdir().unwrap();
        let asked = std::cell::Cell::new(0);
        // The first chunk arrives, then the stop flag is up.
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        };
        let e = download_idx_files(&base, cache.path(), ProgressMode::Quiet, &stop)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{base}train-images-idx3-ubyte.gz: stopped by a signal after "
            )),
            "{e}"
        );
        assert!(e.ends_with("bytes; this file was not written"), "{e}");
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }

    #[test]
    fn unreachable_mirror_is_a_one_line_error_naming_the_url() {
        // Bind then drop a listener: the port is closed, so the connection is refused.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cache = tempfile::tempdir().unwrap();
        let base = format!("http://127.0.0.1:{port}/");
        let e = download_idx_files(&base, cache.path(), ProgressMode::Quiet, &|| false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{base}train-images-idx3-ubyte.gz: download failed"
            )),
            "{e}"
        );
        assert!(e.contains("bundled sample") && !e.contains('\n'), "{e}");
        // Nothing half-written.
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_that_is_not_idx_is_rejected_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        for name in FILES {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(b"<html>captive portal</html>").unwrap();
            std::fs::write(dir.path().join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
        }
        let (base, _server) = serve(dir.path().to_path_buf(), 1);
        let cache = tempfile::tempdir().unwrap();
        let e = download_idx_files(&base, cache.path(), ProgressMode::Quiet, &|| false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("train-images-idx3-ubyte.gz: not an IDX file"),
            "{e}"
        );
        assert!(!cache.path().join("train/train-images-idx3-ubyte").exists());
    }
}
