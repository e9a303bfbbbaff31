"""Restricted cases: a report about someone in the office that receives it.

The reporter says so on the form (ECO Charter 4.5-4.7: no officer has a personal stake in an
issue brought to the office). Such a case is not held by the office key, which every officer
of the office has, but by a keypair of its own: the case key's office wrap, the handling key
and a shared identity are sealed to its public key (kept on the handling), and its private
key is wrapped to each head of the office when the case is filed. A head may then share it
with a named officer: one more wrap. Any other officer of the office, even with a copy of
the database and their own password, holds no key that opens the case.

A report about the head of an office goes to the other office instead (policy.toml
[restricted_cases]), restricted there to that office's heads.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from crypto import generate_keypair, wrap_restriction_key
from policies import Office
from policies.form import Part
from policies.text import N_

from ..store import Handling, Officer, RestrictionWrap, transaction
from . import audit, notices
from .access import is_head, lock_office
from .casefiles import CASE_ID, Reader, add_notice, open_for_office, plausible_username, recused
from .context import Context
from .errors import Conflict, NotFound

NOT_HEAD = N_("Only the head of the office shares a restricted case.")
NOT_RESTRICTED = N_("This case is not restricted: every officer of the office can open it.")
NO_SUCH_OFFICER = N_("There is no active officer of your office with this username.")


@dataclass(frozen=True)
class Holder:
    """An officer who can open a restricted case, and how they came to."""

    username: str
    head: bool
    shared_by: str | None  # username; None: wrapped to them when the case was filed
    shared_on: str


def concerned(part: Part) -> str:
    """What the reporter said of the receiving office: "no", "someone" or "head"."""
    answer = part.answers.get("office_concerned")
    return answer if answer in ("someone", "head") else "no"


def receiving_office(ctx: Context, part: Part, routed: Office) -> Office:
    """Where the part goes: the routed office, or, if it is about that office's head, the office the policy names."""
    return ctx.policy.about_head[routed] if concerned(part) == "head" else routed


def restrict(ctx: Context, db: Session, handling: Handling) -> bytes:
    """Hold a new case's handling by a keypair of its own, wrapped to each active head of the office.

    Returns the public key to seal the office's wraps to. An office without an active head
    (officers.disable keeps one) would leave the case unopenable: refuse instead.
    """
    heads = db.exec(
        select(Officer).where(Officer.office == handling.office, col(Officer.head).is_(True), col(Officer.active).is_(True))
    ).all()
    if not heads:
        raise RuntimeError(f"office {handling.office} has no active head to receive a restricted case")
    keys = generate_keypair()
    handling.restricted_key = keys.public
    db.add(handling)
    for head in heads:
        db.add(
            RestrictionWrap(
                case_id=handling.case_id,
                office=handling.office,
                officer_id=head.id,
                wrap=wrap_restriction_key(keys.private, head.public_key, handling.case_id, handling.office),
                shared_on=ctx.today(),
            )
        )
    return keys.public


def holders(db: Session, case_id: str, office: str) -> tuple[Holder, ...]:
    """Who can open the office's restricted handling of a case: the heads it was filed to, then those it was shared with."""
    sharer = Officer.__table__.alias("sharer")  # type: ignore[attr-defined]
    rows = db.exec(
        select(RestrictionWrap, Officer.username, Officer.head, sharer.c.username)
        .join(Officer, col(Officer.id) == RestrictionWrap.officer_id)
        .join(sharer, sharer.c.id == RestrictionWrap.shared_by, isouter=True)
        .where(RestrictionWrap.case_id == case_id, RestrictionWrap.office == office)
        .order_by(col(RestrictionWrap.shared_on), col(Officer.username))
    ).all()
    return tuple(Holder(username, head, by, wrap.shared_on.isoformat()) for wrap, username, head, by in rows)


def holds(db: Session, case_id: str, office: str, officer_id: str) -> bool:
    """Whether the restricted case was wrapped to this officer."""
    return db.get(RestrictionWrap, (case_id, office, officer_id)) is not None


def shareable(db: Session, head: Reader, case_id: str) -> tuple[str, ...]:
    """The usernames a head may share the restricted case with: active officers of the office who
    cannot open it yet and have not declared a conflict on it. Empty for anyone but a head."""
    if not is_head(db, head.officer_id, head.office):
        return ()
    return candidates(db, case_id, head.office)


def candidates(db: Session, case_id: str, office: str) -> tuple[str, ...]:
    """Active officers of the office who could be given the restricted case: not holding it, not recused."""
    officers = db.exec(select(Officer).where(Officer.office == office, col(Officer.active)).order_by(col(Officer.username))).all()
    return tuple(o.username for o in officers if not holds(db, case_id, office, o.id) and not recused(db, case_id, o.id))


def share(ctx: Context, head: Reader, case_id: object, username: object) -> None:
    """A head gives a named officer of the office the restricted case's key (one more wrap), audit-logged;
    the complainant is told in the case room that one more officer can read it."""
    if not isinstance(case_id, str) or not CASE_ID.fullmatch(case_id):
        raise NotFound(N_("There is no such case in your office."))
    with transaction(ctx.engine) as db:
        if not is_head(db, head.officer_id, head.office):
            raise Conflict(NOT_HEAD)
        lock_office(db, head.office)
        opened = open_for_office(db, head, case_id, for_update=True)
        if opened.handling.restricted_key is None:
            raise Conflict(NOT_RESTRICTED)
        officer = recipient(db, opened.handling, username)
        give(ctx, db, opened.handling, opened.key, opened.holder_key, head.officer_id, officer, notices.Notice.SHARED)


def recipient(db: Session, handling: Handling, username: object) -> Officer:
    """The officer named to receive a restricted case: active, of the handling's office, not holding
    it yet, not recused from it; else Conflict saying which. The caller holds access.lock_office:
    an officer being disabled at this moment must not end up holding a wrap."""
    if not plausible_username(username):
        raise Conflict(NO_SUCH_OFFICER)
    officer = db.exec(select(Officer).where(Officer.username == username)).first()
    if officer is None or not officer.active or officer.office != handling.office:
        raise Conflict(NO_SUCH_OFFICER)
    if holds(db, handling.case_id, handling.office, officer.id):
        raise Conflict(N_("This officer can already open the case."))
    if recused(db, handling.case_id, officer.id):
        raise Conflict(N_("This officer has declared a conflict of interest on the case."))
    return officer


def give(
    ctx: Context,
    db: Session,
    handling: Handling,
    case_key: bytes,
    restricted_private: bytes,
    giver_id: str,
    officer: Officer,
    notice: notices.Notice,
    **audited: str,
) -> None:
    """Wrap the restricted case's private key to one more officer, in the caller's transaction: the
    complainant is told in the case room (`notice`), the office sees news on the case, the audit
    chain names the giver and the officer (`audited` adds why)."""
    db.add(
        RestrictionWrap(
            case_id=handling.case_id,
            office=handling.office,
            officer_id=officer.id,
            wrap=wrap_restriction_key(restricted_private, officer.public_key, handling.case_id, handling.office),
            shared_by=giver_id,
            shared_on=ctx.today(),
        )
    )
    add_notice(db, ctx, handling.case_id, case_key, notice, handling.office, giver_id)
    handling.activity += 1
    db.add(handling)
    audit.record(ctx, db, "restricted case shared", giver_id, handling.case_id, shared_with=officer.id, **audited)
