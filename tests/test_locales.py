"""careersite.locales: Babel's merged locale data kept in the cache folder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import localedata

from careersite import locales
from careersite.salary import format_money


@pytest.fixture
def fresh_babel(monkeypatch):
    """Babel's cache without de_AT (a locale the rest of the tests do not use), and a count of loads."""
    monkeypatch.delitem(localedata._cache, "de_AT", raising=False)
    loads: list[str] = []
    real = localedata.load

    def counting(name, merge_inherited=True):
        loads.append(name)
        return real(name, merge_inherited)

    monkeypatch.setattr(localedata, "load", counting)
    yield loads
    localedata._cache.pop("de_AT", None)


def test_the_merged_data_is_saved_once_and_then_read_from_the_cache_folder(tmp_path, fresh_babel):
    expected = format_money(Decimal("3300.5"), "EUR", "de_AT")  # with the data Babel loads itself
    localedata._cache.pop("de_AT")
    fresh_babel.clear()
    locales.preload("de_AT", tmp_path)
    assert fresh_babel[0] == "de_AT"  # made by Babel (with its parents), then saved
    saved = list(tmp_path.glob("babel-*-de_AT.pickle"))
    assert len(saved) == 1
    localedata._cache.pop("de_AT")
    fresh_babel.clear()
    locales.preload("de_AT", tmp_path)
    assert fresh_babel == [] and "de_AT" in localedata._cache  # from the file: Babel loaded nothing
    assert format_money(Decimal("3300.5"), "EUR", "de_AT") == expected
    assert list(tmp_path.glob(".*.tmp")) == []


def test_a_damaged_file_or_a_missing_cache_folder_only_costs_the_shortcut(tmp_path, fresh_babel):
    (tmp_path / f"babel-{__import__('babel').__version__}-de_AT.pickle").write_bytes(b"\x80garbage")
    locales.preload("de_AT", tmp_path)
    assert fresh_babel[0] == "de_AT" and isinstance(localedata._cache["de_AT"], dict)
    localedata._cache.pop("de_AT")
    locales.preload("de_AT", tmp_path / "not-made-yet")
    assert not (tmp_path / "not-made-yet").exists()  # nothing is created outside a build's cache folder
    locales.preload("xx_YY", tmp_path)  # not a locale: left to the config check
    assert "xx_YY" not in localedata._cache


def test_a_changed_byte_in_the_saved_data_is_found_by_its_checksum(tmp_path, fresh_babel):
    """A month name changed in the file was printed on every page, even by --full (found by review)."""
    import datetime as dt

    from careersite.render import _long_date
    day = dt.date(2026, 12, 24)
    localedata._cache.pop("de_AT", None)
    locales.preload("de_AT", tmp_path)  # made and saved
    (saved,) = tmp_path.glob("babel-*-de_AT.pickle")
    data = saved.read_bytes()
    assert b"Dezember" in data
    saved.write_bytes(data.replace(b"Dezember", b"DEZEMBER"))
    localedata._cache.pop("de_AT")
    fresh_babel.clear()
    locales.preload("de_AT", tmp_path)
    assert fresh_babel[:1] == ["de_AT"]  # made by Babel again
    assert _long_date(day, "de_AT") == "24. Dezember 2026"
    assert b"Dezember" in saved.read_bytes() and b"DEZEMBER" not in saved.read_bytes()  # and saved again
