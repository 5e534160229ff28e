"""png2npy.py OUT_DIR H W PNG...: writes OUT_DIR/<name>.npy for each 8-bit
RGB PNG: resized to H x W (bilinear, half-pixel), NHWC float32 pixels in
0..255 with a 4th channel of ones: MLSD's input (the model divides by 127.5
and subtracts 1 itself).  A small PNG decoder is included so that only
numpy is needed."""
import os
import struct
import sys
import zlib

import numpy as np


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def unfilter(raw, w, h, bpp):
    stride = w * bpp
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    pos = 0
    for y in range(h):
        ftype = raw[pos]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=pos + 1).astype(np.int32)
        pos += 1 + stride
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 255
        elif ftype in (1, 3, 4):
            cur = line.copy()
            for x in range(stride):
                left = cur[x - bpp] if x >= bpp else 0
                if ftype == 1:
                    pred = left
                elif ftype == 3:
                    pred = (left + prev[x]) >> 1
                else:
                    pred = paeth(left, prev[x], prev[x - bpp] if x >= bpp else 0)
                cur[x] = (cur[x] + pred) & 255
        else:
            raise ValueError('bad filter %d' % ftype)
        out[y] = cur
        prev = cur
    return out


def read_png(path):
    data = open(path, 'rb').read()
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6), 'only 8-bit RGB(A)'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    img = unfilter(zlib.decompress(idat), w, h, bpp).reshape(h, w, bpp)
    return img[:, :, :3].astype(np.float32)


def resize(img, oh, ow):
    h, w, _ = img.shape
    ys = np.clip((np.arange(oh) + 0.5) * h / oh - 0.5, 0, h - 1)
    xs = np.clip((np.arange(ow) + 0.5) * w / ow - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bot = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def main():
    out, h, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[4:]:
        img = resize(read_png(path), h, w)
        x = np.concatenate([img, np.ones((h, w, 1))], axis=2)
        x = x.astype(np.float32)[None]
        name = os.path.splitext(os.path.basename(path))[0]
        np.save(os.path.join(out, name + '.npy'), x)


main()
