//! Path resolution: whatever the request path, the normalised result never climbs (no `..`,
//! no empty or `.` segment) and never names a dotfile unless asked to.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spindle::files::resolve::{normalise, percent_decode};

fuzz_target!(|raw: &[u8]| {
    let Ok(decoded) = percent_decode(raw) else {
        return;
    };
    assert!(!decoded.contains(&0));
    for show_hidden in [false, true] {
        if let Ok((relative, _)) = normalise(&decoded, show_hidden) {
            if relative.is_empty() {
                continue;
            }
            for seg in relative.split(|&b| b == b'/') {
                assert!(!seg.is_empty() && seg != b"." && seg != b"..");
                assert!(show_hidden || seg[0] != b'.');
            }
        }
    }
});
