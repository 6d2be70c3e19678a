//! Data sets of every kind read through `DataSpec`: IDX folders of other image sizes, the CSV
//! tables shipped in the repository, ImageFolder trees of PNGs written here, the toy sets, the
//! validation split, new inputs read with a saved schema, and each bad input's message.

use nabla_core::Tensor;
use nabla_nn::data::{DataSpec, Preprocess, Schema, Source, Splits, TaskKind, ToySet};
use nabla_nn::task::Task;
use std::path::{Path, PathBuf};

mod temp_dir;
use temp_dir::TempDir;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn spec(source: Source) -> DataSpec {
    DataSpec {
        source,
        val_split: None,
        train_subset: None,
    }
}

fn load_err(spec: &DataSpec) -> String {
    spec.load(0).unwrap_err().to_string()
}

/// Per-channel mean and population std of `[N, C, ...]` features.
fn channel_stats(features: &Tensor) -> Vec<(f64, f64)> {
    let shape = features.shape();
    let (n, c) = (shape[0], shape[1]);
    let inner: usize = shape[2..].iter().product();
    let values = features.to_vec::<f32>();
    (0..c)
        .map(|ch| {
            let xs: Vec<f64> = (0..n)
                .flat_map(|i| {
                    let start = (i * c + ch) * inner;
                    values[start..start + inner].iter().map(|&x| f64::from(x))
                })
                .collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            (mean, var.sqrt())
        })
        .collect()
}

fn assert_standardised(features: &Tensor) {
    let shape = features.shape();
    let features = if shape.len() == 2 {
        features.reshape(&[shape[0], shape[1], 1])
    } else {
        features.clone()
    };
    for (c, (mean, std)) in channel_stats(&features).into_iter().enumerate() {
        assert!(mean.abs() < 1e-4, "channel {c}: mean {mean}");
        assert!((std - 1.0).abs() < 1e-3, "channel {c}: std {std}");
    }
}

// ---------------------------------------------------------------------------------- IDX

fn idx_bytes(type_code: u8, dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for &d in dims {
        bytes.extend_from_slice(&(d as u32).to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// `n` images of `dims` (after N) with label `i % classes`, pixel values from the index.
fn write_idx(dir: &TempDir, images: &str, labels: &str, n: usize, dims: &[usize], classes: u8) {
    let per: usize = dims.iter().product();
    let pixels: Vec<u8> = (0..n * per).map(|p| (p * 7 % 256) as u8).collect();
    let mut all = vec![n];
    all.extend_from_slice(dims);
    let labels_data: Vec<u8> = (0..n).map(|i| (i % classes as usize) as u8).collect();
    dir.write(images, &idx_bytes(0x08, &all, &pixels));
    dir.write(labels, &gzip(&idx_bytes(0x08, &[n], &labels_data)));
}

#[test]
fn idx_folder_of_14x14_images_takes_its_shape_and_classes_from_the_data() {
    let dir = TempDir::new("idx14");
    write_idx(
        &dir,
        "train-images.idx",
        "train-labels.idx.gz",
        30,
        &[14, 14],
        4,
    );
    write_idx(
        &dir,
        "test-images.idx",
        "test-labels.idx.gz",
        8,
        &[14, 14],
        4,
    );
    dir.write("README.md", b"ignored");
    let splits = spec(Source::Idx {
        dir: dir.root().to_path_buf(),
    })
    .load(0)
    .unwrap();
    assert_eq!(splits.train.features.shape(), &[30, 1, 14, 14]);
    assert_eq!(
        splits.test.as_ref().unwrap().features.shape(),
        &[8, 1, 14, 14]
    );
    assert_eq!(splits.schema.input_shape, vec![1, 14, 14]);
    assert_eq!(splits.schema.task, Task::classes(4));
    assert_standardised(&splits.train.features);
    // The test images are standardised with the training statistics.
    let Preprocess::Image { mean, std, resize } = &splits.schema.preprocess else {
        panic!("{:?}", splits.schema.preprocess)
    };
    assert_eq!(*resize, None);
    let first = 0.0;
    let got = splits.test.as_ref().unwrap().features.to_vec::<f32>()[0];
    assert!((got - (first - mean[0]) / std[0]).abs() < 1e-5);
}

#[test]
fn idx_folder_with_a_channel_dim_and_no_test_pair() {
    let dir = TempDir::new("idx-chw");
    write_idx(
        &dir,
        "train-images-idx4-ubyte.gz",
        "train-labels-idx1-ubyte",
        12,
        &[3, 8, 8],
        3,
    );
    // Raw and .gz copies of one file: the raw one is read.
    let raw = std::fs::read(dir.path("train-labels-idx1-ubyte")).unwrap();
    dir.write("train-labels-idx1-ubyte.gz", &gzip(&raw));
    let splits = spec(Source::Idx {
        dir: dir.root().to_path_buf(),
    })
    .load(0)
    .unwrap();
    assert_eq!(splits.train.features.shape(), &[12, 3, 8, 8]);
    assert!(splits.test.is_none());
    assert_eq!(splits.schema.task.outputs(), 3);
    assert_standardised(&splits.train.features);
    let Preprocess::Image { mean, .. } = &splits.schema.preprocess else {
        panic!()
    };
    assert_eq!(mean.len(), 3);
}

#[test]
fn idx_folder_errors_name_the_file() {
    let dir = TempDir::new("idx-bad");
    write_idx(&dir, "train-images.idx", "train-labels.idx", 10, &[4, 4], 2);
    write_idx(&dir, "test-images.idx", "test-labels.idx", 4, &[4, 4], 3);
    let s = spec(Source::Idx {
        dir: dir.root().to_path_buf(),
    });
    assert_eq!(
        load_err(&s),
        format!(
            "{}: label 2 at index 2 is not one of the 2 classes of the training labels (0..2)",
            dir.path("test-labels.idx").display()
        )
    );
    dir.write("digits-train-images.idx", b"");
    assert_eq!(
        load_err(&s),
        format!(
            "{}: both digits-train-images.idx and train-images.idx could be the training \
             images: keep one",
            dir.root().display()
        )
    );
    let empty = TempDir::new("idx-empty");
    assert_eq!(
        load_err(&spec(Source::Idx {
            dir: empty.root().to_path_buf()
        })),
        format!(
            "{}: no training images file here: an IDX folder holds files named like \
             train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (and optionally \
             t10k-... or test-... for a test set)",
            empty.root().display()
        )
    );
}

#[test]
fn mnist_through_the_general_reader_has_its_known_statistics() {
    let splits = spec(Source::Idx {
        dir: repo("data/mnist"),
    })
    .load(0)
    .unwrap();
    assert_eq!(splits.train.features.shape(), &[60000, 1, 28, 28]);
    assert_eq!(splits.test.as_ref().unwrap().len(), 10000);
    assert_eq!(splits.schema.task, Task::classes(10));
    let Preprocess::Image { mean, std, .. } = &splits.schema.preprocess else {
        panic!()
    };
    // torchvision's MNIST example normalises with (0.1307,), (0.3081,).
    assert!((mean[0] - 0.1307).abs() < 5e-5, "{mean:?}");
    assert!((std[0] - 0.3081).abs() < 5e-5, "{std:?}");
}

// ---------------------------------------------------------------------------------- CSV

fn iris() -> DataSpec {
    spec(Source::Csv {
        train: repo("data/iris/iris.csv"),
        test: None,
        target: "species".into(),
        task: TaskKind::Classification,
    })
}

#[test]
fn shipped_iris_loads_with_three_named_classes_and_standardised_columns() {
    let splits = iris().load(0).unwrap();
    assert_eq!(splits.train.features.shape(), &[150, 4]);
    assert_eq!(splits.schema.input_shape, vec![4]);
    assert_eq!(
        splits.schema.task,
        Task::Classification {
            classes: vec!["setosa".into(), "versicolor".into(), "virginica".into()]
        }
    );
    let labels = splits.train.targets.to_vec::<i64>();
    for class in 0..3 {
        assert_eq!(labels.iter().filter(|&&l| l == class).count(), 50);
    }
    assert_standardised(&splits.train.features);
    let Preprocess::Table {
        columns,
        target,
        mean,
        std,
    } = &splits.schema.preprocess
    else {
        panic!()
    };
    assert_eq!(
        columns,
        &["sepal_length", "sepal_width", "petal_length", "petal_width"]
    );
    assert_eq!(target, "species");
    // numpy: X.mean(0), X.std(0) of scikit-learn's iris.
    let expected_mean = [5.843333, 3.057333, 3.758, 1.199333];
    let expected_std = [0.825301, 0.434411, 1.759404, 0.759693];
    for i in 0..4 {
        assert!((mean[i] - expected_mean[i]).abs() < 1e-5, "{mean:?}");
        assert!((std[i] - expected_std[i]).abs() < 1e-5, "{std:?}");
    }
}

#[test]
fn csv_test_file_is_standardised_with_training_statistics_only() {
    let text = std::fs::read_to_string(repo("data/iris/iris.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dir = TempDir::new("iris-split");
    // Even rows train, odd rows test.
    let train: Vec<&str> = std::iter::once(lines[0])
        .chain(lines[1..].iter().step_by(2).copied())
        .collect();
    let test: Vec<&str> = std::iter::once(lines[0])
        .chain(lines[2..].iter().step_by(2).copied())
        .collect();
    let train_path = dir.write("train.csv", (train.join("\n") + "\n").as_bytes());
    let test_path = dir.write("test.csv", (test.join("\n") + "\n").as_bytes());
    let splits = spec(Source::Csv {
        train: train_path,
        test: Some(test_path),
        target: "species".into(),
        task: TaskKind::Classification,
    })
    .load(0)
    .unwrap();
    let column0: Vec<f64> = train[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let mean = column0.iter().sum::<f64>() / 75.0;
    let std = (column0.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 75.0).sqrt();
    let test_first: f64 = test[1].split(',').next().unwrap().parse().unwrap();
    let got = f64::from(splits.test.as_ref().unwrap().features.to_vec::<f32>()[0]);
    assert!((got - (test_first - mean) / std).abs() < 1e-5, "{got}");
    assert_standardised(&splits.train.features);
}

#[test]
fn shipped_diabetes_loads_as_regression_onto_one_column() {
    let splits = spec(Source::Csv {
        train: repo("data/diabetes/diabetes.csv"),
        test: None,
        target: "progression".into(),
        task: TaskKind::Regression,
    })
    .load(0)
    .unwrap();
    assert_eq!(splits.train.features.shape(), &[442, 10]);
    assert_eq!(splits.train.targets.shape(), &[442, 1]);
    assert_eq!(
        &splits.train.targets.to_vec::<f32>()[..3],
        &[151.0, 75.0, 141.0]
    );
    assert_eq!(
        splits.schema.task,
        Task::Regression {
            targets: vec!["progression".into()]
        }
    );
    assert_standardised(&splits.train.features);
}

#[test]
fn integer_class_labels_are_ordered_as_numbers() {
    let dir = TempDir::new("int-classes");
    let path = dir.write("t.csv", b"x,label\n1,10\n2,2\n3,10\n4,1\n");
    let splits = spec(Source::Csv {
        train: path,
        test: None,
        target: "label".into(),
        task: TaskKind::Classification,
    })
    .load(0)
    .unwrap();
    assert_eq!(
        splits.schema.task,
        Task::Classification {
            classes: vec!["1".into(), "2".into(), "10".into()]
        }
    );
    assert_eq!(splits.train.targets.to_vec::<i64>(), vec![2, 1, 2, 0]);
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let dir = TempDir::new("csv-bad");
    let csv = |train: &Path, test: Option<PathBuf>, target: &str| {
        spec(Source::Csv {
            train: train.to_path_buf(),
            test,
            target: target.into(),
            task: TaskKind::Classification,
        })
    };
    let train = dir.write("train.csv", b"a,b,kind\n1,2,x\n3,4,y\n");
    assert_eq!(
        load_err(&csv(&train, None, "species")),
        format!(
            "{}: no column named \"species\" in the header (columns: [\"a\", \"b\", \"kind\"])",
            train.display()
        )
    );
    let bad = dir.write("bad.csv", b"a,b,kind\n1,2,x\n3,four,y\n");
    assert_eq!(
        load_err(&csv(&bad, None, "kind")),
        format!(
            "{}: line 3, column 2 (\"b\"): \"four\" is not a number",
            bad.display()
        )
    );
    let other = dir.write("other.csv", b"a,c,kind\n1,2,x\n");
    assert_eq!(
        load_err(&csv(&train, Some(other.clone()), "kind")),
        format!(
            "{}: its feature columns [\"a\", \"c\"] differ from those of the training file {} \
             ([\"a\", \"b\"])",
            other.display(),
            train.display()
        )
    );
    let unseen = dir.write("unseen.csv", b"a,b,kind\n1,2,x\n3,4,z\n");
    assert_eq!(
        load_err(&csv(&train, Some(unseen.clone()), "kind")),
        format!(
            "{}: class \"z\" in column \"kind\" is not a class of the training data (its \
             classes: x, y)",
            unseen.display()
        )
    );
}

// ------------------------------------------------------------------------- ImageFolder

fn png_gray(dir: &TempDir, name: &str, h: u32, w: u32, value: u8) -> PathBuf {
    let image = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([value.wrapping_add((x + y) as u8)])
    });
    let path = dir.path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image.save(&path).unwrap();
    path
}

fn png_rgb(dir: &TempDir, name: &str, h: u32, w: u32) -> PathBuf {
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 200])
    });
    let path = dir.path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image.save(&path).unwrap();
    path
}

fn folder(train: &Path, test: Option<&Path>, image_size: Option<[usize; 2]>) -> DataSpec {
    spec(Source::ImageFolder {
        train: train.to_path_buf(),
        test: test.map(Path::to_path_buf),
        image_size,
    })
}

#[test]
fn image_folder_of_grayscale_pngs_is_one_channel_with_sorted_classes() {
    let dir = TempDir::new("folder-gray");
    for (class, value) in [("zebra", 200), ("cat", 10)] {
        for i in 0..3 {
            png_gray(&dir, &format!("train/{class}/{i}.png"), 6, 5, value);
        }
        png_gray(&dir, &format!("test/{class}/t.PNG"), 6, 5, value);
    }
    dir.write("train/cat/notes.txt", b"not an image");
    let splits = folder(&dir.path("train"), Some(&dir.path("test")), None)
        .load(0)
        .unwrap();
    assert_eq!(splits.train.features.shape(), &[6, 1, 6, 5]);
    assert_eq!(
        splits.test.as_ref().unwrap().features.shape(),
        &[2, 1, 6, 5]
    );
    assert_eq!(
        splits.schema.task,
        Task::Classification {
            classes: vec!["cat".into(), "zebra".into()]
        }
    );
    assert_eq!(splits.train.targets.to_vec::<i64>(), vec![0, 0, 0, 1, 1, 1]);
    assert_standardised(&splits.train.features);
}

#[test]
fn image_folder_with_one_rgb_image_is_rgb_and_resizes_on_request() {
    let dir = TempDir::new("folder-rgb");
    png_gray(&dir, "a/0.png", 4, 4, 0);
    png_rgb(&dir, "b/0.png", 8, 6);
    // A JPEG (gray) joins the PNGs of its class.
    image::GrayImage::from_pixel(4, 4, image::Luma([90]))
        .save(dir.path("a/1.jpg"))
        .unwrap();
    let root = dir.root().to_path_buf();
    assert_eq!(
        load_err(&folder(&root, None, None)),
        format!(
            "{}: this image is 8x6 (HxW) but {} is 4x4: the images of a data set need one size; \
             give an image size (--image-size H,W) to resize them",
            root.join("b/0.png").display(),
            root.join("a/0.png").display()
        )
    );
    let splits = folder(&root, None, Some([5, 7])).load(0).unwrap();
    assert_eq!(splits.train.features.shape(), &[3, 3, 5, 7]);
    assert_eq!(splits.train.targets.to_vec::<i64>(), vec![0, 0, 1]);
    assert_eq!(splits.schema.input_shape, vec![3, 5, 7]);
    let Preprocess::Image { mean, resize, .. } = &splits.schema.preprocess else {
        panic!()
    };
    assert_eq!((mean.len(), *resize), (3, Some([5, 7])));
}

#[test]
fn image_folder_errors_name_the_file() {
    let dir = TempDir::new("folder-bad");
    png_gray(&dir, "train/a/0.png", 4, 4, 0);
    let broken = dir.write("train/b/broken.png", b"\x89PNG\r\n\x1a\nnot really");
    let err = load_err(&folder(&dir.path("train"), None, None));
    assert!(
        err.starts_with(&format!("{}: cannot read this image: ", broken.display())),
        "{err}"
    );
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(
        load_err(&folder(&dir.path("train"), None, None)),
        format!(
            "{}: this class folder holds no .png, .jpg or .jpeg images",
            dir.path("train/b").display()
        )
    );
    png_gray(&dir, "train/b/0.png", 4, 4, 0);
    png_gray(&dir, "test/c/0.png", 4, 4, 0);
    assert_eq!(
        load_err(&folder(&dir.path("train"), Some(&dir.path("test")), None)),
        format!(
            "{}: class folder \"c\" is not one of the training classes [\"a\", \"b\"]",
            dir.path("test").display()
        )
    );
}

// ---------------------------------------------------------------------------- toy sets

fn toy(set: ToySet, samples: usize) -> DataSpec {
    spec(Source::Toy {
        set,
        samples,
        noise: 0.1,
    })
}

#[test]
fn every_toy_set_is_balanced_two_dimensional_and_seeded() {
    for set in ToySet::ALL {
        let splits = toy(set, 101).load(3).unwrap();
        assert_eq!(splits.train.features.shape(), &[101, 2], "{set}");
        assert_eq!(splits.test.as_ref().unwrap().features.shape(), &[101, 2]);
        assert_eq!(splits.schema.input_shape, vec![2]);
        assert_eq!(splits.schema.task, Task::classes(2));
        let ones: i64 = splits.train.targets.to_vec::<i64>().iter().sum();
        assert_eq!(ones, 50, "{set}");
        let again = toy(set, 101).load(3).unwrap();
        let features = splits.train.features.to_vec::<f32>();
        assert_eq!(features, again.train.features.to_vec::<f32>(), "{set}");
        assert_ne!(
            features,
            toy(set, 101)
                .load(4)
                .unwrap()
                .train
                .features
                .to_vec::<f32>(),
            "{set}"
        );
        assert_ne!(
            features,
            splits.test.as_ref().unwrap().features.to_vec::<f32>(),
            "{set}"
        );
    }
}

#[test]
fn toy_sets_have_their_shapes() {
    let noiseless = |set| set_points(ToySet::generate(set, 200, 0.0, 1).unwrap());
    for ((x, y), label) in noiseless(ToySet::Circles) {
        let r = (x * x + y * y).sqrt();
        let expected = if label == 0 { 1.0 } else { 0.5 };
        assert!((r - expected).abs() < 1e-5);
    }
    for ((x, y), label) in noiseless(ToySet::Xor) {
        assert_eq!(label, i64::from(x * y < 0.0));
        assert!(x.abs() >= 0.05 && y.abs() >= 0.05);
    }
    for ((x, y), label) in noiseless(ToySet::Moons) {
        let (cx, cy) = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
        assert!((((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - 1.0).abs() < 1e-5);
        assert!(if label == 0 {
            y >= -1e-6
        } else {
            y <= 0.5 + 1e-6
        });
    }
    for ((x, y), _) in noiseless(ToySet::Spiral) {
        assert!((x * x + y * y).sqrt() <= 1.0 + 1e-5);
    }
}

fn set_points(data: nabla_nn::data::Dataset) -> Vec<((f32, f32), i64)> {
    let f = data.features.to_vec::<f32>();
    let t = data.targets.to_vec::<i64>();
    (0..t.len())
        .map(|i| ((f[2 * i], f[2 * i + 1]), t[i]))
        .collect()
}

// --------------------------------------------------------------- val split and subsets

/// A table whose feature is the row number, to tell rows apart after standardisation.
fn numbered(dir: &TempDir, n: usize) -> PathBuf {
    let mut text = String::from("row,label\n");
    for i in 0..n {
        text += &format!("{i},{}\n", i % 2);
    }
    dir.write("numbered.csv", text.as_bytes())
}

fn rows(splits: &Splits, data: &nabla_nn::data::Dataset) -> Vec<usize> {
    let Preprocess::Table { mean, std, .. } = &splits.schema.preprocess else {
        panic!()
    };
    data.features
        .to_vec::<f32>()
        .iter()
        .map(|x| (x * std[0] + mean[0]).round() as usize)
        .collect()
}

#[test]
fn val_split_is_disjoint_seeded_and_taken_after_the_subset() {
    let dir = TempDir::new("split");
    let path = numbered(&dir, 50);
    let mut data = spec(Source::Csv {
        train: path,
        test: None,
        target: "label".into(),
        task: TaskKind::Classification,
    });
    data.val_split = Some(0.3);
    data.train_subset = Some(40);
    let splits = data.load(9).unwrap();
    let (train, val) = (
        rows(&splits, &splits.train),
        rows(&splits, splits.val.as_ref().unwrap()),
    );
    assert_eq!((train.len(), val.len()), (28, 12));
    let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..40).collect::<Vec<_>>());
    assert!(train.windows(2).all(|w| w[0] < w[1]), "kept in order");
    let again = data.load(9).unwrap();
    assert_eq!(rows(&again, again.val.as_ref().unwrap()), val);
    let other = data.load(10).unwrap();
    assert_ne!(rows(&other, other.val.as_ref().unwrap()), val);
    assert!(splits.test.is_none());

    data.val_split = Some(1.0);
    assert_eq!(
        load_err(&data),
        "DataSpec::load: the validation split must be a fraction between 0 and 1, got 1"
    );
    data.val_split = Some(0.5);
    data.train_subset = Some(1);
    assert_eq!(
        load_err(&data),
        "DataSpec::load: a validation split of 0.5 of 1 training samples leaves 0 for training \
         and 1 for validation; each needs at least one"
    );
}

#[test]
fn train_subset_cuts_every_kind() {
    let mut data = toy(ToySet::Moons, 100);
    data.train_subset = Some(10);
    assert_eq!(data.load(0).unwrap().train.len(), 10);
    let mut data = iris();
    data.train_subset = Some(7);
    assert_eq!(data.load(0).unwrap().train.features.shape(), &[7, 4]);
}

#[test]
fn data_spec_round_trips_through_json() {
    let mut data = iris();
    data.val_split = Some(0.2);
    let json = serde_json::to_string(&data).unwrap();
    assert_eq!(serde_json::from_str::<DataSpec>(&json).unwrap(), data);
    let toy_json = serde_json::to_value(toy(ToySet::Spiral, 500)).unwrap();
    assert_eq!(toy_json["source"]["set"], "spiral");
}

// ------------------------------------------------------------------ inputs for predict

#[test]
fn read_inputs_reads_images_like_training_and_refuses_other_shapes() {
    let dir = TempDir::new("inputs");
    for class in ["a", "b"] {
        png_gray(&dir, &format!("train/{class}/0.png"), 4, 4, 50);
    }
    let splits = folder(&dir.path("train"), None, None).load(0).unwrap();
    let same = png_gray(&dir, "new.png", 4, 4, 50);
    let inputs = splits
        .schema
        .read_inputs(std::slice::from_ref(&same))
        .unwrap();
    assert_eq!(inputs.features.shape(), &[1, 1, 4, 4]);
    assert_eq!(
        inputs.features.to_vec::<f32>(),
        splits.train.features.to_vec::<f32>()[..16].to_vec()
    );
    assert_eq!(inputs.names, vec![same.display().to_string()]);
    assert!(inputs.targets.is_none());
    let cat = png_rgb(&dir, "cat.png", 32, 32);
    assert_eq!(
        splits
            .schema
            .read_inputs(std::slice::from_ref(&cat))
            .unwrap_err()
            .to_string(),
        format!(
            "predict: {} is 3x32x32 but the model was trained on 1x4x4 images",
            cat.display()
        )
    );
    // With a training image size, inputs are resized to it.
    let resized = folder(&dir.path("train"), None, Some([2, 3]))
        .load(0)
        .unwrap();
    let big = png_gray(&dir, "big.png", 9, 9, 0);
    let inputs = resized.schema.read_inputs(&[big]).unwrap();
    assert_eq!(inputs.features.shape(), &[1, 1, 2, 3]);
}

#[test]
fn read_inputs_reads_idx_files_of_images() {
    let dir = TempDir::new("inputs-idx");
    write_idx(&dir, "train-images.idx", "train-labels.idx", 6, &[3, 3], 2);
    let splits = spec(Source::Idx {
        dir: dir.root().to_path_buf(),
    })
    .load(0)
    .unwrap();
    let path = dir.path("train-images.idx");
    let inputs = splits
        .schema
        .read_inputs(std::slice::from_ref(&path))
        .unwrap();
    assert_eq!(inputs.features.shape(), &[6, 1, 3, 3]);
    assert_eq!(
        inputs.features.to_vec::<f32>(),
        splits.train.features.to_vec::<f32>()
    );
    assert_eq!(inputs.names[5], format!("{}[5]", path.display()));
    let other = dir.write("other-images.idx", &idx_bytes(0x08, &[1, 2, 2], &[0; 4]));
    assert_eq!(
        splits
            .schema
            .read_inputs(std::slice::from_ref(&other))
            .unwrap_err()
            .to_string(),
        format!(
            "predict: {} holds 1x2x2 images but the model was trained on 1x3x3 images",
            other.display()
        )
    );
}

#[test]
fn read_inputs_reads_csv_rows_with_or_without_the_target() {
    let splits = iris().load(0).unwrap();
    let dir = TempDir::new("inputs-csv");
    let with = dir.write(
        "with.csv",
        b"species,petal_width,petal_length,sepal_width,sepal_length\nvirginica,0.2,1.4,3.5,5.1\n",
    );
    let inputs = splits
        .schema
        .read_inputs(std::slice::from_ref(&with))
        .unwrap();
    assert_eq!(
        inputs.features.to_vec::<f32>(),
        splits.train.features.to_vec::<f32>()[..4].to_vec()
    );
    assert_eq!(inputs.targets.unwrap().to_vec::<i64>(), vec![2]);
    assert_eq!(inputs.names, vec![format!("{}:2", with.display())]);
    let without = dir.write(
        "without.csv",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n\n6,3,4,1\n",
    );
    let inputs = splits
        .schema
        .read_inputs(std::slice::from_ref(&without))
        .unwrap();
    assert_eq!(inputs.features.shape(), &[2, 4]);
    assert!(inputs.targets.is_none());
    assert_eq!(inputs.names[1], format!("{}:4", without.display()));
    let short = dir.write("short.csv", b"sepal_length,sepal_width\n5.1,3.5\n");
    assert_eq!(
        splits
            .schema
            .read_inputs(std::slice::from_ref(&short))
            .unwrap_err()
            .to_string(),
        format!(
            "predict: {} has no column \"petal_length\"; the model was trained on the columns \
             sepal_length, sepal_width, petal_length, petal_width",
            short.display()
        )
    );
    let image = dir.path("flower.png");
    assert_eq!(
        splits
            .schema
            .read_inputs(std::slice::from_ref(&image))
            .unwrap_err()
            .to_string(),
        format!(
            "predict: {} is not a CSV file but the model was trained on table rows of 4 columns \
             (sepal_length, sepal_width, petal_length, petal_width)",
            image.display()
        )
    );
}

#[test]
fn schema_with_its_preprocessing_round_trips_through_json() {
    let schema = iris().load(0).unwrap().schema;
    let json = serde_json::to_string(&schema).unwrap();
    assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), schema);
}

#[test]
fn toy_sets_refuse_too_few_samples_and_negative_noise() {
    assert_eq!(
        ToySet::Moons.generate(1, 0.1, 0).unwrap_err().to_string(),
        "ToySet::generate: the moons set needs at least 2 samples (one per class), got 1"
    );
    assert_eq!(
        ToySet::Xor.generate(10, -0.5, 0).unwrap_err().to_string(),
        "ToySet::generate: noise must be zero or a positive number, got -0.5"
    );
}
