#!/usr/bin/env python3
"""Rebalance time of `vplc run --cameras kafka://…?group=G` after a member dies (issue 23).

Runs tests/kafka_group.rs's group test RUNS times (three members, six looped cameras on a
six-partition topic of librdkafka's mock cluster, `session_timeout=6s`; one member killed
with SIGKILL) and reports, for each run:

  total      SIGKILL -> the last orphaned camera's first frame on a survivor (the test
             polls the survivors' `GET /v1/streams` every 50 ms for frames > 0);
  assigned   SIGKILL -> the survivors' last "partitions [...] assigned" log line before
             that frame (the group's part: the session timeout, the coordinator's
             rebalance, the assignment; the logs' times are to the millisecond);
  admission  total - assigned (probe, slot, first frame).

Usage: scripts/bench_rebalance.py [RUNS]   (default 5; builds the test in debug)
"""

import datetime
import re
import statistics
import subprocess
import sys
from pathlib import Path

TEST = "a_consumer_group_shares_the_cameras_and_takes_over_a_dead_members"
LINE = re.compile(r"rebalance_s=([0-9.]+) killed_ms=(\d+) dir=(\S+) orphans=")
ASSIGNED = re.compile(r"^(\S+Z) .*partitions \[[0-9, ]+\] assigned")


def ms(stamp: str) -> float:
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000.0


def one_run() -> tuple[float, float]:
    out = subprocess.run(
        ["cargo", "test", "-q", "-p", "vplc", "--test", "kafka_group", "--", "--exact",
         TEST, "--nocapture"],
        capture_output=True, text=True, env=None, check=False,
    )
    found = LINE.search(out.stderr)
    if out.returncode != 0 or not found:
        sys.exit(f"the test failed:\n{out.stdout}\n{out.stderr}")
    total, killed, folder = float(found.group(1)), int(found.group(2)), Path(found.group(3))
    assigned = [
        ms(m.group(1)) - killed
        for log in folder.glob("shard*/vplc.log")
        for m in map(ASSIGNED.match, log.read_text().splitlines())
        # After the kill, up to the last orphan's first frame (a later line is the
        # test's graceful stop of another member).
        if m and killed < ms(m.group(1)) <= killed + total * 1000.0
    ]
    return total, max(assigned) / 1000.0 if assigned else float("nan")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = []
    for i in range(runs):
        total, assigned = one_run()
        rows.append((total, assigned))
        print(f"run {i + 1}: total {total:.2f} s, assigned {assigned:.2f} s, "
              f"admission {total - assigned:.2f} s", flush=True)
    for name, values in [("total", [r[0] for r in rows]), ("assigned", [r[1] for r in rows]),
                         ("admission", [r[0] - r[1] for r in rows])]:
        print(f"{name:9}: median {statistics.median(values):.2f} s, "
              f"min {min(values):.2f} s, max {max(values):.2f} s")


if __name__ == "__main__":
    main()
