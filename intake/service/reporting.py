"""What a reporter does: file a report, open the case room, read and write, answer a
request for consent.

A report is sealed under a fresh case key per routed office; the case key is wrapped
to the office and to the reporter's passphrase-derived public key. After `file_report`
returns, the server keeps no key that opens the report: only an officer of the office,
or the passphrase, can.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from crypto import (
    derive_reporter_secrets,
    generate_passphrase,
    lookup_digest,
    new_key,
    seal_record,
    unwrap_case_key,
    wrap_case_key,
)
from crypto.errors import CryptoError
from policies import Author, Consent, Office, ReportInput, SessionKind, route
from policies.text import N_

from ..store import REPORTER_HOLDER, Case, CaseKeyWrap, Handling, office_holder, transaction
from ..store import Office as OfficeRow
from . import attachments, budgets, protection, sessions
from .attachments import FileView, PendingFile
from .casefiles import (
    HandlingView,
    MessageView,
    add_message,
    clean_message,
    handlings,
    new_id,
    read_messages,
    refresh,
    view_handling,
)
from .context import Context
from .errors import AuthenticationFailed, Conflict, NotFound
from .protection import MeasureView

NOT_IN_ROOM = N_("There is no such case in this case room.")
WRONG_PASSPHRASE = N_("No case room opens with this passphrase. Check each word and try again.")


@dataclass(frozen=True)
class FiledCase:
    id: str
    office: Office


@dataclass(frozen=True)
class FiledReport:
    passphrase: str
    cases: tuple[FiledCase, ...]


@dataclass(frozen=True)
class CaseRoomCase:
    id: str
    office: Office
    received_on: str
    handlings: tuple[HandlingView, ...]
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...] = ()
    measures: tuple[MeasureView, ...] = ()  # recommended to protect the complainant: what and where it stands

    @property
    def status(self) -> str:
        """The routed office's status (the API's `status`)."""
        return next(h.status for h in self.handlings if h.office == self.office)

    @property
    def consent_requested(self) -> bool:
        return any(h.consent == Consent.REQUESTED for h in self.handlings)

    @property
    def consent_open(self) -> HandlingView | None:
        """The handling whose request for consent the complainant can still answer (or change their answer to)."""
        return next((h for h in self.handlings if h.consent is not None and not h.closed), None)

    def expectations(self) -> list[tuple[Office, str, str]]:
        """(office, what, by when) the reporter can expect next from every office, in date order."""
        return sorted(((h.office, what, when) for h in self.handlings for what, when in h.expectations()), key=lambda e: e[2])

    @property
    def withdrawable(self) -> bool:
        return any(not h.closed for h in self.handlings)

    @property
    def closed(self) -> bool:
        """Every office has closed its handling."""
        return all(h.closed for h in self.handlings)


def check_report(ctx: Context, report: ReportInput) -> ReportInput:
    """The refusals that can come before an upload: asked of the text fields, before any file is stored."""
    budgets.check(ctx, budgets.submissions(ctx))
    return report


def file_report(ctx: Context, report: ReportInput, files: Sequence[PendingFile] = (), language: str = "en") -> FiledReport:
    """File a validated report: one case per routed office, all under one new passphrase.

    `files` are already encrypted and stored; each case gets its own sealed copy of
    their keys. This call owns them: if it raises, nothing was committed and their blobs are gone.
    `language` is the one the reporter used, sealed with the answers so officers can write
    back in it.
    """
    with attachments.held(ctx, files):
        return _file_report(ctx, report, files, language)


def _file_report(ctx: Context, report: ReportInput, files: Sequence[PendingFile], language: str) -> FiledReport:
    budgets.spend(ctx, budgets.submissions(ctx))
    passphrase = generate_passphrase()
    reporter = ctx.gate.run(derive_reporter_secrets, passphrase, ctx.instance.instance_salt, ctx.instance.argon2)
    lookup = lookup_digest(reporter.lookup, ctx.instance.lookup_key)
    report_id = new_id("R")
    filed = []
    with transaction(ctx.engine) as db:
        for code in route(ctx.policy, report.concerns):
            office = db.get(OfficeRow, code)
            if office is None:
                raise RuntimeError(f"office {code} is not set up: run `intake init`")
            case_id, case_key = new_id(code), new_key()
            db.add(
                Case(
                    id=case_id,
                    office=code,
                    report_id=report_id,
                    lookup=lookup,
                    policy_version=ctx.policy.version,
                    received_on=ctx.today(),
                    report=seal_record(case_key, report.description.encode("utf-8"), case_id, "report", case_id),
                    answers=seal_record(
                        case_key,
                        json.dumps({**report.answers(), "language": language}).encode("utf-8"),
                        case_id,
                        "answers",
                        case_id,
                    ),
                )
            )
            db.flush()
            handling = Handling(
                case_id=case_id,
                office=code,
                status=ctx.policy.lifecycles[code].initial,
                policy_version=ctx.policy.version,
                opened_on=ctx.today(),
            )
            refresh(ctx, db, handling)
            db.add(
                CaseKeyWrap(case_id=case_id, holder=office_holder(code), wrap=wrap_case_key(case_key, office.public_key, case_id))
            )
            db.add(
                CaseKeyWrap(case_id=case_id, holder=REPORTER_HOLDER, wrap=wrap_case_key(case_key, reporter.public_key, case_id))
            )
            attachments.attach(db, case_id, case_key, None, files)
            filed.append(FiledCase(case_id, code))
    return FiledReport(passphrase, tuple(filed))


def open_case_room(ctx: Context, passphrase: object) -> str:
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
            select(CaseKeyWrap)
            .join(Case, col(Case.id) == CaseKeyWrap.case_id)
            .where(Case.lookup == lookup, CaseKeyWrap.holder == REPORTER_HOLDER)
        ).all()
        for wrap in rows:
            try:
                keys[wrap.case_id] = unwrap_case_key(reporter.private_key, wrap.wrap, wrap.case_id).hex()
            except CryptoError:
                continue
    if not keys:
        raise AuthenticationFailed(WRONG_PASSPHRASE)
    budgets.spend(ctx, budgets.case_room_openings(ctx, reporter.lookup))
    return sessions.start(ctx, SessionKind.REPORTER, {"cases": keys})


def _case_keys(ctx: Context, token: str | None) -> dict[str, bytes]:
    payload = sessions.resume(ctx, token, SessionKind.REPORTER)
    return {case_id: bytes.fromhex(key) for case_id, key in payload["cases"].items()}


def check_access(ctx: Context, token: str | None, case_id: str) -> None:
    """Raise unless this session may write to `case_id` (checked before reading an upload)."""
    if case_id not in _case_keys(ctx, token):
        raise NotFound(NOT_IN_ROOM)


def check_message(ctx: Context, case_id: str, body: object, has_files: bool) -> str:
    """The refusals that can come before an upload: the text, and the case's message budget."""
    text = clean_message(body, has_files)
    budgets.check(ctx, budgets.messages(ctx, case_id))
    return text


def case_room(ctx: Context, token: str | None) -> tuple[CaseRoomCase, ...]:
    """Everything the reporter may see: each case of the report, where each office stands, the messages."""
    keys = _case_keys(ctx, token)
    out = []
    with Session(ctx.engine) as db:
        for case_id, key in sorted(keys.items()):
            case = db.get(Case, case_id)
            if case is None:
                continue
            messages, files = read_messages(db, case_id, key)
            views = tuple(view_handling(ctx, h) for h in handlings(db, case_id))
            measures = protection.read(ctx, db, case_id, key)
            out.append(CaseRoomCase(case.id, Office(case.office), case.received_on.isoformat(), views, messages, files, measures))
    return tuple(out)


def reporter_writes(ctx: Context, token: str | None, case_id: str, body: object, files: Sequence[PendingFile] = ()) -> str:
    """A reporter's message (and files) to the offices handling `case_id`; owns the files."""
    with attachments.held(ctx, files):
        return _reporter_writes(ctx, token, case_id, body, files)


def _reporter_writes(ctx: Context, token: str | None, case_id: str, body: object, files: Sequence[PendingFile]) -> str:
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    text = clean_message(body, bool(files))
    budgets.spend(ctx, budgets.messages(ctx, case_id))
    with transaction(ctx.engine) as db:
        if db.get(Case, case_id) is None:
            raise NotFound(NOT_IN_ROOM)
        message_id = add_message(db, ctx, case_id, keys[case_id], Author.REPORTER, text, files=files)
        _arrived(db, case_id)
    return message_id


def _arrived(db: Session, case_id: str) -> None:
    """Something new from the complainant: unread for every officer of every office handling the case."""
    for handling in handlings(db, case_id):
        handling.activity += 1
        db.add(handling)


def answer_consent(ctx: Context, token: str | None, case_id: str, agree: object) -> str:
    """The complainant's answer to ECO's request to share the complaint with OIG (Charter 4.8)."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    if not isinstance(agree, bool):
        raise Conflict(N_("Please answer the request with yes or no."))
    with transaction(ctx.engine) as db:
        asked = [
            h for h in handlings(db, case_id) if h.consent is not None and not ctx.policy.lifecycle(h.office).is_closed(h.status)
        ]
        if not asked:
            raise Conflict(N_("No one has asked for your consent on this case."))
        handling = asked[0]
        handling.consent = Consent.GIVEN if agree else Consent.REFUSED
        handling.consent_on = ctx.today()
        db.add(handling)
        _arrived(db, case_id)
    # Not audit-logged: the audit log times entries to the second, and reporters' acts
    # are kept at day precision. The referral's entry records the consent it relied on.
    return handling.consent


def withdraw(ctx: Context, token: str | None, case_id: str, reason: object = None) -> tuple[str, ...]:
    """The complainant withdraws: every office still handling the case closes it as withdrawn.

    An optional reason reaches the offices as the complainant's message. Protective
    measures stay where they are: lifting them is the office's decision. Not audit-logged,
    like every act of a reporter (the log times entries to the second).
    """
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    text = clean_message(reason, has_files=True)  # the reason may be empty
    with transaction(ctx.engine) as db:
        open_ones = [h for h in handlings(db, case_id) if not ctx.policy.lifecycle(h.office).is_closed(h.status)]
        if not open_ones:
            raise Conflict(N_("This case is already closed."))
        if text:
            add_message(db, ctx, case_id, keys[case_id], Author.REPORTER, text)
        for handling in open_ones:
            target = ctx.policy.lifecycle(handling.office).withdrawal_state
            if target is None:
                raise Conflict(N_("This case cannot be withdrawn here; write to the office instead."))
            handling.status, handling.closed_on = target, ctx.today()
            refresh(ctx, db, handling)
        _arrived(db, case_id)
        return tuple(h.office for h in open_ones)


def open_file(ctx: Context, token: str | None, case_id: str, file_id: str):
    """(FileView, plaintext iterator) of a file in one of this reporter's cases."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    with Session(ctx.engine) as db:
        return attachments.open_file(ctx, db, case_id, keys[case_id], file_id)


def leave_case_room(ctx: Context, token: str | None) -> None:
    sessions.end(ctx, token)
