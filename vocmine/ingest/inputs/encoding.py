"""Text inputs in any common encoding, read as UTF-8.

Exports come as UTF-8, UTF-8 with a byte-order mark (Excel, Windows tools), UTF-16 with a BOM
(Windows "Unicode" text, some caption tools) and, from older tools, a legacy single-byte code page
(Windows-1252, Latin-1). Readers parse UTF-8, so an input in another encoding is transcoded while it
is streamed: the encoding is decided once from the first 64 KiB (a BOM decides; otherwise valid UTF-8
stays as it is; otherwise charset-normalizer, already used for e-mail, names the code page).
JSON is never read as a code page (RFC 8259 allows only Unicode), nor is text that holds valid UTF-8
sequences beside a few bad bytes: there a bad byte rejects its record instead of garbling the file.

E-mail and other byte formats (.eml, mbox, Outlook .msg) are not transcoded: their parts declare
their own charsets, which the e-mail reader honours.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from typing import Any, BinaryIO

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE = 4096
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def source_encoding(head: bytes) -> str | None:
    """The codec an input must be transcoded from, or None when it is UTF-8 already or binary."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    utf16 = _utf16_without_bom(head[:_SAMPLE])
    if utf16:
        return utf16
    if _is_utf8(head) or b"\x00" in head[:_SAMPLE]:
        return None  # UTF-8 (ASCII included), or binary content that is not text at all
    if head.lstrip(b" \t\r\n")[:1] in (b"{", b"["):
        return None  # JSON is UTF-8 by its RFC 8259: a stray byte rejects its record, not the file
    if _UTF8_SEQUENCE.search(head):
        return None  # UTF-8 with a few corrupt bytes: reading it as a code page would garble the rest
    return _legacy_code_page(head)


def _legacy_code_page(head: bytes) -> str | None:
    """charset-normalizer tells the script apart well (Cyrillic, Greek, Latin), but on a short
    sample it picks among the Latin code pages almost at random (a French "déçu" in Windows-1252 came
    back as ISO-8859-10, "déįu"). Windows-1252 is what legacy Western exports are written in (WHATWG
    reads even "latin-1" labels as windows-1252), so Latin text that decodes as Windows-1252 is read
    as Windows-1252."""
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    letters = [c for c in str(best) if c.isalpha() and not c.isascii()]
    if all(unicodedata.name(c, "").startswith("LATIN") for c in letters):
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            return "cp1252"
    return str(best.encoding)


def _is_utf8(head: bytes) -> bool:
    """Valid UTF-8, allowing a character cut in two at the end of the head."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of Latin script without a BOM has a zero byte in every other position."""
    if len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


class Utf8Transcoder(io.RawIOBase):
    """A byte stream in ``encoding`` read as UTF-8 (the codecs named above drop the BOM; undecodable
    bytes become U+FFFD)."""

    def __init__(self, stream: BinaryIO, encoding: str, chunk: int = 1 << 16) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._chunk = chunk
        self._pending = b""
        self._offset = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._pending) and not self._eof:
            data = self._stream.read(self._chunk)
            self._eof = not data
            self._pending = self._decoder.decode(data, final=self._eof).encode("utf-8")
            self._offset = 0
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = self._pending[self._offset : self._offset + n]
        self._offset += n
        return n
