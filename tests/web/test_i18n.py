"""The catalogs are complete: every text the pages and plugins mark for
translation is in messages.pot, translated in zh (Simplified Chinese) and
en, and compiled into the .mo files kefu loads."""
from __future__ import annotations

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from testdb import ROOT

TRANSLATIONS = ROOT / "service" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}


def _source_msgids() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in extract_from_dir(
                str(ROOT), method_map, options_map, keywords=KEYWORDS)}


def _key(message) -> str:
    # A plural text is known by its singular.
    return message.id if isinstance(message.id, str) else message.id[0]


def _text(string) -> str:
    # A plural's translations, joined: empty when none is given.
    return string if isinstance(string, str) else "".join(s or "" for s in string)


def test_the_template_has_every_marked_text():
    found = _source_msgids()
    assert len(found) > 150
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = {_key(m) for m in read_po(fh) if m.id}
    assert found - template == set(), "run `make translations`: messages.pot is missing texts"
    assert template - found == set(), "run `make translations`: messages.pot has texts no longer used"


def test_no_text_is_untranslated_in_chinese_or_english():
    found = _source_msgids()
    for language in ("zh", "en"):
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as fh:
            po = read_po(fh)
        untranslated = sorted(_key(m) for m in po if m.id and (not _text(m.string) or m.fuzzy))
        assert untranslated == [], f"{language}: untranslated or fuzzy: {untranslated}"
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as fh:
            mo = {_key(m): _text(m.string) for m in read_mo(fh) if m.id}
        missing = sorted(found - {k for k, v in mo.items() if v})
        assert missing == [], f"{language}: the compiled .mo lacks {missing} (run `make translations`)"
        assert mo == {_key(m): _text(m.string) for m in po if m.id}, f"{language}: the .mo is older than the .po"


def test_the_chinese_catalog_is_chinese():
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        mo = {_key(m): _text(m.string) for m in read_mo(fh) if m.id}
    assert mo["Listen"] == "倾听" and mo["Confirm"] == "确认" and mo["Handle"] == "处理" and mo["Feed back"] == "反馈"
    # Every text with letters in it has Chinese in its translation (API and SLA stay as they are).
    latin_only = [k for k, v in mo.items() if not any("\u4e00" <= ch <= "\u9fff" for ch in v) and k != "API"]
    assert latin_only == []
