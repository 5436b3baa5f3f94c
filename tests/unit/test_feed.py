"""The feed reader: reading back from the end, the --since search, torn and hostile lines, following."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from gastown_tui.errors import UsageError
from gastown_tui.infra.termtext import clean as sanitize
from gastown_tui.work import feed, jsonlog


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_log(path, n: int, *, start: float, step: float) -> list[dict]:
    evs = [{"ts": _ts(start + i * step), "type": ("sling", "done", "mail.sent")[i % 3], "actor": f"r{i % 2}/polecats/p{i % 4}",
            "rig": f"r{i % 2}", "payload": {"i": i}} for i in range(n)]
    path.write_text("".join(json.dumps(e) + "\n" for e in evs))
    return evs


def test_since_search_matches_a_full_scan(tmp_path):
    path = tmp_path / ".events.jsonl"
    now = time.time()
    evs = write_log(path, 20_000, start=now - 20_000 * 30, step=30)  # one event every 30 s
    for hours in (0.5, 1, 5, 24, 1000):
        cutoff = now - hours * 3600
        got, end = feed.recent(path, filt=feed.Filter(since=cutoff))
        want = [e for e in evs if jsonlog.epoch(e["ts"]) >= cutoff]
        assert got == want, hours
        assert end == path.stat().st_size
    got, _ = feed.recent(path, filt=feed.Filter(since=now - 3600, rig="r1", types=["mail"]))
    assert got and all(e["rig"] == "r1" and e["type"] == "mail.sent" for e in got)


def test_limit_reads_back_from_the_end(tmp_path):
    path = tmp_path / ".events.jsonl"
    evs = write_log(path, 5_000, start=time.time() - 5_000, step=1)
    got, _ = feed.recent(path, limit=7)
    assert got == evs[-7:]
    got, _ = feed.recent(path, filt=feed.Filter(agent="r0/p0"), limit=3)
    assert got == [e for e in evs if e["actor"] == "r0/polecats/p0"][-3:]


def test_torn_tail_and_junk_lines_are_skipped(tmp_path):
    path = tmp_path / ".events.jsonl"
    evs = write_log(path, 10, start=time.time() - 100, step=1)
    with open(path, "a") as f:
        f.write("not json\n[1,2]\n{\"ts\": 5}\n")
        f.write('{"ts":"' + _ts(time.time()) + '","type":"half')  # being written
    got, end = feed.recent(path, limit=0)
    assert got[:10] == evs and got[-1] == {"ts": 5}
    assert end < path.stat().st_size  # the unfinished line is left to the follower
    got, _ = feed.recent(path, filt=feed.Filter(since=time.time() - 3600))
    assert got == evs  # a ts that is not a time never passes --since

    tail = feed.Tail(path, end)
    assert tail.read_new() == []  # still no newline
    with open(path, "a") as f:
        f.write('"}\n')
    assert [e["type"] for e in tail.read_new()] == ["half"]


def test_tail_restarts_when_the_file_shrinks(tmp_path):
    path = tmp_path / ".events.jsonl"
    write_log(path, 50, start=time.time(), step=1)
    tail = feed.Tail(path, path.stat().st_size)
    new = write_log(path, 2, start=time.time(), step=1)  # rotated: a new, smaller file
    assert tail.read_new() == new


def test_missing_log_is_empty(tmp_path):
    assert feed.recent(tmp_path / "nope.jsonl", limit=5) == ([], 0)
    assert feed.Tail(tmp_path / "nope.jsonl", 0).read_new() == []


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("5m", 300), ("1h", 3600), ("7d", 604800), ("1h30m", 5400), ("2w", 1209600)])
def test_durations(text, seconds):
    assert feed.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "-1h", "1h2", "0s", "1.2.3h"])
def test_bad_durations(text):
    with pytest.raises(UsageError, match="is not a duration"):
        feed.parse_duration(text)


def test_sanitizer_fast_path_keeps_its_meaning():
    assert sanitize("plain text") == "plain text"
    assert sanitize("a\x1b]0;pwned\x07b\x1b[31mc\tz\r\n") == "abc\tz\n"
    assert sanitize("x\x9b31my\x85") == "xy"


def test_since_is_exact_within_the_cutoff_second(tmp_path):
    path = tmp_path / ".events.jsonl"
    base = 1_800_000_000.0
    write_log(path, 3, start=base + 0.2, step=0.3)  # .2, .5, .8 of one second
    got, _ = feed.recent(path, filt=feed.Filter(since=base + 0.6))
    assert [e["payload"]["i"] for e in got] == [2]
