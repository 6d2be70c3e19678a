//! Checkpoints in the safetensors format (read by PyTorch, JAX and candle): named `f32`, `f64`
//! and `i64` tensors plus string metadata. Saving is atomic, so a failed or interrupted save
//! never destroys the previous checkpoint.

use crate::{Error, Result};
use nabla_core::{DType, Tensor};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// String key-value metadata stored in a checkpoint's header.
pub type Metadata = BTreeMap<String, String>;

/// Writes `tensors` and `metadata` to `path` as a safetensors file (little-endian, row-major).
///
/// The bytes go to a temporary file in the same directory, which is flushed to disk and then
/// renamed over `path`: on any error the previous file at `path` is left as it was. Names
/// must be distinct. The bytes depend only on the tensors and the metadata (see [`encode`]).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::checkpoint::{load_safetensors, save_safetensors};
/// use std::collections::BTreeMap;
/// let path = std::env::temp_dir().join(format!("nabla-doc-{}.safetensors", std::process::id()));
/// let w = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
/// let meta = BTreeMap::from([("epoch".to_string(), "3".to_string())]);
/// save_safetensors(&path, &[("w".to_string(), w)], &meta).unwrap();
/// let (tensors, loaded_meta) = load_safetensors(&path).unwrap();
/// assert_eq!(tensors[0].1.to_vec::<f32>(), vec![1.0, 2.0]);
/// assert_eq!(loaded_meta, meta);
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_safetensors(
    path: impl AsRef<Path>,
    tensors: &[(String, Tensor)],
    metadata: &Metadata,
) -> Result<()> {
    let path = path.as_ref();
    let mut names = BTreeSet::new();
    for (name, _) in tensors {
        if !names.insert(name.as_str()) {
            return Err(Error::invalid(
                "save_safetensors",
                format!("{}: tensor name {name:?} appears twice", path.display()),
            ));
        }
    }
    write_atomically(path, &encode(tensors, metadata))
}

/// The safetensors bytes of `tensors` and `metadata`, the same for the same input in any order:
/// tensors with wider elements first, then by name, so each one is aligned to its element size
/// (the safetensors crate's layout); the header lists the metadata first, keys sorted, then the
/// tensors in file order, padded with spaces to a multiple of 8 bytes.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::checkpoint::encode;
/// use std::collections::BTreeMap;
/// let w = Tensor::from_vec(vec![1.0f32], &[1]);
/// let meta = BTreeMap::from([("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())]);
/// let bytes = encode(&[("w".to_string(), w)], &meta);
/// let header = std::str::from_utf8(&bytes[8..bytes.len() - 4]).unwrap();
/// assert_eq!(
///     header.trim_end(),
///     r#"{"__metadata__":{"a":"1","b":"2"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
/// );
/// ```
pub fn encode(tensors: &[(String, Tensor)], metadata: &Metadata) -> Vec<u8> {
    let mut raws: Vec<(&str, Raw)> = tensors
        .iter()
        .map(|(name, t)| (name.as_str(), Raw::of(t)))
        .collect();
    raws.sort_by(|(a, x), (b, y)| y.dtype.bitsize().cmp(&x.dtype.bitsize()).then(a.cmp(b)));
    let mut entries = Vec::with_capacity(raws.len() + 1);
    if !metadata.is_empty() {
        entries.push(format!("\"__metadata__\":{}", json(metadata)));
    }
    let mut offset = 0;
    for (name, raw) in &raws {
        let end = offset + raw.data.len();
        entries.push(format!(
            "{}:{{\"dtype\":{},\"shape\":{},\"data_offsets\":[{offset},{end}]}}",
            json(name),
            json(&raw.dtype),
            json(&raw.shape)
        ));
        offset = end;
    }
    let mut header = format!("{{{}}}", entries.join(",")).into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + header.len() + offset);
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header);
    for (_, raw) in raws {
        bytes.extend(raw.data);
    }
    bytes
}

/// `value` as JSON; the strings, maps of strings, numbers and dtype names of a header always
/// encode.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("header values encode as JSON")
}

/// Reads a safetensors file: its tensors sorted by name, and its metadata.
///
/// Errors name the file and say what is wrong: missing or unreadable, not a valid safetensors
/// file (truncated, corrupt header), or holding a tensor of a dtype nabla has no type for
/// (anything but `F32`, `F64`, `I64`).
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<(Vec<(String, Tensor)>, Metadata)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |e: safetensors::SafeTensorError| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a valid safetensors file: {e}"),
    };
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(invalid)?;
    let file = SafeTensors::deserialize(&bytes).map_err(invalid)?;
    let mut tensors = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let t = to_tensor(&view).ok_or_else(|| Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "tensor {name:?} has dtype {}, which nabla cannot load (F32, F64 and I64 only)",
                    view.dtype()
                ),
            })?;
            Ok((name, t))
        })
        .collect::<Result<Vec<_>>>()?;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let metadata = header
        .metadata()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((tensors, metadata))
}

/// A tensor's elements as little-endian bytes, the layout safetensors stores.
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Raw {
    fn of(t: &Tensor) -> Raw {
        let (dtype, data) = match t.dtype() {
            DType::F32 => (Dtype::F32, le_bytes(t.to_vec::<f32>(), f32::to_le_bytes)),
            DType::F64 => (Dtype::F64, le_bytes(t.to_vec::<f64>(), f64::to_le_bytes)),
            DType::I64 => (Dtype::I64, le_bytes(t.to_vec::<i64>(), i64::to_le_bytes)),
        };
        Raw {
            dtype,
            shape: t.shape().to_vec(),
            data,
        }
    }
}

fn le_bytes<T, const N: usize>(values: Vec<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
    values.into_iter().flat_map(f).collect()
}

/// The tensor a view holds, or `None` for a dtype nabla has no type for.
fn to_tensor(view: &TensorView<'_>) -> Option<Tensor> {
    fn decode<T: nabla_core::Element, const N: usize>(
        view: &TensorView<'_>,
        f: fn([u8; N]) -> T,
    ) -> Tensor {
        let values = view
            .data()
            .chunks_exact(N)
            .map(|c| f(c.try_into().expect("chunks have N bytes")))
            .collect();
        Tensor::from_vec(values, view.shape())
    }
    match view.dtype() {
        Dtype::F32 => Some(decode(view, f32::from_le_bytes)),
        Dtype::F64 => Some(decode(view, f64::from_le_bytes)),
        Dtype::I64 => Some(decode(view, i64::from_le_bytes)),
        _ => None,
    }
}

/// A moment of [`write_atomically_observed`], for tests that stop a save at each one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WriteStage {
    /// The first half of the bytes is in the temporary file.
    PartlyWritten,
    /// The temporary file holds every byte and is synced; the target is not replaced yet.
    Written,
    /// The temporary file has replaced the target; the directory is not synced yet.
    Renamed,
}

/// Writes `bytes` to a temporary sibling of `path` (`.NAME.tmp-PID`), syncs it, renames it over
/// `path` and syncs the directory so the rename itself survives a crash: whenever the process
/// stops, `path` holds either its old bytes or all the new ones. The temporary file is removed
/// on error; one left by a killed process is removed by [`remove_temporaries`].
///
/// ```
/// use nabla_nn::checkpoint::write_atomically;
/// let path = std::env::temp_dir().join(format!("nabla-doc-atomic-{}", std::process::id()));
/// write_atomically(&path, b"state").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"state");
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomically_observed(path, bytes, |_| ())
}

/// [`write_atomically`], calling `at` at each [`WriteStage`].
pub fn write_atomically_observed(
    path: impl AsRef<Path>,
    bytes: &[u8],
    mut at: impl FnMut(WriteStage),
) -> Result<()> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!("{TEMPORARY}{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    let (first, second) = bytes.split_at(bytes.len() / 2);
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(first)?;
        at(WriteStage::PartlyWritten);
        f.write_all(second)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| {
        at(WriteStage::Written);
        std::fs::rename(&tmp, path)
    });
    if let Err(e) = renamed {
        // Best effort: the temporary may not exist if creating it failed.
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    at(WriteStage::Renamed);
    sync_dir(&dir).map_err(io)
}

/// What names a temporary file of [`write_atomically`], between the target's name and the PID.
const TEMPORARY: &str = ".tmp-";

/// Removes the temporary files a killed [`write_atomically`] left in `dir` for the files
/// `is_target` accepts (`.NAME.tmp-PID` where `is_target(NAME)`), and returns their names,
/// sorted. Other files, even named like temporaries, are left alone.
///
/// ```
/// use nabla_nn::checkpoint::remove_temporaries;
/// let dir = std::env::temp_dir().join(format!("nabla-doc-temporaries-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join(".model.safetensors.tmp-123"), b"half").unwrap();
/// std::fs::write(dir.join(".notes.tmp-1"), b"someone else's").unwrap();
/// std::fs::write(dir.join("model.safetensors"), b"kept").unwrap();
/// let removed = remove_temporaries(&dir, |name| name == "model.safetensors").unwrap();
/// assert_eq!(removed, [".model.safetensors.tmp-123"]);
/// assert!(dir.join(".notes.tmp-1").exists() && dir.join("model.safetensors").exists());
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn remove_temporaries(
    dir: impl AsRef<Path>,
    is_target: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let dir = dir.as_ref();
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let temporary = name
            .strip_prefix('.')
            .and_then(|rest| rest.rsplit_once(TEMPORARY))
            .is_some_and(|(target, pid)| {
                is_target(target) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
            });
        if temporary && entry.file_type().map_err(io)?.is_file() {
            std::fs::remove_file(entry.path()).map_err(io)?;
            removed.push(name);
        }
    }
    removed.sort();
    Ok(removed)
}

/// Syncs the directory `dir`, so the files created, renamed or removed in it survive a crash
/// (nothing to do where the platform has no such call).
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Syncs the directory `dir` (nothing to do on this platform).
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
