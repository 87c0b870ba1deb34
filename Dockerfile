# Image of the Capital Tracker command line and workers (`capital ...`).
# Built by infra/docker-compose.yml; by hand, from the repository root:
#   docker build -t capital-tracker .
#   docker run --rm capital-tracker capital --help
# Every dependency has a manylinux wheel for CPython 3.11, so no compiler is needed.

# The portal's front-end packages, from the committed lockfile (not the test-only ones).
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY capital/web/frontend/package.json capital/web/frontend/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what `pip install .` needs: the checkout also holds .venv/ and .infra/ (jars,
# database files), which must not reach the image. Add new top-level packages here and
# in pyproject.toml's [tool.setuptools.packages.find].
COPY pyproject.toml README.md ./
COPY capital ./capital
COPY events ./events
COPY programme ./programme
COPY projection ./projection
COPY services ./services
RUN pip install . \
    && useradd --create-home --uid 10001 capital
COPY --from=frontend /frontend/node_modules /opt/capital-frontend/node_modules
ENV CAPITAL_WEB__FRONTEND_MODULES=/opt/capital-frontend/node_modules

# Workers keep their local state (Faust data directory) under the working directory.
USER capital
WORKDIR /home/capital
CMD ["capital", "--help"]
