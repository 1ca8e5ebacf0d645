//! `vplc deploy k8s PROGRAM --cameras FILE --shards N --image IMAGE [--gpu] -o DIR`: the
//! program checked, its camera list split by [`crate::shard`], then plain manifests built
//! from Kubernetes' own types (`k8s-openapi`) and written as YAML: a ConfigMap with the
//! program and the camera list, a headless Service, a StatefulSet of N pods (pod `NAME-i`
//! runs shard `i/N`), and a `kustomization.yaml` listing them (docs/scale.md). With
//! `--cameras kafka://BROKERS/TOPIC?group=G` the pods join that consumer group instead
//! ([`crate::shard::kafka`]): the ConfigMap holds the program alone, and each pod runs the
//! cameras of the partitions the group gives it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, EnvVarSource, ExecAction,
    ObjectFieldSelector, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SecretKeySelector,
    Service, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use crate::cli::K8sArgs;
use crate::commands::{CANNOT_RUN, FAILED, OK};
use crate::shard::{Shard, counts, overfull};

/// The control API's port in the pods (`--control 0.0.0.0:9000`).
pub const CONTROL_PORT: i32 = 9000;
/// The metrics' port in the pods (`--metrics 0.0.0.0:9100`), scraped by Prometheus.
pub const METRICS_PORT: i32 = 9100;
/// Where the ConfigMap is mounted in the pods.
pub const CONFIG_DIR: &str = "/etc/vpl";
/// The key of the Secret `NAME-control` that holds the control API's token.
pub const TOKEN_KEY: &str = "token";

/// What the manifests are made from.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The name of every object (and the pods' prefix): a DNS label.
    pub name: String,
    /// The program's text, and its file name in the ConfigMap.
    pub program: String,
    pub program_file: String,
    /// Where the pods' cameras come from.
    pub cameras: Cameras,
    /// The pipeline to run, when the file has several.
    pub pipeline: Option<String>,
    pub shards: usize,
    pub image: String,
    pub gpu: bool,
}

/// Where a deployment's cameras come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cameras {
    /// A camera list's text, as given: split by rendezvous hashing, pod `i` runs shard `i/N`.
    List(String),
    /// `kafka://BROKERS/TOPIC?group=G`: every pod is a member of the group.
    Group(String),
}

/// The files of a deployment: (file name, YAML), in the order written.
pub fn manifests(d: &Deployment) -> Result<Vec<(String, String)>, String> {
    let yaml = |what: &str, value: &dyn erased::Yaml| {
        value
            .to_yaml()
            .map_err(|e| format!("cannot write the {what} as YAML: {e}"))
    };
    let files = vec![
        (
            "configmap.yaml".to_string(),
            yaml("ConfigMap", &config_map(d))?,
        ),
        ("service.yaml".to_string(), yaml("Service", &service(d))?),
        (
            "statefulset.yaml".to_string(),
            yaml("StatefulSet", &stateful_set(d))?,
        ),
    ];
    let kustomization = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1".into(),
        kind: "Kustomization".into(),
        resources: files.iter().map(|(name, _)| name.clone()).collect(),
    };
    let mut files = files;
    files.push((
        "kustomization.yaml".to_string(),
        yaml("kustomization", &kustomization)?,
    ));
    Ok(files)
}

/// `kustomization.yaml` (kustomize's own type: not part of Kubernetes' API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: String,
    pub kind: String,
    pub resources: Vec<String>,
}

/// Serialising any of the manifests' types the same way.
mod erased {
    pub trait Yaml {
        fn to_yaml(&self) -> Result<String, serde_saphyr::SerializeError>;
    }

    impl<T: serde::Serialize> Yaml for T {
        fn to_yaml(&self) -> Result<String, serde_saphyr::SerializeError> {
            serde_saphyr::to_string(self)
        }
    }
}

fn labels(d: &Deployment) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), d.name.clone()),
        ("app.kubernetes.io/part-of".to_string(), "vpl".to_string()),
    ])
}

fn meta(d: &Deployment, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        labels: Some(labels(d)),
        ..ObjectMeta::default()
    }
}

/// The program and the camera list, mounted at [`CONFIG_DIR`] in every pod.
pub fn config_map(d: &Deployment) -> ConfigMap {
    ConfigMap {
        metadata: meta(d, format!("{}-config", d.name)),
        data: Some(match &d.cameras {
            Cameras::List(cameras) => BTreeMap::from([
                (d.program_file.clone(), d.program.clone()),
                ("cameras.yaml".to_string(), cameras.clone()),
            ]),
            Cameras::Group(_) => BTreeMap::from([(d.program_file.clone(), d.program.clone())]),
        }),
        ..ConfigMap::default()
    }
}

/// The headless Service the StatefulSet's pods are named under (`NAME-0.NAME`), with the
/// control API and the metrics of each pod.
pub fn service(d: &Deployment) -> Service {
    Service {
        metadata: meta(d, d.name.clone()),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(labels(d)),
            ports: Some(vec![
                ServicePort {
                    name: Some("control".into()),
                    port: CONTROL_PORT,
                    target_port: Some(IntOrString::String("control".into())),
                    ..ServicePort::default()
                },
                ServicePort {
                    name: Some("metrics".into()),
                    port: METRICS_PORT,
                    target_port: Some(IntOrString::String("metrics".into())),
                    ..ServicePort::default()
                },
            ]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The shell line of a pod: with a camera list its shard is its ordinal, the end of its
/// name (`NAME-3` → 3); with a consumer group, the group's URL (quoted: `run` refuses a URL
/// with a quote in it).
pub fn command_line(d: &Deployment) -> String {
    let pipeline = d
        .pipeline
        .as_ref()
        .map(|p| format!(" --pipeline '{p}'"))
        .unwrap_or_default();
    let cameras = match &d.cameras {
        Cameras::List(_) => format!(
            "--cameras {CONFIG_DIR}/cameras.yaml --shard \"${{POD_NAME##*-}}/{}\"",
            d.shards
        ),
        Cameras::Group(url) => format!("--cameras '{url}'"),
    };
    format!(
        "exec vplc run {CONFIG_DIR}/{program}{pipeline} {cameras} \
         --control 0.0.0.0:{CONTROL_PORT} --metrics 0.0.0.0:{METRICS_PORT} --log-format json",
        program = d.program_file,
    )
}

/// A probe of the control API's `path` from inside the pod, with the token (the API asks
/// for it on every route, health included, and a probe's HTTP headers cannot read a
/// Secret): `wget` in the image.
fn health_probe(path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "wget -q -O /dev/null --header \"Authorization: Bearer $VPL_CONTROL_TOKEN\" \
                     http://127.0.0.1:{CONTROL_PORT}{path}"
                ),
            ]),
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// N pods, each running its shard of the cameras.
pub fn stateful_set(d: &Deployment) -> StatefulSet {
    let mut annotations = BTreeMap::new();
    annotations.insert("prometheus.io/scrape".to_string(), "true".to_string());
    annotations.insert("prometheus.io/port".to_string(), METRICS_PORT.to_string());
    annotations.insert("prometheus.io/path".to_string(), "/metrics".to_string());
    let resources = d.gpu.then(|| ResourceRequirements {
        limits: Some(BTreeMap::from([(
            "nvidia.com/gpu".to_string(),
            Quantity("1".into()),
        )])),
        ..ResourceRequirements::default()
    });
    let container = Container {
        name: "vplc".into(),
        image: Some(d.image.clone()),
        command: Some(vec!["sh".into(), "-c".into(), command_line(d)]),
        env: Some(vec![
            EnvVar {
                name: "POD_NAME".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "metadata.name".into(),
                        ..ObjectFieldSelector::default()
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
            EnvVar {
                name: "VPL_CONTROL_TOKEN".into(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: format!("{}-control", d.name),
                        key: TOKEN_KEY.into(),
                        ..SecretKeySelector::default()
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
        ]),
        ports: Some(vec![
            ContainerPort {
                name: Some("control".into()),
                container_port: CONTROL_PORT,
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("metrics".into()),
                container_port: METRICS_PORT,
                ..ContainerPort::default()
            },
        ]),
        readiness_probe: Some(health_probe("/v1/health/ready", 5, 3)),
        liveness_probe: Some(health_probe("/v1/health/live", 10, 3)),
        resources,
        volume_mounts: Some(vec![VolumeMount {
            name: "config".into(),
            mount_path: CONFIG_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    StatefulSet {
        metadata: meta(d, d.name.clone()),
        spec: Some(StatefulSetSpec {
            replicas: Some(d.shards as i32),
            service_name: Some(d.name.clone()),
            // The pods start and stop together: each has its own cameras, none waits on another.
            pod_management_policy: Some("Parallel".into()),
            selector: LabelSelector {
                match_labels: Some(labels(d)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(d)),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(vec![Volume {
                        name: "config".into(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: format!("{}-config", d.name),
                            ..ConfigMapVolumeSource::default()
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// A DNS label (RFC 1123) from a file's stem: lower case, `-` for anything else, at most
/// 40 characters (room for `-config` and a pod's ordinal), `vpl` when nothing is left.
pub fn object_name(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(40);
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "vpl".into() } else { name }
}

/// The shards' camera counts against the pool's `max`: the first shard over it, as an
/// error naming it and its count.
pub fn check_shards(ids: &[String], shards: usize, pool: &str, max: usize) -> Result<(), String> {
    let counts = counts(ids.iter().map(String::as_str), shards);
    match counts.iter().enumerate().find(|(_, c)| **c > max) {
        Some((index, count)) => Err(overfull(
            Shard {
                index,
                count: shards,
            },
            *count,
            pool,
            max,
        )),
        None => Ok(()),
    }
}

/// `vplc deploy k8s`.
pub fn run(args: &K8sArgs) -> u8 {
    if let Some(name) = &args.name
        && object_name(name) != *name
    {
        crate::log::error(format!(
            "vplc: --name `{name}` is not a Kubernetes name: lower-case letters, digits and `-`, at most 40, e.g. `{}`",
            object_name(name)
        ));
        return CANNOT_RUN;
    }
    if args.shards == 0 {
        crate::log::error("vplc: --shards must be at least 1");
        return CANNOT_RUN;
    }
    let (_, c, index) = match crate::commands::compile_one(&args.file, args.pipeline.as_deref()) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    let plan = match c.lower(index) {
        Ok((_, plan)) => plan,
        Err(e) => {
            crate::log::error(format!("vplc: {}: {e:?}", args.file.display()));
            return FAILED;
        }
    };
    let pool = match plan.pools.as_slice() {
        [pool] => pool,
        pools => {
            crate::log::error(format!(
                "vplc: {}: the pipeline `{}` has {} pools; a deployment admits its cameras into one pool: declare it with `pool(max: N) : video<…>`",
                args.file.display(),
                plan.pipeline,
                pools.len()
            ));
            return FAILED;
        }
    };
    let program = match std::fs::read_to_string(&args.file) {
        Ok(program) => program,
        Err(e) => {
            crate::log::error(format!("vplc: cannot read {}: {e}", args.file.display()));
            return CANNOT_RUN;
        }
    };
    let cameras = match list_or_group(args, &pool.name, pool.max) {
        Ok(cameras) => cameras,
        Err((status, message)) => {
            crate::log::error(format!("vplc: {message}"));
            return status;
        }
    };
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let deployment = Deployment {
        name: args.name.clone().unwrap_or_else(|| object_name(&stem)),
        program,
        program_file: "program.vpl".into(),
        cameras,
        pipeline: args.pipeline.clone(),
        shards: args.shards,
        image: args.image.clone(),
        gpu: args.gpu,
    };
    let files = match manifests(&deployment) {
        Ok(files) => files,
        Err(e) => {
            crate::log::error(format!("vplc: {e}"));
            return CANNOT_RUN;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.output) {
        crate::log::error(format!("vplc: cannot make {}: {e}", args.output.display()));
        return CANNOT_RUN;
    }
    for (name, text) in &files {
        let path = args.output.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            crate::log::error(format!("vplc: cannot write {}: {e}", path.display()));
            return CANNOT_RUN;
        }
    }
    OK
}

/// `--cameras`: a consumer group's URL, checked as `vplc run` checks it; or a camera list,
/// read, its ids checked, and split so that no shard overfills the pool. The error is the
/// exit status and what to say.
fn list_or_group(args: &K8sArgs, pool: &str, max: usize) -> Result<Cameras, (u8, String)> {
    let given = args.cameras.to_string_lossy();
    if crate::shard::kafka::is_kafka(&given) {
        given
            .parse::<crate::shard::kafka::Source>()
            .map_err(|e| (CANNOT_RUN, format!("--cameras {e}")))?;
        if given.contains(['\'', '"', '\\', '$', '`']) || given.chars().any(char::is_whitespace) {
            return Err((
                CANNOT_RUN,
                format!(
                    "--cameras `{given}`: a quote, `$`, `\\`, a backquote or a space does not go into a pod's command line"
                ),
            ));
        }
        return Ok(Cameras::Group(given.into_owned()));
    }
    let cameras = std::fs::read_to_string(&args.cameras).map_err(|e| {
        (
            CANNOT_RUN,
            format!("cannot read {}: {e}", args.cameras.display()),
        )
    })?;
    let requests = vpl_compiler::pool::read_streams_file(&args.cameras)
        .map_err(|e| (FAILED, e.to_string()))?;
    let mut ids: Vec<String> = Vec::new();
    for r in &requests {
        if let Some(problem) = vpl_compiler::pool::id_problem(&r.id) {
            return Err((FAILED, format!("{}: {problem}", args.cameras.display())));
        }
        if ids.contains(&r.id) {
            return Err((
                FAILED,
                format!(
                    "{}: the camera id `{}` is listed twice",
                    args.cameras.display(),
                    r.id
                ),
            ));
        }
        ids.push(r.id.clone());
    }
    check_shards(&ids, args.shards, pool, max)
        .map_err(|e| (FAILED, format!("{}: {e}", args.cameras.display())))?;
    Ok(Cameras::List(cameras))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_labels() {
        assert_eq!(object_name("city"), "city");
        assert_eq!(object_name("City Cams_2"), "city-cams-2");
        assert_eq!(object_name("__"), "vpl");
        assert_eq!(object_name(&"a".repeat(60)).len(), 40);
    }

    #[test]
    fn the_first_overfull_shard_is_named_with_its_count() {
        let ids: Vec<String> = (0..12).map(|i| format!("cam-{i}")).collect();
        let counts = crate::shard::counts(ids.iter().map(String::as_str), 3);
        let most = *counts.iter().max().expect("three shards");
        assert_eq!(check_shards(&ids, 3, "cams", most), Ok(()));
        let first = counts.iter().position(|c| *c == most).expect("the largest");
        let e = check_shards(&ids, 3, "cams", most - 1).expect_err("overfull");
        assert!(
            e.starts_with(&format!("shard {first}/3 gets {most} cameras"))
                && e.contains(&format!("`cams` holds (max: {})", most - 1)),
            "{e}"
        );
    }
}
