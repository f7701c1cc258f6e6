"""Which of kefu's languages a customer wrote in, told from the script of the text.

kefu speaks English and Chinese. A customer who files without saying which
language they want (an API client with no ``language`` field and no
Accept-Language, an e-mail without Content-Language) is answered in the
language of what they wrote: Chinese characters against words in Latin
letters, counting each Chinese character as a word (Chinese has no spaces),
so a Chinese complaint naming an English brand stays Chinese and an English
one naming a Chinese product stays English. Pure Python, no Flask.
"""
from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A and the compatibility block: the
# characters of written Chinese (punctuation such as "，" tells nothing).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def written_language(*texts: str | None) -> str | None:
    """``"zh_CN"`` when the texts hold at least as many Chinese characters as
    Latin-letter words, ``"en"`` when they hold more such words, None when
    they hold neither (digits, punctuation, emoji, other scripts: the caller
    falls back to its default)."""
    han = words = 0
    for text in texts:
        if text:
            han += len(_HAN.findall(text))
            words += len(_LATIN_WORD.findall(text))
    if not han and not words:
        return None
    return "zh_CN" if han >= words else "en"
