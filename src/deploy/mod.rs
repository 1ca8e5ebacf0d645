//! `vplc deploy`: a checked program and its camera list → the files that run it on a
//! cluster. `k8s.rs`: Kubernetes manifests, one StatefulSet pod a shard.

pub mod k8s;

use crate::cli::{DeployArgs, DeployTarget};

/// `vplc deploy …`: the exit status (0 written; 1 the program or the camera list is wrong;
/// 2 an input or the output folder cannot be used).
pub fn deploy(args: &DeployArgs) -> u8 {
    match &args.target {
        DeployTarget::K8s(k8s) => k8s::run(k8s),
    }
}
