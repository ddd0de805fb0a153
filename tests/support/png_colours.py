#!/usr/bin/env python3
"""png_colours.py: the width, height and count of distinct colours of a PNG,
for tests/e2e/test_browser.c (is a screenshot blank?).

Usage: png_colours.py FILE [ROWS]. Prints "WIDTH HEIGHT COLOURS", the colours
counted over the first ROWS rows (default 400: the top of the page, where
the header, the summary and the first table are; decoding in pure Python is
slow, and a blank page is blank everywhere). Reads 8-bit RGB or RGBA,
non-interlaced (what Chromium writes); anything else is exit 2 with a reason.
"""
import struct
import sys
import zlib


def fail(msg):
    print("png_colours: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: png_colours.py FILE [ROWS]")
    path = sys.argv[1]
    rows_wanted = int(sys.argv[2]) if len(sys.argv) == 3 else 400
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + ": not a PNG")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not hdr or not idat:
        fail(path + ": no IHDR or IDAT chunk")
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("%s: depth %d, colour type %d, interlace %d not handled" % (path, depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    rows = min(height, rows_wanted)
    prev = bytearray(stride)
    colours = set()
    for y in range(rows):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        elif f != 0:
            fail("%s: row %d has filter type %d" % (path, y, f))
        colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp))
        prev = line
    print(width, height, len(colours))


if __name__ == "__main__":
    main()
