# Consult API (and, with `consult worker`, a worker) against an external PostgreSQL.
#   docker build -t consult .
#   docker run -e DATABASE_URL=postgresql://user:pass@db:5432/consult -e CONSULT_SECRET_KEY=... -p 8000:8000 consult
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    CONSULT_DATA_DIR=/data \
    CONSULT_HOST=0.0.0.0

RUN pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY alembic.ini README.md ./
COPY migrations ./migrations
COPY analysis ./analysis
COPY app ./app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

RUN useradd --create-home consult && mkdir -p /data && chown consult /data
USER consult
ENV PATH="/app/.venv/bin:$PATH"
EXPOSE 8000

# `consult serve` upgrades the database (Alembic) and then serves; it needs DATABASE_URL.
CMD ["consult", "serve"]
