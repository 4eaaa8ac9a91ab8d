"""The official OpenAI Python SDK's `client.embeddings.create` against GaiaRouter, every provider that has
embeddings played by mock-upstream (specs/embeddings.md).

Run through tests/sdk/run.sh, which starts both servers and sets GAIA_URL and GAIA_KEY. The SDK asks for
`encoding_format: "base64"` whenever the caller sets none and decodes the vectors itself, so the default call
exercises the base64 path and `encoding_format="float"` the other. mock-upstream's vectors are deterministic
per text (bins/mock-upstream/src/embeddings.rs): 16 components by default, each a multiple of 1/1024, so a
vector decoded from base64 must equal the float one exactly. Usage: the OpenAI-format mocks count whitespace
words per input (token arrays: their ids); Gemini reports none and GaiaRouter counts the input with its
tokenizer.
"""

import os

import openai
import pytest
from openai import OpenAI

MODELS = [
    "openai/text-embedding-3-small",
    "google/gemini-embedding-001",
    "openrouter/openai/text-embedding-3-small",
]
TEXTS = ["the first text to embed", "a second one", "the first text to embed"]


@pytest.fixture(scope="module")
def client() -> OpenAI:
    return OpenAI(base_url=os.environ["GAIA_URL"] + "/v1", api_key=os.environ["GAIA_KEY"], max_retries=0)


def words(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


@pytest.mark.parametrize("model", MODELS)
def test_the_default_call_decodes_base64_to_the_same_vectors_as_floats(client, model):
    default = client.embeddings.create(model=model, input=TEXTS)
    floats = client.embeddings.create(model=model, input=TEXTS, encoding_format="float")
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert [d.index for d in default.data] == [0, 1, 2]
    assert all(d.object == "embedding" for d in default.data)
    assert default.object == "list" and default.model == model
    vectors = [d.embedding for d in floats.data]
    assert all(len(v) == 16 for v in vectors)
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]


@pytest.mark.parametrize("model", MODELS)
def test_usage_counts_the_input(client, model):
    reply = client.embeddings.create(model=model, input=TEXTS, encoding_format="float")
    assert reply.usage.prompt_tokens == reply.usage.total_tokens
    if model.startswith("google/"):
        # Counted by GaiaRouter's tokenizer: at least a token a word here.
        assert reply.usage.prompt_tokens >= words(*TEXTS)
    else:
        assert reply.usage.prompt_tokens == words(*TEXTS)


@pytest.mark.parametrize("model", MODELS)
def test_a_string_input_and_dimensions(client, model):
    reply = client.embeddings.create(model=model, input="one text", dimensions=8)
    assert len(reply.data) == 1
    assert len(reply.data[0].embedding) == 8
    full = client.embeddings.create(model=model, input="one text")
    assert full.data[0].embedding[:8] == reply.data[0].embedding


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "openrouter/openai/text-embedding-3-small"])
def test_token_arrays_reach_openai_format_providers(client, model):
    reply = client.embeddings.create(model=model, input=[[101, 102, 103], [7]])
    assert [len(d.embedding) for d in reply.data] == [16, 16]
    assert reply.usage.prompt_tokens == 4


def test_gemini_refuses_token_arrays_with_unprocessable_entity(client):
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.embeddings.create(model="google/gemini-embedding-001", input=[[1, 2, 3]])
    assert refused.value.body["param"] == "input"
    assert refused.value.body["code"] == "token_input_unsupported"


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini"])
def test_a_chat_model_raises_unprocessable_entity_model_kind_mismatch(client, model):
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.embeddings.create(model=model, input="x")
    assert refused.value.body["code"] == "model_kind_mismatch"
    assert refused.value.body["param"] == "model"


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small"])
def test_an_embedding_model_on_chat_raises_unprocessable_entity(client, model):
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.body["code"] == "model_kind_mismatch"


@pytest.mark.parametrize("model", MODELS)
def test_an_empty_input_raises_bad_request_naming_it(client, model):
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model=model, input=["fine", ""])
    assert refused.value.body["param"] == "input[1]"


def test_a_wrong_key_raises_authentication_error():
    stranger = OpenAI(base_url=os.environ["GAIA_URL"] + "/v1", api_key="gaia-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.embeddings.create(model=MODELS[0], input="x")
