"""Generates broken or unsupported ONNX models for the error lit tests.

usage: errors.py CASE OUT.onnx"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnxgen import (F, TensorProto, floats, helper, ints, main, model,  # noqa
                     node, np, tensor, vi)


def relu_model():
    return model([node('Relu', ['x'], ['y'])], [vi('x', [1, 4])],
                 [vi('y', [1, 4])])


def truncated(out):
    data = model([node('Add', ['x', 'w'], ['y'])], [vi('x', [64])],
                 [vi('y', [64])],
                 [floats('w', np.arange(64))]).SerializeToString()
    with open(out, 'wb') as f:
        f.write(data[:len(data) // 2])


def random_bytes(out):
    with open(out, 'wb') as f:
        f.write(bytes(random.Random(7).getrandbits(8) for _ in range(512)))


def custom_domain(out):
    return model([node('Relu', ['x'], ['r']),
                  helper.make_node('FancyOp', ['r'], ['y'], name='fancy_0',
                                   domain='com.example')],
                 [vi('x', [1, 4])], [vi('y', [1, 4])],
                 domains=['com.example'])


def opset_too_new(out):
    m = relu_model()
    m.opset_import[0].version = 19
    return m


def opset_too_old(out):
    m = relu_model()
    m.opset_import[0].version = 6
    return m


def unsupported(out):
    return model([
        node('GridSample', ['x', 'k'], ['v0'], name='grid_0'),
        node('Relu', ['v0'], ['r']),
        node('NonMaxSuppression', ['b', 's'], ['sel'], name='nms_1'),
        node('GridSample', ['r', 'k'], ['v3'], name='grid_3'),
        node('Det', ['r'], ['e']),
    ], [vi('x', [1, 8]), vi('b', [1, 4, 4]), vi('s', [1, 1, 4])],
        [vi('v3', [1, 2]), vi('sel', [None, 3], TensorProto.INT64),
         vi('e', [1, 2])],
        [ints('k', [2])])


def too_many_inputs(out):
    return model([node('Relu', ['x', 'x'], ['y'], name='relu_2')],
                 [vi('x', [1, 4])], [vi('y', [1, 4])])


def absurd_initializer(out):
    w = TensorProto()
    w.name = 'w'
    w.data_type = TensorProto.FLOAT
    w.dims.extend([1 << 40, 1 << 40])
    return model([node('Add', ['x', 'w'], ['y'])], [vi('x', [1, 4])],
                 [vi('y', [1, 4])], [w])


def absurd_input(out):
    return model([node('Relu', ['x'], ['y'])], [vi('x', [1, 1 << 40])],
                 [vi('y', [1, 1 << 40])])


def short_data(out):
    w = floats('w', [1, 2, 3, 4])
    w.raw_data = w.raw_data[:8]
    return model([node('Add', ['x', 'w'], ['y'])], [vi('x', [4])],
                 [vi('y', [4])], [w])


def inconsistent(out):
    return model([node('Add', ['a', 'b'], ['y'], name='bad_add')],
                 [vi('a', [2, 3]), vi('b', [4, 5])], [vi('y', [2, 3])])


def dynamic_reshape(out):
    return model([node('Reshape', ['x', 's'], ['y'], name='reshape_0')],
                 [vi('x', [2, 6]), vi('s', [2], TensorProto.INT64)],
                 [vi('y', [3, 4])])


def undefined_input(out):
    return model([node('Relu', ['nope'], ['y'], name='relu_0')],
                 [vi('x', [1, 4])], [vi('y', [1, 4])])


def missing_external(out):
    import onnx
    m = model([node('Add', ['x', 'w'], ['y'])], [vi('x', [64])],
              [vi('y', [64])], [floats('w', np.arange(64))])
    # onnx appends to an existing data file: start from scratch.
    for stale in (out + '.data', os.path.join(os.path.dirname(out),
                                              'gone.onnx.data')):
        if os.path.exists(stale):
            os.remove(stale)
    onnx.save_model(m, out, save_as_external_data=True,
                    location='gone.onnx.data', size_threshold=16)
    os.remove(os.path.join(os.path.dirname(out), 'gone.onnx.data'))


def external_out_of_bounds(out):
    import onnx
    m = model([node('Add', ['x', 'w'], ['y'])], [vi('x', [64])],
              [vi('y', [64])], [floats('w', np.arange(64))])
    # onnx appends to an existing data file: start from scratch.
    for stale in (out + '.data', os.path.join(os.path.dirname(out),
                                              'gone.onnx.data')):
        if os.path.exists(stale):
            os.remove(stale)
    onnx.save_model(m, out, save_as_external_data=True,
                    location=os.path.basename(out) + '.data',
                    size_threshold=16)
    with open(out + '.data', 'r+b') as f:
        f.truncate(100)


def dynamic_output(out):
    return model([node('ConstantOfShape', ['s'], ['z'], name='cos_0')],
                 [vi('s', [2], TensorProto.INT64)], [vi('z', [None, None])],
                 opset=9)


CASES = {
    'dynamic-output': dynamic_output,
    'truncated': truncated, 'random-bytes': random_bytes,
    'custom-domain': custom_domain, 'opset-too-new': opset_too_new,
    'opset-too-old': opset_too_old, 'unsupported': unsupported,
    'too-many-inputs': too_many_inputs,
    'absurd-initializer': absurd_initializer, 'absurd-input': absurd_input,
    'short-data': short_data, 'inconsistent': inconsistent,
    'dynamic-reshape': dynamic_reshape, 'undefined-input': undefined_input,
    'missing-external': missing_external,
    'external-out-of-bounds': external_out_of_bounds,
}

if __name__ == '__main__':
    main(CASES)
