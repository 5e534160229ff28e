"""Writes a .qir file that goes just over one limit of qir/limits.h.

usage: gen-limit.py KIND OUT.qir"""
import sys

HEAD = 'func @f(%x: tensor<4xf32>) -> (tensor<4xf32>) {\n'


def ops(n):
    # n relus in a chain: the last one is op number n.
    body = ['  %0 = relu(%x) : tensor<4xf32>\n']
    body += ['  %%%d = relu(%%%d) : tensor<4xf32>\n' % (i, i - 1)
             for i in range(1, n)]
    return HEAD + ''.join(body) + '  return(%%%d)\n}\n' % (n - 1)


def name(kind, n):
    long = 'n' * n
    if kind == 'value':
        return HEAD + '  %%%s = relu(%%x) : tensor<4xf32>\n  return(%%%s)\n}\n' % (long, long)
    if kind == 'symbol':
        return 'func @%s() {\n  return()\n}\n' % long
    if kind == 'op':
        return HEAD + '  %%0 = %s(%%x) : tensor<4xf32>\n  return(%%0)\n}\n' % long
    if kind == 'attr':
        return HEAD + '  %%0 = relu(%%x) {%s = 1} : tensor<4xf32>\n  return(%%0)\n}\n' % long
    raise SystemExit('unknown name kind ' + kind)


def attr(text):
    return HEAD + '  %%0 = relu(%%x) {%s} : tensor<4xf32>\n  return(%%0)\n}\n' % text


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind.startswith('ops-'):
        text = ops(int(kind[4:]))
    elif kind.startswith('name-'):
        what, n = kind[5:].split('-')
        text = name(what, int(n))
    elif kind.startswith('string-'):
        text = attr('s = "%s"' % ('a' * int(kind[7:])))
    elif kind.startswith('array-'):
        text = attr('a = [%s]' % ', '.join(['0'] * int(kind[6:])))
    elif kind.startswith('attrs-'):
        text = attr(', '.join('a%d = 0' % i for i in range(int(kind[6:]))))
    elif kind.startswith('nest-'):
        n = int(kind[5:])
        text = attr('a = %s1%s' % ('[' * n, ']' * n))
    else:
        raise SystemExit('unknown kind ' + kind)
    with open(out, 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
