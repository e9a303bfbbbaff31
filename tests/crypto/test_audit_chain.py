"""The audit chain: verification names the first bad entry, whatever was done to it."""

import pytest

from crypto import AuditChainError, AuditLink, chain_digest, generate_signing_key, sign_checkpoint, verify_chain
from crypto.audit import GENESIS


def build(bodies: list[bytes]) -> list[AuditLink]:
    links, previous = [], GENESIS
    for n, body in enumerate(bodies, 1):
        previous = chain_digest(previous, body)
        links.append(AuditLink(n, body, previous))
    return links


BODIES = [f'{{"action":"open","case":"c{n}"}}'.encode() for n in range(10)]


def test_intact_chain_verifies():
    links = build(BODIES)
    assert verify_chain(links) == (10, links[-1].digest)
    assert verify_chain([]) == (0, GENESIS)


def test_edited_entry_is_named():
    links = build(BODIES)
    links[4] = AuditLink(5, b'{"action":"open","case":"other"}', links[4].digest)
    with pytest.raises(AuditChainError) as err:
        verify_chain(links)
    assert err.value.index == 5


def test_rebuilt_digest_breaks_the_next_entry():
    links = build(BODIES)
    forged = chain_digest(links[3].digest, b"forged")
    links[4] = AuditLink(5, b"forged", forged)
    with pytest.raises(AuditChainError) as err:
        verify_chain(links)
    assert err.value.index == 6


def test_removed_entry_is_named():
    links = build(BODIES)
    del links[6]
    with pytest.raises(AuditChainError) as err:
        verify_chain(links)
    assert err.value.index == 7


def test_renumbered_after_removal_is_caught():
    links = build(BODIES)
    del links[6]
    links = [AuditLink(n, link.body, link.digest) for n, link in enumerate(links, 1)]
    with pytest.raises(AuditChainError) as err:
        verify_chain(links)
    assert err.value.index == 7


def test_removed_tail_is_caught_by_a_checkpoint():
    seed, verify_key = generate_signing_key()
    links = build(BODIES)
    checkpoints = {8: sign_checkpoint(seed, 8, links[7].digest)}
    assert verify_chain(links, verify_key, checkpoints)[0] == 10
    with pytest.raises(AuditChainError) as err:
        verify_chain(links[:6], verify_key, checkpoints)
    assert err.value.index == 7


def test_forged_checkpoint_fails():
    seed, verify_key = generate_signing_key()
    other_seed, _ = generate_signing_key()
    links = build(BODIES)
    with pytest.raises(AuditChainError) as err:
        verify_chain(links, verify_key, {3: sign_checkpoint(other_seed, 3, links[2].digest)})
    assert err.value.index == 3
    with pytest.raises(AuditChainError):
        verify_chain(links, verify_key, {3: sign_checkpoint(seed, 4, links[2].digest)})
