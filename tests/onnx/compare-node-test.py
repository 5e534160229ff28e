#!/usr/bin/env python3
"""tests/onnx/compare-node-test.py - runs one imported ONNX node test with
qir-run and compares its outputs with the expected ones.

usage: compare-node-test.py QIR_RUN MODEL.qir DATA_SET_DIR [NUM_INPUTS]

DATA_SET_DIR holds input_<i>.pb and output_<i>.pb (TensorProto).  Only the
first NUM_INPUTS inputs are fed (the others were frozen into the model).
Exit status 0 when every output matches (floats: 1e-4 relative, 1e-5
absolute; others exactly)."""
import glob
import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings('ignore')
import numpy as np  # noqa: E402

for _n, _a in (('float', float), ('int', int), ('bool', bool),
               ('object', object), ('str', str)):
    if not hasattr(np, _n):
        setattr(np, _n, _a)
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402


def load(pattern):
    arrays = []
    for path in sorted(glob.glob(pattern),
                       key=lambda p: int(p.rsplit('_', 1)[1].split('.')[0])):
        t = onnx.TensorProto()
        with open(path, 'rb') as f:
            t.ParseFromString(f.read())
        arrays.append(numpy_helper.to_array(t))
    return arrays


def main():
    qir_run, model, data = sys.argv[1:4]
    inputs = load(os.path.join(data, 'input_*.pb'))
    if len(sys.argv) > 4:
        inputs = inputs[:int(sys.argv[4])]
    expected = load(os.path.join(data, 'output_*.pb'))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [qir_run, model]
        for i, a in enumerate(inputs):
            path = os.path.join(tmp, 'in%d.npy' % i)
            np.save(path, a)
            cmd += ['--input', path]
        outs = [os.path.join(tmp, 'out%d.npy' % i) for i in range(len(expected))]
        for path in outs:
            cmd += ['--output', path]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        if r.returncode != 0:
            print('qir-run failed: ' + r.stdout.strip()[-300:])
            return 1
        for i, (path, want) in enumerate(zip(outs, expected)):
            got = np.load(path)
            if got.shape != want.shape:
                print('output %d: shape %s, expected %s' % (i, got.shape,
                                                            want.shape))
                return 1
            if want.dtype.kind == 'f':
                ok = np.allclose(got, want, rtol=1e-4, atol=1e-5,
                                 equal_nan=True)
            else:
                ok = np.array_equal(got, want)
            if not ok:
                print('output %d differs (max error %s)' % (
                    i, np.max(np.abs(got.astype(np.float64) -
                                     want.astype(np.float64)))))
                return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
