"""A complainant's identity, left in escrow: only their consent opens it to the office.

Protective measures usually need ECO to know who the complainant is, yet many complainants
want to decide that later, once they trust the process (Directive (EU) 2019/1937, Art. 16:
the reporter's identity is not disclosed without their explicit consent). So the identity
a complainant writes on the form is sealed under a key of its own, wrapped to the
reporter's passphrase-derived key only. Consent, on the form or later in the case room
while the reporter's session holds that key, wraps it for the office too; consent taken
back before any officer has read it deletes that wrap. The server alone never opens it.
"""

from dataclasses import dataclass

from sqlmodel import Session

from crypto import new_key, open_record, seal_record, unwrap_identity_key, wrap_identity_key

from ..store import Identity
from .context import Context


@dataclass(frozen=True)
class IdentityStatus:
    """What both sides may know about an identity in escrow: that it exists, and whether it is shared or read."""

    left: bool
    shared: bool
    read: bool


NONE_LEFT = IdentityStatus(left=False, shared=False, read=False)


def escrow(ctx: Context, db: Session, case_id: str, text: str, reporter_public: bytes, office_public: bytes | None) -> None:
    """Seal the identity for the reporter, and for the office if they consented on the form."""
    key = new_key()
    db.add(
        Identity(
            case_id=case_id,
            sealed=seal_record(key, text.encode("utf-8"), case_id, "identity", case_id),
            reporter_wrap=wrap_identity_key(key, reporter_public, case_id),
            office_wrap=wrap_identity_key(key, office_public, case_id) if office_public else None,
            shared_on=ctx.today() if office_public else None,
        )
    )


def for_reporter(row: Identity | None, case_id: str, key: bytes | None) -> tuple[IdentityStatus, str | None]:
    """Where the identity stands and, for the reporter who holds its key, what they left
    (`row`: the case's, read by the caller with the rest of the case room)."""
    if row is None:
        return NONE_LEFT, None
    text = open_record(key, row.sealed, case_id, "identity", case_id).decode("utf-8") if key else None
    return IdentityStatus(True, row.office_wrap is not None, row.opened_on is not None), text


def status(db: Session, case_id: str) -> IdentityStatus:
    row = db.get(Identity, case_id)
    if row is None:
        return NONE_LEFT
    return IdentityStatus(True, row.office_wrap is not None, row.opened_on is not None)


def share(ctx: Context, db: Session, case_id: str, key: bytes, office_public: bytes) -> None:
    """The complainant consents: the identity key is wrapped for the office."""
    row = db.get(Identity, case_id, with_for_update=True)
    if row is not None and row.office_wrap is None:
        row.office_wrap, row.shared_on = wrap_identity_key(key, office_public, case_id), ctx.today()
        db.add(row)


def unshare(db: Session, case_id: str) -> bool:
    """The complainant takes consent back: the office's wrap goes, unless an officer has read it (then False)."""
    row = db.get(Identity, case_id, with_for_update=True)
    if row is None or row.office_wrap is None:
        return True
    if row.opened_on is not None:
        return False
    row.office_wrap, row.shared_on = None, None
    db.add(row)
    return True


def read(ctx: Context, db: Session, case_id: str, office_private: bytes) -> str | None:
    """The identity, for the office it was shared with; marks it read (consent can no longer undo it)."""
    row = db.get(Identity, case_id, with_for_update=True)
    if row is None or row.office_wrap is None:
        return None
    key = unwrap_identity_key(office_private, row.office_wrap, case_id)
    row.opened_on = row.opened_on or ctx.today()
    db.add(row)
    return open_record(key, row.sealed, case_id, "identity", case_id).decode("utf-8")
