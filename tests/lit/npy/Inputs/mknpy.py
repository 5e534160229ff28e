"""Writes hand-made .npy files: mknpy.py OUT MAJOR HEADER-DICT DATA-HEX.

The header is padded to a 64-byte boundary as NumPy does."""
import struct
import sys

out, major, header, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4])
pre = 10 if major == 1 else 12
h = header.encode('utf-8')
total = pre + len(h) + 1
pad = (64 - total % 64) % 64
h = h + b' ' * pad + b'\n'
size = struct.pack('<H', len(h)) if major == 1 else struct.pack('<I', len(h))
with open(out, 'wb') as f:
    f.write(b'\x93NUMPY' + bytes([major, 0]) + size + h + data)
