"""Minimal PNG and PPM/PGM reading and writing with numpy and zlib (the
tests must not need PIL)."""
import struct
import zlib

import numpy as np

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))


def write_png(path, pixels, interlace=False):
    """pixels: HxW (gray), HxWx1..4 uint8 or uint16 array."""
    a = np.asarray(pixels)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    depth = 16 if a.dtype == np.uint16 else 8
    raw = a.astype('>u2' if depth == 16 else np.uint8).reshape(h, -1).tobytes()
    stride = len(raw) // h
    # Filter type 1 (sub) on odd rows, none on even ones, to exercise both.
    rows = []
    for y in range(h):
        line = np.frombuffer(raw[y * stride:(y + 1) * stride], np.uint8)
        if y % 2:
            bpp = c * depth // 8
            sub = line.copy()
            sub[bpp:] = (line[bpp:].astype(int) - line[:-bpp].astype(int)) % 256
            rows.append(b'\x01' + sub.tobytes())
        else:
            rows.append(b'\x00' + line.tobytes())
    ihdr = struct.pack('>IIBBBBB', w, h, depth, color, 0, 0, 0)
    data = (b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', ihdr) +
            _chunk(b'IDAT', zlib.compress(b''.join(rows), 9)) + _chunk(b'IEND', b''))
    with open(path, 'wb') as f:
        f.write(data)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path):
    """8-bit non-interlaced gray/RGB/RGBA PNGs -> HxWxC uint8."""
    data = open(path, 'rb').read()
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, color, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and interlace == 0 and color in _CHANNELS
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    c = _CHANNELS[color]
    raw = zlib.decompress(idat)
    stride = w * c
    out = np.zeros((h, stride), np.uint8)
    prev = [0] * stride
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = list(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - c] if i >= c else 0
            b = prev[i]
            cc = prev[i - c] if i >= c else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, cc)][f]
            line[i] = (line[i] + pred) % 256
        out[y] = line
        prev = line
    return out.reshape(h, w, c)


def read_pnm(path):
    """Binary PPM (P6) or PGM (P5) -> HxWxC uint8."""
    data = open(path, 'rb').read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    magic, w, h = fields[0], int(fields[1]), int(fields[2])
    c = 3 if magic == b'P6' else 1
    return np.frombuffer(data[pos + 1:], np.uint8).reshape(h, int(w), c)


def write_pnm(path, pixels):
    a = np.asarray(pixels, np.uint8)
    h, w, c = a.shape
    with open(path, 'wb') as f:
        f.write(b'%s\n%d %d\n255\n' % (b'P6' if c == 3 else b'P5', w, h))
        f.write(a.tobytes())
