"""Small text checks for clinical documentation."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?]*[A-Za-z][^.!?]*(?:[.!?]+|$)")


def count_sentences(text: str) -> int:
    """Count sentences: stretches with a letter, ended by . ! ? or the end of the text.

    A trailing fragment without punctuation counts only when it has three words or more, so
    "Called." counts one and "Called pt" counts none.
    """
    count = 0
    for match in _SENTENCE.finditer(text or ""):
        chunk = match.group(0).strip()
        if not chunk:
            continue
        if chunk[-1] in ".!?" or len(chunk.split()) >= 3:
            count += 1
    return count
