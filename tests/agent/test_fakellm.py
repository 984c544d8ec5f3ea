"""The fake LLM server against the real official SDKs: OpenAI chat completions, Anthropic
messages and google-genai, non-streaming and streaming, text and tool calls, errors and
the SDKs' own retries."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.agent.fakellm import FakeLLM, Seen, Step, ToolCallStep

KINDS = ["openai", "anthropic", "gemini"]
KEY = "test-key"
MODELS = {"openai": "gpt-test", "anthropic": "claude-test", "gemini": "gemini-test"}
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}
ARGS_1 = {"city": "Paris", "days": 2}
ARGS_2 = {"q": 'café "au lait"\n', "tags": ["a", "b"], "nested": {"n": None, "f": 1.5}}
FAST_RETRY = {"retry-after-ms": "10"}  # retry-after "0" falls back to the SDKs' ~0.5 s backoff


def two_calls(kind: str) -> list[ToolCallStep]:
    # Gemini sends an id only when it has one: give the first call one, not the second.
    first_id = "fc-given" if kind == "gemini" else None
    return [
        ToolCallStep("get_weather", ARGS_1, id=first_id),
        ToolCallStep("search_docs", ARGS_2),
    ]


def expected_ids(kind: str) -> list[str | None]:
    return {
        "openai": ["call_1", "call_2"],
        "anthropic": ["toolu_1", "toolu_2"],
        "gemini": ["fc-given", None],
    }[kind]


# --- one call through each real SDK, normalised ------------------------------------------


@dataclass
class Result:
    text: str
    calls: list[tuple[str | None, str, dict[str, Any]]]  # (id, name, parsed arguments)
    input_tokens: int | None
    output_tokens: int | None
    finish: str
    deltas: int = 0  # text deltas received (streaming)
    arg_deltas: list[int] = field(default_factory=list)  # argument fragments per call


def openai_client(llm: FakeLLM, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url("openai"), api_key=KEY, **kwargs)


def anthropic_client(llm: FakeLLM, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=llm.base_url("anthropic"), api_key=KEY, **kwargs)


def gemini_client(llm: FakeLLM, **kwargs: Any) -> genai.Client:
    options = genai_types.HttpOptions(base_url=llm.base_url("gemini"), **kwargs)
    return genai.Client(api_key=KEY, http_options=options)


def gemini_retry(attempts: int = 3) -> genai_types.HttpRetryOptions:
    return genai_types.HttpRetryOptions(
        attempts=attempts,
        http_status_codes=[408, 429, 500, 502, 503, 504],
        initial_delay=0.01,
        max_delay=0.05,
        jitter=0,
    )


def ask_openai(llm: FakeLLM, stream: bool, **client_args: Any) -> Result:
    client = openai_client(llm, **client_args)
    args: dict[str, Any] = {
        "model": MODELS["openai"],
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": WEATHER}],
    }
    if not stream:
        response = client.chat.completions.create(**args)
        choice = response.choices[0]
        assert response.usage is not None
        calls = [
            (call.id, call.function.name, json.loads(call.function.arguments))
            for call in choice.message.tool_calls or []
            if call.type == "function"
        ]
        return Result(
            choice.message.content or "",
            calls,
            response.usage.prompt_tokens,
            response.usage.completion_tokens,
            choice.finish_reason,
        )
    text, deltas, finish, usage = "", 0, "", None
    building: dict[int, dict[str, Any]] = {}
    chunks = client.chat.completions.create(
        **args, stream=True, stream_options={"include_usage": True}
    )
    for chunk in chunks:
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        if choice.delta.content:
            text += choice.delta.content
            deltas += 1
        for delta in choice.delta.tool_calls or []:
            call = building.setdefault(delta.index, {"id": None, "name": "", "args": "", "n": 0})
            if delta.id:
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] += delta.function.name
            if delta.function and delta.function.arguments:
                call["args"] += delta.function.arguments
                call["n"] += 1
        if choice.finish_reason:
            finish = choice.finish_reason
    assert usage is not None, "no usage chunk although include_usage was asked"
    calls = [(c["id"], c["name"], json.loads(c["args"])) for _, c in sorted(building.items())]
    return Result(
        text,
        calls,
        usage.prompt_tokens,
        usage.completion_tokens,
        finish,
        deltas,
        [c["n"] for _, c in sorted(building.items())],
    )


def ask_anthropic(llm: FakeLLM, stream: bool, **client_args: Any) -> Result:
    client = anthropic_client(llm, **client_args)
    args: dict[str, Any] = {
        "model": MODELS["anthropic"],
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {
                "name": WEATHER["name"],
                "description": WEATHER["description"],
                "input_schema": WEATHER["parameters"],
            }
        ],
    }
    deltas, arg_deltas = 0, []
    if stream:
        with client.messages.stream(**args) as events:
            for event in events:
                if event.type == "content_block_start" and event.content_block.type == "tool_use":
                    arg_deltas.append(0)
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    deltas += 1
                if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                    arg_deltas[-1] += bool(event.delta.partial_json)
            message = events.get_final_message()
    else:
        message = client.messages.create(**args)
    text = "".join(block.text for block in message.content if block.type == "text")
    calls = [
        (block.id, block.name, dict(block.input))
        for block in message.content
        if block.type == "tool_use"
    ]
    return Result(
        text,
        calls,
        message.usage.input_tokens,
        message.usage.output_tokens,
        message.stop_reason or "",
        deltas,
        arg_deltas,
    )


def ask_gemini(llm: FakeLLM, stream: bool, **http_options: Any) -> Result:
    client = gemini_client(llm, **http_options)
    config = genai_types.GenerateContentConfig(
        system_instruction="Be brief.",
        tools=[
            genai_types.Tool(
                function_declarations=[
                    genai_types.FunctionDeclaration(
                        name=WEATHER["name"],
                        description=WEATHER["description"],
                        parameters_json_schema=WEATHER["parameters"],
                    )
                ]
            )
        ],
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
    )
    args: dict[str, Any] = {"model": MODELS["gemini"], "contents": "hi", "config": config}
    responses = (
        list(client.models.generate_content_stream(**args))
        if stream
        else [client.models.generate_content(**args)]
    )
    text, deltas, calls, finish = "", 0, [], ""
    for response in responses:
        assert response.candidates
        candidate = response.candidates[0]
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.text:
                text += part.text
                deltas += 1
            if part.function_call:
                call = part.function_call
                calls.append((call.id, call.name or "", dict(call.args or {})))
        if candidate.finish_reason:
            finish = candidate.finish_reason.value
    usage = responses[-1].usage_metadata
    assert usage is not None
    return Result(
        text,
        calls,
        usage.prompt_token_count,
        usage.candidates_token_count,
        finish,
        deltas if stream else 0,
    )


ASK = {"openai": ask_openai, "anthropic": ask_anthropic, "gemini": ask_gemini}
FINISH_TEXT = {"openai": "stop", "anthropic": "end_turn", "gemini": "STOP"}
FINISH_TOOLS = {"openai": "tool_calls", "anthropic": "tool_use", "gemini": "STOP"}


# --- the matrix: provider x streaming x (text, tool calls) ---------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_text_answer(kind: str, stream: bool) -> None:
    text = "The weather in Paris is mild, with light rain."
    with FakeLLM([Step(text=text, input_tokens=31, output_tokens=12)]) as llm:
        result = ASK[kind](llm, stream)
        assert llm.remaining == 0
    assert result.text == text
    assert result.calls == []
    assert (result.input_tokens, result.output_tokens) == (31, 12)
    assert result.finish == FINISH_TEXT[kind]
    if stream:
        assert result.deltas >= 3  # the text really came in pieces
    [seen] = llm.requests
    assert (seen.kind, seen.method, seen.stream, seen.model) == (kind, "POST", stream, MODELS[kind])


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_two_tool_calls(kind: str, stream: bool) -> None:
    step = Step(text="Let me look.", tool_calls=two_calls(kind), input_tokens=40, output_tokens=9)
    with FakeLLM([step]) as llm:
        result = ASK[kind](llm, stream)
    assert result.text == "Let me look."
    assert result.calls == [
        (expected_ids(kind)[0], "get_weather", ARGS_1),
        (expected_ids(kind)[1], "search_docs", ARGS_2),
    ]
    assert (result.input_tokens, result.output_tokens) == (40, 9)
    assert result.finish == FINISH_TOOLS[kind]
    if stream and kind != "gemini":  # Gemini streams each functionCall whole, like the real API
        assert all(n >= 2 for n in result.arg_deltas), result.arg_deltas


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_tool_calls_without_text(kind: str, stream: bool) -> None:
    with FakeLLM([Step(tool_calls=[ToolCallStep("get_weather", {"city": "Oslo"})])]) as llm:
        result = ASK[kind](llm, stream)
    assert result.text == ""
    assert [(name, args) for _, name, args in result.calls] == [("get_weather", {"city": "Oslo"})]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])  # Gemini: no id unless given
def test_ids_count_up_across_turns(kind: str) -> None:
    calls = [ToolCallStep("a", {}), ToolCallStep("b", {}, id="mine")]
    with FakeLLM([Step(tool_calls=calls), Step(tool_calls=calls)]) as llm:
        first = ASK[kind](llm, False)
        second = ASK[kind](llm, True)
    prefix = "call_" if kind == "openai" else "toolu_"
    assert [c[0] for c in first.calls + second.calls] == [
        f"{prefix}1",
        "mine",
        f"{prefix}2",
        "mine",
    ]


# --- what the server recorded ---------------------------------------------------------------


def test_recorded_openai_request() -> None:
    with FakeLLM([Step(text="ok"), Step(text="ok")]) as llm:
        ask_openai(llm, stream=False)
        ask_openai(llm, stream=True)
    plain, streamed = llm.requests
    assert plain.path == "/v1/chat/completions"
    assert plain.headers["authorization"] == f"Bearer {KEY}"
    assert plain.body["model"] == MODELS["openai"]
    assert plain.body["tools"] == [{"type": "function", "function": WEATHER}]
    assert plain.body["messages"][-1] == {"role": "user", "content": "hi"}
    assert "stream" not in plain.body
    assert streamed.stream and streamed.body["stream_options"] == {"include_usage": True}


def test_recorded_anthropic_request() -> None:
    with FakeLLM([Step(text="ok")]) as llm:
        ask_anthropic(llm, stream=True)
    [seen] = llm.requests
    assert seen.path == "/v1/messages"
    # anthropic 2.x sends the key as a bearer token; older ones as x-api-key
    assert f"Bearer {KEY}" == seen.headers.get("authorization") or seen.headers["x-api-key"] == KEY
    assert "anthropic-version" in seen.headers
    assert seen.body["model"] == MODELS["anthropic"]
    assert seen.body["system"] == "Be brief."
    assert seen.body["tools"][0]["name"] == "get_weather"
    assert seen.body["tools"][0]["input_schema"] == WEATHER["parameters"]
    assert seen.stream and seen.body["stream"] is True


def test_recorded_gemini_request() -> None:
    with FakeLLM([Step(text="ok"), Step(text="ok")]) as llm:
        ask_gemini(llm, stream=False)
        ask_gemini(llm, stream=True, api_version="v1beta")
    plain, streamed = llm.requests
    # google-genai 3.x defaults to api_version "v1"; the fake takes v1, v1beta and v1alpha.
    assert plain.path == f"/v1/models/{MODELS['gemini']}:generateContent"
    assert plain.query == {}
    assert streamed.path == f"/v1beta/models/{MODELS['gemini']}:streamGenerateContent"
    assert streamed.query == {"alt": "sse"}
    assert plain.headers["x-goog-api-key"] == KEY
    assert plain.body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert plain.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    [declaration] = plain.body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "get_weather"
    schema = declaration.get("parametersJsonSchema", declaration.get("parameters_json_schema"))
    assert schema == WEATHER["parameters"]
    assert (plain.stream, streamed.stream) == (False, True)


# --- errors and the SDKs' own retries -------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_429(kind: str, stream: bool) -> None:
    script = [
        Step(status=429, headers=FAST_RETRY),
        Step(status=503, headers=FAST_RETRY),
        Step(text="finally"),
    ]
    with FakeLLM(script) as llm:
        if kind == "gemini":
            result = ask_gemini(llm, stream, retry_options=gemini_retry(attempts=3))
        else:
            result = ASK[kind](llm, stream, max_retries=2)
        assert llm.remaining == 0
    assert result.text == "finally"
    assert len(llm.requests) == 3
    assert len({json.dumps(seen.body, sort_keys=True) for seen in llm.requests}) == 1


def test_openai_error_shape_without_retries() -> None:
    llm = FakeLLM([Step(status=429, headers={"retry-after": "7"})])
    with llm, pytest.raises(openai.RateLimitError) as caught:
        ask_openai(llm, stream=False, max_retries=0)
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.code == "rate_limit_exceeded"
    assert "scripted HTTP 429" in error.message


def test_anthropic_error_shape_without_retries() -> None:
    with FakeLLM([Step(status=500)]) as llm, pytest.raises(anthropic.InternalServerError) as caught:
        ask_anthropic(llm, stream=True, max_retries=0)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "api_error"


def test_gemini_error_shape_without_retries() -> None:
    with FakeLLM([Step(status=429)]) as llm, pytest.raises(genai_errors.ClientError) as caught:
        ask_gemini(llm, stream=False)  # no retry_options: google-genai does not retry
    assert (caught.value.code, caught.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert len(llm.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_script_exhausted_is_a_clear_500_not_retried(kind: str) -> None:
    with FakeLLM([Step(text="only one")]) as llm:
        ASK[kind](llm, False)
        with pytest.raises(Exception) as caught:
            ASK[kind](llm, False)
    assert "script ran out" in str(caught.value)
    assert len(llm.requests) == 2  # x-should-retry: false; google-genai does not retry anyway


def test_delay_makes_the_client_time_out() -> None:
    started = time.monotonic()
    with FakeLLM([Step(text="too late", delay=60)]) as llm, pytest.raises(openai.APITimeoutError):
        ask_openai(llm, stream=False, max_retries=0, timeout=0.2)
    assert time.monotonic() - started < 10  # __exit__ did not wait for the sleeping handler
    assert llm.remaining == 0


# --- a callable script: a whole tool round trip ---------------------------------------------


def test_callable_script_sees_the_tool_results() -> None:
    def model(seen: Seen) -> Step:
        last = seen.body["messages"][-1]
        if last["role"] == "tool":
            return Step(text=f"The tool said {last['content']} (for {last['tool_call_id']}).")
        return Step(tool_calls=[ToolCallStep("get_weather", {"city": "Rome"})])

    with FakeLLM(model) as llm:
        client = openai_client(llm)
        messages: list[Any] = [{"role": "user", "content": "Weather in Rome?"}]
        first = client.chat.completions.create(model="gpt-test", messages=messages)
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        messages.append(first.choices[0].message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
        second = client.chat.completions.create(model="gpt-test", messages=messages)
        assert llm.remaining == 0
    assert second.choices[0].message.content == "The tool said sunny (for call_1)."
    assert [len(seen.body["messages"]) for seen in llm.requests] == [1, 3]


def test_callable_failure_is_reported() -> None:
    def broken(seen: Seen) -> Step:
        raise RuntimeError("no idea")

    llm = FakeLLM(broken)
    with llm, pytest.raises(anthropic.InternalServerError, match="RuntimeError: no idea"):
        ask_anthropic(llm, stream=False)
    assert len(llm.requests) == 1


# --- raw wire details -----------------------------------------------------------------------


def test_anthropic_raw_event_sequence() -> None:
    step = Step(text="ab cd ef", tool_calls=[ToolCallStep("get_weather", ARGS_1)])
    with FakeLLM([step]) as llm:
        client = anthropic_client(llm)
        events = client.messages.create(
            model="claude-test",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
        kinds = [event.type for event in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2


def test_raw_http_and_unknown_paths() -> None:
    with FakeLLM([Step(text="hi"), Step(text="there")]) as llm:
        with httpx.Client(base_url=llm.url) as client:
            missing = client.post("/v2/nothing", json={})
            plain = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
            streamed = client.post(
                "/v1beta/models/g:streamGenerateContent", params={"alt": "sse"}, json={}
            )
        assert llm.remaining == 0
    assert missing.status_code == 404
    assert plain.json()["choices"][0]["message"]["content"] == "hi"
    assert plain.headers["content-length"]
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert streamed.text.startswith("data: {") and streamed.text.endswith("}\n\n")
    assert len(llm.requests) == 2  # unknown paths are not recorded
    with pytest.raises(ValueError):
        llm.base_url("mistral")


def test_async_clients_stream() -> None:
    async def run(llm: FakeLLM) -> list[str]:
        oai = openai.AsyncOpenAI(base_url=llm.base_url("openai"), api_key=KEY)
        text = ""
        async for chunk in await oai.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            text += (chunk.choices[0].delta.content or "") if chunk.choices else ""
        ant = anthropic.AsyncAnthropic(base_url=llm.base_url("anthropic"), api_key=KEY)
        async with ant.messages.stream(
            model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            message = await stream.get_final_message()
        gem = gemini_client(llm)
        parts = [
            chunk.text or ""
            async for chunk in await gem.aio.models.generate_content_stream(
                model="gemini-test", contents="hi"
            )
        ]
        return [text, message.content[0].text, "".join(parts)]  # type: ignore[union-attr]

    with FakeLLM([Step(text="one two"), Step(text="three four"), Step(text="five six")]) as llm:
        assert asyncio.run(run(llm)) == ["one two", "three four", "five six"]


STREAM_ROUTES = {
    "openai": ("/v1/chat/completions", {"model": "m", "messages": [], "stream": True}),
    "anthropic": ("/v1/messages", {"model": "m", "messages": [], "stream": True}),
    "gemini": ("/v1beta/models/g:streamGenerateContent", {}),
}
FINISH_MARKERS = {
    "openai": ('"finish_reason":"stop"', "[DONE]"),
    "anthropic": ("message_delta", "message_stop"),
    "gemini": ("finishReason",),
}


@pytest.mark.parametrize("kind", KINDS)
def test_broken_streams_on_the_wire(kind: str) -> None:
    path, body = STREAM_ROUTES[kind]
    script = [Step(text="hello there", broken=b) for b in ("", "silent", "truncated", "dropped")]
    with FakeLLM(script) as llm, httpx.Client(base_url=llm.url) as client:
        whole, silent, truncated = (client.post(path, json=body) for _ in range(3))
        with pytest.raises(httpx.RemoteProtocolError):  # closed in the middle of the body
            client.post(path, json=body)
    assert all(r.status_code == 200 for r in (whole, silent, truncated))
    assert silent.headers["content-type"].startswith("text/event-stream") and silent.text == ""
    assert "ere" in truncated.text and "ere" in whole.text  # the last piece of the text
    for marker in FINISH_MARKERS[kind]:
        assert marker in whole.text and marker not in truncated.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_silent_whole_answer_has_nothing_in_it(kind: str) -> None:
    path, body = STREAM_ROUTES[kind]
    path = path.replace("streamGenerateContent", "generateContent")
    with FakeLLM([Step(text="hello", broken="silent")]) as llm:
        answer = httpx.post(llm.url + path, json={**body, "stream": False}).json()
    assert "hello" not in json.dumps(answer)
    assert answer.get("choices", answer.get("content", answer.get("candidates"))) in ([], None)
