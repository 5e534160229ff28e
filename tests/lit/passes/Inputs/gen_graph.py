"""Writes large .qir functions for the scaling tests of the passes.

    gen_graph.py chain OPS N     a chain of N unary ops, cycling through the
                                 comma-separated OPS (relu,identity,...)
    gen_graph.py fanout OP N     N copies of OP applied to one argument,
                                 all returned through a concat
    gen_graph.py deadchain OP N  a chain of N ops whose end is unused
"""
import sys

TYPE = "tensor<1x8xf32>"


def chain(ops, n):
    ops = ops.split(",")
    print(f"func @chain(%x: {TYPE}) -> ({TYPE}) {{")
    prev = "%x"
    for i in range(n):
        print(f"  %v{i} = {ops[i % len(ops)]}({prev}) : {TYPE}")
        prev = f"%v{i}"
    print(f"  return({prev})")
    print("}")


def fanout(op, n):
    print(f"func @fanout(%x: {TYPE}) -> (tensor<{n}x8xf32>) {{")
    for i in range(n):
        print(f"  %v{i} = {op}(%x) : {TYPE}")
    vals = ", ".join(f"%v{i}" for i in range(n))
    print(f"  %c = concat({vals}) {{axis = 0}} : tensor<{n}x8xf32>")
    print("  return(%c)")
    print("}")


def deadchain(op, n):
    print(f"func @deadchain(%x: {TYPE}) -> ({TYPE}) {{")
    prev = "%x"
    for i in range(n):
        print(f"  %v{i} = {op}({prev}) : {TYPE}")
        prev = f"%v{i}"
    print("  return(%x)")
    print("}")


def main():
    kind, what, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"chain": chain, "fanout": fanout, "deadchain": deadchain}[kind](what, n)


if __name__ == "__main__":
    main()
