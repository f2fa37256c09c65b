"""The key of an encrypted database (SQLCipher, the ``probhealth[encrypted]`` extra).

Where it comes from, in this order: the file named by ``PROBHEALTH_KEY_FILE`` (its first line;
the file must be closed to other users), the system keyring (service ``probhealth``, user the
database's absolute path; the optional ``keyring`` library), or a prompt at a terminal (the
command line asks; see ``cli/context.py``). Never a command-line argument; the key is never
logged or part of an error message.

The key is a passphrase. SQLCipher derives the page key from it and the file's 16-byte salt
with PBKDF2-HMAC-SHA512, 256 000 iterations (SQLCipher 4's defaults, so the file also opens
in the ``sqlcipher`` shell with the same passphrase). We derive it once per process here and
give SQLCipher the raw key, so each new connection does not pay for the derivation again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from probhealth.errors import BadInput

ENV = "PROBHEALTH_KEY_FILE"
KEYRING_SERVICE = "probhealth"
KDF_ITER = 256_000  # SQLCipher 4 default (PBKDF2-HMAC-SHA512)
SALT_BYTES = 16


class Key:
    """A database passphrase. Its ``repr`` and ``str`` never show it."""

    __slots__ = ("_derived", "_secret", "source")

    def __init__(self, secret: bytes, source: str) -> None:
        if not secret:
            raise BadInput(f"The database key from {source} is empty.")
        try:
            secret.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"The database key from {source} is not text (UTF-8).") from None
        self._secret = secret
        self._derived: dict[bytes, bytes] = {}
        self.source = source  # where it came from, for messages: "the key file", "the keyring"

    def __repr__(self) -> str:
        return f"Key(from {self.source})"

    __str__ = __repr__

    def raw(self, salt: bytes) -> str:
        """SQLCipher's raw-key form with an explicit salt: ``x'<key hex><salt hex>'``."""
        if len(salt) != SALT_BYTES:
            raise ValueError("salt must be 16 bytes")
        derived = self._derived.get(salt)
        if derived is None:
            derived = hashlib.pbkdf2_hmac("sha512", self._secret, salt, KDF_ITER, 32)
            self._derived[salt] = derived
        return f"x'{derived.hex()}{salt.hex()}'"

    def characters(self) -> int:
        """How long the passphrase is, in characters (never the passphrase)."""
        return len(self._secret.decode("utf-8"))

    def same_as(self, other: Key) -> bool:
        import hmac

        return hmac.compare_digest(self._secret, other._secret)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def read_key_file(path: Path, what: str = "key file") -> bytes:
    """The first line of a key file that only its owner can read."""
    try:
        info = path.stat()
        if os.name != "nt" and info.st_mode & 0o077:
            raise BadInput(
                f"The {what} {path} can be read by other users.",
                hint=f"Fix it with: chmod 600 '{path}'",
            )
        text = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    first = text.splitlines()[0].strip() if text.strip() else b""
    if not first:
        raise BadInput(f"The {what} {path} is empty.")
    return first


MIN_NEW_KEY = 12  # characters, for a key being set; an existing database opens with any


def check_new(key: Key) -> Key:
    """``key`` if it is long enough to be a new database key, else one line (BadInput)."""
    if key.characters() < MIN_NEW_KEY:
        # The file can be copied off a lost laptop and tried offline.
        raise BadInput(
            f"The new database key from {key.source} is too short: use at least "
            f"{MIN_NEW_KEY} characters (three random words are good). Nothing was changed."
        )
    return key


def from_env() -> Key | None:
    named = os.environ.get(ENV)
    if not named:
        return None
    return Key(
        read_key_file(Path(named).expanduser(), "key file (PROBHEALTH_KEY_FILE)"), "the key file"
    )


def from_keyring(db: Path) -> Key | None:
    """The key stored in the system keyring for this database, or None (no keyring library,
    no usable keyring, or nothing stored)."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        secret = keyring.get_password(KEYRING_SERVICE, str(db.absolute()))
    except Exception:  # no backend, locked keyring, D-Bus missing...: just not available
        return None
    if not secret:
        return None
    return Key(secret.strip().encode("utf-8"), "the keyring")
