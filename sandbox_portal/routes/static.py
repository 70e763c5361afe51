"""Stylesheet, script and emblem, read once at start-up and served from memory with an ETag."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
FILES_KEY = web.AppKey("static_files", dict)


def load(directory: Path = STATIC_DIR) -> dict[str, tuple[bytes, str, str]]:
    out = {}
    for p in sorted(directory.iterdir()):
        if p.is_file():
            data = p.read_bytes()
            ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
            out[p.name] = (data, ctype, hashlib.sha1(data).hexdigest()[:16])
    return out


async def static_file(request: web.Request) -> web.Response:
    entry = request.app[FILES_KEY].get(request.match_info["name"])
    if entry is None:
        raise web.HTTPNotFound()
    data, ctype, etag = entry
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304)
    return web.Response(
        body=data,
        content_type=ctype,
        charset="utf-8" if ctype.startswith("text/") or ctype.endswith("javascript") else None,
        headers={"ETag": f'"{etag}"', "Cache-Control": "public, max-age=3600"},
    )


def setup(app: web.Application) -> None:
    app[FILES_KEY] = load()
    app.router.add_get("/static/{name}", static_file)
