"""Draws the kernel's logos (logo-32x32.png, logo-64x64.png) with the standard library only.

A rounded square in Rust's orange with "dl" in white, drawn at 4x and box-filtered down
(anti-aliased). Run from this folder: python3 make_logos.py
"""
import struct
import zlib

ORANGE = (206, 66, 43)
WHITE = (255, 255, 255)

# 5x7 glyphs, '#' = ink.
GLYPHS = {
    "d": ["....#", "....#", ".####", "#...#", "#...#", "#...#", ".####"],
    "l": [".#...", ".#...", ".#...", ".#...", ".#...", ".#...", "..##."],
}


def render(size):
    ss = 4
    big = size * ss
    radius = big * 0.2
    text = "dl"
    cell = big // 10  # one glyph pixel
    text_w = (len(text) * 6 - 1) * cell
    text_h = 7 * cell
    x0 = (big - text_w) // 2
    y0 = (big - text_h) // 2

    def inside_rounded(x, y):
        cx = min(max(x, radius), big - 1 - radius)
        cy = min(max(y, radius), big - 1 - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2

    def ink(x, y):
        gx, gy = (x - x0) // cell, (y - y0) // cell
        if gy < 0 or gy >= 7 or gx < 0:
            return False
        i, col = divmod(gx, 6)
        if i >= len(text) or col >= 5:
            return False
        return GLYPHS[text[i]][gy][col] == "#"

    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    x, y = px * ss + sx, py * ss + sy
                    if not inside_rounded(x, y):
                        continue
                    colour = WHITE if ink(x, y) else ORANGE
                    for k in range(3):
                        acc[k] += colour[k]
                    acc[3] += 255
            n = ss * ss
            alpha = acc[3] // n
            if acc[3]:
                covered = acc[3] // 255
                rgb = [acc[k] // covered for k in range(3)]
            else:
                rgb = [0, 0, 0]
            row += bytes(rgb + [alpha])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(w, h, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    for size in (32, 64):
        with open(f"logo-{size}x{size}.png", "wb") as f:
            f.write(render(size))
