"""Uploaded media on disk (GOODLOOP_MEDIA_DIR) and the route that serves it at /media/...

Files are content-addressed: a name is derived from its bytes' hash, so a name never points at
other bytes and browsers may keep a file forever (`immutable`). Writes go to a temporary name
in the same directory and are renamed into place, so a reader never sees half a file; a crash
leaves at most a stray temporary file, never a broken cover.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from service.web.context import settings

# The only names that exist (campaign covers, fundraisers' photos): a whitelist, so no path
# (`..`, `/etc`, `%2f`) reaches the disk.
_NAME = re.compile(r"(covers|photos)/[0-9a-f]{64}-[0-9]{1,4}\.(webp|jpg)")
_MEDIA_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}
CACHE_FOREVER = "public, max-age=31536000, immutable"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if _NAME.fullmatch(name) is None:
            raise ValueError(f"not a media name: {name!r}")
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def write(self, name: str, data: bytes) -> None:
        """Atomically: the file appears whole or not at all. An existing file is kept (same
        name, same bytes)."""
        target = self.path(name)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            with open(temporary, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


def media_store(request: Request) -> MediaStore:
    return MediaStore(settings(request).media_root)


async def media_file(request: Request) -> Response:
    name: str = request.path_params["name"]
    match = _NAME.fullmatch(name)
    store = media_store(request)
    if match is None or not store.exists(name):
        raise HTTPException(404)
    return FileResponse(
        store.path(name),
        media_type=_MEDIA_TYPES[match.group(2)],
        headers={"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"},
    )


routes = [Route("/media/{name:path}", media_file, methods=["GET", "HEAD"], name="media:file")]
