#!/usr/bin/env bash
# Builds an OCI image of vplc with buildah, from no base image: a minimal Debian root file
# system made by mmdebstrap from Debian's packages (minbase, ca-certificates, and wget for
# the health probes of `vplc deploy k8s`), and scripts/bundle.sh's bundle at /opt/vpl.
# The entrypoint is /opt/vpl/vplc and /opt/vpl is first on PATH, so both
# `podman run IMAGE check FILE.vpl` and the StatefulSet's `sh -c "exec vplc run …"` work.
# docs/scale.md ("The image") describes it.
#
#   scripts/image.sh [--vplc target/release/vplc] [-t localhost/vpl:VERSION] [-o vpl-image.tar]
#                    [--onnxruntime PATH|none]
#   -o writes an OCI archive too (for `kind load image-archive`, `ctr import`, `skopeo copy`).
#   --onnxruntime: the libonnxruntime.so.* the image's models run on, at /opt/onnxruntime
#   (VPL_ONNXRUNTIME); by default the one scripts/setup.sh found (assets/onnxruntime.path).
#   VPL_DEBIAN_MIRROR picks the mirror (default http://deb.debian.org/debian).
#
# Needs root (or a user set up for rootless buildah) and:
#   apt-get install -y --no-install-recommends buildah mmdebstrap
# The root file system is cached in target/image/, keyed by its package list and options.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vplc=$ROOT/target/release/vplc
tag=
out=
ort=default
while [ $# -gt 0 ]; do
  case $1 in
    --vplc) vplc=$2; shift 2 ;;
    -t|--tag) tag=$2; shift 2 ;;
    -o|--output) out=$2; shift 2 ;;
    --onnxruntime) ort=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "image.sh: $*" >&2; exit 1; }
[ -x "$vplc" ] || die "no $vplc: build vplc first (cargo build --release --locked) or name one with --vplc"
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null ||
    die "$tool is not installed: apt-get install -y --no-install-recommends buildah mmdebstrap (or run scripts/setup.sh)"
done
if [ "$ort" = default ]; then
  ort=$(cat "$ROOT/assets/onnxruntime.path" 2>/dev/null || echo none)
  [ -f "$ort" ] || ort=none
fi
[ "$ort" = none ] || [ -f "$ort" ] || die "--onnxruntime $ort: no such file (a libonnxruntime.so.*, or none)"
version=$("$vplc" --version | awk '{print $2}')
[ -n "$version" ] || die "$vplc --version printed no version"
tag=${tag:-localhost/vpl:$version}
case $out in ''|/*) ;; *) out=$PWD/$out ;; esac

# ---------------------------------------------------------------- the root file system
suite=bookworm
mirror=${VPL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=ca-certificates,wget
# Documentation, manual pages and translations are left out (the copyright files stay).
debstrap_opts=(--variant=minbase --include="$packages"
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*')
key=$(printf '%s\n' "$suite" "${debstrap_opts[@]}" | sha256sum | cut -c1-12)
cache=$ROOT/target/image
rootfs=$cache/rootfs-$suite-$key.tar
mkdir -p "$cache"
if [ -s "$rootfs" ]; then
  echo "image.sh: root file system from the cache: ${rootfs#"$ROOT"/}"
else
  echo "image.sh: making the root file system ($suite minbase + $packages) from $mirror"
  # mmdebstrap picks the format from the name: the partial file must end in .tar too.
  part=$cache/rootfs-$suite-$key.part$$.tar
  trap 'rm -rf "$part"' EXIT
  mmdebstrap --quiet "${debstrap_opts[@]}" "$suite" "$part" "$mirror" ||
    die "mmdebstrap could not make the root file system from $mirror (check the network, or set VPL_DEBIAN_MIRROR)"
  mv -f "$part" "$rootfs"
  trap - EXIT
fi

# ---------------------------------------------------------------- the bundle
work=$(mktemp -d "${TMPDIR:-/tmp}/vpl-image.XXXXXX")
ctr=
cleanup() {
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
VPL_BUNDLE_GZIP=${VPL_BUNDLE_GZIP:-1} bash "$ROOT/scripts/bundle.sh" --vplc "$vplc" -o "$work/vpl-bundle.tar.gz"
tar xzf "$work/vpl-bundle.tar.gz" -C "$work"
rm -f "$work/vpl-bundle.tar.gz"

# ---------------------------------------------------------------- the image
ctr=$(buildah from --quiet scratch)
buildah add --quiet "$ctr" "$rootfs" / >/dev/null
buildah copy --quiet "$ctr" "$work/vpl-bundle" /opt/vpl >/dev/null
ort_env=()
if [ "$ort" != none ]; then
  # The library, and the providers' shared part beside it (ONNX Runtime loads it by name).
  mkdir -p "$work/onnxruntime"
  cp -L "$ort" "$work/onnxruntime/"
  shared=$(dirname "$ort")/libonnxruntime_providers_shared.so
  [ -f "$shared" ] && cp -L "$shared" "$work/onnxruntime/"
  buildah copy --quiet "$ctr" "$work/onnxruntime" /opt/onnxruntime >/dev/null
  ort_env=(--env "VPL_ONNXRUNTIME=/opt/onnxruntime/$(basename "$ort")")
fi
path=/opt/vpl:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
buildah config \
  --entrypoint '["/opt/vpl/vplc"]' --cmd '["--help"]' \
  --env PATH=$path --env XDG_CACHE_HOME=/var/cache --env LANG=C.UTF-8 "${ort_env[@]}" \
  --workingdir / --port 9000/tcp --port 9100/tcp \
  --label org.opencontainers.image.title=vpl \
  --label org.opencontainers.image.description="vplc: check and run video-analytics pipelines (.vpl) on GStreamer" \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.base.name="debian:$suite (mmdebstrap minbase + $packages)" \
  "$ctr"
# GStreamer's registry, made once here (the launcher keeps it under $XDG_CACHE_HOME), so a
# pod does not scan the plugins at start; and a first run of vplc in the image.
buildah run --isolation chroot "$ctr" -- /opt/vpl/gst-inspect-1.0 coreelements >/dev/null ||
  die "GStreamer does not start in the image (buildah run /opt/vpl/gst-inspect-1.0 failed)"
inside=$(buildah run --isolation chroot "$ctr" -- vplc --version) ||
  die "vplc does not start in the image (buildah run vplc --version failed)"
[ "$inside" = "$("$vplc" --version)" ] || die "the image runs '$inside', not $vplc"
buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
ctr=
size=$(buildah images --format '{{.Size}}' --filter "reference=$tag" | head -1)
if [ "$ort" = none ]; then runtime="no ONNX Runtime: programs with models check but do not run"
else runtime="ONNX Runtime $(basename "$ort")"; fi
echo "image.sh: $tag ($size; $inside, GStreamer bundle at /opt/vpl, $runtime)"
if [ -n "$out" ]; then
  rm -f "$out"
  buildah push --quiet "$tag" "oci-archive:$out:$tag" ||
    die "could not write the OCI archive $out"
  echo "image.sh: $out ($(du -h "$out" | cut -f1), OCI archive)"
fi
