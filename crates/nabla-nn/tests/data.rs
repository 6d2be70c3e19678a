//! Data loading: IDX files (raw and gzip) and their errors, MNIST folders, datasets, the
//! mini-batch loader, and CSV tables.

use flate2::Compression;
use flate2::write::GzEncoder;
use nabla_core::Tensor;
use nabla_nn::Error;
use nabla_nn::data::{
    Column, CsvData, CsvOptions, DataLoader, Dataset, IdxArray, IdxData, Mnist, Normalization,
    TargetKind,
};
use std::io::Write;
use std::path::Path;

mod temp_dir;
use temp_dir::TempDir;

fn idx_bytes(type_code: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(body);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn format_message(err: Error, path: &Path) -> String {
    match err {
        Error::Format { path: p, message } => {
            assert_eq!(p, path);
            message
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

// ---- IDX ----------------------------------------------------------------------------------

#[test]
fn idx_ubyte_raw_and_gzip_read_back_exactly() {
    let dir = TempDir::new("idx-ubyte");
    let body: Vec<u8> = (0..12).map(|i| i * 20).collect();
    let bytes = idx_bytes(0x08, &[3, 2, 2], &body);
    let expected = IdxArray {
        dims: vec![3, 2, 2],
        data: IdxData::U8(body),
    };
    let raw = dir.write("raw-idx3-ubyte", &bytes);
    let gz = dir.write("raw-idx3-ubyte.gz", &gzip(&bytes));
    assert_eq!(IdxArray::read(&raw).unwrap(), expected);
    assert_eq!(IdxArray::read(&gz).unwrap(), expected);
}

#[test]
fn idx_compression_is_detected_by_content_not_name() {
    let dir = TempDir::new("idx-names");
    let bytes = idx_bytes(0x08, &[2], &[7, 9]);
    let gz_without_suffix = dir.write("labels", &gzip(&bytes));
    let raw_with_suffix = dir.write("labels.gz", &bytes);
    let expected = IdxArray {
        dims: vec![2],
        data: IdxData::U8(vec![7, 9]),
    };
    assert_eq!(IdxArray::read(gz_without_suffix).unwrap(), expected);
    assert_eq!(IdxArray::read(raw_with_suffix).unwrap(), expected);
}

#[test]
fn idx_reads_every_element_type_big_endian() {
    let i8s = [-128i8, -1, 0, 127];
    let i16s = [-32768i16, -2, 300, 32767];
    let i32s = [i32::MIN, -70000, 1, i32::MAX];
    let f32s = [-1.5f32, 0.0, 3.25, f32::MAX];
    let f64s = [-2.5f64, 1e-300, 0.1, f64::MIN_POSITIVE];
    let cases = [
        (
            0x09,
            i8s.iter().map(|v| *v as u8).collect::<Vec<_>>(),
            IdxData::I8(i8s.to_vec()),
        ),
        (
            0x0B,
            i16s.iter().flat_map(|v| v.to_be_bytes()).collect(),
            IdxData::I16(i16s.to_vec()),
        ),
        (
            0x0C,
            i32s.iter().flat_map(|v| v.to_be_bytes()).collect(),
            IdxData::I32(i32s.to_vec()),
        ),
        (
            0x0D,
            f32s.iter().flat_map(|v| v.to_be_bytes()).collect(),
            IdxData::F32(f32s.to_vec()),
        ),
        (
            0x0E,
            f64s.iter().flat_map(|v| v.to_be_bytes()).collect(),
            IdxData::F64(f64s.to_vec()),
        ),
    ];
    for (code, body, data) in cases {
        let array = IdxArray::from_bytes(&idx_bytes(code, &[2, 2], &body), "typed.idx").unwrap();
        assert_eq!(
            array,
            IdxArray {
                dims: vec![2, 2],
                data
            }
        );
    }
    assert_eq!(
        IdxData::I16(i16s.to_vec()).to_f32(),
        vec![-32768.0, -2.0, 300.0, 32767.0]
    );
}

#[test]
fn idx_missing_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("idx-missing");
    let path = dir.path("absent-idx1-ubyte");
    match IdxArray::read(&path).unwrap_err() {
        Error::Io { path: p, source } => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an io error, got {other:?}"),
    }
}

#[test]
fn idx_format_errors_name_the_file_and_the_problem() {
    let dir = TempDir::new("idx-errors");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "short",
            vec![0, 0, 8],
            "file is 3 bytes long, too short for the 4-byte IDX magic number",
        ),
        (
            "bad-magic",
            idx_bytes(0x08, &[1], &[0])
                .iter()
                .enumerate()
                .map(|(i, b)| if i == 1 { 1 } else { *b })
                .collect(),
            "bad magic number 0x00010801: an IDX file starts with two zero bytes",
        ),
        (
            "bad-type",
            idx_bytes(0x07, &[1], &[0]),
            "unknown IDX type code 0x07 (known: 0x08 ubyte, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)",
        ),
        (
            "short-header",
            vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0],
            "truncated header: 3 dimensions need 16 header bytes, the file has 10",
        ),
        (
            "truncated",
            idx_bytes(0x0C, &[3, 2], &[0; 5]),
            "truncated data: expected 24 bytes of data after the header (dimensions [3, 2]), found 5",
        ),
        (
            "trailing",
            idx_bytes(0x08, &[2, 2], &[0; 7]),
            "3 trailing bytes after the 4 bytes of data the header declares (dimensions [2, 2])",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.write(name, &bytes);
        let err = IdxArray::read(&path).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: {expected}", path.display()));
        assert_eq!(format_message(err, &path), expected);
        // The same problem inside a gzip stream is reported the same way.
        let gz_path = dir.write(&format!("{name}.gz"), &gzip(&bytes));
        assert_eq!(
            format_message(IdxArray::read(&gz_path).unwrap_err(), &gz_path),
            expected
        );
    }
}

#[test]
fn idx_corrupt_gzip_is_reported() {
    let dir = TempDir::new("idx-gzip");
    let good = gzip(&idx_bytes(0x08, &[64], &[3; 64]));
    let mut bad_crc = good.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    // The reasons are flate2's own words.
    let cases = [
        (
            "cut.gz",
            good[..good.len() / 2].to_vec(),
            "incomplete deflate stream",
        ),
        (
            "crc.gz",
            bad_crc,
            "corrupt gzip stream does not have a matching checksum",
        ),
        (
            "garbage.gz",
            vec![0x1f, 0x8b, 0xde, 0xad, 0xbe, 0xef],
            "unexpected end of file",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.write(name, &bytes);
        assert_eq!(
            format_message(IdxArray::read(&path).unwrap_err(), &path),
            format!("cannot decompress the gzip data: {reason}")
        );
    }
}

/// 1 MiB of zeros as one gzip member (about 1 kB): members concatenate, so `n` of them are a
/// small file that inflates to `n` MiB.
fn zeros_member() -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn idx_gzip_inflating_past_its_header_stops_at_what_the_header_declares() {
    let dir = TempDir::new("idx-bomb");
    // A 16-byte array followed by 1.5 GiB of zeros, in about 1.5 MB.
    let mut bytes = gzip(&idx_bytes(0x08, &[16], &[1; 16]));
    let member = zeros_member();
    for _ in 0..1536 {
        bytes.extend(&member);
    }
    assert!(bytes.len() < 2_000_000);
    let path = dir.write("bomb-idx1-ubyte.gz", &bytes);
    assert_eq!(
        format_message(IdxArray::read(&path).unwrap_err(), &path),
        "more than 1048576 trailing bytes after the 16 bytes of data the header declares \
         (dimensions [16])"
    );
}

#[test]
fn idx_headers_claiming_more_than_the_file_holds_are_refused_before_allocating() {
    let dir = TempDir::new("idx-claims");
    // 6 GiB of i32 claimed by 1.5 MB of gzip: more than deflate can produce from it.
    let mut bytes = gzip(&idx_bytes(0x0C, &[1536, 1024, 1024], &[]));
    let member = zeros_member();
    for _ in 0..1536 {
        bytes.extend(&member);
    }
    let path = dir.write("claims-idx3-ubyte.gz", &bytes);
    assert_eq!(
        format_message(IdxArray::read(&path).unwrap_err(), &path),
        format!(
            "the header declares 6442450944 bytes of data (dimensions [1536, 1024, 1024]), more \
             than a gzip stream of {} bytes can hold (at most {}): the header or the file is \
             corrupt",
            bytes.len(),
            bytes.len() * 1032
        )
    );
    // Raw: 16 GiB claimed by a 16-byte file is compared with the file's size, not read.
    let path = dir.write(
        "claims-idx2-ubyte",
        &idx_bytes(0x0D, &[65536, 65536], &[0; 4]),
    );
    assert_eq!(
        format_message(IdxArray::read(&path).unwrap_err(), &path),
        "truncated data: expected 17179869184 bytes of data after the header (dimensions \
         [65536, 65536]), found 4"
    );
    let path = dir.write("overflow", &idx_bytes(0x0E, &[u32::MAX; 3], &[]));
    assert_eq!(
        format_message(IdxArray::read(&path).unwrap_err(), &path),
        "dimensions [4294967295, 4294967295, 4294967295] overflow the address space"
    );
}

// ---- MNIST --------------------------------------------------------------------------------

fn pixel(image: usize, p: usize) -> u8 {
    ((image * 31 + p * 7) % 256) as u8
}

/// Writes an MNIST-shaped split: `n` images of `side`x`side` and their labels `label(i)`.
fn write_split(
    dir: &TempDir,
    prefix: &str,
    n: usize,
    side: u32,
    label: impl Fn(usize) -> u8,
    gz: bool,
) {
    let pixels: Vec<u8> = (0..n)
        .flat_map(|i| (0..(side * side) as usize).map(move |p| pixel(i, p)))
        .collect();
    let labels: Vec<u8> = (0..n).map(label).collect();
    let images = idx_bytes(0x08, &[n as u32, side, side], &pixels);
    let labels = idx_bytes(0x08, &[n as u32], &labels);
    if gz {
        dir.write(&format!("{prefix}-images-idx3-ubyte.gz"), &gzip(&images));
        dir.write(&format!("{prefix}-labels-idx1-ubyte"), &labels);
    } else {
        dir.write(&format!("{prefix}-images-idx3-ubyte"), &images);
        dir.write(&format!("{prefix}-labels-idx1-ubyte.gz"), &gzip(&labels));
    }
}

fn synthetic_mnist(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    write_split(&dir, "train", 20, 28, |i| (i % 10) as u8, true);
    write_split(&dir, "t10k", 10, 28, |i| (9 - i) as u8, false);
    dir
}

#[test]
fn mnist_loads_a_synthetic_folder_with_each_normalisation() {
    let dir = synthetic_mnist("mnist-ok");
    let raw = Mnist::load(dir.root(), Normalization::None).unwrap();
    assert_eq!(raw.train.features.shape(), &[20, 784]);
    assert_eq!(raw.test.features.shape(), &[10, 784]);
    assert_eq!(
        raw.train.targets.to_vec::<i64>(),
        (0..20).map(|i| i % 10).collect::<Vec<i64>>()
    );
    assert_eq!(
        raw.test.targets.to_vec::<i64>(),
        (0..10).rev().collect::<Vec<i64>>()
    );
    let expected: Vec<f32> = (0..20)
        .flat_map(|i| (0..784).map(move |p| f32::from(pixel(i, p))))
        .collect();
    assert_eq!(raw.train.features.to_vec::<f32>(), expected);

    let unit = Mnist::load(dir.root(), Normalization::UnitRange).unwrap();
    let expected: Vec<f32> = (0..10)
        .flat_map(|i| (0..784).map(move |p| f32::from(pixel(i, p)) / 255.0))
        .collect();
    assert_eq!(unit.test.features.to_vec::<f32>(), expected);

    let standard = Mnist::load(dir.root(), Normalization::MNIST).unwrap();
    let expected: Vec<f32> = (0..20)
        .flat_map(|i| (0..784).map(move |p| (f32::from(pixel(i, p)) / 255.0 - 0.1307) / 0.3081))
        .collect();
    assert_eq!(standard.train.features.to_vec::<f32>(), expected);
}

#[test]
fn mnist_missing_folder_says_where_mnist_is_expected() {
    let dir = TempDir::new("mnist-none");
    let missing = dir.path("mnist");
    let err = Mnist::load(&missing, Normalization::UnitRange).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no MNIST folder here: it should hold train-images-idx3-ubyte.gz, \
             train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz \
             (the repository ships them in data/mnist)",
            missing.display()
        )
    );
}

#[test]
fn mnist_missing_file_is_named() {
    let dir = synthetic_mnist("mnist-missing-file");
    std::fs::remove_file(dir.path("t10k-images-idx3-ubyte")).unwrap();
    let err = Mnist::load(dir.root(), Normalization::UnitRange).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz is in this MNIST folder",
            dir.path("t10k-images-idx3-ubyte.gz").display()
        )
    );
}

#[test]
fn mnist_rejects_mismatched_counts_bad_labels_and_wrong_shapes() {
    let dir = synthetic_mnist("mnist-count");
    let labels = dir.write("train-labels-idx1-ubyte", &idx_bytes(0x08, &[19], &[1; 19]));
    let images = dir.path("train-images-idx3-ubyte.gz");
    assert_eq!(
        format_message(
            Mnist::load(dir.root(), Normalization::None).unwrap_err(),
            &labels
        ),
        format!("19 labels for the 20 images of {}", images.display())
    );

    let mut bad = vec![1u8; 20];
    bad[13] = 10;
    let labels = dir.write("train-labels-idx1-ubyte", &idx_bytes(0x08, &[20], &bad));
    assert_eq!(
        format_message(
            Mnist::load(dir.root(), Normalization::None).unwrap_err(),
            &labels
        ),
        "label 10 at index 13 is not a digit 0..10"
    );

    let dir = TempDir::new("mnist-shape");
    write_split(&dir, "train", 4, 27, |_| 0, false);
    write_split(&dir, "t10k", 2, 28, |_| 0, false);
    let images = dir.path("train-images-idx3-ubyte");
    assert_eq!(
        format_message(
            Mnist::load(dir.root(), Normalization::None).unwrap_err(),
            &images
        ),
        "expected ubyte images of shape [N, 28, 28], found ubyte of shape [4, 27, 27]"
    );
}

#[test]
fn mnist_rejects_a_non_positive_std() {
    let dir = synthetic_mnist("mnist-std");
    let err = Mnist::load(
        dir.root(),
        Normalization::Standardize {
            mean: 0.0,
            std: 0.0,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Mnist::load: standardisation needs a positive finite std, got 0"
    );
}

/// The copy of MNIST shipped in the repository.
#[test]
fn mnist_real_repository_copy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mnist = Mnist::load(dir, Normalization::UnitRange).unwrap();
    assert_eq!(mnist.train.features.shape(), &[60000, 784]);
    assert_eq!(mnist.test.features.shape(), &[10000, 784]);
    assert_eq!(mnist.test.targets.shape(), &[10000]);
    // Reference: numpy over the gzip files, e.g.
    //   lab = np.frombuffer(gzip.open("train-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    //   lab[:5] -> [5 0 4 1 9]; test labels[:5] -> [7 2 1 0 4]; image 0 pixel sum -> 27525
    //   np.bincount(lab) -> [5923 6742 5958 6131 5842 5421 5918 6265 5851 5949]
    let train = mnist.train.targets.to_vec::<i64>();
    assert_eq!(&train[..5], &[5, 0, 4, 1, 9]);
    assert_eq!(&mnist.test.targets.to_vec::<i64>()[..5], &[7, 2, 1, 0, 4]);
    let mut counts = [0usize; 10];
    for label in &train {
        counts[usize::try_from(*label).unwrap()] += 1;
    }
    assert_eq!(
        counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let first: f64 = mnist
        .train
        .features
        .narrow(0, 0, 1)
        .to_f64_vec()
        .iter()
        .sum();
    assert_eq!((first * 255.0).round(), 27525.0);
}

// ---- Dataset and DataLoader ---------------------------------------------------------------

/// `n` samples whose features are `[2i, 2i + 1]` and whose target is `i`.
fn indexed(n: usize) -> Dataset {
    let features = Tensor::from_vec((0..2 * n).map(|v| v as f32).collect(), &[n, 2]);
    let targets = Tensor::from_vec((0..n as i64).collect(), &[n]);
    Dataset::new(features, targets).unwrap()
}

/// The target of every sample an epoch yields, checking each feature row matches its target.
fn visited(loader: &DataLoader, epoch: u64) -> Vec<i64> {
    let mut out = Vec::new();
    for batch in loader.epoch(epoch) {
        let targets = batch.targets.to_vec::<i64>();
        let expected: Vec<f32> = targets
            .iter()
            .flat_map(|&t| [2.0 * t as f32, 2.0 * t as f32 + 1.0])
            .collect();
        assert_eq!(batch.features.to_vec::<f32>(), expected);
        assert!(batch.features.is_contiguous());
        out.extend(targets);
    }
    out
}

#[test]
fn dataset_checks_counts_and_slices() {
    let err = Dataset::new(
        Tensor::zeros(&[3, 2], nabla_core::DType::F32),
        Tensor::from_vec(vec![0i64; 4], &[4]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Dataset::new: features have 3 samples (shape [3, 2]) but targets have 4 (shape [4])"
    );
    let data = indexed(6);
    let sub = data.subset(2..5).unwrap();
    assert_eq!(sub.len(), 3);
    assert_eq!(sub.targets.to_vec::<i64>(), vec![2, 3, 4]);
    assert_eq!(
        sub.features.to_vec::<f32>(),
        vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    );
    assert_eq!(data.take(2).targets.to_vec::<i64>(), vec![0, 1]);
    assert_eq!(data.take(100).len(), 6);
    assert_eq!(
        data.subset(4..7).unwrap_err().to_string(),
        "Dataset::subset: range 4..7 is outside the 6 samples"
    );
    assert_eq!(
        data.gather(&[0, 6]).unwrap_err().to_string(),
        "Dataset::gather: sample index 6 is out of range for 6 samples"
    );
    let batch = sub.gather(&[2, 0, 1]).unwrap();
    assert_eq!(batch.targets.to_vec::<i64>(), vec![4, 2, 3]);
    assert_eq!(
        batch.features.to_vec::<f32>(),
        vec![8.0, 9.0, 4.0, 5.0, 6.0, 7.0]
    );
}

#[test]
fn loader_batch_sizes_with_and_without_drop_last() {
    let loader = DataLoader::new(indexed(10), 4).unwrap();
    assert_eq!(loader.num_batches(), 3);
    let epoch = loader.epoch(0);
    assert_eq!(epoch.len(), 3);
    assert_eq!(epoch.map(|b| b.len()).collect::<Vec<_>>(), vec![4, 4, 2]);

    let loader = loader.drop_last(true);
    assert_eq!(loader.num_batches(), 2);
    assert_eq!(
        loader.epoch(0).map(|b| b.len()).collect::<Vec<_>>(),
        vec![4, 4]
    );

    let exact = DataLoader::new(indexed(8), 4).unwrap().drop_last(true);
    assert_eq!(exact.num_batches(), 2);
    assert_eq!(visited(&exact, 0), (0..8).collect::<Vec<_>>());
}

#[test]
fn loader_without_shuffle_keeps_dataset_order_every_epoch() {
    let loader = DataLoader::new(indexed(7), 3).unwrap();
    assert_eq!(visited(&loader, 0), (0..7).collect::<Vec<_>>());
    assert_eq!(visited(&loader, 5), (0..7).collect::<Vec<_>>());
}

#[test]
fn loader_shuffle_visits_every_sample_once_reproducibly() {
    let loader = DataLoader::new(indexed(50), 8).unwrap().shuffle(42);
    let first = visited(&loader, 0);
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    assert_ne!(first, (0..50).collect::<Vec<_>>());
    assert_eq!(
        first.iter().map(|&i| i as usize).collect::<Vec<_>>(),
        loader.order(0)
    );

    assert_eq!(visited(&loader, 0), first);
    // Batches gathered ahead on a background thread are the same batches.
    assert_eq!(visited(&loader.clone().prefetch(3), 0), first);
    let rerun = DataLoader::new(indexed(50), 8).unwrap().shuffle(42);
    assert_eq!(visited(&rerun, 0), first);
    assert_ne!(visited(&loader, 1), first);
    let other_seed = DataLoader::new(indexed(50), 8).unwrap().shuffle(43);
    assert_ne!(visited(&other_seed, 0), first);
}

#[test]
fn loader_drop_last_with_shuffle_drops_the_tail_of_the_order() {
    for prefetch in [0, 1] {
        let loader = DataLoader::new(indexed(10), 4)
            .unwrap()
            .shuffle(3)
            .drop_last(true)
            .prefetch(prefetch);
        let order: Vec<i64> = loader.order(2).iter().map(|&i| i as i64).collect();
        assert_eq!(visited(&loader, 2), order[..8].to_vec());
    }
}

#[test]
fn loader_stops_cleanly_when_an_epoch_is_abandoned() {
    for prefetch in [0, 2] {
        let loader = DataLoader::new(indexed(100), 2).unwrap().prefetch(prefetch);
        let mut epoch = loader.epoch(0);
        assert_eq!(epoch.next().unwrap().targets.to_vec::<i64>(), vec![0, 1]);
        assert_eq!(epoch.len(), 49);
        drop(epoch);
        let mut whole = loader.epoch(1);
        assert_eq!(whole.by_ref().count(), 50);
        assert!(whole.next().is_none());
    }
}

#[test]
fn loader_rejects_a_zero_batch_size() {
    assert_eq!(
        DataLoader::new(indexed(3), 0).unwrap_err().to_string(),
        "DataLoader::new: batch size must be at least 1"
    );
}

// ---- CSV ----------------------------------------------------------------------------------

const IRIS: &str = "sepal_length, species ,sepal_width\n\
                    5.1,setosa,3.5\n\
                    \n\
                    7.0,\"versi,color\",3.2\n\
                    6.3,virginica,3.3\n\
                    4.9,setosa,3.0\n";

#[test]
fn csv_classification_with_string_labels() {
    let dir = TempDir::new("csv-iris");
    let path = dir.write("iris.csv", IRIS.as_bytes());
    let options = CsvOptions::new(Column::Name("species".into()), TargetKind::ClassName);
    let data = CsvData::read(&path, &options).unwrap();
    assert_eq!(data.dataset.features.shape(), &[4, 2]);
    assert_eq!(
        data.dataset.features.to_vec::<f32>(),
        vec![5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0]
    );
    assert_eq!(data.dataset.targets.to_vec::<i64>(), vec![0, 1, 2, 0]);
    let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        data.class_names,
        names(&["setosa", "versi,color", "virginica"])
    );
    assert_eq!(data.feature_names, names(&["sepal_length", "sepal_width"]));
    assert_eq!(data.target_name.as_deref(), Some("species"));
}

#[test]
fn csv_class_indices_without_header_and_regression() {
    let options = CsvOptions {
        has_header: false,
        delimiter: ';',
        target: Column::Index(0),
        kind: TargetKind::ClassIndex,
    };
    let data = CsvData::parse("2;0.5;1\n0;1.5;-2\n", "plain.csv", &options).unwrap();
    assert_eq!(data.dataset.targets.to_vec::<i64>(), vec![2, 0]);
    assert_eq!(
        data.dataset.features.to_vec::<f32>(),
        vec![0.5, 1.0, 1.5, -2.0]
    );
    assert_eq!(data.feature_names, None);
    assert_eq!(data.class_names, None);

    let options = CsvOptions::new(Column::Index(2), TargetKind::Regression);
    let data = CsvData::parse("a,b,y\n1,2,0.25\n3,4,-1e2\n", "reg.csv", &options).unwrap();
    assert_eq!(data.dataset.targets.dtype(), nabla_core::DType::F32);
    assert_eq!(data.dataset.targets.to_vec::<f32>(), vec![0.25, -100.0]);
    assert_eq!(
        data.dataset.features.to_vec::<f32>(),
        vec![1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(data.target_name.as_deref(), Some("y"));
}

#[test]
fn csv_errors_name_the_file_line_and_column() {
    let by_name = |name: &str, kind| CsvOptions::new(Column::Name(name.into()), kind);
    let no_header = CsvOptions {
        has_header: false,
        ..CsvOptions::new(Column::Index(1), TargetKind::ClassIndex)
    };
    let cases = [
        (
            "x,y\n1,a\n2,b\n3,c,4\n",
            by_name("y", TargetKind::ClassName),
            "line 4 has 3 fields, expected 2 like line 1",
        ),
        (
            "x,y\n1,0\nabc,1\n",
            by_name("y", TargetKind::ClassIndex),
            "line 3, column 1 (\"x\"): \"abc\" is not a number",
        ),
        (
            "x,y\n1,0\n,1\n",
            by_name("y", TargetKind::ClassIndex),
            "line 3, column 1 (\"x\"): \"\" is not a number",
        ),
        (
            "x,y\n1,-1\n",
            by_name("y", TargetKind::ClassIndex),
            "line 2, column 2 (\"y\"): \"-1\" is not a non-negative integer class index",
        ),
        (
            "x,y\n1,cat\n",
            by_name("y", TargetKind::Regression),
            "line 2, column 2 (\"y\"): \"cat\" is not a number",
        ),
        (
            "1,2\n3,x\n",
            no_header.clone(),
            "line 2, column 2: \"x\" is not a non-negative integer class index",
        ),
        (
            "x,y\n1,2\n",
            by_name("z", TargetKind::ClassIndex),
            "no column named \"z\" in the header (columns: [\"x\", \"y\"])",
        ),
        (
            "1,2\n",
            CsvOptions {
                target: Column::Name("y".into()),
                ..no_header.clone()
            },
            "target column \"y\" is given by name but the file is read without a header row",
        ),
        (
            "1,2\n",
            CsvOptions {
                target: Column::Index(2),
                ..no_header.clone()
            },
            "target column index 2 is out of range: line 1 has 2 columns",
        ),
        (
            "y\n1\n",
            by_name("y", TargetKind::ClassIndex),
            "line 1 has 1 column: a target and at least one feature are needed",
        ),
        (
            "x,y\n\"1,0\n",
            by_name("y", TargetKind::ClassIndex),
            "line 2: unterminated quoted field 1",
        ),
        (
            "x,y\n\"1\"2,0\n",
            by_name("y", TargetKind::ClassIndex),
            "line 2: text after the closing quote of field 1",
        ),
        (
            "x,y\n",
            by_name("y", TargetKind::ClassIndex),
            "no data rows after the header",
        ),
        (
            "\n\n",
            by_name("y", TargetKind::ClassIndex),
            "the file is empty",
        ),
    ];
    for (text, options, expected) in cases {
        let err = CsvData::parse(text, "table.csv", &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("table.csv: {expected}"),
            "for {text:?}"
        );
    }
}

#[test]
fn csv_nan_infinity_and_overflow_are_refused_with_line_and_column() {
    let by_name = |kind| CsvOptions::new(Column::Name("y".into()), kind);
    let finite = "is not a finite number (NaN and infinity are refused)";
    let cases = [
        (
            "x,y\n1,0\nnan,1\n",
            TargetKind::ClassIndex,
            format!("line 3, column 1 (\"x\"): \"nan\" {finite}"),
        ),
        (
            "x,y\n1,0\n2,1\nNaN,1\n",
            TargetKind::ClassIndex,
            format!("line 4, column 1 (\"x\"): \"NaN\" {finite}"),
        ),
        (
            "x,y\n-inf,0\n",
            TargetKind::ClassName,
            format!("line 2, column 1 (\"x\"): \"-inf\" {finite}"),
        ),
        (
            "x,y\n\"Infinity\",0\n",
            TargetKind::ClassIndex,
            format!("line 2, column 1 (\"x\"): \"Infinity\" {finite}"),
        ),
        (
            "x,y\n1,inf\n",
            TargetKind::Regression,
            format!("line 2, column 2 (\"y\"): \"inf\" {finite}"),
        ),
        (
            "x,y\n1e39,0\n",
            TargetKind::ClassIndex,
            "line 2, column 1 (\"x\"): \"1e39\" is beyond the range of f32 (about ±3.4e38)"
                .to_string(),
        ),
    ];
    for (text, kind, expected) in cases {
        let err = CsvData::parse(text, "t.csv", &by_name(kind)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("t.csv: {expected}"),
            "for {text:?}"
        );
    }
    // The largest finite f32 is accepted.
    let data =
        CsvData::parse("x,y\n3.4e38,0\n", "t.csv", &by_name(TargetKind::ClassIndex)).unwrap();
    assert_eq!(data.dataset.features.to_vec::<f32>(), vec![3.4e38]);
}

#[test]
fn csv_absurd_lines_are_refused_with_short_messages() {
    let options = CsvOptions::new(Column::Index(0), TargetKind::ClassIndex);
    // More columns than the bound: refused while reading the line.
    let wide = vec!["1"; nabla_nn::data::csv::MAX_COLUMNS + 1].join(",");
    let err = CsvData::parse(&wide, "wide.csv", &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wide.csv: line 1 has more than 1048576 fields"
    );
    // A 1 MB field is echoed by its first 60 characters only.
    let long = format!("a,b\n0,{}\n", "9x".repeat(500_000));
    let message = CsvData::parse(&long, "long.csv", &options)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "long.csv: line 2, column 2 (\"b\"): \"{}…\" is not a number",
            "9x".repeat(30)
        )
    );
    let err = CsvData::parse(
        "a,b\n0,1\n",
        "t.csv",
        &CsvOptions::new(Column::Name("z".repeat(1000)), TargetKind::ClassIndex),
    )
    .unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
    // A header of many columns is listed by its first 20 names.
    let header: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
    let text = format!("{}\n{}\n", header.join(","), vec!["0"; 1000].join(","));
    let err = CsvData::parse(
        &text,
        "t.csv",
        &CsvOptions::new(Column::Name("y".into()), TargetKind::ClassIndex),
    )
    .unwrap_err();
    assert!(
        err.to_string().ends_with("\"c18\", \"c19\"] and 980 more)"),
        "{err}"
    );
}

#[test]
fn csv_quotes_escape_quotes_and_delimiters() {
    let options = CsvOptions::new(Column::Index(1), TargetKind::ClassName);
    let data = CsvData::parse(
        "\"a \"\"q\"\"\", \"b,c\"\n \"1\" ,\"x\"\"y\"\n2,\"\"\n",
        "q.csv",
        &options,
    )
    .unwrap();
    assert_eq!(data.feature_names, Some(vec!["a \"q\"".to_string()]));
    assert_eq!(data.target_name.as_deref(), Some("b,c"));
    assert_eq!(
        data.class_names,
        Some(vec![String::new(), "x\"y".to_string()])
    );
    assert_eq!(data.dataset.features.to_vec::<f32>(), vec![1.0, 2.0]);
}

#[test]
fn csv_missing_file_is_an_io_error() {
    let dir = TempDir::new("csv-missing");
    let path = dir.path("absent.csv");
    let options = CsvOptions::new(Column::Index(0), TargetKind::Regression);
    match CsvData::read(&path, &options).unwrap_err() {
        Error::Io { path: p, source } => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an io error, got {other:?}"),
    }
}
