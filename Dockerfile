# syntax=docker/dockerfile:1
# Web stage: the SPA client built to static files (web/dist), from the lockfile.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npx vite build

# Build stage: a wheel of qd85 and wheels of its pinned dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY api ./api
COPY migrations ./migrations
# Compile the message catalogs (api/locale/*/LC_MESSAGES/messages.po → .mo); the wheel
# ships both (pyproject.toml package-data), and the app reads the .mo.
RUN pip install --no-cache-dir -c constraints.txt babel \
    && pybabel compile --statistics -d api/locale -D messages
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

# Runtime stage: no compiler, no sources, a non-root user; configuration by QD85_* env only.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --create-home qd85 \
    && mkdir -p /data/files && chown qd85 /data/files
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
# The SPA, served by `qd85 serve` at / (QD85_WEB_DIR).
COPY --from=web /web/dist /app/web
WORKDIR /app
USER qd85
ENV QD85_ENV=production \
    QD85_STORAGE_DIR=/data/files \
    QD85_WEB_DIR=/app/web \
    PYTHONUNBUFFERED=1 \
    WEB_CONCURRENCY=2
# Uploaded evidence and document files: mount a persistent volume here (with
# QD85_STORAGE_BACKEND=s3 and the QD85_STORAGE_S3_* settings the files live in the bucket,
# and this volume is unused; docs/deployment.md).
VOLUME ["/data/files"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrate, then serve. QD85_DATABASE_URL and QD85_SECRET_KEY must be provided.
CMD ["sh", "-c", "qd85 migrate && exec qd85 serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY}"]
