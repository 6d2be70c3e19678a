//! Image files (PNG, JPEG) and folders of them in torchvision's `ImageFolder` layout:
//! `ROOT/CLASS_NAME/*.png|jpg|jpeg`, one folder per class, classes in sorted order of their
//! names (as torchvision sorts them), files in sorted order of their paths within a class
//! (subfolders of a class folder included, as torchvision walks them).

use super::idx_images::Images;
use crate::error::{Error, Result};
use image::DynamicImage;
use image::imageops::FilterType;
use std::path::{Path, PathBuf};

/// The extensions read, compared without regard to case (torchvision's `IMG_EXTENSIONS`
/// less the formats this build does not decode).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Whether `path` names a PNG or JPEG file by its extension.
pub(crate) fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Decodes an image file, or an error naming it.
pub(crate) fn decode(path: &Path) -> Result<DynamicImage> {
    let fail = |e: &dyn std::fmt::Display| Error::Format {
        path: path.to_path_buf(),
        message: format!("cannot read this image: {e}"),
    };
    image::ImageReader::open(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .with_guessed_format()
        .map_err(|e| fail(&e))?
        .decode()
        .map_err(|e| fail(&e))
}

/// Whether an image is stored without colour (grayscale, with or without alpha).
pub(crate) fn is_gray(image: &DynamicImage) -> bool {
    !image.color().has_color()
}

/// `[H, W]` of an image.
pub(crate) fn size_of(image: &DynamicImage) -> [usize; 2] {
    [image.height() as usize, image.width() as usize]
}

/// The pixels of `image` as `channels` (1: grayscale, 3: RGB; alpha dropped) channels of
/// `[H, W]`, resized to `resize` (bilinear, torchvision's default) when given, scaled to
/// `0..=1`: `[C, H, W]` appended to `out`.
pub(crate) fn push_pixels(
    image: &DynamicImage,
    channels: usize,
    resize: Option<[usize; 2]>,
    out: &mut Vec<f32>,
) {
    let resized;
    let image = match resize {
        Some([h, w]) if size_of(image) != [h, w] => {
            resized = image.resize_exact(w as u32, h as u32, FilterType::Triangle);
            &resized
        }
        _ => image,
    };
    if channels == 1 {
        out.extend(
            image
                .to_luma8()
                .as_raw()
                .iter()
                .map(|&p| f32::from(p) / 255.0),
        );
    } else {
        let rgb = image.to_rgb8();
        let raw = rgb.as_raw();
        for c in 0..3 {
            out.extend(raw.iter().skip(c).step_by(3).map(|&p| f32::from(p) / 255.0));
        }
    }
}

/// An `ImageFolder` tree: the class names and every image file with its class index.
#[derive(Clone, Debug)]
pub(crate) struct ImageFolder {
    pub classes: Vec<String>,
    pub files: Vec<(PathBuf, i64)>,
}

/// The entries of `dir`, sorted by name.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io)?;
    entries.sort();
    Ok(entries)
}

/// Every PNG/JPEG file under `dir`, subfolders included, in sorted order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_image_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

impl ImageFolder {
    /// The classes (subfolders of `root`, sorted by name) and their image files. With
    /// `classes` given (a test folder read against a training folder's classes), every
    /// subfolder must be one of them and takes its index there.
    pub fn scan(root: &Path, classes: Option<&[String]>) -> Result<ImageFolder> {
        let fail = |message: String| Error::Format {
            path: root.to_path_buf(),
            message,
        };
        if !root.is_dir() {
            return Err(Error::Io {
                path: root.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            });
        }
        let folders: Vec<PathBuf> = sorted_entries(root)?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        if folders.is_empty() {
            return Err(fail(
                "no class folders here: an image folder holds one folder of PNG or JPEG images \
                 per class (ROOT/CLASS_NAME/*.png)"
                    .into(),
            ));
        }
        let names: Vec<String> = folders
            .iter()
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let classes = classes.map_or_else(|| names.clone(), <[String]>::to_vec);
        let mut files = Vec::new();
        for (folder, name) in folders.iter().zip(&names) {
            let Some(index) = classes.iter().position(|c| c == name) else {
                return Err(fail(format!(
                    "class folder {name:?} is not one of the training classes {classes:?}"
                )));
            };
            let before = files.len();
            let mut found = Vec::new();
            walk(folder, &mut found)?;
            files.extend(found.into_iter().map(|path| (path, index as i64)));
            if files.len() == before {
                return Err(Error::Format {
                    path: folder.clone(),
                    message: "this class folder holds no .png, .jpg or .jpeg images".into(),
                });
            }
        }
        Ok(ImageFolder { classes, files })
    }
}

/// Decoded images of one folder tree, with their labels.
pub(crate) struct Decoded {
    pub images: Vec<DynamicImage>,
    pub labels: Vec<i64>,
    pub paths: Vec<PathBuf>,
}

impl Decoded {
    /// Decodes every file of `folder`.
    pub fn read(folder: &ImageFolder) -> Result<Decoded> {
        let mut images = Vec::with_capacity(folder.files.len());
        for (path, _) in &folder.files {
            images.push(decode(path)?);
        }
        Ok(Decoded {
            images,
            labels: folder.files.iter().map(|(_, label)| *label).collect(),
            paths: folder.files.iter().map(|(path, _)| path.clone()).collect(),
        })
    }

    /// The images as `[N, C, H, W]` values of `channels` channels, resized to `resize` or,
    /// without it, all of the size `[H, W]` `size` (else an error naming a file of each size).
    pub fn to_images(
        &self,
        channels: usize,
        resize: Option<[usize; 2]>,
        size: ([usize; 2], &Path),
    ) -> Result<Images> {
        let [h, w] = resize.unwrap_or(size.0);
        if resize.is_none() {
            for (image, path) in self.images.iter().zip(&self.paths) {
                let [ih, iw] = size_of(image);
                if [ih, iw] != [h, w] {
                    return Err(Error::Format {
                        path: path.clone(),
                        message: format!(
                            "this image is {ih}x{iw} (HxW) but {} is {h}x{w}: the images of a data \
                             set need one size; give an image size (--image-size H,W) to resize \
                             them",
                            size.1.display()
                        ),
                    });
                }
            }
        }
        let count = [self.images.len(), channels, h, w]
            .iter()
            .try_fold(4u64, |bytes, &d| bytes.checked_mul(d as u64));
        crate::memory::check(
            &format!("{} images of {channels}x{h}x{w} as f32", self.images.len()),
            count,
            crate::memory::available(),
        )?;
        let mut values = Vec::with_capacity(self.images.len() * channels * h * w);
        for image in &self.images {
            push_pixels(image, channels, resize, &mut values);
        }
        Ok(Images {
            values,
            shape: [self.images.len(), channels, h, w],
        })
    }
}
