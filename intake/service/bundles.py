"""Case bundles: one file that takes a case away from the service, sealed and verifiable
(crypto/PROTOCOL.md, section 15).

A bundle is a tar archive of the case's items (case.json, messages.json, history.json and
each file), then `manifest.json` (the SHA-256 of every item) and `manifest.sig` (the
instance's Ed25519 signature of the manifest), the whole encrypted as one stream (the
backup construction) under a key from a passphrase (Argon2id) or sealed to an
investigator's X25519 public key.

This module reads and writes the format only: no database, no data directory, so that
`intake bundle verify` and `intake bundle open` run on a machine without the service.
What goes into a bundle is export.py's.
"""

import contextlib
import hashlib
import io
import json
import re
import secrets
import shutil
import struct
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from crypto import (
    PRODUCTION_ARGON2,
    Argon2Params,
    CryptoError,
    derive_backup_key,
    generate_keypair,
    manifest_is_valid,
    new_key,
    public_key_of,
    sign_manifest,
    unwrap_bundle_key,
    wrap_bundle_key,
)

from .streams import READ_BLOCK, DecryptingReader, EncryptingWriter

MAGIC = b"INTAKE-BUNDLE\x01"
BUNDLE_ID_BYTES = 16
BY_PASSPHRASE = 0x01
BY_KEY = 0x02
PASSPHRASE_LOCK = struct.Struct(">16sIII")  # salt, Argon2 t, m (KiB), p
KEY_BYTES = 32
WRAP_BYTES = 1 + 48 + 32 + 32  # version, sealed box overhead, context digest, the stream key
MIN_PASSPHRASE_CHARS = 16
# A bundle names its own Argon2 cost: a made-up file must not make `bundle open` take all memory.
MAX_ARGON2 = Argon2Params(time_cost=16, memory_kib=1024 * 1024)
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
FORMAT = 1
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
# Every name an item may have: nothing a tar reader could place outside the folder it opens into.
ITEM_NAME = re.compile(r"(case|messages|history)\.json|files/F-[0-9A-F]{12}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,59}")


class BundleError(Exception):
    """The bundle cannot be written, opened or verified; the message says why."""


@dataclass(frozen=True)
class Lock:
    """How a bundle is sealed: the header's lock part, the stream key it gives, and to whom."""

    mode: int
    header: bytes
    key: bytes
    recipient: bytes | None = None  # the investigator's public key; None for a passphrase

    @property
    def sealed(self) -> str:
        return "key" if self.mode == BY_KEY else "passphrase"


def new_bundle_id() -> str:
    return secrets.token_hex(BUNDLE_ID_BYTES)


def check_passphrase(passphrase: object) -> str:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_CHARS or len(passphrase) > 1024:
        raise ValueError(f"an export passphrase has {MIN_PASSPHRASE_CHARS} to 1024 characters")
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no investigator could type it again
        raise ValueError("an export passphrase is text that can be typed again") from None
    return passphrase


def parse_public_key(text: object) -> bytes:
    """An investigator's public key as `intake bundle keygen` prints it: 64 hexadecimal digits (spaces ignored)."""
    compact = "".join(text.split()) if isinstance(text, str) else ""
    if not re.fullmatch(r"[0-9a-fA-F]{64}", compact):
        raise ValueError("an investigator's public key is 64 hexadecimal digits, as `intake bundle keygen` prints it")
    return bytes.fromhex(compact)


def passphrase_lock(
    passphrase: str, run: Callable[..., bytes] = lambda f, *a: f(*a), argon2: Argon2Params = PRODUCTION_ARGON2
) -> Lock:
    """Seal to a passphrase: Argon2id over it and a fresh salt, as backups do. `run` runs the Argon2
    call (the context's gate, which bounds how many run at once)."""
    check_passphrase(passphrase)
    salt = secrets.token_bytes(16)
    key = run(derive_backup_key, passphrase, salt, argon2)
    return Lock(BY_PASSPHRASE, PASSPHRASE_LOCK.pack(salt, argon2.time_cost, argon2.memory_kib, argon2.parallelism), key)


def key_lock(recipient: bytes, bundle_id: str) -> Lock:
    """Seal to an investigator's public key: a fresh stream key in a sealed box, bound to the bundle's id."""
    key = new_key()
    return Lock(BY_KEY, recipient + wrap_bundle_key(key, recipient, bundle_id), key, recipient)


def new_investigator_key() -> tuple[bytes, bytes]:
    """(secret key, public key) of a new investigator keypair (X25519)."""
    keys = generate_keypair()
    return keys.private, keys.public


@dataclass
class Item:
    """One item of a bundle: its name inside, its size, and its bytes as they come."""

    name: str
    size: int
    chunks: Iterable[bytes]


@dataclass(frozen=True)
class Written:
    bundle_id: str
    sha256: str  # of the whole bundle file, as the audit log records it
    size: int
    manifest: dict


class _Counting:
    """Writes through to `target`, counting and hashing the bundle's bytes (its digest goes to the audit log)."""

    def __init__(self, target: BinaryIO) -> None:
        self.target, self.digest, self.size = target, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)


class _Digesting(io.RawIOBase):
    """An item's bytes as a file object for tarfile, hashed as tarfile reads them."""

    def __init__(self, item: Item) -> None:
        self.item, self.chunks = item, iter(item.chunks)
        self.pending, self.offset = b"", 0  # the piece being read, and how far
        self.digest, self.read_so_far = hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while self.offset >= len(self.pending):
            piece = next(self.chunks, None)
            if piece is None:
                return 0
            self.pending, self.offset = piece, 0
        n = min(len(target), len(self.pending) - self.offset)
        with memoryview(self.pending) as view:
            target[:n] = view[self.offset : self.offset + n]
            self.digest.update(view[self.offset : self.offset + n])
        self.offset += n
        self.read_so_far += n
        return n

    def finish(self) -> str:
        """The item's SHA-256, once its content has ended exactly at its size (the iterator is run to its
        end: a stored file's stream checks its final tag only there). What the buffer around it read
        ahead is counted in `read_so_far`: a content longer than its size is caught too."""
        rest = b"".join(self.chunks)
        if self.offset < len(self.pending) or rest or self.read_so_far != self.item.size:
            raise BundleError(f"{self.item.name} is not the size it was recorded with")
        return self.digest.hexdigest()


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, 0  # nobody's owner, no time: what tar would add says nothing
    return info


def write(
    target: BinaryIO, bundle_id: str, lock: Lock, items: Iterable[Item], about: dict, signing_seed: bytes, verify_key: bytes
) -> Written:
    """Write a bundle of `items` into `target`; `about` goes into the manifest (case, office, who, when)."""
    out = _Counting(target)
    out.write(MAGIC + bytes.fromhex(bundle_id) + bytes([lock.mode]) + lock.header)
    writer = EncryptingWriter(out, lock.key)
    listed = []
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.USTAR_FORMAT, bufsize=READ_BLOCK) as archive:
        for item in items:
            if not ITEM_NAME.fullmatch(item.name):
                raise ValueError(f"not a name an item may have: {item.name!r}")
            content = _Digesting(item)
            # Buffered: tarfile wants every read but the last filled, whatever size the pieces come in.
            archive.addfile(_member(item.name, item.size), io.BufferedReader(content, READ_BLOCK))
            listed.append({"name": item.name, "size": item.size, "sha256": content.finish()})
        manifest = {"format": FORMAT, "bundle": bundle_id, **about, "signer": verify_key.hex(), "items": listed}
        manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
        signature = sign_manifest(signing_seed, manifest_bytes)
        archive.addfile(_member(MANIFEST, len(manifest_bytes)), io.BytesIO(manifest_bytes))
        archive.addfile(_member(SIGNATURE, len(signature)), io.BytesIO(signature))
    writer.finish()
    return Written(bundle_id, out.digest.hexdigest(), out.size, manifest)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a bundle file: what the audit log's entry for the export recorded."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Opened:
    """A bundle that verified: its id, its manifest (the case, who exported it, when) and the key that signed it."""

    bundle_id: str
    sealed: str
    manifest: dict
    signer: str
    items: tuple[dict, ...] = field(default=())


def _header(source: BinaryIO) -> tuple[str, int]:
    head = source.read(len(MAGIC) + BUNDLE_ID_BYTES + 1)
    if len(head) != len(MAGIC) + BUNDLE_ID_BYTES + 1 or not head.startswith(MAGIC):
        raise BundleError("this is not an intake case bundle (or not one of format version 1)")
    return head[len(MAGIC) : -1].hex(), head[-1]


def _read_exactly(source: BinaryIO, n: int) -> bytes:
    data = source.read(n)
    if len(data) != n:
        raise BundleError("the bundle is cut short inside its header")
    return data


def _key(source: BinaryIO, bundle_id: str, mode: int, passphrase: str | None, secret_key: bytes | None) -> bytes:
    """The stream key, from the header's lock and what the reader holds."""
    if mode == BY_PASSPHRASE:
        salt, t, m, p = PASSPHRASE_LOCK.unpack(_read_exactly(source, PASSPHRASE_LOCK.size))
        if passphrase is None:
            raise BundleError("this bundle is sealed to a passphrase: give it (--passphrase-stdin, or type it when asked)")
        try:
            params = Argon2Params(t, m, p)
        except ValueError:
            raise BundleError("this bundle names Argon2 parameters that format version 1 does not allow") from None
        if params.time_cost > MAX_ARGON2.time_cost or params.memory_kib > MAX_ARGON2.memory_kib:
            raise BundleError("this bundle asks for more Argon2 work than any export makes: refused")
        return derive_backup_key(passphrase, salt, params)
    if mode == BY_KEY:
        recipient = _read_exactly(source, KEY_BYTES)
        wrap = _read_exactly(source, WRAP_BYTES)
        if secret_key is None:
            raise BundleError(f"this bundle is sealed to the investigator key {recipient.hex()}: give its secret key file")
        if public_key_of(secret_key) != recipient:
            raise BundleError(f"this bundle is sealed to another investigator key: {recipient.hex()}")
        try:
            return unwrap_bundle_key(secret_key, wrap, bundle_id)
        except CryptoError:
            raise BundleError("the bundle's key does not open with this secret key: the header was changed") from None
    raise BundleError(f"unknown way of sealing a bundle ({mode}): not format version 1")


def open_bundle(
    path: Path,
    passphrase: str | None = None,
    secret_key: bytes | None = None,
    verify_key: bytes | None = None,
    out: Path | None = None,
) -> Opened:
    """Decrypt a bundle and check it: every item listed in the manifest with its SHA-256, nothing
    unlisted, the manifest signed, by `verify_key` where one is given. With `out` (a folder that must
    not exist yet), the items are written there; if anything fails, the folder is removed again.

    Raises BundleError saying what is wrong."""
    if out is not None:
        out.mkdir(mode=0o700)  # FileExistsError: never write into a folder that holds something else
    try:
        return _open(path, passphrase, secret_key, verify_key, out)
    except BaseException:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _open(path: Path, passphrase: str | None, secret_key: bytes | None, verify_key: bytes | None, out: Path | None) -> Opened:
    with open(path, "rb") as source:
        bundle_id, mode = _header(source)
        reader = DecryptingReader(source, _key(source, bundle_id, mode, passphrase, secret_key))
        try:
            found, manifest_bytes, signature = _items(io.BufferedReader(reader, READ_BLOCK), out)
            reader.drain()  # the final tag: a bundle cut after its last member is cut all the same
        except (CryptoError, tarfile.TarError, EOFError) as error:
            if not reader.opened:
                raise BundleError("the bundle cannot be opened: wrong passphrase or key, or its start is damaged") from None
            raise BundleError(f"the bundle is damaged or cut: it fails authentication ({error.__class__.__name__})") from None
    return _checked(bundle_id, "key" if mode == BY_KEY else "passphrase", found, manifest_bytes, signature, verify_key)


def _items(plaintext: BinaryIO, out: Path | None) -> tuple[dict[str, tuple[int, str]], bytes | None, bytes | None]:
    """Every member's (size, SHA-256), written under `out` if given; and the manifest and its signature."""
    found: dict[str, tuple[int, str]] = {}
    manifest = signature = None
    with tarfile.open(fileobj=plaintext, mode="r|", bufsize=READ_BLOCK) as archive:
        for member in archive:
            name = member.name
            if name in found or (name == MANIFEST and manifest is not None) or (name == SIGNATURE and signature is not None):
                raise BundleError(f"{name} is in the bundle twice")
            if not member.isfile():
                raise BundleError(f"{name} is not a plain file: no export holds one")
            data = archive.extractfile(member)
            if data is None:
                raise BundleError(f"{name} cannot be read")
            if name in (MANIFEST, SIGNATURE):
                if member.size > MAX_MANIFEST_BYTES:
                    raise BundleError(f"{name} is larger than any export writes")
                content = data.read()
                if name == MANIFEST:
                    manifest = content
                else:
                    signature = content
                if out is not None:  # kept beside the items, so the folder can be checked again later
                    (out / name).write_bytes(content)
                continue
            if manifest is not None or signature is not None:
                raise BundleError(f"{name} comes after the manifest: added to the bundle")
            if not ITEM_NAME.fullmatch(name):
                raise BundleError(f"{name!r} is not a name an export gives an item")
            found[name] = _take(data, name, out)
    return found, manifest, signature


def _take(data: IO[bytes], name: str, out: Path | None) -> tuple[int, str]:
    """(size, SHA-256) of one item, written to `out` / name as it is read."""
    digest, size = hashlib.sha256(), 0
    if out is not None:
        (out / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(out / name, "xb") if out is not None else contextlib.nullcontext() as target:
        while block := data.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
            if target is not None:
                target.write(block)
    return size, digest.hexdigest()


def _checked(
    bundle_id: str,
    sealed: str,
    found: dict[str, tuple[int, str]],
    manifest_bytes: bytes | None,
    signature: bytes | None,
    verify_key: bytes | None,
) -> Opened:
    if manifest_bytes is None or signature is None:
        raise BundleError("the bundle has no signed manifest: it was cut or changed")
    try:
        manifest = json.loads(manifest_bytes)
        signer = bytes.fromhex(manifest["signer"])
        listed = {item["name"]: (item["size"], item["sha256"]) for item in manifest["items"]}
    except (ValueError, KeyError, TypeError):
        raise BundleError("the manifest is not one an export writes") from None
    if not manifest_is_valid(signer, manifest_bytes, signature):
        raise BundleError("the manifest's signature does not verify: the manifest was changed, or the signature replaced")
    if verify_key is not None and signer != verify_key:
        raise BundleError(f"the manifest is signed by {signer.hex()}, not by the instance key you gave ({verify_key.hex()})")
    if manifest.get("format") != FORMAT or manifest.get("bundle") != bundle_id:
        raise BundleError("the manifest belongs to another bundle: it was moved into this one")
    missing, unlisted = sorted(set(listed) - set(found)), sorted(set(found) - set(listed))
    if missing:
        raise BundleError(f"{missing[0]} is listed in the manifest but missing from the bundle: removed")
    if unlisted:
        raise BundleError(f"{unlisted[0]} is in the bundle but not in the manifest: added")
    changed = sorted(name for name in listed if found[name] != listed[name])
    if changed:
        raise BundleError(f"{changed[0]} does not match its SHA-256 in the manifest: changed")
    return Opened(bundle_id, sealed, manifest, signer.hex(), tuple(manifest["items"]))
