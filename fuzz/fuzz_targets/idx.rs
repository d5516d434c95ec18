//! Any bytes given to the IDX parser end in an array whose size matches its header, or in an
//! error naming the file: no panic, no allocation beyond the size limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    match zoo_data::idx::parse_idx(data, path) {
        Ok(a) => assert_eq!(a.data.len(), a.dims.iter().product::<usize>()),
        Err(e) => assert!(e.to_string().contains("fuzz.idx")),
    }
});
