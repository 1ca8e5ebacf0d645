#!/usr/bin/env python3
"""Cameras per shard (issue 23): how many 10 fps cameras one `vplc run --cameras FILE
--shard 0/1` sustains with the person model (YOLOv8s 640x640, examples/people.vpl's) on this
machine's cores.

The camera: assets/media/vtest.avi (768x576, 10 fps) re-encoded once as H.264 (a pool takes
H.264 or H.265: what cameras send; x264, a key frame every 2 s, no B-frames), looped
(`params: {loop: true}`) so a pool stream is paced at its 10 fps as a camera is. For each
detection rate (`infer(people, every: E)`, E = 1, 2, 4) the pool gets K = 1, 2, ... copies,
K growing until one run does not sustain 10 fps on every camera:

    pool(max: K) : video<h264, 768x576, 10fps>
      | decode | infer(people, every: E) | track(iou, max_age: 30) | json | file(...{stream}...)

A run starts, waits until every camera has a record, lets WARMUP seconds pass, then counts
each camera's records over WINDOW seconds: fps per camera = records / seconds. A camera is
sustained at >= 9.8 fps (10 fps less one frame in 50). Also per run: the p95 of the records'
`latency_ms` (`--latency`) in the window, vplc's CPU (user + system over the window, as a
share of all cores, and per frame processed), and the 1-minute load average read just before
vplc started (what else the machine was doing: run it when nothing else does). All cores
over the CPU a frame costs, at 10 fps, bounds the cameras the machine can sustain (ONNX
Runtime's threads do not scale perfectly and contention makes frames dearer, so it is an
upper bound).

Usage: scripts/bench_shards.py [VPLC]   (default target/release/vplc; run scripts/setup.sh
and `cargo build --release --locked` first). BENCH_SHARDS_WINDOW (s, default 20),
BENCH_SHARDS_WARMUP (s, default 8), BENCH_SHARDS_EVERY (default "1 2 4"), BENCH_SHARDS_MAX
(largest K tried, default 8), BENCH_SHARDS_ALL=1 (try every K up to the largest, past the
first that falls short). Prints a Markdown table for BENCHMARKS.md.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench" / "shards"
WINDOW = float(os.environ.get("BENCH_SHARDS_WINDOW", "20"))
WARMUP = float(os.environ.get("BENCH_SHARDS_WARMUP", "8"))
EVERY = [int(e) for e in os.environ.get("BENCH_SHARDS_EVERY", "1 2 4").split()]
K_MAX = int(os.environ.get("BENCH_SHARDS_MAX", "8"))
KEEP_GOING = os.environ.get("BENCH_SHARDS_ALL") == "1"
FPS = 10.0
SUSTAINED = 9.8
CORES = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")


def camera() -> Path:
    """vtest.avi as an H.264 MP4 at its own size and rate (made once)."""
    out = OUT / "vtest_h264.mp4"
    if not out.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "gst-launch-1.0", "-q", "filesrc",
                f"location={ROOT / 'assets/media/vtest.avi'}", "!", "decodebin", "!",
                "videoconvert", "!", "video/x-raw,format=I420", "!", "x264enc",
                "key-int-max=20", "bframes=0", "speed-preset=veryfast", "bitrate=2000", "!",
                "h264parse", "!", "mp4mux", "!", "filesink", f"location={out}",
            ],
            check=True,
        )
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def lines(path: Path) -> list:
    try:
        return path.read_bytes().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def run(vplc: str, media: Path, every: int, k: int) -> dict:
    case = OUT / f"e{every}-k{k}"
    case.mkdir(parents=True, exist_ok=True)
    for old in case.glob("*.jsonl"):
        old.unlink()
    ids = [f"cam-{i}" for i in range(k)]
    (case / "cams.yaml").write_text(
        "".join(f"- id: {i}\n  url: {media}\n  params: {{loop: true}}\n" for i in ids)
    )
    program = case / "shard.vpl"
    program.write_text(
        f'model people = onnx("{ROOT / "assets/models/person_yolov8s.onnx"}",\n'
        '    labels: ["person", "fallen"],\n'
        "    decoder: yolov8(confidence: 0.4, iou: 0.5),\n"
        ");\n\n"
        "pipeline shard {\n"
        f"    let cams = pool(max: {k}) : video<h264, 768x576, 10fps>;\n"
        f"    cams | decode | infer(people, every: {every}) | track(iou, max_age: 30)\n"
        '        | json | file("{stream}.jsonl");\n'
        "}\n"
    )
    load = float(Path("/proc/loadavg").read_text().split()[0])
    proc = subprocess.Popen(
        [vplc, "run", "--quiet", "--latency", "--stats", str(case / "stats.json"),
         str(program), "--cameras", str(case / "cams.yaml"), "--shard", "0/1"],
        stderr=open(case / "stderr.txt", "w"), stdout=subprocess.DEVNULL,
        env={**os.environ, "VPL_CACHE_DIR": str(OUT / "cache")},
    )
    files = [case / f"{i}.jsonl" for i in ids]
    deadline = time.monotonic() + 120
    while not all(lines(f) for f in files):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{case}: no records from every camera: "
                             + (case / "stderr.txt").read_text())
        time.sleep(0.2)
    time.sleep(WARMUP)
    t0, cpu0 = time.monotonic(), cpu_seconds(proc.pid)
    n0 = [len(lines(f)) for f in files]
    time.sleep(WINDOW)
    t1, cpu1 = time.monotonic(), cpu_seconds(proc.pid)
    got = [lines(f) for f in files]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    fps = [(len(g) - n) / (t1 - t0) for g, n in zip(got, n0)]
    latencies = sorted(
        json.loads(line)["latency_ms"] for g, n in zip(got, n0) for line in g[n:]
    )
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    frames = sum(len(g) - n for g, n in zip(got, n0))
    return {
        "every": every, "k": k, "fps": fps, "p95": p95, "load": load,
        "cpu": 100 * (cpu1 - cpu0) / (t1 - t0) / CORES,
        "cpu_ms": 1000 * (cpu1 - cpu0) / max(frames, 1),
        "sustained": min(fps) >= SUSTAINED,
    }


def main() -> None:
    vplc = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/vplc")
    media = camera()
    print(f"{CORES} cores; window {WINDOW:.0f} s after {WARMUP:.0f} s; sustained: every camera "
          f">= {SUSTAINED} fps")
    print()
    print("| `every:` | cameras | fps per camera (min..max) | latency p95 (ms) | "
          f"CPU (% of {CORES} cores) | CPU per frame (ms) | load before | 10 fps each? |")
    print("|---|---|---|---|---|---|---|---|")
    best, cost = {}, {}
    for every in EVERY:
        best[every] = 0
        for k in range(1, K_MAX + 1):
            r = run(vplc, media, every, k)
            cost.setdefault(every, []).append(r["cpu_ms"])
            print(f"| {every} | {k} | {min(r['fps']):.2f}..{max(r['fps']):.2f} | "
                  f"{r['p95']:.0f} | {r['cpu']:.0f} | {r['cpu_ms']:.0f} | {r['load']:.2f} | "
                  f"{'yes' if r['sustained'] else 'no'} |", flush=True)
            if not r["sustained"]:
                if KEEP_GOING:
                    continue
                break
            if best[every] == k - 1:
                best[every] = k
    print()
    for every, k in best.items():
        ms = min(cost[every])
        print(f"- infer(people, every: {every}): {k} camera(s) measured at 10 fps; "
              f"{ms:.0f} ms of CPU a frame, so at most {CORES * 1000 / (FPS * ms):.1f} "
              f"cameras at 10 fps on {CORES} cores")


if __name__ == "__main__":
    main()
