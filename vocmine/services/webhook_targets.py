"""Where alert webhooks may go: never into the network the server sits in, unless an operator says so.

A webhook makes the server send requests to a URL an API user chose. Unchecked, that is server-side
request forgery: a rule pointed at ``http://169.254.169.254/…`` (cloud metadata), ``http://localhost:22``
or a private address reaches services no client could, and the delivery record tells the user what
answered. So a target is checked when a rule is created and again before every delivery (a name can
resolve elsewhere later):

* the scheme is http or https and the URL names a host;
* if ``VOCMINE_WEBHOOK_ALLOWED_HOSTS`` lists hosts (``hooks.example.com``, or ``*.example.com`` for
  any subdomain), the host must be one of them;
* every address the host resolves to must be a public one: loopback, private, link-local, shared,
  multicast, reserved and unspecified addresses are refused unless
  ``VOCMINE_WEBHOOK_ALLOW_PRIVATE=true`` (a receiver inside your own network).

Deliveries never follow redirects (a 3xx is recorded as the receiver's answer), so a public target
cannot bounce the request inward. What remains: the name is resolved again when the request is made,
so a DNS server that answers a public address to the check and a private one a moment later (DNS
rebinding) is not stopped here; an allow-list of hosts you control closes that.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from vocmine.errors import VocmineError

Resolver = Callable[[str, int], list[str]]


class WebhookTargetError(VocmineError):
    """A webhook URL the server will not call."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@dataclass(frozen=True)
class WebhookPolicy:
    allowed_hosts: Sequence[str] = ()
    allow_private: bool = False
    resolver: Resolver = field(default=resolve, compare=False)

    def check(self, url: str) -> None:
        """Raise ``WebhookTargetError`` (with what to change) unless ``url`` may be called."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise WebhookTargetError(f"webhook_url {url!r} is not a URL: {exc}") from exc
        host = (parsed.host or "").lower().rstrip(".")
        if parsed.scheme not in ("http", "https") or not host:
            raise WebhookTargetError("webhook_url must be an http:// or https:// URL with a host")
        if self.allowed_hosts and not any(_host_matches(host, allowed) for allowed in self.allowed_hosts):
            raise WebhookTargetError(
                f"webhook host {host!r} is not in the allow-list",
                hint="use a listed host, or add it to VOCMINE_WEBHOOK_ALLOWED_HOSTS",
            )
        if self.allow_private:
            return
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise WebhookTargetError(
                f"webhook host {host!r} does not resolve", hint="check the host name of webhook_url"
            ) from exc
        inward = [a for a in addresses if not _is_public(a)]
        if inward or not addresses:
            raise WebhookTargetError(
                f"webhook host {host!r} resolves to an address that is not public ({', '.join(inward) or 'none'})",
                hint="webhooks may only call public addresses; for a receiver in your own network set "
                "VOCMINE_WEBHOOK_ALLOW_PRIVATE=true",
            )


def _host_matches(host: str, allowed: str) -> bool:
    allowed = allowed.strip().lower().rstrip(".")
    if allowed.startswith("*."):
        return host.endswith(allowed[1:])
    return host == allowed


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone id is not part of the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast
