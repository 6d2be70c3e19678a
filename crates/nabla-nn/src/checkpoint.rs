//! Checkpoints in the safetensors format (read by PyTorch, JAX and candle): named `f32`, `f64`
//! and `i64` tensors plus string metadata. Saving is atomic, so a failed or interrupted save
//! never destroys the previous checkpoint.

use crate::{Error, Result};
use nabla_core::{DType, Tensor};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// String key-value metadata stored in a checkpoint's header.
pub type Metadata = BTreeMap<String, String>;

/// Writes `tensors` and `metadata` to `path` as a safetensors file (little-endian, row-major).
///
/// The bytes go to a temporary file in the same directory, which is flushed to disk and then
/// renamed over `path`: on any error the previous file at `path` is left as it was. Names
/// must be distinct.
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
    let views = tensors.iter().map(|(name, t)| (name.as_str(), Raw::of(t)));
    let info = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>()
    });
    let bytes = safetensors::serialize(views, info).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("cannot encode the checkpoint: {e}"),
    })?;
    write_atomically(path, &bytes)
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
    parse_safetensors(&bytes, path)
}

/// Parses the bytes of a safetensors file as [`load_safetensors`] does; `path` only names the
/// source in errors.
///
/// ```
/// let error = nabla_nn::checkpoint::parse_safetensors(&[8, 0, 0, 0], "cut.safetensors");
/// assert!(error.unwrap_err().to_string().starts_with("cut.safetensors: not a valid safetensors file"));
/// ```
pub fn parse_safetensors(
    bytes: &[u8],
    path: impl AsRef<Path>,
) -> Result<(Vec<(String, Tensor)>, Metadata)> {
    let path = path.as_ref();
    let invalid = |e: safetensors::SafeTensorError| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a valid safetensors file: {e}"),
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
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

impl View for Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
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

/// Writes `bytes` to a temporary sibling of `path`, syncs it, renames it over `path` and syncs
/// the directory so the rename itself survives a crash. The temporary file is removed on error.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
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
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = renamed {
        // Best effort: the temporary may not exist if creating it failed.
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    sync_dir(&dir).map_err(io)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
