"""The language a customer wrote in, from the script (service.domain.language)."""
from __future__ import annotations

import pytest

from service.domain.language import written_language


@pytest.mark.parametrize("texts, expected", [
    (("客户甲", "空调不制冷", "买了三天就坏了"), "zh_CN"),
    (("Li Wei", "Parcel arrived damaged", "The corner is broken."), "en"),
    # Each Chinese character counts as a word: a brand in Latin letters does
    # not turn a Chinese complaint English, nor a product name an English one Chinese.
    (("iPhone 屏幕碎了",), "zh_CN"),
    (("My 小米 phone will not charge",), "en"),
    (("张伟", "Refund please"), "zh_CN"),  # two characters against two words: a tie is Chinese
    (("Ünal Şahin", "Çok kötü"), "en"),  # Latin letters beyond ASCII are words too
    (("12345", "!!! ??? 📦", None, ""), None),  # nothing to tell by
    (("，。！",), None),  # Chinese punctuation alone is not Chinese text
])
def test_written_language(texts, expected):
    assert written_language(*texts) == expected
