"""Integration: the scripted OpenAI-compatible server itself, over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_server import ScriptedServer, server_process

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def sse_text(raw: bytes) -> tuple[str, list[dict[str, Any]]]:
    events = [line[6:] for line in raw.decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    payloads = [json.loads(e) for e in events[:-1]]
    text = "".join(c["delta"].get("content") or "" for p in payloads for c in p["choices"])
    return text, payloads


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


def test_streams_sse_chunks_and_a_usage_chunk_when_asked(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"text": "hello world", "chunk_size": 3})
    status, headers, raw = post(
        scripted_server.url, chat("hi", stream=True, stream_options={"include_usage": True})
    )
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    text, payloads = sse_text(raw)
    assert text == "hello world"
    assert [c["delta"]["content"] for p in payloads[:4] for c in p["choices"]] == [
        "hel",
        "lo ",
        "wor",
        "ld",
    ]
    assert payloads[-1]["choices"] == [] and payloads[-1]["usage"]["completion_tokens"] == 2


def test_no_usage_chunk_unless_asked(scripted_server: ScriptedServer) -> None:
    scripted_server.push("hello")
    _, _, raw = post(scripted_server.url, chat("hi", stream=True))
    _, payloads = sse_text(raw)
    assert all("usage" not in p for p in payloads)


def test_plain_json_reply_and_recorded_request(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"text": "fine", "usage": {"prompt_tokens": 9, "completion_tokens": 1}})
    status, _, raw = post(scripted_server.url, chat("how are you?"))
    reply = json.loads(raw)
    assert status == 200 and reply["choices"][0]["message"]["content"] == "fine"
    assert reply["usage"] == {"prompt_tokens": 9, "completion_tokens": 1}
    assert scripted_server.chat_requests[0].messages == [
        {"role": "user", "content": "how are you?"}
    ]


def test_stop_sequences_cut_the_reply(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"chunks": ["```py\nx=1\n``", "`\nmore"]})
    _, _, raw = post(scripted_server.url, chat("go", stream=True, stop=["```\n"]))
    assert sse_text(raw)[0] == "```py\nx=1\n"


def test_error_replies_have_openai_bodies_and_retry_after(scripted_server: ScriptedServer) -> None:
    scripted_server.push({"status": 429, "retry_after": 7, "message": "slow"})
    status, headers, raw = post(scripted_server.url, chat("x"))
    assert status == 429 and headers["Retry-After"] == "7"
    assert json.loads(raw)["error"]["message"] == "slow"


def test_rules_match_the_last_user_message_then_queue_then_default() -> None:
    script = {
        "rules": [
            {"match": r"(?i)weather", "reply": "sunny"},
            {"match": "once", "reply": "first time", "times": 1},
        ],
        "replies": ["queued"],
        "default": "fallback",
    }
    with ScriptedServer(script) as server:
        answers = [
            json.loads(post(server.url, chat(q))[2])["choices"][0]["message"]["content"]
            for q in ["What's the WEATHER?", "once", "once", "anything", "weather again"]
        ]
    assert answers == ["sunny", "first time", "queued", "fallback", "sunny"]


def test_running_out_of_script_is_a_loud_500(scripted_server: ScriptedServer) -> None:
    status, _, raw = post(scripted_server.url, chat("x"))
    assert status == 500 and "no reply left" in json.loads(raw)["error"]["message"]


def test_models_endpoint(scripted_server: ScriptedServer) -> None:
    with urllib.request.urlopen(scripted_server.url + "/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["id"] == "scripted"


def test_runs_as_a_process_printing_its_url_first(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with server_process(["from the process"], tmp_path, log=log) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        _, _, raw = post(url, chat("ping", stream=True))
        assert sse_text(raw)[0] == "from the process"
        logged = [json.loads(line) for line in log.read_text().splitlines()]
        assert logged[0]["body"]["messages"][0]["content"] == "ping"
