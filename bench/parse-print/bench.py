#!/usr/bin/env python3
"""Parse + verify + print throughput of qir-opt against mlir-opt-14.

Generates the same graph as a .qir module and as a generic-form MLIR module
(genmodule.py) at each size, runs `qir-opt in.qir -o out.qir` and
`mlir-opt-14 -allow-unregistered-dialect -mlir-print-op-generic in.mlir -o
out.mlir` several times each, and prints the median wall time, ops/s and
peak RSS of both, their ratios, and how time grows with size.

usage: bench.py [--qir-opt PATH] [--runs N] [--sizes 10000,100000]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import genmodule  # noqa: E402


def run_once(cmd):
    """Wall seconds and peak RSS (KiB) of one run of cmd.  The RSS comes
    from /usr/bin/time, which reports the measured program alone (the
    rusage of a child forked from this Python would include Python's)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit("bench: command failed: {}\n{}".format(" ".join(cmd), out.stderr))
    return wall, int(out.stderr.strip().splitlines()[-1])


def measure(cmds, runs):
    """For each command, the median wall seconds and median peak RSS (KiB)
    over runs, after one warm-up run each (so every run reads its input
    from the page cache).  The commands take turns, so that a slow spell of
    the machine falls on all of them alike."""
    for cmd in cmds:
        run_once(cmd)
    samples = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            samples[i].append(run_once(cmd))
    return [(statistics.median(s[0] for s in smp), statistics.median(s[1] for s in smp))
            for smp in samples]


def real_binary(tool):
    """The executable behind a libtool wrapper script in a build folder, so
    that the shell wrapper's start-up is not timed."""
    path = shutil.which(tool) or tool
    real = os.path.join(os.path.dirname(path), ".libs", os.path.basename(path))
    if os.path.isfile(real) and os.access(real, os.X_OK):
        libs = os.path.dirname(real)
        os.environ["LD_LIBRARY_PATH"] = libs + os.pathsep + os.environ.get("LD_LIBRARY_PATH", "")
        return real
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qir-opt", default=os.environ.get("QIR_OPT", "qir-opt"))
    ap.add_argument("--mlir-opt", default=shutil.which("mlir-opt-14") or "")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--sizes", default="10000,100000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.qir_opt = real_binary(args.qir_opt)
    tmp = tempfile.mkdtemp(prefix="qir-bench-")
    rows = {}
    try:
        for n in sizes:
            q, m = os.path.join(tmp, "g.qir"), os.path.join(tmp, "g.mlir")
            with open(q, "w") as fq, open(m, "w") as fm:
                genmodule.generate(n, fq, fm)
            cmds = [[args.qir_opt, q, "-o", os.path.join(tmp, "o.qir")]]
            if args.mlir_opt:
                cmds.append([args.mlir_opt, "-allow-unregistered-dialect",
                             "-mlir-print-op-generic", m, "-o", os.path.join(tmp, "o.mlir")])
            res = measure(cmds, args.runs)
            (qt, qr), (mt, mr) = res[0], (res[1] if len(res) > 1 else (None, None))
            rows[n] = (qt, qr, mt, mr)
    finally:
        shutil.rmtree(tmp)

    print("parse + verify + print, median of {} runs, {} cores".format(args.runs, os.cpu_count()))
    print("{:>8} | {:>10} {:>12} {:>9} | {:>10} {:>12} {:>9} | {:>7} {:>7}".format(
        "ops", "qir s", "qir ops/s", "qir MiB", "mlir s", "mlir ops/s", "mlir MiB",
        "speed x", "mem x"))
    for n, (qt, qr, mt, mr) in rows.items():
        qops = n / qt if qt > 0 else float("inf")
        line = "{:>8} | {:>10.4f} {:>12.0f} {:>9.1f} |".format(n, qt, qops, qr / 1024)
        if mt is not None:
            mops = n / mt if mt > 0 else float("inf")
            line += " {:>10.4f} {:>12.0f} {:>9.1f} | {:>7.2f} {:>7.2f}".format(
                mt, mops, mr / 1024, qops / mops, qr / mr)
        else:
            line += " (mlir-opt-14 not found: install mlir-14-tools)"
        print(line)
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        ta, tb = rows[a][0], rows[b][0]
        growth = tb / ta if ta > 0 else float("inf")
        print("qir time growth {} -> {} ops: {:.2f}x for {:.0f}x the ops".format(a, b, growth, b / a))


if __name__ == "__main__":
    main()
