# syntax=docker/dockerfile:1

# pacsbot's container image. The build stage installs the package and its dependencies into a
# virtual environment; the runtime stage copies only that environment (no source tree, no build
# tools) and runs it as an unprivileged user. Configuration comes from the environment at run
# time: PACSBOT_DATABASE_URL, PACSBOT_ENCRYPTION_KEY and the Slack credentials (see deploy/).
# tests/ops/test_dockerfile.py lints this file with hadolint and runs its build commands.

# Every dependency ships wheels for this Python, so the slim image needs no compiler.
ARG PYTHON_IMAGE=python:3.13-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
RUN python -m venv /opt/pacsbot \
    && /opt/pacsbot/bin/pip install --no-cache-dir /src

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="pacsbot" \
      org.opencontainers.image.description="PostDICOM's cloud PACS inside Slack"
RUN groupadd --system --gid 10001 pacsbot \
    && useradd --system --uid 10001 --gid pacsbot --home-dir /var/lib/pacsbot --create-home \
       --shell /usr/sbin/nologin pacsbot
COPY --from=build /opt/pacsbot /opt/pacsbot
# The SQLite default lives in the user's home (mount a volume there); with several replicas,
# set PACSBOT_DATABASE_URL to PostgreSQL. PACSBOT_ENCRYPTION_KEY has no default on purpose.
ENV PATH="/opt/pacsbot/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PACSBOT_HOST=0.0.0.0 \
    PACSBOT_PORT=3000 \
    PACSBOT_LOG_FORMAT=json \
    PACSBOT_DATABASE_URL=sqlite+aiosqlite:////var/lib/pacsbot/pacsbot.db
WORKDIR /var/lib/pacsbot
USER 10001:10001
# Slack's events, commands and interactions in HTTP mode; /healthz, /readyz and /metrics always.
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PACSBOT_PORT', '3000') + '/healthz', timeout=4)"]
CMD ["pacsbot", "run"]
