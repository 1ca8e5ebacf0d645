//! `scripts/bundle.sh`: the tarball unpacks anywhere and its launcher runs `vplc check` and
//! `vplc run` from another directory on the bundle's own GStreamer (its plugin path and
//! registry, the system's plugin path emptied).

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vpl-bundle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_bundle_runs_from_anywhere_on_its_own_gstreamer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let made = temp_dir("made");
    let tarball = made.join("vpl-bundle.tar.gz");
    let out = Command::new("bash")
        .arg(root.join("scripts/bundle.sh"))
        .args(["--vplc", env!("CARGO_BIN_EXE_vplc"), "-o"])
        .arg(&tarball)
        .env("VPL_BUNDLE_GZIP", "1")
        .current_dir(&made)
        .output()
        .expect("bundle.sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Unpacked elsewhere, run from a third directory.
    let unpacked = temp_dir("unpacked");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar");
    assert!(status.success());
    std::fs::remove_file(&tarball).expect("the tarball is not needed any more");
    let bundle = unpacked.join("vpl-bundle");
    let work = temp_dir("work");
    std::fs::copy(
        root.join("tests/fixtures/media/h264_640x360_25fps.mp4"),
        work.join("clip.mp4"),
    )
    .expect("copy the clip");
    std::fs::write(
        work.join("p.vpl"),
        "pipeline p {\n    file(\"clip.mp4\") | decode | scale(320x180) | encode(h264) | file(\"out/small.mp4\");\n}\n",
    )
    .expect("write");
    let launch = |tool: &str, args: &[&str]| {
        Command::new(bundle.join(tool))
            .args(args)
            .current_dir(&work)
            .env("XDG_CACHE_HOME", work.join("cache"))
            .env("VPL_CACHE_DIR", "off")
            .env("GST_PLUGIN_PATH", "/nonexistent")
            .env_remove("GST_PLUGIN_SYSTEM_PATH")
            .env_remove("GST_REGISTRY")
            .output()
            .expect("the launcher runs")
    };
    let check = launch("vplc", &["check", "p.vpl"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let run = launch("vplc", &["run", "--quiet", "p.vpl"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::metadata(work.join("out/small.mp4")).expect("the run wrote its file");
    assert!(written.len() > 1000, "{written:?}");

    // GStreamer's elements come from the bundle, not from the system.
    let inspect = launch("gst-inspect-1.0", &["coreelements"]);
    let text = String::from_utf8_lossy(&inspect.stdout);
    let plugins = bundle.join("plugins");
    assert!(
        text.contains(&plugins.display().to_string()),
        "coreelements from {}: {text}",
        plugins.display()
    );
    for dir in [made, unpacked, work] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
