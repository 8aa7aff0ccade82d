# One image for every part of just-dna-lite: the web app (default command), the Dagster code server,
# webserver and daemon (their commands are set by deploy/compose.yaml and the Helm values).
# Everything is installed and the web frontend is built here, so a running container needs no network.
# There is deliberately no ENTRYPOINT: Dagster's Helm chart and run launchers pass whole commands as args.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.9

FROM ${UV_IMAGE} AS uv

# bun from the npm registry, where the launcher looks for it (.tools/); Reflex's own download is not used.
FROM ${NODE_IMAGE} AS bun
RUN npm install --no-save --no-audit --no-fund --prefix /tools bun@1.4.5

FROM ${PYTHON_IMAGE} AS build
# A C compiler builds the optional BAM fast path (just-dna-pipelines/csrc) during `uv sync`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY --from=uv /uv /usr/local/bin/uv
COPY --from=bun /usr/local/bin/node /usr/local/bin/node
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
COPY just-dna-pipelines/pyproject.toml just-dna-pipelines/pyproject.toml
COPY webui/pyproject.toml webui/pyproject.toml
RUN uv sync --frozen --no-default-groups --group server --no-install-workspace
COPY . .
RUN uv sync --frozen --no-default-groups --group server
COPY --from=bun /tools /app/.tools
# Reflex keeps its own folder under $HOME unless told: without it here, the runtime user (another $HOME)
# would re-initialize .web and download the frontend's packages again at every start. JUST_DNA_HOST as at
# run time, so the start compiles the same .web it finds.
ENV REFLEX_DIR=/app/.reflex \
    JUST_DNA_HOST=0.0.0.0 \
    REFLEX_BUN_PATH=/app/.tools/node_modules/bun/bin/bun.exe \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    DAGSTER_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1
# The production frontend (and its node_modules) built now, not at the first start.
RUN /app/.venv/bin/reflex export --frontend-only --no-zip --env prod

FROM ${PYTHON_IMAGE} AS runtime
# libdeflate for the BAM fast path; nothing else is needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libdeflate0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 app \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/app app \
    && mkdir -p /data /opt/dagster/dagster_home \
    && chown -R 10001:10001 /data /opt/dagster
COPY --from=bun /usr/local/bin/node /usr/local/bin/node
COPY --from=build --chown=10001:10001 /app /app
WORKDIR /app
# The data root (inputs, outputs, caches, the Dagster home of a single container): one volume, /data.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    REFLEX_DIR=/app/.reflex \
    REFLEX_BUN_PATH=/app/.tools/node_modules/bun/bin/bun.exe \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    DAGSTER_DISABLE_TELEMETRY=1 \
    DO_NOT_TRACK=1 \
    JUST_DNA_HOST=0.0.0.0 \
    JUST_DNA_FRONTEND_PORT=8080 \
    JUST_DNA_BACKEND_PORT=8080 \
    DAGSTER_HOME=/data/dagster \
    JUST_DNA_CODE_SERVER_PORT=4000 \
    DATABASE_URL=sqlite:////data/webui.db \
    JUST_DNA_PIPELINES_INPUT_DIR=/data/input \
    JUST_DNA_PIPELINES_OUTPUT_DIR=/data/output \
    JUST_DNA_PIPELINES_CACHE_DIR=/data/cache
USER 10001:10001
# 8080: web app (prod, one port); 3030: Dagster webserver; 4000: Dagster code server (gRPC).
EXPOSE 8080 3030 4000
CMD ["start", "--prod", "--no-dagster", "--frontend-port", "8080"]
