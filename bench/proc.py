"""What this machine's processes have used so far, read from /proc (Linux)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL server's processes on this machine (0 without)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_now(pid: int) -> tuple[float, float, float]:
    """CPU seconds so far: the process under test, this harness, PostgreSQL's server."""
    return cpu_seconds(pid), time.process_time(), server_cpu_seconds()


def peak_kib(pid: int) -> tuple[int, int]:
    """Returns (peak RSS, current RSS) of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])
