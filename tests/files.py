"""Helpers for evidence-file tests: multipart bodies, store snapshots, sample files with metadata."""

import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
from sqlmodel import Session, func, select

from intake.database_blobs import DatabaseBlobStore
from intake.store import Attachment, BlobChunk, Case, CaseKeyWrap, Message


def multipart(fields: dict[str, str], files: list[tuple], boundary: str = "testboundary7d1a") -> tuple[bytes, dict]:
    """A multipart/form-data body (fields first, then files) and its Content-Type header.

    Each file is (filename, data) in the part named "files", or (part name, filename, data)."""
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    for file in files:
        field, filename, data = file if len(file) == 3 else ("files", *file)
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    # The API takes a form-shaped body only with this header (api/cross_site.py); the HTML forms ignore it.
    return bytes(out), {"content-type": f"multipart/form-data; boundary={boundary}", "x-intake-client": "tests"}


def report_upload(
    files: list[tuple[str, bytes]], concerns=("misconduct",), description="see the files", clean="on"
) -> tuple[bytes, dict]:
    report = json.dumps({"concerns": list(concerns), "description": description, "answers": {}})
    return multipart({"clean_metadata": clean, "report": report}, files)


def snapshot(ctx) -> dict:
    """Row counts of the case tables and every file (with size) under the blob directory."""
    with Session(ctx.engine) as db:
        counts = {
            table.__name__: db.exec(select(func.count()).select_from(table)).one()
            for table in (Case, CaseKeyWrap, Message, Attachment)
        }
    return {"rows": counts, "blobs": stored_blobs(ctx)}


def stored_blobs(ctx) -> list:
    """Every blob the store holds, with its size: files under the blob directory, or the database's chunks."""
    if isinstance(ctx.blobs, DatabaseBlobStore):
        with ctx.engine.connect() as connection:
            rows = connection.execute(
                select(BlobChunk.blob_id, func.count(), func.sum(func.length(BlobChunk.data))).group_by(BlobChunk.blob_id)
            ).all()
        return sorted(tuple(row) for row in rows)
    return sorted((str(p.relative_to(ctx.blobs.root)), p.stat().st_size) for p in Path(ctx.blobs.root).rglob("*") if p.is_file())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg_with_gps() -> bytes:
    """A small JPEG whose EXIF holds a camera make and a GPS position."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "WhistleCam"  # Make
    exif[0x8825] = {1: "N", 2: (46.0, 12.0, 30.0), 3: "E", 4: (6.0, 8.0, 15.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def jpeg_metadata(data: bytes) -> dict:
    from PIL import Image

    exif = Image.open(io.BytesIO(data)).getexif()
    return {"make": exif.get(0x010F), "gps": dict(exif.get_ifd(0x8825))}


def docx_with_author(author: str) -> bytes:
    """A minimal, valid DOCX whose core properties name an author."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Minutes</w:t></w:r></w:p></w:body></w:document>',
        )
        z.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>' + author + "</dc:creator></cp:coreProperties>",
        )
    return out.getvalue()


def docx_author(data: bytes) -> str | None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if "docProps/core.xml" not in z.namelist():
            return None
        core = z.read("docProps/core.xml").decode()
    start = core.find("<dc:creator>")
    return core[start + 12 : core.find("</dc:creator>")] if start >= 0 else None


def post_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    """The ASGI scope of a POST from a client at 127.0.0.1, for tests that feed the app a body piece by piece."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


def in_own_loop(function: Callable[..., Awaitable], *args):
    """Run a coroutine function in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session, where anyio.run refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function, *args).result()
