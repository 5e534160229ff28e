"""Helpers for the ONNX lit tests: build small models with python3-onnx.

onnx 1.12 refers to numpy aliases that numpy 1.24 removed; restore them
before importing onnx."""
import sys
import warnings

import numpy as np

warnings.filterwarnings('ignore')
for _name, _alias in (('float', float), ('int', int), ('bool', bool),
                      ('object', object), ('str', str), ('complex', complex)):
    if not hasattr(np, _name):
        setattr(np, _name, _alias)

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402,F401

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def vi(name, shape, elem=F):
    """A graph input or output; None entries of shape are dynamic."""
    return helper.make_tensor_value_info(name, elem, shape)


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return tensor(name, np.array(values, dtype=np.int64))


def floats(name, values):
    return tensor(name, np.array(values, dtype=np.float32))


def rand(name, shape, seed=0):
    rs = np.random.RandomState(seed)
    return tensor(name, rs.uniform(-1, 1, shape).astype(np.float32))


def node(op, inputs, outputs, name=None, **attrs):
    return helper.make_node(op, inputs, outputs, name=name or outputs[0],
                            **attrs)


def model(nodes, inputs, outputs, inits=(), opset=13, name='test',
          domains=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    opsets = [helper.make_opsetid('', opset)]
    opsets += [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=opsets,
                          producer_name='qir-tests')
    m.ir_version = 7
    return m


def save(m, path):
    with open(path, 'wb') as f:
        f.write(m.SerializeToString())


def main(cases):
    """usage: script.py CASE OUT.onnx
       script.py --dir DIR CASE... (writes DIR/CASE.onnx for each case)"""
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == '--dir':
        jobs = [(c, '%s/%s.onnx' % (args[1], c)) for c in args[2:]]
        import os
        os.makedirs(args[1], exist_ok=True)
    elif len(args) == 2:
        jobs = [(args[0], args[1])]
    else:
        jobs = []
    if not jobs or any(c not in cases for c, _ in jobs):
        sys.exit('usage: %s {%s} OUT.onnx' % (sys.argv[0],
                                             '|'.join(sorted(cases))))
    for case, path in jobs:
        result = cases[case](path)
        if result is not None:
            save(result, path)
