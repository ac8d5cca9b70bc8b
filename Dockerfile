# qualiopi-bot: one worker per container. SQLite in the /data volume by default; PostgreSQL
# (DATABASE_URL) for several workers, see compose.yaml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/qualiopi-bot.sqlite3 \
    WEBHOOK_PORT=8443 \
    WEBHOOK_LISTEN=0.0.0.0 \
    HEALTH_PORT=9090 \
    HEALTH_LISTEN=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
# The runtime dependencies exactly as locked (versions and hashes), then the project alone.
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY bot ./bot
COPY flows ./flows
COPY messages ./messages
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 qualiopi \
    && mkdir -p /data && chown qualiopi /data

USER qualiopi
VOLUME ["/data"]
# The webhook on WEBHOOK_PORT (webhook mode); /health and /metrics on HEALTH_PORT, apart:
# publish the first to the proxy, the second only to the monitoring network.
EXPOSE 8443 9090
# 200 while the database answers and PDFs can be made, asked where the settings serve it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["qualiopi-bot", "health"]
CMD ["qualiopi-bot", "run"]
