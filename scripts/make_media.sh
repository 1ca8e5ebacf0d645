#!/usr/bin/env bash
# Makes short test media (about 20 frames each) with gst-launch-1.0, for the
# runtime's probe tests:
#
#   bash scripts/make_media.sh OUT_DIR
#
# Safe to run again: a file that already exists is skipped. Each file is written
# under a temporary name and renamed into place only when gst-launch-1.0 succeeded.
set -euo pipefail

[ "$#" = 1 ] || { printf 'usage: %s OUT_DIR\n' "$0" >&2; exit 2; }
OUT="$1"

say() { printf 'vpl setup: %s\n' "$*"; }
die() { printf 'vpl setup: %s\n' "$*" >&2; exit 1; }

command -v gst-launch-1.0 >/dev/null ||
  die "gst-launch-1.0 not found on PATH: install gstreamer1.0-tools (scripts/setup.sh does)"
mkdir -p "$OUT"

PART=""
cleanup() { if [ -n "$PART" ]; then rm -f "$PART"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

N=20 # frames per video
SRC="videotestsrc num-buffers=$N"

# make_file NAME PIPELINE...: runs `gst-launch-1.0 PIPELINE ! filesink location=TEMP`,
# then renames TEMP to OUT/NAME.
make_file() {
  local name="$1" dest="$OUT/$1"
  shift
  [ -e "$dest" ] && return 0
  PART="$OUT/.$name.part.$$"
  local log
  if ! log="$(gst-launch-1.0 -q "$@" ! filesink location="$PART" 2>&1)"; then
    printf '%s\n' "$log" >&2
    die "gst-launch-1.0 could not make $name (see above): run 'gst-inspect-1.0' on the elements of its pipeline"
  fi
  [ -s "$PART" ] || die "gst-launch-1.0 wrote nothing for $name"
  mv -f "$PART" "$dest"
  PART=""
  say "media made: $dest"
}

make_file h264_640x360_25fps.mp4 \
  $SRC ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 \
  ! x264enc ! h264parse ! mp4mux
# The type of examples/live.vpl's pool and of the pool tests: video<h264, 320x240, 25fps>.
make_file h264_320x240_25fps.mp4 \
  $SRC ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
  ! x264enc ! h264parse ! mp4mux
make_file h264_320x240_30fps.mkv \
  $SRC ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
  ! x264enc ! h264parse ! matroskamux
make_file vp8_320x240_30fps.webm \
  $SRC ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc ! webmmux
make_file mjpeg_320x240_15fps.avi \
  $SRC ! video/x-raw,width=320,height=240,framerate=15/1 \
  ! jpegenc ! avimux
# x264enc cannot encode odd sizes; jpegenc can. (avenc_mpeg4 can too, but its
# timestamps make matroskamux write a file that plays one frame.)
make_file mjpeg_odd_321x241_25fps.mkv \
  $SRC ! video/x-raw,format=I420,width=321,height=241,framerate=25/1 \
  ! jpegenc ! matroskamux
make_file raw_i420_160x120_10fps.mkv \
  $SRC ! video/x-raw,format=I420,width=160,height=120,framerate=10/1 \
  ! matroskamux
# Elementary streams with no container (the input of DeepStream's test1-test4 samples).
make_file h264_320x240_25fps.h264 \
  $SRC ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
  ! x264enc ! h264parse ! video/x-h264,stream-format=byte-stream
# With B-frames: pictures are decoded out of the order they are shown in (tests/run.rs
# copies it into .mp4, whose times vpl reads from each picture's order count).
make_file h264_bframes_320x240_25fps.h264 \
  $SRC ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
  ! x264enc bframes=2 ! h264parse ! video/x-h264,stream-format=byte-stream
make_file h265_320x240_25fps.265 \
  $SRC ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
  ! x265enc ! h265parse ! video/x-h265,stream-format=byte-stream
make_file audio_only.ogg \
  audiotestsrc num-buffers=$N ! audioconvert ! vorbisenc ! oggmux

# Frames with known text for the OCR tests (tests/ocr.rs), drawn with Pillow by
# scripts/make_ocr_media.py ($VPL_PYTHON, default the project's .venv), raw I420.
if [ ! -e "$OUT/ocr_lines_640x480.mkv" ]; then
  PYTHON="${VPL_PYTHON:-$(dirname "$0")/../.venv/bin/python}"
  RGB="$OUT/.ocr_lines.rgb.$$"
  "$PYTHON" "$(dirname "$0")/make_ocr_media.py" "$RGB" ||
    die "scripts/make_ocr_media.py could not draw the OCR frames (it needs Pillow from scripts/requirements.txt)"
  make_file ocr_lines_640x480.mkv \
    filesrc location="$RGB" ! rawvideoparse format=rgb width=640 height=480 framerate=10/1 \
    ! videoconvert ! video/x-raw,format=I420 ! matroskamux
  rm -f "$RGB"
fi

# A text file with a media file's extension.
if [ ! -e "$OUT/not_media.mp4" ]; then
  PART="$OUT/.not_media.mp4.part.$$"
  printf 'This is a text file, not a video.\n' >"$PART"
  mv -f "$PART" "$OUT/not_media.mp4"
  PART=""
  say "media made: $OUT/not_media.mp4"
fi
