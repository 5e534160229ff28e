"""sample-cosines.py PA.json N: checks the per-sample cosines of a
precision-analysis JSON: N sample names, N cosines per output, and the
median and worst that match them; prints one line per output."""
import json
import statistics
import sys

doc = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert len(doc["samples"]) == n, doc["samples"]
for i, out in enumerate(doc["outputs"]):
    c = out["sample_cosines"]
    assert len(c) == n, c
    assert abs(out["worst_sample_cosine"] - min(c)) < 1e-12
    assert abs(out["median_sample_cosine"] - statistics.median(c)) < 1e-12
    assert all(0.9 < x <= 1.0 + 1e-12 for x in c), c
    print("output %d: %d samples, worst %s" % (i, len(c),
          "below median" if min(c) < statistics.median(c) else "at median"))
