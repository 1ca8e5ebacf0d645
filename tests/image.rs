//! `scripts/image.sh`: the OCI image of vplc, built here with buildah from a Debian root file
//! system (no base image), runs `vplc check` of examples/people.vpl inside (through
//! `buildah run --isolation chroot`: `podman run` cannot start containers on this machine,
//! docs/scale.md) with the host's answers, and runs the StatefulSet of `vplc deploy k8s` as
//! a pod would: its command, its environment, its ConfigMap at its mount path, its probes.
//! A model runs inside on the ONNX Runtime the image carries.
//! Needs buildah and mmdebstrap (scripts/setup.sh installs them) and root.

mod common;

use common::{root, temp_dir, vplc};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Probe};
use std::path::Path;
use std::process::{Command, Output};
use vplc::deploy::k8s::{CONFIG_DIR, CONTROL_PORT, METRICS_PORT};

/// What the test made, removed however it ends: its working container, then its image.
/// Only these names, never another test's or a user's.
struct Made {
    image: String,
    container: String,
}

impl Drop for Made {
    fn drop(&mut self) {
        let _ = Command::new("buildah")
            .args(["rm", &self.container])
            .output();
        let _ = Command::new("buildah")
            .args(["rmi", "-f", &self.image])
            .output();
    }
}

fn buildah(args: &[&str]) -> Output {
    Command::new("buildah")
        .args(args)
        .output()
        .expect("buildah runs")
}

fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The tools, or a failure that says how to get them (never a skip).
fn tools_present() {
    for tool in ["buildah", "mmdebstrap"] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is missing: run scripts/setup.sh (it installs buildah and mmdebstrap)"
        );
    }
}

/// `buildah run --isolation chroot` in the working container, with `env`.
fn inside(made: &Made, env: &[(&str, &str)], workdir: &str, command: &[&str]) -> Output {
    let mut args = vec!["run", "--isolation", "chroot", "--workingdir", workdir];
    let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    for pair in &pairs {
        args.extend(["--env", pair]);
    }
    args.push(&made.container);
    args.push("--");
    args.extend(command);
    buildah(&args)
}

fn copy_in(made: &Made, from: &Path, to: &str) {
    let from = from.display().to_string();
    ok(
        &format!("buildah copy {from}"),
        &buildah(&["copy", "--quiet", &made.container, &from, to]),
    );
}

#[test]
fn the_image_checks_and_runs_a_deployment_as_its_pods_would() {
    tools_present();
    let work = temp_dir("image");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock")
        .subsec_nanos();
    let name = format!("vpl-test-image-{}-{nanos}", std::process::id());
    let made = Made {
        image: format!("localhost/{name}:test"),
        container: name,
    };
    build(&made, &work);
    ok(
        "buildah from",
        &buildah(&["from", "--quiet", "--name", &made.container, &made.image]),
    );
    let version = inside(&made, &[], "/", &["vplc", "--version"]);
    assert_eq!(
        ok("vplc --version", &version),
        ok("", &vplc(&["--version"]))
    );

    checks_as_here(&made);
    runs_a_model(&made, &work);
    run_like_a_pod(&made, &work);
    let _ = std::fs::remove_dir_all(&work);
}

/// `scripts/image.sh` with the tests' vplc and an OCI archive; the archive's name for the
/// image and the image's configuration.
fn build(made: &Made, work: &Path) {
    let archive = work.join("vpl-image.tar");
    let onnxruntime = std::fs::read_to_string(root().join("assets/onnxruntime.path"))
        .expect("assets/onnxruntime.path: run scripts/setup.sh");
    let built = Command::new("bash")
        .arg(root().join("scripts/image.sh"))
        .args(["--vplc", env!("CARGO_BIN_EXE_vplc"), "-t", &made.image])
        .args(["--onnxruntime", onnxruntime.trim(), "-o"])
        .arg(&archive)
        .current_dir(work)
        .output()
        .expect("image.sh runs");
    let said = ok("scripts/image.sh", &built);
    assert!(said.contains(&made.image), "{said}");

    // The OCI archive names the image (what `kind load image-archive` and `ctr import` read).
    let index = Command::new("tar")
        .arg("xOf")
        .arg(&archive)
        .arg("index.json")
        .output()
        .expect("tar");
    let index: serde_json::Value =
        serde_json::from_str(&ok("tar index.json", &index)).expect("index.json is JSON");
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        made.image.as_str(),
        "{index}"
    );
    std::fs::remove_file(&archive).expect("the archive is not needed any more");

    // Its configuration: vplc as the entrypoint, the deployment's ports.
    let config = ok(
        "buildah inspect",
        &buildah(&["inspect", "--type", "image", &made.image]),
    );
    let config: serde_json::Value = serde_json::from_str(&config).expect("inspect is JSON");
    let oci = &config["OCIv1"]["config"];
    assert_eq!(oci["Entrypoint"], serde_json::json!(["/opt/vpl/vplc"]));
    for port in [CONTROL_PORT, METRICS_PORT] {
        assert!(
            oci["ExposedPorts"].get(format!("{port}/tcp")).is_some(),
            "{oci}"
        );
    }
}

/// `vplc check --types` of examples/people.vpl in the image.
fn checks_as_here(made: &Made) {
    // `vplc check --types` inside answers as on the host: the media probed by the bundle's
    // GStreamer, the model read, from the same relative paths.
    copy_in(made, &root().join("examples/people.vpl"), "/work/examples/");
    for asset in [
        "assets/models/person_yolov8s.onnx",
        "assets/media/vtest.avi",
    ] {
        let dir = Path::new(asset).parent().expect("a folder");
        copy_in(
            made,
            &root().join(asset),
            &format!("/work/{}/", dir.display()),
        );
    }
    let args = ["vplc", "check", "--types", "examples/people.vpl"];
    let there = ok("vplc check inside", &inside(made, &[], "/work", &args));
    let here = ok("vplc check here", &vplc(&args[1..]));
    assert_eq!(there, here);
    assert!(
        there.contains("cam: video<msmpeg4, 768x576, 10fps>")
            && there.contains("objects[person, fallen] + tracks"),
        "{there}"
    );
}

/// `vplc run` of the person model in the image.
fn runs_a_model(made: &Made, work: &Path) {
    // A model runs inside, on the image's ONNX Runtime: the records of vtest.avi's first
    // frames are the host's (the same library and model), to rounding.
    let detect = |assets: &str| {
        format!(
            "model people = onnx(\"{assets}/models/person_yolov8s.onnx\", labels: [\"person\", \"fallen\"], decoder: yolov8());\n\
             pipeline p {{\n    file(\"{assets}/media/vtest.avi\") | decode | infer(people) | json | stdout;\n}}\n"
        )
    };
    let program = work.join("detect.vpl");
    std::fs::write(&program, detect("/work/assets")).expect("write");
    copy_in(made, &program, "/work/");
    let args = ["vplc", "run", "--quiet", "--max-frames", "2", "detect.vpl"];
    let there = ok("vplc run inside", &inside(made, &[], "/work", &args));
    std::fs::write(
        &program,
        detect(&root().join("assets").display().to_string()),
    )
    .expect("write");
    let path = program.display().to_string();
    let here = ok(
        "vplc run here",
        &vplc(&["run", "--quiet", "--max-frames", "2", &path]),
    );
    let records = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON record"))
            .collect()
    };
    let (there, here) = (records(&there), records(&here));
    assert_eq!(there.len(), 2, "{there:?}");
    assert!(
        there
            .iter()
            .any(|r| r["objects"].as_array().is_some_and(|o| !o.is_empty())),
        "people found: {there:?}"
    );
    assert!(
        near(&serde_json::json!(there), &serde_json::json!(here)),
        "{there:?}\n{here:?}"
    );
}

/// Equal JSON, numbers within a thousandth (of themselves, when above 1).
fn near(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-3 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| near(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| near(v, w)))
        }
        _ => a == b,
    }
}

/// The StatefulSet's container of `vplc deploy k8s`, with the image's tag.
fn deployment(made: &Made, work: &Path) -> (ConfigMap, Container) {
    std::fs::write(
        work.join("site.vpl"),
        "pipeline site {\n    let cams = pool(max: 3) : video<h264, 640x360, 25fps>;\n    cams | decode | discard;\n}\n",
    )
    .expect("write");
    let cameras: String = CAMERAS
        .iter()
        .map(|id| format!("- id: {id}\n  url: file:///media/clip.mp4\n  params:\n    loop: true\n"))
        .collect();
    std::fs::write(work.join("cameras.yaml"), cameras).expect("write");
    let (program, cameras, k8s) = (
        work.join("site.vpl").display().to_string(),
        work.join("cameras.yaml").display().to_string(),
        work.join("k8s").display().to_string(),
    );
    let args = [
        "deploy",
        "k8s",
        &program,
        "--cameras",
        &cameras,
        "--shards",
        "2",
        "--image",
        &made.image,
        "-o",
        &k8s,
    ];
    ok("vplc deploy k8s", &vplc(&args));
    let read = |f: &str| std::fs::read_to_string(work.join("k8s").join(f)).expect("written");
    let config: ConfigMap = serde_saphyr::from_str(&read("configmap.yaml")).expect("a ConfigMap");
    let set: StatefulSet =
        serde_saphyr::from_str(&read("statefulset.yaml")).expect("a StatefulSet");
    let pod = set.spec.expect("a spec").template.spec.expect("a pod spec");
    let container = pod.containers.into_iter().next().expect("a container");
    assert_eq!(container.image.as_deref(), Some(made.image.as_str()));
    (config, container)
}

const CAMERAS: [&str; 5] = ["yard", "gate", "dock", "lobby", "roof"];

/// A probe's shell line.
fn probe_line(probe: &Option<Probe>) -> String {
    let command = probe
        .as_ref()
        .and_then(|p| p.exec.as_ref())
        .and_then(|e| e.command.clone())
        .expect("an exec probe");
    assert_eq!(command[..2], ["sh", "-c"]);
    command[2].clone()
}

/// Pod `site-1` in the working container: the ConfigMap at its mount path, the command and
/// environment of the manifest (the token, `POD_NAME`), ready and live by the probes'
/// own `wget` lines, the streams of shard 1/2 and no other, and SIGTERM ending the run
/// with its outputs finished. buildah's chroot shares the host's network, so the control
/// and metrics ports become free ones here (the image's exposed ports are checked above).
fn run_like_a_pod(made: &Made, work: &Path) {
    let (config, container) = deployment(made, work);
    let mount = &container.volume_mounts.as_ref().expect("mounts")[0];
    assert_eq!(mount.mount_path, CONFIG_DIR);
    let files = work.join("config");
    std::fs::create_dir_all(&files).expect("mkdir");
    for (file, text) in config.data.expect("data") {
        std::fs::write(files.join(file), text).expect("write");
    }
    copy_in(made, &files, CONFIG_DIR);
    copy_in(
        made,
        &root().join("tests/fixtures/media/h264_640x360_25fps.mp4"),
        "/media/clip.mp4",
    );

    let (control, metrics) = (free_port(), free_port());
    let ports = |line: &str| {
        line.replace(&format!(":{CONTROL_PORT}"), &format!(":{control}"))
            .replace(&format!(":{METRICS_PORT}"), &format!(":{metrics}"))
    };
    let command = container.command.clone().expect("a command");
    assert_eq!(command[..2], ["sh", "-c"]);
    let run = ports(&command[2]);
    let ready = ports(&probe_line(&container.readiness_probe));
    let live = ports(&probe_line(&container.liveness_probe));
    let streams = format!(
        "wget -q -O - --header \"Authorization: Bearer $VPL_CONTROL_TOKEN\" http://127.0.0.1:{control}/v1/streams"
    );
    let scrape = format!("wget -q -O - http://127.0.0.1:{metrics}/metrics");
    let out = inside(
        made,
        &[
            ("POD_NAME", "site-1"),
            ("VPL_CONTROL_TOKEN", "a-test-token"),
            ("RUN", &run),
            ("READY", &ready),
            ("LIVE", &live),
            ("STREAMS", &streams),
            ("SCRAPE", &scrape),
        ],
        "/",
        &["sh", "-c", POD_SCRIPT],
    );
    let said = ok("the pod", &out);
    let section = |name: &str| {
        said.split(&format!("=== {name}\n"))
            .nth(1)
            .and_then(|s| s.split("\n===").next())
            .unwrap_or_else(|| panic!("no {name} in {said}"))
            .to_string()
    };
    assert_eq!(section("ready"), "0", "{said}");
    assert_eq!(section("live"), "0", "{said}");
    let listed: serde_json::Value =
        serde_json::from_str(&section("streams")).expect("/v1/streams is JSON");
    let mut ids: Vec<String> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect();
    ids.sort();
    let mut expected: Vec<String> = CAMERAS
        .iter()
        .filter(|id| vplc::shard::shard_of(id, 2) == 1)
        .map(|id| id.to_string())
        .collect();
    expected.sort();
    assert!(!expected.is_empty(), "shard 1/2 has cameras");
    assert_eq!(ids, expected, "{said}");
    assert!(section("metrics").contains("vpl_frames_total"), "{said}");
    // SIGTERM: the run ends as Ctrl-C ends it, outputs finished (exit 130).
    assert_eq!(section("exit"), "130", "{said}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound")
        .port()
}

/// The pod: the command in the background; the readiness probe until it passes (bounded:
/// 60 s), the liveness probe once, the streams and the metrics; then SIGTERM, and the
/// exit status (a run still there after 30 s more is killed, and says so).
const POD_SCRIPT: &str = r#"
alive() { s=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ]; }
sh -c "$RUN" &
pid=$!
i=0
until sh -c "$READY"; do
  i=$((i + 1))
  if [ $i -ge 600 ] || ! alive $pid; then break; fi
  sleep 0.1
done
sh -c "$READY"; printf '=== ready\n%s\n' $?
sh -c "$LIVE"; printf '=== live\n%s\n' $?
printf '=== streams\n%s\n' "$(sh -c "$STREAMS")"
printf '=== metrics\n%s\n' "$(sh -c "$SCRAPE")"
kill -TERM $pid
i=0
while alive $pid && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
if alive $pid; then kill -KILL $pid; echo 'killed: SIGTERM did not end the run'; fi
wait $pid
printf '=== exit\n%s\n===\n' $?
"#;

/// Without buildah or mmdebstrap on `PATH`, image.sh stops before doing anything and says
/// the `apt-get` line; an unknown argument is exit 2.
#[test]
fn image_sh_says_what_is_missing() {
    let bin = temp_dir("image-path");
    std::os::unix::fs::symlink("/usr/bin/dirname", bin.join("dirname")).expect("a link");
    let script = root().join("scripts/image.sh");
    let run = |args: &[&str]| {
        Command::new("/bin/bash")
            .arg(&script)
            .args(args)
            .env("PATH", &bin)
            .output()
            .expect("bash runs")
    };
    let out = run(&["--vplc", env!("CARGO_BIN_EXE_vplc")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("buildah is not installed")
            && stderr.contains("apt-get install -y --no-install-recommends buildah mmdebstrap"),
        "{stderr}"
    );
    let out = run(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument --frobnicate"));
    let _ = std::fs::remove_dir_all(&bin);
}
