"""No plaintext secret in the database: not in SQLite's files, not in PostgreSQL's columns or a dump.

Each test also looks for a non-secret marker written alongside the secrets, to prove that the
search would have found a plaintext value if one were there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.store import Cipher, Database, DecryptionError, Store, UploadOptions, WorkspaceRef
from tests.store.test_slack_oauth import BOT_TOKEN, TOKENS, installation
from tests.system_tools import require_tool

WORKSPACE = WorkspaceRef(None, "T0001")
API_KEY = "PLAINTEXT-API-KEY-4b1d"
ACCOUNT_KEY = "PLAINTEXT-ACCOUNT-KEY-9e77"
REPLACEMENT = "PLAINTEXT-ANON-NAME-c0de"
MARKER_URL = "https://router-marker-5150.example/api"
SECRETS = (API_KEY, ACCOUNT_KEY, REPLACEMENT, *TOKENS)


async def write_every_kind_of_secret(store: Store) -> str:
    """Store a connection, an upload job with replacement values and an installation; return the job id."""
    await store.connections.save(
        WORKSPACE,
        api_key=SecretStr(API_KEY),
        account_key=SecretStr(ACCOUNT_KEY),
        router_url=MARKER_URL,
        connected_by="U0ADMIN",
    )
    result = await store.upload_jobs.enqueue(
        WORKSPACE,
        "F0001",
        channel_id="C0ER",
        options=UploadOptions(anonymize=True, replacements={"PatientName": REPLACEMENT}),
    )
    assert store.installations is not None
    await store.installations.async_save(installation())
    return result.job.id


async def assert_every_secret_reads_back(store: Store, job_id: str) -> None:
    connection = await store.connections.get(WORKSPACE)
    assert connection is not None
    assert (connection.api_key.get_secret_value(), connection.account_key.get_secret_value()) == (
        API_KEY,
        ACCOUNT_KEY,
    )
    job = await store.upload_jobs.get(job_id)
    assert job is not None
    assert job.options.replacements == {"PatientName": REPLACEMENT}
    assert store.installations is not None
    found = await store.installations.async_find_installation(enterprise_id=None, team_id="T0001")
    assert found is not None
    assert found.bot_token == BOT_TOKEN


def _forms_of(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), secret.encode("utf-16-le")]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_sqlite_files_hold_no_plaintext_secret(store: Store, database_url: str) -> None:
    await write_every_kind_of_secret(store)
    path = Path(str(make_url(database_url).database))
    # While connections are open the rows sit in the -wal file; the last close checkpoints them
    # into the main file.
    for closed in (False, True):
        if closed:
            await store.database.dispose()
        files = [candidate for candidate in path.parent.glob(f"{path.name}*") if candidate.is_file()]
        contents = b"".join(candidate.read_bytes() for candidate in files)
        assert closed or any(candidate.name.endswith("-wal") for candidate in files)
        assert MARKER_URL.encode() in contents
        for secret in SECRETS:
            for form in _forms_of(secret):
                assert form not in contents, f"{secret!r} found in the SQLite files"


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_columns_hold_only_ciphertext(store: Store, cipher: Cipher) -> None:
    await write_every_kind_of_secret(store)
    async with store.database.engine.connect() as connection:
        keys = (
            await connection.execute(
                text("SELECT api_key_encrypted, account_key_encrypted, router_url FROM postdicom_connections")
            )
        ).one()
        replacements = (
            await connection.execute(text("SELECT replacements_encrypted FROM upload_jobs"))
        ).scalar_one()
    api_key, account_key, router_url = keys
    assert router_url == MARKER_URL
    for column in (bytes(api_key), bytes(account_key), bytes(replacements)):
        for secret in SECRETS:
            assert secret.encode() not in column
    assert cipher.decrypt(bytes(api_key)).get_secret_value() == API_KEY


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_dump_holds_no_plaintext_secret(store: Store, database_url: str) -> None:
    pg_dump = require_tool("pg_dump")
    await write_every_kind_of_secret(store)
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        pg_dump, "--data-only", "--inserts", f"--dbname={dsn}", stdout=asyncio.subprocess.PIPE
    )
    dump, _ = await process.communicate()
    assert process.returncode == 0
    assert MARKER_URL.encode() in dump
    for secret in SECRETS:
        for form in _forms_of(secret):
            assert form not in dump, f"{secret!r} found in the dump"


async def test_rotation_keeps_old_secrets_readable_then_moves_them_to_the_new_key(database: Database) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()

    def store_with(keys: str) -> Store:
        return Store(database, Cipher.from_setting(keys), slack_client_id="1111.2222")

    job_id = await write_every_kind_of_secret(store_with(old_key))
    rotating = store_with(f"{new_key},{old_key}")
    await assert_every_secret_reads_back(rotating, job_id)
    # Two connection keys, one set of replacements, four installation tokens and two bot tokens.
    assert await rotating.rotate_secrets() == 9
    await assert_every_secret_reads_back(store_with(new_key), job_id)
    with pytest.raises(DecryptionError):
        await store_with(old_key).connections.get(WORKSPACE)


async def test_pacsbot_db_rotate_keys_re_encrypts_everything(
    database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old_key, new_key = Cipher.generate_key(), Cipher.generate_key()
    job_id = await write_every_kind_of_secret(
        Store(database, Cipher.from_setting(old_key), slack_client_id="1111.2222")
    )
    monkeypatch.setenv("PACSBOT_ENCRYPTION_KEY", f"{new_key},{old_key}")
    exit_code = await asyncio.to_thread(main, ["db", "rotate-keys", "--database-url", database_url])
    assert exit_code == 0
    output = capsys.readouterr().out
    assert "re-encrypted 9 stored secrets" in output
    assert new_key not in output
    assert old_key not in output
    await assert_every_secret_reads_back(
        Store(database, Cipher.from_setting(new_key), slack_client_id="1111.2222"), job_id
    )
