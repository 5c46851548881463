"""Text from outside (stories, file names, paths, providers) shown on a terminal as text.

rich reads every plain string it prints as markup and emoji codes: a scene called `[/b]`
crashes a table, `[bold]` in a title turns bold, `[link=...]` becomes a hyperlink and
`:cat:` a picture. And a raw ESC from a story would drive the terminal itself. So whatever
storyc prints that it did not write itself goes through one of these helpers: `plain` for a
whole cell or line (a `Text`, never parsed), `markup_safe` where it must be interpolated
into a markup string, and `visible` (no rich involved) for text built before it is printed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 controls but tab and newline, DEL, and the C1 controls (`\\x9b` is CSI on some
terminals)."""


def _spelled(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(text: str) -> str:
    """`text` with every control character but tab and newline spelled out (`\\x1b`), so
    it shows what the file holds and cannot move the cursor, recolour or retitle the
    terminal."""
    return _CONTROL.sub(_spelled, text)


_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def json_visible(text: str) -> str:
    """JSON from `json.dumps(..., ensure_ascii=False)` with DEL and the C1 controls escaped
    too (`\\u009b`): json escapes only C0, and the output is often read on a terminal. The
    characters can only stand inside strings, where the escape means the same."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def diff_text(text: str, on_terminal: bool) -> str:
    """A diff as printed: spelled on a terminal (for eyes), exact in a pipe (for `patch`)."""
    return visible(text) if on_terminal else text


def plain(text: object, style: str = "") -> Text:
    """`text` as a rich `Text`: printed literally (no markup, no emoji), controls spelled."""
    from rich.text import Text  # here, not at the top: the language server never prints

    return Text(visible(str(text)), style=style)


def markup_safe(text: object) -> str:
    """`text` ready to be put inside a rich markup string: brackets escaped, controls spelled."""
    from rich.markup import escape

    return escape(visible(str(text)))


def labelled(label: str, style: str, message: object) -> Text:
    """`label message` (e.g. `error: ...`) with only the label styled, the message as text."""
    from rich.text import Text

    return Text.assemble((label, style), " ", plain(message))
