"""Sending a decrypted evidence file: always as an attachment, never rendered.

A hostile file (HTML, SVG, a PDF with scripts) must never open inside an officer's
browser tab on this origin: it is sent as application/octet-stream with
Content-Disposition: attachment and nosniff. Decryption streams; if the stored stream
turns out to be cut or tampered, the response is aborted short of its Content-Length,
so the browser reports a failed download instead of saving a truncated file.
"""

import re
from collections.abc import Iterator
from urllib.parse import quote

from starlette.responses import StreamingResponse

from ..service.attachments import FileView


def ascii_fallback(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return safe[:100] or "evidence"


def download(view: FileView, content: Iterator[bytes]) -> StreamingResponse:
    disposition = f"attachment; filename=\"{ascii_fallback(view.name)}\"; filename*=UTF-8''{quote(view.name, safe='')}"
    return StreamingResponse(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(view.size),
            "X-Content-Type-Options": "nosniff",
        },
    )
