//! The IDX reader on arbitrary bytes: as a raw file, as a gzip file, and gzip-compressed first so
//! the mutations reach the parser through a valid stream.
#![no_main]

use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use nabla_nn::data::{IdxArray, IdxData};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let _ = IdxArray::from_bytes(data, "fuzz.idx");
    let _ = IdxArray::from_gzip_bytes(data, "fuzz.idx.gz");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("writing to a vector");
    let gz = encoder.finish().expect("writing to a vector");
    let raw = IdxArray::from_bytes(data, "fuzz.idx");
    let inflated = IdxArray::from_gzip_bytes(&gz, "fuzz.idx.gz");
    // A file reads the same raw or compressed, NaN payloads included.
    assert_eq!(raw.is_ok(), inflated.is_ok());
    if let (Ok(a), Ok(b)) = (raw, inflated) {
        assert_eq!(a.dims, b.dims);
        assert_eq!(bits(&a.data), bits(&b.data));
    }
});

/// The elements' bit patterns (`==` on floats would call two NaNs different).
fn bits(data: &IdxData) -> (&'static str, Vec<u64>) {
    let bits = match data {
        IdxData::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
        IdxData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        other => other
            .to_f32()
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
    };
    (data.type_name(), bits)
}
