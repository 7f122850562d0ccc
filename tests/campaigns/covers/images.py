"""Upload files for the cover tests, made with Pillow: real photos with EXIF and GPS, and the
kinds of bad file people and attackers send."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

MAKER = "SecretCam 3000"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(fmt: str, *, size: tuple[int, int] = (1200, 800), orientation: int | None = None) -> bytes:
    """A gradient photo with EXIF (camera make, GPS position) and, if asked, an orientation."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = MAKER
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)})
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def png_with_text(size: tuple[int, int] = (640, 480)) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "home address: 1 Secret Lane")
    out = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (400, 300), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10 gigapixels: decoding it would take 30 GB of memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    whole = photo("JPEG")
    return whole[: len(whole) // 2]


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (0, 128, 0)).save(out, "GIF")
    return out.getvalue()
