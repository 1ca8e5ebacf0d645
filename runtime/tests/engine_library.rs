//! Wrong ONNX Runtime library paths → `LibraryNotFound` / `LibraryLoad`, then the right
//! one still loads. Its own test binary, so its own process: ONNX Runtime can be loaded
//! only once per process, and these must run before any successful load.

use std::path::{Path, PathBuf};

use vpl_runtime::engine::{Backend, Engine, EngineConfig, EngineError, find_library};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn config(library: PathBuf) -> EngineConfig {
    EngineConfig {
        model: root().join("tests/fixtures/models/det_fixed1.onnx"),
        library,
        backend: Backend::Cpu,
        threads: 1,
        engine_cache: None,
        max_batch: 1,
    }
}

#[test]
fn wrong_library_paths_are_reported_and_not_remembered() {
    let missing = PathBuf::from("/no/such/dir/libonnxruntime.so");
    match Engine::load(&config(missing.clone())) {
        Err(EngineError::LibraryNotFound { path }) => {
            assert_eq!(path, missing);
            let message = EngineError::LibraryNotFound { path }.to_string();
            assert!(
                message.contains("/no/such/dir/libonnxruntime.so"),
                "{message}"
            );
            assert!(message.contains("VPL_ONNXRUNTIME"), "{message}");
        }
        Err(e) => panic!("expected LibraryNotFound, got {e}"),
        Ok(_) => panic!("loaded ONNX Runtime from a path that does not exist"),
    }

    let not_a_library = root().join("tests/fixtures/models/not_onnx.onnx");
    match Engine::load(&config(not_a_library.clone())) {
        Err(EngineError::LibraryLoad { path, reason }) => {
            assert_eq!(path, not_a_library);
            assert!(!reason.is_empty());
        }
        Err(e) => panic!("expected LibraryLoad, got {e}"),
        Ok(_) => panic!("loaded ONNX Runtime from a file that is not a library"),
    }

    let library = find_library(&[Path::new(env!("CARGO_MANIFEST_DIR"))])
        .expect("no assets/onnxruntime.path naming a library: run scripts/setup.sh");
    if let Err(e) = Engine::load(&config(library)) {
        panic!("the right library after two wrong ones: {e}");
    }
}
