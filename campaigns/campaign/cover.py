"""Cover images: an upload decoded with Pillow, checked, and re-encoded as resized variants.

Pure (bytes in, bytes out), so the route can run it in a worker thread and tests can call it
directly. Nothing of the upload survives but its pixels: every variant is a new image with no
EXIF (where phones put the GPS position), no XMP, no comments and no ICC profile (colours are
converted to sRGB first, the profile browsers assume without one).
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from campaigns.campaign.errors import ImageTooLarge, InvalidImage

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
"""A 5 MB file can claim 100,000 x 100,000 pixels (a decompression bomb: 40 GB once decoded).
The header's size is checked against this before a single pixel is decoded; 40 megapixels is
more than any phone camera takes."""
MIN_SIDE = 200
WIDTHS = (480, 960, 1600)
"""Variant widths: a phone, a phone at 2x or a laptop, a wide screen at 2x. Never upscaled."""
FORMATS = ("JPEG", "PNG", "WEBP")
WEBP_QUALITY = 80
JPEG_QUALITY = 82
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    webp: bytes
    jpeg: bytes


@dataclass(frozen=True)
class PreparedCover:
    key: str
    """SHA-256 of the upload: the same upload always makes the same files."""
    variants: tuple[Variant, ...]
    """Narrowest first."""

    @property
    def height(self) -> int:
        return self.variants[-1].height

    @property
    def widths(self) -> list[int]:
        return [v.width for v in self.variants]


def prepare_cover(data: bytes) -> PreparedCover:
    """Decode, check, orient, convert to sRGB and re-encode; InvalidImage or ImageTooLarge."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageTooLarge(f"the image is {_megabytes(len(data))}; covers may be at most 5 MB")
    image = _decode(data)
    widths = variant_widths(image.width)
    variants = tuple(_variant(image, width) for width in widths)
    return PreparedCover(key=hashlib.sha256(data).hexdigest(), variants=variants)


def variant_widths(width: int) -> tuple[int, ...]:
    """The standard widths below `width`, then `width` itself up to the widest standard one."""
    top = min(width, WIDTHS[-1])
    return (*(w for w in WIDTHS if w < top), top)


def _decode(data: bytes) -> Image.Image:
    try:
        # Image.open reads only the header; Pillow itself refuses above 2 x MAX_IMAGE_PIXELS.
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        _check_size(image.width, image.height)
        # An animation's first frame is its poster; the rest are dropped.
        image.seek(0)
        _draft(image)
        image.load()
        # EXIF is parsed here, so a malformed block is refused like a malformed image.
        return _to_srgb(ImageOps.exif_transpose(image))
    except (InvalidImage, ImageTooLarge):
        raise
    except UnidentifiedImageError as e:
        raise InvalidImage("the file is not a JPEG, PNG or WebP image") from e
    except Image.DecompressionBombError as e:
        raise InvalidImage("the image has too many pixels (at most 40 megapixels)") from e
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, KeyError, IndexError, TypeError) as e:
        # Pillow's words for a truncated or corrupt file (or its EXIF).
        raise InvalidImage("the image is damaged or incomplete; export it again and retry") from e


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise InvalidImage(f"the image is {width} x {height} pixels; covers may have at most 40 megapixels")
    if min(width, height) < MIN_SIDE:
        raise InvalidImage(
            f"the image is {width} x {height} pixels; covers need at least {MIN_SIDE} on each side"
        )


def _draft(image: Image.Image) -> None:
    """Let the JPEG decoder skip detail no variant keeps (a 12 MP photo decodes at 1/2 or 1/4)."""
    if image.format == "JPEG":
        image.draft("RGB", (WIDTHS[-1], WIDTHS[-1]))


def _to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Covers are shown on white: flatten transparency so JPEG and WebP look the same.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken profile: keep the pixels as they are
        if converted is not None:
            return converted
    return image.convert("RGB")


def _variant(image: Image.Image, width: int) -> Variant:
    height = max(1, round(image.height * width / image.width))
    resized = image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: nothing in `info` (EXIF, XMP, ICC) can ride along.
    clean = Image.frombytes("RGB", resized.size, resized.tobytes())
    return Variant(width=width, height=height, webp=_encode(clean, "WEBP"), jpeg=_encode(clean, "JPEG"))


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
