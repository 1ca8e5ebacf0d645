//! A real editor on `vplc lsp`: headless Neovim (Debian's 0.7.2, installed by
//! scripts/setup.sh) with its built-in LSP client runs tests/nvim/check.lua on a file with
//! a batch-size error; the test reads back what the editor received at each step.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn neovim_shows_the_batch_error_then_clears_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("vplc-lsp-nvim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = root.join("tests/fixtures/models/det_fixed1.onnx");
    let file = dir.join("batch.vpl");
    std::fs::write(
        &file,
        format!(
            "model det = onnx(\"{}\", decoder: yolov8());\n\
             \n\
             pipeline p {{\n\
             \x20   [test(), test()] | batch(size: 2) | infer(det) | unbatch | json | stdout;\n\
             }}\n",
            model.display()
        ),
    )
    .expect("write the .vpl file");
    let result = dir.join("result.txt");
    let _ = std::fs::remove_file(&result);

    let mut nvim = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "--noplugin", "-c"])
        .arg(format!(
            "luafile {}",
            root.join("tests/nvim/check.lua").display()
        ))
        .env("VPLC", env!("CARGO_BIN_EXE_vplc"))
        .env("VPL_FILE", &file)
        .env("VPL_RESULT", &result)
        .env("VPL_CACHE_DIR", dir.join("cache"))
        // Keep Neovim's own state, logs and swap files out of the user's home.
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nvim runs: scripts/setup.sh installs Debian's neovim");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Ok(Some(status)) = nvim.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = nvim.kill();
            let _ = nvim.wait();
            let seen = std::fs::read_to_string(&result).unwrap_or_default();
            panic!("nvim did not finish in {TIMEOUT:?}; it wrote:\n{seen}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seen = std::fs::read_to_string(&result).unwrap_or_default();
    assert!(status.success(), "nvim exited with {status}:\n{seen}");
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(
        lines,
        [
            "diagnostic E0301 line 4",
            "sync 2",
            "hover model det: tensor<f32, [1, 3, 640, 640]> -> tensor<f32, [1, 6, 8400]>",
            "cleared",
            "stopped",
        ],
        "what Neovim saw"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
