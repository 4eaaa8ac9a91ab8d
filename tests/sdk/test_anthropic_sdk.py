"""The official Anthropic Python SDK against GaiaRouter's Messages API, every provider played by mock-upstream.

Run through tests/sdk/run.sh, which starts both servers and sets GAIA_URL and GAIA_KEY. The SDK talks to
`POST /v1/messages` (and `/v1/messages/count_tokens`); GaiaRouter turns each request into the dialect of the
model's provider — Anthropic, OpenAI, Gemini or OpenRouter, all of them mock-upstream — and the answer back
into a Messages answer. mock-upstream's rules (bins/mock-upstream/src/conversation.rs) make every round trip
predictable:

- the answer is "echo: <text of the last user message that has text>" — a user turn holding only a
  tool_result has none, so after a tool round trip the echo is of the question before it;
- when tools are declared (and tool_choice is not none) and the user spoke last, the answer is a call to the
  first tool with the input {"city":"Paris"} instead;
- input tokens = whitespace words of every message's text (system prompt and tool results included) + 3;
  output tokens = words of the answer (of the arguments text '{"city":"Paris"}' for a call: 1);
- with thinking enabled, the reasoning is "thinking about: <last user text>"; the Anthropic mock signs it
  "mocksig-" + FNV-1a-64 of the text in 16 hex digits, the Gemini mock puts a thoughtSignature on its parts,
  and OpenAI-format mocks send `reasoning_content` without a signature. The mocks refuse a second turn whose
  tool call lost its thinking block (Anthropic) or its thoughtSignature (Gemini), as the real APIs do.
"""

import json
import os
import time
import urllib.parse
import urllib.request

import anthropic
import pytest
from anthropic import Anthropic
from anthropic.types import Message, TextBlock, ThinkingBlock, ToolUseBlock

MODELS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-2.5-flash",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
]
MAX_TOKENS = 256
PROMPT = "Say hello to the gateway in five words"
EXPECTED_TEXT = f"echo: {PROMPT}"
QUESTION = "What is the weather in Paris?"
TOOL_INPUT = {"city": "Paris"}
TOOL_RESULT = "Sunny and 24 degrees"
TOOL_ERROR = "The weather service is unavailable"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
THINKING = {"type": "enabled", "budget_tokens": 1024}
THINKING_MAX_TOKENS = 2048


def words(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


def prompt_tokens(*texts: str) -> int:
    """The mock's input tokens for a conversation whose messages hold these texts."""
    return words(*texts) + 3


def openai_format(model: str) -> bool:
    """OpenAI and OpenRouter have no error flag on a tool result: GaiaRouter prefixes "Error: " (M-11)."""
    return model.startswith(("openai/", "openrouter/"))


def mock_signature(thinking: str) -> str:
    """The Anthropic mock's thinking signature: "mocksig-" + FNV-1a-64 of the UTF-8 text, 16 hex digits."""
    h = 0xCBF29CE484222325
    for byte in thinking.encode():
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return f"mocksig-{h:016x}"


@pytest.fixture(scope="module")
def client() -> Anthropic:
    # No /v1: the SDK appends /v1/messages itself. The key goes in x-api-key, as from Claude Code.
    return Anthropic(base_url=os.environ["GAIA_URL"], api_key=os.environ["GAIA_KEY"], max_retries=0, timeout=30)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def dumped(content) -> list[dict]:
    """Content blocks as plain dicts, without the optional fields the SDK leaves at None (citations, …)."""
    return [block.model_dump(exclude_none=True) for block in content]


def without_id(block: dict) -> dict:
    return {k: v for k, v in block.items() if k != "id"}


def tool_round_trip(first: Message, result: dict) -> list[dict]:
    """The conversation after `first` (a get_weather call): the question, the assistant's content sent back
    unchanged, and a user turn holding only the tool result `result` (content and is_error)."""
    (call,) = [b for b in first.content if b.type == "tool_use"]
    return [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, **result}]},
    ]


# Each content_block_delta type and the field of its block (and of the delta) that it extends.
DELTA_FIELDS = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
    "input_json_delta": "partial_json",
}


def streamed_blocks(events: list) -> list[dict]:
    """Checks a raw Messages event stream and rebuilds its content blocks.

    message_start comes first, message_delta and message_stop last; in between, every block is
    content_block_start(i) → content_block_delta(i)… → content_block_stop(i), numbered 0, 1, … in order and
    never interleaved (ping events may come anywhere). Each block is returned as its start block with its
    deltas joined: text_delta into "text", thinking_delta into "thinking", signature_delta into "signature",
    input_json_delta into "partial_json".
    """
    events = [e for e in events if e.type != "ping"]
    assert events[0].type == "message_start"
    assert [e.type for e in events[-2:]] == ["message_delta", "message_stop"]
    blocks: list[dict] = []
    current = None
    for event in events[1:-2]:
        if event.type == "content_block_start":
            assert current is None, f"block {event.index} started before block {len(blocks) - 1} stopped"
            assert event.index == len(blocks)
            current = event.content_block.model_dump(exclude_none=True)
            blocks.append(current)
        elif event.type == "content_block_delta":
            assert current is not None and event.index == len(blocks) - 1, f"delta outside its block: {event}"
            field = DELTA_FIELDS[event.delta.type]
            current[field] = current.get(field, "") + getattr(event.delta, field)
        elif event.type == "content_block_stop":
            assert current is not None and event.index == len(blocks) - 1, f"stop outside its block: {event}"
            current = None
        else:
            pytest.fail(f"unexpected {event.type} event between message_start and message_delta")
    assert current is None, "the last block was never stopped"
    return blocks


# --- plain messages


@pytest.mark.parametrize("model", MODELS)
def test_a_message_echoes_the_prompt_with_the_mocks_usage(client, model):
    reply = client.messages.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT))

    assert reply.type == "message"
    assert reply.role == "assistant"
    assert reply.id.startswith("msg_")
    assert reply.model == model
    assert isinstance(reply.content[0], TextBlock)
    assert dumped(reply.content) == [{"type": "text", "text": EXPECTED_TEXT}]
    assert reply.stop_reason == "end_turn"
    assert reply.stop_sequence is None
    # input_tokens excludes cache reads and writes; the mock reports none.
    assert reply.usage.input_tokens == prompt_tokens(PROMPT)
    assert reply.usage.output_tokens == words(EXPECTED_TEXT)
    assert reply.usage.cache_read_input_tokens == 0
    assert reply.usage.cache_creation_input_tokens == 0


SYSTEM_TEXT = "You are a terse assistant."
SYSTEM_EXTRA = "Answer in plain English."
SYSTEMS = {
    "string": SYSTEM_TEXT,
    "cached-blocks": [
        {"type": "text", "text": SYSTEM_TEXT, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": SYSTEM_EXTRA},
    ],
}


@pytest.mark.parametrize("system", SYSTEMS.keys())
@pytest.mark.parametrize("model", MODELS)
def test_the_system_prompt_reaches_the_provider_as_a_string_or_cached_blocks(client, model, system):
    reply = client.messages.create(
        model=model, max_tokens=MAX_TOKENS, system=SYSTEMS[system], messages=user(PROMPT)
    )

    system_texts = [SYSTEM_TEXT] if system == "string" else [SYSTEM_TEXT, SYSTEM_EXTRA]
    assert dumped(reply.content) == [{"type": "text", "text": EXPECTED_TEXT}]
    assert reply.usage.input_tokens == prompt_tokens(PROMPT, *system_texts)
    assert reply.usage.output_tokens == words(EXPECTED_TEXT)


@pytest.mark.parametrize("model", MODELS)
def test_an_x_api_key_or_a_bearer_token_both_authenticate(client, model):
    bearer = Anthropic(
        base_url=os.environ["GAIA_URL"], auth_token=os.environ["GAIA_KEY"], max_retries=0, timeout=30
    )

    reply = bearer.messages.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT))

    assert dumped(reply.content) == [{"type": "text", "text": EXPECTED_TEXT}]


# --- streaming


@pytest.mark.parametrize("model", MODELS)
def test_the_stream_helper_yields_the_same_text_and_final_message(client, model):
    plain = client.messages.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT))

    with client.messages.stream(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT)) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == EXPECTED_TEXT
    assert final.id.startswith("msg_")
    assert final.model == model
    assert dumped(final.content) == dumped(plain.content) == [{"type": "text", "text": EXPECTED_TEXT}]
    assert final.stop_reason == plain.stop_reason == "end_turn"
    assert final.usage.input_tokens == plain.usage.input_tokens == prompt_tokens(PROMPT)
    assert final.usage.output_tokens == plain.usage.output_tokens == words(EXPECTED_TEXT)
    assert final.usage.cache_read_input_tokens == final.usage.cache_creation_input_tokens == 0


@pytest.mark.parametrize("model", MODELS)
def test_the_raw_event_stream_follows_anthropics_sequence(client, model):
    events = list(client.messages.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT), stream=True))

    assert streamed_blocks(events) == [{"type": "text", "text": EXPECTED_TEXT}]
    start = events[0].message
    assert start.id.startswith("msg_")
    assert (start.role, start.model, start.content) == ("assistant", model, [])
    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.delta.stop_sequence is None
    # message_delta carries the cumulative usage, input included (an OpenAI-format provider reports it
    # only at the end, after message_start went out).
    assert delta.usage.input_tokens == prompt_tokens(PROMPT)
    assert delta.usage.output_tokens == words(EXPECTED_TEXT)


# --- tools


@pytest.mark.parametrize("model", MODELS)
def test_a_tool_call_comes_back_as_a_tool_use_block(client, model):
    reply = client.messages.create(
        model=model, max_tokens=MAX_TOKENS, tools=[WEATHER_TOOL], messages=user(QUESTION)
    )

    assert reply.stop_reason == "tool_use"
    assert len(reply.content) == 1
    call = reply.content[0]
    assert isinstance(call, ToolUseBlock)
    assert call.id
    assert (call.name, call.input) == ("get_weather", TOOL_INPUT)
    assert reply.usage.input_tokens == prompt_tokens(QUESTION)
    assert reply.usage.output_tokens == words(json.dumps(TOOL_INPUT, separators=(",", ":")))  # 1


@pytest.mark.parametrize("model", MODELS)
def test_a_tool_result_as_a_string_completes_the_round_trip(client, model):
    first = client.messages.create(
        model=model, max_tokens=MAX_TOKENS, tools=[WEATHER_TOOL], messages=user(QUESTION)
    )

    second = client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL],
        messages=tool_round_trip(first, {"content": TOOL_RESULT}),
    )

    # The last user turn holds only the tool result: the mock echoes the question before it.
    assert dumped(second.content) == [{"type": "text", "text": f"echo: {QUESTION}"}]
    assert second.stop_reason == "end_turn"
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_RESULT)
    assert second.usage.output_tokens == words(f"echo: {QUESTION}")


@pytest.mark.parametrize("model", MODELS)
def test_a_failed_tool_result_in_blocks_reaches_the_provider_marked_as_an_error(client, model):
    first = client.messages.create(
        model=model, max_tokens=MAX_TOKENS, tools=[WEATHER_TOOL], messages=user(QUESTION)
    )

    second = client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL],
        messages=tool_round_trip(first, {"content": [{"type": "text", "text": TOOL_ERROR}], "is_error": True}),
    )

    assert dumped(second.content) == [{"type": "text", "text": f"echo: {QUESTION}"}]
    assert second.stop_reason == "end_turn"
    # Anthropic keeps is_error, Gemini answers {"error": …}; OpenAI-format providers read "Error: …".
    marker = "Error:" if openai_format(model) else ""
    assert second.usage.input_tokens == prompt_tokens(QUESTION, marker, TOOL_ERROR)


@pytest.mark.parametrize("model", MODELS)
def test_a_streamed_tool_call_and_its_round_trip(client, model):
    with client.messages.stream(
        model=model, max_tokens=MAX_TOKENS, tools=[WEATHER_TOOL], messages=user(QUESTION)
    ) as stream:
        fragments = [
            event.delta.partial_json
            for event in stream
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta"
        ]
        first = stream.get_final_message()

    assert "".join(fragments) == '{"city":"Paris"}'
    assert first.stop_reason == "tool_use"
    assert [without_id(b) for b in dumped(first.content)] == [
        {"type": "tool_use", "name": "get_weather", "input": TOOL_INPUT}
    ]
    assert first.content[0].id

    with client.messages.stream(
        model=model,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL],
        messages=tool_round_trip(first, {"content": TOOL_RESULT}),
    ) as stream:
        text = "".join(stream.text_stream)
        second = stream.get_final_message()

    assert text == f"echo: {QUESTION}"
    assert second.stop_reason == "end_turn"
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_RESULT)


@pytest.mark.parametrize("model", MODELS)
def test_a_raw_streamed_tool_call_is_one_tool_use_block(client, model):
    events = list(
        client.messages.create(
            model=model, max_tokens=MAX_TOKENS, tools=[WEATHER_TOOL], messages=user(QUESTION), stream=True
        )
    )

    (block,) = streamed_blocks(events)
    assert block["id"]
    assert without_id(block) == {
        "type": "tool_use",
        "name": "get_weather",
        "input": {},
        "partial_json": '{"city":"Paris"}',
    }
    assert events[-2].delta.stop_reason == "tool_use"
    assert events[-2].usage.output_tokens == 1


TOOL_CHOICES = {
    "any": {"type": "any"},
    "tool": {"type": "tool", "name": "get_weather"},
    "none": {"type": "none"},
}


@pytest.mark.parametrize("choice", TOOL_CHOICES.keys())
@pytest.mark.parametrize("model", MODELS)
def test_tool_choice_forces_a_call_or_a_text_answer(client, model, choice):
    reply = client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL],
        tool_choice=TOOL_CHOICES[choice],
        messages=user(QUESTION),
    )

    if choice == "none":
        assert dumped(reply.content) == [{"type": "text", "text": f"echo: {QUESTION}"}]
        assert reply.stop_reason == "end_turn"
    else:
        assert [without_id(b) for b in dumped(reply.content)] == [
            {"type": "tool_use", "name": "get_weather", "input": TOOL_INPUT}
        ]
        assert reply.stop_reason == "tool_use"


# --- extended thinking (every provider's reasoning arrives as thinking blocks; signatures survive)


def assert_thinking(block, model: str, text: str) -> None:
    assert isinstance(block, ThinkingBlock), f"expected a thinking block, got {block!r}"
    assert block.thinking == text
    assert isinstance(block.signature, str)
    if model.startswith("anthropic/"):
        assert block.signature == mock_signature(text)


@pytest.mark.parametrize("model", MODELS)
def test_thinking_comes_before_the_answer(client, model):
    reply = client.messages.create(
        model=model, max_tokens=THINKING_MAX_TOKENS, thinking=THINKING, messages=user(PROMPT)
    )

    assert [b.type for b in reply.content] == ["thinking", "text"], dumped(reply.content)
    assert_thinking(reply.content[0], model, f"thinking about: {PROMPT}")
    assert reply.content[1].text == EXPECTED_TEXT
    assert reply.stop_reason == "end_turn"
    # The reasoning's words are output tokens too.
    assert reply.usage.input_tokens == prompt_tokens(PROMPT)
    assert reply.usage.output_tokens == words(EXPECTED_TEXT, f"thinking about: {PROMPT}")


@pytest.mark.parametrize("model", MODELS)
def test_thinking_with_tools_survives_the_second_turn(client, model):
    first = client.messages.create(
        model=model,
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING,
        tools=[WEATHER_TOOL],
        messages=user(QUESTION),
    )
    # The assistant content goes back unchanged; the mocks refuse (a 400, which the SDK raises) a tool call
    # that lost its thinking block or signature (Anthropic) or its thoughtSignature (Gemini).
    second = client.messages.create(
        model=model,
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING,
        tools=[WEATHER_TOOL],
        messages=tool_round_trip(first, {"content": TOOL_RESULT}),
    )

    assert [b.type for b in first.content] == ["thinking", "tool_use"], dumped(first.content)
    assert_thinking(first.content[0], model, f"thinking about: {QUESTION}")
    assert (first.content[1].name, first.content[1].input) == ("get_weather", TOOL_INPUT)
    assert first.stop_reason == "tool_use"
    assert [b.type for b in second.content] == ["thinking", "text"], dumped(second.content)
    assert_thinking(second.content[0], model, f"thinking about: {QUESTION}")
    assert second.content[1].text == f"echo: {QUESTION}"
    assert second.stop_reason == "end_turn"


@pytest.mark.parametrize("model", MODELS)
def test_streamed_thinking_arrives_as_thinking_and_signature_deltas(client, model):
    events = list(
        client.messages.create(
            model=model, max_tokens=THINKING_MAX_TOKENS, thinking=THINKING, messages=user(PROMPT), stream=True
        )
    )

    blocks = streamed_blocks(events)
    assert [b["type"] for b in blocks] == ["thinking", "text"], blocks
    thinking = f"thinking about: {PROMPT}"
    assert blocks[0]["thinking"] == thinking
    assert blocks[1]["text"] == EXPECTED_TEXT
    if model.startswith("anthropic/"):
        signatures = [
            e.delta.signature
            for e in events
            if e.type == "content_block_delta" and e.delta.type == "signature_delta"
        ]
        assert signatures == [mock_signature(thinking)]
        assert blocks[0]["signature"] == mock_signature(thinking)
    assert events[-2].delta.stop_reason == "end_turn"


@pytest.mark.parametrize("model", MODELS)
def test_the_stream_helpers_final_message_keeps_thinking_and_the_parsed_tool_input(client, model):
    with client.messages.stream(
        model=model,
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING,
        tools=[WEATHER_TOOL],
        messages=user(QUESTION),
    ) as stream:
        first = stream.get_final_message()

    assert [b.type for b in first.content] == ["thinking", "tool_use"], dumped(first.content)
    assert_thinking(first.content[0], model, f"thinking about: {QUESTION}")
    assert first.content[1].input == TOOL_INPUT

    with client.messages.stream(
        model=model,
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING,
        tools=[WEATHER_TOOL],
        messages=tool_round_trip(first, {"content": TOOL_RESULT}),
    ) as stream:
        text = "".join(stream.text_stream)

    assert text == f"echo: {QUESTION}"


# --- count_tokens


# Anthropic and Gemini count for themselves (the mock: words + 3, like its usage); the others are estimated
# by GaiaRouter's tokenizer. Either way the header says which.
COUNTED_BY_PROVIDER = {"anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"}


@pytest.mark.parametrize("model", MODELS)
def test_count_tokens_says_who_counted(client, model):
    counted = client.messages.count_tokens(model=model, messages=user(PROMPT))
    raw = client.messages.with_raw_response.count_tokens(model=model, system=SYSTEM_TEXT, messages=user(PROMPT))

    if model in COUNTED_BY_PROVIDER:
        assert raw.headers["x-gaia-token-count"] == "provider"
        assert counted.input_tokens == prompt_tokens(PROMPT)
    else:
        assert raw.headers["x-gaia-token-count"] == "estimate"
        assert counted.input_tokens > 0
    # The system prompt is counted too.
    assert raw.parse().input_tokens > counted.input_tokens


# --- errors, in Anthropic's envelope and as the SDK's exception classes


def error_type(raised: pytest.ExceptionInfo) -> str:
    body = raised.value.body
    assert body["type"] == "error"
    return body["error"]["type"]


@pytest.mark.parametrize("model", MODELS)
def test_an_unknown_model_raises_not_found(client, model):
    unknown = model.split("/")[0] + "/no-such-model"

    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(model=unknown, max_tokens=MAX_TOKENS, messages=user(PROMPT))

    assert raised.value.status_code == 404
    assert error_type(raised) == "not_found_error"
    assert raised.value.request_id


@pytest.mark.parametrize("model", MODELS)
def test_a_wrong_key_raises_authentication_error(model):
    stranger = Anthropic(
        base_url=os.environ["GAIA_URL"],
        api_key="gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        max_retries=0,
        timeout=30,
    )

    with pytest.raises(anthropic.AuthenticationError) as raised:
        stranger.messages.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT))

    assert raised.value.status_code == 401
    assert error_type(raised) == "authentication_error"


def post_raw(client: Anthropic, body: dict) -> Message:
    """A Messages body the SDK's typed create() would not send, through its generic post (same headers,
    same error classes)."""
    return client.post("/v1/messages", cast_to=Message, body=body)


@pytest.mark.parametrize("model", MODELS)
def test_an_out_of_range_temperature_raises_bad_request_naming_it(client, model):
    with pytest.raises(anthropic.BadRequestError) as raised:
        post_raw(client, {"model": model, "max_tokens": MAX_TOKENS, "temperature": 3, "messages": user(PROMPT)})

    assert raised.value.status_code == 400
    assert error_type(raised) == "invalid_request_error"
    assert "temperature" in raised.value.body["error"]["message"]


@pytest.mark.parametrize("model", MODELS)
def test_a_body_without_max_tokens_raises_bad_request_naming_it(client, model):
    with pytest.raises(anthropic.BadRequestError) as raised:
        post_raw(client, {"model": model, "messages": user(PROMPT)})

    assert raised.value.status_code == 400
    assert error_type(raised) == "invalid_request_error"
    assert "max_tokens" in raised.value.body["error"]["message"]


# --- the request log


def admin_get(path: str, **query: str) -> dict:
    """Calls GaiaRouter's management API with the admin key (plain HTTP, no SDK)."""
    request = urllib.request.Request(
        os.environ["GAIA_URL"] + path + "?" + urllib.parse.urlencode(query),
        headers={"Authorization": "Bearer " + os.environ["GAIA_KEY"]},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("model", MODELS)
def test_every_message_is_recorded_under_the_messages_api(client, model):
    raw = client.messages.with_raw_response.create(model=model, max_tokens=MAX_TOKENS, messages=user(PROMPT))
    request_id = raw.headers["request-id"]
    assert raw.parse().content[0].text == EXPECTED_TEXT

    # Records are written in the background, within about a second.
    deadline = time.monotonic() + 10
    while True:
        page = admin_get("/v1/requests", api="messages", limit="100")
        records = [r for r in page["data"] if r["request_id"] == request_id]
        if records or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert {r["api"] for r in page["data"]} == {"messages"}
    assert len(records) == 1, f"no record of request {request_id}"
    record = records[0]
    assert record["model"] == model
    assert record["status_code"] == 200
    assert record["stream"] is False
    assert record["prompt_tokens"] == prompt_tokens(PROMPT)
    assert record["completion_tokens"] == words(EXPECTED_TEXT)
