"""The audit chain against someone who can write the database but does not hold instance.json:
checkpoints are required at every interval and the head is signed on every append."""

import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, delete, select

from crypto import AuditChainError, chain_digest
from intake.service import audit
from intake.store import AuditCheckpoint, AuditEntry, AuditHead, transaction


def append(ctx, count: int) -> None:
    with transaction(ctx.engine) as db:
        for n in range(count):
            audit.record(ctx, db, "test entry", None, None, n=str(n))


def rebuild_from(db: Session, sequence: int, previous: bytes) -> bytes:
    """What an attacker without the signing key can do: recompute every digest from `sequence` on."""
    for entry in db.exec(select(AuditEntry).where(AuditEntry.sequence >= sequence).order_by(col(AuditEntry.sequence))).all():
        entry.digest = previous = chain_digest(previous, entry.body)
        db.add(entry)
    return previous


@pytest.fixture
def chain(ctx):
    append(ctx, 120 - audit.verify(ctx.engine, ctx.instance)[0])
    assert audit.verify(ctx.engine, ctx.instance)[0] == 120
    return ctx


def test_a_deleted_checkpoint_is_missed(chain):
    with transaction(chain.engine) as db:
        db.exec(delete(AuditCheckpoint).where(col(AuditCheckpoint.sequence) == 100))
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert broken.value.index == 100 and "checkpoint is missing" in broken.value.reason


def test_an_edited_entry_with_the_chain_rebuilt_and_every_checkpoint_gone_is_caught(chain):
    with transaction(chain.engine) as db:
        entry = db.get(AuditEntry, 10)
        entry.body = entry.body.replace(b"test entry", b"nothing happened")
        db.add(entry)
        db.flush()
        previous = db.get(AuditEntry, 9).digest
        last = rebuild_from(db, 10, previous)
        db.exec(delete(AuditCheckpoint))
        head = db.get(AuditHead, 1)
        head.digest = last
        db.add(head)
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert broken.value.index == 50


def test_the_end_cut_and_the_head_reset_is_caught_by_its_signature(chain):
    with transaction(chain.engine) as db:
        db.exec(delete(AuditEntry).where(col(AuditEntry.sequence) > 110))
        head = db.get(AuditHead, 1)
        head.sequence, head.digest = 110, db.get(AuditEntry, 110).digest
        db.add(head)
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert "signature does not match" in broken.value.reason


def test_an_old_head_put_back_is_caught_only_by_the_head_kept_off_the_server(chain):
    with Session(chain.engine) as db:
        old = db.get(AuditHead, 1)
        old_head = (old.sequence, old.digest, old.signature)
    append(chain, 5)
    sequence, digest = audit.verify(chain.engine, chain.instance)
    kept_off_server = f"{sequence}:{digest.hex()}"
    with transaction(chain.engine) as db:
        db.exec(delete(AuditEntry).where(col(AuditEntry.sequence) > old_head[0]))
        head = db.get(AuditHead, 1)
        head.sequence, head.digest, head.signature = old_head
        db.add(head)
    assert audit.verify(chain.engine, chain.instance)[0] == 120  # a consistent, signed, older state
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance, kept_off_server)
    assert broken.value.index == 125


def test_a_malformed_expected_head_is_a_clear_error(chain):
    for malformed in ("12", "x:y", "12:" + "0" * 63, "12:" + "g" * 64):
        with pytest.raises(ValueError, match="SEQ:64 hex digits"):
            audit.verify(chain.engine, chain.instance, malformed)


def test_the_end_cut_back_to_a_checkpoint_and_the_head_set_to_it_is_caught(chain):
    """#24 item 6: the head and the checkpoints signed the same message, so deleting the entries after
    the last checkpoint and copying that checkpoint into the head row passed verify."""
    with transaction(chain.engine) as db:
        db.exec(delete(AuditEntry).where(col(AuditEntry.sequence) > 100))
        checkpoint = db.get(AuditCheckpoint, 100)
        head = db.get(AuditHead, 1)
        head.sequence, head.digest, head.signature = 100, db.get(AuditEntry, 100).digest, checkpoint.signature
        db.add(head)
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert broken.value.index == 100


def test_migrate_re_signs_a_head_signed_in_the_old_form_and_nothing_else(chain):
    """#24 item 6: an instance made before the head had its own label keeps working after `intake
    migrate` (which re-signs an old-form head once the chain verifies); a head row someone changed
    is not re-signed."""
    from crypto import sign_checkpoint

    with transaction(chain.engine) as db:
        head = db.get(AuditHead, 1)
        head.signature = sign_checkpoint(chain.instance.audit_signing_seed, head.sequence, head.digest)
        db.add(head)
    with pytest.raises(AuditChainError, match="old form"):
        audit.verify(chain.engine, chain.instance)
    assert audit.sign_head(chain.engine, chain.instance) and not audit.sign_head(chain.engine, chain.instance)
    assert audit.verify(chain.engine, chain.instance)[0] == 120
    with transaction(chain.engine) as db:
        head = db.get(AuditHead, 1)
        head.signature = bytes(64)
        db.add(head)
    assert not audit.sign_head(chain.engine, chain.instance)
    with pytest.raises(AuditChainError, match="signature does not match"):
        audit.verify(chain.engine, chain.instance)


def test_an_entry_moved_to_another_case_is_named_and_leaves_that_case_page_alone(chain):
    """#24 item 7: `audit_entry.case_id` sat outside the chain: moving a case's entries to another case
    passed verify and rewrote the case page's history. The row's case is now checked against its body."""
    from intake.service import casework

    with transaction(chain.engine) as db:
        moved = audit.record(chain, db, "case opened", None, "ECO-AAAAAAAAAA")
        audit.record(chain, db, "case opened", None, "ECO-BBBBBBBBBB")
    with transaction(chain.engine) as db:
        entry = db.get(AuditEntry, moved)
        entry.case_id = "ECO-BBBBBBBBBB"
        db.add(entry)
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert broken.value.index == moved and "another case" in broken.value.reason
    with Session(chain.engine) as db:
        assert len(casework.history(chain, db, "ECO-BBBBBBBBBB", [], ())) == 1


def test_a_body_stored_as_text_is_named_not_a_traceback(chain):
    """#24 item 7: SQLite keeps TEXT in a BLOB column; a body rewritten so ended verify in a raw
    TypeError instead of naming the entry."""
    if chain.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores another type than the column's")
    from sqlalchemy import text

    with transaction(chain.engine) as db:
        db.exec(text("UPDATE audit_entry SET body = CAST(body AS TEXT) WHERE sequence = 77"))
    with pytest.raises(AuditChainError) as broken:
        audit.verify(chain.engine, chain.instance)
    assert broken.value.index == 77


def test_an_entry_appended_while_the_log_is_verified_is_no_break(chain):
    """Found by `make failover-check`: verify read 61 entries, then a head an officer's action had
    signed at 62 meanwhile, and called a busy log broken. The entries and the head are one snapshot.

    An officer's action is appended, and committed, right after verify has read the entries: it commits
    at once (the snapshot keeps no writer waiting, on either database) and must not be seen.
    """
    appended = threading.Event()

    def officer_acts() -> None:
        append(chain, 1)
        appended.set()

    writer = threading.Thread(target=officer_acts)

    def after_entries_read(_conn, _cursor, statement, *_args) -> None:
        if "FROM audit_entry" in statement and not writer.is_alive() and not appended.is_set():
            writer.start()
            appended.wait(timeout=2)

    event.listen(chain.engine, "after_cursor_execute", after_entries_read)
    try:
        assert audit.verify(chain.engine, chain.instance)[0] == 120
    finally:
        event.remove(chain.engine, "after_cursor_execute", after_entries_read)
        writer.join(timeout=30)
    assert appended.is_set()
    assert audit.verify(chain.engine, chain.instance)[0] == 121
