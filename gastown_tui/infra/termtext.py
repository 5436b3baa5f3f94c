"""The one sanitizer for text bound for a terminal (issue 12).

Titles, descriptions, mail bodies, agent names and ids arrive by git or from agents. Printed as
they are, an escape sequence in one could clear the screen, move the cursor, rewrite the
terminal's title (OSC 0/2), set the clipboard (OSC 52) or hide a line, and a bare CR could
overwrite what came before. `clean` removes, in one pass:

- escape sequences: CSI (`ESC [ ... final`, and the C1 form 0x9b), OSC (`ESC ]` / 0x9d, up to
  BEL or ST), the string sequences DCS, SOS, PM, APC (`ESC P X ^ _` / 0x90 0x98 0x9e 0x9f, up to
  ST), and the other ESC sequences (`ESC (B`, `ESC 7` ...);
- every other C0 and C1 control character and DEL, except newline and tab when asked to keep them.

With `keep_sgr`, CSI sequences ending in `m` (colours and text attributes) are kept, so captured
pane output keeps its colours but nothing else. Used by every human-readable CLI listing (via the
CLI framework's output stream), the cockpit, nudge (what is typed into a pane) and the agent-state
classifier (which reads screens as plain text). JSON output is never passed through it.

Hand-written, not a regular expression: `re` costs milliseconds of startup on every CLI call,
and text without a control character returns at once.
"""

from __future__ import annotations

_ESC = "\x1b"
_BEL = "\x07"
_ST_C1 = "\x9c"
_STRING_INTRO = frozenset("PX^_")  # DCS, SOS, PM, APC after ESC
_C1_STRING = frozenset("\x90\x98\x9e\x9f")


def _is_plain(text: str, keep: str) -> bool:
    if text.isprintable():
        return True
    for ch in text:
        if not ch.isprintable() and ch not in keep:
            o = ord(ch)
            if o < 0x20 or 0x7F <= o <= 0x9F:
                return False
    return True  # only non-control unprintables (e.g. combining marks, U+2028): harmless to a terminal


def _skip_string(text: str, i: int, n: int) -> int:
    """Index after an OSC/DCS/... body starting at i: up to BEL, ESC \\ or C1 ST (or the end)."""
    while i < n:
        ch = text[i]
        if ch == _BEL or ch == _ST_C1:
            return i + 1
        if ch == _ESC:
            return i + 2 if i + 1 < n and text[i + 1] == "\\" else i + 1
        i += 1
    return n


def _skip_csi(text: str, i: int, n: int) -> tuple[int, str]:
    """(index after a CSI body starting at i, its final byte or '')."""
    while i < n and "\x30" <= text[i] <= "\x3f":  # parameters
        i += 1
    while i < n and "\x20" <= text[i] <= "\x2f":  # intermediates
        i += 1
    if i < n and "\x40" <= text[i] <= "\x7e":
        return i + 1, text[i]
    return i, ""  # malformed: drop what we consumed


def clean(text: str, *, keep_newlines: bool = True, keep_tabs: bool = True, keep_sgr: bool = False) -> str:
    """`text` with escape sequences and control characters removed (see the module doc)."""
    if not isinstance(text, str):
        text = str(text)
    keep = ("\n" if keep_newlines else "") + ("\t" if keep_tabs else "")
    if _is_plain(text, keep):
        return text
    out: list[str] = []
    i, n = 0, len(text)
    start = 0
    while i < n:
        ch = text[i]
        o = ord(ch)
        if not (o < 0x20 or 0x7F <= o <= 0x9F) or ch in keep:
            i += 1
            continue
        out.append(text[start:i])
        if ch == _ESC:
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "[":
                j, final = _skip_csi(text, i + 2, n)
                if keep_sgr and final == "m":
                    out.append(text[i:j])
                i = j
            elif nxt and (nxt == "]" or nxt in _STRING_INTRO):
                i = _skip_string(text, i + 2, n)
            elif nxt and "\x20" <= nxt <= "\x2f":  # ESC ( B and friends: intermediates, then a final
                j = i + 1
                while j < n and "\x20" <= text[j] <= "\x2f":
                    j += 1
                i = j + 1 if j < n and "\x30" <= text[j] <= "\x7e" else j
            elif nxt and "\x30" <= nxt <= "\x7e":  # ESC 7, ESC c, ESC M ...
                i += 2
            else:
                i += 1
        elif ch == "\x9b":
            j, final = _skip_csi(text, i + 1, n)
            if keep_sgr and final == "m":
                out.append("\x1b[" + text[i + 1:j])
            i = j
        elif ch == "\x9d" or ch in _C1_STRING:
            i = _skip_string(text, i + 1, n)
        else:
            i += 1
        start = i
    out.append(text[start:])
    return "".join(out)


def clean_line(text: str) -> str:
    """`clean` for one table cell or one-line field: newlines and tabs become spaces."""
    if not isinstance(text, str):
        text = str(text)
    return clean(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " "))
