#!/usr/bin/env python3
"""Checks that a screenshot of lead_scoring.report() shows charts, not a blank or text-only page.

Decodes the PNG with zlib only (no PIL), then requires:
  - enough non-white pixels and distinct colours overall;
  - many "busy" 100x100 tiles (non-white and multi-coloured: charts, not empty space);
  - the chart palette: pixels of the ROC/PR/importance blue (#1f77b4) and the lift bars'
    orange (#ff7f0e), in the chart area at the top of the page.
Exit status 0 when all hold, 1 (with the numbers) otherwise.

Usage: check_png.py screenshot.png
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4, 0: 1, 4: 2}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = prev[i], (prev[i - channels] if i >= channels else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, channels, rows


def pixel(row, x, channels):
    i = x * channels
    if channels >= 3:
        return row[i], row[i + 1], row[i + 2]
    return row[i], row[i], row[i]


def near(p, q, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(p, q))


def main(path):
    width, height, channels, rows = read_png(path)
    blue, orange = (0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)
    tile = 100
    tiles = {}
    colours = set()
    non_white = blue_px = orange_px = 0
    chart_rows = min(height, 1400)  # the 2x2 chart grid sits in the first ~1100 px
    for y in range(height):
        row = rows[y]
        for x in range(width):
            p = pixel(row, x, channels)
            colours.add(p)
            if p[0] < 245 or p[1] < 245 or p[2] < 245:
                non_white += 1
                t = tiles.setdefault((x // tile, y // tile), [0, set()])
                t[0] += 1
                if len(t[1]) < 64:
                    t[1].add(p)
                if y < chart_rows:
                    if near(p, blue):
                        blue_px += 1
                    elif near(p, orange):
                        orange_px += 1
    busy = sum(1 for n, cs in tiles.values() if n >= 0.03 * tile * tile and len(cs) >= 8)
    share = non_white / (width * height)
    checks = {
        "distinct colours >= 200": len(colours) >= 200,
        "non-white share >= 5%": share >= 0.05,
        "busy tiles >= 40": busy >= 40,
        "chart blue pixels >= 1500": blue_px >= 1500,
        "lift orange pixels >= 5000": orange_px >= 5000,
    }
    print(f"check_png: {width}x{height}, {len(colours)} colours, {share:.1%} non-white, {busy} busy tiles, "
          f"{blue_px} blue and {orange_px} orange pixels in the chart area")
    failed = [name for name, ok in checks.items() if not ok]
    for name in failed:
        print(f"check_png: FAILED {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
