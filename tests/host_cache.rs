//! The filesystem host caches facts on disk, keyed on path, size and modification time:
//! a file is probed once, and probed again when it changes.

use std::path::{Path, PathBuf};

use vpl_compiler::Host;
use vplc::host::FsHost;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn format_of(host: &FsHost, path: &Path) -> String {
    host.probe_media(path)
        .expect("probes")
        .video
        .expect("has video")
        .format
}

#[test]
fn media_is_probed_once_and_again_when_it_changes() {
    let dir = temp_dir("media");
    let video = dir.join("cam.mp4");
    std::fs::copy(fixture("h264_640x360_25fps.mp4"), &video).expect("copy fixture");
    let cache = dir.join("facts.json");

    let host = FsHost::with_cache_file(Some(cache.clone()));
    assert_eq!(format_of(&host, &video), "h264");
    host.save();
    let saved = std::fs::read_to_string(&cache).expect("the cache was written");
    assert!(
        saved.contains("cam.mp4") && saved.contains("\"h264\""),
        "{saved}"
    );

    // A second run answers from the cache: a doctored entry proves no probe happened.
    std::fs::write(&cache, saved.replace("\"h264\"", "\"h265\"")).expect("doctor the cache");
    let host = FsHost::with_cache_file(Some(cache.clone()));
    assert_eq!(format_of(&host, &video), "h265");

    // Another file at the same path (other size and time) is probed afresh.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::copy(fixture("vp8_320x240_30fps.webm"), &video).expect("replace the file");
    let host = FsHost::with_cache_file(Some(cache));
    assert_eq!(format_of(&host, &video), "vp8");
}

#[test]
fn models_are_read_once() {
    let dir = temp_dir("model");
    let model = dir.join("det.onnx");
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/det_dynamic.onnx");
    std::fs::copy(source, &model).expect("copy fixture");
    let cache = dir.join("facts.json");
    let host = FsHost::with_cache_file(Some(cache.clone()));
    assert_eq!(
        host.model_signature(&model).expect("reads").inputs[0].name,
        "images"
    );
    host.save();
    let saved = std::fs::read_to_string(&cache).expect("written");
    std::fs::write(&cache, saved.replace("\"images\"", "\"cached\"")).expect("doctor");
    let host = FsHost::with_cache_file(Some(cache));
    assert_eq!(
        host.model_signature(&model).expect("reads").inputs[0].name,
        "cached"
    );
}

#[test]
fn an_unwritable_cache_is_not_an_error() {
    let host = FsHost::with_cache_file(Some(PathBuf::from("/proc/vpl-cannot-write/facts.json")));
    assert_eq!(format_of(&host, &fixture("h264_320x240_30fps.mkv")), "h264");
    host.save();
}
