//! Replays the committed fuzzing seeds (`fuzz/seeds/<target>/`) through the same property
//! functions the cargo-fuzz targets call, so that `cargo test` keeps what fuzzing found.

use std::path::Path;

// The properties live with the fuzz targets; the library itself carries no fuzzing code.
#[path = "../fuzz/props.rs"]
mod props;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 7] = [
    ("chunked", props::chunked),
    ("conn", props::conn),
    ("head", props::head),
    ("range", props::range),
    ("resolve", props::resolve),
    ("bodies", props::bodies),
    ("multipart", props::multipart),
];

/// The target that needs TLS built in (its seeds wait, unreplayed, in a build without it).
const TLS_TARGET: &str = "tls";

fn replay(name: &str, check: Target) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(name);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("seed directory {}: {e}", dir.display()));
    let mut seeds = 0;
    for entry in entries {
        let path = entry.expect("read the seed directory").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "seed {} fails {name}", path.display());
        seeds += 1;
    }
    assert!(seeds > 0, "no seeds in {}", dir.display());
}

#[test]
fn every_seed_directory_has_a_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for entry in std::fs::read_dir(&dir).expect("fuzz/seeds") {
        let name = entry.expect("read fuzz/seeds").file_name();
        let name = name.to_string_lossy();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == name) || name == TLS_TARGET,
            "fuzz/seeds/{name} has no target here"
        );
    }
}

#[test]
fn chunked_seeds() {
    replay(TARGETS[0].0, TARGETS[0].1);
}

#[test]
fn conn_seeds() {
    replay(TARGETS[1].0, TARGETS[1].1);
}

#[test]
fn head_seeds() {
    replay(TARGETS[2].0, TARGETS[2].1);
}

#[test]
fn range_seeds() {
    replay(TARGETS[3].0, TARGETS[3].1);
}

#[test]
fn resolve_seeds() {
    replay(TARGETS[4].0, TARGETS[4].1);
}

#[test]
fn bodies_seeds() {
    replay(TARGETS[5].0, TARGETS[5].1);
}

#[test]
fn multipart_seeds() {
    replay(TARGETS[6].0, TARGETS[6].1);
}

#[cfg(feature = "tls")]
#[test]
fn tls_seeds() {
    replay(TLS_TARGET, props::tls);
}
