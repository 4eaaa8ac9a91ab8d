// Embeddings through the official OpenAI SDK for Node (`client.embeddings.create`) against every provider
// that has them (Anthropic has none), played by mock-upstream. The contract (specs/embeddings.md): one
// vector per input, in input order; `encoding_format: 'base64'` is the vector's little-endian float32 bytes;
// `dimensions` shortens the vectors; usage counts the input. The mock's vectors are deterministic per text:
// the same text gives the same vector, different texts different ones.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { name, sdk } from './helpers.mjs';

/** The embedding models, by provider (provisional ids: the route and its registry entries are new). */
const MODELS = [
  ['openai', 'openai/text-embedding-3-small'],
  ['gemini', 'google/gemini-embedding-001'],
  ['openrouter', 'openrouter/openai/text-embedding-3-small'],
];

const API = 'embeddings';
const TEXT = 'The quick brown fox';
const TEXTS = ['first text to embed', 'the second one', 'first text to embed'];

const client = sdk();

/** Checks one embedding and returns its vector. */
function vectorOf(item, index) {
  assert.equal(item.object, 'embedding');
  assert.equal(item.index, index);
  assert.ok(Array.isArray(item.embedding), `embedding ${index} is a ${typeof item.embedding}`);
  assert.ok(item.embedding.length > 0, `embedding ${index} is empty`);
  assert.ok(
    item.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)),
    `embedding ${index} holds something other than finite numbers`,
  );
  return item.embedding;
}

/** The little-endian float32 values of a base64 string (whatever the machine's byte order). */
function littleEndianFloats(base64) {
  const bytes = Buffer.from(base64, 'base64');
  assert.equal(bytes.length % 4, 0, 'base64 of whole float32s');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

for (const [provider, model] of MODELS) {
  test(name(API, provider, 'a string input gives one vector of finite numbers and its usage'), async () => {
    const reply = await client.embeddings.create({ model, input: TEXT, encoding_format: 'float' });

    assert.equal(reply.object, 'list');
    assert.equal(reply.model, model);
    assert.equal(reply.data.length, 1);
    vectorOf(reply.data[0], 0);
    assert.ok(reply.usage.prompt_tokens > 0, `prompt_tokens ${reply.usage.prompt_tokens}`);
    assert.equal(reply.usage.total_tokens, reply.usage.prompt_tokens);
  });

  test(name(API, provider, 'a list of three strings gives three vectors in input order, equal texts equal vectors'), async () => {
    const reply = await client.embeddings.create({ model, input: TEXTS, encoding_format: 'float' });
    const alone = await client.embeddings.create({ model, input: TEXTS[1], encoding_format: 'float' });

    assert.equal(reply.data.length, TEXTS.length);
    const vectors = reply.data.map((item, index) => vectorOf(item, index));
    assert.ok(reply.usage.prompt_tokens > 0);
    assert.deepEqual(vectors[2], vectors[0], 'the same text twice gives the same vector');
    assert.notDeepEqual(vectors[1], vectors[0], 'different texts give different vectors');
    assert.deepEqual(vectorOf(alone.data[0], 0), vectors[1], 'a text embeds the same alone as in a list');
    assert.ok(new Set(vectors.map((v) => v.length)).size === 1, 'every vector of a model is as long');
  });

  test(name(API, provider, "encoding_format 'base64' is the float answer's little-endian float32 bytes"), async () => {
    const floats = await client.embeddings.create({ model, input: TEXTS, encoding_format: 'float' });
    const encoded = await client.embeddings.create({ model, input: TEXTS, encoding_format: 'base64' });

    assert.equal(encoded.data.length, TEXTS.length);
    encoded.data.forEach((item, index) => {
      assert.equal(item.index, index);
      assert.equal(typeof item.embedding, 'string', 'an explicit base64 answer is left as the string sent');
      assert.match(item.embedding, /^[A-Za-z0-9+/]*={0,2}$/);
      assert.deepEqual(littleEndianFloats(item.embedding), vectorOf(floats.data[index], index));
    });
  });

  test(name(API, provider, 'without encoding_format the SDK asks for base64 and decodes it to the same floats'), async () => {
    const floats = await client.embeddings.create({ model, input: TEXT, encoding_format: 'float' });
    const decoded = await client.embeddings.create({ model, input: TEXT });

    assert.deepEqual(vectorOf(decoded.data[0], 0), vectorOf(floats.data[0], 0));
  });

  test(name(API, provider, 'dimensions: 8 gives vectors of length 8'), async () => {
    const reply = await client.embeddings.create({ model, input: TEXTS, dimensions: 8, encoding_format: 'float' });

    assert.equal(reply.data.length, TEXTS.length);
    reply.data.forEach((item, index) => assert.equal(vectorOf(item, index).length, 8));
  });
}
