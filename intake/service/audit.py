"""Appending to and verifying the audit chain (crypto/PROTOCOL.md, section 7).

An entry says which officer did what to which case, and when. It never says anything
about a reporter: not who, not from where, and not what they wrote.
"""

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from crypto import GENESIS, AuditChainError, AuditLink, chain_digest, sign_checkpoint, verify_chain

from ..settings import Instance
from ..store import AuditCheckpoint, AuditEntry, AuditHead
from .context import Context

CHECKPOINT_EVERY = 50


def ensure_head(session: Session) -> None:
    """The single head row that appenders lock; made once, at init."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, sequence=0, digest=GENESIS))


def record(
    ctx: Context, session: Session, action: str, officer: str | None, case_id: str | None = None, **detail: str | None
) -> int:
    """Append one entry inside the caller's transaction; return its sequence number."""
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise RuntimeError("the audit chain has no head: was `intake init` run?")
    sequence = head.sequence + 1
    entry = {
        "seq": sequence,
        "at": ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": action,
        "officer": officer,
        "case": case_id,
    }
    entry.update(detail)
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    digest = chain_digest(head.digest, body)
    session.add(AuditEntry(sequence=sequence, body=body, digest=digest, case_id=case_id))
    if sequence % CHECKPOINT_EVERY == 0:
        session.add(
            AuditCheckpoint(sequence=sequence, signature=sign_checkpoint(ctx.instance.audit_signing_seed, sequence, digest))
        )
    head.sequence, head.digest = sequence, digest
    session.add(head)
    return sequence


def verify(engine: Engine, instance: Instance, expect: str | None = None) -> tuple[int, bytes]:
    """(last sequence, head digest) of an intact chain; AuditChainError names the first bad entry.

    `expect` is a head "SEQ:DIGEST" recorded earlier, off the server: the chain must still
    hold that digest at that sequence. It catches entries cut from the end together with
    their checkpoints and the head row, which nothing inside the database can.
    """
    if expect:
        expected_sequence, _, expected_digest = expect.partition(":")
        with Session(engine) as session:
            entry = session.get(AuditEntry, int(expected_sequence))
        if entry is None or entry.digest.hex() != expected_digest.lower():
            raise AuditChainError(int(expected_sequence), "missing or changed since the head was recorded")
    with Session(engine) as session:
        checkpoints = {c.sequence: c.signature for c in session.exec(select(AuditCheckpoint))}
        links = (
            AuditLink(e.sequence, e.body, e.digest) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))
        )
        last, digest = verify_chain(links, instance.audit_verify_key, checkpoints)
        head = session.get(AuditHead, 1)
        if head is not None and (head.sequence, head.digest) != (last, digest):
            raise AuditChainError(last + 1, f"missing: the chain head records {head.sequence} entries")
        return last, digest


def entries(engine: Engine) -> list[dict]:
    with Session(engine) as session:
        return [json.loads(e.body) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))]
