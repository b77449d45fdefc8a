"""Encryption with one key per purpose: secrets at rest, and tokens the app hands out in buttons.

Each configured Fernet key is stretched with HKDF into one key per purpose, so a ciphertext of one
purpose never decrypts as another: a stored PostDICOM key pasted into a Retry button is not a
command, and a search token is not a stored secret. A token also names its purpose and workspace
inside, and expires (a button after 30 days).

The first key encrypts; every key decrypts (MultiFernet). To rotate, put a new key first, run
``pacsbot db rotate-keys`` (or ``Store.rotate_secrets``), then drop the old key. Secrets written
before keys had purposes (with the configured key itself) still decrypt; rotating re-encrypts them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

KEY_SETTING_NAME = "PACSBOT_ENCRYPTION_KEY"
_GENERATE_HINT = "generate one with `pacsbot db generate-key`"


class EncryptionKeyError(ValueError):
    """The configured encryption key text is missing or malformed; the message never holds key material."""


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key (wrong or dropped key, corrupt value)."""


# How long a button's token can be used: Slack keeps messages for years, a token should not live as long.
BUTTON_TOKEN_MAX_AGE_SECONDS = 30 * 24 * 3600
_HKDF_SALT = b"pacsbot key purposes v1"


class Purpose(StrEnum):
    """What a derived key is for; each purpose has keys of its own."""

    STORED_SECRET = "stored-secret"  # noqa: S105 - a label, not a password
    RETRY_BUTTON = "retry-button"
    PAGE_BUTTON = "page-button"


class TokenRefused(Exception):
    """A token from a button or modal cannot be used: not ours, another purpose or workspace, or expired."""


def _derive(fernet_key: str, purpose: Purpose) -> Fernet:
    raw = base64.urlsafe_b64decode(fernet_key.encode("ascii"))
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=purpose.value.encode()).derive(
        raw
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class Cipher:
    """Encrypt and decrypt secrets and tokens with one or several Fernet keys, one derived key per purpose."""

    def __init__(self, keys: Sequence[str | SecretStr], *, setting_name: str = KEY_SETTING_NAME) -> None:
        texts = [key.get_secret_value() if isinstance(key, SecretStr) else key for key in keys]
        texts = [text.strip() for text in texts if text.strip()]
        if not texts:
            raise EncryptionKeyError(
                f"{setting_name} is empty: set at least one Fernet key ({_GENERATE_HINT})."
            )
        legacy = []
        for position, text in enumerate(texts, start=1):
            try:
                legacy.append(Fernet(text))
            except ValueError:
                # ``from None``: the underlying error may carry the offending text.
                raise EncryptionKeyError(
                    f"{setting_name}: key {position} of {len(texts)} is not a valid Fernet key "
                    f"(it must be 32 url-safe base64-encoded bytes; {_GENERATE_HINT})."
                ) from None
        self._key_count = len(legacy)
        # Stored secrets: derived keys first (the first one encrypts); the configured keys
        # themselves last, for what was written before keys had purposes.
        self._fernet = MultiFernet([_derive(text, Purpose.STORED_SECRET) for text in texts] + legacy)
        self._tokens = {
            purpose: MultiFernet([_derive(text, purpose) for text in texts])
            for purpose in Purpose
            if purpose is not Purpose.STORED_SECRET
        }
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

    def seal(self, purpose: Purpose, workspace_key: str, text: str, *, issued_at: float | None = None) -> str:
        """Encrypt text for a button or modal: bound to its purpose and workspace, dated for expiry."""
        if purpose is Purpose.STORED_SECRET:
            raise ValueError("stored secrets are encrypted with encrypt(), not sealed")
        payload = json.dumps({"p": purpose.value, "w": workspace_key, "t": text}, separators=(",", ":"))
        moment = int(time.time() if issued_at is None else issued_at)
        return self._tokens[purpose].encrypt_at_time(payload.encode("utf-8"), moment).decode("ascii")

    def unseal(
        self,
        purpose: Purpose,
        workspace_key: str,
        token: str,
        *,
        max_age_seconds: int = BUTTON_TOKEN_MAX_AGE_SECONDS,
    ) -> str:
        """Return the text a token carries, or raise TokenRefused (another purpose, workspace, or too old)."""
        if purpose is Purpose.STORED_SECRET:
            raise ValueError("stored secrets are decrypted with decrypt(), not unsealed")
        try:
            plain = self._tokens[purpose].decrypt(token.encode("ascii"), ttl=max_age_seconds)
            payload = json.loads(plain)
        except (InvalidToken, UnicodeEncodeError, ValueError):
            # Expired, forged, or made for another purpose (another key): the same answer for all.
            raise TokenRefused("the token is not valid for this purpose any more") from None
        if (
            not isinstance(payload, dict)
            or payload.get("p") != purpose.value
            or payload.get("w") != workspace_key
        ):
            raise TokenRefused("the token was made for another purpose or workspace")
        text = payload.get("t")
        if not isinstance(text, str):
            raise TokenRefused("the token carries no text")
        return text

    def fingerprint(self, text: str) -> str:
        """Return a keyed hash of text (equal texts, equal hashes) that cannot be reversed without the key."""
        return hmac.new(self._fingerprint_key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Cipher(keys={self._key_count})"
