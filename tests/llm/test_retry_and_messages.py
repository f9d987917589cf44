"""Unit tests: backoff arithmetic, and messages converted to the OpenAI format."""

from __future__ import annotations

import base64

from autopilot.config import LLMConfig
from autopilot.llm._messages import NO_VISION_NOTE, to_openai
from autopilot.llm._retry import Backoff
from autopilot.llm.base import ImagePart, Message


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    backoff = Backoff(max_retries=5, base_delay_s=1.0, max_delay_s=5.0)
    assert backoff.delay_s(0, rand=lambda: 1.0) == 1.0
    assert backoff.delay_s(1, rand=lambda: 1.0) == 2.0
    assert backoff.delay_s(2, rand=lambda: 0.0) == 2.0  # jitter floor is half the ceiling
    assert backoff.delay_s(4, rand=lambda: 1.0) == 5.0  # capped


def test_backoff_gives_up_when_retries_are_spent() -> None:
    backoff = Backoff(max_retries=2)
    assert backoff.delay_s(1) is not None
    assert backoff.delay_s(2) is None
    assert Backoff(max_retries=0).delay_s(0) is None


def test_retry_after_wins_unless_it_is_longer_than_the_cap() -> None:
    backoff = Backoff(max_retries=3, base_delay_s=1.0, max_delay_s=10.0)
    assert backoff.delay_s(0, retry_after_s=7.0) == 7.0
    assert backoff.delay_s(0, retry_after_s=0.0) == 0.0
    assert backoff.delay_s(0, retry_after_s=60.0) is None


def test_backoff_from_config() -> None:
    config = LLMConfig(max_retries=4, retry_base_delay_s=0.5, retry_max_delay_s=8.0)
    assert Backoff.from_config(config) == Backoff(4, 0.5, 8.0)


def test_plain_messages_pass_through() -> None:
    messages = [Message("system", "be brief"), Message("user", "hi")]
    assert to_openai(messages, vision=True) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]


def test_images_become_data_url_parts_for_vision_models() -> None:
    png = b"\x89PNG fake"
    message = Message("user", "what is this?", images=(ImagePart(png, note="plot.png"),))
    [converted] = to_openai([message], vision=True)
    assert converted["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "text", "text": "plot.png"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
        },
    ]


def test_images_become_a_note_for_models_without_vision() -> None:
    message = Message("user", "look", images=(ImagePart(b"x"), ImagePart(b"y", note="chart")))
    [converted] = to_openai([message], vision=False)
    assert converted == {
        "role": "user",
        "content": f"look\n{NO_VISION_NOTE}\n{NO_VISION_NOTE} chart",
    }
    assert NO_VISION_NOTE == "[image omitted: model has no vision]"
