"""The backup file: a payload and its manifest, encrypted with a passphrase.

scrypt derives the key; AES-256-GCM seals the content in chunks of 1 MiB (the STREAM
construction: each chunk's nonce carries its number and whether it is the last, so a truncated,
reordered or spliced file fails to decrypt). The clear header (magic, format version, scrypt
parameters, salt, nonce prefix) is authenticated with every chunk. The last chunk is the
manifest.

    header | (length, sealed chunk)* | (length, sealed manifest, marked last)
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import ValidationError

from surveys.backup.errors import BackupUnreadable
from surveys.backup.schemas import BackupManifest

MAGIC = b"ACCESSGAP-BACKUP"
FORMAT_VERSION = 1
# magic, format version, scrypt log2(n), r, p, salt, nonce prefix
HEADER = struct.Struct(">16sBBBB16s7s")
CHUNK_BYTES = 1 << 20
CHUNK_LENGTH = struct.Struct(">I")
TAG_BYTES = 16
PAYLOAD, MANIFEST = b"P", b"M"
# scrypt at 2**15 x 8 x 1: 32 MiB and a fraction of a second per derivation (RFC 7914 advice for
# interactive use). Files are read with whatever parameters they name, within these bounds, so a
# crafted header cannot make a restore allocate gigabytes.
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
SCRYPT_MAX_MEMORY = 256 << 20
SCRYPT_MAX_P = 4


@dataclass(frozen=True)
class KdfParameters:
    log2_n: int = SCRYPT_LOG2_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def within_bounds(self) -> bool:
        memory = 128 * self.r * (1 << min(self.log2_n, 63))
        positive = min(self.log2_n, self.r, self.p) >= 1
        return positive and self.p <= SCRYPT_MAX_P and memory <= SCRYPT_MAX_MEMORY

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        kdf = Scrypt(salt=salt, length=32, n=1 << self.log2_n, r=self.r, p=self.p)
        return kdf.derive(passphrase.encode())


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class _Sealer:
    """Writes the header, then chunks sealed under one key; the caller marks the last one."""

    def __init__(self, out: BinaryIO, passphrase: str, kdf: KdfParameters) -> None:
        salt, self.prefix = secrets.token_bytes(16), secrets.token_bytes(7)
        self.header = HEADER.pack(
            MAGIC, FORMAT_VERSION, kdf.log2_n, kdf.r, kdf.p, salt, self.prefix
        )
        self.aead = AESGCM(kdf.derive(passphrase, salt))
        self.out = out
        self.number = 0
        out.write(self.header)

    def seal(self, kind: bytes, data: bytes, *, last: bool = False) -> None:
        sealed = self.aead.encrypt(_nonce(self.prefix, self.number, last), kind + data, self.header)
        self.out.write(CHUNK_LENGTH.pack(len(sealed)) + sealed)
        self.number += 1


def _open_chunks(source: BinaryIO, passphrase: str) -> Iterator[tuple[bytes, bytes]]:
    """``(kind, data)`` of every chunk, authenticated; raises :class:`BackupUnreadable`."""
    header = source.read(HEADER.size)
    if len(header) < HEADER.size or not header.startswith(MAGIC):
        raise BackupUnreadable("This file is not an accessgap backup.")
    _, version, log2_n, r, p, salt, prefix = HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise BackupUnreadable(
            f"This backup has format version {version}; this program reads {FORMAT_VERSION}."
        )
    kdf = KdfParameters(log2_n, r, p)
    if not kdf.within_bounds():
        raise BackupUnreadable("The backup's key-derivation parameters are out of bounds.")
    aead = AESGCM(kdf.derive(passphrase, salt))
    number, ended = 0, False
    while length_bytes := source.read(CHUNK_LENGTH.size):
        if ended:
            raise BackupUnreadable("The backup has data after its end: it was tampered with.")
        if len(length_bytes) < CHUNK_LENGTH.size:
            raise BackupUnreadable("The backup file is truncated.")
        (length,) = CHUNK_LENGTH.unpack(length_bytes)
        if length > CHUNK_BYTES + TAG_BYTES + 1:
            raise BackupUnreadable(f"The backup file is damaged (chunk {number}).")
        sealed = source.read(length)
        if len(sealed) < length:
            raise BackupUnreadable("The backup file is truncated.")
        plain = None
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, number, last), sealed, header)
            except InvalidTag:
                continue
            ended = last
            break
        if plain is None:
            if number == 0:
                raise BackupUnreadable("Wrong passphrase, or the backup file is damaged.")
            raise BackupUnreadable(f"The backup file is damaged (chunk {number}).")
        yield plain[:1], plain[1:]
        number += 1
    if not ended:
        raise BackupUnreadable("The backup file is truncated: its last chunk is missing.")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def seal_backup(
    payload: Path,
    manifest: BackupManifest,
    out: Path,
    passphrase: str,
    *,
    kdf: KdfParameters | None = None,
) -> None:
    """Encrypt a payload and its manifest (the last chunk) into ``out``.

    The file is written aside and renamed once complete and on disk, so an interrupted backup
    never leaves a file under its name that looks whole.
    """
    partial = out.with_name(out.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as sink, payload.open("rb") as source:
        sealer = _Sealer(sink, passphrase, kdf or KdfParameters())
        while block := source.read(CHUNK_BYTES):
            sealer.seal(PAYLOAD, block)
        sealer.seal(MANIFEST, manifest.model_dump_json().encode(), last=True)
        sink.flush()
        os.fsync(sink.fileno())
    partial.replace(out)


def open_backup(file: Path, passphrase: str, payload: Path) -> BackupManifest:
    """Decrypt ``file`` into ``payload`` and check the payload against the manifest."""
    manifest_bytes: bytes | None = None
    digest, size = hashlib.sha256(), 0
    with file.open("rb") as source, payload.open("wb") as sink:
        for kind, data in _open_chunks(source, passphrase):
            if kind == PAYLOAD and manifest_bytes is None:
                sink.write(data)
                digest.update(data)
                size += len(data)
            elif kind == MANIFEST and manifest_bytes is None:
                manifest_bytes = data
            else:
                raise BackupUnreadable("The backup's chunks are not in the expected order.")
    if manifest_bytes is None:
        raise BackupUnreadable("The backup has no manifest.")
    try:
        manifest = BackupManifest.model_validate_json(manifest_bytes)
    except ValidationError as exc:
        raise BackupUnreadable(f"The backup's manifest is not valid: {exc}") from exc
    if (size, digest.hexdigest()) != (manifest.payload_bytes, manifest.payload_sha256):
        raise BackupUnreadable("The backup's content does not match its manifest.")
    return manifest


def read_manifest(file: Path, passphrase: str) -> BackupManifest:
    """The manifest of a backup, after checking the whole file decrypts."""
    with tempfile.TemporaryDirectory(prefix="accessgap-restore-") as folder:
        return open_backup(file, passphrase, Path(folder) / "payload")
