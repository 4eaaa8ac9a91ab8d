"""The official OpenAI Python SDK against GaiaRouter, with every provider played by mock-upstream.

Run through tests/sdk/run.sh, which starts both servers and sets GAIA_URL and GAIA_KEY. mock-upstream
answers "echo: <last user message>" (or a get_weather call when tools are declared), with prompt tokens =
words in the messages + 3 and completion tokens = words in the answer, so every round trip through the
gateway's conversions can be checked exactly.
"""

import json
import os

import openai
import pytest
from openai import OpenAI

MODELS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-2.5-flash",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
]
PROMPT = "Say hello to the gateway in five words"
EXPECTED_TEXT = f"echo: {PROMPT}"
PROMPT_TOKENS = len(PROMPT.split()) + 3
COMPLETION_TOKENS = len(EXPECTED_TEXT.split())
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def client() -> OpenAI:
    return OpenAI(
        base_url=os.environ["GAIA_URL"] + "/v1",
        api_key=os.environ["GAIA_KEY"],
        max_retries=0,
        timeout=30,
    )


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("model", MODELS)
def test_a_plain_completion_echoes_the_prompt_with_the_mocks_usage(client, model):
    reply = client.chat.completions.create(model=model, messages=user(PROMPT))

    assert reply.object == "chat.completion"
    assert reply.model == model
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == EXPECTED_TEXT
    assert choice.finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == PROMPT_TOKENS
    assert reply.usage.completion_tokens == COMPLETION_TOKENS
    assert reply.usage.total_tokens == PROMPT_TOKENS + COMPLETION_TOKENS


@pytest.mark.parametrize("model", MODELS)
def test_streamed_deltas_join_to_the_same_text_without_usage_unless_asked(client, model):
    stream = client.chat.completions.create(model=model, messages=user(PROMPT), stream=True)
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == EXPECTED_TEXT
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert all(c.usage is None for c in chunks), "usage was sent although the client did not ask for it"
    assert {c.id for c in chunks} == {chunks[0].id}, "every chunk carries the same id"


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_with_include_usage_ends_with_a_usage_chunk_without_choices(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=user(PROMPT),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == EXPECTED_TEXT
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == PROMPT_TOKENS
    assert last.usage.completion_tokens == COMPLETION_TOKENS
    assert last.usage.total_tokens == PROMPT_TOKENS + COMPLETION_TOKENS


@pytest.mark.parametrize("model", MODELS)
def test_a_tool_call_comes_back_as_an_openai_tool_call(client, model):
    reply = client.chat.completions.create(
        model=model, messages=user("What is the weather in Paris?"), tools=[WEATHER_TOOL]
    )

    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].type == "function"
    assert calls[0].id
    assert calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_call_deltas_accumulate_into_the_same_call(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=user("What is the weather in Paris?"),
        tools=[WEATHER_TOOL],
        stream=True,
    )

    calls: dict[int, dict] = {}
    finishes = []
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        if choice.finish_reason:
            finishes.append(choice.finish_reason)
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            if delta.id:
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] += delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments

    assert finishes == ["tool_calls"]
    assert list(calls) == [0]
    assert calls[0]["id"]
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}


def test_the_model_list_contains_a_model_of_every_provider(client):
    ids = {m.id for m in client.models.list()}

    assert set(MODELS) <= ids, f"missing: {set(MODELS) - ids}"


def test_an_unknown_model_raises_not_found(client):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="openai/no-such-model", messages=user(PROMPT))


def test_a_wrong_key_raises_authentication_error():
    stranger = OpenAI(
        base_url=os.environ["GAIA_URL"] + "/v1",
        api_key="gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        max_retries=0,
        timeout=30,
    )

    with pytest.raises(openai.AuthenticationError):
        stranger.chat.completions.create(model=MODELS[0], messages=user(PROMPT))


# --- tenancy through the SDK: a fresh key works, a revoked one is an AuthenticationError, a limit a RateLimitError


def admin(method: str, path: str, body: dict | None = None) -> dict:
    """Calls GaiaRouter's management API with the admin key (plain HTTP, no SDK)."""
    import urllib.request

    request = urllib.request.Request(
        os.environ["GAIA_URL"] + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + os.environ["GAIA_KEY"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def sdk(key: str) -> OpenAI:
    return OpenAI(base_url=os.environ["GAIA_URL"] + "/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def organization() -> str:
    import uuid

    return admin("POST", "/v1/organizations", {"name": "sdk-" + uuid.uuid4().hex[:8]})["id"]


def test_a_freshly_created_key_works_and_a_revoked_one_raises_authentication_error(organization):
    created = admin("POST", "/v1/api-keys", {"organization_id": organization, "name": "sdk"})
    client = sdk(created["key"])
    reply = client.chat.completions.create(model=MODELS[0], messages=user(PROMPT))
    assert reply.choices[0].message.content == EXPECTED_TEXT

    admin("DELETE", f"/v1/api-keys/{created['id']}")
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=MODELS[0], messages=user(PROMPT))


def test_a_key_over_its_request_limit_raises_rate_limit_error(organization):
    created = admin(
        "POST", "/v1/api-keys", {"organization_id": organization, "monthly_requests_limit": 2}
    )
    client = sdk(created["key"])
    for _ in range(2):
        client.chat.completions.create(model=MODELS[1], messages=user(PROMPT))
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=MODELS[1], messages=user(PROMPT))
    assert raised.value.code == "organization_limit_error"
