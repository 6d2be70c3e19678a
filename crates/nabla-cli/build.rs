//! Embeds every file under `src/commands/view/assets/` in the binary: writes
//! `$OUT_DIR/view_assets.rs`, a sorted table of `(name, include_bytes!(path))` that
//! `commands::view::assets` includes, so a file added to the folder is served without a change
//! to the code. Names are the paths below the folder with `/` separators; hidden files are left
//! out.

use std::path::{Path, PathBuf};

const ASSETS: &str = "src/commands/view/assets";

fn main() {
    println!("cargo:rerun-if-changed={ASSETS}");
    let root =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join(ASSETS);
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (name, path) in &files {
        table.push_str(&format!("    ({name:?}, include_bytes!({path:?})),\n"));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("view_assets.rs");
    std::fs::write(&out, table).expect("writing the asset table");
}

/// Every file below `dir` (skipping names that start with a dot), as its name relative to
/// `root` with `/` separators and its full path.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("listing the view assets").path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("below the assets folder")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((name, path.to_string_lossy().into_owned()));
        }
    }
}
