"""ONNX Runtime alone on preprocessed frames: the ceiling for detection throughput here.

    .venv/bin/python scripts/bench_ort.py MODEL --frames 50 --threads 2

Feeds the same letterboxed 640x640 tensor shape vpl feeds (random pixels; inference time
does not depend on them) and prints frames per second over `--frames` runs, after a warm-up.
"""

import argparse
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--frames", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    frames = [rng.random((1, 3, 640, 640), dtype=np.float32) for _ in range(4)]
    session.run(None, {name: frames[0]})
    start = time.perf_counter()
    for i in range(a.frames):
        session.run(None, {name: frames[i % len(frames)]})
    elapsed = time.perf_counter() - start
    print(f"{a.frames / elapsed:.2f}")


if __name__ == "__main__":
    main()
