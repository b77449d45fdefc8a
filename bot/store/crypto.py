"""Encryption at rest for every secret the store keeps: Fernet keys, rotated with MultiFernet.

The first key encrypts; every key decrypts. To rotate, put a new key first, run
``pacsbot db rotate-keys`` (or ``Store.rotate_secrets``), then drop the old key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

KEY_SETTING_NAME = "PACSBOT_ENCRYPTION_KEY"
_GENERATE_HINT = "generate one with `pacsbot db generate-key`"


class EncryptionKeyError(ValueError):
    """The configured encryption key text is missing or malformed; the message never holds key material."""


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key (wrong or dropped key, corrupt value)."""


class Cipher:
    """Encrypt and decrypt secrets with one or several Fernet keys."""

    def __init__(self, keys: Sequence[str | SecretStr], *, setting_name: str = KEY_SETTING_NAME) -> None:
        texts = [key.get_secret_value() if isinstance(key, SecretStr) else key for key in keys]
        texts = [text.strip() for text in texts if text.strip()]
        if not texts:
            raise EncryptionKeyError(
                f"{setting_name} is empty: set at least one Fernet key ({_GENERATE_HINT})."
            )
        fernets = []
        for position, text in enumerate(texts, start=1):
            try:
                fernets.append(Fernet(text))
            except ValueError:
                # ``from None``: the underlying error may carry the offending text.
                raise EncryptionKeyError(
                    f"{setting_name}: key {position} of {len(texts)} is not a valid Fernet key "
                    f"(it must be 32 url-safe base64-encoded bytes; {_GENERATE_HINT})."
                ) from None
        self._key_count = len(fernets)
        self._fernet = MultiFernet(fernets)
        # A separate key for fingerprints, derived so that a fingerprint reveals nothing of the key.
        self._fingerprint_key = hashlib.sha256(b"pacsbot fingerprint\0" + texts[0].encode("ascii")).digest()

    @classmethod
    def from_setting(cls, value: str | SecretStr, *, setting_name: str = KEY_SETTING_NAME) -> Cipher:
        """Build a cipher from comma-separated keys, the first of which encrypts."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return cls(text.split(","), setting_name=setting_name)

    @staticmethod
    def generate_key() -> str:
        """Return a new random Fernet key as text."""
        return Fernet.generate_key().decode("ascii")

    @property
    def key_count(self) -> int:
        """Return how many keys can decrypt."""
        return self._key_count

    def encrypt(self, secret: SecretStr) -> bytes:
        """Encrypt a secret with the first key."""
        return self._fernet.encrypt(secret.get_secret_value().encode("utf-8"))

    def decrypt(self, token: bytes) -> SecretStr:
        """Decrypt a stored secret with whichever key encrypted it."""
        try:
            return SecretStr(self._fernet.decrypt(token).decode("utf-8"))
        except InvalidToken:
            raise DecryptionError(
                f"a stored secret cannot be decrypted with any of the {self._key_count} configured "
                f"{KEY_SETTING_NAME} keys; was the key that encrypted it removed?"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a stored secret with the first key, keeping its original timestamp."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise DecryptionError(
                f"a stored secret cannot be rotated: none of the {self._key_count} configured keys decrypts it"
            ) from None

    def encrypt_text(self, text: str) -> str:
        """Encrypt plain text into ASCII text, for columns that must stay strings."""
        return self.encrypt(SecretStr(text)).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        """Decrypt what ``encrypt_text`` produced."""
        return self.decrypt(token.encode("ascii")).get_secret_value()

    def fingerprint(self, text: str) -> str:
        """Return a keyed hash of text (equal texts, equal hashes) that cannot be reversed without the key."""
        return hmac.new(self._fingerprint_key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Cipher(keys={self._key_count})"
