"""Rotating an office's key after an officer leaves.

Disabling an officer removes their wrap of the office key, but what that key opened it
still opens: someone who kept the officer's private key (or a database copy and their
password) can read every case of the office, past and future. Rotation makes a new office
keypair and, in one transaction, re-wraps under it the keys the old one held: each case key
of the office, each identity shared with it, each record sealed for it under a key of its own
(a memo that came with a returned case); gives each handling of the office a fresh handling
key, sealing its records again under it; then wraps the new office key for the officers
still active, and ends every session of the office (they hold the old key). The old private
key then opens nothing the database holds, and nothing the office writes later under its
handling keys.

What it cannot change: a case key. It is wrapped to the reporter too, by a sealed box to a key
derived from their passphrase, which the server does not hold; a new case key could not be
wrapped to them, and they would lose their case room. So what is sealed under a case key after
the rotation (messages both ways, notices, files, protective measures) opens, for an existing
case, with the case key an old copy gives (SECURITY.md, "a leaver keeps what they copied").

Restricted cases are not held by the office key (restriction.py): their wraps are left as they are.
"""

from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import Session, col, select

from crypto import (
    generate_keypair,
    new_key,
    open_record,
    seal_record,
    unwrap_case_key,
    unwrap_handling_key,
    unwrap_identity_key,
    unwrap_office_key,
    unwrap_record_key,
    wrap_case_key,
    wrap_handling_key,
    wrap_identity_key,
    wrap_office_key,
    wrap_record_key,
)

from ..store import Case, CaseKeyWrap, CaseRecord, Handling, Identity, Officer, WebSession, office_holder, transaction
from ..store import Office as OfficeRow
from . import audit
from .access import lock_office
from .context import Context
from .officers import authenticate


@dataclass(frozen=True)
class Rotated:
    office: str
    cases: int
    handlings: int
    identities: int
    officers: int


def rotate(ctx: Context, username: str, password: str, code: str) -> Rotated:
    """An active officer of the office (all factors) rotates its key; returns what was re-wrapped."""
    unlocked = authenticate(ctx, username, password, code, at_the_server=True)  # only the CLI rotates
    office = unlocked.officer.office
    new = generate_keypair()
    with transaction(ctx.engine) as db:
        lock_office(db, office)  # its officers' rows first, as whatever changes who can open a case (store.py, LOCK ORDER)
        # The lock every wrap to the office key is made under (store.office_public_key holds it FOR
        # SHARE): a wrap in progress is committed before this goes on, and none is made until it ends.
        # NO KEY UPDATE: rows that merely refer to the office (a new case) need not wait.
        row = db.get(OfficeRow, office, with_for_update={"key_share": True}, populate_existing=True)
        assert row is not None
        # The officer's wrap of the office key as it is now, under the lock: a rotation committed while
        # this one waited has replaced the key the login found.
        me = db.get(Officer, unlocked.officer.id, populate_existing=True)
        old_private = unwrap_office_key(unlocked.private_key, (me.office_key_wrap if me else None) or b"", office)
        cases = _rewrap_cases(db, office, old_private, new.public)
        handlings = _rekey_handlings(db, office, old_private, new.public)
        identities = _rewrap_identities(db, office, old_private, new.public)
        _rewrap_records(db, office, old_private, new.public)
        members = db.exec(select(Officer).where(Officer.office == office, col(Officer.active).is_(True))).all()
        for member in members:
            member.office_key_wrap = wrap_office_key(new.private, member.public_key, office)
            db.add(member)
        row.public_key = new.public
        db.add(row)
        for session in db.exec(select(WebSession).where(col(WebSession.subject).in_([m.id for m in members]))).all():
            db.delete(session)
        audit.record(
            ctx, db, "office key rotated", unlocked.officer.id, office=office, cases=str(cases), officers=str(len(members))
        )
    return Rotated(office, cases, handlings, identities, len(members))


def _rewrap_cases(db: Session, office: str, old: bytes, new_public: bytes) -> int:
    wraps = db.exec(
        select(CaseKeyWrap)
        .join(Handling, and_(col(Handling.case_id) == CaseKeyWrap.case_id, col(Handling.office) == office))
        .where(CaseKeyWrap.holder == office_holder(office), col(Handling.restricted_key).is_(None))
        .with_for_update(of=[CaseKeyWrap, Handling])
    ).all()
    for wrap in wraps:
        wrap.wrap = wrap_case_key(unwrap_case_key(old, wrap.wrap, wrap.case_id), new_public, wrap.case_id)
        db.add(wrap)
    return len(wraps)


def _rekey_handlings(db: Session, office: str, old: bytes, new_public: bytes) -> int:
    """Each handling of the office gets a fresh handling key, wrapped to the new office key, and every
    record sealed under the old one is sealed again under it.

    Re-wrapping the same handling key would leave a leaver who kept the old office key (or a database
    copy and their password) able to read every note, reason and memo the office writes on the case
    later (#24 item 5). Under a fresh key, what is written after the rotation opens only with the new
    office key; what they could read before, they could read before. Records with a key of their own
    (a memo with a returned case) keep it: _rewrap_records wraps it to the new office key.
    """
    rows = db.exec(
        select(Handling)
        .where(Handling.office == office, col(Handling.key_wrap).is_not(None), col(Handling.restricted_key).is_(None))
        .with_for_update()
    ).all()
    for handling in rows:
        old_key = unwrap_handling_key(old, handling.key_wrap or b"", handling.case_id, office)
        fresh = new_key()
        records = db.exec(
            select(CaseRecord)
            .where(CaseRecord.case_id == handling.case_id, CaseRecord.office == office, col(CaseRecord.key_wrap).is_(None))
            .with_for_update()
        ).all()
        for record in records:
            body = open_record(old_key, record.body, record.case_id, "office-record", record.id)
            record.body = seal_record(fresh, body, record.case_id, "office-record", record.id)
            db.add(record)
        handling.key_wrap = wrap_handling_key(fresh, new_public, handling.case_id, office)
        db.add(handling)
    return len(rows)


def _rewrap_records(db: Session, office: str, old: bytes, new_public: bytes) -> int:
    """Records sealed for the office under a key of their own (a memo with a returned case)."""
    rows = db.exec(
        select(CaseRecord)
        .join(Handling, and_(col(Handling.case_id) == CaseRecord.case_id, col(Handling.office) == CaseRecord.office))
        .where(CaseRecord.office == office, col(CaseRecord.key_wrap).is_not(None), col(Handling.restricted_key).is_(None))
        .with_for_update(of=CaseRecord)
    ).all()
    for row in rows:
        key = unwrap_record_key(old, row.key_wrap or b"", row.case_id, office, row.id)
        row.key_wrap = wrap_record_key(key, new_public, row.case_id, office, row.id)
        db.add(row)
    return len(rows)


def _rewrap_identities(db: Session, office: str, old: bytes, new_public: bytes) -> int:
    rows = db.exec(
        select(Identity)
        .join(Case, col(Case.id) == Identity.case_id)
        .join(Handling, and_(col(Handling.case_id) == Case.id, col(Handling.office) == Case.office))
        .where(Case.office == office, col(Identity.office_wrap).is_not(None), col(Handling.restricted_key).is_(None))
        .with_for_update(of=Identity)  # never the case row: a reporter's act holds it before the office's (LOCK ORDER)
    ).all()
    for identity in rows:
        key = unwrap_identity_key(old, identity.office_wrap or b"", identity.case_id)
        identity.office_wrap = wrap_identity_key(key, new_public, identity.case_id)
        db.add(identity)
    return len(rows)
