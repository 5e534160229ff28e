#!/usr/bin/env python3
"""Writes calibration samples for models with an RGBA NHWC float input
(MLSD: 1x320x320x4, values in [-1, 1]) from the photographs of
examples/quickstart/calib: each PNG is decoded, resized (nearest) to the
input size, given an opaque alpha channel, scaled as x / 127.5 - 1 and
written as a float32 .npy file.  Needs only the Python standard library.

usage: make-rgba-calib.py OUT_DIR [SIZE]     (SIZE defaults to 320)
"""
import array
import glob
import os
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def decode_png(path):
    """8-bit RGB, non-interlaced PNG -> (width, height, rows of bytes)."""
    data = open(path, "rb").read()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype != 2 or interlace:
                sys.exit("%s: only 8-bit RGB non-interlaced PNGs" % path)
        elif kind == b"IDAT":
            idat += body
    raw, stride, rows = zlib.decompress(idat), width * 3, []
    prev, i = bytearray(stride), 0
    for _ in range(height):
        kind, cur = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = cur[x - 3] if x >= 3 else 0
            b, c = prev[x], (prev[x - 3] if x >= 3 else 0)
            pred = (0, a, b, (a + b) >> 1, paeth(a, b, c))[kind]
            cur[x] = (cur[x] + pred) & 255
        rows.append(cur)
        prev = cur
    return width, height, rows


def write_npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        if sys.byteorder == "big":
            values.byteswap()
        values.tofile(f)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 320
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for png in sorted(glob.glob(os.path.join(here, "..", "quickstart", "calib", "*.png"))):
        w, h, rows = decode_png(png)
        values = array.array("f")
        for y in range(size):
            row = rows[y * h // size]
            for x in range(size):
                px = (x * w // size) * 3
                values.extend([row[px] / 127.5 - 1, row[px + 1] / 127.5 - 1,
                               row[px + 2] / 127.5 - 1, 1.0])
        name = os.path.splitext(os.path.basename(png))[0] + ".npy"
        write_npy(os.path.join(out, name), (1, size, size, 4), values)


if __name__ == "__main__":
    main()
