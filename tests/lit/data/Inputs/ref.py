"""Reference for the calibration data tests: makes test images and checks
qir-data-dump's outputs against the preprocessing of
docs/Calibration-data.md done in numpy.

  ref.py png OUT.png H W C SEED [--16bit]   random image (C: 1 2 3 4)
  ref.py decoded OUT.npy IMAGE              what a decoder must give
  ref.py same A.npy B.npy                   exact equality (dtype, shape, data)
  ref.py samedir A B                        every .npy under A equals B's
  ref.py archive OUT DIR [--reverse] [--stream]
        packs DIR's files under a top folder: .tar, .tar.gz, .tgz or .zip
        (--reverse: members in reverse name order; --stream: zip members
        without sizes in their local headers)
  ref.py check GOT.npy IMAGE --size H W [--order RGB|BGR|GRAY] [--nhwc]
        [--mean a,b,c] [--std a,b,c] [--dtype float32|uint8|...]
        [--quant SCALE ZP QMIN QMAX]
"""
import sys

import numpy as np

import pngio


def load_image(path):
    if path.endswith('.png'):
        return pngio.read_png(path)
    return pngio.read_pnm(path)


def taps(n_in, n_out):
    """Half-pixel source taps: (i0, i1, w) per output coordinate."""
    o = np.arange(n_out, dtype=np.float64)
    s = (o + 0.5) * (np.float64(n_in) / np.float64(n_out)) - 0.5
    s = np.maximum(s, 0.0)
    i0 = np.minimum(np.floor(s).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, s - i0


def convert_channels(img, order):
    """uint8 HxWxC (C 1..4) -> float64 HxWxC' in the wanted order."""
    p = img.astype(np.float64)
    c = img.shape[2]
    if c < 3:
        g = p[:, :, :1]
        return g if order == 'GRAY' else np.concatenate([g, g, g], axis=2)
    if order == 'GRAY':
        return (0.299 * p[:, :, 0] + 0.587 * p[:, :, 1] + 0.114 * p[:, :, 2])[:, :, None]
    rgb = p[:, :, :3]
    return rgb[:, :, ::-1] if order == 'BGR' else rgb


def resize(p, h, w):
    y0, y1, wy = taps(p.shape[0], h)
    x0, x1, wx = taps(p.shape[1], w)
    wx = wx[None, :, None]
    wy = wy[:, None, None]
    top = p[y0][:, x0] * (1 - wx) + p[y0][:, x1] * wx
    bot = p[y1][:, x0] * (1 - wx) + p[y1][:, x1] * wx
    return top * (1 - wy) + bot * wy


def store(v, dtype, quant):
    if quant:
        scale, zp, qmin, qmax = quant
        q = np.rint(v / scale) + zp
        return np.clip(q, qmin, qmax).astype(dtype)
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(v), info.min, info.max).astype(dtype)
    if dtype == 'float16':
        return v.astype(np.float32).astype(np.float16)
    return v.astype(dtype)


def preprocess(img, h, w, order='RGB', nhwc=False, mean=None, std=None,
               dtype='float32', quant=None):
    p = resize(convert_channels(img, order), h, w)
    c = p.shape[2]
    mean = np.resize(np.array(mean or [0.0], np.float64), c)
    std = np.resize(np.array(std or [1.0], np.float64), c)
    p = (p - mean) / std
    p = p[None] if nhwc else p.transpose(2, 0, 1)[None]
    return store(p, dtype, quant)


def archive(out, src, reverse=False, stream=False):
    import os
    import tarfile
    import zipfile
    names = []
    for root, _, files in os.walk(src):
        names += [os.path.join(root, f) for f in files]
    names.sort(reverse=reverse)
    top = os.path.basename(os.path.normpath(src))
    if out.endswith('.zip'):
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
            for n in names:
                arc = os.path.join(top, os.path.relpath(n, src))
                if stream:
                    with open(n, 'rb') as f, z.open(arc, 'w', force_zip64=False) as w:
                        w.write(f.read())
                else:
                    z.write(n, arc)
        return
    mode = 'w:gz' if out.endswith(('.gz', '.tgz')) else 'w'
    with tarfile.open(out, mode) as t:
        t.add(src, arcname=top, recursive=False)
        for n in names:
            t.add(n, arcname=os.path.join(top, os.path.relpath(n, src)))


def floats(s):
    return [float(x) for x in s.split(',')]


def main(argv):
    cmd = argv[0]
    if cmd == 'png':
        out, h, w, c, seed = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5])
        rng = np.random.default_rng(seed)
        if '--16bit' in argv:
            a = rng.integers(0, 65536, size=(h, w, c), dtype=np.uint16)
        else:
            a = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
        pngio.write_png(out, a)
        return 0
    if cmd == 'decoded':
        np.save(argv[1], load_image(argv[2]))
        return 0
    if cmd == 'archive':
        archive(argv[1], argv[2], '--reverse' in argv, '--stream' in argv)
        return 0
    if cmd == 'samedir':
        import glob
        import os
        files = sorted(glob.glob(os.path.join(argv[1], '**', '*.npy'), recursive=True))
        for f in files:
            g = os.path.join(argv[2], os.path.relpath(f, argv[1]))
            a, b = np.load(f), np.load(g)
            if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b):
                print('differ: %s' % g)
                return 1
        print('%d files same' % len(files))
        return 0
    if cmd == 'same':
        a, b = np.load(argv[1]), np.load(argv[2])
        ok = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        print('same' if ok else 'differ: %s %s vs %s %s' % (a.dtype, a.shape, b.dtype, b.shape))
        return 0 if ok else 1
    got = np.load(argv[1])
    img = load_image(argv[2])
    opts = dict(order='RGB', nhwc=False, mean=None, std=None, dtype='float32', quant=None)
    i, h, w = 3, img.shape[0], img.shape[1]
    while i < len(argv):
        a = argv[i]
        if a == '--size':
            h, w = int(argv[i + 1]), int(argv[i + 2])
            i += 3
            continue
        if a == '--nhwc':
            opts['nhwc'] = True
        elif a == '--quant':
            opts['quant'] = [float(argv[i + 1]), int(argv[i + 2]), int(argv[i + 3]), int(argv[i + 4])]
            i += 5
            continue
        else:
            key = a[2:]
            val = argv[i + 1]
            opts[key] = floats(val) if key in ('mean', 'std') else val
            i += 1
        i += 1
    want = preprocess(img, h, w, **opts)
    if got.dtype != want.dtype or got.shape != want.shape:
        print('mismatch: got %s %s, want %s %s' % (got.dtype, got.shape, want.dtype, want.shape))
        return 1
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)
        print('mismatch at %d elements, first %s: got %r want %r' % (
            len(bad), tuple(bad[0]), got[tuple(bad[0])], want[tuple(bad[0])]))
        return 1
    print('exact: %s %s' % (got.dtype, 'x'.join(map(str, got.shape))))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
