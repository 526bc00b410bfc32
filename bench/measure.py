#!/usr/bin/env python3
"""Small pieces of bench/run.sh that are easier in Python than in shell:
medians out of hyperfine and swap-bootstrap JSON, a free port on 127.0.0.1, a
silent metadata endpoint, and waiting for the metadata emulator to answer.

    measure.py hyperfine-median FILE.json...       median seconds of all runs in hyperfine exports
    measure.py json-median FIELD FILE...           median of a dotted JSON field over files
    measure.py json-get FIELD FILE                 one dotted JSON field
    measure.py median NUMBER...                    median of numbers
    measure.py free-port                           a TCP port free on 127.0.0.1 right now
    measure.py silent PORTFILE                     listen on 127.0.0.1, accept, never answer
    measure.py wait-http URL SECONDS               wait until URL answers HTTP 200
    measure.py splice OUT HEAD DIR PART...         write OUT: HEAD, then for each PART the new
                                                   DIR/PART.md or else OUT's old section, then
                                                   OUT's notes (from "<!-- notes -->" on)

Everything listens on or talks to 127.0.0.1 only.
"""

import json
import os
import re
import socket
import statistics
import sys
import time
import urllib.request


def field(doc, dotted):
    for part in dotted.split("."):
        doc = doc[part]
    return doc


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "hyperfine-median":
        times = []
        for name in args:
            with open(name) as f:
                times += json.load(f)["results"][0]["times"]
        print(statistics.median(times))
    elif cmd == "json-median":
        values = []
        for name in args[1:]:
            with open(name) as f:
                values.append(float(field(json.load(f), args[0])))
        print(statistics.median(values))
    elif cmd == "json-get":
        with open(args[1]) as f:
            print(field(json.load(f), args[0]))
    elif cmd == "median":
        print(statistics.median(float(a) for a in args))
    elif cmd == "free-port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    elif cmd == "silent":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        with open(args[0] + ".tmp", "w") as f:
            f.write("%d\n" % s.getsockname()[1])
        # Renamed into place so the reader never sees half a port number.
        os.rename(args[0] + ".tmp", args[0])
        held = []
        while True:
            conn, _ = s.accept()
            held.append(conn)  # keep it open, read nothing, answer nothing
    elif cmd == "wait-http":
        url, deadline = args[0], time.monotonic() + float(args[1])
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return 0
            except OSError:
                pass
            if time.monotonic() > deadline:
                print("no answer from %s" % url, file=sys.stderr)
                return 1
            time.sleep(0.1)
    elif cmd == "splice":
        splice(args[0], args[1], args[2], args[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


def splice(out, head, folder, parts):
    """Each part's section sits between <!-- part:NAME --> and
    <!-- /part:NAME --> lines, so that a run of some parts keeps the others."""
    old = ""
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
    notes = ""
    i = old.find("\n<!-- notes -->")
    if i >= 0:
        notes = old[i + 1 :]
    with open(head) as f:
        doc = f.read().rstrip("\n") + "\n"
    for part in parts:
        new = os.path.join(folder, part + ".md")
        if os.path.exists(new):
            with open(new) as f:
                body = f.read().strip("\n")
            doc += "\n<!-- part:%s -->\n%s\n<!-- /part:%s -->\n" % (part, body, part)
            continue
        m = re.search(r"^<!-- part:%s -->\n.*?^<!-- /part:%s -->\n" % (re.escape(part), re.escape(part)), old, re.S | re.M)
        if m:
            doc += "\n" + m.group(0)
        else:
            print("measure.py: no section %r in %s yet; BENCH_PARTS=%s makes it" % (part, out, part), file=sys.stderr)
    if notes:
        doc += "\n" + notes
    with open(out + ".tmp", "w") as f:
        f.write(doc)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
