"""Webhooks cannot reach inside: the URL rule, checked against the resolved addresses."""

import ipaddress
import socket

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from moderation import webhook_urls
from moderation.models import Webhook
from moderation.services import records
from tests.factories import AdminFactory

PUBLIC = "93.184.215.14"  # an address on the public internet (resolved, never connected to here)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://[::1]:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://224.0.0.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://localhost/hook",  # a name that resolves to loopback
        "ftp://example.org/hook",
        f"http://{PUBLIC}:99999/hook",
        f"http://{PUBLIC}:0/hook",
        f"http://user:pass@{PUBLIC}/hook",
        "http:///no-host",
    ],
)
def test_a_url_that_reaches_inside_or_is_no_web_url_is_refused(url):
    with pytest.raises(webhook_urls.RefusedByPolicy, match="refused by policy"):
        webhook_urls.resolve(url)


def test_a_public_address_passes_and_is_what_the_delivery_connects_to():
    target = webhook_urls.resolve(f"https://{PUBLIC}/hooks/toxiscope?site=1")
    assert (target.scheme, target.port, target.path, target.address) == (
        "https",
        443,
        "/hooks/toxiscope?site=1",
        PUBLIC,
    )


def test_an_allowed_private_network_lets_its_receivers_through(settings):
    settings.TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert webhook_urls.resolve("http://10.20.3.4:8080/hook").address == "10.20.3.4"
    with pytest.raises(webhook_urls.RefusedByPolicy):
        webhook_urls.resolve("http://10.21.0.1/hook")


def test_a_name_is_refused_if_any_address_it_resolves_to_is_inside(monkeypatch):
    def resolver(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in (PUBLIC, "127.0.0.1")]

    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", resolver)
    with pytest.raises(webhook_urls.RefusedByPolicy, match="hooks.example.com is a loopback"):
        webhook_urls.resolve("https://hooks.example.com/hook")


@pytest.mark.django_db
def test_registration_refuses_it_with_a_field_message():
    hook = Webhook(name="scan", url="http://127.0.0.1:6379/")
    with pytest.raises(ValidationError) as refused:
        records.record_save(record=hook, changed_by=AdminFactory())
    assert "refused by policy" in refused.value.message_dict["url"][0]
    assert not Webhook.objects.exists()


addresses = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda address: f"[{address}]"))


@hypothesis_settings(max_examples=300, derandomize=True)
@given(
    scheme=st.sampled_from(["http", "https", "ftp", "file", "gopher", "HTTP", ""]),
    host=addresses,
    port=st.one_of(st.none(), st.integers(-5, 70000)),
    path=st.text(st.characters(codec="ascii", exclude_characters="#"), max_size=20),
)
def test_fuzz_only_public_addresses_on_valid_ports_pass(scheme, host, port, path):
    """Against the rule itself: whatever the URL, it passes exactly when its scheme is http(s),
    its port valid and its one address public; and resolve() never raises anything else."""
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/{path}"
    address = ipaddress.ip_address(host.strip("[]"))
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    expected = (
        scheme.lower() in ("http", "https")
        and (port is None or 1 <= port <= 65535)
        and address.is_global
        and not address.is_multicast
    )
    try:
        webhook_urls.resolve(url)
        passed = True
    except webhook_urls.RefusedByPolicy:
        passed = False
    assert passed == expected, url


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_registration_resolves_the_host_before_any_transaction_opens(monkeypatch):
    """DNS can take seconds: the service's check must not hold the database's write lock."""
    from django.db import connection

    seen = []
    resolve = socket.getaddrinfo

    def recording(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", recording)
    records.record_save(record=Webhook(name="site", url=f"https://{PUBLIC}/hook"), changed_by=AdminFactory())
    assert seen == [False] and Webhook.objects.filter(name="site").exists()
