#!/usr/bin/env python3
"""Live pools (issue 21), side by side in one run:

1. Disturbance: two streams of a pool run for RUN_S seconds; in one run a third stream is
   added at 1/3 and removed at 2/3 of it, in the other nothing happens. For streams a and b,
   the largest gap between consecutive records reaching vplc's standard output (wall
   clock), against the frame interval (40 ms at 25 fps).
2. Idle slots: CPU time (user + system) of a pool of 32 slots with 4 streams against a
   plain list of the same 4 files paced by `--realtime`, both to the files' end.

Usage: scripts/bench_live.py [VPLC]   (default: target/release/vplc; run scripts/setup.sh and
`cargo build --release --locked` first). Prints Markdown tables for BENCHMARKS.md.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench" / "live"
RUN_S = 12.0
# How long each of the four files of the idle-slot comparison plays (`BENCH_LIVE_SECONDS`).
FILE_S = int(os.environ.get("BENCH_LIVE_SECONDS", "30"))
FRAME_S = 0.040


def make_media(path: Path, seconds: int) -> None:
    """An H.264 320x240 25 fps MP4 of a moving ball, `seconds` long."""
    if path.exists():
        return
    subprocess.run(
        [
            "gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={seconds * 25}",
            "pattern=ball", "!", "video/x-raw,width=320,height=240,framerate=25/1", "!",
            "videoconvert", "!", "video/x-raw,format=I420", "!", "x264enc",
            "key-int-max=25", "speed-preset=veryfast", "!", "h264parse", "!", "mp4mux", "!",
            "filesink", f"location={path}",
        ],
        check=True,
    )


def request(base: str, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def disturbance(vplc: str, media: Path, add_remove: bool) -> dict:
    program = OUT / "disturb.vpl"
    program.write_text(
        "pipeline disturb {\n"
        "    let cams = pool(max: 4) : video<h264, 320x240, 25fps>;\n"
        "    cams | decode | json | stdout;\n"
        "}\n"
    )
    proc = subprocess.Popen(
        [vplc, "run", "--quiet", str(program), "--control", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    base = None
    for line in proc.stderr:
        m = re.search(r"control API on (http://\S+)", line)
        if m:
            base = m.group(1)
            break
    if base is None:
        raise SystemExit("vplc printed no control address")
    threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
    arrivals: dict = {}

    def read():
        for line in proc.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "stream_id" in record and "frame" in record:
                arrivals.setdefault(record["stream_id"], []).append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while request(base, "GET", "/v1/health/ready")[0] != 200:
        if time.monotonic() > deadline:
            raise SystemExit("the run did not become ready in 30 s")
        time.sleep(0.1)
    for sid in ("a", "b"):
        status, _ = request(base, "POST", "/v1/pools/cams/streams",
                            {"id": sid, "url": str(media), "params": {"loop": True}})
        assert status == 201, status
    start = time.monotonic()
    marks = {}
    if add_remove:
        time.sleep(RUN_S / 3)
        marks["add"] = time.monotonic()
        status, _ = request(base, "POST", "/v1/pools/cams/streams",
                            {"id": "c", "url": str(media), "params": {"loop": True}})
        assert status == 201, status
        marks["added"] = time.monotonic()
        time.sleep(RUN_S / 3)
        marks["remove"] = time.monotonic()
        status, _ = request(base, "DELETE", "/v1/streams/c")
        assert status == 200, status
        marks["removed"] = time.monotonic()
    time.sleep(max(0.0, start + RUN_S - time.monotonic()))
    request(base, "POST", "/v1/stop")
    proc.wait(timeout=60)
    reader.join(timeout=10)
    # From 1 s after the start (both streams flowing) to the stop.
    window = (start + 1.0, start + RUN_S)
    gaps = {}
    for sid in ("a", "b"):
        times = [t for t in arrivals.get(sid, []) if window[0] <= t <= window[1]]
        gaps[sid] = max((b - a for a, b in zip(times, times[1:])), default=float("nan"))
    return {"gaps": gaps, "frames": {k: len(v) for k, v in arrivals.items()},
            "exit": proc.returncode}


def cpu_of(cmd: list) -> tuple:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    return usage.ru_utime + usage.ru_stime, wall, os.waitstatus_to_exitcode(status)


def idle_slots(vplc: str, files: list) -> dict:
    cams = OUT / "four.yaml"
    cams.write_text("".join(f"- id: cam{i}\n  url: {f}\n" for i, f in enumerate(files)))
    pools = {}
    for slots in (4, 32):
        pools[slots] = OUT / f"pool{slots}.vpl"
        pools[slots].write_text(
            f"pipeline pool{slots} {{\n"
            f"    let cams = pool(max: {slots}, streams: \"{cams}\") : video<h264, 320x240, 25fps>;\n"
            f"    cams | decode | json | file(\"pool{slots}_{{stream}}.jsonl\");\n"
            "}\n"
        )
    listed = OUT / "list4.vpl"
    items = ", ".join(f'file("{f}")' for f in files)
    listed.write_text(
        "pipeline list4 {\n"
        f"    [{items}] | decode | json | file(\"list4_{{stream}}.jsonl\");\n"
        "}\n"
    )
    results = {}
    for name, cmd in (
        ("list of 4 (`--realtime`)", [vplc, "run", "--quiet", "--realtime", str(listed)]),
        ("pool of 4, 4 streams", [vplc, "run", "--quiet", str(pools[4])]),
        ("pool of 32, 4 streams", [vplc, "run", "--quiet", str(pools[32])]),
    ):
        results[name] = cpu_of(cmd)
    return results


def main() -> None:
    vplc = str(Path(sys.argv[1]).resolve()) if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "vplc")
    OUT.mkdir(parents=True, exist_ok=True)
    os.chdir(OUT)
    media = OUT / "ball_320x240_25fps.mp4"
    make_media(media, 10)
    files = []
    for i in range(4):
        f = OUT / f"cam{i}_{FILE_S}s.mp4"
        make_media(f, FILE_S)
        files.append(f)

    quiet = disturbance(vplc, media, add_remove=False)
    busy = disturbance(vplc, media, add_remove=True)
    print("### Adding and removing a stream: the largest gap between two frames of the others")
    print()
    print("| run | stream a: largest gap (ms) | stream b: largest gap (ms) | frame interval (ms) | exit |")
    print("|---|---|---|---|---|")
    for name, r in (("nothing added", quiet), ("c added at 4 s, removed at 8 s", busy)):
        print(f"| {name} | {r['gaps']['a'] * 1000:.1f} | {r['gaps']['b'] * 1000:.1f} | "
              f"{FRAME_S * 1000:.0f} | {r['exit']} |")
    print()
    print(f"### 32 slots with 4 streams against a list of 4 ({FILE_S} s files at 25 fps)")
    print()
    print("| program | CPU time (s) | wall (s) | CPU against the list | exit |")
    print("|---|---|---|---|---|")
    results = idle_slots(vplc, files)
    base = next(iter(results.values()))[0]
    for name, (cpu, wall, code) in results.items():
        print(f"| {name} | {cpu:.2f} | {wall:.1f} | {100 * (cpu / base - 1):+.1f}% | {code} |")


if __name__ == "__main__":
    main()
