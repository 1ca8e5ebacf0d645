#!/usr/bin/env bash
# Makes a relocatable tarball of vplc for a machine that has no GStreamer (a GPU server with
# a driver and CUDA): vplc, the GStreamer libraries and plugins it uses (nvcodec included,
# for NVDEC/NVENC), gst-inspect-1.0 and gst-launch-1.0, and launchers that set the paths.
# ONNX Runtime is not bundled: the user's install is used (VPL_ONNXRUNTIME, e.g. the
# libonnxruntime.so.* of PyPI's onnxruntime-gpu). docs/gpu.md describes it.
#
#   scripts/bundle.sh [--vplc target/release/vplc] [-o vpl-bundle.tar.gz]
#   (VPL_BUNDLE_GZIP=1 compresses faster, as tests/bundle.rs does)
#
# On the target machine:   tar xzf vpl-bundle.tar.gz && ./vpl-bundle/vplc check FILE.vpl
# Build vplc with `cargo build --release --locked --features vpl-runtime/gpu` for the GPU.
set -euo pipefail

vplc=target/release/vplc
out=vpl-bundle.tar.gz
while [ $# -gt 0 ]; do
  case $1 in
    --vplc) vplc=$2; shift 2 ;;
    -o|--output) out=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bundle.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$vplc" ] || { echo "bundle.sh: no $vplc: build vplc first (cargo build --release --locked)" >&2; exit 1; }

arch_lib=$(dirname "$(ldd "$vplc" | awk '/libgstreamer-1.0/ {print $3}')")
[ -d "$arch_lib" ] || { echo "bundle.sh: $vplc does not link GStreamer" >&2; exit 1; }
plugin_dir=$arch_lib/gstreamer-1.0
scanner=$(ls "$arch_lib"/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner \
  /usr/libexec/gstreamer-1.0/gst-plugin-scanner 2>/dev/null | head -1 || true)

# The plugins of every element a plan can name (compiler/src/plan/, compiler/src/media.rs)
# and of what decodebin and autovideosink may pick.
plugins="coreelements typefindfunctions playback app pbtypes
  matroska isomp4 avi ogg videoparsersbad jpegformat jpeg libav x264 x265 vpx aom dav1d theora
  videoconvertscale videoconvert videoscale videorate videotestsrc compositor
  rtsp rtp rtpmanager udp tcp video4linux2 autodetect ximagesink xvimagesink
  nvcodec"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
b=$work/vpl-bundle
mkdir -p "$b/bin" "$b/lib" "$b/plugins" "$b/libexec"
cp "$vplc" "$b/bin/vplc"
strip "$b/bin/vplc" 2>/dev/null || true
for t in gst-inspect-1.0 gst-launch-1.0; do
  command -v "$t" >/dev/null && cp "$(command -v "$t")" "$b/bin/"
done
[ -n "$scanner" ] && cp "$scanner" "$b/libexec/"
found=()
for p in $plugins; do
  if [ -f "$plugin_dir/libgst$p.so" ]; then cp "$plugin_dir/libgst$p.so" "$b/plugins/"; found+=("$p"); fi
done
# Every library they load, but the C runtime's own (the target machine has those).
skip='^(linux-vdso|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|ld-linux|libresolv|libstdc\+\+|libgcc_s|libcuda\.so|libnvidia)'
for f in "$b"/bin/* "$b"/plugins/* "$b"/libexec/*; do
  [ -f "$f" ] && ldd "$f" 2>/dev/null | awk '$3 ~ /^\// {print $1" "$3}'
done | sort -u | while read -r name path; do
  [[ $name =~ $skip ]] || cp -L "$path" "$b/lib/$name"
done

# The launchers: each finds the bundle from its own path, so the directory can move.
launcher() {
  cat > "$b/$1" <<LAUNCH
#!/bin/sh
# $1 from the vpl bundle, with the bundle's GStreamer only.
here=\$(cd "\$(dirname "\$0")" && pwd)
export LD_LIBRARY_PATH="\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export GST_PLUGIN_SYSTEM_PATH_1_0="\$here/plugins" GST_PLUGIN_SYSTEM_PATH="\$here/plugins"
export GST_PLUGIN_PATH_1_0= GST_PLUGIN_PATH=
export GST_PLUGIN_SCANNER_1_0="\$here/libexec/gst-plugin-scanner" GST_PLUGIN_SCANNER="\$here/libexec/gst-plugin-scanner"
# One registry per place the bundle is unpacked (it records the plugins' paths).
key=\$(printf %s "\$here" | cksum | cut -d' ' -f1)
cache="\${XDG_CACHE_HOME:-\$HOME/.cache}/vpl-bundle"
mkdir -p "\$cache" 2>/dev/null || cache=\${TMPDIR:-/tmp}
export GST_REGISTRY_1_0="\$cache/registry-\$key.bin" GST_REGISTRY="\$cache/registry-\$key.bin"
exec "\$here/bin/$1" "\$@"
LAUNCH
  chmod +x "$b/$1"
}
launcher vplc
for t in gst-inspect-1.0 gst-launch-1.0; do [ -f "$b/bin/$t" ] && launcher "$t"; done
cat > "$b/README" <<README
vpl bundle: vplc $("$vplc" --version 2>/dev/null | awk '{print $2}') with GStreamer $(gst-inspect-1.0 --version 2>/dev/null | sed -n 2p | awk '{print $2}')
Plugins: ${found[*]}
Run ./vplc (not bin/vplc): it sets LD_LIBRARY_PATH and GStreamer's paths to this directory.
Models run on ONNX Runtime from your install: VPL_ONNXRUNTIME=/path/to/libonnxruntime.so.X
(for the GPU: pip install onnxruntime-gpu, and the CUDA libraries it names).
./vplc run --backend auto says which GPU it uses; ./gst-inspect-1.0 nvcodec lists NVDEC/NVENC.
README

case $out in /*) ;; *) out=$PWD/$out ;; esac
tar cf - -C "$work" vpl-bundle | gzip -"${VPL_BUNDLE_GZIP:-6}" > "$out"
echo "bundle.sh: $out ($(du -h "$out" | cut -f1); ${#found[@]} plugins, $(ls "$b/lib" | wc -l) libraries)"
