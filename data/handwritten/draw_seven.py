#!/usr/bin/env python3
"""Draws `seven.png`: a handwritten-style 7, white on black, 112×112, as MNIST digits look
(strokes about a tenth of the height, centred by mass). Standard library only; run it from
this folder to write the file again."""
import math
import struct
import zlib

SIZE = 112
WIDTH = 10.0  # stroke width in pixels
# The pen's path: a slightly rising top bar, then the slanted stem.
STROKES = [[(30, 28), (58, 26), (84, 24), (72, 50), (60, 74), (52, 94)]]


def distance_to_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def ink(x, y):
    """1 inside a stroke, 0 outside, a one-pixel soft edge between."""
    d = min(
        distance_to_segment(x + 0.5, y + 0.5, *a, *b)
        for stroke in STROKES
        for a, b in zip(stroke, stroke[1:])
    )
    return max(0.0, min(1.0, WIDTH / 2 + 0.5 - d))


pixels = [[ink(x, y) for x in range(SIZE)] for y in range(SIZE)]
# Centre of mass to the middle of the image (MNIST's convention).
mass = sum(map(sum, pixels))
cx = sum(x * v for row in pixels for x, v in enumerate(row)) / mass
cy = sum(y * v for y, row in enumerate(pixels) for v in row) / mass
shift_x, shift_y = round(SIZE / 2 - 0.5 - cx), round(SIZE / 2 - 0.5 - cy)
STROKES = [[(x + shift_x, y + shift_y) for x, y in stroke] for stroke in STROKES]
rows = [bytes(round(255 * ink(x, y)) for x in range(SIZE)) for y in range(SIZE)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


png = b"\x89PNG\r\n\x1a\n"
png += chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0))  # 8-bit grey
png += chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + row for row in rows), 9))
png += chunk(b"IEND", b"")
with open("seven.png", "wb") as f:
    f.write(png)
