"""Generates QDQ ONNX models (quantized outside qir, in the form ONNX
Runtime's quantizer writes) for the QDQ import tests.

usage: qdq.py CASE OUT.onnx"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnxgen import floats, main, model, node, np, tensor, vi  # noqa: E402

RS = np.random.RandomState(11)


def qdq_pair(x, out, scale, zp):
    """QuantizeLinear then DequantizeLinear of x with initializers."""
    return [node('QuantizeLinear', [x, scale, zp], [out + '_q']),
            node('DequantizeLinear', [out + '_q', scale, zp], [out])]


def weights(name, shape, scales):
    """Per-output-channel int8 weights and their DequantizeLinear."""
    w = RS.randint(-127, 128, shape).astype(np.int8)
    inits = [tensor(name, w), floats(name + '_s', scales),
             tensor(name + '_z', np.zeros([len(scales)], np.int8))]
    return ([node('DequantizeLinear', [name, name + '_s', name + '_z'],
                  [name + '_d'], axis=0)], inits)


def bias(name, values, scales):
    inits = [tensor(name, np.array(values, np.int32)),
             floats(name + '_s', scales)]
    return [node('DequantizeLinear', [name, name + '_s'], [name + '_d'],
                 axis=0)], inits


def net(out):
    """Conv + Relu, MaxPool, a 4-bit activation (Clip of the quantized
    tensor), 1x1 Conv, residual Add, GlobalAveragePool, Flatten, Gemm."""
    sx, sw = 0.02, [0.004, 0.003, 0.005, 0.002]
    nodes, inits = [], [floats('sx', sx), tensor('zx', np.uint8(128)),
                        floats('sc', 0.05), tensor('zc', np.int8(-3)),
                        floats('s4', 0.25), tensor('z4', np.int8(0)),
                        floats('sa', 0.1), tensor('za', np.int8(0)),
                        floats('sg', 0.05), tensor('zg', np.int8(0)),
                        floats('sy', 0.04), tensor('zy', np.int8(1)),
                        tensor('lo', np.int8(-8)), tensor('hi', np.int8(7))]
    nodes += qdq_pair('x', 'xd', 'sx', 'zx')
    wn, wi = weights('w', [4, 3, 3, 3], sw)
    bn, bi = bias('b', [100, -200, 300, 50], [sx * s for s in sw])
    nodes += wn + bn
    inits += wi + bi
    nodes += [node('Conv', ['xd', 'w_d', 'b_d'], ['conv'], pads=[1, 1, 1, 1]),
              node('Relu', ['conv'], ['relu'])]
    nodes += qdq_pair('relu', 'relu_d', 'sc', 'zc')
    nodes += [node('MaxPool', ['relu_d'], ['pool'], kernel_shape=[2, 2],
                   strides=[2, 2]),
              node('QuantizeLinear', ['pool', 's4', 'z4'], ['pool_q']),
              node('Clip', ['pool_q', 'lo', 'hi'], ['pool_4']),
              node('DequantizeLinear', ['pool_4', 's4', 'z4'], ['pool_d'])]
    w2n, w2i = weights('w2', [4, 4, 1, 1], [0.01, 0.02, 0.015, 0.01])
    nodes += w2n
    inits += w2i
    nodes += [node('Conv', ['pool_d', 'w2_d'], ['conv2'])]
    nodes += qdq_pair('conv2', 'conv2_d', 'sc', 'zc')
    nodes += [node('Add', ['pool_d', 'conv2_d'], ['add'])]
    nodes += qdq_pair('add', 'add_d', 'sa', 'za')
    nodes += [node('GlobalAveragePool', ['add_d'], ['gap'])]
    nodes += qdq_pair('gap', 'gap_d', 'sg', 'zg')
    nodes += [node('Flatten', ['gap_d'], ['flat'])]
    nodes += qdq_pair('flat', 'flat_d', 'sg', 'zg')
    fw = RS.randint(-127, 128, [4, 5]).astype(np.int8)
    inits += [tensor('fw', fw), floats('fw_s', 0.01),
              tensor('fw_z', np.int8(0)),
              tensor('fb', np.array([10, -20, 30, 0, 5], np.int32)),
              floats('fb_s', 0.05 * 0.01)]
    nodes += [node('DequantizeLinear', ['fw', 'fw_s', 'fw_z'], ['fw_d']),
              node('DequantizeLinear', ['fb', 'fb_s'], ['fb_d']),
              node('Gemm', ['flat_d', 'fw_d', 'fb_d'], ['fc'])]
    nodes += qdq_pair('fc', 'y', 'sy', 'zy')
    return model(nodes, [vi('x', [1, 3, 8, 8])], [vi('y', [1, 5])], inits)


def int16(out):
    """16-bit activations with ONNX Runtime's com.microsoft operators."""
    nodes = [node('QuantizeLinear', ['x', 's', 'z'], ['xq']),
             node('DequantizeLinear', ['xq', 's', 'z'], ['xd']),
             node('Sigmoid', ['xd'], ['sig']),
             node('QuantizeLinear', ['sig', 's2', 'z2'], ['sq']),
             node('DequantizeLinear', ['sq', 's2', 'z2'], ['y'])]
    for n in nodes:
        if 'Linear' in n.op_type:
            n.domain = 'com.microsoft'
    return model(nodes, [vi('x', [1, 8])], [vi('y', [1, 8])],
                 [floats('s', 0.001), tensor('z', np.int16(0)),
                  floats('s2', 1 / 65536.0), tensor('z2', np.uint16(0))],
                 domains=['com.microsoft'])


def one_dq(x_init, scale, zp, axis=None):
    attrs = {} if axis is None else {'axis': axis}
    inputs = ['w', 's' if scale is not None else '']
    inits = [tensor('w', x_init)]
    if scale is not None:
        inits.append(floats('s', scale))
    if zp is not None:
        inputs.append('z')
        inits.append(tensor('z', zp))
    return model([node('DequantizeLinear', inputs, ['y'], name='dq', **attrs)],
                 [], [vi('y', list(x_init.shape))], inits)


def u8_input(out):
    """A model fed with uint8 images: DequantizeLinear of the graph input."""
    nodes = [node('DequantizeLinear', ['x', 'sx', 'zx'], ['xd']),
             node('Relu', ['xd'], ['r'])]
    nodes += qdq_pair('r', 'y', 'sy', 'zy')
    return model(nodes, [vi('x', [1, 3, 2, 2], 2)], [vi('y', [1, 3, 2, 2])],
                 [floats('sx', 1 / 255.0), tensor('zx', np.uint8(0)),
                  floats('sy', 0.5 / 127), tensor('zy', np.int8(0))])


W = np.ones([4, 3, 1, 1], np.int8)
CASES = {
    'net': net,
    'int16': int16,
    'u8-input': u8_input,
    'missing-scale': lambda out: one_dq(W, None, None),
    'zp-mismatch': lambda out: one_dq(W, 0.5, np.uint8(0)),
    'axis-range': lambda out: one_dq(W, [0.5] * 4, np.zeros([4], np.int8), 4),
    'scale-count': lambda out: one_dq(W, [0.5] * 3, np.zeros([3], np.int8),
                                      0),
    'scale-zero': lambda out: one_dq(W, 0.0, np.int8(0)),
    'dq-float': lambda out: one_dq(np.ones([2], np.float32), 0.5, None),
    'q-zp-int32': lambda out: model(
        [node('QuantizeLinear', ['x', 's', 'z'], ['y'], name='q')],
        [vi('x', [2])], [vi('y', [2], 6)],
        [floats('s', 0.5), tensor('z', np.int32(0))]),
    'clip-bounds': lambda out: model(
        [node('QuantizeLinear', ['x', 's', 'z'], ['xq'], name='q'),
         node('Clip', ['xq', 'lo', 'hi'], ['y'], name='clip')],
        [vi('x', [2])], [vi('y', [2], 3)],
        [floats('s', 0.5), tensor('z', np.int8(0)),
         tensor('lo', np.int8(-8)), tensor('hi', np.int8(-9))]),
}

if __name__ == '__main__':
    main(CASES)
