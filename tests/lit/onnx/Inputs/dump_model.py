"""Prints an ONNX model's structure for FileCheck: opsets, inputs,
outputs, initializers (name, type, dims) and nodes (type, inputs, outputs,
attributes).  Runs the ONNX checker first.

usage: dump_model.py MODEL.onnx"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnxgen import helper, onnx  # noqa: E402


def shape(vi):
    t = vi.type.tensor_type
    dims = [str(d.dim_value) if d.HasField('dim_value') else d.dim_param
            for d in t.shape.dim]
    return '%s %s[%s]' % (vi.name, onnx.TensorProto.DataType.Name(t.elem_type),
                          'x'.join(dims))


def main(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print('opset', ' '.join('%s:%d' % (o.domain or 'ai.onnx', o.version)
                            for o in m.opset_import))
    g = m.graph
    for vi in g.input:
        print('input', shape(vi))
    for vi in g.output:
        print('output', shape(vi))
    for t in g.initializer:
        print('initializer %s %s [%s]' % (
            t.name, onnx.TensorProto.DataType.Name(t.data_type),
            'x'.join(map(str, t.dims))))
    for n in g.node:
        attrs = ', '.join('%s=%s' % (a.name, helper.get_attribute_value(a))
                          for a in n.attribute)
        print('node %s(%s) -> %s {%s}' % (n.op_type, ', '.join(n.input),
                                          ', '.join(n.output), attrs))


if __name__ == '__main__':
    main(sys.argv[1])
