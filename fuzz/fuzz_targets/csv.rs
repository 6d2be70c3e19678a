//! The CSV reader on arbitrary text, with options taken from the first byte: header or not,
//! delimiter, target column and kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nabla_nn::data::{Column, CsvData, CsvOptions, TargetKind};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = match choice % 3 {
        0 => TargetKind::ClassIndex,
        1 => TargetKind::ClassName,
        _ => TargetKind::Regression,
    };
    let target = if choice & 0x80 != 0 {
        Column::Name("y".into())
    } else {
        Column::Index(usize::from((choice >> 4) & 0x3))
    };
    let options = CsvOptions {
        has_header: choice & 0x40 == 0,
        delimiter: [',', ';', '\t'][usize::from((choice >> 2) & 0x3) % 3],
        target,
        kind,
    };
    if let Ok(csv) = CsvData::parse(text, "fuzz.csv", &options) {
        let features = csv.dataset.features.to_vec::<f32>();
        assert!(features.iter().all(|v| v.is_finite()));
        assert_eq!(
            csv.dataset.features.shape()[0],
            csv.dataset.targets.shape()[0]
        );
    }
});
