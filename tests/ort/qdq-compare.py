"""Compares qir-run's outputs of a quantized module with ONNX Runtime's
outputs of its export (docs/ONNX.md, "Quantized modules").

usage: qdq-compare.py QIR_DIR ORT_DIR [--max-steps=N] NAME[=STEP] ...

Each output is compared in quantization steps: integer outputs (the
storage of quantized outputs) in integer units; float outputs in units of
STEP, by default (max - min) / 255 of qir-run's output, the step of the
8-bit type the output would have if it were quantized.  Prints per output
the largest difference in steps, the fraction of elements that differ at
all and the largest absolute difference; exits 1 when an output differs by
more than --max-steps (default 1) anywhere."""
import os
import sys

import numpy as np


def compare(qir_dir, ort_dir, spec, max_steps):
    name, _, step = spec.partition('=')
    a = np.load(os.path.join(qir_dir, name + '.npy'))
    b = np.load(os.path.join(ort_dir, name + '.npy'))
    if a.shape != b.shape or a.dtype != b.dtype:
        print('FAIL %s: qir %s %s, ort %s %s' % (name, a.shape, a.dtype,
                                                 b.shape, b.dtype))
        return False
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    if a.dtype.kind in 'iu':
        unit = 1.0
    elif step:
        unit = float(step)
    else:
        span = float(a.max() - a.min()) if a.size else 0.0
        unit = span / 255 if span > 0 else 1.0
    worst = float(diff.max()) / unit if diff.size else 0.0
    off = float((diff > 0).mean()) if diff.size else 0.0
    good = worst <= max_steps + 1e-9
    print('%s %s: max difference %.3g steps, %.4f%% of elements differ '
          '(max |diff| %.3g)' % ('OK' if good else 'FAIL', name, worst,
                                 100 * off, float(diff.max()) if diff.size else 0))
    return good


def main(argv):
    max_steps = 1.0
    specs = []
    for a in argv[2:]:
        if a.startswith('--max-steps='):
            max_steps = float(a[12:])
        else:
            specs.append(a)
    ok = True
    for spec in specs:
        ok &= compare(argv[0], argv[1], spec, max_steps)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
