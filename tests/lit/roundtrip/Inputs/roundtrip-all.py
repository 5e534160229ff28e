#!/usr/bin/env python3
"""Checks that every .qir file of the lit suite that qir-opt accepts also
round-trips: printing it, parsing the print and printing again gives the
same text (qir-opt --verify-roundtrip).  Files that qir-opt rejects on their
own are the error tests and are counted apart.

usage: roundtrip-all.py LIT_DIR
"""
import os
import subprocess
import sys


def qir_opt(path, extra):
    args = ["qir-opt", path, "-o", os.devnull] + extra
    with open(path, errors="replace") as f:
        if "// -----" in f.read():
            args.append("-split-input-file")
    return subprocess.run(args, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


def main():
    root = sys.argv[1]
    ok = rejected = 0
    failed = []
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith(".qir"):
                continue
            path = os.path.join(dirpath, name)
            if qir_opt(path, ["--verify-roundtrip"]).returncode == 0:
                ok += 1
            elif qir_opt(path, []).returncode != 0:
                rejected += 1
            else:
                failed.append(os.path.relpath(path, root))
    for f in failed:
        print("roundtrip failed:", f)
    print("roundtrip: {} files round-trip, {} rejected on purpose, {} failed".format(
        ok, rejected, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
