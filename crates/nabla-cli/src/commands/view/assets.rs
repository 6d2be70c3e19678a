//! The page's files, embedded in the binary at build time (see the crate's `build.rs`): every
//! file under `view/assets/`, by its path below that folder.

/// `(name, contents)` of every asset, sorted by name.
static ASSETS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/view_assets.rs"));

/// An embedded file and the `Content-Type` it is served with.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

/// The embedded file `name` (`app.js`, `images/logo.svg`), if there is one.
pub fn get(name: &str) -> Option<Asset> {
    let i = ASSETS.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    Some(Asset {
        bytes: ASSETS[i].1,
        content_type: content_type(name),
    })
}

/// The MIME type of a file name's extension (`application/octet-stream` when unknown).
pub fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ if name.rsplit('/').next().is_some_and(is_licence) => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `LICENSE`, `LICENCE`, `COPYING` and the like, without an extension: plain text.
fn is_licence(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING"]
        .iter()
        .any(|p| upper.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_holds_the_run_page() {
        assert!(ASSETS.windows(2).all(|w| w[0].0 < w[1].0));
        let page = get("index.html").expect("index.html is embedded");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(get("no-such-file.js").is_none());
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("style.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("shot.png"), "image/png");
        assert_eq!(content_type("graph.svg"), "image/svg+xml");
        assert_eq!(content_type("data.json"), "application/json");
        assert_eq!(content_type("vendor/LICENSE"), "text/plain; charset=utf-8");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }
}
