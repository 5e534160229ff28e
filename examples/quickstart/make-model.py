#!/usr/bin/env python3
"""Writes tiny-cnn.onnx, the quickstart's example model: a small image
classifier (Conv+BatchNorm+Relu, MaxPool, Conv+Relu, GlobalAveragePool,
Flatten, Gemm, Softmax) on a 1x3x32x32 input, with fixed pseudo-random
weights so every run writes the same file.

usage: make-model.py OUT.onnx
"""
import sys
import warnings

import numpy as np

# onnx 1.12 still refers to numpy aliases that numpy 1.24 removed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for alias, real in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, alias):
            setattr(np, alias, real)

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def init(rng, name, *shape, scale=0.2):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def build():
    rng = np.random.default_rng(7)
    inits = [
        init(rng, "conv1.w", 8, 3, 3, 3), init(rng, "conv1.b", 8),
        numpy_helper.from_array((1 + rng.random(8) * 0.5).astype(np.float32), "bn1.scale"),
        init(rng, "bn1.bias", 8, scale=0.1), init(rng, "bn1.mean", 8, scale=0.1),
        numpy_helper.from_array((0.5 + rng.random(8)).astype(np.float32), "bn1.var"),
        init(rng, "conv2.w", 16, 8, 3, 3, scale=0.1), init(rng, "conv2.b", 16, scale=0.1),
        init(rng, "fc.w", 10, 16, scale=0.3), init(rng, "fc.b", 10, scale=0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.w", "conv1.b"], ["conv1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"],
                         ["bn1"], name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.w", "conv2.b"], ["conv2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="qir-quickstart")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    onnx.save(build(), sys.argv[1])


if __name__ == "__main__":
    main()
