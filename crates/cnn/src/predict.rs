//! Images from users: any PNG or PGM/PPM, converted to the network's grayscale square input.

use std::path::Path;

use zoo_training::DataError;

/// Loads an image, converts it to 8-bit grayscale and resizes it to `size x size`. MNIST digits
/// are light on dark: an image whose border is mostly light (a dark digit on white paper) is
/// inverted.
pub fn load_image(path: &Path, size: u32) -> Result<Vec<u8>, DataError> {
    if path.is_dir() {
        return Err(DataError::format(path, "is a directory, not an image"));
    }
    let reader = image::ImageReader::open(path).map_err(|e| DataError::io(path, e))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    let img = reader
        .decode()
        .map_err(|e| DataError::format(path, format!("not a readable PNG or PGM image: {e}")))?;
    let gray = image::imageops::resize(
        &img.to_luma8(),
        size,
        size,
        image::imageops::FilterType::Triangle,
    );
    let mut px = gray.into_raw();
    let s = size as usize;
    let border: Vec<u8> = (0..s)
        .flat_map(|i| [px[i], px[(s - 1) * s + i], px[i * s], px[i * s + s - 1]])
        .collect();
    let mean = border.iter().map(|&v| v as f64).sum::<f64>() / border.len() as f64;
    if mean > 127.0 {
        px.iter_mut().for_each(|v| *v = 255 - *v);
    }
    Ok(px)
}

/// The `k` most probable classes, most probable first.
pub fn top_k(probs: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
    idx.sort_by(|a, b| b.1.total_cmp(&a.1));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_to_the_same_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.png");
        let pixels: Vec<u8> = (0..28 * 28)
            .map(|i| {
                if (i / 28) % 7 == 3 {
                    255
                } else {
                    (i % 5) as u8
                }
            })
            .collect();
        image::GrayImage::from_raw(28, 28, pixels.clone())
            .unwrap()
            .save(&p)
            .unwrap();
        assert_eq!(load_image(&p, 28).unwrap(), pixels);
    }

    #[test]
    fn dark_on_light_is_inverted_and_resized() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pgm");
        let mut img = image::GrayImage::from_pixel(56, 56, image::Luma([255]));
        for y in 20..36 {
            for x in 26..30 {
                img.put_pixel(x, y, image::Luma([0]));
            }
        }
        img.save(&p).unwrap();
        let px = load_image(&p, 28).unwrap();
        assert_eq!(px.len(), 784);
        assert_eq!(px[0], 0, "white background becomes black");
        assert!(px[14 * 28 + 14] > 200, "the black stroke becomes white");
    }

    #[test]
    fn non_images_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.png");
        std::fs::write(&p, b"this is text").unwrap();
        let e = load_image(&p, 28).unwrap_err().to_string();
        assert!(
            e.contains("notes.png") && e.contains("not a readable"),
            "{e}"
        );
        let e = load_image(dir.path(), 28).unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
        let e = load_image(&dir.path().join("missing.png"), 28)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.png"), "{e}");
    }

    #[test]
    fn top_k_orders_by_probability() {
        assert_eq!(top_k(&[0.1, 0.6, 0.3], 2), vec![(1, 0.6), (2, 0.3)]);
    }
}
