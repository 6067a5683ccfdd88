//! Content types by file extension (SPEC §4): a fixed table, matched case-insensitively on the
//! part of the file name after its last `.`; text types carry `charset=utf-8`.

/// What a file with no extension, or one not in the table, is served as.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The longest extension in the table; anything longer is unknown without a lookup.
const MAX_EXT: usize = 11;

/// The `Content-Type` for a file named `name`, by its extension: the bytes after the last `.`
/// of the last path segment, compared ASCII-case-insensitively. No extension, an empty one
/// (`"name."`) or an unknown one gives `application/octet-stream`.
pub fn content_type(name: &[u8]) -> &'static str {
    let base = match name.iter().rposition(|&b| b == b'/') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    let ext = match base.iter().rposition(|&b| b == b'.') {
        Some(i) => &base[i + 1..],
        None => return OCTET_STREAM,
    };
    if ext.is_empty() || ext.len() > MAX_EXT {
        return OCTET_STREAM;
    }
    let mut lower = [0u8; MAX_EXT];
    for (d, s) in lower.iter_mut().zip(ext) {
        *d = s.to_ascii_lowercase();
    }
    by_extension(&lower[..ext.len()])
}

/// The table itself; `ext` is already lower-case.
fn by_extension(ext: &[u8]) -> &'static str {
    match ext {
        // Text, shown by browsers; always UTF-8 here.
        b"html" | b"htm" => "text/html; charset=utf-8",
        b"css" => "text/css; charset=utf-8",
        b"js" | b"mjs" | b"cjs" => "text/javascript; charset=utf-8",
        b"txt" | b"text" | b"log" => "text/plain; charset=utf-8",
        b"md" | b"markdown" => "text/markdown; charset=utf-8",
        b"csv" => "text/csv; charset=utf-8",
        b"tsv" => "text/tab-separated-values; charset=utf-8",
        b"ics" => "text/calendar; charset=utf-8",
        b"vtt" => "text/vtt; charset=utf-8",
        // Structured text.
        b"json" | b"map" => "application/json; charset=utf-8",
        b"webmanifest" => "application/manifest+json; charset=utf-8",
        b"xml" => "application/xml; charset=utf-8",
        b"xhtml" => "application/xhtml+xml; charset=utf-8",
        b"atom" => "application/atom+xml; charset=utf-8",
        b"rss" => "application/rss+xml; charset=utf-8",
        b"svg" => "image/svg+xml; charset=utf-8",
        // Images.
        b"png" | b"apng" => "image/png",
        b"jpg" | b"jpeg" => "image/jpeg",
        b"gif" => "image/gif",
        b"webp" => "image/webp",
        b"avif" => "image/avif",
        b"ico" => "image/x-icon",
        b"bmp" => "image/bmp",
        b"tif" | b"tiff" => "image/tiff",
        // Binary application formats and archives.
        b"wasm" => "application/wasm",
        b"pdf" => "application/pdf",
        b"zip" => "application/zip",
        b"gz" | b"tgz" => "application/gzip",
        b"tar" => "application/x-tar",
        b"bz2" => "application/x-bzip2",
        b"xz" => "application/x-xz",
        b"zst" => "application/zstd",
        b"7z" => "application/x-7z-compressed",
        // Audio and video.
        b"mp4" | b"m4v" => "video/mp4",
        b"webm" => "video/webm",
        b"ogv" => "video/ogg",
        b"mov" => "video/quicktime",
        b"mp3" => "audio/mpeg",
        b"m4a" => "audio/mp4",
        b"aac" => "audio/aac",
        b"ogg" | b"oga" | b"opus" => "audio/ogg",
        b"wav" => "audio/wav",
        b"flac" => "audio/flac",
        // Fonts.
        b"woff" => "font/woff",
        b"woff2" => "font/woff2",
        b"ttf" => "font/ttf",
        b"otf" => "font/otf",
        _ => OCTET_STREAM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_extensions_are_all_known() {
        let required = [
            "html", "htm", "css", "js", "mjs", "json", "txt", "md", "csv", "xml", "svg", "png",
            "jpg", "jpeg", "gif", "webp", "avif", "ico", "bmp", "wasm", "pdf", "zip", "gz", "tar",
            "bz2", "xz", "7z", "mp4", "webm", "mp3", "ogg", "wav", "flac", "woff", "woff2", "ttf",
            "otf", "map",
        ];
        for ext in required {
            let name = format!("file.{ext}");
            assert_ne!(content_type(name.as_bytes()), OCTET_STREAM, "{ext}");
        }
    }

    #[test]
    fn common_types() {
        assert_eq!(content_type(b"index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type(b"a.htm"), "text/html; charset=utf-8");
        assert_eq!(content_type(b"app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type(b"mod.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type(b"d.json"), "application/json; charset=utf-8");
        assert_eq!(
            content_type(b"app.js.map"),
            "application/json; charset=utf-8"
        );
        assert_eq!(content_type(b"i.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type(b"feed.xml"), "application/xml; charset=utf-8");
        assert_eq!(content_type(b"p.png"), "image/png");
        assert_eq!(content_type(b"p.jpeg"), "image/jpeg");
        assert_eq!(content_type(b"m.wasm"), "application/wasm");
        assert_eq!(content_type(b"f.woff2"), "font/woff2");
        assert_eq!(content_type(b"v.mp4"), "video/mp4");
        assert_eq!(content_type(b"s.mp3"), "audio/mpeg");
        assert_eq!(content_type(b"x.7z"), "application/x-7z-compressed");
    }

    #[test]
    fn text_types_carry_charset_and_binary_types_do_not() {
        for name in [
            "a.html", "a.css", "a.js", "a.txt", "a.md", "a.csv", "a.json", "a.xml",
        ] {
            assert!(
                content_type(name.as_bytes()).ends_with("; charset=utf-8"),
                "{name}"
            );
        }
        for name in [
            "a.png", "a.gz", "a.pdf", "a.woff", "a.mp4", "a.wasm", "a.bin",
        ] {
            assert!(!content_type(name.as_bytes()).contains("charset"), "{name}");
        }
    }

    #[test]
    fn extension_is_case_insensitive() {
        assert_eq!(content_type(b"PHOTO.JPG"), "image/jpeg");
        assert_eq!(content_type(b"Index.HtMl"), "text/html; charset=utf-8");
        assert_eq!(content_type(b"font.WOFF2"), "font/woff2");
    }

    #[test]
    fn only_the_last_extension_counts() {
        assert_eq!(content_type(b"archive.tar.gz"), "application/gzip");
        assert_eq!(content_type(b"page.html.bak"), OCTET_STREAM);
        assert_eq!(content_type(b"dir.html/readme"), OCTET_STREAM);
        assert_eq!(
            content_type(b"docs/readme.md"),
            "text/markdown; charset=utf-8"
        );
    }

    #[test]
    fn missing_empty_or_unknown_extension() {
        assert_eq!(content_type(b""), OCTET_STREAM);
        assert_eq!(content_type(b"Makefile"), OCTET_STREAM);
        assert_eq!(content_type(b"trailing."), OCTET_STREAM);
        assert_eq!(content_type(b"file.unknownext"), OCTET_STREAM);
        assert_eq!(
            content_type(b"file.averyveryverylongextension"),
            OCTET_STREAM
        );
        assert_eq!(content_type(b"name.\xff\xfe"), OCTET_STREAM);
    }

    #[test]
    fn longest_extension_fits() {
        assert_eq!(
            content_type(b"site.webmanifest"),
            "application/manifest+json; charset=utf-8"
        );
    }
}
