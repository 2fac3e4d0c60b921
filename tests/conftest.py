from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from zotero_server import ZoteroLibrary, ZoteroServer  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def zotero_server():
    with ZoteroServer() as server:
        yield server


def zotero_protocol(server: ZoteroServer, **zotero_settings) -> dict:
    """A validated protocol with one Zotero source pointed at the loopback server."""
    from review import protocol

    settings = {"library_id": server.library.library_id, "api_url": server.url, **zotero_settings}
    return protocol.validate({
        "title": "Test review",
        "sources": [{"name": "team", "database": "Zotero", "zotero": settings}],
        "network": {"max_retries": 3, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05},
    })


@pytest.fixture
def api_env(zotero_server) -> dict[str, str]:
    return {"ZOTERO_API_KEY": zotero_server.library.api_key}


__all__ = ["ZoteroLibrary", "ZoteroServer", "zotero_protocol"]


def outputs_in(stage, folder):
    """A stage's outputs, each file named as the pipeline names it but in ``folder``."""
    return {name: folder / path.rsplit("/", 1)[1] for name, path in stage.OUTPUTS.items()}
