"""Generates the small ONNX models of the operator lit tests.

usage: ops.py CASE OUT.onnx"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnxgen import (F, I64, TensorProto, floats, helper, ints, main,  # noqa
                     model, node, np, rand, tensor, vi)

X4 = [1, 4, 8, 8]


def conv(out):
    return model([
        node('Conv', ['x', 'w', 'b'], ['c1'], pads=[1, 1, 1, 1],
             strides=[2, 2], kernel_shape=[3, 3]),
        node('Conv', ['c1', 'dw'], ['c2'], group=8, dilations=[2, 2],
             pads=[2, 2, 2, 2]),
        node('Conv', ['c2', 'w2'], ['c3'], auto_pad='SAME_UPPER',
             strides=[2, 2]),
        node('Conv', ['c3', 'w3'], ['c4'], pads=[0, 1, 1, 0]),
    ], [vi('x', X4)], [vi('c4', [1, 2, 2, 2])],
        [rand('w', [8, 4, 3, 3]), rand('b', [8]), rand('dw', [8, 1, 3, 3]),
         rand('w2', [4, 8, 3, 3]), rand('w3', [2, 4, 2, 2])])


def conv1d(out):
    return model([node('Conv', ['x', 'w'], ['y'], pads=[1, 1])],
                 [vi('x', [1, 4, 16])], [vi('y', [1, 6, 16])],
                 [rand('w', [6, 4, 3])])


def conv_transpose(out):
    return model([
        node('ConvTranspose', ['x', 'w', 'b'], ['y'], strides=[2, 2],
             pads=[1, 1, 1, 1], output_padding=[1, 1]),
        node('ConvTranspose', ['x', 'w'], ['z'], strides=[2, 2],
             output_shape=[16, 16]),
    ], [vi('x', X4)], [vi('y', [1, 2, 16, 16]), vi('z', [1, 2, 16, 16])],
        [rand('w', [4, 2, 3, 3]), rand('b', [2])])


def gemm(out):
    return model([
        node('Gemm', ['a', 'w', 'c'], ['y'], alpha=0.5, transB=1),
        node('MatMul', ['y', 'm'], ['z']),
    ], [vi('a', [2, 8])], [vi('z', [2, 3])],
        [rand('w', [4, 8]), rand('c', [4]), rand('m', [4, 3])])


def matmul(out):
    return model([node('MatMul', ['a', 'b'], ['y'])],
                 [vi('a', [2, 3, 4]), vi('b', [4, 5])], [vi('y', [2, 3, 5])])


def batch_norm(out):
    return model([node('BatchNormalization', ['x', 's', 'b', 'm', 'v'],
                       ['y'], epsilon=1e-3)],
                 [vi('x', X4)], [vi('y', X4)],
                 [rand('s', [4]), rand('b', [4], 1), rand('m', [4], 2),
                  floats('v', [1, 2, 3, 4])], opset=9)


def instance_norm(out):
    return model([node('InstanceNormalization', ['x', 's', 'b'], ['y'])],
                 [vi('x', X4)], [vi('y', X4)],
                 [rand('s', [4]), rand('b', [4], 1)])


def layer_norm(out):
    return model([node('LayerNormalization', ['x', 's', 'b'], ['y'],
                       axis=-1, epsilon=1e-6)],
                 [vi('x', [2, 5, 16])], [vi('y', [2, 5, 16])],
                 [rand('s', [16]), rand('b', [16], 1)], opset=17)


def max_pool(out):
    return model([
        node('MaxPool', ['x'], ['a'], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1]),
        node('MaxPool', ['x'], ['b'], kernel_shape=[2, 2], strides=[2, 2],
             ceil_mode=1),
        node('MaxPool', ['x'], ['c'], kernel_shape=[3, 3],
             auto_pad='SAME_UPPER'),
    ], [vi('x', [1, 4, 7, 7])],
        [vi('a', [1, 4, 4, 4]), vi('b', [1, 4, 4, 4]), vi('c', [1, 4, 7, 7])],
        opset=12)


def average_pool(out):
    return model([
        node('AveragePool', ['x'], ['a'], kernel_shape=[3, 3],
             pads=[1, 1, 1, 1], count_include_pad=1),
        node('AveragePool', ['x'], ['b'], kernel_shape=[2, 2],
             strides=[2, 2]),
    ], [vi('x', X4)], [vi('a', X4), vi('b', [1, 4, 4, 4])])


def global_pool(out):
    return model([
        node('GlobalAveragePool', ['x'], ['a']),
        node('GlobalMaxPool', ['x'], ['b']),
    ], [vi('x', X4)], [vi('a', [1, 4, 1, 1]), vi('b', [1, 4, 1, 1])])


def unary(out):
    ops = ['Relu', 'Sigmoid', 'Tanh', 'HardSwish', 'Softplus', 'Neg', 'Abs',
           'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Erf', 'Sin', 'Cos', 'Floor',
           'Ceil', 'Round', 'Sign']
    nodes, prev = [], 'x'
    for i, op in enumerate(ops):
        nodes.append(node(op, [prev], ['u%d_%s' % (i, op.lower())]))
        prev = nodes[-1].output[0]
    return model(nodes, [vi('x', [2, 3])], [vi(prev, [2, 3])], opset=14)


def mish(out):
    return model([node('Mish', ['x'], ['y'])], [vi('x', [2, 3])],
                 [vi('y', [2, 3])], opset=18)


def activations(out):
    return model([
        node('HardSigmoid', ['x'], ['a'], alpha=0.1666666716337204),
        node('LeakyRelu', ['a'], ['b'], alpha=0.1),
        node('Elu', ['b'], ['c']),
        node('Selu', ['c'], ['d'], alpha=1.5, gamma=2.0),
        node('HardSigmoid', ['d'], ['e']),
    ], [vi('x', [2, 3])], [vi('e', [2, 3])])


def prelu(out):
    return model([node('PRelu', ['x', 'slope'], ['y'])],
                 [vi('x', [1, 4, 2, 2])], [vi('y', [1, 4, 2, 2])],
                 [floats('slope', np.full([4, 1, 1], 0.25))])


def gelu(out):
    return model([node('Gelu', ['x'], ['y'], approximate='tanh'),
                  node('Softsign', ['y'], ['z'])],
                 [vi('x', [2, 3])], [vi('z', [2, 3])], opset=18)


def binary(out):
    return model([
        node('Add', ['x', 'b'], ['s']),
        node('Sub', ['s', 'x'], ['d']),
        node('Mul', ['d', 'k'], ['m']),
        node('Div', ['m', 'k'], ['q']),
    ], [vi('x', [2, 3])], [vi('q', [2, 3])],
        [floats('b', [1, 2, 3]), floats('k', 2.0)])


def pow_(out):
    return model([node('Pow', ['x', 'e'], ['y'])], [vi('x', [2, 3])],
                 [vi('y', [2, 3])], [ints('e', 2)], opset=15)


def mod(out):
    return model([node('Mod', ['a', 'b'], ['y'], fmod=1)],
                 [vi('a', [4]), vi('b', [4])], [vi('y', [4])])


def compare(out):
    B = TensorProto.BOOL
    return model([
        node('Equal', ['a', 'b'], ['eq']),
        node('Less', ['a', 'b'], ['lt']),
        node('LessOrEqual', ['a', 'b'], ['le']),
        node('Greater', ['a', 'b'], ['gt']),
        node('GreaterOrEqual', ['a', 'b'], ['ge']),
        node('And', ['eq', 'lt'], ['and']),
        node('Or', ['and', 'le'], ['or']),
        node('Xor', ['or', 'gt'], ['xor']),
        node('Not', ['xor'], ['not']),
        node('Where', ['not', 'a', 'b'], ['w']),
    ], [vi('a', [4]), vi('b', [4])], [vi('ge', [4], B), vi('w', [4])],
        opset=16)


def variadic(out):
    return model([
        node('Sum', ['a', 'b', 'c'], ['s']),
        node('Mean', ['a', 'b'], ['m']),
        node('Max', ['s', 'm', 'c'], ['mx']),
        node('Min', ['mx', 'a'], ['mn']),
    ], [vi('a', [4]), vi('b', [4]), vi('c', [4])], [vi('mn', [4])])


def clip6(out):
    return model([node('Clip', ['x'], ['y'], min=0.0, max=6.0),
                  node('Clip', ['y'], ['z'], min=-1.0)],
                 [vi('x', [2, 3])], [vi('z', [2, 3])], opset=6 + 1)


def clip11(out):
    return model([node('Clip', ['x', 'lo', 'hi'], ['y']),
                  node('Clip', ['y', '', 'hi'], ['z'])],
                 [vi('x', [2, 3])], [vi('z', [2, 3])],
                 [floats('lo', 0.0), floats('hi', 6.0)], opset=11)


def cast(out):
    return model([node('Cast', ['x'], ['i'], to=TensorProto.INT32),
                  node('CastLike', ['i', 'x'], ['y'])],
                 [vi('x', [2, 3])], [vi('y', [2, 3])], opset=15)


def identity(out):
    return model([node('Identity', ['x'], ['i']),
                  node('Dropout', ['i'], ['d'], ratio=0.5),
                  node('Relu', ['d'], ['y'])],
                 [vi('x', [2, 3])], [vi('y', [2, 3])], opset=10)


def constant(out):
    return model([
        node('Constant', [], ['t'], value=floats('v', [[1, 2], [3, 4]])),
        node('Constant', [], ['f'], value_float=0.5),
        node('Constant', [], ['fs'], value_floats=[1.0, 2.0]),
        node('Constant', [], ['i'], value_int=3),
        node('Constant', [], ['is'], value_ints=[1, 2, 3]),
        node('Add', ['x', 't'], ['y']),
        node('Mul', ['y', 'f'], ['z']),
    ], [vi('x', [2, 2])],
        [vi('z', [2, 2]), vi('fs', [2]), vi('i', [], I64), vi('is', [3], I64)])


def initializer(out):
    return model([node('Add', ['x', 'w'], ['y'])],
                 [vi('x', [2, 2]), vi('w', [2, 2])], [vi('y', [2, 2])],
                 [floats('w', [[1, 2], [3, 4]]), rand('unused', [100])],
                 opset=9)


def concat(out):
    return model([node('Concat', ['a', 'b', 'c'], ['y'], axis=-1)],
                 [vi('a', [1, 2]), vi('b', [1, 3]), vi('c', [1, 1])],
                 [vi('y', [1, 6])])


def split2(out):
    return model([node('Split', ['x'], ['a', 'b', 'c'], axis=1,
                       split=[1, 2, 3])],
                 [vi('x', [2, 6])],
                 [vi('a', [2, 1]), vi('b', [2, 2]), vi('c', [2, 3])], opset=11)


def split13(out):
    return model([node('Split', ['x', 's'], ['a', 'b'], axis=-1),
                  node('Split', ['x'], ['c', 'd'], axis=1)],
                 [vi('x', [2, 6])],
                 [vi('a', [2, 2]), vi('b', [2, 4]), vi('c', [2, 3]),
                  vi('d', [2, 3])], [ints('s', [2, 4])])


def slice1(out):
    return model([node('Slice', ['x'], ['y'], starts=[1, 0], ends=[3, 100],
                       axes=[0, -1])],
                 [vi('x', [4, 6])], [vi('y', [2, 6])], opset=9)


def slice10(out):
    return model([node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y']),
                  node('Slice', ['x', 'st', 'en'], ['z'])],
                 [vi('x', [4, 6])], [vi('y', [2, 2]), vi('z', [2, 6])],
                 [ints('st', [1, 0]), ints('en', [3, 6]), ints('ax', [1, 0]),
                  ints('sp', [1, 2])], opset=10)


def reshape(out):
    return model([node('Reshape', ['x', 's'], ['y']),
                  node('Flatten', ['x'], ['f'], axis=2)],
                 [vi('x', [2, 3, 4])], [vi('y', [2, 12]), vi('f', [6, 4])],
                 [ints('s', [0, -1])])


def squeeze11(out):
    return model([node('Squeeze', ['x'], ['s'], axes=[0, -1]),
                  node('Unsqueeze', ['s'], ['u'], axes=[0, 3])],
                 [vi('x', [1, 3, 4, 1])], [vi('u', [1, 3, 4, 1])], opset=11)


def squeeze13(out):
    return model([node('Squeeze', ['x', 'ax'], ['s']),
                  node('Squeeze', ['x'], ['all']),
                  node('Unsqueeze', ['s', 'ax2'], ['u'])],
                 [vi('x', [1, 3, 4, 1])],
                 [vi('u', [3, 1, 4, 1]), vi('all', [3, 4])],
                 [ints('ax', [0, 3]), ints('ax2', [1, -1])])


def transpose(out):
    return model([node('Transpose', ['x'], ['y'], perm=[0, 3, 1, 2]),
                  node('Transpose', ['y'], ['z'])],
                 [vi('x', [1, 8, 8, 3])], [vi('z', [8, 8, 3, 1])])


def pad2(out):
    return model([node('Pad', ['x'], ['y'], pads=[0, 0, 1, 2, 0, 0, 1, 2],
                       mode='reflect')],
                 [vi('x', X4)], [vi('y', [1, 4, 10, 12])], opset=10)


def pad11(out):
    return model([node('Pad', ['x', 'p', 'v'], ['y']),
                  node('Pad', ['x', 'p'], ['z'], mode='edge')],
                 [vi('x', X4)],
                 [vi('y', [1, 4, 10, 12]), vi('z', [1, 4, 10, 12])],
                 [ints('p', [0, 0, 1, 2, 0, 0, 1, 2]), floats('v', 1.5)],
                 opset=11)


def resize10(out):
    return model([node('Resize', ['x', 's'], ['y'], mode='nearest')],
                 [vi('x', [1, 3, 4, 4])], [vi('y', [1, 3, 8, 8])],
                 [floats('s', [1, 1, 2, 2])], opset=10)


def resize11(out):
    return model([
        node('Resize', ['x', 'roi', 's'], ['a'], mode='linear',
             coordinate_transformation_mode='align_corners'),
        node('Resize', ['x', 'roi', 'e', 'sz'], ['b'],
             nearest_mode='floor',
             coordinate_transformation_mode='asymmetric'),
        node('Resize', ['x', '', 's'], ['c'], mode='cubic',
             cubic_coeff_a=-0.5),
    ], [vi('x', [1, 3, 4, 4])],
        [vi('a', [1, 3, 8, 8]), vi('b', [1, 3, 6, 10]),
         vi('c', [1, 3, 8, 8])],
        [floats('roi', []), floats('s', [1, 1, 2, 2]), floats('e', []),
         ints('sz', [1, 3, 6, 10])], opset=13)


def upsample(out):
    return model([node('Upsample', ['x'], ['y'], scales=[1.0, 1.0, 2.0, 2.0],
                       mode='nearest')],
                 [vi('x', [1, 3, 4, 4])], [vi('y', [1, 3, 8, 8])], opset=7)


def gather(out):
    return model([node('Gather', ['x', 'i'], ['y'], axis=1)],
                 [vi('x', [2, 5])], [vi('y', [2, 3])], [ints('i', [0, -1, 2])])


def expand(out):
    return model([node('Expand', ['x', 's'], ['y']),
                  node('Tile', ['x', 'r'], ['t'])],
                 [vi('x', [3, 1])], [vi('y', [2, 3, 4]), vi('t', [6, 2])],
                 [ints('s', [2, 1, 4]), ints('r', [2, 2])])


def depth_to_space(out):
    return model([node('DepthToSpace', ['x'], ['d'], blocksize=2,
                       mode='CRD'),
                  node('SpaceToDepth', ['d'], ['s'], blocksize=2)],
                 [vi('x', [1, 8, 2, 2])], [vi('s', [1, 8, 2, 2])])


def shape_subgraph(out):
    # The PyTorch pattern: reshape x to [N, -1] with N read from x's shape.
    return model([
        node('Shape', ['x'], ['shp']),
        node('Gather', ['shp', 'zero'], ['n'], axis=0),
        node('Unsqueeze', ['n', 'ax0'], ['n1']),
        node('Concat', ['n1', 'minus1'], ['target'], axis=0),
        node('Reshape', ['x', 'target'], ['y']),
        node('Shape', ['x'], ['tail'], start=-2),
        node('Cast', ['tail'], ['tailf'], to=TensorProto.FLOAT),
    ], [vi('x', [None, 3, 4, 4])],
        [vi('y', [None, 48]), vi('tailf', [2])],
        [ints('zero', 0), ints('ax0', [0]), ints('minus1', [-1])], opset=15)


def constant_of_shape(out):
    return model([
        node('ConstantOfShape', ['s'], ['z'],
             value=tensor('v', np.array([7], dtype=np.int32))),
        node('ConstantOfShape', ['s'], ['f']),
        node('Size', ['z'], ['n']),
    ], [], [vi('z', [2, 3], TensorProto.INT32), vi('f', [2, 3]),
            vi('n', [], I64)], [ints('s', [2, 3])], opset=9)


def range_(out):
    return model([node('Range', ['a', 'b', 'c'], ['r'])],
                 [], [vi('r', [4], I64)],
                 [ints('a', 1), ints('b', 9), ints('c', 2)], opset=11)


def softmax11(out):
    return model([node('Softmax', ['x'], ['a'], axis=1),
                  node('Softmax', ['x'], ['b'], axis=2)],
                 [vi('x', [2, 3, 4])], [vi('a', [2, 3, 4]),
                                         vi('b', [2, 3, 4])], opset=11)


def softmax13(out):
    return model([node('Softmax', ['x'], ['a'], axis=1),
                  node('Softmax', ['x'], ['b']),
                  node('LogSoftmax', ['x'], ['c'], axis=0)],
                 [vi('x', [2, 3, 4])],
                 [vi('a', [2, 3, 4]), vi('b', [2, 3, 4]), vi('c', [2, 3, 4])])


def reduce_mean(out):
    return model([node('ReduceMean', ['x'], ['m'], axes=[-1, 1]),
                  node('ReduceMax', ['x'], ['mx'], keepdims=0),
                  node('ReduceL2', ['x'], ['l2'], axes=[0], keepdims=0),
                  node('ReduceProd', ['x'], ['p'], axes=[2]),
                  node('ReduceMin', ['x'], ['mn'], axes=[2])],
                 [vi('x', [2, 3, 4])],
                 [vi('m', [2, 1, 1]), vi('mx', []), vi('l2', [3, 4]),
                  vi('p', [2, 3, 1]), vi('mn', [2, 3, 1])])


def reduce_sum13(out):
    return model([node('ReduceSum', ['x', 'ax'], ['s'], keepdims=0),
                  node('ReduceSum', ['x'], ['all']),
                  node('ReduceSum', ['x', 'none'], ['same'],
                       noop_with_empty_axes=1)],
                 [vi('x', [2, 3, 4])],
                 [vi('s', [2, 4]), vi('all', [1, 1, 1]), vi('same', [2, 3, 4])],
                 [ints('ax', [1]), ints('none', np.zeros([0], np.int64))])


def reduce_sum11(out):
    return model([node('ReduceSum', ['x'], ['s'], axes=[1])],
                 [vi('x', [2, 3, 4])], [vi('s', [2, 1, 4])], opset=11)


def argmax(out):
    return model([node('ArgMax', ['x'], ['a'], axis=-1, keepdims=0),
                  node('ArgMin', ['x'], ['b'], select_last_index=1)],
                 [vi('x', [2, 3])], [vi('a', [2], I64), vi('b', [1, 3], I64)])


def names(out):
    return model([
        node('Relu', ['input:0'], ['conv/Relu:0'], name='relu node'),
        node('Relu', ['conv/Relu:0'], ['conv/Relu_0'], name='r2'),
        node('Relu', ['conv/Relu_0'], ['123'], name='r3'),
        node('Split', ['123'], ['part/a', 'part_b'], axis=1, split=[1, 1],
             name='sp'),
        node('Identity', ['part_b'], ['Identity:0']),
    ], [vi('input:0', [1, 2])],
        [vi('part/a', [1, 1]), vi('Identity:0', [1, 1])], opset=11)


def external_data(out):
    import onnx
    m = model([node('Add', ['x', 'w'], ['y']), node('Mul', ['y', 'k'], ['z'])],
              [vi('x', [4, 8])], [vi('z', [4, 8])],
              [tensor('w', np.arange(32, dtype=np.float32).reshape(4, 8)),
               floats('k', [0.5])])
    # onnx appends to an existing data file: start from scratch.
    for stale in (out + '.data', os.path.join(os.path.dirname(out),
                                              'gone.onnx.data')):
        if os.path.exists(stale):
            os.remove(stale)
    onnx.save_model(m, out, save_as_external_data=True,
                    location=os.path.basename(out) + '.data',
                    size_threshold=64)


def nhwc(out):
    # A TensorFlow-style model: NHWC input, Transposes around an NCHW Conv.
    return model([
        node('Transpose', ['image'], ['nchw'], perm=[0, 3, 1, 2]),
        node('Conv', ['nchw', 'w'], ['c'], pads=[1, 1, 1, 1]),
        node('Relu', ['c'], ['r']),
        node('Transpose', ['r'], ['out'], perm=[0, 2, 3, 1]),
    ], [vi('image', [1, 8, 8, 3])], [vi('out', [1, 8, 8, 4])],
        [rand('w', [4, 3, 3, 3])], opset=12)


def dynamic(out):
    return model([node('Relu', ['x'], ['y']), node('Relu', ['z'], ['t'])],
                 [vi('x', ['batch', 3, None, 4]), vi('z', [1, 16])],
                 [vi('y', ['batch', 3, None, 4]), vi('t', [1, 16])])


def qdq(out):
    # A QDQ model: activations quantized per tensor (u8), conv weights
    # per output channel (i8), the bias as i32.
    w = np.random.RandomState(0).randint(-127, 128, [4, 3, 3, 3])
    return model([
        node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']),
        node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd']),
        node('DequantizeLinear', ['w', 'ws', 'wz'], ['wd'], axis=0),
        node('DequantizeLinear', ['b', 'bs'], ['bd']),
        node('Conv', ['xd', 'wd', 'bd'], ['y'], pads=[1, 1, 1, 1]),
    ], [vi('x', [1, 3, 4, 4])], [vi('y', [1, 4, 4, 4])],
        [floats('xs', 0.25), tensor('xz', np.uint8(128)),
         tensor('w', w.astype(np.int8)),
         floats('ws', [0.5, 0.25, 0.125, 0.0625]),
         tensor('wz', np.zeros([4], np.int8)),
         tensor('b', np.array([1, -2, 3, -4], np.int32)),
         floats('bs', 0.125)])


def resize_downscale(out):
    return model([node('Resize', ['x', '', 's'], ['y'], mode='linear')],
                 [vi('x', [1, 1, 2, 4])], [vi('y', [1, 1, 1, 2])],
                 [floats('s', [1, 1, 0.6, 0.6])], opset=13)


def composed(out):
    return model([
        node('ReduceL1', ['x'], ['l1'], axes=[1]),
        node('ReduceSumSquare', ['x'], ['ss'], axes=[1], keepdims=0),
        node('ReduceLogSum', ['x'], ['ls'], axes=[2]),
        node('ReduceLogSumExp', ['x'], ['lse'], axes=[2]),
        node('ThresholdedRelu', ['x'], ['tr'], alpha=0.5),
        node('Tan', ['x'], ['tan']),
        node('Celu', ['x'], ['celu'], alpha=2.0),
    ], [vi('x', [2, 3, 4])],
        [vi('l1', [2, 1, 4]), vi('ss', [2, 4]), vi('ls', [2, 3, 1]),
         vi('lse', [2, 3, 1]), vi('tr', [2, 3, 4]), vi('tan', [2, 3, 4]),
         vi('celu', [2, 3, 4])])


def trilu(out):
    return model([node('Trilu', ['x', 'k'], ['u']),
                  node('Trilu', ['x'], ['l'], upper=0)],
                 [vi('x', [2, 3])], [vi('u', [2, 3]), vi('l', [2, 3])],
                 [ints('k', 1)], opset=14)


def einsum(out):
    return model([node('Einsum', ['a', 'b'], ['y'],
                       equation='bhqd,bhkd->bhqk'),
                  node('Einsum', ['y'], ['t'], equation='bhqk->bkq')],
                 [vi('a', [1, 2, 3, 4]), vi('b', [1, 2, 5, 4])],
                 [vi('t', [1, 5, 3])], opset=12)


def einsum_bad(out):
    return model([node('Einsum', ['a'], ['y'], equation='ii->i',
                       name='diag')],
                 [vi('a', [3, 3])], [vi('y', [3])], opset=12)


def lrn(out):
    return model([node('LRN', ['x'], ['y'], size=3, alpha=2e-4)],
                 [vi('x', [1, 4, 2, 2])], [vi('y', [1, 4, 2, 2])])


def one_hot(out):
    return model([node('OneHot', ['i', 'd', 'v'], ['y'], axis=0)],
                 [vi('i', [3], I64)], [vi('y', [4, 3])],
                 [ints('d', 4), floats('v', [0.0, 5.0])], opset=11)


def misc_unary(out):
    return model([node('Sinh', ['x'], ['a']), node('Cosh', ['a'], ['b']),
                  node('Asinh', ['b'], ['c']), node('Acosh', ['c'], ['d']),
                  node('Atanh', ['d'], ['e']), node('Shrink', ['e'], ['f'],
                                                     lambd=1.5, bias=0.5),
                  node('IsNaN', ['f'], ['g']),
                  node('IsInf', ['f'], ['h'], detect_negative=0)],
                 [vi('x', [4])], [vi('g', [4], TensorProto.BOOL),
                                  vi('h', [4], TensorProto.BOOL)])


def hardmax_etc(out):
    return model([node('Hardmax', ['x'], ['h']),
                  node('EyeLike', ['x'], ['e'], k=1),
                  node('MeanVarianceNormalization', ['x4'], ['m']),
                  node('Compress', ['x', 'c'], ['z'], axis=1)],
                 [vi('x', [2, 3]), vi('x4', [1, 2, 2, 2])],
                 [vi('h', [2, 3]), vi('e', [2, 3]), vi('m', [1, 2, 2, 2]),
                  vi('z', [2, 2])],
                 [tensor('c', np.array([True, False, True]))])


def index_ops(out):
    rs = np.random.RandomState(5)
    return model([
        node('GatherElements', ['x', 'ie'], ['ge'], axis=1),
        node('ScatterElements', ['x', 'ie', 'u'], ['se'], axis=1,
             reduction='add'),
        node('GatherND', ['x', 'nd'], ['gn']),
        node('ScatterND', ['x', 'nd', 'un'], ['sn']),
        node('CumSum', ['x', 'ax'], ['cs'], reverse=1),
        node('TopK', ['x', 'k'], ['tv', 'ti'], axis=1),
    ], [vi('x', [3, 4]), vi('u', [3, 2]), vi('un', [2, 4])],
        [vi('ge', [3, 2]), vi('se', [3, 4]), vi('gn', [2, 4]),
         vi('sn', [3, 4]), vi('cs', [3, 4]), vi('tv', [3, 2]),
         vi('ti', [3, 2], I64)],
        [tensor('ie', rs.randint(-4, 4, [3, 2]).astype(np.int64)),
         tensor('nd', np.array([[2], [0]], np.int64)),
         ints('ax', 1), ints('k', [2])], opset=16)


CASES = {
    'Composed': composed,
    'Resize-downscale': resize_downscale,
    'QDQ': qdq,
    'Trilu': trilu, 'Einsum': einsum, 'Einsum-bad': einsum_bad, 'LRN': lrn,
    'OneHot': one_hot, 'IndexOps': index_ops, 'MiscUnary': misc_unary, 'Hardmax': hardmax_etc,
    'Conv': conv, 'Conv1D': conv1d, 'ConvTranspose': conv_transpose,
    'Gemm': gemm, 'MatMul': matmul, 'BatchNormalization': batch_norm,
    'InstanceNormalization': instance_norm, 'LayerNormalization': layer_norm,
    'MaxPool': max_pool, 'AveragePool': average_pool,
    'GlobalPool': global_pool, 'Unary': unary, 'Mish': mish,
    'Activations': activations, 'PRelu': prelu, 'Gelu': gelu,
    'Binary': binary, 'Pow': pow_, 'Mod': mod, 'Compare': compare,
    'Variadic': variadic, 'Clip-6': clip6, 'Clip-11': clip11, 'Cast': cast,
    'Identity': identity, 'Constant': constant, 'Initializer': initializer,
    'Concat': concat, 'Split-2': split2, 'Split-13': split13,
    'Slice-1': slice1, 'Slice-10': slice10, 'Reshape': reshape,
    'Squeeze-11': squeeze11, 'Squeeze-13': squeeze13,
    'Transpose': transpose, 'Pad-2': pad2, 'Pad-11': pad11,
    'Resize-10': resize10, 'Resize-11': resize11, 'Upsample': upsample,
    'Gather': gather, 'Expand': expand, 'DepthToSpace': depth_to_space,
    'Shape': shape_subgraph, 'ConstantOfShape': constant_of_shape,
    'Range': range_, 'Softmax-11': softmax11, 'Softmax-13': softmax13,
    'ReduceMean': reduce_mean, 'ReduceSum-13': reduce_sum13,
    'ReduceSum-11': reduce_sum11, 'ArgMax': argmax, 'Names': names,
    'ExternalData': external_data, 'NHWC': nhwc, 'Dynamic': dynamic,
}

if __name__ == '__main__':
    main(CASES)
