#!/usr/bin/env python3
"""Drives a running `vplc run FILE --control ADDR` (docs/live.md): adds, lists and removes
the streams of its pools, and stops it. Python's standard library only.

    live_client.py [--url http://127.0.0.1:9000] [--token T] add POOL ID URL [--param K=V ...]
    live_client.py list
    live_client.py remove ID
    live_client.py stop
    live_client.py ready

The answer's JSON is printed on standard output; a refusal (4xx, 5xx) is said on standard
error with its status and the exit status is 1 (2 when the API cannot be reached).
`--token` defaults to $VPL_CONTROL_TOKEN, `--url` to $VPL_CONTROL_URL.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def param(text):
    """`K=V`: V as JSON where it is JSON (`true`, `200`, `"x"`), else as a string (`200ms`)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"a parameter is KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def call(args, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(args.api.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if args.token:
        request.add_header("Authorization", f"Bearer {args.token}")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as answer:
            print(answer.read().decode())
            return 0
    except urllib.error.HTTPError as refused:
        text = refused.read().decode(errors="replace")
        try:
            said = json.loads(text)
            reason = said.get("error") or json.dumps(said, indent=2)
        except ValueError:
            reason = text
        print(f"live_client: {method} {path}: {refused.code} {refused.reason}: {reason}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as e:
        print(f"live_client: cannot reach the control API at {args.api}: {e}", file=sys.stderr)
        return 2


def main():
    parser = argparse.ArgumentParser(description="Drive vplc run --control.")
    parser.add_argument(
        "--url", dest="api", default=os.environ.get("VPL_CONTROL_URL", "http://127.0.0.1:9000")
    )
    parser.add_argument("--token", default=os.environ.get("VPL_CONTROL_TOKEN"))
    # A removal answers once its stream has drained: as long as the frames queued behind a
    # model take to run, which on a loaded machine can be minutes.
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for an answer")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a stream to a pool")
    add.add_argument("pool")
    add.add_argument("id")
    add.add_argument("url", help="rtsp://..., file://... or a path")
    add.add_argument("--param", type=param, action="append", default=[], metavar="K=V")
    commands.add_parser("list", help="list the streams")
    remove = commands.add_parser("remove", help="remove a stream, once its outputs are finished")
    remove.add_argument("id")
    commands.add_parser("stop", help="end the run as Ctrl-C does (exit 0)")
    commands.add_parser("ready", help="whether the run plays")
    args = parser.parse_args()

    if args.command == "add":
        body = {"id": args.id, "url": args.url, "params": dict(args.param)}
        path = "/v1/pools/" + urllib.parse.quote(args.pool, safe="") + "/streams"
        return call(args, "POST", path, body)
    if args.command == "list":
        return call(args, "GET", "/v1/streams")
    if args.command == "remove":
        return call(args, "DELETE", "/v1/streams/" + urllib.parse.quote(args.id, safe=""))
    if args.command == "stop":
        return call(args, "POST", "/v1/stop", {})
    return call(args, "GET", "/v1/health/ready")


if __name__ == "__main__":
    sys.exit(main())
