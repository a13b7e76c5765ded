"""Makes the app's PNG icons (run once; the PNGs are committed): a blue square with a white clock
face, drawn with the standard library only. Maskable: the figure inside the 80 % safe zone."""

import math
import struct
import sys
import zlib
from pathlib import Path

BLUE, WHITE = (11, 79, 138), (255, 255, 255)


def pixel(x: float, y: float, size: int, scale: float) -> tuple[int, int, int]:
    c = size / 2
    r = math.hypot(x - c, y - c) / (size / 2 * scale)
    if 0.78 < r < 0.92:
        return WHITE
    ang = math.atan2(y - c, x - c)
    # hands: to 12 and to 3
    if r < 0.7 and abs(x - c) < size * 0.03 * scale and y < c:
        return WHITE
    if r < 0.55 and abs(y - c) < size * 0.03 * scale and x > c:
        return WHITE
    _ = ang
    return BLUE


def png(size: int, scale: float) -> bytes:
    rows = b"".join(b"\x00" + bytes(v for x in range(size) for v in pixel(x + 0.5, y + 0.5, size, scale))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "public/icons")
    out.mkdir(parents=True, exist_ok=True)
    (out / "icon-192.png").write_bytes(png(192, 0.9))
    (out / "icon-512.png").write_bytes(png(512, 0.9))
    (out / "maskable-512.png").write_bytes(png(512, 0.7))
