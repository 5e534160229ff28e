"""Generates ONNX models with bad uses of the lowered and index operators
for error-lowered-ops.test.

usage: bad_ops.py --dir DIR CASE..."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnxgen import I64, ints, main, model, node, vi  # noqa: E402

CASES = {
    'lrn-size': lambda out: model(
        [node('LRN', ['x'], ['y'], name='lrn', size=0)],
        [vi('x', [1, 4, 2, 2])], [vi('y', [1, 4, 2, 2])]),
    'onehot-depth': lambda out: model(
        [node('OneHot', ['i', 'd', 'v'], ['y'], name='oh')],
        [vi('i', [3], I64), vi('d', [1], I64), vi('v', [2])],
        [vi('y', [3, 4])], opset=11),
    'cumsum-axis': lambda out: model(
        [node('CumSum', ['x', 'a'], ['y'], name='cs')],
        [vi('x', [3]), vi('a', [], I64)], [vi('y', [3])]),
    'topk-k': lambda out: model(
        [node('TopK', ['x', 'k'], ['v', 'i'], name='tk')],
        [vi('x', [3]), vi('k', [1], I64)], [vi('v', [2]), vi('i', [2], I64)]),
    'topk-range': lambda out: model(
        [node('TopK', ['x', 'k'], ['v', 'i'], name='tk')],
        [vi('x', [3])], [vi('v', [5]), vi('i', [5], I64)], [ints('k', [5])]),
    'compress-cond': lambda out: model(
        [node('Compress', ['x', 'c'], ['y'], name='cp', axis=0)],
        [vi('x', [3]), vi('c', [3], 9)], [vi('y', [None])]),
    'einsum-ellipsis': lambda out: model(
        [node('Einsum', ['a', 'b'], ['y'], name='es',
              equation='...ij,...jk->...ik')],
        [vi('a', [2, 3]), vi('b', [3, 4])], [vi('y', [2, 4])], opset=12),
    'einsum-sizes': lambda out: model(
        [node('Einsum', ['a', 'b'], ['y'], name='es', equation='ij,jk->ik')],
        [vi('a', [2, 3]), vi('b', [4, 4])], [vi('y', [2, 4])], opset=12),
}

if __name__ == '__main__':
    main(CASES)
