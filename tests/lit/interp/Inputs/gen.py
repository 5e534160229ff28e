"""Writes reproducible random .npy files.

gen.py OUT SHAPE DTYPE SEED [LO HI] [+ OUT SHAPE DTYPE SEED [LO HI] ...]

SHAPE is like 1x3x8x8 (or 'scalar'); floats are uniform in [LO, HI)
(default [-1, 1)), integers uniform in [LO, HI] (default [-5, 5])."""
import sys

import numpy as np


def gen(out, shape, dtype, seed, *bounds):
    dims = () if shape == 'scalar' else tuple(int(d) for d in shape.split('x'))
    rng = np.random.RandomState(int(seed))
    dt = np.dtype(dtype)
    if dt.kind == 'f':
        lo, hi = (float(bounds[0]), float(bounds[1])) if bounds else (-1.0, 1.0)
        a = rng.uniform(lo, hi, size=dims).astype(dt)
    elif dt.kind == 'b':
        a = rng.randint(0, 2, size=dims).astype(dt)
    else:
        lo, hi = (int(bounds[0]), int(bounds[1])) if bounds else (-5, 5)
        a = rng.randint(lo, hi + 1, size=dims).astype(dt)
    np.save(out, a)


spec = []
for arg in sys.argv[1:] + ['+']:
    if arg == '+':
        gen(*spec)
        spec = []
    else:
        spec.append(arg)
