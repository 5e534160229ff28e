#!/usr/bin/env python3
"""Writes MobileNetV2 for CIFAR-10 (32x32 RGB input, 10 classes) as a float
.qir module with random weights (He-scaled normal, seeded), for the cost
model's figures (bench/npu/README.md).  Batch normalization is folded
into the convolutions' biases, ReLU6 is a clip to [0, 6].

The CIFAR variant of the network: the stem is a stride-1 3x3 conv, and the
second bottleneck stage keeps stride 1, so the last stage works on 4x4
maps; then the 1x1 conv to 1280 channels, global average pooling and the
classifier (a 1x1 conv 1280 -> 10).

usage: gen-mobilenetv2.py out.qir [--width=1.0] [--seed=1]
"""
import random
import struct
import sys

# (expansion t, output channels c, repeats n, first stride s)
STAGES = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class Writer:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lines, self.resources = [], []
        self.count = 0

    def const(self, name, shape, fan_in, scale=1.0):
        n = 1
        for d in shape:
            n *= d
        sd = scale * (2.0 / fan_in) ** 0.5
        data = struct.pack("<%df" % n, *[self.rng.gauss(0.0, sd) for _ in range(n)])
        self.resources.append("  %s: \"0x%s\"" % (name, data.hex().upper()))
        t = "tensor<%sxf32>" % "x".join(map(str, shape))
        self.lines.append("  %%%s = constant {value = dense_resource<%s> : %s} : %s"
                          % (name, name, t, t))
        return "%" + name

    def conv(self, x, cin, cout, k, stride, group, hw, act):
        self.count += 1
        i = self.count
        w = self.const("w%d" % i, [cout, cin // group, k, k], cin // group * k * k)
        b = self.const("b%d" % i, [cout], 1, 0.05)
        hw2 = (hw + 2 * (k // 2) - k) // stride + 1
        attrs = ["strides = [%d, %d]" % (stride, stride)]
        if k > 1:
            attrs.append("pads = [%d, %d, %d, %d]" % ((k // 2,) * 4))
        if group > 1:
            attrs.append("group = %d" % group)
        y = "%%c%d" % i
        self.lines.append("  %s = conv2d(%s, %s, %s) {%s} : tensor<1x%dx%dx%dxf32>"
                          % (y, x, w, b, ", ".join(attrs), cout, hw2, hw2))
        if act:
            r = "%%r%d" % i
            self.lines.append("  %s = clip(%s) {min = 0.0, max = 6.0} : tensor<1x%dx%dx%dxf32>"
                              % (r, y, cout, hw2, hw2))
            y = r
        return y, hw2

    def block(self, x, cin, cout, t, stride, hw):
        h, hid = x, cin * t
        if t != 1:
            h, _ = self.conv(h, cin, hid, 1, 1, 1, hw, True)
        h, hw2 = self.conv(h, hid, hid, 3, stride, hid, hw, True)
        h, _ = self.conv(h, hid, cout, 1, 1, 1, hw2, False)
        if stride == 1 and cin == cout:
            s = "%%s%d" % self.count
            self.lines.append("  %s = add(%s, %s) : tensor<1x%dx%dx%dxf32>"
                              % (s, h, x, cout, hw2, hw2))
            h = s
        return h, hw2


def generate(out, width, seed):
    def ch(c):
        return max(8, int(c * width + 4) // 8 * 8)

    w = Writer(seed)
    x, hw = w.conv("%x", 3, ch(32), 3, 1, 1, 32, True)
    cin = ch(32)
    for t, c, n, s in STAGES:
        for i in range(n):
            x, hw = w.block(x, cin, ch(c), t, s if i == 0 else 1, hw)
            cin = ch(c)
    last = 1280 if width <= 1.0 else ch(1280)
    x, hw = w.conv(x, cin, last, 1, 1, 1, hw, True)
    w.lines.append("  %%gap = global_avg_pool(%s) : tensor<1x%dx1x1xf32>" % (x, last))
    y, _ = w.conv("%gap", last, 10, 1, 1, 1, 1, False)
    w.lines.append("  %%logits = reshape(%s) {shape = [1, 10]} : tensor<1x10xf32>" % y)
    out.write("module @mobilenetv2_cifar10\n")
    out.write("func @main(%x: tensor<1x3x32x32xf32>) -> tensor<1x10xf32> {\n")
    out.write("\n".join(w.lines))
    out.write("\n  return(%logits)\n}\nresources {\n")
    out.write(",\n".join(w.resources))
    out.write("\n}\n")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    if len(args) != 1 or set(opts) - {"width", "seed"}:
        sys.exit(__doc__)
    with open(args[0], "w") as f:
        generate(f, float(opts.get("width", 1.0)), int(opts.get("seed", 1)))


if __name__ == "__main__":
    main()
