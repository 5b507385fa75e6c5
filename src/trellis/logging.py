"""Structured logging: key=value lines on the console, JSON lines in the data directory."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trellis.files import private_dir, private_opener

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RESERVED}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_extra_fields(record),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        extras = " ".join(f"{k}={v!r}" for k, v in _extra_fields(record).items())
        line = f"{stamp} {record.levelname.lower():<7} {record.name}: {record.getMessage()}"
        if extras:
            line += f"  {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files hold addresses and request details: 0600, the rotated ones too."""

    def _open(self) -> Any:
        return open(self.baseFilename, self.mode, encoding=self.encoding, opener=private_opener)


def configure_logging(*, level: str, fmt: str, log_dir: Path | None) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root.addHandler(console)
    if log_dir is not None:
        private_dir(log_dir)
        file_handler = PrivateRotatingFileHandler(
            log_dir / "trellis.log", maxBytes=20 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        file_handler.setFormatter(JsonFormatter())
        root.addHandler(file_handler)
    for noisy in ("uvicorn.access", "pika"):
        logging.getLogger(noisy).setLevel("WARNING")
    # httpx writes a line per request at INFO: one per webhook call, thousands a minute under
    # a campaign. Those lines are debugging detail; they show when the level is DEBUG.
    debugging = root.getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("httpx").setLevel("DEBUG" if debugging else "WARNING")
