"""Lists the activations of a .qir file that follow a conv2d whose result
has no other user (what `fuse` should have fused); exits 1 when there is
any.  Usage: unfused.py FILE.qir"""
import re
import sys

ACTIVATIONS = {'relu', 'clip', 'sigmoid', 'hard_sigmoid', 'hard_swish',
               'leaky_relu'}
OP = re.compile(r'^\s*(%[\w.$-]+(?:\s*,\s*%[\w.$-]+)*)\s*=\s*([\w.]+)\((.*?)\)')
USE = re.compile(r'%[\w.$-]+')


def main(path):
    defs, uses, acts = {}, {}, []
    with open(path) as f:
        for line in f:
            m = OP.match(line)
            if not m:
                if line.lstrip().startswith('return('):
                    for u in USE.findall(line):
                        uses[u] = uses.get(u, 0) + 1
                continue
            results, op, args = m.groups()
            operands = USE.findall(args)
            for r in USE.findall(results):
                defs[r] = op
            for u in operands:
                uses[u] = uses.get(u, 0) + 1
            if op in ACTIVATIONS and operands:
                acts.append((results, op, operands[0]))
    bad = [a for a in acts if defs.get(a[2]) == 'conv2d' and uses[a[2]] == 1]
    for results, op, x in bad:
        print('unfused: %s = %s(%s) after conv2d' % (results, op, x))
    print('%d activations after a single-use conv2d' % len(bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
