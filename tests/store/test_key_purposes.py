"""Keys with one purpose each: a stored secret is never a button token, a token never another's.

The configured keys are stretched (HKDF) into one key per purpose. A token also names its purpose
and workspace inside, and expires; rotation with several keys keeps working for both.
"""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.store import Cipher, Database, DecryptionError, Purpose, Store, TokenRefused
from bot.store.crypto import BUTTON_TOKEN_MAX_AGE_SECONDS
from tests.store.test_encryption_at_rest import (
    WORKSPACE,
    assert_every_secret_reads_back,
    write_every_kind_of_secret,
)

KEY = Cipher.generate_key()
WORKSPACE_KEY = "-:T0001"


def test_a_stored_secret_never_unseals_as_a_button_token() -> None:
    cipher = Cipher.from_setting(KEY)
    stored = cipher.encrypt(SecretStr("search mod:CT")).decode("ascii")
    for purpose in (Purpose.RETRY_BUTTON, Purpose.PAGE_BUTTON):
        with pytest.raises(TokenRefused):
            cipher.unseal(purpose, WORKSPACE_KEY, stored)


def test_a_ciphertext_of_the_configured_key_itself_is_no_token() -> None:
    # What every button carried before keys had purposes: it must not be run now.
    legacy = Fernet(KEY).encrypt(b"search mod:CT").decode("ascii")
    with pytest.raises(TokenRefused):
        Cipher.from_setting(KEY).unseal(Purpose.RETRY_BUTTON, WORKSPACE_KEY, legacy)


def test_a_token_of_one_purpose_never_unseals_as_another_nor_as_a_stored_secret() -> None:
    cipher = Cipher.from_setting(KEY)
    token = cipher.seal(Purpose.PAGE_BUTTON, WORKSPACE_KEY, "doe john")
    assert cipher.unseal(Purpose.PAGE_BUTTON, WORKSPACE_KEY, token) == "doe john"
    with pytest.raises(TokenRefused):
        cipher.unseal(Purpose.RETRY_BUTTON, WORKSPACE_KEY, token)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token.encode("ascii"))


def test_a_token_of_one_workspace_is_refused_in_another() -> None:
    cipher = Cipher.from_setting(KEY)
    token = cipher.seal(Purpose.RETRY_BUTTON, WORKSPACE_KEY, "search mod:CT")
    with pytest.raises(TokenRefused):
        cipher.unseal(Purpose.RETRY_BUTTON, "-:T0OTHER", token)


def test_a_button_token_expires_after_thirty_days() -> None:
    cipher = Cipher.from_setting(KEY)
    now = time.time()
    fresh = cipher.seal(
        Purpose.RETRY_BUTTON, WORKSPACE_KEY, "x", issued_at=now - BUTTON_TOKEN_MAX_AGE_SECONDS + 60
    )
    old = cipher.seal(
        Purpose.RETRY_BUTTON, WORKSPACE_KEY, "x", issued_at=now - BUTTON_TOKEN_MAX_AGE_SECONDS - 60
    )
    assert cipher.unseal(Purpose.RETRY_BUTTON, WORKSPACE_KEY, fresh) == "x"
    with pytest.raises(TokenRefused):
        cipher.unseal(Purpose.RETRY_BUTTON, WORKSPACE_KEY, old)


def test_tokens_survive_a_key_rotation_while_the_old_key_is_configured() -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    token = Cipher.from_setting(old_key).seal(Purpose.PAGE_BUTTON, WORKSPACE_KEY, "doe")
    assert (
        Cipher.from_setting(f"{new_key},{old_key}").unseal(Purpose.PAGE_BUTTON, WORKSPACE_KEY, token) == "doe"
    )
    with pytest.raises(TokenRefused):
        Cipher.from_setting(new_key).unseal(Purpose.PAGE_BUTTON, WORKSPACE_KEY, token)


async def test_rotate_keys_moves_secrets_written_with_the_configured_key_to_the_derived_key(
    database: Database,
) -> None:
    legacy_store = Store(database, Cipher.from_setting(KEY), slack_client_id="1111.2222")
    # Secrets written before keys had purposes: with the configured key itself.
    legacy_store.cipher._fernet = Fernet(KEY)  # type: ignore[assignment]  # the cipher of the older release
    job_id = await write_every_kind_of_secret(legacy_store)
    current = Store(database, Cipher.from_setting(KEY), slack_client_id="1111.2222")
    await assert_every_secret_reads_back(current, job_id)
    assert await current.rotate_secrets() == 9
    await assert_every_secret_reads_back(current, job_id)
    connection = await current.connections.get(WORKSPACE)
    assert connection is not None
    # Rotated, nothing is left that the configured key alone could decrypt.
    legacy_store.cipher._fernet = Fernet(KEY)  # type: ignore[assignment]
    with pytest.raises(DecryptionError):
        await legacy_store.connections.get(WORKSPACE)
