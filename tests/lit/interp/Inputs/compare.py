"""Compares a qir-run output with a numpy reference computation.

compare.py OUT.npy 'EXPR' [NAME=FILE.npy ...] [--rtol R] [--atol A] [--exact]

EXPR is evaluated with numpy as np, the reference functions of ref.py and
the named inputs.  Prints 'ok' or the first mismatches; exit status 1 on a
mismatch, a shape or a dtype difference."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref  # noqa: E402


def main(argv):
    out, expr = argv[0], argv[1]
    rtol, atol, exact = 1e-5, 1e-6, False
    env = {name: getattr(ref, name) for name in dir(ref) if not name.startswith('_')}
    env['np'] = np
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == '--rtol':
            rtol = float(argv[i + 1]); i += 2; continue
        if a == '--atol':
            atol = float(argv[i + 1]); i += 2; continue
        if a == '--exact':
            exact = True; i += 1; continue
        name, path = a.split('=', 1)
        env[name] = np.load(path)
        i += 1
    got = np.load(out)
    want = np.asarray(eval(expr, env))
    if got.shape != want.shape:
        print('shape mismatch: got %s, want %s' % (got.shape, want.shape))
        return 1
    if exact:
        if got.dtype != want.dtype:
            print('dtype mismatch: got %s, want %s' % (got.dtype, want.dtype))
            return 1
        bad = np.argwhere(got != want)
    else:
        g, w = got.astype(np.float64), want.astype(np.float64)
        bad = np.argwhere(~np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True))
    if len(bad):
        for idx in bad[:5]:
            t = tuple(idx)
            print('mismatch at %s: got %r, want %r' % (t, got[t], want[t]))
        print('%d of %d elements differ' % (len(bad), got.size))
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
