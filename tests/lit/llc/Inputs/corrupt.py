"""Damages a qir NPU artifact in one way (docs/Artifact.md gives the
layout); `fixcrc` modes rewrite the checksum so the damage reaches the
checks behind it.  Usage: corrupt.py MODE IN OUT"""
import struct
import sys
import zlib

mode, src, dst = sys.argv[1:4]
data = bytearray(open(src, 'rb').read())


def section(kind):
    for i in range(4):
        k, _, off, size = struct.unpack_from('<IIQQ', data, 64 + 24 * i)
        if k == kind:
            return off, size
    raise SystemExit('no section %d' % kind)


def fix_crc():
    struct.pack_into('<I', data, 28, zlib.crc32(bytes(data[64:])) & 0xffffffff)


if mode == 'truncate':
    data = data[:-10]
elif mode == 'header':
    data = data[:40]
elif mode == 'flip':
    off, size = section(3)
    data[off] ^= 0x55
elif mode == 'magic':
    data[0:4] = b'NOPE'
elif mode == 'version':
    struct.pack_into('<H', data, 8, 9)
elif mode == 'values':
    off, _ = section(1)
    struct.pack_into('<I', data, off + 4, 0xfffffff0)
    fix_crc()
elif mode == 'ddr':
    off, _ = section(2)
    name_len = struct.unpack_from('<I', data, off + 4)[0]
    struct.pack_into('<Q', data, off + 8 + name_len, 1 << 40)
    fix_crc()
elif mode == 'tensor':
    off, _ = section(2)
    name_len = struct.unpack_from('<I', data, off + 4)[0]
    t0 = off + 8 + name_len + 8 + 8 + 4
    struct.pack_into('<Q', data, t0 + 8, 1 << 30)
    fix_crc()
else:
    raise SystemExit('unknown mode ' + mode)
open(dst, 'wb').write(data)
