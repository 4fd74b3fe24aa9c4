"""XML text and attribute escaping, as ``xml.sax.saxutils`` does it.

Not imported from there: ``xml.sax.saxutils`` imports ``urllib.request`` (and with it
``http.client`` and ``email``), 18 ms of every build's start-up for two small functions.
"""

from __future__ import annotations


def escape(data: str) -> str:
    """``&``, ``<`` and ``>`` as entities (``xml.sax.saxutils.escape``)."""
    return data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(data: str) -> str:
    """An attribute value with its quotes (``xml.sax.saxutils.quoteattr``)."""
    data = escape(data).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in data:
        if "'" in data:
            return '"' + data.replace('"', "&quot;") + '"'
        return "'" + data + "'"
    return '"' + data + '"'
