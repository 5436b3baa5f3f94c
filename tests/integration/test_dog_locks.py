"""The dogs' two locks, through the one lock helper (infra/fsutil.Lock): a dog already running in
another process is skipped, and the logs dog rotates `.events.jsonl` holding the lock its
appenders take, so no line is lost to the rotation."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from gastown_tui.patrols import dog_jobs, dogs
from gastown_tui.town import events
from gastown_tui.town.config import load_settings


def test_a_dog_running_in_another_process_is_skipped(town):
    path = dogs._lock_path(town, "digest")
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys
        fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert dog_jobs.run_dog(town, "digest")["status"] == "skipped"
    finally:
        holder.stdin.close()
        holder.wait()
    assert dog_jobs.run_dog(town, "digest")["status"] != "skipped"


def test_the_logs_dog_rotates_the_event_log_past_its_limit(town):
    s = load_settings(town.root)
    s.set("dogs.events_max_bytes", 200)
    s.save()
    for i in range(20):
        events.record(town.root, "test.filler", actor="test", payload={"i": i})
    size = town.events_jsonl.stat().st_size
    assert size > 200
    res = dog_jobs.run_dog(town, "logs")
    assert res["status"] == "ok" and "rotated" in res["summary"], res
    rotated = town.events_jsonl.with_name(town.events_jsonl.name + ".1")
    assert rotated.stat().st_size == size
    events.record(town.root, "test.after", actor="test")
    assert "test.after" in town.events_jsonl.read_text()
