"""Latency from didChange to publishDiagnostics of `vplc lsp` on a 2,000-line file.

Drives the release binary over stdio (JSON-RPC, Content-Length framing), as an editor does:
open the file, wait for its diagnostics, then 100 one-character edits in the middle of the
file, each sent as an incremental didChange, timing until the publishDiagnostics of that
version arrives. Prints the median, p95, min and max in milliseconds.
usage: python3 bench.py VPLC_BINARY MODEL.onnx
"""
import json, os, statistics, subprocess, sys, tempfile, time

vplc, model = sys.argv[1], sys.argv[2]

def generate():
    out = ["// Generated for the LSP latency benchmark", "const SIZE = 640x640;"]
    for m in range(4):
        out.append(f'model det{m} = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4, iou: 0.5));')
    p = 0
    while len(out) < 2000:
        out += ["", f"/// Pipeline number {p}.", f"pipeline camera_{p} {{"]
        for s in range(3):
            out.append(f"    let src_{s} = test(pattern: ball, resolution: 1280x720, rate: 30000/1001fps, frames: 300);")
            out.append(f"    let det_{s} = src_{s} | scale(SIZE, mode: letterbox) | infer(det{s % 4}, every: 2) | track(iou, max_age: 30);")
            out.append(f'    det_{s} | overlay | encode(h264, bitrate: 4Mbps) | file("out/c{p}_{s}.mp4");')
            out.append(f'    det_{s} | json | file("out/c{p}_{s}.jsonl"); // records')
        out.append("}")
        p += 1
    return "\n".join(out) + "\n"

text = open(sys.argv[3]).read() if len(sys.argv) > 3 else generate()
lines = text.split("\n")
cache = tempfile.mkdtemp()
proc = subprocess.Popen([vplc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        env={**os.environ, "VPL_CACHE_DIR": cache})

def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()

def recv():
    length = None
    while True:
        line = proc.stdout.readline()
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))

def wait_diagnostics(version):
    while True:
        m = recv()
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version:
            return m["params"]["diagnostics"]

uri = "file:///tmp/lspbench/big.vpl"
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
recv()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
t0 = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "vpl", "version": 1, "text": text}}})
first = wait_diagnostics(1)
print(f"lines {len(text.splitlines())}, open → diagnostics {1000*(time.perf_counter()-t0):.1f} ms, {len(first)} diagnostics")

# The `30` of `max_age: 30` on a line in the middle, typed over as 31, 32, ... .
target = next(i for i in range(len(lines) // 2, len(lines)) if "max_age: 30" in lines[i])
col = lines[target].index("max_age: 30") + len("max_age: 3")
times = []
for n in range(100):
    version = n + 2
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": {"line": target, "character": col},
                                      "end": {"line": target, "character": col + 1}},
                            "text": str(n % 10)}]}})
    start = time.perf_counter()
    diags = wait_diagnostics(version)
    times.append(1000 * (time.perf_counter() - start))
    assert not diags, diags
times.sort()
p95 = times[int(0.95 * len(times)) - 1]
print(f"100 edits: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None}); recv()
send({"jsonrpc": "2.0", "method": "exit", "params": None})
proc.wait(timeout=10)
