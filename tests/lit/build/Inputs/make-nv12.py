"""Writes N NV12 frames of H x W pixels as raw .bin samples (the deployed
input of a model whose input_processors take NV12): H rows of Y, then H/2
rows of interleaved U, V.  Smooth gradients, a different one per frame.

usage: make-nv12.py DIR N H W"""
import os
import sys

out, n, h, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
for k in range(n):
    y = bytes((16 + (r * 7 + c * 5 + k * 23) % 220) for r in range(h) for c in range(w))
    uv = bytearray()
    for r in range(h // 2):
        for c in range(w // 2):
            uv.append(64 + (r * 9 + k * 17) % 128)
            uv.append(64 + (c * 11 + k * 29) % 128)
    with open(os.path.join(out, 'frame%02d.bin' % k), 'wb') as f:
        f.write(y + bytes(uv))
