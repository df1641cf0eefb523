"""Client identifiers shown to more people than the trade files are: masked to their last four characters.

Account numbers never appear in full in logs, artifacts, the desk report or a rejection's message:
the dashboard and the logs are seen by more people than the trade files are. ``mask_text`` masks
every whole word of a text that is a known account id (reasons and exceptions quote them) — the
known ids are every account id the day's files mention, set-aside rows included
(``ValidatedDay.account_ids_seen``) — and, as a second net, any word with a digit that follows
"account" or "accounts", which is how every reason Lotwise writes names one.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_WORD = re.compile(r"[A-Za-z0-9_.\-]+")
_NAMED = re.compile(r"(?<![A-Za-z0-9_.\-])(accounts? )((?=[A-Za-z0-9_.\-]*[0-9])[A-Za-z0-9_.\-]+)", re.IGNORECASE)


def mask_account(account_id: str | None) -> str:
    """Only the last four characters: "A00000123" → "•••0123"."""
    if account_id is None:
        return ""
    s = str(account_id)
    return "•••" + s[-4:] if len(s) > 4 else "•" * len(s)


def mask_text(text: str, account_ids: Collection[str] = ()) -> str:
    """Every whole word of ``text`` that is one of ``account_ids``, and every word with a digit after
    "account(s) ", masked."""
    text = _WORD.sub(lambda m: mask_account(m[0]) if m[0] in account_ids else m[0], text)
    return _NAMED.sub(lambda m: m[1] + mask_account(m[2]), text)
