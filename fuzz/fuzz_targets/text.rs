//! Any bytes given to the sentence-file parser (plain and CSV) end in labelled, non-empty
//! sentences or in an error naming the file: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.txt");
    for is_csv in [false, true] {
        match zoo_data::text::parse_labeled(data.to_vec(), is_csv, true, path) {
            Ok(rows) => assert!(rows.iter().all(|r| !r.label.is_empty() && !r.tokens.is_empty())),
            Err(e) => assert!(e.to_string().contains("fuzz.txt")),
        }
    }
});
