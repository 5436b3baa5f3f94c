"""Protocol mail: machine-readable messages between agents and patrols.

A protocol message is ordinary mail whose subject is `<TYPE> <subject-arg>` (for example
`POLECAT_DONE nux`) and whose body is `Key: value` lines (then, optionally, a blank line and free
text). Protocol mail is ephemeral: it goes to the town store's `wisps.jsonl`, never into git.

| type            | from → to                 | keys                                                       |
|-----------------|---------------------------|------------------------------------------------------------|
| POLECAT_DONE    | polecat → witness         | Polecat, Rig, Bead, Branch, Commit, Status, MR, Note       |
| MERGE_READY     | witness → refinery        | Polecat, Rig, Bead, Branch, MR                             |
| MERGED          | refinery → witness        | Polecat, Rig, Bead, Branch, MR, Commit                     |
| MERGE_FAILED    | refinery → witness        | Polecat, Rig, Bead, Branch, MR, Reason                     |
| REWORK_REQUEST  | refinery → witness/polecat| Polecat, Rig, Bead, Branch, MR, Files                      |
| HELP            | any → witness/mayor       | Agent, Bead, Reason                                        |
| HANDOFF         | agent → its successor     | Agent, Bead, Note                                          |
| WITNESS_PING    | witness → deacon          | Rig, Pinged (epoch seconds): one message per rig, renewed  |
|                 |                           | every patrol (second-order monitoring)                     |
"""

from __future__ import annotations

PROTOCOL_TYPES = ("POLECAT_DONE", "MERGE_READY", "MERGED", "MERGE_FAILED", "REWORK_REQUEST", "HELP",
                  "HANDOFF", "WITNESS_PING")


def subject(msg_type: str, arg: str = "") -> str:
    """`POLECAT_DONE nux`."""
    if msg_type not in PROTOCOL_TYPES:
        raise ValueError(f"unknown protocol message type {msg_type}")
    return f"{msg_type} {arg}".strip()


def body(fields: dict[str, object], text: str = "") -> str:
    """`Key: value` lines (empty values left out), then a blank line and free text if any."""
    lines = []
    for k, v in fields.items():
        if v is None or v == "":
            continue
        value = " ".join(str(v).splitlines())  # one line per key, always
        lines.append(f"{k}: {value}")
    out = "\n".join(lines)
    if text:
        out = f"{out}\n\n{text}" if out else text
    return out


def message_type(subject_text: str) -> str | None:
    """The protocol type of a subject, or None for ordinary mail."""
    head = (subject_text or "").split(" ", 1)[0]
    return head if head in PROTOCOL_TYPES else None


def is_protocol(subject_text: str) -> bool:
    return message_type(subject_text) is not None


def parse_body(text: str) -> dict[str, str]:
    """The `Key: value` header lines of a body (up to the first blank line); free text under `_text`."""
    fields: dict[str, str] = {}
    lines = (text or "").splitlines()
    i = 0
    for i, line in enumerate(lines):  # noqa: B007
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            break
        fields[key.strip()] = value.strip()
    else:
        i = len(lines)
    rest = "\n".join(lines[i:]).strip()
    if rest:
        fields["_text"] = rest
    return fields


def parse(subject_text: str, body_text: str) -> tuple[str | None, str, dict[str, str]]:
    """(type or None, subject argument, body fields)."""
    t = message_type(subject_text)
    arg = subject_text.split(" ", 1)[1].strip() if t and " " in subject_text else ""
    return t, arg, parse_body(body_text)
