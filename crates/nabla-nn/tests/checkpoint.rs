//! Safetensors checkpoints: round trips, the file PyTorch wrote, errors that name the file,
//! and saves that fail without touching the previous checkpoint.

use nabla_core::{DType, Tensor};
use nabla_nn::checkpoint::{load_safetensors, save_safetensors};
use nabla_nn::optim::{Adam, Optim, Optimizer};
use std::collections::BTreeMap;
use std::path::Path;

mod temp_dir;
use temp_dir::TempDir;

fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sample() -> Vec<(String, Tensor)> {
    vec![
        (
            "w32".into(),
            Tensor::from_vec(
                vec![1.5f32, -0.1, f32::MAX, f32::MIN_POSITIVE, 0.0, -7.25],
                &[2, 3],
            ),
        ),
        (
            "b64".into(),
            Tensor::from_vec(vec![0.1f64, -1e-300, 12345.678901234567], &[3]),
        ),
        (
            "labels".into(),
            Tensor::from_vec(vec![i64::MIN, -1, 0, i64::MAX], &[2, 2]),
        ),
        (
            "transposed".into(),
            Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).t(),
        ),
        ("count".into(), Tensor::scalar(42i64)),
        ("empty".into(), Tensor::zeros(&[0, 4], DType::F32)),
    ]
}

#[test]
fn f32_f64_i64_round_trip_exactly_sorted_by_name() {
    let dir = TempDir::new("round-trip");
    let path = dir.path("model.safetensors");
    let tensors = sample();
    let m = meta(&[("format", "pt"), ("epoch", "7")]);
    save_safetensors(&path, &tensors, &m).unwrap();

    let (loaded, loaded_meta) = load_safetensors(&path).unwrap();
    assert_eq!(loaded_meta, m);
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["b64", "count", "empty", "labels", "transposed", "w32"]
    );
    for (name, t) in &loaded {
        let original = &tensors.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(t.dtype(), original.dtype(), "{name}");
        assert_eq!(t.shape(), original.shape(), "{name}");
        match t.dtype() {
            DType::F32 => assert_eq!(t.to_vec::<f32>(), original.to_vec::<f32>(), "{name}"),
            DType::F64 => assert_eq!(t.to_vec::<f64>(), original.to_vec::<f64>(), "{name}"),
            DType::I64 => assert_eq!(t.to_vec::<i64>(), original.to_vec::<i64>(), "{name}"),
        }
    }
    assert_eq!(
        dir.entries(),
        ["model.safetensors"],
        "no temporary file is left behind"
    );
}

#[test]
fn the_file_pytorch_wrote_loads_with_its_exact_values() {
    // Written by tools/pytorch_reference/safetensors_fixture.py with safetensors.torch.save_file.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch_written.safetensors");
    let (tensors, metadata) = load_safetensors(&path).unwrap();
    assert_eq!(metadata, meta(&[("format", "pt")]));
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layer.bias", "layer.weight", "scale"]);

    let bias = &tensors[0].1;
    assert_eq!((bias.dtype(), bias.shape()), (DType::F32, &[2][..]));
    assert_eq!(bias.to_vec::<f32>(), vec![0.5, -1.25]);

    // torch.arange(6, dtype=torch.float32).reshape(2, 3) / 10: each k/10 rounded to f32.
    let weight = &tensors[1].1;
    assert_eq!((weight.dtype(), weight.shape()), (DType::F32, &[2, 3][..]));
    assert_eq!(weight.to_vec::<f32>(), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);

    let scale = &tensors[2].1;
    assert_eq!((scale.dtype(), scale.shape()), (DType::F64, &[2, 2][..]));
    assert_eq!(scale.to_vec::<f64>(), vec![1.0, 2.5, 3.0, -4.0]);
}

#[test]
fn optimizer_state_survives_a_checkpoint() {
    let dir = TempDir::new("optimizer");
    let path = dir.path("optim.safetensors");
    let w = Tensor::from_vec(vec![1.0f32, -2.0], &[2]).requires_grad();
    let params = vec![("w".to_string(), w.clone())];
    let mut opt = Optim::new(params.clone(), Adam::new(), 0.1).unwrap();
    w.set_grad(Some(Tensor::from_vec(vec![0.5f32, 0.25], &[2])));
    opt.step().unwrap();
    save_safetensors(&path, &opt.state_dict(), &BTreeMap::new()).unwrap();

    let (state, metadata) = load_safetensors(&path).unwrap();
    assert!(metadata.is_empty());
    let mut restored = Optim::new(params, Adam::new(), 0.1).unwrap();
    restored.load_state_dict(&state).unwrap();
    let again = restored.state_dict();
    let mut want = opt.state_dict();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let mut got = again;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    for ((gn, gt), (wn, wt)) in got.iter().zip(&want) {
        assert_eq!(gn, wn);
        assert_eq!(gt.to_f64_vec(), wt.to_f64_vec(), "{gn}");
    }
}

fn load_error(path: &Path) -> String {
    load_safetensors(path).unwrap_err().to_string()
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let dir = TempDir::new("missing");
    let path = dir.path("absent.safetensors");
    let err = load_error(&path);
    assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
}

#[test]
fn a_truncated_file_is_named_in_the_error() {
    let dir = TempDir::new("truncated");
    let path = dir.path("cut.safetensors");
    save_safetensors(&path, &sample(), &BTreeMap::new()).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    assert_eq!(
        load_error(&path),
        format!(
            "{}: not a valid safetensors file: incomplete metadata, file not fully covered",
            path.display()
        )
    );
    // Cut inside the JSON header.
    std::fs::write(&path, &bytes[..40]).unwrap();
    assert_eq!(
        load_error(&path),
        format!(
            "{}: not a valid safetensors file: invalid header length",
            path.display()
        )
    );
    std::fs::write(&path, &bytes[..5]).unwrap();
    assert_eq!(
        load_error(&path),
        format!(
            "{}: not a valid safetensors file: header too small",
            path.display()
        )
    );
}

#[test]
fn a_garbage_file_is_named_in_the_error() {
    let dir = TempDir::new("garbage");
    let path = dir.path("garbage.safetensors");
    let mut bytes = 20u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"this is not json at all");
    std::fs::write(&path, &bytes).unwrap();
    let err = load_error(&path);
    assert!(
        err.starts_with(&format!(
            "{}: not a valid safetensors file: invalid JSON in header: ",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn an_unsupported_dtype_names_the_tensor_and_the_dtype() {
    let dir = TempDir::new("bf16");
    let path = dir.path("half.safetensors");
    // A valid file holding one BF16 tensor of two elements, in the layout the format defines:
    // an 8-byte little-endian header length, the JSON header, then the data.
    let header = br#"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0x80, 0x3f, 0x00, 0x40]);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        load_error(&path),
        format!(
            "{}: tensor \"w\" has dtype BF16, which nabla cannot load (F32, F64 and I64 only)",
            path.display()
        )
    );
}

#[test]
fn a_failed_save_leaves_the_previous_checkpoint_untouched() {
    let dir = TempDir::new("failed-save");
    let path = dir.path("model.safetensors");
    save_safetensors(&path, &sample(), &meta(&[("epoch", "1")])).unwrap();
    let before = std::fs::read(&path).unwrap();

    let w = Tensor::ones(&[2], DType::F32);
    let duplicate = vec![("w".to_string(), w.clone()), ("w".to_string(), w.clone())];
    assert_eq!(
        save_safetensors(&path, &duplicate, &BTreeMap::new())
            .unwrap_err()
            .to_string(),
        format!(
            "save_safetensors: {}: tensor name \"w\" appears twice",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A directory stands where the file should go: the rename fails after the temporary
    // file was written, and the temporary is cleaned up.
    let blocked = dir.path("blocked.safetensors");
    std::fs::create_dir(&blocked).unwrap();
    let err = save_safetensors(&blocked, &[("w".to_string(), w.clone())], &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: ", blocked.display())),
        "{err}"
    );
    assert_eq!(dir.entries(), ["blocked.safetensors", "model.safetensors"]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn saving_into_a_missing_directory_names_the_file() {
    let dir = TempDir::new("no-dir");
    let path = dir.path("not/there/model.safetensors");
    let err = save_safetensors(&path, &sample(), &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("{}: No such file or directory (os error 2)", path.display())
    );
    assert_eq!(dir.entries(), Vec::<String>::new());
}

/// Metadata used to be handed to the encoder as a `HashMap`, whose order changes from one map to
/// the next: two byte orders over 20 saves of the same checkpoint.
#[test]
fn the_same_checkpoint_gives_the_same_bytes() {
    let dir = TempDir::new("deterministic");
    let info = meta(&[
        ("epoch", "3"),
        ("format", "pt"),
        ("seed", "0"),
        ("data_epoch", "3"),
    ]);
    let path = dir.path("model.safetensors");
    let mut reversed = sample();
    reversed.reverse();
    let files: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            let tensors = if i % 2 == 0 {
                sample()
            } else {
                reversed.clone()
            };
            save_safetensors(&path, &tensors, &info).unwrap();
            std::fs::read(&path).unwrap()
        })
        .collect();
    assert!(files.iter().all(|f| *f == files[0]));
    let header_len = u64::from_le_bytes(files[0][..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&files[0][8..8 + header_len]).unwrap();
    assert_eq!(header_len % 8, 0);
    assert!(
        header.starts_with(
            r#"{"__metadata__":{"data_epoch":"3","epoch":"3","format":"pt","seed":"0"},"b64":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"count":{"dtype":"I64","shape":[],"data_offsets":[24,32]}"#
        ),
        "{header}"
    );
    let (tensors, loaded) = load_safetensors(&path).unwrap();
    assert_eq!(loaded, info);
    assert_eq!(tensors.len(), sample().len());
}
