"""What an operator watches, in Prometheus' text format (``GET /metrics``).

One registry per process (each worker is scraped on its own): counters only go up, so tests
read differences. Names follow Prometheus' conventions (``_total``, ``_seconds``).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "qualiopi_updates_total",
    "Updates handled, by kind of event (command, button, text, contact, other).",
    ["event"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "qualiopi_errors_total",
    "Unexpected errors while handling an update (the person was told to try again).",
    registry=REGISTRY,
)
UNREACHABLE = Counter(
    "qualiopi_unreachable_chats_total",
    "Chats Telegram refused to write to (403: the person blocked the bot or left Telegram);"
    " what was owed to them is dropped.",
    registry=REGISTRY,
)
SLOW_REQUESTS = Counter(
    "qualiopi_web_slow_requests_total",
    "Connections closed because a request's head and body did not arrive in time.",
    registry=REGISTRY,
)
STORAGE_DOWN = Counter(
    "qualiopi_storage_unavailable_total",
    "Updates refused because the database did not answer.",
    registry=REGISTRY,
)
FLOOD_WAITS = Counter(
    "qualiopi_telegram_429_total",
    "Bot API answers 429 (flood control), by whom the wait holds back (chat or bot).",
    ["scope"],
    registry=REGISTRY,
)
BUTTON_ANSWERS = Counter(
    "qualiopi_button_answers_total",
    "Button presses answered, by way: in the webhook's response, or by a call of their own.",
    ["via"],
    registry=REGISTRY,
)
STEP_SECONDS = Histogram(
    "qualiopi_database_step_seconds",
    "One update's storage step: the chat's lock, the decision and the commit.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
PDF_QUEUE = Gauge(
    "qualiopi_pdf_queue",
    "PDFs being made or waiting for a worker process.",
    registry=REGISTRY,
)
JOB_ITEMS = Counter(
    "qualiopi_job_items_total",
    "What the jobs handled, by job and outcome (sent, skipped, failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)

BACKLOG = Gauge(
    "qualiopi_backlog",
    "What is late in the database (every worker reports the same figures: alert on max):"
    " owed_pdfs, unnotified_leads, owed_replies (owed for over 10 minutes), overdue_reminders.",
    ["kind"],
    registry=REGISTRY,
)
WEBHOOK_PENDING = Gauge(
    "qualiopi_webhook_pending_updates",
    "Updates Telegram holds for the webhook, not yet delivered (getWebhookInfo).",
    registry=REGISTRY,
)
WEBHOOK_LAST_ERROR = Gauge(
    "qualiopi_webhook_last_error_timestamp_seconds",
    "When Telegram last failed to deliver to the webhook (getWebhookInfo; 0: never).",
    registry=REGISTRY,
)
HEALTHY = Gauge(
    "qualiopi_up",
    "1 while the database answers and PDFs can be made (what /health says).",
    registry=REGISTRY,
)


def exposition(refresh: Callable[[], None] | None = None) -> tuple[bytes, str]:
    """The metrics as Prometheus reads them: the body and its content type."""
    if refresh is not None:
        refresh()
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
