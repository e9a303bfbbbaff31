"""Who can open a case an office holds, who heads an office, and the cases that would be left with nobody.

An officer can open an office's handling of a case when they are an active officer of that
office, have no standing recusal on the case (recusal.py), and, for a restricted case, hold a
wrap of its key (restriction.py). Every handling must keep at least one such officer, open or
closed, until `intake purge` erases the case: a closed case can be reopened (policy.toml), the
complainant can come back, and its records must stay readable. A case nobody can open is
overdue in nobody's inbox (issue 23; ECO Charter 4.6-4.7: a conflict is handed to someone, the
case is never dropped). So whatever takes an officer away from a case (declaring a conflict,
being disabled) first asks `only_openers`, and refuses, or hands the case on, when it is them.

Only the store is read here, so that officers.py, recusal.py and restriction.py can all ask.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..store import Handling, Officer, Recusal, RestrictionWrap


def can_open(officer: Any, handling: Any) -> ColumnElement[bool]:
    """The condition "this officer can open this handling", as SQL over the two aliases."""
    recusal, wrap = aliased(Recusal), aliased(RestrictionWrap)
    # Each subquery names its own table and takes the officer and the handling from the statements around
    # it, however deep (auto-correlation looks one level out only).
    return and_(
        col(officer.office) == handling.office,
        col(officer.active),
        ~exists()
        .where(
            col(recusal.case_id) == handling.case_id,
            col(recusal.officer_id) == officer.id,
            col(recusal.lifted_on).is_(None),
        )
        .correlate_except(recusal),
        or_(
            col(handling.restricted_key).is_(None),
            exists()
            .where(
                col(wrap.case_id) == handling.case_id,
                col(wrap.office) == handling.office,
                col(wrap.officer_id) == officer.id,
            )
            .correlate_except(wrap),
        ),
    )


def openers(db: Session, case_id: str, office: str) -> list[Officer]:
    """The active officers of the office who can open its handling of the case, by username."""
    return list(
        db.exec(
            select(Officer)
            .join(Handling, and_(col(Handling.case_id) == case_id, col(Handling.office) == office))
            .where(can_open(Officer, Handling))
            .order_by(col(Officer.username))
        ).all()
    )


def only_openers(db: Session, officer_id: str, case_id: str | None = None) -> list[str]:
    """The cases (of the officer's office; with `case_id`, that one only) that this officer can open
    and no other officer can: taking them away would leave each with nobody."""
    me, other = aliased(Officer), aliased(Officer)
    statement = (
        select(Handling.case_id)
        .join(me, col(me.id) == officer_id)
        .where(
            can_open(me, Handling),
            ~exists().where(col(other.id) != officer_id, can_open(other, Handling)).correlate_except(other),
        )
        .order_by(col(Handling.case_id))
    )
    if case_id is not None:
        statement = statement.where(col(Handling.case_id) == case_id)
    return list(db.exec(statement).all())


def is_head(db: Session, officer_id: str, office: str) -> bool:
    """Whether the officer is an active head of the office (ECO Charter 4.6: the Head of ECO receives
    the office's declarations of conflicts of interest; `intake officer role` names heads)."""
    row = db.get(Officer, officer_id)
    return row is not None and row.active and row.head and row.office == office


def lock_office(db: Session, office: str) -> None:
    """Lock the office's officer rows for this transaction. Whatever changes who can open a case
    (declaring a conflict, sharing, naming a head, disabling an officer) takes this lock first and
    the case's after it, so two such changes see each other and never wait on each other in a ring."""
    db.exec(select(Officer.id).where(Officer.office == office).with_for_update()).all()
