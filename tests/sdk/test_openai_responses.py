"""The official OpenAI Python SDK's Responses API against GaiaRouter, every provider played by mock-upstream.

Run through tests/sdk/run.sh, which starts both servers and sets GAIA_URL and GAIA_KEY (the admin key). The
SDK talks to `POST /v1/responses`, `GET` / `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`;
GaiaRouter turns each request into the dialect of the model's provider — OpenAI and OpenRouter chat
completions, Anthropic messages, Gemini generateContent, all of them mock-upstream — and the answer back into
a `response` object or OpenAI's typed event stream (specs/responses.md). mock-upstream's rules
(bins/mock-upstream/src/conversation.rs) make every round trip predictable:

- the answer is "echo: <text of the last user message that has text>" — a turn holding only a tool output has
  none, so after a tool round trip the echo is of the question before it;
- when tools are declared and the user spoke last, the answer is a call to the first tool with the arguments
  {"city":"Paris"} instead; otherwise, when a JSON schema is asked for, the answer is the text {"city":"Paris"};
- input tokens = whitespace words of every message's text (instructions and tool outputs included, reasoning
  and call arguments not) + 3; output tokens = words of the answer (a call: 1), plus the reasoning's words;
- with reasoning asked for (`reasoning.effort` other than none) the mock first reasons "thinking about: <last
  user text>": Anthropic as a thinking block signed "mocksig-" + FNV-1a-64 of its text (the reasoning item's
  `encrypted_content`), Gemini as thought parts with a thoughtSignature on the function call (which GaiaRouter
  carries in the `call_id`), OpenAI-format providers as `reasoning_content`. The Anthropic and Gemini mocks
  refuse a tool turn whose signature did not come back, as the real APIs do. Anthropic reports no separate
  count of reasoning tokens; the others do.

Stored responses (`store=True`) belong to the organization of the key that created them, so the state tests
use keys of two fresh organizations made through the admin REST API.
"""

import json
import os
import time
import urllib.parse
import urllib.request
import uuid

import openai
import pydantic
import pytest
from openai import OpenAI
from openai.types.responses import Response, ResponseItem, ResponseStreamEvent

MODELS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-2.5-flash",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
]
PROMPT = "Say hello to the gateway in five words"
EXPECTED_TEXT = f"echo: {PROMPT}"
INSTRUCTIONS = "You are a terse assistant."
QUESTION = "What is the weather in Paris?"
TOOL_ARGUMENTS = '{"city":"Paris"}'
TOOL_OUTPUT = "sunny"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
REASONING = {"effort": "low"}


def words(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


def prompt_tokens(*texts: str) -> int:
    """The mock's input tokens for a conversation whose messages hold these texts."""
    return words(*texts) + 3


def thinking(text: str) -> str:
    """The mock's reasoning about a last user message `text`."""
    return f"thinking about: {text}"


def reasoning_tokens(model: str, reasoning: str) -> int:
    """`output_tokens_details.reasoning_tokens`: Anthropic does not count reasoning apart (0)."""
    return 0 if model.startswith("anthropic/") else words(reasoning)


def mock_signature(text: str) -> str:
    """The mocks' signature: "mocksig-" + FNV-1a-64 of the UTF-8 text, 16 hex digits."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return f"mocksig-{h:016x}"


def sdk(key: str) -> OpenAI:
    return OpenAI(base_url=os.environ["GAIA_URL"] + "/v1", api_key=key, max_retries=0, timeout=30)


def admin(method: str, path: str, body: dict | None = None, **query: str) -> dict:
    """Calls GaiaRouter's management API with the admin key (plain HTTP, no SDK)."""
    url = os.environ["GAIA_URL"] + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + os.environ["GAIA_KEY"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def client() -> OpenAI:
    return sdk(os.environ["GAIA_KEY"])


def organization_key(prefix: str) -> str:
    """The secret of a new key in a new organization (docs/api/tenancy.md: the secret is `key`, shown once)."""
    organization = admin("POST", "/v1/organizations", {"name": f"{prefix}-{uuid.uuid4().hex[:8]}"})
    return admin("POST", "/v1/api-keys", {"organization_id": organization["id"], "name": "sdk responses"})["key"]


@pytest.fixture(scope="module")
def keeper() -> OpenAI:
    """A client whose key belongs to an organization that stores responses."""
    return sdk(organization_key("responses-keeper"))


@pytest.fixture(scope="module")
def stranger() -> OpenAI:
    """A client whose key belongs to another organization."""
    return sdk(organization_key("responses-stranger"))


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def tool_output(call_id: str) -> dict:
    return {"type": "function_call_output", "call_id": call_id, "output": TOOL_OUTPUT}


def only_message_text(response: Response) -> str:
    """The text of a response whose output is exactly one assistant message with one output_text part."""
    assert [item.type for item in response.output] == ["message"], response.output
    (message,) = response.output
    assert message.role == "assistant"
    assert message.status == "completed"
    assert [part.type for part in message.content] == ["output_text"]
    return message.content[0].text


def the_call(response: Response):
    (call,) = [item for item in response.output if item.type == "function_call"]
    return call


def tool_round_trip(first: Response) -> list:
    """The input of the turn after `first` (a get_weather call): the question, `first`'s output items sent
    back as they came (reasoning included), and the call's output."""
    return [user(QUESTION), *first.output, tool_output(the_call(first).call_id)]


# The event types of one output item, consecutive repeats (the deltas) collapsed.
TEXT_ITEM_EVENTS = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]
REASONING_ITEM_EVENTS = [
    "response.output_item.added",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.output_item.done",
]
CALL_ITEM_EVENTS = [
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
]


def shape(events: list) -> list[str]:
    """The event types with consecutive repeats collapsed (one entry per run of deltas)."""
    types = [e.type for e in events]
    return [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]


def streamed_text(item) -> str:
    """What the deltas of an output item join to: a message's text, a call's arguments, a reasoning summary."""
    if item.type == "message":
        return "".join(part.text for part in item.content)
    if item.type == "function_call":
        return item.arguments
    return "".join(part.text for part in item.summary)


def folded(events: list) -> Response:
    """Checks a raw Responses event stream and returns its final response.

    sequence_number runs 0, 1, 2, … without gaps; response.created and response.in_progress (the response
    in progress, no output, no usage) come first and response.completed last, all of one response id; the
    output items come one at a time — output_item.added(i), events of output_index i, output_item.done(i),
    for i = 0, 1, … — and each item's deltas join to its `.done` event's text or arguments and to the item
    in the final response, whose output is exactly the items done.
    """
    types = [e.type for e in events]
    assert [e.sequence_number for e in events] == list(range(len(events))), types
    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "response.completed", types
    final = events[-1].response
    for begun in events[:2]:
        assert begun.response.id == final.id
        assert begun.response.status == "in_progress"
        assert begun.response.output == []
        assert begun.response.usage is None
    done: list = []
    current: int | None = None
    joined = ""
    for event in events[2:-1]:
        if event.type == "response.output_item.added":
            assert current is None, f"item {event.output_index} began before item {current} was done"
            assert event.output_index == len(done)
            current, joined = event.output_index, ""
            continue
        assert current is not None and event.output_index == current, f"{event.type} outside its item: {types}"
        if event.type == "response.output_item.done":
            assert joined == streamed_text(event.item), f"the deltas of item {current} join to {joined!r}"
            done.append(event.item)
            current = None
        elif event.type.endswith(".delta"):
            joined += event.delta
        elif event.type in ("response.output_text.done", "response.reasoning_summary_text.done"):
            assert event.text == joined
        elif event.type == "response.function_call_arguments.done":
            assert event.arguments == joined
    assert current is None, "the last item was never done"
    assert done == final.output
    return final


# --- plain responses


@pytest.mark.parametrize("model", MODELS)
def test_a_string_input_is_answered_with_the_mocks_echo_and_usage(client, model):
    response = client.responses.create(model=model, input=PROMPT)

    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.model == model
    assert response.status == "completed"
    assert response.error is None
    assert response.incomplete_details is None
    assert response.output[0].id.startswith("msg_")
    assert only_message_text(response) == EXPECTED_TEXT
    assert response.output_text == EXPECTED_TEXT
    assert response.store is False, "nothing is kept unless store is true"
    usage = response.usage
    assert usage.input_tokens == prompt_tokens(PROMPT)
    assert usage.output_tokens == words(EXPECTED_TEXT)
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


@pytest.mark.parametrize("model", MODELS)
def test_instructions_reach_the_provider_as_its_system_prompt(client, model):
    response = client.responses.create(model=model, input=PROMPT, instructions=INSTRUCTIONS)

    assert response.output_text == EXPECTED_TEXT
    assert response.instructions == INSTRUCTIONS
    assert response.usage.input_tokens == prompt_tokens(PROMPT, INSTRUCTIONS)
    assert response.usage.output_tokens == words(EXPECTED_TEXT)


@pytest.mark.parametrize("model", MODELS)
def test_a_list_of_messages_is_one_conversation(client, model):
    earlier, answer, last = "My first question here", "My first answer", "And the second one"
    response = client.responses.create(
        model=model,
        input=[
            {"role": "developer", "content": INSTRUCTIONS},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": earlier}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": answer}]},
            user(last),
        ],
    )

    assert response.output_text == f"echo: {last}"
    assert response.usage.input_tokens == prompt_tokens(INSTRUCTIONS, earlier, answer, last)


@pytest.mark.parametrize("model", MODELS)
def test_output_items_sent_back_make_a_stateless_conversation(client, model):
    first = client.responses.create(model=model, input=PROMPT)
    follow_up = "Now say it louder"

    # As OpenAI's guide keeps state by hand: the history grows by each response's output items.
    second = client.responses.create(model=model, input=[user(PROMPT), *first.output, user(follow_up)])

    assert second.output_text == f"echo: {follow_up}"
    assert second.usage.input_tokens == prompt_tokens(PROMPT, EXPECTED_TEXT, follow_up)


@pytest.mark.parametrize("model", MODELS)
def test_the_request_fields_are_echoed_as_sent(client, model):
    response = client.responses.create(
        model=model,
        input=QUESTION,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        max_output_tokens=256,
        temperature=0.5,
        top_p=0.9,
        metadata={"ticket": "17"},
        user="sdk-test",
    )

    assert the_call(response).name == "get_weather"
    assert response.tool_choice == "required"
    assert [tool.model_dump(exclude_none=True) for tool in response.tools] == [WEATHER_TOOL]
    assert response.parallel_tool_calls is False
    assert response.max_output_tokens == 256
    assert (response.temperature, response.top_p) == (0.5, 0.9)
    assert response.metadata == {"ticket": "17"}
    assert response.user == "sdk-test"
    assert response.text.format.type == "text"


# --- streaming


@pytest.mark.parametrize("model", MODELS)
def test_the_stream_helper_yields_the_text_and_the_plain_answers_final_response(client, model):
    plain = client.responses.create(model=model, input=PROMPT)

    with client.responses.stream(model=model, input=PROMPT) as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()

    assert text == EXPECTED_TEXT
    assert final.id.startswith("resp_") and final.id != plain.id
    assert final.model == model
    assert final.status == plain.status == "completed"
    assert final.output_text == plain.output_text == EXPECTED_TEXT
    assert final.usage == plain.usage
    assert final.usage.input_tokens == prompt_tokens(PROMPT)
    assert final.usage.output_tokens == words(EXPECTED_TEXT)


@pytest.mark.parametrize("model", MODELS)
def test_a_raw_stream_runs_from_created_to_completed_with_sequence_numbers_from_0(client, model):
    events = list(client.responses.create(model=model, input=PROMPT, instructions=INSTRUCTIONS, stream=True))

    assert shape(events) == ["response.created", "response.in_progress", *TEXT_ITEM_EVENTS, "response.completed"]
    final = folded(events)
    assert final.id.startswith("resp_")
    assert final.status == "completed"
    assert final.instructions == INSTRUCTIONS
    assert only_message_text(final) == EXPECTED_TEXT
    assert final.usage.input_tokens == prompt_tokens(PROMPT, INSTRUCTIONS)
    assert final.usage.output_tokens == words(EXPECTED_TEXT)


RESPONSE = pydantic.TypeAdapter(Response)
STREAM_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
CONVERSATIONS = {
    "text": {"input": PROMPT, "instructions": INSTRUCTIONS},
    "tool call": {"input": QUESTION, "tools": [WEATHER_TOOL]},
    "reasoning and a tool call": {"input": QUESTION, "tools": [WEATHER_TOOL], "reasoning": REASONING},
}


@pytest.mark.parametrize("conversation", CONVERSATIONS.keys())
@pytest.mark.parametrize("model", MODELS)
def test_answers_and_every_stream_event_validate_against_the_sdks_types(client, model, conversation):
    """The SDK builds its objects without validating them; here the JSON as sent is validated, so a missing
    or mistyped field of the reference shows."""
    request = dict(model=model, **CONVERSATIONS[conversation])

    plain = client.responses.with_raw_response.create(**request).http_response.json()
    with client.responses.with_streaming_response.create(**request, stream=True) as streamed:
        lines = list(streamed.iter_lines())

    RESPONSE.validate_python(plain)
    events = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]
    names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert names == [event["type"] for event in events]
    for event in events:
        STREAM_EVENT.validate_python(event)
    completed = events[-1]["response"]
    assert [item["type"] for item in completed["output"]] == [item["type"] for item in plain["output"]]


# --- function tools


@pytest.mark.parametrize("model", MODELS)
def test_a_function_tool_is_called_with_the_mocks_arguments(client, model):
    response = client.responses.create(model=model, input=QUESTION, tools=[WEATHER_TOOL])

    assert [item.type for item in response.output] == ["function_call"]
    call = response.output[0]
    assert call.id.startswith("fc_")
    assert call.call_id
    assert call.status == "completed"
    assert (call.name, call.arguments) == ("get_weather", TOOL_ARGUMENTS)
    assert response.output_text == ""
    assert response.status == "completed"
    assert response.usage.input_tokens == prompt_tokens(QUESTION)
    assert response.usage.output_tokens == 1


@pytest.mark.parametrize("model", MODELS)
def test_a_function_call_output_completes_the_round_trip(client, model):
    first = client.responses.create(model=model, input=QUESTION, tools=[WEATHER_TOOL])

    second = client.responses.create(model=model, input=tool_round_trip(first), tools=[WEATHER_TOOL])

    assert only_message_text(second) == f"echo: {QUESTION}"
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_OUTPUT)
    assert second.usage.output_tokens == words(f"echo: {QUESTION}")


TOOL_CHOICES = {
    "none": "none",
    "auto": "auto",
    "required": "required",
    "function": {"type": "function", "name": "get_weather"},
    "allowed_tools": {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_weather"}],
    },
}


@pytest.mark.parametrize("choice", TOOL_CHOICES.keys())
@pytest.mark.parametrize("model", MODELS)
def test_tool_choice_forces_a_call_or_a_text_answer(client, model, choice):
    response = client.responses.create(
        model=model, input=QUESTION, tools=[WEATHER_TOOL], tool_choice=TOOL_CHOICES[choice]
    )

    if choice == "none":
        assert only_message_text(response) == f"echo: {QUESTION}"
    else:
        assert [item.type for item in response.output] == ["function_call"]
        assert (response.output[0].name, response.output[0].arguments) == ("get_weather", TOOL_ARGUMENTS)


@pytest.mark.parametrize("model", MODELS)
def test_a_streamed_tool_call_and_its_streamed_round_trip(client, model):
    with client.responses.stream(model=model, input=QUESTION, tools=[WEATHER_TOOL]) as stream:
        fragments = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        first = stream.get_final_response()

    assert "".join(fragments) == TOOL_ARGUMENTS
    call = the_call(first)
    assert [item.type for item in first.output] == ["function_call"]
    assert (call.name, call.arguments) == ("get_weather", TOOL_ARGUMENTS)
    assert call.call_id

    with client.responses.stream(model=model, input=tool_round_trip(first), tools=[WEATHER_TOOL]) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        second = stream.get_final_response()

    assert text == f"echo: {QUESTION}"
    assert second.output_text == text
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_OUTPUT)


@pytest.mark.parametrize("model", MODELS)
def test_a_raw_streamed_tool_call_is_one_function_call_item(client, model):
    events = list(client.responses.create(model=model, input=QUESTION, tools=[WEATHER_TOOL], stream=True))

    assert shape(events) == ["response.created", "response.in_progress", *CALL_ITEM_EVENTS, "response.completed"]
    final = folded(events)
    added = next(e for e in events if e.type == "response.output_item.added").item
    assert (added.type, added.name, added.call_id) == ("function_call", "get_weather", the_call(final).call_id)
    assert the_call(final).arguments == TOOL_ARGUMENTS
    assert final.usage.output_tokens == 1


# --- reasoning (every provider's reasoning is a reasoning item; signatures survive the next turn)


@pytest.mark.parametrize("model", MODELS)
def test_reasoning_is_a_reasoning_item_before_the_answer(client, model):
    response = client.responses.create(model=model, input=PROMPT, reasoning=REASONING)

    assert [item.type for item in response.output] == ["reasoning", "message"], response.output
    reasoning = response.output[0]
    assert reasoning.id.startswith("rs_")
    assert [part.model_dump() for part in reasoning.summary] == [
        {"type": "summary_text", "text": thinking(PROMPT)}
    ]
    if model.startswith("anthropic/"):
        assert reasoning.encrypted_content == mock_signature(thinking(PROMPT))
    assert response.output_text == EXPECTED_TEXT
    assert response.reasoning.effort == "low"
    assert response.usage.input_tokens == prompt_tokens(PROMPT)
    # The reasoning's words are output tokens too.
    assert response.usage.output_tokens == words(EXPECTED_TEXT, thinking(PROMPT))
    assert response.usage.output_tokens_details.reasoning_tokens == reasoning_tokens(model, thinking(PROMPT))


@pytest.mark.parametrize("model", MODELS)
def test_streamed_reasoning_is_summary_text_deltas_before_the_answer(client, model):
    plain = client.responses.create(model=model, input=PROMPT, reasoning=REASONING)

    events = list(client.responses.create(model=model, input=PROMPT, reasoning=REASONING, stream=True))

    assert shape(events) == [
        "response.created",
        "response.in_progress",
        *REASONING_ITEM_EVENTS,
        *TEXT_ITEM_EVENTS,
        "response.completed",
    ]
    final = folded(events)
    summaries = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summaries == thinking(PROMPT)
    assert final.output[0].summary == plain.output[0].summary
    assert final.output[0].encrypted_content == plain.output[0].encrypted_content
    assert final.output_text == EXPECTED_TEXT
    assert final.usage == plain.usage


@pytest.mark.parametrize("model", MODELS)
def test_reasoning_and_a_tool_call_sent_back_continue_on_every_provider(client, model):
    first = client.responses.create(model=model, input=QUESTION, tools=[WEATHER_TOOL], reasoning=REASONING)

    assert [item.type for item in first.output] == ["reasoning", "function_call"], first.output
    assert first.output[0].summary[0].text == thinking(QUESTION)
    call = the_call(first)
    assert (call.name, call.arguments) == ("get_weather", TOOL_ARGUMENTS)
    if model.startswith("anthropic/"):
        assert first.output[0].encrypted_content == mock_signature(thinking(QUESTION))
    if model.startswith("google/"):
        assert mock_signature("get_weather" + TOOL_ARGUMENTS) in call.call_id
    assert first.usage.output_tokens == 1 + words(thinking(QUESTION))

    # The output items go back as they came; the Anthropic and Gemini mocks refuse (a 400, which the SDK
    # raises) a tool call whose thinking signature or thought signature was lost.
    second = client.responses.create(
        model=model, input=tool_round_trip(first), tools=[WEATHER_TOOL], reasoning=REASONING
    )

    assert [item.type for item in second.output] == ["reasoning", "message"], second.output
    assert second.output[0].summary[0].text == thinking(QUESTION)
    assert second.output_text == f"echo: {QUESTION}"
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_OUTPUT)


@pytest.mark.parametrize("model", MODELS)
def test_a_codex_style_agent_turn_streams_and_continues_statelessly(client, model):
    """What Codex CLI sends: instructions, typed input items, store false with the reasoning's encrypted
    content asked for, a prompt cache key, one call at a time, reasoning summaries, a stream."""
    shell = {
        "type": "function",
        "name": "shell",
        "description": "Runs a shell command",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}},
            "required": ["command"],
        },
    }
    ask = "list the files"
    settings = dict(
        model=model,
        instructions=INSTRUCTIONS,
        tools=[shell],
        tool_choice="auto",
        parallel_tool_calls=False,
        reasoning={"effort": "medium", "summary": "auto"},
        store=False,
        include=["reasoning.encrypted_content"],
        prompt_cache_key=str(uuid.uuid4()),
        stream=True,
    )
    history: list = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]}]

    first = folded(list(client.responses.create(input=history, **settings)))
    call = the_call(first)
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "a.txt b.txt"})
    second = folded(list(client.responses.create(input=history, **settings)))

    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    assert (call.name, json.loads(call.arguments)) == ("shell", {"city": "Paris"})  # the mock's arguments
    assert [item.type for item in second.output] == ["reasoning", "message"]
    assert second.output_text == f"echo: {ask}"
    assert second.usage.input_tokens == prompt_tokens(INSTRUCTIONS, ask, "a.txt b.txt")


SIGNATURE_CHECKERS = ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]


@pytest.mark.parametrize("model", SIGNATURE_CHECKERS)
def test_a_tool_turn_that_lost_its_signature_is_refused_by_the_provider(client, model):
    """The control of the round trip above: without the signature the mocks refuse the turn."""
    first = client.responses.create(model=model, input=QUESTION, tools=[WEATHER_TOOL], reasoning=REASONING)
    items = [item.model_dump(exclude_none=True) for item in first.output]
    if model.startswith("anthropic/"):
        del items[0]["encrypted_content"]
    else:
        items[1]["call_id"] = items[1]["call_id"].split("__thought__")[0]
    stripped = [user(QUESTION), *items, tool_output(items[1]["call_id"])]

    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model=model, input=stripped, tools=[WEATHER_TOOL], reasoning=REASONING)

    assert raised.value.code == "upstream_invalid_request"
    assert "signature" in raised.value.message or "thinking" in raised.value.message


@pytest.mark.parametrize("model", MODELS)
def test_a_streamed_reasoning_tool_call_sent_back_continues_streamed(client, model):
    with client.responses.stream(model=model, input=QUESTION, tools=[WEATHER_TOOL], reasoning=REASONING) as stream:
        first = stream.get_final_response()

    assert [item.type for item in first.output] == ["reasoning", "function_call"], first.output
    if model.startswith("anthropic/"):
        assert first.output[0].encrypted_content == mock_signature(thinking(QUESTION))

    with client.responses.stream(
        model=model, input=tool_round_trip(first), tools=[WEATHER_TOOL], reasoning=REASONING
    ) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        second = stream.get_final_response()

    assert text == f"echo: {QUESTION}"
    assert [item.type for item in second.output] == ["reasoning", "message"]
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_OUTPUT)


# --- state: store, retrieve, input items, previous_response_id, delete, organizations


@pytest.mark.parametrize("model", MODELS)
def test_a_stored_response_is_retrieved_as_it_was_answered(client, keeper, model):
    created = keeper.responses.create(model=model, input=PROMPT, instructions=INSTRUCTIONS, store=True)

    retrieved = keeper.responses.retrieve(created.id)

    assert created.store is True
    assert retrieved == created
    assert retrieved.output_text == EXPECTED_TEXT
    # The admin key reaches every organization's responses.
    assert client.responses.retrieve(created.id) == created


def said_by(items) -> list[tuple[str, str]]:
    """(role, text) of listed input messages, whose content is a string or parts."""
    return [(i.role, i.content if isinstance(i.content, str) else i.content[0].text) for i in items]


@pytest.mark.parametrize("model", MODELS)
def test_input_items_list_the_requests_own_input_newest_first_in_pages(keeper, model):
    said = ["First thing said", "Then the answer", "And the last word"]
    created = keeper.responses.create(
        model=model,
        store=True,
        input=[user(said[0]), {"role": "assistant", "content": said[1]}, user(said[2])],
    )

    newest_first = keeper.responses.input_items.list(created.id)
    oldest_first = list(keeper.responses.input_items.list(created.id, order="asc"))
    # limit=1: the SDK follows the cursor (`after` = last_id) through three pages.
    paged = list(keeper.responses.input_items.list(created.id, order="asc", limit=1))

    assert created.output_text == f"echo: {said[2]}"
    assert said_by(newest_first.data) == [("user", said[2]), ("assistant", said[1]), ("user", said[0])]
    assert newest_first.has_more is False
    assert said_by(oldest_first) == said_by(paged)
    assert said_by(paged) == [("user", said[0]), ("assistant", said[1]), ("user", said[2])]
    assert [item.id for item in paged] == [f"{created.id}_in_{n}" for n in range(3)]


RESPONSE_ITEM = pydantic.TypeAdapter(ResponseItem)


@pytest.mark.parametrize("model", MODELS)
def test_input_items_sent_in_the_short_form_are_listed_in_the_references_item_shape(keeper, model):
    created = keeper.responses.create(
        model=model, store=True, input=[user("First thing said"), {"role": "assistant", "content": "An answer"}]
    )

    raw = keeper.responses.input_items.with_raw_response.list(created.id, order="asc")

    for item in raw.http_response.json()["data"]:
        RESPONSE_ITEM.validate_python(item)  # raises on a shape the reference does not have
    (question, answer) = raw.parse().data
    assert (question.type, question.role, question.content[0].text) == ("message", "user", "First thing said")
    assert (answer.type, answer.role, answer.content[0].type) == ("message", "assistant", "output_text")


@pytest.mark.parametrize("model", MODELS)
def test_a_string_input_is_listed_as_one_user_message(keeper, model):
    created = keeper.responses.create(model=model, input=PROMPT, store=True)

    (item,) = list(keeper.responses.input_items.list(created.id))

    assert (item.type, item.role) == ("message", "user")
    assert [part.model_dump(exclude_none=True) for part in item.content] == [
        {"type": "input_text", "text": PROMPT}
    ]


@pytest.mark.parametrize("model", MODELS)
def test_previous_response_id_continues_the_stored_conversation(keeper, model):
    turns = ["my name is ada", "what is my name", "say it again"]
    first = keeper.responses.create(model=model, input=turns[0], instructions=INSTRUCTIONS, store=True)

    second = keeper.responses.create(model=model, input=turns[1], previous_response_id=first.id, store=True)
    third = keeper.responses.create(
        model=model, input=turns[2], previous_response_id=second.id, instructions="Be kind."
    )

    assert second.output_text == f"echo: {turns[1]}"
    assert second.previous_response_id == first.id
    # The stored turns (input and output) go before the new input; the first turn's instructions do not.
    assert second.usage.input_tokens == prompt_tokens(turns[0], f"echo: {turns[0]}", turns[1])
    assert third.output_text == f"echo: {turns[2]}"
    assert third.usage.input_tokens == prompt_tokens(
        turns[0], f"echo: {turns[0]}", turns[1], f"echo: {turns[1]}", "Be kind.", turns[2]
    )
    assert third.store is False
    # The continuation's own input is what is listed for it, not the conversation.
    assert [item.content[0].text for item in keeper.responses.input_items.list(second.id)] == [turns[1]]


@pytest.mark.parametrize("model", MODELS)
def test_previous_response_id_continues_a_tool_call_with_its_reasoning(keeper, model):
    first = keeper.responses.create(
        model=model, input=QUESTION, tools=[WEATHER_TOOL], reasoning=REASONING, store=True
    )

    # Only the tool's output is sent: the question, the reasoning (with its signature) and the call come
    # from the store, or the Anthropic and Gemini mocks refuse the turn.
    second = keeper.responses.create(
        model=model,
        previous_response_id=first.id,
        input=[tool_output(the_call(first).call_id)],
        tools=[WEATHER_TOOL],
        reasoning=REASONING,
    )

    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    assert [item.type for item in second.output] == ["reasoning", "message"]
    assert second.output_text == f"echo: {QUESTION}"
    assert second.usage.input_tokens == prompt_tokens(QUESTION, TOOL_OUTPUT)


@pytest.mark.parametrize("model", MODELS)
def test_a_streamed_response_is_stored_once_it_has_ended(keeper, model):
    events = list(keeper.responses.create(model=model, input=PROMPT, store=True, stream=True))
    final = folded(events)

    # Kept in the background once the stream ended.
    deadline = time.monotonic() + 10
    while True:
        try:
            retrieved = keeper.responses.retrieve(final.id)
            break
        except openai.NotFoundError:
            assert time.monotonic() < deadline, f"{final.id} was not stored"
            time.sleep(0.1)

    assert final.store is True
    assert retrieved == final
    continued = keeper.responses.create(model=model, input="go on", previous_response_id=final.id)
    assert continued.usage.input_tokens == prompt_tokens(PROMPT, EXPECTED_TEXT, "go on")


@pytest.mark.parametrize("model", MODELS)
def test_a_response_not_stored_can_be_neither_retrieved_nor_continued(keeper, model):
    created = keeper.responses.create(model=model, input=PROMPT)

    with pytest.raises(openai.NotFoundError) as raised:
        keeper.responses.retrieve(created.id)
    assert raised.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError) as raised:
        keeper.responses.create(model=model, input="go on", previous_response_id=created.id)
    assert raised.value.param == "previous_response_id"


@pytest.mark.parametrize("model", MODELS)
def test_a_deleted_response_is_gone(keeper, model):
    first = keeper.responses.create(model=model, input=PROMPT, store=True)
    second = keeper.responses.create(model=model, input="go on", previous_response_id=first.id, store=True)

    keeper.responses.delete(first.id)

    with pytest.raises(openai.NotFoundError) as raised:
        keeper.responses.retrieve(first.id)
    assert raised.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError):
        list(keeper.responses.input_items.list(first.id))
    with pytest.raises(openai.NotFoundError):
        keeper.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError) as raised:
        keeper.responses.create(model=model, input="again", previous_response_id=first.id)
    assert raised.value.param == "previous_response_id"
    # A conversation that runs through the deleted response cannot be followed to its start.
    with pytest.raises(openai.BadRequestError) as raised:
        keeper.responses.create(model=model, input="again", previous_response_id=second.id)
    assert raised.value.param == "previous_response_id"
    assert keeper.responses.retrieve(second.id) == second


@pytest.mark.parametrize("model", MODELS)
def test_another_organizations_key_sees_nothing(keeper, stranger, model):
    created = keeper.responses.create(model=model, input=PROMPT, store=True)

    with pytest.raises(openai.NotFoundError) as raised:
        stranger.responses.retrieve(created.id)
    assert raised.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError):
        list(stranger.responses.input_items.list(created.id))
    with pytest.raises(openai.NotFoundError) as raised:
        stranger.responses.create(model=model, input="go on", previous_response_id=created.id)
    assert raised.value.param == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        stranger.responses.delete(created.id)

    assert keeper.responses.retrieve(created.id) == created, "the stranger's delete removed nothing"


# --- structured output


class GetWeather(pydantic.BaseModel):
    """Current weather in a city"""

    city: str


class Forecast(pydantic.BaseModel):
    city: str
    temperature_celsius: int


@pytest.mark.parametrize("model", MODELS)
def test_parse_gives_a_strict_pydantic_tools_arguments_as_the_model(client, model):
    tool = openai.pydantic_responses_function_tool(GetWeather, name="get_weather")

    parsed = client.responses.parse(model=model, input=QUESTION, tools=[tool])

    assert tool["strict"] is True
    call = the_call(parsed)
    assert (call.name, call.arguments) == ("get_weather", TOOL_ARGUMENTS)
    assert call.parsed_arguments == GetWeather(city="Paris")


@pytest.mark.parametrize("model", MODELS)
def test_a_json_schema_text_format_from_parse_is_accepted_echoed_and_reaches_every_provider(client, model):
    # A JSON schema reaches each provider its own way (OpenAI-format response_format, Gemini responseSchema,
    # Claude a forced tool read back as text), and the mock then answers {"city":"Paris"} whatever the
    # schema — which is no Forecast: the request is checked as sent and answered, and the SDK's own parsing
    # step is expected to refuse the answer (tests/sdk/test_openai_structured.py parses a matching model).
    raw = client.responses.with_raw_response.parse(model=model, input=QUESTION, text_format=Forecast)
    sent = json.loads(raw.http_request.content)["text"]
    answered = raw.http_response.json()

    assert sent["format"]["type"] == "json_schema"
    assert sent["format"]["name"] == "Forecast"
    assert sent["format"]["strict"] is True
    assert answered["status"] == "completed"
    assert answered["text"] == sent
    assert answered["output"][0]["type"] == "message"
    assert answered["output"][0]["content"][0]["text"] == TOOL_ARGUMENTS
    # The schema travels outside the prompt everywhere (Claude's in the forced tool's input_schema, which the
    # mock does not count): the input tokens are the question's.
    assert answered["usage"]["input_tokens"] == prompt_tokens(QUESTION)
    with pytest.raises(pydantic.ValidationError):
        raw.parse()


# --- errors


@pytest.mark.parametrize("model", MODELS)
def test_a_builtin_tool_raises_bad_request_builtin_tool_unsupported(client, model):
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model=model, input=PROMPT, tools=[WEATHER_TOOL, {"type": "web_search"}])

    assert raised.value.status_code == 400
    assert raised.value.code == "builtin_tool_unsupported"
    assert raised.value.param == "tools"
    assert raised.value.type == "invalid_request_error"
    assert "web_search" in raised.value.message


@pytest.mark.parametrize("model", MODELS)
def test_an_unknown_model_raises_not_found(client, model):
    unknown = model.split("/")[0] + "/no-such-model"

    with pytest.raises(openai.NotFoundError) as raised:
        client.responses.create(model=unknown, input=PROMPT)

    assert raised.value.code == "model_not_found"
    assert raised.value.param == "model"


@pytest.mark.parametrize("model", MODELS)
def test_a_file_id_raises_bad_request_naming_it(client, model):
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(
            model=model,
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Read this"},
                        {"type": "input_file", "file_id": "file-abc"},
                    ],
                }
            ],
        )

    assert raised.value.param == "input[0].content[1].file_id"


def test_a_wrong_key_raises_authentication_error():
    stranger = sdk("gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")

    with pytest.raises(openai.AuthenticationError):
        stranger.responses.create(model=MODELS[0], input=PROMPT)


# --- the request log


@pytest.mark.parametrize("model", MODELS)
def test_every_response_is_recorded_under_the_responses_api(client, model):
    plain = client.responses.with_raw_response.create(model=model, input=PROMPT)
    streamed = client.responses.with_raw_response.create(model=model, input=PROMPT, stream=True)
    assert plain.parse().output_text == EXPECTED_TEXT
    assert folded(list(streamed.parse())).output_text == EXPECTED_TEXT
    ids = {plain.headers["x-request-id"]: False, streamed.headers["x-request-id"]: True}

    # Records are written in the background, within about a second.
    deadline = time.monotonic() + 10
    while True:
        page = admin("GET", "/v1/requests", api="responses", limit="100")
        records = {r["request_id"]: r for r in page["data"] if r["request_id"] in ids}
        if len(records) == len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert {r["api"] for r in page["data"]} == {"responses"}
    assert set(records) == set(ids), f"records missing: {set(ids) - set(records)}"
    for request_id, stream in ids.items():
        record = records[request_id]
        assert record["api"] == "responses"
        assert record["model"] == record["model_served"] == model
        assert record["stream"] is stream
        assert record["status_code"] == 200
        assert record["prompt_tokens"] == prompt_tokens(PROMPT)
        assert record["completion_tokens"] == words(EXPECTED_TEXT)
