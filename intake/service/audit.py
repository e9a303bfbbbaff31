"""Appending to and verifying the audit chain (crypto/PROTOCOL.md, section 7).

An entry says which officer did what to which case, and when. It never says anything
about a reporter: not who, not from where, and not what they wrote.
"""

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from crypto import GENESIS, AuditChainError, AuditLink, chain_digest, checkpoint_is_valid, sign_checkpoint, verify_chain

from ..settings import Instance
from ..store import AuditCheckpoint, AuditEntry, AuditHead, reading
from .context import Context

CHECKPOINT_EVERY = 50


def ensure_head(session: Session, instance: Instance) -> None:
    """The single head row that appenders lock, signed; made once, at init."""
    if session.get(AuditHead, 1) is None:
        signature = sign_checkpoint(instance.audit_signing_seed, 0, GENESIS)
        session.add(AuditHead(id=1, sequence=0, digest=GENESIS, signature=signature))


def sign_head(engine: Engine, instance: Instance) -> bool:
    """Sign a head an earlier version left unsigned (run by `intake migrate`), once the chain verifies."""
    with reading(engine) as session:
        head = session.get(AuditHead, 1)
        if head is None or head.signature is not None:
            return False
    last, digest = _verify_entries(engine, instance)
    with Session(engine) as session, session.begin():
        head = session.get(AuditHead, 1, with_for_update=True)
        if head is None or (head.sequence, head.digest) != (last, digest):
            raise AuditChainError(last + 1, "the chain does not reach its head")
        head.signature = sign_checkpoint(instance.audit_signing_seed, last, digest)
        session.add(head)
    return True


def canonical_body(entry: dict[str, object]) -> bytes:
    """An entry's bytes in the chain: compact JSON, sorted keys, UTF-8 as itself (PROTOCOL.md section 7)."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
    body = canonical_body(entry)
    digest = chain_digest(head.digest, body)
    session.add(AuditEntry(sequence=sequence, body=body, digest=digest, case_id=case_id))
    if sequence % CHECKPOINT_EVERY == 0:
        session.add(
            AuditCheckpoint(sequence=sequence, signature=sign_checkpoint(ctx.instance.audit_signing_seed, sequence, digest))
        )
    head.sequence, head.digest = sequence, digest
    head.signature = sign_checkpoint(ctx.instance.audit_signing_seed, sequence, digest)
    session.add(head)
    return sequence


def parse_expected(expect: str) -> tuple[int, bytes]:
    """A head recorded off the server, "SEQ:DIGEST" as `intake audit verify` prints it; ValueError if it is not one."""
    sequence, separator, digest = expect.strip().partition(":")
    try:
        if not separator or not sequence.isdigit() or len(digest) != 64:
            raise ValueError
        return int(sequence), bytes.fromhex(digest)
    except ValueError:
        raise ValueError(f"{expect!r} is not a head as `intake audit verify` prints it (SEQ:64 hex digits)") from None


def verify(engine: Engine, instance: Instance, expect: str | None = None) -> tuple[int, bytes]:
    """(last sequence, head digest) of an intact chain; AuditChainError names the first bad entry.

    Every CHECKPOINT_EVERY-th entry must carry its signed checkpoint, and the head row its
    signature, which is renewed on every append: someone who can write the database but does
    not hold the instance's signing key can neither rebuild the chain nor cut its end and reset
    the head. What remains (restoring an old, signed head row together with the entries up to
    it) is caught by `expect`, a head "SEQ:DIGEST" recorded earlier off the server: the chain
    must still hold that digest at that sequence.
    """
    expected = parse_expected(expect) if expect else None
    last, digest = _verify_entries(engine, instance)
    with reading(engine) as session:
        head = session.get(AuditHead, 1)
        if expected is not None:
            entry = session.get(AuditEntry, expected[0]) if expected[0] else None
            if expected[0] and (entry is None or entry.digest != expected[1]):
                raise AuditChainError(expected[0], "missing or changed since the head was recorded")
    if head is None:
        raise AuditChainError(1, "the chain has no head row")
    if head.signature is None:
        raise AuditChainError(last + 1, "the head is not signed: run `intake migrate`")
    if not checkpoint_is_valid(instance.audit_verify_key, head.sequence, head.digest, head.signature):
        raise AuditChainError(head.sequence, "the head's signature does not match: the head row was changed")
    if (head.sequence, head.digest) != (last, digest):
        raise AuditChainError(last + 1, f"missing: the signed head records {head.sequence} entries")
    return last, digest


def _verify_entries(engine: Engine, instance: Instance) -> tuple[int, bytes]:
    with reading(engine) as session:
        checkpoints = {c.sequence: c.signature for c in session.exec(select(AuditCheckpoint))}
        links = (
            AuditLink(e.sequence, e.body, e.digest) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))
        )
        return verify_chain(links, instance.audit_verify_key, checkpoints, checkpoint_every=CHECKPOINT_EVERY)


def entries(engine: Engine) -> list[dict]:
    with reading(engine) as session:
        return [json.loads(e.body) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))]
