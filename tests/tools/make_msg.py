"""Write the Outlook .msg test files of tests/data/social_networks: ``python tests/tools/make_msg.py``.

olefile only reads compound files, and nothing installed writes them, so this script holds a small
writer of its own: a version 3 compound file ([MS-CFB], 512-byte sectors) with streams under 4096
bytes in the mini stream and larger ones in regular sectors, one FAT sector per 128 sectors, and
each storage's children in a balanced binary tree (all black, which the format allows). The messages
follow [MS-OXMSG]: ``__substg1.0_<id><type>`` streams for variable-length properties, a
``__properties_version1.0`` stream for fixed-length ones, ``__recip_version1.0_#<n>`` storages for
recipients. The named-property storage is left out: nothing here uses named properties.

The output is deterministic (no time stamps in directory entries), so the test suite checks that the
committed files are what this script writes. The tests also use ``compound_file`` and ``message`` to
build variants (truncated, RTF-only) without committing more binaries.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREE, END, FAT_MARK, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UNICODE, STRING8, BINARY, LONG, SYSTIME = 0x001F, 0x001E, 0x0102, 0x0003, 0x0040


@dataclass
class Node:
    name: str
    data: bytes | None = None  # None: a storage
    children: list[Node] = field(default_factory=list)
    sid: int = 0
    start: int = END
    size: int = 0


def _sorted_children(node: Node) -> list[Node]:
    # [MS-CFB] 2.6.4: shorter names first, then by upper-cased name.
    return sorted(node.children, key=lambda c: (len(c.name), c.name.upper()))


def _tree(children: list[Node], links: dict[int, tuple[int, int]]) -> int:
    """Link ``children`` (sorted) into a balanced tree; the root's stream id."""
    if not children:
        return NO_STREAM
    middle = len(children) // 2
    left, right = _tree(children[:middle], links), _tree(children[middle + 1 :], links)
    links[children[middle].sid] = (left, right)
    return children[middle].sid


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i < count - 1 else END


def compound_file(root_children: list[Node]) -> bytes:
    root = Node("Root Entry", None, root_children)
    nodes: list[Node] = []

    def number(node: Node) -> None:
        node.sid = len(nodes)
        nodes.append(node)
        for child in _sorted_children(node):
            number(child)

    number(root)
    # Small streams go to the mini stream, in 64-byte mini sectors with their own FAT.
    mini = bytearray()
    minifat: list[int] = []
    large = [n for n in nodes if n.data is not None and len(n.data) >= MINI_CUTOFF]
    for node in nodes:
        if node.data is not None and 0 < len(node.data) < MINI_CUTOFF:
            count = -(-len(node.data) // MINI_SECTOR)
            node.start, node.size = len(minifat), len(node.data)
            minifat.extend([0] * count)
            _chain(minifat, node.start, count)
            mini += node.data + b"\x00" * (count * MINI_SECTOR - len(node.data))
    directory_sectors = -(-len(nodes) // 4)
    minifat_sectors = -(-len(minifat) * 4 // SECTOR)
    mini_sectors = -(-len(mini) // SECTOR)
    large_sectors = [-(-len(n.data or b"") // SECTOR) for n in large]
    body = directory_sectors + minifat_sectors + mini_sectors + sum(large_sectors)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < body + fat_sectors:
        fat_sectors += 1
    fat = [FREE] * (fat_sectors * SECTOR // 4)
    for i in range(fat_sectors):
        fat[i] = FAT_MARK
    directory_start = fat_sectors
    _chain(fat, directory_start, directory_sectors)
    minifat_start = directory_start + directory_sectors
    _chain(fat, minifat_start, minifat_sectors)
    mini_start = minifat_start + minifat_sectors
    _chain(fat, mini_start, mini_sectors)
    root.start, root.size = (mini_start, len(mini)) if mini else (END, 0)
    next_sector = mini_start + mini_sectors
    for node, count in zip(large, large_sectors, strict=True):
        node.start, node.size = next_sector, len(node.data or b"")
        _chain(fat, next_sector, count)
        next_sector += count

    links: dict[int, tuple[int, int]] = {}
    child_of = {n.sid: _tree(_sorted_children(n), links) for n in nodes if n.data is None}
    entries = bytearray()
    for node in nodes:
        encoded = node.name.encode("utf-16-le") + b"\x00\x00"
        left, right = links.get(node.sid, (NO_STREAM, NO_STREAM))
        kind = 5 if node is root else (1 if node.data is None else 2)
        entries += struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded,
            len(encoded),
            kind,
            1,  # black
            left,
            right,
            child_of.get(node.sid, NO_STREAM),
            b"\x00" * 16,
            0,
            0,
            0,
            node.start,
            node.size,
        )
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NO_STREAM, NO_STREAM, NO_STREAM, b"", 0, 0, 0, 0, 0)
    while len(entries) % SECTOR:
        entries += empty

    difat = [i for i in range(fat_sectors)] + [FREE] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        SIGNATURE,
        b"\x00" * 16,
        0x003E,
        3,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,
        fat_sectors,
        directory_start,
        0,
        MINI_CUTOFF,
        minifat_start if minifat else END,
        minifat_sectors,
        END,
        0,
    ) + struct.pack("<109I", *difat)

    def padded(data: bytes) -> bytes:
        return data + b"\x00" * (-len(data) % SECTOR)

    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) + struct.pack("<I", FREE) * (
        minifat_sectors * SECTOR // 4 - len(minifat)
    )
    parts = [header, struct.pack(f"<{len(fat)}I", *fat), bytes(entries), minifat_bytes, padded(bytes(mini))]
    parts += [padded(n.data or b"") for n in large]
    return b"".join(parts)


def filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


def _property_stream(header: bytes, strings: dict[int, tuple[int, bytes]], fixed: dict[int, tuple[int, int]]) -> bytes:
    """Fixed values in full; variable-length ones by their size, as [MS-OXMSG] 2.4.2 lays them out."""
    entries = b""
    for prop_id, (prop_type, value) in sorted(fixed.items()):
        entries += struct.pack("<IIQ", prop_type | prop_id << 16, 6, value)
    for prop_id, (prop_type, data) in sorted(strings.items()):
        size = len(data) + (2 if prop_type == UNICODE else 1 if prop_type == STRING8 else 0)
        entries += struct.pack("<IIII", prop_type | prop_id << 16, 6, size, 0)
    return header + entries


def _streams(strings: dict[int, tuple[int, bytes]]) -> list[Node]:
    return [Node(f"__substg1.0_{i:04X}{t:04X}", data) for i, (t, data) in strings.items()]


def message(
    strings: dict[int, str | bytes],
    *,
    fixed: dict[int, tuple[int, int]] | None = None,
    recipients: tuple[tuple[int, str, str], ...] = (),
    eight_bit: bool = False,
    code_page: int = 1252,
) -> bytes:
    """An Outlook message: ``strings`` by property id (text in Unicode, or 8-bit in ``code_page``
    when ``eight_bit``; bytes as binary properties), fixed-length properties, and recipients as
    (type, display name, SMTP address)."""
    encoded: dict[int, tuple[int, bytes]] = {}
    for prop_id, value in strings.items():
        if isinstance(value, bytes):
            encoded[prop_id] = (BINARY, value)
        elif eight_bit:
            encoded[prop_id] = (STRING8, value.encode(f"cp{code_page}"))
        else:
            encoded[prop_id] = (UNICODE, value.encode("utf-16-le"))
    fixed = dict(fixed or {})
    if eight_bit:
        fixed[0x3FFD] = (LONG, code_page)
    children = _streams(encoded)
    for index, (kind, name, address) in enumerate(recipients):
        recipient = {0x3001: (UNICODE, name.encode("utf-16-le")), 0x39FE: (UNICODE, address.encode("utf-16-le"))}
        recipient_fixed = {0x0C15: (LONG, kind)}
        storage = Node(f"__recip_version1.0_#{index:08X}", None, _streams(recipient))
        storage.children.append(
            Node("__properties_version1.0", _property_stream(b"\x00" * 8, recipient, recipient_fixed))
        )
        children.append(storage)
    header = struct.pack("<8sIIII8s", b"", len(recipients), 0, len(recipients), 0, b"")
    children.append(Node("__properties_version1.0", _property_stream(header, encoded, fixed)))
    return compound_file(children)


# ---------------------------------------------------------------- the committed files

HERE = Path(__file__).resolve().parents[1] / "data" / "social_networks"  # where the files go

CUSTOMER_HEADERS = (
    "Microsoft Mail Internet Headers Version 2.0\r\n"
    "Received: from mail.example.net (198.51.100.7) by mx.acme-shop.com; Mon, 4 Mar 2024 09:12:40 +0000\r\n"
    "From: Dana Whitfield <dana.whitfield@example.net>\r\n"
    "To: Acme Shop Support <support@acme-shop.com>\r\n"
    "Subject: Charged twice for order 48213\r\n"
    "Date: Mon, 4 Mar 2024 09:12:31 +0000\r\n"
    "Message-ID: <CAF3d9x-48213-dana@mail.example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b1"\r\n'
)
CUSTOMER_BODY = (
    "Hello,\r\n\r\n"
    "I was charged twice for order 48213 (two payments of 59.90 EUR on 2 March). "
    "Please refund the second payment. My card statement shows both.\r\n\r\n"
    "Thanks,\r\nDana\r\n"
)
# Outlook writes long HTML with style blocks; this one is over 4096 bytes, so it lives in regular
# sectors, not in the mini stream.
CUSTOMER_HTML = (
    "<html><head><style>"
    + "".join(f"p.MsoNormal{i} {{margin:0cm; font-size:11.0pt; font-family:Calibri,sans-serif}}\n" for i in range(60))
    + "</style></head><body><p>Hello,</p><p>I was charged twice for order 48213 (two payments of 59.90 EUR on"
    " 2 March). Please refund the second payment. My card statement shows both.</p><p>Thanks,<br>Dana</p>"
    "</body></html>"
)
AGENT_HTML = (
    "<html><body><p>Hallo Dana,</p><p>d\u00e9sol\u00e9 for the trouble: the second payment of 59.90 EUR was"
    " a duplicate and we have refunded it today. It will show on your statement within 5 working days.</p>"
    "<p>Kind regards,<br>Marco<br>Acme Shop Customer Care</p>"
    "<div><b>From:</b> Dana Whitfield &lt;dana.whitfield@example.net&gt;<br><b>Sent:</b> Monday, March 4,"
    " 2024 9:12 AM<br><b>To:</b> Acme Shop Support<br><b>Subject:</b> Charged twice for order 48213</div>"
    "<p>Hello,</p><p>I was charged twice for order 48213.</p></body></html>"
)


def customer_message() -> bytes:
    """A customer's e-mail as received: transport headers, plain and HTML bodies, Unicode strings."""
    return message(
        {
            0x001A: "IPM.Note",
            0x0037: "Charged twice for order 48213",
            0x0C1A: "Dana Whitfield",
            0x0C1F: "dana.whitfield@example.net",
            0x0E04: "Acme Shop Support",
            0x007D: CUSTOMER_HEADERS,
            0x1000: CUSTOMER_BODY,
            0x1013: CUSTOMER_HTML.encode("utf-8"),
        },
        fixed={0x0E06: (SYSTIME, filetime(datetime(2024, 3, 4, 9, 12, 40, tzinfo=UTC))), 0x3FDE: (LONG, 65001)},
        recipients=((1, "Acme Shop Support", "support@acme-shop.com"),),
    )


def agent_reply() -> bytes:
    """The company's answer as Outlook keeps it in Sent Items: no transport headers (it never came
    in over SMTP), Message-ID and threading in MAPI properties, an Exchange sender whose address is an
    X.500 DN with the SMTP address beside it, 8-bit strings in Windows-1252 and an HTML-only body."""
    return message(
        {
            0x001A: "IPM.Note",
            0x0037: "RE: Charged twice for order 48213",
            0x0C1A: "Marco Bellini",
            0x0C1F: "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=MARCO.BELLINI",
            0x5D01: "marco.bellini@acme-shop.com",
            0x0E04: "Dana Whitfield",
            0x1035: "<AM0PR01MB4821.eurprd01.prod.outlook.com@acme-shop.com>",
            0x1042: "<CAF3d9x-48213-dana@mail.example.net>",
            0x1039: "<CAF3d9x-48213-dana@mail.example.net>",
            0x1013: AGENT_HTML.encode("cp1252"),
        },
        fixed={
            0x0039: (SYSTIME, filetime(datetime(2024, 3, 4, 11, 5, 2, tzinfo=UTC))),
            0x3FDE: (LONG, 1252),
        },
        recipients=((1, "Dana Whitfield", "dana.whitfield@example.net"),),
        eight_bit=True,
    )


def contact_card() -> bytes:
    """Not an e-mail: an Outlook contact saved as .msg."""
    return message({0x001A: "IPM.Contact", 0x0037: "Dana Whitfield", 0x3001: "Dana Whitfield"})


FILES = {
    "outlook_customer.msg": customer_message,
    "outlook_agent_reply.msg": agent_reply,
    "outlook_contact.msg": contact_card,
}


if __name__ == "__main__":
    for name, build in FILES.items():
        (HERE / name).write_bytes(build())
        print(f"wrote {HERE / name}")
