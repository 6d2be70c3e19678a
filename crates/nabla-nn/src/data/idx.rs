//! The IDX file format shared by MNIST, Fashion-MNIST and KMNIST: a 4-byte magic number (two
//! zero bytes, a type code, the number of dimensions), one big-endian `u32` per dimension, then
//! the elements in row-major order, big-endian. Files may be gzip-compressed; compression is
//! recognised by the gzip magic bytes, not by the file name.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
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
    ///
    /// Nothing is allocated for the data before the header is checked: against the file's size
    /// (raw), against the most a gzip stream of this size can inflate to (deflate's 1032:1),
    /// and against the memory the machine has available ([`crate::memory`]). A gzip stream is
    /// decompressed as it is read and refused as soon as it holds more than the header declares.
    pub fn read(path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut magic = [0u8; 2];
        let peeked = fill(&mut file, &mut magic).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let file = BufReader::new(file);
        if magic[..peeked] == GZIP_MAGIC {
            let mut source = Source::Gzip {
                reader: MultiGzDecoder::new(file),
                compressed: len,
            };
            decode(&mut source, path, crate::memory::available())
        } else {
            let mut source = Source::Raw { reader: file, len };
            decode(&mut source, path, crate::memory::available())
        }
    }

    /// Parses the uncompressed contents of an IDX file; `path` only names it in errors.
    pub fn from_bytes(bytes: &[u8], path: impl AsRef<Path>) -> Result<IdxArray> {
        let mut source = Source::Raw {
            reader: bytes,
            len: bytes.len() as u64,
        };
        decode(&mut source, path.as_ref(), None)
    }

    /// Parses gzip-compressed IDX bytes as [`IdxArray::read`] does a `.gz` file, with the same
    /// checks; `path` only names the source in errors.
    ///
    /// ```
    /// use nabla_nn::data::idx::IdxArray;
    /// // A gzip stream whose header claims 2^32 x 2^32 bytes: refused before inflating the rest.
    /// use std::io::Write;
    /// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// gz.write_all(&[0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255]).unwrap();
    /// let error = IdxArray::from_gzip_bytes(&gz.finish().unwrap(), "bomb.gz").unwrap_err();
    /// assert!(error.to_string().contains("more than a gzip stream of"));
    /// ```
    pub fn from_gzip_bytes(bytes: &[u8], path: impl AsRef<Path>) -> Result<IdxArray> {
        let mut source = Source::Gzip {
            reader: MultiGzDecoder::new(bytes),
            compressed: bytes.len() as u64,
        };
        decode(&mut source, path.as_ref(), crate::memory::available())
    }
}

/// Deflate's largest ratio of output to input: a gzip stream of `n` bytes never inflates to
/// more than `n * MAX_INFLATION` bytes.
const MAX_INFLATION: u64 = 1032;
/// Most bytes of a gzip stream past the declared data that are inflated to count them.
const TRAILING_COUNT_LIMIT: u64 = 1 << 20;

/// Where the bytes come from: a raw stream of known length, or a gzip stream of known
/// compressed length.
enum Source<R: Read> {
    Raw {
        reader: R,
        len: u64,
    },
    Gzip {
        reader: MultiGzDecoder<R>,
        compressed: u64,
    },
}

impl<R: Read> Source<R> {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            Source::Raw { reader, .. } => reader,
            Source::Gzip { reader, .. } => reader,
        }
    }

    /// Reads into `buf` until it is full or the stream ends; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8], path: &Path) -> Result<usize> {
        let gzip = matches!(self, Source::Gzip { .. });
        fill(self.reader(), buf).map_err(|e| read_error(path, gzip, e))
    }

    /// Reads up to `limit` bytes into a new vector that starts at `capacity`.
    fn take(&mut self, limit: u64, capacity: usize, path: &Path) -> Result<Vec<u8>> {
        let gzip = matches!(self, Source::Gzip { .. });
        let mut out = Vec::with_capacity(capacity);
        self.reader()
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|e| read_error(path, gzip, e))?;
        Ok(out)
    }
}

fn decode<R: Read>(source: &mut Source<R>, path: &Path, memory: Option<u64>) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    let got = source.fill(&mut magic, path)?;
    if got < 4 {
        return Err(format_error(
            path,
            format!("file is {got} bytes long, too short for the 4-byte IDX magic number"),
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(format_error(
            path,
            format!(
                "bad magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero bytes",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    let (type_code, ndims) = (magic[2], usize::from(magic[3]));
    let element_size: u64 = match type_code {
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
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let got = source.fill(&mut dim_bytes, path)?;
    if got < dim_bytes.len() {
        return Err(format_error(
            path,
            format!(
                "truncated header: {ndims} dimensions need {header_len} header bytes, the file has {}",
                4 + got
            ),
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(element_size, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| usize::try_from(n).is_ok())
        .ok_or_else(|| {
            format_error(
                path,
                format!("dimensions {dims:?} overflow the address space"),
            )
        })?;
    let truncated = |found: u64| {
        format_error(
            path,
            format!(
                "truncated data: expected {expected} bytes of data after the header (dimensions \
                 {dims:?}), found {found}"
            ),
        )
    };
    let trailing = |extra: String| {
        format_error(
            path,
            format!(
                "{extra} trailing bytes after the {expected} bytes of data the header declares \
                 (dimensions {dims:?})"
            ),
        )
    };
    let capacity = match *source {
        Source::Raw { len, .. } => {
            let body = len.saturating_sub(header_len as u64);
            if body < expected {
                return Err(truncated(body));
            }
            if body > expected {
                return Err(trailing((body - expected).to_string()));
            }
            expected
        }
        Source::Gzip { compressed, .. } => {
            let most = compressed.saturating_mul(MAX_INFLATION);
            if expected.saturating_add(header_len as u64) > most {
                return Err(format_error(
                    path,
                    format!(
                        "the header declares {expected} bytes of data (dimensions {dims:?}), more \
                         than a gzip stream of {compressed} bytes can hold (at most {most}): the \
                         header or the file is corrupt"
                    ),
                ));
            }
            // Room for a typical ratio; a stream that really holds more grows the buffer.
            expected.min(compressed.saturating_mul(8))
        }
    };
    crate::memory::check(
        &format!("{}: the data its header declares", path.display()),
        expected.checked_mul(if element_size == 1 { 1 } else { 2 }),
        memory,
    )?;
    let body = source.take(expected, capacity as usize, path)?;
    if (body.len() as u64) < expected {
        return Err(truncated(body.len() as u64));
    }
    if let Source::Gzip { .. } = source {
        let extra = source.take(TRAILING_COUNT_LIMIT + 1, 0, path)?.len() as u64;
        if extra > TRAILING_COUNT_LIMIT {
            return Err(trailing(format!("more than {TRAILING_COUNT_LIMIT}")));
        }
        if extra > 0 {
            return Err(trailing(extra.to_string()));
        }
    }
    let data = match type_code {
        0x08 => IdxData::U8(body),
        0x09 => IdxData::I8(body.iter().map(|&b| b as i8).collect()),
        0x0B => IdxData::I16(big_endian(&body, i16::from_be_bytes)),
        0x0C => IdxData::I32(big_endian(&body, i32::from_be_bytes)),
        0x0D => IdxData::F32(big_endian(&body, f32::from_be_bytes)),
        _ => IdxData::F64(big_endian(&body, f64::from_be_bytes)),
    };
    Ok(IdxArray { dims, data })
}

/// Reads into `buf` until it is full or `reader` ends; returns the bytes read.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_error(path: &Path, gzip: bool, source: std::io::Error) -> Error {
    if gzip {
        format_error(path, format!("cannot decompress the gzip data: {source}"))
    } else {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
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
