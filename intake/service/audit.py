"""Appending to and verifying the audit chain (crypto/PROTOCOL.md, section 7).

An entry says which officer did what to which case, and when. It never says anything
about a reporter: not who, not from where, and not what they wrote.
"""

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from crypto import (
    GENESIS,
    AuditChainError,
    AuditLink,
    chain_digest,
    checkpoint_is_valid,
    head_is_valid,
    sign_checkpoint,
    verify_chain,
)
from crypto import sign_head as head_signature

from ..settings import Instance
from ..store import AuditCheckpoint, AuditEntry, AuditHead, reading, snapshot
from .context import Context

CHECKPOINT_EVERY = 50


def ensure_head(session: Session, instance: Instance) -> None:
    """The single head row that appenders lock, signed; made once, at init."""
    if session.get(AuditHead, 1) is None:
        signature = head_signature(instance.audit_signing_seed, 0, GENESIS)
        session.add(AuditHead(id=1, sequence=0, digest=GENESIS, signature=signature))


def sign_head(engine: Engine, instance: Instance) -> bool:
    """Sign a head an earlier version left unsigned, or signed as a checkpoint (before #24 item 6),
    under the head's own label; run by `intake migrate`, once the chain verifies.

    A head signed in the old form is re-signed only if that old signature verifies: a head row
    someone changed stays broken for `intake audit verify` to name. The old form is what let a
    checkpoint pass for the head; a chain cut back to a checkpoint before this upgrade is
    re-signed as it stands (the signing key cannot tell), and only `--expect` catches it.
    """
    # The head is locked first: no entry is appended while the chain is read and the head re-signed.
    with Session(engine) as session, session.begin():
        head = session.get(AuditHead, 1, with_for_update=True)
        if head is None:
            return False
        if head.signature is not None:
            verify_key = instance.audit_verify_key
            if head_is_valid(verify_key, head.sequence, head.digest, head.signature) or not checkpoint_is_valid(
                verify_key, head.sequence, head.digest, head.signature
            ):
                return False
        last, digest = _verify_entries(session, instance)
        if (head.sequence, head.digest) != (last, digest):
            raise AuditChainError(last + 1, "the chain does not reach its head")
        head.signature = head_signature(instance.audit_signing_seed, last, digest)
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
    head.signature = head_signature(ctx.instance.audit_signing_seed, sequence, digest)
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
    # Entries and head in one snapshot: an entry appended between two reads is no break.
    with snapshot(engine) as connection, Session(connection) as session:
        last, digest = _verify_entries(session, instance)
        head = session.get(AuditHead, 1)
        if expected is not None:
            entry = session.get(AuditEntry, expected[0]) if expected[0] else None
            if expected[0] and (entry is None or entry.digest != expected[1]):
                raise AuditChainError(expected[0], "missing or changed since the head was recorded")
    if head is None:
        raise AuditChainError(1, "the chain has no head row")
    if head.signature is None:
        raise AuditChainError(last + 1, "the head is not signed: run `intake migrate`")
    if checkpoint_is_valid(instance.audit_verify_key, head.sequence, head.digest, head.signature):
        raise AuditChainError(head.sequence, "the head is signed as a checkpoint (the old form): run `intake migrate`")
    if not head_is_valid(instance.audit_verify_key, head.sequence, head.digest, head.signature):
        raise AuditChainError(head.sequence, "the head's signature does not match: the head row was changed")
    if (head.sequence, head.digest) != (last, digest):
        raise AuditChainError(last + 1, f"missing: the signed head records {head.sequence} entries")
    return last, digest


def _verify_entries(session: Session, instance: Instance) -> tuple[int, bytes]:
    checkpoints = {c.sequence: c.signature for c in session.exec(select(AuditCheckpoint))}
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))
    return verify_chain((_link(e) for e in rows), instance.audit_verify_key, checkpoints, checkpoint_every=CHECKPOINT_EVERY)


def _link(entry: AuditEntry) -> AuditLink:
    """The entry as the chain sees it, once its row agrees with its body; else AuditChainError naming it.

    Whatever the database hands back is checked before use: SQLite keeps a value of any storage
    type in any column, so a body or digest someone rewrote as TEXT must be named, not end verify
    in a traceback. The row's `case_id` (outside the digest, for the case page's query) must be
    the body's "case", and its sequence the body's "seq": moving an entry to another case, or
    renumbering it, is an edit like any other.
    """
    body, digest = entry.body, entry.digest
    if not isinstance(body, bytes) or not isinstance(digest, bytes) or len(digest) != 32:
        raise AuditChainError(entry.sequence, "its body or digest is not stored as bytes: the row was changed")
    try:
        fields = json.loads(body)
    except ValueError:
        raise AuditChainError(entry.sequence, "its body is not an entry: edited") from None
    if not isinstance(fields, dict) or fields.get("seq") != entry.sequence:
        raise AuditChainError(entry.sequence, "its body's sequence number is not its own: edited")
    if fields.get("case") != entry.case_id:
        raise AuditChainError(entry.sequence, "its case is not the case its body names: moved to another case")
    return AuditLink(entry.sequence, body, digest)


def entries(engine: Engine) -> list[dict]:
    with reading(engine) as session:
        return [json.loads(e.body) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence)))]
