"""Structured output through the official OpenAI Python SDK's `parse` helpers, to every provider.

Run through tests/sdk/run.sh, which starts GaiaRouter and mock-upstream and sets GAIA_URL and GAIA_KEY. A JSON
schema asked for — `response_format` on chat completions, `text.format` on the Responses API — reaches each
provider its own way (docs/api/inference.md, "Conversions per provider"):

- OpenAI and OpenRouter get `response_format` as written;
- Gemini gets `responseMimeType: application/json` and the schema as `responseSchema`;
- Claude gets a forced tool whose `input_schema` is the schema, and its `tool_use` comes back as the answer's
  text (streamed: its argument fragments as content deltas) with finish reason `stop`.

mock-upstream answers a JSON schema with the text {"city":"Paris"} (OpenAI format, Gemini) and a forced tool
with a call whose input is {"city":"Paris"} (Anthropic), so every provider's answer parses as the model below.
"""

import json
import os

import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

MODELS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4-5",
    "google/gemini-2.5-flash",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
]
QUESTION = "What is the weather in Paris?"
ANSWER = '{"city":"Paris"}'


class Weather(BaseModel):
    city: str


class GetWeather(BaseModel):
    """Current weather in a city"""

    city: str


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
def test_chat_completions_parse_gives_the_pydantic_model(client, model):
    completion = client.chat.completions.parse(model=model, messages=user(QUESTION), response_format=Weather)

    assert completion.model == model
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.parsed == Weather(city="Paris")
    assert json.loads(choice.message.content) == {"city": "Paris"}
    assert not choice.message.tool_calls, "Claude's forced tool must come back as text, not a call"
    assert choice.message.refusal is None


@pytest.mark.parametrize("model", MODELS)
def test_responses_parse_gives_the_pydantic_model(client, model):
    response = client.responses.parse(model=model, input=QUESTION, text_format=Weather)

    assert response.status == "completed"
    assert response.output_parsed == Weather(city="Paris")
    assert [item.type for item in response.output] == ["message"]
    assert json.loads(response.output_text) == {"city": "Paris"}
    assert response.text.format.type == "json_schema"
    assert response.text.format.name == "Weather"


@pytest.mark.parametrize("model", MODELS)
def test_a_streamed_json_schema_completion_joins_into_json(client, model):
    schema = Weather.model_json_schema() | {"additionalProperties": False}
    stream = client.chat.completions.create(
        model=model,
        messages=user(QUESTION),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Weather", "schema": schema, "strict": True},
        },
        stream=True,
    )
    chunks = [c for c in stream if c.choices]

    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert json.loads(text) == {"city": "Paris"}
    assert Weather.model_validate_json(text) == Weather(city="Paris")
    assert not any(c.choices[0].delta.tool_calls for c in chunks), "no tool-call deltas, only content"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason]
    assert finishes == ["stop"]


@pytest.mark.parametrize("model", MODELS)
def test_with_tools_of_the_clients_own_a_tool_call_still_comes_back(client, model):
    # Claude gets the schema as a system instruction then, so the client's tools stay callable.
    tool = openai.pydantic_function_tool(GetWeather, name="get_weather")

    completion = client.chat.completions.parse(
        model=model, messages=user(QUESTION), response_format=Weather, tools=[tool]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.parsed is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.parsed_arguments == GetWeather(city="Paris")
