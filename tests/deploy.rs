//! `vplc deploy k8s` (the manifests: snapshots, read back as Kubernetes' types and their
//! fields checked; a shard overfilling its pool) and `vplc run --cameras --shard` (the flags
//! refused with exit 2 and a reason). The camera fixture is tests/fixtures/deploy/. Every
//! file written passes `kubernetes-validate --strict` (PyPI, offline schemas; installed into
//! .venv by scripts/setup.sh) against the Kubernetes version `k8s-openapi` is built for.

mod common;

use common::{root, temp_dir, vplc};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Probe, Service};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use vplc::deploy::k8s::Kustomization;

const PROGRAM: &str = "tests/fixtures/deploy/city.vpl";
const CAMERAS: &str = "tests/fixtures/deploy/cameras.yaml";

/// `vplc deploy k8s PROGRAM --cameras CAMERAS --shards N --image … [extra] -o DIR`: the
/// files written, by name.
fn deploy(name: &str, shards: usize, extra: &[&str]) -> BTreeMap<String, String> {
    deploy_to(&temp_dir(name).join("k8s"), shards, extra)
}

/// As [`deploy`], into `out`.
fn deploy_to(out: &Path, shards: usize, extra: &[&str]) -> BTreeMap<String, String> {
    let shards = shards.to_string();
    let mut args = vec![
        "deploy",
        "k8s",
        PROGRAM,
        "--cameras",
        CAMERAS,
        "--shards",
        &shards,
        "--image",
        "registry.example/vpl:0.1",
        "-o",
    ];
    let out_text = out.display().to_string();
    args.push(&out_text);
    args.extend(extra);
    let output = vplc(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_dir(out)
        .expect("the folder is written")
        .map(|e| {
            let path = e.expect("an entry").path();
            (
                path.file_name()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read_to_string(&path).expect("readable"),
            )
        })
        .collect()
}

fn container(set: &StatefulSet) -> &Container {
    &set.spec
        .as_ref()
        .expect("a spec")
        .template
        .spec
        .as_ref()
        .expect("a pod spec")
        .containers[0]
}

/// The URL path a probe asks for (its `wget` line).
fn probe_line(probe: &Option<Probe>) -> String {
    probe
        .as_ref()
        .and_then(|p| p.exec.as_ref())
        .and_then(|e| e.command.as_ref())
        .map(|c| c.join(" "))
        .unwrap_or_default()
}

#[test]
fn k8s_manifests_are_kubernetes_objects_with_the_shards_of_the_cameras() {
    let files = deploy("deploy-k8s", 3, &[]);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "configmap.yaml",
            "kustomization.yaml",
            "service.yaml",
            "statefulset.yaml"
        ]
    );
    for (name, text) in &files {
        insta::assert_snapshot!(format!("k8s_{name}"), text);
    }

    let kustomization: Kustomization =
        serde_saphyr::from_str(&files["kustomization.yaml"]).expect("a kustomization");
    assert_eq!(
        kustomization.resources,
        ["configmap.yaml", "service.yaml", "statefulset.yaml"]
    );

    let config: ConfigMap = serde_saphyr::from_str(&files["configmap.yaml"]).expect("a ConfigMap");
    let data = config.data.expect("data");
    let fixture = |p: &str| std::fs::read_to_string(root().join(p)).expect("fixture");
    assert_eq!(data["program.vpl"], fixture(PROGRAM));
    assert_eq!(data["cameras.yaml"], fixture(CAMERAS));

    let service: Service = serde_saphyr::from_str(&files["service.yaml"]).expect("a Service");
    let spec = service.spec.expect("a spec");
    assert_eq!(spec.cluster_ip.as_deref(), Some("None"), "headless");

    let set: StatefulSet =
        serde_saphyr::from_str(&files["statefulset.yaml"]).expect("a StatefulSet");
    let spec = set.spec.as_ref().expect("a spec");
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(spec.service_name.as_deref(), Some("city"));
    let annotations = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.clone())
        .expect("annotations");
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], "9100");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let c = container(&set);
    assert_eq!(c.image.as_deref(), Some("registry.example/vpl:0.1"));
    let command = c.command.clone().expect("a command").join(" ");
    assert!(
        command.contains("--shard \"${POD_NAME##*-}/3\"")
            && command.contains("--cameras /etc/vpl/cameras.yaml")
            && command.contains("--control 0.0.0.0:9000"),
        "{command}"
    );
    assert!(probe_line(&c.readiness_probe).contains("/v1/health/ready"));
    assert!(probe_line(&c.liveness_probe).contains("/v1/health/live"));
    let env: Vec<&str> = c
        .env
        .as_ref()
        .expect("env")
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(env, ["POD_NAME", "VPL_CONTROL_TOKEN"]);
    assert!(c.resources.is_none(), "no GPU asked for");
}

/// The Kubernetes version the manifests are validated against: the API `k8s-openapi` is
/// built with (Cargo.toml's `v1_34`), so the types and the schemas agree.
const KUBERNETES: &str = "1.34.0";

/// `kubernetes-validate --strict -k KUBERNETES FILES…` from .venv: (exit status, its
/// output). Strict: a field the schema does not have is an error, not ignored.
fn kubernetes_validate(files: &[std::path::PathBuf]) -> (Option<i32>, String) {
    let tool = root().join(".venv/bin/kubernetes-validate");
    let out = Command::new(&tool)
        .args(["--strict", "-k", KUBERNETES])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} runs (scripts/setup.sh installs it from scripts/requirements.txt): {e}",
                tool.display()
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Every Kubernetes object `vplc deploy k8s` writes, with and without `--gpu`, passes
/// `kubernetes-validate --strict` for the pinned version; the kustomization (kustomize's,
/// which the validator has no schema for) lists exactly the other files written. A copy of
/// the StatefulSet with a field Kubernetes does not have fails, so the validator is
/// really checking.
#[test]
fn every_manifest_passes_kubernetes_validate_strict() {
    let dir = temp_dir("deploy-validate");
    for (name, extra) in [("cpu", &[][..]), ("gpu", &["--gpu"][..])] {
        let out = dir.join(name);
        let files = deploy_to(&out, 3, extra);
        let objects: Vec<String> = files
            .keys()
            .filter(|f| *f != "kustomization.yaml")
            .cloned()
            .collect();
        let kustomization: Kustomization =
            serde_saphyr::from_str(&files["kustomization.yaml"]).expect("a kustomization");
        assert_eq!(kustomization.api_version, "kustomize.config.k8s.io/v1beta1");
        assert_eq!(kustomization.kind, "Kustomization");
        let mut listed = kustomization.resources.clone();
        listed.sort();
        assert_eq!(
            listed, objects,
            "{name}: the kustomization lists every object"
        );
        let paths: Vec<std::path::PathBuf> = objects.iter().map(|f| out.join(f)).collect();
        let (code, said) = kubernetes_validate(&paths);
        assert_eq!(code, Some(0), "{name}: {said}");
        for file in &objects {
            assert!(
                said.lines()
                    .any(|l| l.contains(file.as_str()) && l.contains("passed")),
                "{name}: {file} was validated: {said}"
            );
        }
    }
    // The same StatefulSet with one field too many in its container is refused.
    let set = std::fs::read_to_string(dir.join("cpu/statefulset.yaml")).expect("written");
    let image = set
        .lines()
        .find(|l| l.trim_start().starts_with("image: "))
        .expect("the container's image");
    let indent = &image[..image.len() - image.trim_start().len()];
    let bad = set.replacen(image, &format!("{indent}imageNmae: x\n{image}"), 1);
    let bad_file = dir.join("bad-statefulset.yaml");
    std::fs::write(&bad_file, bad).expect("written");
    let (code, said) = kubernetes_validate(&[bad_file]);
    assert_ne!(code, Some(0), "{said}");
    assert!(said.contains("imageNmae"), "{said}");
}

#[test]
fn gpu_pods_ask_for_one_nvidia_gpu() {
    let files = deploy("deploy-k8s-gpu", 2, &["--gpu"]);
    let set: StatefulSet =
        serde_saphyr::from_str(&files["statefulset.yaml"]).expect("a StatefulSet");
    assert_eq!(set.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let limits = container(&set)
        .resources
        .as_ref()
        .and_then(|r| r.limits.clone())
        .expect("limits");
    assert_eq!(limits.len(), 1);
    assert_eq!(limits["nvidia.com/gpu"].0, "1");
}

/// Six cameras on shards of a pool of 2: the hash's most loaded shard is named with its
/// count, exit 1, nothing written.
#[test]
fn a_shard_with_more_cameras_than_the_pool_holds_is_refused() {
    let dir = temp_dir("deploy-overfull");
    let program = dir.join("small.vpl");
    std::fs::write(
        &program,
        "pipeline small {\n    pool(max: 2) : video<h264, 1280x720, 25fps> | decode | json | stdout;\n}\n",
    )
    .expect("program written");
    let cameras = root().join(CAMERAS);
    let ids = [
        "gate-north",
        "gate-south",
        "lobby",
        "platform-1",
        "platform-2",
        "car-park",
    ];
    // Two shards: at least one holds three of the six.
    let counts = vplc::shard::counts(ids.iter().copied(), 2);
    let (shard, most) = counts
        .iter()
        .enumerate()
        .find(|(_, c)| **c > 2)
        .expect("an overfull shard");
    let out = dir.join("k8s");
    let output = vplc(&[
        "deploy",
        "k8s",
        &program.display().to_string(),
        "--cameras",
        &cameras.display().to_string(),
        "--shards",
        "2",
        "--image",
        "vpl",
        "-o",
        &out.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("shard {shard}/2 gets {most} cameras"))
            && stderr.contains("max: 2"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_program_with_errors_is_not_deployed() {
    let dir = temp_dir("deploy-errors");
    let program = dir.join("bad.vpl");
    std::fs::write(&program, "pipeline bad {\n    nosuch() | stdout;\n}\n").expect("written");
    let output = vplc(&[
        "deploy",
        "k8s",
        &program.display().to_string(),
        "--cameras",
        &root().join(CAMERAS).display().to_string(),
        "--shards",
        "2",
        "--image",
        "vpl",
        "-o",
        &dir.join("k8s").display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!dir.join("k8s").exists());
}

/// `--shard` is `I/N` with `0 ≤ I < N`, and comes with `--cameras`: anything else is exit 2
/// with the reason, before anything runs.
#[test]
fn bad_shard_flags_exit_2_with_the_reason() {
    let cameras = root().join(CAMERAS).display().to_string();
    let program = root().join(PROGRAM).display().to_string();
    for (shard, said) in [
        ("3/3", "numbered 0 to 2"),
        ("0/0", "at least 1"),
        ("one/3", "not a whole number"),
        ("2", "write `I/N`"),
    ] {
        let output = vplc(&["run", &program, "--cameras", &cameras, "--shard", shard]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{shard}: {stderr}");
        assert!(stderr.contains(said), "{shard}: {stderr}");
    }
    let output = vplc(&["run", &program, "--shard", "0/3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--cameras"));
}

/// `--cameras` admits into the program's pool: a program without one is exit 2, said.
#[test]
fn cameras_need_a_pool() {
    let dir = temp_dir("cameras-no-pool");
    let program = dir.join("plain.vpl");
    std::fs::write(
        &program,
        "pipeline plain {\n    test(frames: 1) | json | discard;\n}\n",
    )
    .expect("written");
    let cameras = root().join(CAMERAS).display().to_string();
    let output = vplc(&[
        "run",
        "--quiet",
        &program.display().to_string(),
        "--cameras",
        &cameras,
        "--shard",
        "1/3",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("has none") && stderr.contains("pool(max"),
        "{stderr}"
    );
}

/// `--shard I/N` marks every records element of the plan with `shard = I` (each record then
/// says `"shard": I`: the runtime's records tests).
#[test]
fn a_shards_records_carry_its_index() {
    let path = root().join(PROGRAM);
    let text = std::fs::read_to_string(&path).expect("the fixture");
    let mut sources = vpl_compiler::SourceMap::default();
    let host = vplc::host::FsHost::with_cache_file(None);
    let c = vpl_compiler::compile(&mut sources, PROGRAM, &path, &text, &host);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let (_, mut plan) = c.lower(0).expect("lowers");
    vplc::shard::mark_records(&mut plan, "1/3".parse().expect("a shard"));
    let records: Vec<&vpl_compiler::plan::Element> = plan
        .elements
        .iter()
        .filter(|e| e.factory == "vplrecords")
        .collect();
    assert_eq!(records.len(), 4, "one a slot of the pool");
    for e in records {
        assert!(
            e.props
                .contains(&("shard".to_string(), vpl_compiler::plan::Prop::Int(1))),
            "{:?}",
            e.props
        );
    }
}

/// `vplc deploy k8s PROGRAM --cameras kafka://… --shards 3`: every pod joins the consumer
/// group (no `--shard`, no camera list in the ConfigMap); a URL `vplc run` would refuse is
/// refused here, exit 2, before anything is written.
#[test]
fn a_consumer_group_deployment_runs_every_pod_in_the_group() {
    let dir = temp_dir("deploy-group");
    let out = dir.join("k8s");
    let url =
        "kafka://kafka-0.kafka:9092,kafka-1.kafka:9092/city.cameras?group=city&session_timeout=10s";
    let deploy_with = |cameras: &str, out: &std::path::Path| {
        vplc(&[
            "deploy",
            "k8s",
            PROGRAM,
            "--cameras",
            cameras,
            "--shards",
            "3",
            "--image",
            "registry.example/vpl:0.1",
            "-o",
            &out.display().to_string(),
        ])
    };
    let output = deploy_with(url, &out);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect("written");
    let config: ConfigMap = serde_saphyr::from_str(&read("configmap.yaml")).expect("a ConfigMap");
    let data = config.data.expect("data");
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["program.vpl"]
    );
    let set: StatefulSet =
        serde_saphyr::from_str(&read("statefulset.yaml")).expect("a StatefulSet");
    assert_eq!(set.spec.as_ref().expect("a spec").replicas, Some(3));
    let command = container(&set).command.clone().expect("a command");
    assert_eq!(command[..2], ["sh", "-c"]);
    assert!(
        command[2].contains(&format!("--cameras '{url}'")) && !command[2].contains("--shard"),
        "{command:?}"
    );
    let kustomization: Kustomization =
        serde_saphyr::from_str(&read("kustomization.yaml")).expect("a kustomization");
    assert_eq!(
        kustomization.resources,
        ["configmap.yaml", "service.yaml", "statefulset.yaml"]
    );

    for (bad, why) in [
        ("kafka://broker:9092/cameras", "group"),
        ("kafka://broker:9092/cameras?group=a'b", "quote"),
        (
            "kafka://user:secret@broker:9092/cameras?group=g",
            "VPL_KAFKA_USERNAME",
        ),
    ] {
        let out = dir.join("refused");
        let output = deploy_with(bad, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(why), "{bad}: {stderr}");
        assert!(
            !stderr.contains("secret"),
            "the password is never said: {stderr}"
        );
        assert!(!out.exists(), "{bad}: nothing written");
    }
}
