"""Shared fixtures: offline switches, a guard against non-loopback connections, and one
launched app with a gradio_client Client for the API tests."""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from core.settings import apply_offline_defaults

apply_offline_defaults()

FIXTURES = Path(__file__).parent / "fixtures"


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, (str, bytes)):
        return True  # AF_UNIX path
    else:
        return False
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkAccessError(AssertionError):
    """Raised when code under test opens a connection to anything but loopback."""


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkAccessError(f"non-loopback connection attempted to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkAccessError(f"non-loopback connection attempted to {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Every test runs with outgoing connections limited to loopback."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture(scope="session")
def app_url(block_network):
    """Launch the real app once for the session and return its local URL."""
    import app as app_module

    demo = app_module.build_app()
    app_module.launch(demo, prevent_thread_lock=True, server_port=None, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    """A gradio_client Client connected to the launched app."""
    from gradio_client import Client

    return Client(app_url, verbose=False)
