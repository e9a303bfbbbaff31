"""Multipart uploads, parsed from the request stream and encrypted as they arrive.

Starlette's form parser would spool every file to a temporary file in plaintext before
the app sees it. Here python-multipart's streaming parser hands each piece of a file
part straight to a FileSink (intake/service/attachments.py), which encrypts it into the
blob store. Parsing and encryption run in a worker thread, a piece at a time, so the
event loop stays free and memory stays flat however large the file.

The cheap refusals come before the expensive work: a handler passes a `check` that
runs on the text fields once, when the first file part begins (forms put their text
fields first) or at the end of a body without files. It checks the CSRF token, the
answers and the budgets; if it refuses, the rest of the body is read and thrown away,
unencrypted and unstored, and the refusal is raised when the body has ended.

Until the handler hands the files to a service call, this module owns them: if anything
goes wrong here (a limit, a malformed or truncated body, a client that goes away) every
blob written for this request is removed before the error propagates. From the
handover on, the service call owns them (intake/service/attachments.py, `held`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from policies.text import N_, Text

from ..service.attachments import FileSink, PendingFile, UploadBudget
from ..service.context import Context
from .bad_request import BadRequest
from .limits import DEFAULT_BODY_LIMIT

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELDS = 50
MAX_FIELD_BYTES = 1024 * 1024
# All the text of one upload together, its part headers included: what a form without files may send
# (limits.DEFAULT_BODY_LIMIT). The text is held in memory until the body ends, so without this bound 50
# fields of 1 MiB made a stranger's request hold 50 MiB, and a dozen slow ones most of a small server.
MAX_TEXT_BYTES = DEFAULT_BODY_LIMIT
FILE_FIELD = "files"
# A report of both retaliation and misconduct sends each account's files apart: "files.retaliation", "files.misconduct".
PART_FILE_FIELDS = {"files.retaliation": "retaliation", "files.misconduct": "misconduct"}
CLEAN_FIELD = "clean_metadata"


@dataclass
class Upload:
    """The text fields of a form and its files, already encrypted and stored.

    `checked` is what the handler's check returned (a validated report, say); `refused`
    is the refusal it raised, when the caller asked to keep it rather than raise it.
    """

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[PendingFile] = field(default_factory=list)
    checked: Any = None
    refused: Exception | None = None
    files_chosen: int = 0  # file parts with a name, stored or (after a refusal) not

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def clean_metadata(self) -> bool:
        """Remove hidden information unless the sender said "off" (the HTML checkbox sends
        a hidden "off" first and "on" after it when ticked; API clients may omit it)."""
        return self.get(CLEAN_FIELD, "on") != "off"


Check = Callable[[Upload], Any]


def run_check(upload: Upload, check: Check | None) -> None:
    """Run a handler's check on the fields; keep its refusal on the upload."""
    if check is None:
        return
    try:
        upload.checked = check(upload)
    except Exception as refusal:  # noqa: BLE001 (every refusal: CSRF, validation, budgets, access; raised later)
        upload.refused = refusal


class _Receiver:
    """The parser's callbacks: text fields into memory (bounded), file parts into sinks."""

    def __init__(self, ctx: Context, budget: UploadBudget, check: Check | None) -> None:
        self.ctx = ctx
        self.budget = budget
        self.check = check
        self.checked = False
        self.upload = Upload()
        self.header_name, self.header_value = b"", b""
        self.headers: dict[bytes, bytes] = {}
        self.name: str | None = None
        self.text: bytearray | None = None
        self.sink: FileSink | None = None
        self.fields = 0
        self.text_bytes = 0  # text fields and part headers so far, against MAX_TEXT_BYTES
        self.ended = False

    def _check_once(self) -> None:
        if not self.checked:
            self.checked = True
            run_check(self.upload, self.check)

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda data, start, end: self._grow("header_name", data[start:end]),
            "on_header_value": lambda data, start, end: self._grow("header_value", data[start:end]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def _hold(self, size: int) -> None:
        """Count text about to be held in memory; refuse the upload once all of it passes MAX_TEXT_BYTES."""
        self.text_bytes += size
        if self.text_bytes > MAX_TEXT_BYTES:
            raise BadRequest(
                Text(
                    N_("The text of this form is too long: all its fields together may hold {size} KiB."),
                    size=f"{MAX_TEXT_BYTES // 1024:,}",
                ),
                status_code=413,
            )

    def _grow(self, attribute: str, data: bytes) -> None:
        self._hold(len(data))
        value = getattr(self, attribute) + data
        if len(value) > 8192:
            raise BadRequest(N_("A part header of the upload is too long."))
        setattr(self, attribute, value)

    def on_part_begin(self) -> None:
        self.headers, self.name, self.text, self.sink = {}, None, None, None

    def on_header_end(self) -> None:
        self.headers[self.header_name.strip().lower()] = self.header_value.strip()
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise BadRequest(N_("Each part of the upload needs a Content-Disposition with a name."))
        self.name = _text(options[b"name"], "a part name")
        if b"filename" not in options:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise BadRequest(N_("The form has too many fields."))
            self.text = bytearray()
            return
        if self.name != FILE_FIELD and self.name not in PART_FILE_FIELDS:
            raise BadRequest(Text(N_("Files are accepted only in the part named {name}."), name=FILE_FIELD))
        filename = _text(options[b"filename"], "a file name")
        if not filename:  # a browser sends an empty, nameless part when no file was chosen
            return
        self.upload.files_chosen += 1
        self._check_once()
        if self.upload.refused is None:
            content_type = _text(self.headers.get(b"content-type", b""), "a content type")
            self.sink = FileSink(
                self.ctx, filename, content_type, self.upload.clean_metadata(), self.budget, PART_FILE_FIELDS.get(self.name)
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is not None:
            self.sink.write(data[start:end])
        elif self.text is not None:
            self._hold(end - start)
            self.text += data[start:end]
            if len(self.text) > MAX_FIELD_BYTES:
                raise BadRequest(N_("A form field is too long."), status_code=413)

    def on_part_end(self) -> None:
        if self.sink is not None:
            sink, self.sink = self.sink, None
            self.upload.files.append(sink.finish())
        elif self.text is not None and self.name is not None:
            self.upload.fields.setdefault(self.name, []).append(_text(bytes(self.text), f"the field {self.name!r}"))
            self.text = None

    def on_end(self) -> None:
        self._check_once()
        self.ended = True

    def abort(self) -> None:
        if self.sink is not None:
            self.sink.abort()
            self.sink = None
        self.budget.release_blobs()  # every file of the request, the finished ones too


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(Text(N_("{what} is not UTF-8 text."), what=what)) from None


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


async def read_upload(request: Request, ctx: Context, check: Check | None = None) -> Upload:
    """Parse a multipart/form-data request, encrypting files into the blob store as they arrive.

    `check` runs on the text fields before the first file is stored; if it refuses, no
    file is stored and the refusal is on `Upload.refused` (the caller raises it).
    """
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not is_multipart(request) or not boundary:
        raise BadRequest(N_("Send this form as multipart/form-data with a boundary."), status_code=415)
    receiver = _Receiver(ctx, UploadBudget.for_request(ctx), check)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())
        async for chunk in request.stream():
            if chunk:
                await anyio.to_thread.run_sync(parser.write, chunk)
        await anyio.to_thread.run_sync(parser.finalize)
        if not receiver.ended:
            raise BadRequest(N_("The upload was cut off before its end. Nothing was kept; please send it again."))
    except FormParserError:
        await anyio.to_thread.run_sync(receiver.abort)
        raise BadRequest(N_("The upload is not well-formed multipart data. Nothing was kept.")) from None
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(receiver.abort)
        # The text read so far, for a page that shows it again (a database outage: web/outage.py); no file.
        request.state.typed = receiver.upload
        raise
    return receiver.upload
