"""Folds random constant expressions with `qir-opt -pass=fold` and compares
the folded constants with numpy: broadcasting binary ops, reductions,
transpose, slice (ONNX clamping, negative steps) and gather.

Usage: fold_vs_numpy.py QIR-OPT [CASES]; prints one line per mismatch and a
summary `checked N cases, M mismatches`; exits 1 on a mismatch."""
import re
import subprocess
import sys

import numpy as np

QIR_OPT = sys.argv[1]
CASES = int(sys.argv[2]) if len(sys.argv) > 2 else 40
rng = np.random.default_rng(1234)
DTYPES = {'f32': np.float32, 'i64': np.int64, 'i32': np.int32}


def tensor_type(shape, el):
    return 'tensor<%s%s>' % (''.join('%dx' % d for d in shape), el)


def dense(a, el):
    flat = a.reshape(-1)
    if el == 'f32':
        body = ', '.join(repr(float(v)) for v in flat)
    else:
        body = ', '.join(str(int(v)) for v in flat)
    return 'dense<[%s]> : %s' % (body, tensor_type(a.shape, el))


def binary_cases():
    ops = {'add': np.add, 'sub': np.subtract, 'mul': np.multiply,
           'max': np.maximum, 'min': np.minimum}
    for _ in range(CASES):
        sa = list(rng.integers(1, 4, size=rng.integers(0, 4)))
        sb = [1 if rng.random() < 0.3 else d
              for d in sa[len(sa) - rng.integers(0, len(sa) + 1):]]
        if rng.random() < 0.5:
            sa, sb = sb, sa
        el = str(rng.choice(['f32', 'i64']))
        a = rng.integers(-5, 6, size=sa).astype(DTYPES[el])
        b = rng.integers(-5, 6, size=sb).astype(DTYPES[el])
        if el == 'f32':
            a, b = a * np.float32(0.5), b * np.float32(0.25)
        op = str(rng.choice(list(ops)))
        yield op, [(a, el), (b, el)], '', ops[op](a, b)


def reduce_cases():
    fns = {'reduce_sum': np.sum, 'reduce_max': np.max, 'reduce_min': np.min,
           'reduce_mean': np.mean}
    for _ in range(CASES):
        shape = list(rng.integers(1, 4, size=rng.integers(1, 4)))
        a = rng.integers(-9, 9, size=shape).astype(np.float32)
        axes = sorted(set(int(x) for x in
                          rng.integers(0, len(shape), size=rng.integers(1, 3))))
        keep = int(rng.integers(0, 2))
        op = str(rng.choice(list(fns)))
        attr = ' {axes = [%s], keepdims = %d}' % (', '.join(map(str, axes)), keep)
        yield op, [(a, 'f32')], attr, fns[op](a, axis=tuple(axes),
                                               keepdims=bool(keep))


def movement_cases():
    for _ in range(CASES):
        shape = list(rng.integers(1, 5, size=rng.integers(1, 4)))
        a = rng.integers(-9, 9, size=shape).astype(np.int32)
        perm = [int(p) for p in rng.permutation(len(shape))]
        yield ('transpose', [(a, 'i32')],
               ' {perm = [%s]}' % ', '.join(map(str, perm)), a.transpose(perm))
        ax = int(rng.integers(0, len(shape)))
        d = shape[ax]
        st, en = (int(v) for v in rng.integers(-d - 2, d + 2, size=2))
        step = int(rng.choice([1, 2, 3, -1, -2]))
        index = [slice(None)] * len(shape)
        index[ax] = slice(st, en, step)  # numpy clamps as ONNX Slice does
        yield ('slice', [(a, 'i32')],
               ' {starts = [%d], ends = [%d], axes = [%d], steps = [%d]}'
               % (st, en, ax, step), a[tuple(index)])
        idx = rng.integers(-d, d, size=rng.integers(1, 3)).astype(np.int64)
        yield ('gather', [(a, 'i32'), (idx, 'i64')], ' {axis = %d}' % ax,
               np.take(a, np.where(idx < 0, idx + d, idx), axis=ax))


def fold_all(sources):
    """Runs qir-opt once over every case; the folded output of each."""
    out = subprocess.run([QIR_OPT, '-', '-split-input-file', '-pass=fold'],
                         input='// -----\n'.join(sources),
                         capture_output=True, text=True, check=True).stdout
    chunks = re.split(r'^// -----$', out, flags=re.M)
    assert len(chunks) == len(sources), 'qir-opt printed %d chunks' % len(chunks)
    return chunks


def folded(out):
    m = re.search(r'%r = constant \{value = (dense|dense_resource)<(.*?)> : '
                  r'tensor<([^>]*)>', out)
    if not m:
        return None, None
    dims = m.group(3).split('x')
    el, shape = dims[-1], [int(d) for d in dims[:-1]]
    if m.group(1) == 'dense_resource':
        hexdata = re.search(r'\n  %s: "0x([0-9A-Fa-f]*)"' % m.group(2),
                            out).group(1)
        vals = np.frombuffer(bytes.fromhex(hexdata), dtype=DTYPES[el])
    else:
        vals = np.array([float(v) for v in
                         re.findall(r'[-+\w.]+', m.group(2))], np.float64)
    n = int(np.prod(shape)) if shape else 1
    if vals.size == 1 and n != 1:
        vals = np.repeat(vals, n)
    return shape, vals.astype(np.float64)


def main():
    cases = []
    for gen in (binary_cases, reduce_cases, movement_cases):
        for op, ins, attr, want in gen():
            lines = ['  %%c%d = constant {value = %s} : %s'
                     % (i, dense(a, el), tensor_type(a.shape, el))
                     for i, (a, el) in enumerate(ins)]
            lines.append('  %%r = %s(%s)%s' % (
                op, ', '.join('%%c%d' % i for i in range(len(ins))), attr))
            src = 'func @f() -> () {\n%s\n  return()\n}\n' % '\n'.join(lines)
            cases.append((op, attr, np.asarray(want), src))
    bad = 0
    for (op, attr, want, _), out in zip(cases,
                                        fold_all([c[3] for c in cases])):
        shape, vals = folded(out)
        if shape is None:
            print('not folded: %s%s' % (op, attr))
            bad += 1
        elif shape != list(want.shape) or not np.allclose(
                vals, want.reshape(-1).astype(np.float64), rtol=1e-6):
            print('mismatch: %s%s: got %s %s, want %s %s' % (
                op, attr, shape, vals[:6], list(want.shape),
                want.reshape(-1)[:6]))
            bad += 1
    print('checked %d cases, %d mismatches' % (len(cases), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
