"""Cipher: Fernet round trips, MultiFernet rotation, and key errors that never show the key."""

from __future__ import annotations

import traceback

import pytest
from pydantic import SecretStr

from bot.store import Cipher, DecryptionError, EncryptionKeyError

SECRET = SecretStr("pd-api-key-7f3a9c")


def test_encrypt_then_decrypt_returns_the_secret() -> None:
    cipher = Cipher.from_setting(Cipher.generate_key())
    token = cipher.encrypt(SECRET)
    assert SECRET.get_secret_value().encode() not in token
    assert cipher.decrypt(token).get_secret_value() == SECRET.get_secret_value()


def test_each_encryption_is_different() -> None:
    cipher = Cipher.from_setting(Cipher.generate_key())
    assert cipher.encrypt(SECRET) != cipher.encrypt(SECRET)


def test_text_helpers_round_trip_through_ascii() -> None:
    cipher = Cipher.from_setting(Cipher.generate_key())
    token = cipher.encrypt_text("xoxb-1-2-3")
    assert token.isascii()
    assert "xoxb" not in token
    assert cipher.decrypt_text(token) == "xoxb-1-2-3"


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    written_with_old = Cipher.from_setting(old_key).encrypt(SECRET)
    rotating = Cipher.from_setting(f"{new_key}, {old_key}")
    assert rotating.key_count == 2
    assert rotating.decrypt(written_with_old).get_secret_value() == SECRET.get_secret_value()
    # New writes use the new key alone.
    assert Cipher.from_setting(new_key).decrypt(rotating.encrypt(SECRET)) == SECRET


def test_rotate_re_encrypts_with_the_first_key() -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    written_with_old = Cipher.from_setting(old_key).encrypt(SECRET)
    rotated = Cipher.from_setting(f"{new_key},{old_key}").rotate(written_with_old)
    assert Cipher.from_setting(new_key).decrypt(rotated) == SECRET
    with pytest.raises(DecryptionError):
        Cipher.from_setting(old_key).decrypt(rotated)


def test_a_secret_from_a_removed_key_fails_clearly() -> None:
    token = Cipher.from_setting(Cipher.generate_key()).encrypt(SECRET)
    other = Cipher.from_setting(Cipher.generate_key())
    with pytest.raises(DecryptionError, match="cannot be decrypted") as raised:
        other.decrypt(token)
    assert raised.value.__cause__ is None
    with pytest.raises(DecryptionError):
        other.rotate(token)


@pytest.mark.parametrize(
    "setting",
    [
        "hunter2-is-not-a-key",
        "aHVudGVyMg==",  # valid base64, wrong length
        "{good},hunter2-second",
        "hünter2-with-a-non-ascii-letter-in-the-key!!",
    ],
)
def test_a_malformed_key_is_refused_without_echoing_it(setting: str) -> None:
    setting = setting.replace("{good}", Cipher.generate_key())
    with pytest.raises(EncryptionKeyError) as raised:
        Cipher.from_setting(setting)
    error = raised.value
    shown = "".join(traceback.format_exception(error)) + str(error) + repr(error)
    assert "PACSBOT_ENCRYPTION_KEY" in str(error)
    assert "not a valid Fernet key" in str(error)
    for part in setting.split(","):
        assert part not in shown
    assert "hunter2" not in shown
    assert "pacsbot db generate-key" in str(error)


def test_the_message_says_which_key_is_wrong() -> None:
    with pytest.raises(EncryptionKeyError, match="key 2 of 2"):
        Cipher.from_setting(f"{Cipher.generate_key()},bad")


@pytest.mark.parametrize("setting", ["", "  ", ",", SecretStr("")])
def test_an_empty_setting_is_refused(setting: str | SecretStr) -> None:
    with pytest.raises(EncryptionKeyError, match="is empty"):
        Cipher.from_setting(setting)


def test_keys_may_come_as_secret_strings_and_repr_shows_only_the_count() -> None:
    key = Cipher.generate_key()
    cipher = Cipher.from_setting(SecretStr(key))
    assert repr(cipher) == "Cipher(keys=1)"
    assert key not in repr(cipher)
