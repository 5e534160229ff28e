"""Writes a reproducible random .npy: gen.py OUT SHAPE DTYPE SEED [LO HI].

SHAPE is like 1x3x8x8 (or 'scalar'); floats are uniform in [LO, HI)
(default [-1, 1)), integers uniform in [LO, HI] (default [-5, 5])."""
import sys

import numpy as np

out, shape, dtype, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dims = () if shape == 'scalar' else tuple(int(d) for d in shape.split('x'))
rng = np.random.RandomState(seed)
dt = np.dtype(dtype)
if dt.kind == 'f':
    lo, hi = (float(sys.argv[5]), float(sys.argv[6])) if len(sys.argv) > 6 else (-1.0, 1.0)
    a = rng.uniform(lo, hi, size=dims).astype(dt)
elif dt.kind == 'b':
    a = rng.randint(0, 2, size=dims).astype(dt)
else:
    lo, hi = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (-5, 5)
    a = rng.randint(lo, hi + 1, size=dims).astype(dt)
np.save(out, a)
