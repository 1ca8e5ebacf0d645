//! `vplc import deepstream`: golden imports of fixtures shaped like the public DeepStream
//! apps, every key of every input accounted for, the public configs in
//! `../shared/deepstream-configs/`, the numbers the import computes, and checker
//! diagnostics placed at the DeepStream line that caused them.

use std::path::{Path, PathBuf};

use vpl_compiler::Code;
use vpl_compiler::import::deepstream::How;
use vplc::host::FsHost;
use vplc::import::{Report, run_import};

const FIXTURES: &str = "tests/fixtures/deepstream";

fn import(config: &Path) -> Report {
    let text = std::fs::read_to_string(config).expect("fixture");
    let out = config.with_extension("vpl");
    run_import(config, &text, &out, &FsHost::new())
}

/// The diagnostics as a person reads them: code, file:line:column, message.
fn diagnostics(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = report.sources.get(d.primary.file);
        let (line, column) = file.line_column(d.primary.span.start as usize);
        let name = Path::new(&file.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push_str(&format!(
            "{} {name}:{line}:{column} {}\n",
            d.code,
            d.message.replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
        ));
    }
    out
}

/// Every `key=value` line of every file read is accounted for exactly once, and every
/// finding points at a line of its file.
fn assert_accounted(report: &Report, what: &str) {
    let im = &report.imported;
    for (fi, f) in im.files.iter().enumerate() {
        for (ei, e) in f.ini.entries.iter().enumerate() {
            let n = im
                .accounts
                .iter()
                .filter(|a| a.file == fi && a.entry == ei)
                .count();
            assert_eq!(
                n,
                1,
                "{what}: {}:{} `{}` accounted for {n} times",
                f.path.display(),
                e.line,
                e.key
            );
        }
        for a in im.accounts.iter().filter(|a| a.file == fi) {
            if let How::Finding(code) = a.how {
                let e = &f.ini.entries[a.entry];
                assert!(
                    im.findings
                        .iter()
                        .any(|x| x.code == code && x.at.file == fi && x.at.span == e.span()),
                    "{what}: {}:{} has no finding {code} at its line",
                    f.path.display(),
                    e.line
                );
            }
        }
    }
    for d in &report.diagnostics {
        let file = report.sources.get(d.primary.file);
        assert!(
            (d.primary.span.end as usize) <= file.text.len(),
            "{what}: {} beyond the end of {}",
            d.code,
            file.name
        );
    }
}

fn golden(dir: &str, app: &str) {
    let config = PathBuf::from(FIXTURES).join(dir).join(app);
    let report = import(&config);
    assert_accounted(&report, dir);
    insta::assert_snapshot!(
        format!("import_{dir}"),
        format!(
            "----- PROGRAM\n{}----- DIAGNOSTICS\n{}",
            report.imported.vpl,
            diagnostics(&report)
        )
    );
}

#[test]
fn deepstream_yolo() {
    golden("yolo", "deepstream_app_config.txt");
}

#[test]
fn test2_two_classifiers_and_a_tracker() {
    golden("test2", "dstest2_app.txt");
}

#[test]
fn test4_broker_sinks() {
    golden("test4", "test4_app.txt");
}

#[test]
fn nvdsanalytics() {
    golden("analytics", "analytics_app.txt");
}

#[test]
fn masktracker() {
    golden("masktracker", "deepstream_app_source1.txt");
}

#[test]
fn multi_source() {
    golden("multi", "multi_app.txt");
}

/// Every config file of the public DeepStream apps imports without a panic, with every key
/// accounted for and every diagnostic inside its file.
#[test]
fn public_configs() {
    // Beside the checkout; a worktree elsewhere names the folder in VPL_DEEPSTREAM_CONFIGS.
    let root = std::env::var_os("VPL_DEEPSTREAM_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/deepstream-configs")
        });
    assert!(
        root.is_dir(),
        "{} is absent: the public DeepStream configs are needed beside the checkout (see its README)",
        root.display()
    );
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("txt" | "yml" | "yaml")
            ) && path.file_name().is_none_or(|n| n != "labels.txt")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 30, "{} configs", files.len());
    for path in &files {
        let report = import(path);
        assert_accounted(&report, &path.display().to_string());
        assert!(
            !report.imported.vpl.is_empty(),
            "{}: no program",
            path.display()
        );
    }
}

fn line_of(report: &Report, code: Code) -> Vec<(String, usize)> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let f = report.sources.get(d.primary.file);
            let name = Path::new(&f.name)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, f.line_column(d.primary.span.start as usize).0)
        })
        .collect()
}

/// A batch of 2 for a model whose batch is fixed at 1 is E0301 at the nvinfer file's
/// `batch-size` line.
#[test]
fn batch_mismatch_is_at_the_batch_size_line() {
    let report = import(&PathBuf::from(FIXTURES).join("batch/app.txt"));
    assert_eq!(line_of(&report, Code::E0301), [("pgie.txt".to_string(), 4)]);
}

/// The numbers: mean = offsets × scale, every = interval + 1, the timeout in µs.
#[test]
fn numbers() {
    let report = import(&PathBuf::from(FIXTURES).join("test2/dstest2_app.txt"));
    let vpl = &report.imported.vpl;
    // secondary_gie1: net-scale-factor 0.017, offsets 123.675;116.28;103.53.
    let model = &vpl[vpl.find("model secondary_gie1").expect("sgie2")..];
    let mean = &model[model.find("mean: [").expect("mean") + 7..];
    let mean: Vec<f64> = mean[..mean.find(']').unwrap()]
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    for (m, o) in mean.iter().zip([123.675, 116.28, 103.53]) {
        assert!((m - o * 0.017).abs() < 1e-6, "{m} vs {}", o * 0.017);
    }
    assert!(model.contains("scale: 0.017"), "{model}");
    // interval=1 → every: 2.
    assert!(vpl.contains("infer(primary, every: 2)"), "{vpl}");
    // batched-push-timeout=33333 µs → 33333us; 40000 µs → 40ms.
    let report = import(&PathBuf::from(FIXTURES).join("analytics/analytics_app.txt"));
    assert!(
        report.imported.vpl.contains("timeout: 33333us"),
        "{}",
        report.imported.vpl
    );
    let report = import(&PathBuf::from(FIXTURES).join("multi/multi_app.txt"));
    assert!(
        report.imported.vpl.contains("timeout: 40ms"),
        "{}",
        report.imported.vpl
    );
}
