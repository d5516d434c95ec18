//! The parsers of user files never panic: thousands of seeded mutations of valid IDX and text
//! files (bit flips, truncation, inserted and deleted bytes, random header dimensions) each end
//! in a value or an error that names the file. The open-ended version of this is the
//! `cargo fuzz` targets in `fuzz/` (see the README).

use std::io::Cursor;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zoo_data::idx::parse_idx;
use zoo_data::text::parse_labeled;

const ROUNDS: usize = 4000;

fn mutate(rng: &mut ChaCha8Rng, valid: &[u8]) -> Vec<u8> {
    let mut v = valid.to_vec();
    for _ in 0..rng.random_range(1..4) {
        match rng.random_range(0..5) {
            0 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 => v.truncate(rng.random_range(0..=v.len())),
            2 => {
                let i = rng.random_range(0..=v.len());
                v.insert(i, rng.random());
            }
            3 if !v.is_empty() => {
                v.remove(rng.random_range(0..v.len()));
            }
            _ if v.len() >= 8 => {
                // A random (often huge) dimension in the header.
                let d: u32 = rng.random();
                v[4..8].copy_from_slice(&d.to_be_bytes());
            }
            _ => {}
        }
    }
    v
}

#[test]
fn idx_parser_survives_mutations() {
    let path = Path::new("mutated-idx");
    // A valid 3-D IDX: 3 images of 4×5.
    let mut valid = vec![0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5];
    valid.extend((0..60u8).map(|i| i.wrapping_mul(7)));
    assert_eq!(
        parse_idx(Cursor::new(&valid), path).unwrap().dims,
        [3, 4, 5]
    );
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut ok, mut errors) = (0, 0);
    for _ in 0..ROUNDS {
        let bytes = mutate(&mut rng, &valid);
        match parse_idx(Cursor::new(&bytes), path) {
            Ok(a) => {
                assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
                ok += 1;
            }
            Err(e) => {
                assert!(e.to_string().contains("mutated-idx"), "{e}");
                errors += 1;
            }
        }
    }
    println!("idx: {ROUNDS} mutations, {ok} parsed, {errors} errors");
    assert!(errors > ROUNDS / 2);
}

#[test]
fn text_parser_survives_mutations() {
    let path = Path::new("mutated.txt");
    let valid = "NUM:date When was the wheel invented ?\nLOC:city Where is Élysée ?\n\nDESC:def What is a fjord ?\n";
    let csv = "label,text\npos,\"a fine, warm film\"\nneg,dull\n";
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut counts = [0usize; 2];
    for round in 0..ROUNDS {
        let is_csv = round % 2 == 1;
        let base = if is_csv { csv } else { valid };
        let bytes = mutate(&mut rng, base.as_bytes());
        match parse_labeled(bytes, is_csv, round % 3 == 0, path) {
            Ok(rows) => {
                assert!(!rows.is_empty());
                assert!(
                    rows.iter()
                        .all(|r| !r.label.is_empty() && !r.tokens.is_empty())
                );
                counts[0] += 1;
            }
            Err(e) => {
                assert!(e.to_string().contains("mutated.txt"), "{e}");
                counts[1] += 1;
            }
        }
    }
    println!(
        "text: {ROUNDS} mutations, {} parsed, {} errors",
        counts[0], counts[1]
    );
    assert!(counts[0] > 0 && counts[1] > 0);
}
