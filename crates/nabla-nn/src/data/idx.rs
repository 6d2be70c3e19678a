//! The IDX file format shared by MNIST, Fashion-MNIST and KMNIST: a 4-byte magic number (two
//! zero bytes, a type code, the number of dimensions), one big-endian `u32` per dimension, then
//! the elements in row-major order, big-endian. Files may be gzip-compressed; compression is
//! recognised by the gzip magic bytes, not by the file name.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The elements of an IDX file, in the file's own element type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// Type code `0x08`.
    U8(Vec<u8>),
    /// Type code `0x09`.
    I8(Vec<i8>),
    /// Type code `0x0B`.
    I16(Vec<i16>),
    /// Type code `0x0C`.
    I32(Vec<i32>),
    /// Type code `0x0D`.
    F32(Vec<f32>),
    /// Type code `0x0E`.
    F64(Vec<f64>),
}

impl IdxData {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type as the IDX format names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            IdxData::U8(_) => "ubyte",
            IdxData::I8(_) => "i8",
            IdxData::I16(_) => "i16",
            IdxData::I32(_) => "i32",
            IdxData::F32(_) => "f32",
            IdxData::F64(_) => "f64",
        }
    }

    /// The elements converted to `f32` (exact except for large `i32` and for `f64`).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            IdxData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::F32(v) => v.clone(),
            IdxData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// An n-dimensional array read from an IDX file.
///
/// ```
/// use nabla_nn::data::idx::{IdxArray, IdxData};
/// // Two 1x2 ubyte images: magic 00 00 08 03, dims 2, 1, 2, then 4 bytes.
/// let bytes = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40];
/// let a = IdxArray::from_bytes(&bytes, "inline.idx").unwrap();
/// assert_eq!(a.dims, vec![2, 1, 2]);
/// assert_eq!(a.data, IdxData::U8(vec![10, 20, 30, 40]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The elements in row-major order.
    pub data: IdxData,
}

impl IdxArray {
    /// Reads an IDX file, raw or gzip-compressed.
    pub fn read(path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.starts_with(&GZIP_MAGIC) {
            let raw = gunzip(&bytes)
                .map_err(|e| format_error(path, format!("cannot decompress the gzip data: {e}")))?;
            Self::from_bytes(&raw, path)
        } else {
            Self::from_bytes(&bytes, path)
        }
    }

    /// Parses the uncompressed contents of an IDX file; `path` only names it in errors.
    pub fn from_bytes(bytes: &[u8], path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        if bytes.len() < 4 {
            return Err(format_error(
                path,
                format!(
                    "file is {} bytes long, too short for the 4-byte IDX magic number",
                    bytes.len()
                ),
            ));
        }
        if bytes[0] != 0 || bytes[1] != 0 {
            return Err(format_error(
                path,
                format!(
                    "bad magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero bytes",
                    bytes[0], bytes[1], bytes[2], bytes[3]
                ),
            ));
        }
        let (type_code, ndims) = (bytes[2], usize::from(bytes[3]));
        let element_size: usize = match type_code {
            0x08 | 0x09 => 1,
            0x0B => 2,
            0x0C | 0x0D => 4,
            0x0E => 8,
            other => {
                return Err(format_error(
                    path,
                    format!(
                        "unknown IDX type code 0x{other:02x} (known: 0x08 ubyte, 0x09 i8, 0x0B i16, \
                         0x0C i32, 0x0D f32, 0x0E f64)"
                    ),
                ));
            }
        };
        let header_len = 4 + 4 * ndims;
        if bytes.len() < header_len {
            return Err(format_error(
                path,
                format!(
                    "truncated header: {ndims} dimensions need {header_len} header bytes, the file has {}",
                    bytes.len()
                ),
            ));
        }
        let dims: Vec<usize> = bytes[4..header_len]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
            .collect();
        let expected = dims
            .iter()
            .try_fold(element_size, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                format_error(
                    path,
                    format!("dimensions {dims:?} overflow the address space"),
                )
            })?;
        let body = &bytes[header_len..];
        if body.len() < expected {
            return Err(format_error(
                path,
                format!(
                    "truncated data: expected {expected} bytes of data after the header (dimensions \
                     {dims:?}), found {}",
                    body.len()
                ),
            ));
        }
        if body.len() > expected {
            return Err(format_error(
                path,
                format!(
                    "{} trailing bytes after the {expected} bytes of data the header declares \
                     (dimensions {dims:?})",
                    body.len() - expected
                ),
            ));
        }
        let data = match type_code {
            0x08 => IdxData::U8(body.to_vec()),
            0x09 => IdxData::I8(body.iter().map(|&b| b as i8).collect()),
            0x0B => IdxData::I16(big_endian(body, i16::from_be_bytes)),
            0x0C => IdxData::I32(big_endian(body, i32::from_be_bytes)),
            0x0D => IdxData::F32(big_endian(body, f32::from_be_bytes)),
            _ => IdxData::F64(big_endian(body, f64::from_be_bytes)),
        };
        Ok(IdxArray { dims, data })
    }
}

/// Decodes a whole gzip stream (several members are concatenated, as `gzip` itself does).
fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // The trailer holds the uncompressed size mod 2^32; trusted only up to deflate's maximum
    // ratio so a corrupt trailer cannot request a huge allocation.
    let size_hint = bytes
        .len()
        .checked_sub(4)
        .map(|at| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .unwrap_or(0)
        .min(bytes.len().saturating_mul(1032));
    let mut out = Vec::with_capacity(size_hint);
    MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

fn big_endian<T, const N: usize>(body: &[u8], from_be: fn([u8; N]) -> T) -> Vec<T> {
    body.chunks_exact(N)
        .map(|c| from_be(c.try_into().expect("chunks_exact yields N bytes")))
        .collect()
}

fn format_error(path: &Path, message: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message,
    }
}
