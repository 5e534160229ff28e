#!/usr/bin/env python3
"""Writes the same dataflow graph of N ops as a .qir module and as a
generic-form MLIR module, for the parse/verify/print benchmark.

usage: genmodule.py N out.qir out.mlir
"""
import sys

T = "tensor<8x8xf32>"

# (qir op, operand count, qir attributes, MLIR attributes)
KINDS = [
    ("add", 2, "", ""),
    ("relu", 1, "", ""),
    ("mul", 2, "", ""),
    ("clip", 1, " {min = 0.0, max = 6.0}", " {max = 6.0 : f64, min = 0.0 : f64}"),
    ("transpose", 1, " {perm = [1, 0]}", " {perm = [1, 0]}"),
    ("sub", 2, "", ""),
    ("sigmoid", 1, "", ""),
    ("softmax", 1, " {axis = 1}", " {axis = 1 : i64}"),
]


def generate(n, qir, mlir):
    qir.write("func @main(%x: {0}, %y: {0}) -> {0} {{\n".format(T))
    mlir.write('"func.func"() ({\n^bb0(%x: ' + T + ", %y: " + T + "):\n")
    prev, prev2 = "%x", "%y"
    emitted = 0
    i = 0
    while emitted < n - 1:
        if i % 50 == 49:
            name = "%c{}".format(i)
            qir.write("  {} = constant {{value = dense<0.5> : {}}} : {}\n".format(name, T, T))
            mlir.write('  {} = "qir.constant"() {{value = dense<5.000000e-01> : {}}} : () -> {}\n'.format(name, T, T))
            prev2 = name
        else:
            op, nargs, qattr, mattr = KINDS[i % len(KINDS)]
            name = "%{}".format(i)
            args = [prev, prev2][:nargs]
            qir.write("  {} = {}({}){} : {}\n".format(name, op, ", ".join(args), qattr, T))
            mlir.write('  {} = "qir.{}"({}){} : ({}) -> {}\n'.format(
                name, op, ", ".join(args), mattr, ", ".join([T] * nargs), T))
            prev2, prev = prev, name
        emitted += 1
        i += 1
    qir.write("  return({})\n}}\n".format(prev))
    mlir.write('  "func.return"({}) : ({}) -> ()\n'.format(prev, T))
    mlir.write('}}) {{function_type = ({0}, {0}) -> {0}, sym_name = "main"}} : () -> ()\n'.format(T))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    with open(sys.argv[2], "w") as q, open(sys.argv[3], "w") as m:
        generate(n, q, m)


if __name__ == "__main__":
    main()
