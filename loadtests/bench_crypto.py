"""Crypto benchmark: Argon2id at the production default, and our stream layer vs raw libsodium.

Run: make bench-crypto   (or: .venv/bin/python loadtests/bench_crypto.py [--mib N])

Prints one table. The stream rows move the same bytes through (a) our StreamSealer /
StreamOpener, fed in 1 MiB pieces as an upload would be, and (b) bare
crypto_secretstream push/pull of 64 KiB messages, so the ratio is the cost of our
framing, padding and buffering.
"""

import argparse
import os
import statistics
import time

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)

from crypto import PRODUCTION_ARGON2, StreamOpener, StreamSealer, generate_passphrase, new_key
from crypto.kdf import argon2id
from crypto.stream import FRAME_DATA
from tests.argon2_reference import argon2id_reference

PIECE = 1024 * 1024


def argon2_seconds(runs: int, fn=argon2id) -> list[float]:
    salt, phrase, times = os.urandom(16), generate_passphrase().encode(), []
    for _ in range(runs):
        start = time.perf_counter()
        fn(phrase, salt, PRODUCTION_ARGON2)
        times.append(time.perf_counter() - start)
    return times


def ours(total: int, piece: bytes) -> tuple[float, float]:
    key = new_key()
    start = time.perf_counter()
    sealer = StreamSealer(key)
    stored = [sealer.header]
    for _ in range(total // len(piece)):
        stored.append(sealer.update(piece))
    stored.extend(sealer.finish())
    encrypt = time.perf_counter() - start
    start = time.perf_counter()
    opener = StreamOpener(key)
    for blob in stored:
        opener.feed(blob)
    opener.finish()
    return encrypt, time.perf_counter() - start


def raw(total: int) -> tuple[float, float]:
    key, message = new_key(), os.urandom(FRAME_DATA)
    start = time.perf_counter()
    state = crypto_secretstream_xchacha20poly1305_state()
    header = crypto_secretstream_xchacha20poly1305_init_push(state, key)
    chunks = [crypto_secretstream_xchacha20poly1305_push(state, message) for _ in range(total // FRAME_DATA)]
    encrypt = time.perf_counter() - start
    start = time.perf_counter()
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    for chunk in chunks:
        crypto_secretstream_xchacha20poly1305_pull(state, chunk)
    return encrypt, time.perf_counter() - start


def best_of(runs: int, fn, *args) -> tuple[float, float]:
    results = [fn(*args) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="MiB streamed per run (default 256)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    total = args.mib * 1024 * 1024
    piece = os.urandom(PIECE)

    a2 = argon2_seconds(5)
    reference = argon2_seconds(5, argon2id_reference)
    ours_enc, ours_dec = best_of(args.runs, ours, total, piece)
    raw_enc, raw_dec = best_of(args.runs, raw, total)
    mb = total / 1e6
    p = PRODUCTION_ARGON2
    print(
        f"Argon2id t={p.time_cost} m={p.memory_kib // 1024} MiB p={p.parallelism}: "
        f"median {statistics.median(a2):.3f} s, min {min(a2):.3f} s over {len(a2)} calls (libsodium, used); "
        f"argon2-cffi: median {statistics.median(reference):.3f} s"
    )
    print(f"{'secretstream, ' + str(args.mib) + ' MiB':<28}{'encrypt MB/s':>14}{'decrypt MB/s':>14}")
    print(f"{'ours (StreamSealer/Opener)':<28}{mb / ours_enc:>14.0f}{mb / ours_dec:>14.0f}")
    print(f"{'raw libsodium':<28}{mb / raw_enc:>14.0f}{mb / raw_dec:>14.0f}")
    print(f"{'ratio ours / raw':<28}{raw_enc / ours_enc:>14.2f}{raw_dec / ours_dec:>14.2f}")


if __name__ == "__main__":
    main()
