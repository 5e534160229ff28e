"""Compares qir-run outputs with numpy reference computations.

compare.py [NAME=FILE.npy ...] [FLAGS] --check OUT.npy 'EXPR' [FLAGS] --check ...
compare.py OUT.npy 'EXPR' [NAME=FILE.npy ...] [FLAGS]

Each EXPR is evaluated with numpy as np, the reference functions of ref.py
and the named inputs.  FLAGS (--rtol R, --atol A, --exact) apply to the next
check (the default is rtol 1e-5, atol 1e-6).  Prints 'ok' per check or the
first mismatches; exit status 1 on any mismatch, shape or dtype difference."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref  # noqa: E402

DEFAULTS = {'rtol': 1e-5, 'atol': 1e-6, 'exact': False}


def parse(argv):
    env = {name: getattr(ref, name) for name in dir(ref) if not name.startswith('_')}
    env['np'] = np
    checks, flags, i = [], dict(DEFAULTS), 0
    if argv and not argv[0].startswith('-') and argv[0].endswith('.npy') and '=' not in argv[0]:
        checks.append([argv[0], argv[1], None])
        i = 2
    while i < len(argv):
        a = argv[i]
        if a in ('--rtol', '--atol'):
            flags[a[2:]] = float(argv[i + 1])
            i += 2
        elif a == '--exact':
            flags['exact'] = True
            i += 1
        elif a == '--check':
            checks.append([argv[i + 1], argv[i + 2], dict(flags)])
            flags = dict(DEFAULTS)
            i += 3
        else:
            name, path = a.split('=', 1)
            env[name] = np.load(path)
            i += 1
    for c in checks:  # the legacy form takes the flags given anywhere
        if c[2] is None:
            c[2] = flags
    return env, checks


def check(env, out, expr, f):
    got = np.load(out)
    want = np.asarray(eval(expr, env))
    name = os.path.basename(out)
    if got.shape != want.shape:
        print('%s: shape mismatch: got %s, want %s' % (name, got.shape, want.shape))
        return False
    if f['exact']:
        if got.dtype != want.dtype:
            print('%s: dtype mismatch: got %s, want %s' % (name, got.dtype, want.dtype))
            return False
        bad = np.argwhere(got != want)
    else:
        g, w = got.astype(np.float64), want.astype(np.float64)
        bad = np.argwhere(~np.isclose(g, w, rtol=f['rtol'], atol=f['atol'], equal_nan=True))
    if len(bad):
        for idx in bad[:5]:
            t = tuple(idx)
            print('%s: mismatch at %s: got %r, want %r' % (name, t, got[t], want[t]))
        print('%s: %d of %d elements differ' % (name, len(bad), got.size))
        return False
    print('%s: ok' % name)
    return True


def main(argv):
    env, checks = parse(argv)
    ok = True
    for out, expr, flags in checks:
        ok = check(env, out, expr, flags) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
