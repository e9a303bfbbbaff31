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

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from crypto import (
    derive_reporter_secrets,
    generate_passphrase,
    lookup_digest,
    new_key,
    open_record,
    read_passphrase,
    seal_record,
    unwrap_case_key,
    unwrap_identity_key,
    wrap_case_key,
)
from crypto.errors import CryptoError
from policies import Author, Concern, Consent, InvalidReport, Office, ReportInput, SessionKind, route
from policies.form import Part
from policies.model import ABOUT_HEAD, ADVICE, REPORT
from policies.text import N_

from ..store import (
    REPORTER_HOLDER,
    Case,
    CaseKeyWrap,
    Handling,
    Identity,
    Message,
    office_holder,
    office_public_key,
    reading,
    transaction,
)
from . import (
    attachments,
    budgets,
    identity,
    notifications,
    office_records,
    protection,
    restriction,
    retention,
    sendings,
    sessions,
)
from .attachments import FileView, PendingFile
from .casefiles import (
    HandlingView,
    MessageView,
    add_message,
    clean_message,
    handlings,
    lock_case,
    new_id,
    read_messages,
    refresh,
    view_handling,
)
from .context import Context
from .errors import AuthenticationFailed, Conflict, NotFound
from .identity import IdentityStatus
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
    files: tuple["FiledFile", ...] = ()


@dataclass(frozen=True)
class FiledFile:
    """A file filed with a report, as its sender is told of it (and a held receipt keeps it)."""

    name: str
    size: int
    cleaned: bool | None


@dataclass(frozen=True)
class CaseRoomCase:
    id: str
    office: Office
    received_on: str
    handlings: tuple[HandlingView, ...]
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...] = ()
    measures: tuple[MeasureView, ...] = ()  # recommended to protect the complainant: what and where it stands
    identity: IdentityStatus = identity.NONE_LEFT
    identity_text: str | None = None  # what the complainant left, shown only to them
    deleted_on: str | None = None  # once every office has closed it: the day the case room is erased
    restricted: bool = False  # about someone in the receiving office: only its head(s) and whom they choose read it

    @property
    def writing_to(self) -> Office:
        """The office the complainant writes to: the last one that received the case and still handles it
        (after OIG transferred a report to ECO, ECO), else the routed office. Both offices read the room."""
        open_handlings = [h.office for h in self.handlings if not h.closed]
        return open_handlings[-1] if open_handlings else self.office

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


def check_report(ctx: Context, report: ReportInput, sending: str | None = None) -> ReportInput:
    """The refusals that can come before an upload: asked of the text fields, before any file is stored."""
    sendings.check(ctx, sending, sendings.ALREADY_REPORTED)
    budgets.check(ctx, budgets.submissions(ctx))
    return report


def file_report(
    ctx: Context,
    report: ReportInput,
    files: Sequence[PendingFile] = (),
    language: str = "en",
    sending: str | None = None,
    hold_receipt: bool = False,
    same_report_only: bool = False,
) -> FiledReport:
    """File a validated report: a case per part and routed office, all under one new passphrase.

    Each part goes only to the office its concern routes to (a report of both is two cases,
    each with its own account). `files` are already encrypted and stored; each is attached to
    the case of the part it was sent with. This call owns them: if it raises, nothing was
    committed and their blobs are gone. `language` is the reporter's, sealed with the answers
    so officers can write back in it. `sending` is the form's one-time token (or the API's
    Idempotency-Key): the same sending files nothing twice. `hold_receipt`: the sending holds the passphrase,
    cases and files until the answer is ready (sendings.hold), for a resend after an outage hid the answer;
    `same_report_only` (the API, whose client chooses its key, which may be guessable): only a resend of
    this same report opens it.
    """
    bound = sendings.report_digest(ctx, report) if same_report_only else ""
    with attachments.held(ctx, files):
        return _file_report(ctx, report, files, language, sending, bound if hold_receipt else None)


def _files_of(part: Part, files: Sequence[PendingFile], parts: int) -> list[PendingFile]:
    """The files sent with a part: those sent for it, and, for a report of one part, all of them."""
    return [f for f in files if f.part == part.concern or (parts == 1 and f.part is None)]


def _file_report(
    ctx: Context, report: ReportInput, files: Sequence[PendingFile], language: str, sending: str | None, held_for: str | None
) -> FiledReport:
    if len(report.parts) > 1 and any(f.part is None for f in files):
        raise InvalidReport({"files": N_("say which account each file belongs to")})
    # A file sent for an account the report does not have would be attached to no case: refused, never
    # dropped while the answer lists it (#24 item 3).
    concerns = {part.concern for part in report.parts}
    if any(f.part is not None and f.part not in concerns for f in files):
        raise InvalidReport({"files": N_("a file was sent for an account this report does not give")})
    passphrase = generate_passphrase()
    reporter = ctx.gate.run(derive_reporter_secrets, passphrase, ctx.instance.instance_salt, ctx.instance.argon2)
    lookup = lookup_digest(reporter.lookup, ctx.instance.lookup_key)
    report_id = new_id("R")
    filed = []
    with transaction(ctx.engine) as db:
        sendings.record(ctx, db, sending, sendings.ALREADY_REPORTED)
        budgets.spend(ctx, db, budgets.submissions(ctx))  # with the filing: a refused or failed one costs nothing
        for part in report.parts:
            kind = ADVICE if part.concern == Concern.ADVICE else REPORT
            for routed in route(ctx.policy, frozenset({part.concern})):
                code = restriction.receiving_office(ctx, part, routed)
                case_id = _file_part(
                    ctx,
                    db,
                    report,
                    part,
                    code,
                    kind,
                    report_id,
                    lookup,
                    reporter.public_key,
                    language,
                    _files_of(part, files, len(report.parts)),
                    about_head_of=routed if code != routed else None,
                )
                filed.append(FiledCase(case_id, code))
        kept = tuple(FiledFile(f.name, f.size, f.cleaned) for f in files)
        if held_for is not None:
            receipt: dict[str, object] = {
                "passphrase": passphrase,
                "cases": [[c.id, c.office] for c in filed],
                "files": [[f.name, f.size, f.cleaned] for f in kept],
            }
            sendings.hold(ctx, db, sending, receipt, held_for)
    return FiledReport(passphrase, tuple(filed), kept)


def _file_part(
    ctx: Context,
    db: Session,
    report: ReportInput,
    part: Part,
    code: Office,
    kind: str,
    report_id: str,
    lookup: bytes,
    reporter_public: bytes,
    language: str,
    files: list[PendingFile],
    about_head_of: Office | None = None,
) -> str:
    """One case: the part's account and answers sealed under a fresh case key, wrapped to the office and the reporter.

    A part about someone in the receiving office is restricted (restriction.py): what the
    office key would open is sealed to the case's own keypair, wrapped to the office's heads.
    """
    office_public = office_public_key(db, code)  # under the lock rotation takes (#24 item 2)
    if about_head_of:  # the procedure it was meant for, run by the office that holds it ([about_the_head])
        kind = ABOUT_HEAD
    case_id, case_key = new_id(code), new_key()
    # A report about the head of the routed office, received by the other office, says whose head.
    about = {"about_head_of": about_head_of} if about_head_of else {}
    answers = json.dumps({**report.answers_of(part), **about, "language": language}).encode("utf-8")
    db.add(
        Case(
            id=case_id,
            office=code,
            kind=kind,
            report_id=report_id,
            lookup=lookup,
            policy_version=ctx.policy.version,
            received_on=ctx.today(),
            report=seal_record(case_key, part.description.encode("utf-8"), case_id, "report", case_id),
            answers=seal_record(case_key, answers, case_id, "answers", case_id),
        )
    )
    db.flush()
    handling = Handling(
        case_id=case_id,
        office=code,
        kind=kind,
        status=ctx.policy.lifecycle(code, kind).initial,
        policy_version=ctx.policy.version,
        opened_on=ctx.today(),
    )
    refresh(ctx, db, handling, new=True)
    holder_public = restriction.restrict(ctx, db, handling) if restriction.concerned(part) != "no" else office_public
    db.add(CaseKeyWrap(case_id=case_id, holder=office_holder(code), wrap=wrap_case_key(case_key, holder_public, case_id)))
    db.add(CaseKeyWrap(case_id=case_id, holder=REPORTER_HOLDER, wrap=wrap_case_key(case_key, reporter_public, case_id)))
    if part.identity:
        # The form's consent names the office a retaliation complaint goes to (ECO): one about that office's
        # head goes to the other office instead, which the complainant has not agreed to; they are asked in
        # the case room, which names the office that holds it (ECO Charter 4.8).
        shared = part.identity_shared and about_head_of is None
        identity.escrow(ctx, db, case_id, part.identity, reporter_public, holder_public if shared else None)
    attachments.attach(db, case_id, case_key, None, files)
    notifications.arrived(db, case_id, code, notifications.REPORT)
    return case_id


# A passphrase's cases: the wrap of each case key to the reporter, and of the identity they left, if any.
PASSPHRASE_CASES = (
    select(CaseKeyWrap.case_id, CaseKeyWrap.wrap, Identity.reporter_wrap)
    .join(Case, col(Case.id) == CaseKeyWrap.case_id)
    .join(Identity, col(Identity.case_id) == CaseKeyWrap.case_id, isouter=True)
    .where(col(Case.lookup) == bindparam("lookup"), col(CaseKeyWrap.holder) == REPORTER_HOLDER)
)


def open_case_room(ctx: Context, passphrase: object) -> str:
    """A reporter session holding the case keys of this passphrase's cases.

    The words are read as typed, whatever separates them (hyphens, dots, commas, line breaks:
    crypto.read_passphrase), for the HTML form and the API alike; a wrong letter stays wrong.
    A wrong passphrase and a passphrase that never existed get the same answer after
    the same Argon2 work, so the answer tells a guesser nothing.
    """
    if not isinstance(passphrase, str) or len(passphrase) > 500:
        raise AuthenticationFailed(WRONG_PASSPHRASE)
    words = read_passphrase(passphrase)
    reporter = ctx.gate.run(derive_reporter_secrets, words, ctx.instance.instance_salt, ctx.instance.argon2)
    lookup = lookup_digest(reporter.lookup, ctx.instance.lookup_key)
    keys, identities = {}, {}
    with transaction(ctx.engine) as db:
        rows = db.exec(PASSPHRASE_CASES, params={"lookup": lookup}).all()
        for case_id, wrap, identity_wrap in rows:
            try:
                keys[case_id] = unwrap_case_key(reporter.private_key, wrap, case_id).hex()
                if identity_wrap is not None:  # the key of the identity they left, if they left one
                    identities[case_id] = unwrap_identity_key(reporter.private_key, identity_wrap, case_id).hex()
            except CryptoError:
                continue
        if not keys:
            raise AuthenticationFailed(WRONG_PASSPHRASE)
        budgets.spend(ctx, db, budgets.case_room_openings(ctx, reporter.lookup))
        # The session holds each case's key and, where an identity was left, its key: only so that the
        # complainant can consent to share it while they are here.
        return sessions.start(ctx, SessionKind.REPORTER, {"cases": keys, "identities": identities}, db=db)


def _room_keys(ctx: Context, token: str | None, db: Session | None = None) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The session's case keys and identity keys, by case id (one resume, one decryption; `db`: a reading session)."""
    payload = sessions.resume(ctx, token, SessionKind.REPORTER, db)
    cases = {case_id: bytes.fromhex(key) for case_id, key in payload["cases"].items()}
    return cases, {case_id: bytes.fromhex(key) for case_id, key in payload.get("identities", {}).items()}


def _case_keys(ctx: Context, token: str | None) -> dict[str, bytes]:
    return _room_keys(ctx, token)[0]


def share_identity(ctx: Context, token: str | None, case_id: str, agree: object) -> bool:
    """The complainant consents to the office knowing who they are (True), or takes that back (False).

    Taking it back works until an officer has read it; then it returns False and nothing changes.
    Not audit-logged, like every act of a reporter; the officer's reading is.
    """
    cases, keys = _room_keys(ctx, token)
    if case_id not in cases:
        raise NotFound(NOT_IN_ROOM)
    if case_id not in keys:
        raise Conflict(N_("You did not leave your identity with this case."))
    if not isinstance(agree, bool):
        raise Conflict(N_("Please answer with yes or no."))
    with transaction(ctx.engine) as db:
        case = lock_case(db, case_id)  # lock order (store.py): the case, then the office (the wrap), then handlings
        handling = db.get(Handling, (case_id, case.office)) if case else None
        if handling is None:
            raise NotFound(NOT_IN_ROOM)
        if agree:
            identity.share(ctx, db, case_id, keys[case_id], office_records.holder_public(db, handling))
            _arrived(db, case_id)
            return True
        return not identity.unshare(db, case_id)


def keep_receipt(ctx: Context, filed: FiledReport, danger: bool = False, report: ReportInput | None = None) -> str:
    """Hold a new passphrase, sealed under a key only the returned token carries, for the one page that shows it
    (`danger`: the reporter said they may be in danger now, so that page puts the safety contact first).

    With it, what that page promises: each case's kind, who can read it (`report`: what the reporter said of
    the receiving office), and what comes next from its office, by date, as the case room will say it
    (HandlingView.expectations: the deadlines the policy gives the handling)."""
    with reading(ctx.engine) as db:
        cases = _receipt_cases(ctx, filed, report, db)
    return sessions.start(ctx, SessionKind.RECEIPT, _receipt(filed, danger, cases))


def held_report(ctx: Context, sending: str | None, report: ReportInput | None = None) -> FiledReport | None:
    """The report a resent sending filed, while it still holds its receipt (sendings.take_held): once.
    `report`: the report sent again, for a receipt held for the same report only (file_report)."""
    held = sendings.take_held(ctx, sending, sendings.report_digest(ctx, report) if report else "")
    if held is None:
        return None
    cases = tuple(FiledCase(case_id, Office(office)) for case_id, office in held["cases"])  # type: ignore[attr-defined]
    files = tuple(FiledFile(name, size, cleaned) for name, size, cleaned in held.get("files", ()))  # type: ignore[attr-defined]
    return FiledReport(str(held["passphrase"]), cases, files)


def receipt_at_once(
    ctx: Context, filed: FiledReport, danger: bool = False, report: ReportInput | None = None
) -> dict[str, object]:
    """The passphrase page's receipt without the database, for when it went away after the report was filed
    (a failover between the filing's commit and keep_receipt): the report is in, and a resend would be
    refused as already received, so the page is shown at once from what is in memory, without the dates
    of what comes next (they are read from the database) rather than never."""
    return _receipt(filed, danger, _receipt_cases(ctx, filed, report, None))


def _receipt(filed: FiledReport, danger: bool, cases: list[dict[str, object]]) -> dict[str, object]:
    return {
        "passphrase": filed.passphrase,
        "cases": cases,
        "files": [{"name": f.name, "cleaned": f.cleaned} for f in filed.files],
        "danger": danger,
    }


def _receipt_cases(ctx: Context, filed: FiledReport, report: ReportInput | None, db: Session | None) -> list[dict[str, object]]:
    """Each filed case as the passphrase page names it. A report about the head of the office it would go to
    went to the other office's head(s) (restriction.receiving_office); it says whose head. The cases come in
    the order file_report files them: a case per part and routed office. Without `db`, no dates of what
    comes next, and the kind as the report's part says it."""
    parts: list[Part | None] = [p for p in report.parts for _ in route(ctx.policy, frozenset({p.concern}))] if report else []
    if len(parts) != len(filed.cases):  # never lose the passphrase page over what it says of who reads the case
        parts = [None] * len(filed.cases)
    out = []
    for case, part in zip(filed.cases, parts, strict=True):
        row = db.get(Case, case.id) if db else None
        views = [view_handling(ctx, h) for h in handlings(db, case.id)] if db else []
        expected = sorted(((v.office, what, when) for v in views for what, when in v.expectations()), key=lambda e: e[2])
        concerned = restriction.concerned(part) if part else "no"
        head_of = next((o for o, to in ctx.policy.about_head.items() if to == case.office), None)
        kind = row.kind if row else ADVICE if part and part.concern == Concern.ADVICE else REPORT
        out.append(
            {
                "id": case.id,
                "office": case.office,
                "kind": kind,
                "restricted": concerned != "no",
                "about_head_of": head_of if concerned == "head" else None,
                # The form's consent named the office the report was meant for; the office holding it
                # reads who they are only if they agree in the case room, which names it (#24 item 14).
                "consent_not_for_this_office": bool(concerned == "head" and part and part.identity and part.identity_shared),
                "next": [list(item) for item in expected],  # (office, what, by when), as the case room lists them
            }
        )
    return out


def take_receipt(ctx: Context, token: str | None) -> dict[str, object] | None:
    """The receipt, once: it is deleted as it is read, so a reload or the back button never shows the passphrase again."""
    try:
        payload = sessions.resume(ctx, token, SessionKind.RECEIPT)
    except AuthenticationFailed:
        return None
    sessions.end(ctx, token)
    return payload


def check_access(ctx: Context, token: str | None, case_id: str) -> None:
    """Raise unless this session may write to `case_id` (checked before reading an upload)."""
    if case_id not in _case_keys(ctx, token):
        raise NotFound(NOT_IN_ROOM)


def check_message(ctx: Context, case_id: str, body: object, has_files: bool, sending: str | None = None) -> str:
    """The refusals that can come before an upload: the text, a message sent already, the case's message budget."""
    text = clean_message(body, has_files)
    sendings.check(ctx, sending, sendings.ALREADY_SENT)
    budgets.check(ctx, budgets.messages(ctx, case_id))
    return text


# The case, its handlings and the identity left with it, in one statement: a row per handling.
ROOM_CASE = (
    select(Handling, col(Case.office), col(Case.received_on), Identity)
    .join(Case, col(Case.id) == Handling.case_id)
    .join(Identity, col(Identity.case_id) == Handling.case_id, isouter=True)
    .where(col(Handling.case_id) == bindparam("case_id"))
    .order_by(col(Handling.opened_on), col(Handling.office))
)


def case_room(ctx: Context, token: str | None) -> tuple[CaseRoomCase, ...]:
    """Everything the reporter may see: each case of the report, where each office stands, the messages."""
    out = []
    with reading(ctx.engine) as db:
        keys, identity_keys = _room_keys(ctx, token, db)
        for case_id, key in sorted(keys.items()):
            found = db.exec(ROOM_CASE, params={"case_id": case_id}).all()
            if not found:
                continue
            rows = [handling for handling, *_ in found]
            _, filed_with, received_on, left = found[0]
            messages, files = read_messages(db, case_id, key)
            views = tuple(view_handling(ctx, h) for h in rows)
            deleted_on = retention.deletion_date(ctx, rows)
            measures = protection.read(ctx, db, case_id, key)
            identity_status, identity_text = identity.for_reporter(left, case_id, identity_keys.get(case_id))
            out.append(
                CaseRoomCase(
                    case_id,
                    Office(filed_with),
                    received_on.isoformat(),
                    views,
                    messages,
                    files,
                    measures,
                    identity_status,
                    identity_text,
                    deleted_on.isoformat() if deleted_on else None,
                    restricted=any(h.restricted_key is not None for h in rows),
                )
            )
    return tuple(out)


def reporter_writes(
    ctx: Context,
    token: str | None,
    case_id: str,
    body: object,
    files: Sequence[PendingFile] = (),
    sending: str | None = None,
    again: bool = False,
) -> str:
    """A reporter's message (and files) to the offices handling `case_id`; owns the files. `sending` is the
    form's one-time token (or the API's Idempotency-Key): the same message is never sent twice.

    A browser's back button fetches the case room again with a fresh token, and may restore the message
    just sent into its box: a token cannot tell that from a new message. So a message with the very words
    of the reporter's latest message on this case, and no file, is refused (sendings.SameAsLast, 409) unless
    `again` says the reporter means it. A new message is never refused: other words, a file, or a repeat of
    anything but the latest is sent, and the refusal keeps the words and asks once. The API passes
    `again=True`: its client keeps one Idempotency-Key across retries, so the key tells a repeat there.
    """
    with attachments.held(ctx, files):
        return _reporter_writes(ctx, token, case_id, body, files, sending, again)


# The reporter's latest message on a case.
LATEST_FROM_REPORTER = (
    select(Message)
    .where(col(Message.case_id) == bindparam("case_id"), col(Message.author) == Author.REPORTER)
    .order_by(col(Message.number).desc())
    .limit(1)
)


def _same_as_last(db: Session, case_id: str, case_key: bytes, text: str) -> bool:
    latest = db.exec(LATEST_FROM_REPORTER, params={"case_id": case_id}).first()
    return latest is not None and open_record(case_key, latest.body, case_id, "message", latest.id).decode("utf-8") == text


def _reporter_writes(
    ctx: Context,
    token: str | None,
    case_id: str,
    body: object,
    files: Sequence[PendingFile],
    sending: str | None,
    again: bool,
) -> str:
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    text = clean_message(body, bool(files))
    with transaction(ctx.engine) as db:
        if lock_case(db, case_id) is None:  # _arrived counts it for every handling, one a referral adds included
            raise NotFound(NOT_IN_ROOM)
        sendings.record(ctx, db, sending, sendings.ALREADY_SENT)
        if not files and not again and _same_as_last(db, case_id, keys[case_id], text):
            raise sendings.SameAsLast(sendings.SAME_AS_LAST)
        budgets.spend(ctx, db, budgets.messages(ctx, case_id))
        message_id = add_message(db, ctx, case_id, keys[case_id], Author.REPORTER, text, files=files)
        _arrived(db, case_id)
    return message_id


def _arrived(db: Session, case_id: str, rows: Sequence[Handling] | None = None) -> None:
    """Something new from the complainant (a message, an answer on consent or identity, a withdrawal):
    unread for every officer of every office handling the case, and a message in their next digests.

    The caller holds the case (lock_case); the handlings are locked here, so that no count is lost to
    an officer's change of the same row (`rows`: the caller's, locked already)."""
    for handling in handlings(db, case_id, for_update=True) if rows is None else rows:
        handling.activity += 1
        db.add(handling)
        notifications.arrived(db, case_id, handling.office, notifications.MESSAGE)


def answer_consent(ctx: Context, token: str | None, case_id: str, agree: object) -> str:
    """The complainant's answer to ECO's request to share the complaint with OIG (Charter 4.8)."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    if not isinstance(agree, bool):
        raise Conflict(N_("Please answer the request with yes or no."))
    with transaction(ctx.engine) as db:
        lock_case(db, case_id)  # an answer racing the referral it allows: one of them goes first (#24 item 4)
        rows = handlings(db, case_id, for_update=True)
        asked = [h for h in rows if h.consent is not None and not ctx.policy.lifecycle(h.office, h.kind).is_closed(h.status)]
        if not asked:
            raise Conflict(N_("No one has asked for your consent on this case."))
        handling = asked[0]
        handling.consent = Consent.GIVEN if agree else Consent.REFUSED
        handling.consent_on = ctx.today()
        db.add(handling)
        _arrived(db, case_id, rows)
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
        # The case, then its handlings, locked: a referral committed meanwhile is seen whole, the handling it
        # closed and the one it opened; one made after waits for this (#24 item 4).
        lock_case(db, case_id)
        rows = handlings(db, case_id, for_update=True)
        open_ones = [h for h in rows if not ctx.policy.lifecycle(h.office, h.kind).is_closed(h.status)]
        if not open_ones:
            raise Conflict(N_("This case is already closed."))
        if text:
            add_message(db, ctx, case_id, keys[case_id], Author.REPORTER, text)
        for handling in open_ones:
            target = ctx.policy.lifecycle(handling.office, handling.kind).withdrawal_state
            if target is None:
                raise Conflict(N_("This case cannot be withdrawn here; write to the office instead."))
            handling.status, handling.closed_on = target, ctx.today()
            refresh(ctx, db, handling)
        _arrived(db, case_id, rows)
        return tuple(h.office for h in open_ones)


def open_file(ctx: Context, token: str | None, case_id: str, file_id: str):
    """(FileView, plaintext iterator) of a file in one of this reporter's cases."""
    keys = _case_keys(ctx, token)
    if case_id not in keys:
        raise NotFound(NOT_IN_ROOM)
    with reading(ctx.engine) as db:
        return attachments.open_file(ctx, db, case_id, keys[case_id], file_id)


def leave_case_room(ctx: Context, token: str | None) -> None:
    sessions.end(ctx, token)
