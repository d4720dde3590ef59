"""`govarchive schedule`: run each site's crawl on its cron schedule, with jitter, unattended.

Each crawl runs as a child process (`govarchive crawl --site …`), so a crawl that fails or crashes
never takes the scheduler down; the data directory's per-site lock keeps two crawls of one site from
overlapping. SIGTERM (or Ctrl-C) stops the scheduler cleanly: running crawls get SIGTERM too (Scrapy
then closes gracefully, finishing its WARC file) and are waited for.
"""

from __future__ import annotations

import logging
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from croniter import croniter

from .errors import SiteProfileError

log = logging.getLogger("govarchive.schedule")
WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass
class Job:
    """One site's schedule and its running crawl, if any."""

    profile: dict
    next_at: float = 0.0
    proc: subprocess.Popen | None = None
    runs: int = field(default=0)


def crawl_command(profile: dict, data: Path, redis: str | None = None) -> list[str]:
    cluster = ["--redis", redis] if redis else []
    return [sys.executable, "-m", "archive.cli", "crawl", "--site", profile["path"], "--data", str(data), *cluster]


class Scheduler:
    """Run site crawls when their cron schedules say, until stopped."""

    def __init__(self, profiles: list[dict], data: Path, jitter: float = 60.0, redis: str | None = None) -> None:
        missing = [p["name"] for p in profiles if not p.get("schedule")]
        if missing:
            raise SiteProfileError(f"no schedule in profile(s): {', '.join(missing)}")
        self.data = data
        self.redis = redis  # each crawl coordinated through this cluster
        self.jitter = jitter
        self.jobs = [Job(p) for p in profiles]
        self.stopping = threading.Event()
        for job in self.jobs:
            self._plan(job, time.time())

    def _plan(self, job: Job, after: float) -> None:
        nxt = croniter(job.profile["schedule"], datetime.fromtimestamp(after)).get_next(float)
        job.next_at = nxt + random.uniform(0, self.jitter)
        log.info("%s: next crawl at %s", job.profile["name"], datetime.fromtimestamp(job.next_at).isoformat(" ", "seconds"))

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def _start(self, job: Job) -> None:
        logs = self.data / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = open(logs / f"{job.profile['name']}.log", "ab")
        job.proc = subprocess.Popen(crawl_command(job.profile, self.data, self.redis), stdout=out, stderr=out)
        out.close()
        job.runs += 1
        log.info("%s: crawl started (pid %d)", job.profile["name"], job.proc.pid)

    def _reap(self, job: Job) -> None:
        if job.proc is not None and job.proc.poll() is not None:
            code = job.proc.returncode
            (log.info if code == 0 else log.warning)("%s: crawl ended with exit status %d", job.profile["name"], code)
            job.proc = None

    def tick(self, now: float) -> None:
        for job in self.jobs:
            self._reap(job)
            if now >= job.next_at:
                if job.proc is not None:
                    log.warning("%s: still crawling; this run is skipped", job.profile["name"])
                else:
                    try:
                        self._start(job)
                    except OSError as exc:
                        log.error("%s: could not start a crawl: %s", job.profile["name"], exc)
                self._plan(job, now)

    def run(self, poll: float = 0.5) -> None:
        log.info("scheduler started for %s", ", ".join(j.profile["name"] for j in self.jobs))
        while not self.stopping.is_set():
            self.tick(time.time())
            self.stopping.wait(poll)
        log.info("stopping: waiting for running crawls")
        for job in self.jobs:
            if job.proc is not None and job.proc.poll() is None:
                job.proc.send_signal(signal.SIGTERM)
        for job in self.jobs:
            if job.proc is not None:
                try:
                    job.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    job.proc.kill()
                    job.proc.wait()
                self._reap(job)
        log.info("scheduler stopped")


def cron_lines(profiles: list[dict], data: Path, exe: str, redis: str | None = None) -> list[str]:
    """crontab lines running each profile's crawl on its schedule."""
    out = []
    for p in profiles:
        fields = p["schedule"].split()
        if len(fields) != 5:
            raise SiteProfileError(f"{p['name']}: cron takes 5-field schedules, not {p['schedule']!r}")
        log_file = data.resolve() / "logs" / f"{p['name']}.log"
        out.append(f"{p['schedule']} mkdir -p {log_file.parent} && {exe} crawl --site {p['path']} "
                   f"--data {data.resolve()}{_redis(redis)} >> {log_file} 2>&1")
    return out


def on_calendar(schedule: str) -> str:
    """Translate a 5-field cron expression into a systemd OnCalendar= value."""
    minute, hour, dom, month, dow = schedule.split()

    def conv(f: str, names: list[str] | None = None) -> str:
        parts = []
        for part in f.split(","):
            step = ""
            if "/" in part:
                part, step = part.split("/")
                step = "/" + step
                part = "0" if part == "*" else part
            if names and part != "*":
                part = "..".join(names[int(x)] for x in part.split("-"))
            else:
                part = part.replace("-", "..")
            parts.append(part + step)
        return ",".join(parts)

    day = "" if dow == "*" else conv(dow, WEEKDAYS) + " "
    return f"{day}*-{conv(month)}-{conv(dom)} {conv(hour)}:{conv(minute)}:00"


def _redis(redis: str | None) -> str:
    return f" --redis {redis}" if redis else ""


def systemd_units(profiles: list[dict], data: Path, exe: str, redis: str | None = None) -> str:
    """A .service and a .timer per profile, for `systemctl enable --now govarchive-NAME.timer`."""
    out = []
    for p in profiles:
        name = f"govarchive-{p['name']}"
        out.append(f"# /etc/systemd/system/{name}.service\n[Unit]\nDescription=govarchive crawl of {p['name']}\n"
                   f"After=network-online.target\n\n[Service]\nType=oneshot\nWorkingDirectory={Path.cwd()}\n"
                   f"ExecStart={exe} crawl --site {p['path']} --data {data.resolve()}{_redis(redis)}\nNice=10\n")
        out.append(f"# /etc/systemd/system/{name}.timer\n[Unit]\nDescription=govarchive crawl of {p['name']}\n\n"
                   f"[Timer]\nOnCalendar={on_calendar(p['schedule'])}\nRandomizedDelaySec=300\nPersistent=true\n\n"
                   f"[Install]\nWantedBy=timers.target\n")
    return "\n".join(out)


def worker_unit(exe: str, data: Path, redis: str, concurrency: int, name: str | None, contact: str | None) -> str:
    """A systemd unit running a cluster worker on this machine (restarted if it dies; SIGTERM on stop
    hands its in-flight requests back and closes its WARC files)."""
    opts = f" --concurrency {concurrency}" + (f" --name {name}" if name else "") + (f" --contact {contact}" if contact else "")
    return (f"# /etc/systemd/system/govarchive-worker.service\n[Unit]\nDescription=govarchive cluster worker\n"
            f"After=network-online.target remote-fs.target\nWants=network-online.target\n\n[Service]\n"
            f"WorkingDirectory={Path.cwd()}\nExecStart={exe} worker --redis {redis} --data {data.resolve()}{opts}\n"
            f"KillSignal=SIGTERM\nTimeoutStopSec=120\nRestart=always\nRestartSec=10\nNice=5\n\n"
            f"[Install]\nWantedBy=multi-user.target\n")
