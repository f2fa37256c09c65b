"""The transfer bundle file: a passphrase-encrypted, authenticated container for records.

Layout: ``MAGIC`` (8 bytes), a 4-byte big-endian header length, the header (JSON: format,
KDF parameters, salt, nonce, source database id), then AES-256-GCM ciphertext of the
zlib-compressed JSON payload. The whole prefix (magic, length, header) is the GCM associated
data, so a changed byte anywhere (header included) is detected and nothing is decrypted.
The key comes from the passphrase through scrypt (n=2**15, r=8, p=1).

Pure: bytes in, bytes out. No database, no printing; the passphrase is never part of an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from typing import Any

from probhealth.errors import BadInput

MAGIC = b"PHXFER1\n"
FORMAT = 1
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_MAX_HEADER = 4096


class BundleRefused(BadInput):
    """Not a bundle, damaged or changed, or the passphrase does not open it."""


def _key(passphrase: bytes, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
    if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
        raise BundleRefused(
            "The bundle's key settings are out of range: it is not ours or damaged."
        )
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def seal(payload: dict[str, Any], *, passphrase: bytes, source: str) -> bytes:
    """The payload as an encrypted bundle."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise BadInput("The passphrase is empty; nothing was written.")
    salt, nonce = os.urandom(16), os.urandom(12)
    header = json.dumps(
        {
            "format": FORMAT,
            "kdf": "scrypt",
            "kdf_params": _SCRYPT,
            "salt": salt.hex(),
            "nonce": nonce.hex(),
            "cipher": "AES-256-GCM",
            "source": source,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    prefix = MAGIC + len(header).to_bytes(4, "big") + header
    body = zlib.compress(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(), 6)
    key = _key(passphrase, salt, _SCRYPT)
    return prefix + AESGCM(key).encrypt(nonce, body, prefix)


def read_header(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """(header, prefix, ciphertext); refuses a file that is not a bundle."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise BundleRefused("This file is not a probhealth transfer bundle.")
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if size > _MAX_HEADER or len(data) < start + size:
        raise BundleRefused("The bundle is damaged or was changed; nothing was imported.")
    try:
        header = json.loads(data[start : start + size])
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError
        bytes.fromhex(header["salt"])
        bytes.fromhex(header["nonce"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise BundleRefused(
            "The bundle is damaged, was changed, or was written by a newer probhealth."
        ) from None
    return header, data[: start + size], data[start + size :]


def open_bundle(data: bytes, *, passphrase: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload). A wrong passphrase and a changed byte give the same refusal: GCM
    cannot tell them apart, and neither may decrypt anything."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header, prefix, ciphertext = read_header(data)
    key = _key(passphrase, bytes.fromhex(header["salt"]), header["kdf_params"])
    try:
        body = AESGCM(key).decrypt(bytes.fromhex(header["nonce"]), ciphertext, prefix)
    except (InvalidTag, ValueError):
        raise BundleRefused(
            "The bundle cannot be opened: the passphrase is wrong, or the file was changed "
            "or damaged. Nothing was imported."
        ) from None
    try:
        payload = json.loads(zlib.decompress(body))
    except (zlib.error, ValueError):
        raise BundleRefused("The bundle's contents are damaged; nothing was imported.") from None
    if not isinstance(payload, dict):
        raise BundleRefused("The bundle's contents are damaged; nothing was imported.")
    return header, payload


def digest(data: bytes) -> str:
    """The bundle's hash, as recorded in the audit logs of both databases."""
    return hashlib.sha256(data).hexdigest()
