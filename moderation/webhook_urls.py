"""Which URLs a webhook may reach: http(s), a valid port, and an address on the public internet
unless it lies in a network the admin let through (TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS). Checked
when a webhook is saved and again at every delivery, against the addresses the name resolves
to; the delivery then connects to the address that was checked, so a DNS answer that changes
in between (rebinding) reaches nothing it was not allowed to."""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

REFUSED = "refused by policy"


class RefusedByPolicy(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked address to connect to


def _refuse(reason: str) -> NoReturn:
    raise RefusedByPolicy(f"{REFUSED}: {reason}")


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if any(address in ipaddress.ip_network(network) for network in settings.TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS):
        return True
    return address.is_global and not address.is_multicast


def resolve(url: str) -> Target:
    """The URL's target, every address it resolves to checked; RefusedByPolicy says why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        _refuse("the port is not a number from 1 to 65535")
    if parts.scheme not in ("http", "https"):
        _refuse("only http and https URLs")
    if not parts.hostname:
        _refuse("the URL names no host")
    if parts.username is not None or parts.password is not None:
        _refuse("credentials in the URL; the signature authenticates the sender")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if not 1 <= port <= 65535:
        _refuse("the port is not a number from 1 to 65535")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        _refuse(f"{parts.hostname} does not resolve")
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not _allowed(address):
            _refuse(f"{parts.hostname} is a loopback, private, link-local or multicast address")
        addresses.append(address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def validate_webhook_url(url: str) -> None:
    """The model field's validator: a webhook is refused at registration for what a delivery
    would refuse."""
    try:
        resolve(url)
    except RefusedByPolicy as exc:
        raise ValidationError(str(exc)) from None


class _Pinned:
    """Connects to the checked address, while Host, SNI and the certificate check use the name."""

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        if isinstance(self, http.client.HTTPSConnection):
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to `target` that follows no redirect (http.client never does)."""
    if target.scheme == "https":
        made = _PinnedHTTPS(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        made = _PinnedHTTP(target.host, target.port, timeout=timeout)
    made._address = target.address
    return made
