"""What a reporter does: file a report, open the case room, read and write messages.

A report is sealed under a fresh case key per office; the case key is wrapped to the
office and to the reporter's passphrase-derived public key. After this function returns,
the server keeps no key that opens the report: only an officer of the office, or the
passphrase, can.
"""

import json
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from crypto import derive_reporter_secrets, generate_passphrase, lookup_digest, new_key, open_record, seal_record, unwrap_case_key, wrap_case_key
from crypto.errors import CryptoError
from policies import MAX_MESSAGE_CHARS, InvalidReport, ReportInput, clean_text, route

from ..store import Case, CaseKeyWrap, Message, Office, transaction
from . import attachments, sessions
from .attachments import FileView, PendingFile
from .context import Context
from .errors import AuthenticationFailed, NotFound

REPORTER = "reporter"
WRONG_PASSPHRASE = "No case room opens with this passphrase. Check each word and try again."


@dataclass(frozen=True)
class FiledCase:
    id: str
    office: str


@dataclass(frozen=True)
class FiledReport:
    passphrase: str
    cases: tuple[FiledCase, ...]


@dataclass(frozen=True)
class MessageView:
    id: str
    author: str
    body: str
    sent_on: str
    files: tuple[FileView, ...] = ()


@dataclass(frozen=True)
class CaseRoomCase:
    id: str
    office: str
    status: str
    received_on: str
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...] = ()


def new_id(prefix: str) -> str:
    """A case or message id: unguessable, short enough to read over the phone."""
    return f"{prefix}-{secrets.token_hex(5).upper()}"


def file_report(ctx: Context, report: ReportInput, files: list[PendingFile] = ()) -> FiledReport:
    """File a validated report: one case per routed office, all under one new passphrase.

    `files` are already encrypted and stored; each case gets its own sealed copy of
    their keys. If this raises, nothing was committed and the caller discards the files.
    """
    passphrase = generate_passphrase()
    reporter = ctx.gate.run(derive_reporter_secrets, passphrase, ctx.instance.instance_salt, ctx.instance.argon2)
    lookup = lookup_digest(reporter.lookup, ctx.instance.lookup_key)
    report_id = new_id("R")
    filed = []
    with transaction(ctx.engine) as db:
        for code in route(ctx.policy, report.concerns):
            office = db.get(Office, code)
            if office is None:
                raise RuntimeError(f"office {code} is not set up: run `intake init`")
            case_id, case_key = new_id(code), new_key()
            db.add(Case(
                id=case_id,
                office=code,
                report_id=report_id,
                lookup=lookup,
                status="received",
                policy_version=ctx.policy.version,
                received_on=ctx.today(),
                report=seal_record(case_key, report.description.encode("utf-8"), case_id, "report", case_id),
                answers=seal_record(case_key, json.dumps(report.answers()).encode("utf-8"), case_id, "answers", case_id),
            ))
            db.flush()
            db.add(CaseKeyWrap(case_id=case_id, holder=f"office:{code}", wrap=wrap_case_key(case_key, office.public_key, case_id)))
            db.add(CaseKeyWrap(case_id=case_id, holder=REPORTER, wrap=wrap_case_key(case_key, reporter.public_key, case_id)))
            attachments.attach(db, case_id, case_key, None, list(files))
            filed.append(FiledCase(case_id, code))
    return FiledReport(passphrase, tuple(filed))


def open_case_room(ctx: Context, passphrase: str) -> str:
    """A reporter session holding the case keys of this passphrase's cases.

    A wrong passphrase and a passphrase that never existed get the same answer after
    the same Argon2 work, so the answer tells a guesser nothing.
    """
    if not isinstance(passphrase, str) or len(passphrase) > 500:
        raise AuthenticationFailed(WRONG_PASSPHRASE)
    reporter = ctx.gate.run(derive_reporter_secrets, passphrase, ctx.instance.instance_salt, ctx.instance.argon2)
    lookup = lookup_digest(reporter.lookup, ctx.instance.lookup_key)
    keys = {}
    with Session(ctx.engine) as db:
        rows = db.exec(
            select(CaseKeyWrap).join(Case, Case.id == CaseKeyWrap.case_id).where(Case.lookup == lookup, CaseKeyWrap.holder == REPORTER)
        ).all()
        for wrap in rows:
            try:
                keys[wrap.case_id] = unwrap_case_key(reporter.private_key, wrap.wrap, wrap.case_id).hex()
            except CryptoError:
                continue
    if not keys:
        raise AuthenticationFailed(WRONG_PASSPHRASE)
    return sessions.start(ctx, REPORTER, {"cases": keys})


def _case_keys(ctx: Context, token: str | None) -> dict[str, bytes]:
    payload = sessions.resume(ctx, token, REPORTER)
    return {case_id: bytes.fromhex(key) for case_id, key in payload["cases"].items()}


def read_messages(db: Session, case_id: str, case_key: bytes) -> tuple[tuple[MessageView, ...], tuple[FileView, ...]]:
    """Every message of a case, oldest first, decrypted with its files; and the report's own files."""
    rows = db.exec(select(Message).where(Message.case_id == case_id).order_by(Message.number)).all()
    files = attachments.files_by_message(db, case_id, case_key)
    messages = tuple(
        MessageView(m.id, m.author, open_record(case_key, m.body, case_id, "message", m.id).decode("utf-8"), m.sent_on.isoformat(),
                    tuple(files.get(m.id, ())))
        for m in rows
    )
    return messages, tuple(files.get(None, ()))


def case_room(ctx: Context, token: str | None) -> tuple[CaseRoomCase, ...]:
    """Everything the reporter may see: each case of the report, its status and messages."""
    keys = _case_keys(ctx, token)
    out = []
    with Session(ctx.engine) as db:
        for case_id, key in sorted(keys.items()):
            case = db.get(Case, case_id)
            if case is None:
                continue
            messages, files = read_messages(db, case_id, key)
            out.append(CaseRoomCase(case.id, case.office, case.status, case.received_on.isoformat(), messages, files))
    return tuple(out)


def add_message(db: Session, ctx: Context, case_id: str, case_key: bytes, author: str, body: str,
                officer_id: str | None = None, files: list[PendingFile] = ()) -> str:
    """Seal and store one message with its files; the caller's transaction commits it."""
    message_id = new_id("M")
    attachments.attach(db, case_id, case_key, message_id, list(files))
    db.add(Message(
        id=message_id,
        case_id=case_id,
        author=author,
        officer_id=officer_id,
        sent_on=ctx.today(),
        body=seal_record(case_key, body.encode("utf-8"), case_id, "message", message_id),
    ))
    return message_id


def clean_message(body: object, has_files: bool = False) -> str:
    """The message text, or InvalidReport. A message may be empty only if it carries files."""
    errors: dict[str, str] = {}
    text = clean_text(body, MAX_MESSAGE_CHARS, "body", errors, required=not has_files)
    if errors:
        raise InvalidReport(errors)
    return text


def check_access(ctx: Context, token: str | None, case_id: str) -> None:
    """Raise unless this session may write to `case_id` (checked before taking an upload)."""
    if case_id not in _case_keys(ctx, token):
        raise NotFound("no such case in this case room")


def reporter_writes(ctx: Context, token: str | None, case_id: str, body: object, files: list[PendingFile] = ()) -> str:
    """A reporter's message (and files) to the office handling `case_id`."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound("no such case in this case room")
    text = clean_message(body, bool(files))
    with transaction(ctx.engine) as db:
        case = db.get(Case, case_id)
        if case is None:
            raise NotFound("no such case in this case room")
        message_id = add_message(db, ctx, case_id, keys[case_id], REPORTER, text, files=files)
        case.unread = True
        db.add(case)
    return message_id


def leave_case_room(ctx: Context, token: str | None) -> None:
    sessions.end(ctx, token)


def open_file(ctx: Context, token: str | None, case_id: str, file_id: str):
    """(FileView, plaintext iterator) of a file in one of this reporter's cases."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound("no such case in this case room")
    with Session(ctx.engine) as db:
        return attachments.open_file(ctx, db, case_id, keys[case_id], file_id)
