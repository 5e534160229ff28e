#!/usr/bin/env python3
"""Writes a float .qir module whose body is a chain of N ops, for the
compile-time benchmark of qir-llc (bench/npu/compile-time): repeated
blocks of conv2d 1x1 (8 channels, 4x4 maps, splat weights of gain 1/4),
clip to [0, 6] and the add of the two (so values stay bounded however long
the chain), every op on the NPU of every target.

usage: gen-chain.py N out.qir
"""
import sys

T = "tensor<1x8x4x4xf32>"


def generate(n, out):
    out.write("func @main(%%x: %s) -> %s {\n" % (T, T))
    out.write("  %w = constant {value = dense<0.03125> : tensor<8x8x1x1xf32>} : tensor<8x8x1x1xf32>\n")
    out.write("  %b = constant {value = dense<0.0> : tensor<8xf32>} : tensor<8xf32>\n")
    prev, conv = "%x", "%x"
    for i in range(n):
        kind = i % 3
        name = "%%v%d" % i
        if kind == 0:
            out.write("  %s = conv2d(%s, %%w, %%b) : %s\n" % (name, prev, T))
            conv = name
        elif kind == 1:
            out.write("  %s = clip(%s) {min = 0.0, max = 6.0} : %s\n" % (name, prev, T))
        else:
            out.write("  %s = add(%s, %s) : %s\n" % (name, prev, conv, T))
        prev = name
    out.write("  return(%s)\n}\n" % prev)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[2], "w") as f:
        generate(int(sys.argv[1]), f)


if __name__ == "__main__":
    main()
