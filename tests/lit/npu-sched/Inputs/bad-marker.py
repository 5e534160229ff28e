"""Rewrites the first `core id=FROM` (mode core) or `sync cores=FROM`
(mode sync) instruction of a qir NPU artifact to TO, or turns the first
`sync cores=FROM` into `core id=TO` (mode unsync), and fixes the
checksum, so the damage reaches the validator (docs/Artifact.md gives
the layout: an instruction is its opcode and field count, 16 bits each,
then its fields, 64 bits each).  Usage: bad-marker.py MODE FROM TO IN OUT"""
import struct
import sys
import zlib

mode, old, new, src, dst = sys.argv[1:6]
opcode = {'core': 14, 'sync': 15, 'unsync': 15}[mode]
data = bytearray(open(src, 'rb').read())
needle = struct.pack('<HHq', opcode, 1, int(old))
at = data.find(needle, 64)
if at < 0:
    raise SystemExit('no %s %s instruction' % (mode, old))
struct.pack_into('<q', data, at + 4, int(new))
if mode == 'unsync':
    struct.pack_into('<H', data, at, 14)
struct.pack_into('<I', data, 28, zlib.crc32(bytes(data[64:])) & 0xffffffff)
open(dst, 'wb').write(data)
