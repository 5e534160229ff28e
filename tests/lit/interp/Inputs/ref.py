"""Naive numpy references of qir ops for the interpreter tests, including
the integer quantization arithmetic of docs/Quantization.md."""
import math

import numpy as np


def conv2d(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    og = o // group
    y = np.zeros((n, o, oh, ow))
    for oc in range(o):
        g = oc // og
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg,
                           i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
                y[:, oc] += np.einsum('nchw,c->nhw', patch, w[oc, :, i, j])
        if b is not None:
            y[:, oc] += b[oc]
    return y


def conv_transpose2d(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0),
                     dilations=(1, 1), group=1, output_padding=(0, 0)):
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    oh = (h - 1) * sh - pt - pb + (kh - 1) * dh + 1 + output_padding[0]
    ow = (wd - 1) * sw - pl - pr + (kw - 1) * dw + 1 + output_padding[1]
    cg = c // group
    full = np.zeros((n, og * group, oh + pt + pb + sh * 2 + kh * dh, ow + pl + pr + sw * 2 + kw * dw))
    for ci in range(c):
        g = ci // cg
        for oo in range(og):
            for i in range(kh):
                for j in range(kw):
                    full[:, g * og + oo, i * dh:i * dh + sh * (h - 1) + 1:sh,
                         j * dw:j * dw + sw * (wd - 1) + 1:sw] += x[:, ci] * w[ci, oo, i, j]
    y = full[:, :, pt:pt + oh, pl:pl + ow]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def pool2d(x, kind, kernel, strides=(1, 1), pads=(0, 0, 0, 0), ceil_mode=0,
           count_include_pad=0, dilations=(1, 1)):
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    rnd = math.ceil if ceil_mode else math.floor
    oh = int(rnd((h + pt + pb - (kh - 1) * dh - 1) / sh)) + 1
    ow = int(rnd((w + pl + pr - (kw - 1) * dw - 1) / sw)) + 1
    if ceil_mode:  # the last window must start inside the input or the top/left pad
        if (oh - 1) * sh >= h + pt:
            oh -= 1
        if (ow - 1) * sw >= w + pl:
            ow -= 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - pt, j * sw - pl
            if kind == 'max':
                vals = []
                for a in range(kh):
                    for b in range(kw):
                        ih, iw = h0 + a * dh, w0 + b * dw
                        if 0 <= ih < h and 0 <= iw < w:
                            vals.append(x[:, :, ih, iw])
                y[:, :, i, j] = np.max(np.stack(vals), axis=0)
            else:
                h1, w1 = min(h0 + kh, h + pb), min(w0 + kw, w + pr)
                size = (h1 - h0) * (w1 - w0)
                hs, ws = max(h0, 0), max(w0, 0)
                he, we = min(h1, h), min(w1, w)
                s = x[:, :, hs:he, ws:we].astype(np.float64).sum(axis=(2, 3))
                y[:, :, i, j] = s / (size if count_include_pad else (he - hs) * (we - ws))
    return y


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def erf(x):
    return np.vectorize(math.erf)(x.astype(np.float64))


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def softplus(x):
    return np.log1p(np.exp(x.astype(np.float64)))


def resize(x, out_hw, mode='nearest', coord='half_pixel', nearest='round_prefer_floor', a=-0.75):
    n, c, h, w = x.shape
    oh, ow = out_hw

    def coords(o, inn, out):
        s = out / inn
        if coord == 'asymmetric':
            return o / s
        if coord == 'align_corners':
            return o * (inn - 1) / (out - 1) if out > 1 else 0.0 * o
        if coord == 'pytorch_half_pixel':
            return (o + 0.5) / s - 0.5 if out > 1 else 0.0 * o
        if coord == 'tf_half_pixel_for_nn':
            return (o + 0.5) / s
        return (o + 0.5) / s - 0.5

    def taps(inn, out):
        cs = coords(np.arange(out, dtype=np.float64), inn, out)
        m = np.zeros((out, inn))
        for o, cc in enumerate(cs):
            if mode == 'nearest':
                if nearest == 'floor':
                    r = math.floor(cc)
                elif nearest == 'ceil':
                    r = math.ceil(cc)
                elif nearest == 'round_prefer_ceil':
                    r = math.floor(cc + 0.5)
                else:
                    r = math.ceil(cc - 0.5)
                m[o, min(max(r, 0), inn - 1)] = 1
            elif mode == 'linear':
                cc = min(max(cc, 0), inn - 1)
                i0 = int(math.floor(cc))
                i1 = min(i0 + 1, inn - 1)
                m[o, i0] += 1 - (cc - i0)
                m[o, i1] += cc - i0
            else:
                i0 = int(math.floor(cc))
                t = cc - i0
                for k, d in enumerate((1 + t, t, 1 - t, 2 - t)):
                    d = abs(d)
                    wgt = ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else \
                        ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0
                    m[o, min(max(i0 - 1 + k, 0), inn - 1)] += wgt
        return m

    mh, mw = taps(h, oh), taps(w, ow)
    return np.einsum('ih,nchw,jw->ncij', mh, x.astype(np.float64), mw)


# ---- Integer quantization arithmetic (docs/Quantization.md) -----------------

INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


def quantize(x, scale, zp, qmin, qmax, dtype):
    q = np.round(x.astype(np.float64) / scale) + zp  # np.round: half to even
    return np.clip(q, qmin, qmax).astype(dtype)


def dequantize(q, scale, zp):
    return (scale * (q.astype(np.float64) - zp)).astype(np.float32)


def multiplier(real):
    if real == 0:
        return 0, 0
    f, e = math.frexp(real)
    m = int(math.floor(f * 2 ** 31 + 0.5))
    if m == 2 ** 31:
        m //= 2
        e += 1
    if e < -62:
        return 0, 0
    return m, e


def srdhm(a, b):
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    q = abs(v) // (1 << 31)
    return q if v >= 0 else -q


def rdbpot(x, e):
    if e <= 0:
        return x
    if e > 31:
        return 0
    mask = (1 << e) - 1
    rem = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > threshold else 0)


def mul_by_multiplier(x, m, shift):
    if m == 0:
        return 0
    left, right = max(shift, 0), max(-shift, 0)
    v = min(max(x * (1 << left), INT32_MIN), INT32_MAX)
    return rdbpot(srdhm(v, m), right)


def requantize_acc(acc, real, zp, qmin, qmax):
    m, s = multiplier(real)
    return min(max(mul_by_multiplier(int(acc), m, s) + zp, qmin), qmax)


def q_conv2d(xq, sx, zx, wq, sw, bq, sy, zy, qmin, qmax, **kw):
    """Quantized conv2d: int accumulation of (x - zx) * w (+ bias), then
    requantization per output channel.  sw: per-channel scales."""
    acc = conv2d((xq.astype(np.int64) - zx).astype(np.float64), wq.astype(np.float64), None, **kw)
    acc = np.rint(acc).astype(np.int64)
    y = np.zeros(acc.shape, dtype=np.int64)
    for o in range(acc.shape[1]):
        b = int(bq[o]) if bq is not None else 0
        for idx in np.ndindex(acc.shape[0], *acc.shape[2:]):
            n, i, j = idx
            y[n, o, i, j] = requantize_acc(acc[n, o, i, j] + b, sx * sw[o] / sy, zy, qmin, qmax)
    return y


def q_conv2d_real(xq, sx, zx, wq, sw, bq, sy, zy, qmin, qmax, act=None,
                  post_mul=None, post_add=None, **kw):
    """Quantized conv2d through real values: acc * s_x * s_w[c] in double
    rounded to f32, the activation in f32, then the post-activation affine
    (an f32 product, then an f32 sum), quantized in double."""
    acc = conv2d((xq.astype(np.int64) - zx).astype(np.float64), wq.astype(np.float64), None, **kw)
    acc = np.rint(acc).astype(np.int64)
    if bq is not None:
        acc += np.asarray(bq, dtype=np.int64).reshape(1, -1, 1, 1)
    s_acc = sx * np.asarray(sw, dtype=np.float64).reshape(1, -1, 1, 1)
    v = (acc.astype(np.float64) * s_acc).astype(np.float32)
    f32 = np.float32
    if act == 'relu':
        v = np.maximum(v, f32(0))
    elif act == 'hard_swish':
        v = v * np.minimum(f32(1), np.maximum(f32(0), v / f32(6) + f32(0.5)))
    if post_mul is not None:
        v = v * f32(post_mul)
    if post_add is not None:
        v = v + f32(post_add)
    return quantize(v, sy, zy, qmin, qmax, np.int64)


def q_add(aq, sa, za, bq, sb, zb, sy, zy, qmin, qmax, subtract=False):
    shift = 20
    twice = 2 * max(sa, sb)
    ma, ea = multiplier(sa / twice)
    mb, eb = multiplier(sb / twice)
    a, b = np.broadcast_arrays(aq.astype(np.int64), bq.astype(np.int64))
    y = np.zeros(a.shape, dtype=np.int64)
    for idx in np.ndindex(*a.shape):
        xa = mul_by_multiplier((int(a[idx]) - za) << shift, ma, ea)
        xb = mul_by_multiplier((int(b[idx]) - zb) << shift, mb, eb)
        s = xa - xb if subtract else xa + xb
        y[idx] = requantize_acc(s, twice / ((1 << shift) * sy), zy, qmin, qmax)
    return y


def q_mul(aq, sa, za, bq, sb, zb, sy, zy, qmin, qmax):
    a, b = np.broadcast_arrays(aq.astype(np.int64), bq.astype(np.int64))
    y = np.zeros(a.shape, dtype=np.int64)
    for idx in np.ndindex(*a.shape):
        y[idx] = requantize_acc((int(a[idx]) - za) * (int(b[idx]) - zb), sa * sb / sy, zy, qmin, qmax)
    return y


def q_requantize(xq, sx, zx, sy, zy, qmin, qmax):
    y = np.zeros(xq.shape, dtype=np.int64)
    for idx in np.ndindex(*xq.shape):
        y[idx] = requantize_acc(int(xq[idx]) - zx, sx / sy, zy, qmin, qmax)
    return y


def q_avg_pool_global(xq, sx, zx, sy, zy, qmin, qmax):
    """Global average pool: round_half_away(sum * sx / (sy * n)) + zy."""
    n = xq.shape[2] * xq.shape[3]
    s = (xq.astype(np.int64) - zx).sum(axis=(2, 3), keepdims=True)
    y = np.zeros(s.shape, dtype=np.int64)
    for idx in np.ndindex(*s.shape):
        m, e = multiplier(sx / (sy * n))
        p = int(s[idx]) * m
        r = 31 - e
        mag = (abs(p) + (1 << (r - 1))) >> r
        y[idx] = min(max((mag if p >= 0 else -mag) + zy, qmin), qmax)
    return y


def q_matmul(aq, sa, za, bq, sb, zb, sy, zy, qmin, qmax, bias=None):
    """a: per tensor; b: scales/zero points per column (lists)."""
    a = aq.astype(np.int64) - za
    b = bq.astype(np.int64) - np.asarray(zb, dtype=np.int64)
    acc = np.matmul(a, b)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    y = np.zeros(acc.shape, dtype=np.int64)
    for idx in np.ndindex(*acc.shape):
        j = idx[-1]
        y[idx] = requantize_acc(acc[idx], sa * sb[j] / sy, zy, qmin, qmax)
    return y
