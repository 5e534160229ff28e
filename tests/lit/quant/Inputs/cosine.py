"""cosine.py REF.npy X.npy MIN_COSINE: prints the cosine similarity of two
arrays and fails when it is below MIN_COSINE."""
import sys

import numpy as np

ref = np.load(sys.argv[1]).astype(np.float64).ravel()
x = np.load(sys.argv[2]).astype(np.float64).ravel()
cos = float(ref @ x / (np.linalg.norm(ref) * np.linalg.norm(x)))
print('cosine %.6f' % cos)
sys.exit(0 if cos >= float(sys.argv[3]) else 1)
