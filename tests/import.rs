//! `vplc import deepstream`: golden imports of fixtures shaped like the public DeepStream
//! apps, every key of every input accounted for, the public configs in
//! `../shared/deepstream-configs/`, the numbers the import computes, and checker
//! diagnostics placed at the DeepStream line that caused them.

use std::path::{Path, PathBuf};

use vpl_compiler::Code;
use vpl_compiler::analytics::{AnalyzeConfig, Direction, Line};
use vpl_compiler::import::deepstream::How;
use vpl_runtime::analytics::analyzer::Analyzer;
use vpl_runtime::meta::{Object, ObjectsData};
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
        for (ei, e) in f.ini.entries.iter().enumerate() {
            let findings = im
                .findings
                .iter()
                .filter(|x| x.at.file == fi && x.at.span == e.span())
                .count();
            assert!(
                findings <= 1,
                "{what}: {}:{} `{}` reported {findings} times (entry {ei})",
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
        // These are configs DeepStream runs: none of their keys is one it does not read.
        let unknown: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::W0603)
            .map(|d| d.message.clone())
            .collect();
        assert!(unknown.is_empty(), "{}: {unknown:?}", path.display());
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

/// The numbers of `line([[x, y], [x, y]], size: WxH, direction: D)` in the program.
fn imported_line(vpl: &str, name: &str) -> (Line, Direction) {
    let at = vpl
        .find(&format!("const {name} = line("))
        .expect("the line");
    let text = &vpl[at..];
    let text = &text[..text.find(';').expect("end")];
    let numbers: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    // x1 y1 x2 y2 W H (the `x` of the size splits it).
    let direction = if text.contains("direction: forward") {
        Direction::Forward
    } else {
        Direction::Both
    };
    let line = Line {
        name: name.into(),
        a: [numbers[0], numbers[1]],
        b: [numbers[2], numbers[3]],
        size: Some((numbers[4] as u32, numbers[5] as u32)),
        direction: Direction::Both,
    };
    (line, direction)
}

/// Tracks walking along `from` → `to` (anchors in pixels of a 1280x720 frame), ten frames.
fn walk(analyzer: &mut Analyzer, tracks: &[(u64, [f64; 2], [f64; 2])]) {
    for step in 0..=10u64 {
        let t = step as f64 / 10.0;
        let objects = tracks
            .iter()
            .map(|(id, from, to)| {
                let x = from[0] + (to[0] - from[0]) * t;
                let y = from[1] + (to[1] - from[1]) * t;
                Object {
                    label: "person".into(),
                    x: x as f32 - 10.0,
                    y: y as f32 - 40.0,
                    w: 20.0,
                    h: 40.0,
                    track_id: Some(*id),
                    confidence: 0.9,
                    ..Object::default()
                }
            })
            .collect();
        let mut data = ObjectsData {
            source_width: 1280,
            source_height: 720,
            objects,
            ..ObjectsData::default()
        };
        analyzer.process(&mut data, step * 100_000_000);
    }
}

/// DeepStream's line `789;672;1084;900;851;773;1203;732` (config 1920x1080, streams
/// 1280x720): a track crossing the line in DeepStream's direction (the first two points)
/// counts `forward` once in vpl's analytics; one crossing the other way counts `backward`,
/// and the imported `direction: forward` counts only the first; whichever way round
/// DeepStream's config gives the line's ends.
#[test]
fn an_imported_line_counts_deepstreams_direction_forward() {
    let report = import(&PathBuf::from(FIXTURES).join("analytics/analytics_app.txt"));
    // `exit` is drawn with DeepStream's direction to its right, `entry` the other way round.
    for name in ["exit", "entry"] {
        crossing(&report.imported.vpl, name);
    }
}

fn crossing(vpl: &str, name: &str) {
    let (line, direction) = imported_line(vpl, name);
    assert_eq!(direction, Direction::Forward);
    let s = 1280.0 / 1920.0;
    // Through the middle of the line, along DeepStream's direction (295, 228).
    let mid = [(851.0 + 1203.0) / 2.0 * s, (773.0 + 732.0) / 2.0 * s];
    let d = [295.0 * 0.3 * s, 228.0 * 0.3 * s];
    let along = (
        1,
        [mid[0] - d[0], mid[1] - d[1]],
        [mid[0] + d[0], mid[1] + d[1]],
    );
    let against = (
        2,
        [mid[0] + d[0], mid[1] + d[1]],
        [mid[0] - d[0], mid[1] - d[1]],
    );

    let config = |direction| AnalyzeConfig {
        zones: Vec::new(),
        lines: vec![Line {
            direction,
            ..line.clone()
        }],
    };
    let mut both = Analyzer::new(config(Direction::Both));
    walk(&mut both, &[along, against]);
    let (_, counts) = &both.crossings()[0];
    assert_eq!((counts.forward, counts.backward), (1, 1), "{name}");

    let mut forward = Analyzer::new(config(direction));
    walk(&mut forward, &[along]);
    let (_, counts) = &forward.crossings()[0];
    assert_eq!((counts.forward, counts.backward), (1, 0), "{name}");
}

fn vplc(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .output()
        .expect("vplc runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A clean import exits 0 and writes a program that `vplc check` passes, its paths
/// relative to where it was written.
#[test]
fn a_clean_import_writes_a_program_that_checks() {
    let dir = temp_dir("clean");
    let out = dir.join("clean.vpl");
    let config = format!("{FIXTURES}/clean/app.txt");
    let o = vplc(&["import", "deepstream", &config, "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("W0601"), "{stderr}");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("decoder: classify(top: 1)"), "{text}");
    let o = vplc(&["check", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = vplc(&["fmt", "--check", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "not in vplc fmt layout");
}

/// Errors: exit 1, nothing written, diagnostics at the DeepStream files (JSON); with
/// `--partial` the program is written, with what was not imported in a comment.
#[test]
fn errors_write_nothing_unless_partial() {
    let dir = temp_dir("errors");
    let out = dir.join("test4.vpl");
    let config = format!("{FIXTURES}/test4/test4_app.txt");
    let o = vplc(&[
        "import",
        "deepstream",
        &config,
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(json["output"].is_null());
    let amqp = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "E0601")
        .expect("E0601");
    assert!(
        amqp["file"].as_str().unwrap().ends_with("test4_app.txt"),
        "{amqp}"
    );
    assert_eq!(amqp["line"], 41);

    let o = vplc(&[
        "import",
        "deepstream",
        &config,
        "-o",
        out.to_str().unwrap(),
        "--partial",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(&out).expect("written with --partial");
    assert!(text.contains("// Not imported:"), "{text}");
    assert!(text.contains("libnvds_amqp_proto.so"), "{text}");

    let o = vplc(&[
        "import",
        "deepstream",
        &config,
        "-o",
        out.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
}

/// A config that cannot be read is exit status 2.
#[test]
fn an_unreadable_config_is_status_2() {
    let o = vplc(&["import", "deepstream", "no/such/config.txt"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A parser vpl has no decoder for is E0601 at `parse-bbox-func-name`, naming the model's
/// outputs so the user can pick a decoder; an nvinfer config alone gives its model.
#[test]
fn a_custom_parser_names_the_models_outputs() {
    let report = import(&PathBuf::from(FIXTURES).join("parser/pgie.txt"));
    assert_accounted(&report, "parser");
    let e = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::E0601)
        .expect("E0601");
    assert!(
        e.message.contains("NvDsInferParseCustomResnet")
            && e.message.contains("`output0` tensor<f32, [1, 6, 8400]>"),
        "{}",
        e.message
    );
    assert_eq!(line_of(&report, Code::E0601), [("pgie.txt".to_string(), 5)]);
    assert!(
        report.imported.vpl.contains("model model = onnx("),
        "{}",
        report.imported.vpl
    );
}

/// `[source-list] use-nvmultiurisrcbin=1` becomes a pool of `max-batch-size` streams.
#[test]
fn nvmultiurisrcbin_is_a_pool() {
    let dir = temp_dir("pool");
    let config = dir.join("app.txt");
    std::fs::write(
        &config,
        "[source-list]\nuse-nvmultiurisrcbin=1\nmax-batch-size=8\nlist=rtsp://a/1;rtsp://a/2\n\n[streammux]\nwidth=640\nheight=360\n\n[sink0]\nenable=1\ntype=1\n",
    )
    .expect("config");
    let report = import(&config);
    assert_accounted(&report, "pool");
    assert!(
        report
            .imported
            .vpl
            .contains("pool(max: 8) : video<h264, 1920x1080, 30fps>"),
        "{}",
        report.imported.vpl
    );
    // The pool's type is complete, so the program checks (no E0214), and the user is told
    // the type was chosen for them, at `use-nvmultiurisrcbin`.
    let said = diagnostics(&report);
    assert!(!said.contains("E0214"), "{said}");
    assert!(
        said.contains("W0601 app.txt:2:1 a pool admits only streams of its declared type"),
        "{said}"
    );
}

/// The imported DeepStream-Yolo app runs: `ds_yolo` on the `[B, N, 6]` fixture, on vtest.avi.
#[test]
fn the_imported_deepstream_yolo_app_runs() {
    let dir = temp_dir("yolo-run");
    let out = dir.join("yolo.vpl");
    let config = format!("{FIXTURES}/yolo/deepstream_app_config.txt");
    let o = vplc(&["import", "deepstream", &config, "-o", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stats = dir.join("stats.json");
    let o = vplc(&[
        "run",
        out.to_str().unwrap(),
        "--quiet",
        "--backend",
        "cpu",
        "--max-frames",
        "5",
        "--stats",
        stats.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats")).expect("json");
    assert_eq!(stats["frames"], serde_json::json!([5]), "{stats}");
    assert_eq!(stats["inferred"], 5, "{stats}");
}

/// Configs that are broken in every way DeepStream's own parser lets through: diagnostics,
/// every key accounted for, never a panic.
#[test]
fn broken_configs_are_diagnosed() {
    let dir = temp_dir("broken");
    let cases = [
        "",
        "[",
        "=",
        "key=value\n[",
        "[source0]\ntype=2\nuri=file://\n[sink0]\ntype=1\n",
        "[source0]\ntype=3\nuri=file://a.mp4\nnum-sources=99999999999999999999\n",
        "[source0]\ntype=3\nuri=file://a.mp4\nnum-sources=100000\n[sink0]\ntype=2\n",
        "[source0]\ntype=1\ncamera-width=-5\ncamera-height=x\ncamera-fps-n=30\ncamera-fps-d=0\n[sink0]\ntype=1\n",
        "[source0]\ntype=2\nuri=file://a\"b\\\\c.mp4\n[streammux]\nwidth=-5\nheight=0\nbatched-push-timeout=9223372036854775807\n[sink0]\ntype=3\noutput-file=\"x\".mp4\n",
        "[primary-gie]\nenable=1\nconfig-file=\n[source0]\ntype=2\nuri=file://a.mp4\n",
        "[primary-gie]\nenable=1\nconfig-file=.\n[primary-gie]\ninterval=9223372036854775807\n",
        "[sïnk0]\ntype=é\n[tiled-display]\nrows=99999999\ncolumns=0\n",
        "[nvds-analytics]\nenable=1\nconfig-file=app.txt\n",
        "[tracker]\nenable=1\nll-config-file=;;;\n",
        "[property]\noffsets=a;b\ninfer-dims=1;2\nnet-scale-factor=nan\n[class-attrs-all]\ntopk=-1\n",
        "[line-crossing-stream-0]\nline-crossing-a=1;2;3\nline-crossing-b=9223372036854775807;-9223372036854775808;0;0;1;1;2;2\n[overcrowding-stream-0]\nroi-x=1;2;3\n",
    ];
    for (i, text) in cases.iter().enumerate() {
        let config = dir.join("app.txt");
        std::fs::write(&config, text).expect("config");
        let report = import(&config);
        assert_accounted(&report, &format!("case {i}: {text:?}"));
    }
}

/// The checker's E0305 (labels) lands on `labelfile-path`, E0109 (a missing model) on
/// `onnx-file`, each in the nvinfer file.
#[test]
fn labels_and_missing_models_at_their_keys() {
    let dir = temp_dir("labels");
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(dir.join("three.txt"), "a\nb\nc\n").expect("labels");
    std::fs::write(
        dir.join("cls.txt"),
        format!("[property]\nonnx-file={root}/tests/fixtures/models/cls_dynamic.onnx\nlabelfile-path=three.txt\nnetwork-type=1\n"),
    )
    .expect("nvinfer");
    std::fs::write(
        dir.join("sgie.txt"),
        "[property]\nonnx-file=absent.onnx\nnetwork-type=1\nprocess-mode=2\n",
    )
    .expect("nvinfer");
    let config = dir.join("app.txt");
    std::fs::write(
        &config,
        format!("[source0]\ntype=2\nuri=file://{root}/tests/fixtures/media/h264_640x360_25fps.mp4\n[primary-gie]\nenable=1\nconfig-file=cls.txt\n[secondary-gie0]\nenable=1\nconfig-file=sgie.txt\n[sink0]\ntype=1\n"),
    )
    .expect("app");
    let report = import(&config);
    assert_accounted(&report, "labels");
    assert_eq!(line_of(&report, Code::E0305), [("cls.txt".to_string(), 3)]);
    assert_eq!(line_of(&report, Code::E0109), [("sgie.txt".to_string(), 2)]);
}

/// A key DeepStream does not read is W0603 at its line with the key it probably meant, as
/// help and as a suggestion editors can apply; a misspelt group too.
#[test]
fn a_misspelt_key_gets_did_you_mean() {
    let report = import(&PathBuf::from(FIXTURES).join("test2/dstest2_app.txt"));
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::W0603)
        .expect("W0603");
    assert_eq!(d.suggestion.as_deref(), Some("net-scale-factor"));
    assert_eq!(
        line_of(&report, Code::W0603),
        [("dstest2_pgie_config.txt".to_string(), 12)]
    );
    let report = import(&PathBuf::from(FIXTURES).join("multi/multi_app.txt"));
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::W0603)
        .expect("W0603");
    assert_eq!(d.suggestion.as_deref(), Some("sink0"), "{d:?}");
}

/// A `[tracker]` config alone (deepstream-test2's form) names the `track` call its YAML
/// describes.
#[test]
fn a_tracker_config_alone_names_its_track_call() {
    let dir = temp_dir("tracker");
    std::fs::write(
        dir.join("t.yml"),
        "%YAML:1.0\nTargetManagement:\n  maxShadowTrackingAge: 7\nStateEstimator:\n  stateEstimatorType: 2\n",
    )
    .expect("yaml");
    let config = dir.join("tracker.txt");
    std::fs::write(
        &config,
        "[tracker]\ntracker-width=640\nll-lib-file=/opt/nvidia/deepstream/deepstream/lib/libnvds_nvmultiobjecttracker.so\nll-config-file=t.yml\n",
    )
    .expect("config");
    let report = import(&config);
    assert_accounted(&report, "tracker");
    assert!(
        report.imported.vpl.contains("track(sort, max_age: 7)"),
        "{}",
        report.imported.vpl
    );
    assert!(report.diagnostics.iter().all(|d| !d.is_error()));
}
