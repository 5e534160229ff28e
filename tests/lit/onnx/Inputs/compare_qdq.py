"""Compares the outputs of a quantized model run by qir-run with those of
its QDQ export run by ONNX Runtime: every element must agree to within one
quantization step (docs/ONNX.md, "QDQ").

usage: compare_qdq.py QIR_DIR ORT_DIR NAME=STEP [NAME=STEP ...]

STEP is the scale of the output's quantized type; a float output (a
dequantize) is compared in real units, an integer output (the storage of a
quantized output) in integer units, where one step is 1."""
import os
import sys

import numpy as np


def main(qir_dir, ort_dir, *specs):
    ok = True
    for spec in specs:
        name, step = spec.split('=')
        a = np.load(os.path.join(qir_dir, name + '.npy'))
        b = np.load(os.path.join(ort_dir, name + '.npy'))
        if a.shape != b.shape or a.dtype != b.dtype:
            print('%s: qir %s %s, ort %s %s' % (name, a.shape, a.dtype,
                                               b.shape, b.dtype))
            ok = False
            continue
        unit = 1.0 if a.dtype.kind in 'iu' else float(step)
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64)) / unit
        worst = float(diff.max()) if diff.size else 0.0
        exact = float((diff == 0).mean()) if diff.size else 1.0
        good = worst <= 1.0 + 1e-6
        ok &= good
        print('%s %s: max difference %.3g steps, %.1f%% equal' % (
            'OK' if good else 'FAIL', name, worst, 100 * exact))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
