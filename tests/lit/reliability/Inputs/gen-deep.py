"""Writes deep or wide .qir graphs for the no-recursion tests.

usage: gen-deep.py KIND N OUT.qir

  chain      N unary ops in one dependency chain (relu, neg, sigmoid, ...)
  relus      N relus in a chain (canonicalize folds relu(relu(x)))
  constants  N adds of constants in a chain (fold and canonicalize fold it
             all into one constant)
  dead       a live op plus N dead ops in a chain (dce removes them all)
  twins      two identical chains of N/2 ops (cse merges them)
  fanout     one value used by N relus, summed by a chain of N - 1 adds
             (cse merges the relus; the adds stay)
"""
import sys

T = 'tensor<1x4xf32>'
UNARY = ['relu', 'neg', 'sigmoid', 'tanh', 'abs', 'exp']


def chain(n, ops):
    lines = ['  %%v0 = %s(%%x) : %s' % (ops[0], T)]
    lines += ['  %%v%d = %s(%%v%d) : %s' % (i, ops[i % len(ops)], i - 1, T)
              for i in range(1, n)]
    return lines


def func(name, body, results):
    head = 'func @%s(%%x: %s) -> (%s) {\n' % (name, T, ', '.join([T] * len(results)))
    return head + '\n'.join(body) + '\n  return(%s)\n}\n' % ', '.join(results)


def make(kind, n):
    if kind == 'chain':
        return func('chain', chain(n, UNARY), ['%%v%d' % (n - 1)])
    if kind == 'relus':
        return func('relus', chain(n, ['relu']), ['%%v%d' % (n - 1)])
    if kind == 'constants':
        body = ['  %%c = constant {value = dense<1.0> : %s} : %s' % (T, T),
                '  %%v0 = add(%%c, %%c) : %s' % T]
        body += ['  %%v%d = add(%%v%d, %%c) : %s' % (i, i - 1, T)
                 for i in range(1, n)]
        body.append('  %%r = add(%%x, %%v%d) : %s' % (n - 1, T))
        return func('constants', body, ['%r'])
    if kind == 'dead':
        body = ['  %%live = relu(%%x) : %s' % T] + chain(n, UNARY)
        return func('dead', body, ['%live'])
    if kind == 'twins':
        a = chain(n // 2, UNARY)
        b = [line.replace('%v', '%w') for line in a]
        body = a + b + ['  %%r = add(%%v%d, %%w%d) : %s' % (n // 2 - 1, n // 2 - 1, T)]
        return func('twins', body, ['%r'])
    if kind == 'fanout':
        body = ['  %%r%d = relu(%%x) : %s' % (i, T) for i in range(n)]
        body.append('  %%s1 = add(%%r0, %%r1) : %s' % T)
        body += ['  %%s%d = add(%%s%d, %%r%d) : %s' % (i, i - 1, i, T)
                 for i in range(2, n)]
        return func('fanout', body, ['%%s%d' % (n - 1)])
    raise SystemExit('unknown kind ' + kind)


def main():
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(out, 'w') as f:
        f.write(make(kind, n))


if __name__ == '__main__':
    main()
