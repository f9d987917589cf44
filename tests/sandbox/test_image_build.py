"""The image builder's decisions, with a fake engine (the real offline build runs in the
session fixture on a fresh machine and in CI via ``autopilot sandbox build --offline``)."""

from __future__ import annotations

from typing import Any

import pytest
from docker.errors import APIError, ImageNotFound

from autopilot.sandbox import image as image_module
from autopilot.sandbox.image import OFFLINE_TAG, REGISTRY_BASE, build_image


class FakeImage:
    def __init__(self, tags: list[str]) -> None:
        self.tags = tags
        self.id = f"sha256:{tags[0]}"

    def tag(self, repository: str, tag: str) -> None:
        self.tags.append(f"{repository}:{tag}")


class FakeImages:
    def __init__(self, existing: set[str], pull_error: bool) -> None:
        self.existing = existing
        self.pull_error = pull_error
        self.pulled: list[str] = []

    def get(self, name: str) -> FakeImage:
        if name not in self.existing:
            raise ImageNotFound(name)
        return FakeImage([name])

    def pull(self, name: str) -> None:
        self.pulled.append(name)
        if self.pull_error:
            raise APIError("pull failed", explanation="lookup registry-1.docker.io: no such host")


class FakeClient:
    def __init__(self, existing: set[str], pull_error: bool = True) -> None:
        self.images = FakeImages(existing, pull_error)


def test_existing_image_is_not_rebuilt() -> None:
    lines: list[str] = []
    result = build_image(
        "autopilot-sandbox:latest",
        client=FakeClient({"autopilot-sandbox:latest"}),
        progress=lines.append,
    )
    assert result.method == "existing"
    assert "exists" in lines[0]


def test_failed_pull_falls_back_to_the_offline_build(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(set())
    built: list[str] = []

    def offline(client_: Any, say: Any) -> str:
        built.append("offline")
        client_.images.existing.add(OFFLINE_TAG)
        return OFFLINE_TAG

    monkeypatch.setattr(image_module, "_build_offline", offline)
    lines: list[str] = []
    result = build_image("autopilot-sandbox:latest", client=client, progress=lines.append)
    assert client.images.pulled == [REGISTRY_BASE]
    assert built == ["offline"]
    assert result.method == "offline"
    assert result.tags == (OFFLINE_TAG, "autopilot-sandbox:latest")
    assert any("building offline" in line for line in lines)


def test_offline_flag_never_touches_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(set())
    monkeypatch.setattr(
        image_module,
        "_build_offline",
        lambda c, s: c.images.existing.add(OFFLINE_TAG) or OFFLINE_TAG,
    )
    result = build_image("autopilot-sandbox:latest", client=client, offline=True, force=True)
    assert client.images.pulled == []
    assert result.method == "offline"


def test_registry_dockerfile_matches_the_offline_shape() -> None:
    dockerfile = image_module._dockerfile()
    assert dockerfile.startswith(f"FROM {REGISTRY_BASE}")
    for package in image_module.PIP_PACKAGES:
        assert package in dockerfile
    assert "useradd --uid 1000" in dockerfile
    assert "USER sandbox" in dockerfile and "WORKDIR /workspace" in dockerfile
