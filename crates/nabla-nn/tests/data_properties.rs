//! Properties of the file readers on random input: any bytes are either read or refused with a
//! format error (never a panic, never an allocation the input does not justify), and every
//! valid IDX file and CSV table reads back exactly what was written.

use flate2::Compression;
use flate2::write::GzEncoder;
use nabla_nn::data::{Column, CsvData, CsvOptions, IdxArray, IdxData, TargetKind};
use proptest::prelude::*;
use std::io::Write;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An IDX array of any element type with up to 3 small dimensions, and its file bytes.
fn idx_file() -> impl Strategy<Value = (IdxArray, Vec<u8>)> {
    (prop::collection::vec(0usize..5, 0..4), 0u8..6).prop_flat_map(|(dims, kind)| {
        let n: usize = dims.iter().product();
        let data = match kind {
            0 => prop::collection::vec(any::<u8>(), n)
                .prop_map(IdxData::U8)
                .boxed(),
            1 => prop::collection::vec(any::<i8>(), n)
                .prop_map(IdxData::I8)
                .boxed(),
            2 => prop::collection::vec(any::<i16>(), n)
                .prop_map(IdxData::I16)
                .boxed(),
            3 => prop::collection::vec(any::<i32>(), n)
                .prop_map(IdxData::I32)
                .boxed(),
            4 => prop::collection::vec(any::<u32>(), n)
                .prop_map(|v| IdxData::F32(v.into_iter().map(f32::from_bits).collect()))
                .boxed(),
            _ => prop::collection::vec(any::<u64>(), n)
                .prop_map(|v| IdxData::F64(v.into_iter().map(f64::from_bits).collect()))
                .boxed(),
        };
        (Just(dims), data).prop_map(|(dims, data)| {
            let (code, body): (u8, Vec<u8>) = match &data {
                IdxData::U8(v) => (0x08, v.clone()),
                IdxData::I8(v) => (0x09, v.iter().map(|&b| b as u8).collect()),
                IdxData::I16(v) => (0x0B, v.iter().flat_map(|x| x.to_be_bytes()).collect()),
                IdxData::I32(v) => (0x0C, v.iter().flat_map(|x| x.to_be_bytes()).collect()),
                IdxData::F32(v) => (0x0D, v.iter().flat_map(|x| x.to_be_bytes()).collect()),
                IdxData::F64(v) => (0x0E, v.iter().flat_map(|x| x.to_be_bytes()).collect()),
            };
            let mut bytes = vec![0, 0, code, dims.len() as u8];
            for &d in &dims {
                bytes.extend((d as u32).to_be_bytes());
            }
            bytes.extend(body);
            (IdxArray { dims, data }, bytes)
        })
    })
}

/// Element-wise equality that treats equal NaN bit patterns as equal.
fn same(a: &IdxArray, b: &IdxArray) -> bool {
    let bits = |d: &IdxData| -> Vec<u64> {
        match d {
            IdxData::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            IdxData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
            other => other
                .to_f32()
                .iter()
                .map(|x| u64::from(x.to_bits()))
                .collect(),
        }
    };
    a.dims == b.dims && a.data.type_name() == b.data.type_name() && bits(&a.data) == bits(&b.data)
}

proptest! {
    #[test]
    fn idx_files_round_trip_raw_and_compressed((array, bytes) in idx_file()) {
        prop_assert!(same(&IdxArray::from_bytes(&bytes, "a.idx").unwrap(), &array));
        prop_assert!(same(&IdxArray::from_gzip_bytes(&gzip(&bytes), "a.idx.gz").unwrap(), &array));
        // One byte more or less is refused.
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(IdxArray::from_bytes(&longer, "a.idx").is_err());
        prop_assert!(IdxArray::from_bytes(&bytes[..bytes.len() - 1], "a.idx").is_err());
    }

    #[test]
    fn idx_random_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let raw = IdxArray::from_bytes(&bytes, "r.idx");
        let inflated = IdxArray::from_gzip_bytes(&gzip(&bytes), "r.idx.gz");
        prop_assert_eq!(raw.is_ok(), inflated.is_ok());
        let _ = IdxArray::from_gzip_bytes(&bytes, "r.idx.gz");
    }

    #[test]
    fn idx_headers_with_random_dimensions_never_over_allocate(
        code in prop::sample::select(vec![0x08u8, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]),
        dims in prop::collection::vec(any::<u32>(), 0..5),
        body in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut bytes = vec![0, 0, code, dims.len() as u8];
        for d in &dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(&body);
        // Claims of up to 2^128 bytes are compared with what the input holds, not allocated.
        let _ = IdxArray::from_bytes(&bytes, "h.idx");
        let _ = IdxArray::from_gzip_bytes(&gzip(&bytes), "h.idx.gz");
    }

    #[test]
    fn csv_random_text_is_read_or_refused(
        text in "[0-9a-z,;\"\\n .e+-]{0,80}",
        header in any::<bool>(),
        column in 0usize..3,
        kind in 0u8..3,
    ) {
        let kind = [TargetKind::ClassIndex, TargetKind::ClassName, TargetKind::Regression][usize::from(kind)];
        let options = CsvOptions { has_header: header, ..CsvOptions::new(Column::Index(column), kind) };
        if let Ok(data) = CsvData::parse(&text, "r.csv", &options) {
            prop_assert!(data.dataset.features.to_vec::<f32>().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn csv_tables_round_trip(
        rows in prop::collection::vec(
            (prop::collection::vec(-1e30f32..1e30, 3), 0i64..10),
            1..12,
        ),
        delimiter in prop::sample::select(vec![',', ';', '\t']),
    ) {
        let d = delimiter.to_string();
        let mut text = ["a", "b", "label", "c"].join(&d) + "\n";
        for (features, label) in &rows {
            let fields = [
                features[0].to_string(),
                format!("\"{}\"", features[1]),
                label.to_string(),
                format!(" {} ", features[2]),
            ];
            text += &(fields.join(&d) + "\n");
        }
        let options = CsvOptions {
            delimiter,
            ..CsvOptions::new(Column::Name("label".into()), TargetKind::ClassIndex)
        };
        let data = CsvData::parse(&text, "t.csv", &options).unwrap();
        let features: Vec<f32> = rows.iter().flat_map(|(f, _)| f.clone()).collect();
        let labels: Vec<i64> = rows.iter().map(|(_, l)| *l).collect();
        prop_assert_eq!(data.dataset.features.to_vec::<f32>(), features);
        prop_assert_eq!(data.dataset.targets.to_vec::<i64>(), labels);
        prop_assert_eq!(data.feature_names, Some(vec!["a".to_string(), "b".into(), "c".into()]));
    }
}
