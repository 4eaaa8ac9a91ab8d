// Chat completions through the official OpenAI SDK for Node, streamed, against every provider's mock:
// raw `create({stream: true})` chunks and the SDK's `chat.completions.stream()` helper, plain text and a
// function tool round trip, and the SDK's error classes. The mock's rules are in helpers.mjs.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import OpenAI from 'openai';

import {
  EXPECTED_TEXT,
  PROMPT,
  PROVIDERS,
  QUESTION,
  TOOL_OUTPUT,
  WRONG_KEY,
  collect,
  name,
  promptTokens,
  sdk,
  words,
} from './helpers.mjs';

const API = 'chat';
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};
const ANSWER = `echo: ${QUESTION}`;

const client = sdk();

function user(text) {
  return [{ role: 'user', content: text }];
}

/** The joined content deltas of streamed chunks. */
function joinedText(chunks) {
  return chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
}

function finishReasons(chunks) {
  return chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean);
}

/** Streamed tool-call deltas accumulated by index, as a client does by hand. */
function accumulatedCalls(chunks) {
  const calls = new Map();
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
      const call = calls.get(delta.index) ?? { id: null, type: null, name: '', arguments: '' };
      call.id = delta.id ?? call.id;
      call.type = delta.type ?? call.type;
      call.name += delta.function?.name ?? '';
      call.arguments += delta.function?.arguments ?? '';
      calls.set(delta.index, call);
    }
  }
  return calls;
}

/** The conversation after a get_weather call: the question, the assistant's call, the tool's output. */
function toolRoundTrip(assistantMessage, callId) {
  return [
    ...user(QUESTION),
    assistantMessage,
    { role: 'tool', tool_call_id: callId, content: TOOL_OUTPUT },
  ];
}

for (const [provider, model] of PROVIDERS) {
  test(name(API, provider, 'raw stream: the deltas join to the echo, one id, finish stop, no usage unasked'), async () => {
    const chunks = await collect(
      await client.chat.completions.create({ model, messages: user(PROMPT), stream: true }),
    );

    assert.equal(joinedText(chunks), EXPECTED_TEXT);
    assert.deepEqual(finishReasons(chunks), ['stop']);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.deepEqual(new Set(chunks.map((c) => c.id)).size, 1, 'every chunk carries the same id');
    assert.ok(chunks.every((c) => c.usage == null), 'usage was sent although the client did not ask for it');
    assert.equal(chunks[0].model, model);
  });

  test(name(API, provider, 'raw stream with include_usage ends with a usage chunk without choices'), async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model,
        messages: user(PROMPT),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    assert.equal(joinedText(chunks), EXPECTED_TEXT);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(
      [last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens],
      [promptTokens(PROMPT), words(EXPECTED_TEXT), promptTokens(PROMPT) + words(EXPECTED_TEXT)],
    );
    assert.ok(chunks.slice(0, -1).every((c) => c.usage == null), 'usage only in the last chunk');
  });

  test(name(API, provider, 'raw stream: a tool call accumulates, and its round trip streams the answer'), async () => {
    const first = await collect(
      await client.chat.completions.create({
        model,
        messages: user(QUESTION),
        tools: [WEATHER_TOOL],
        stream: true,
      }),
    );

    const calls = accumulatedCalls(first);
    assert.deepEqual([...calls.keys()], [0]);
    const call = calls.get(0);
    assert.ok(call.id, 'the call has an id');
    assert.equal(call.type, 'function');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.deepEqual(finishReasons(first), ['tool_calls']);
    assert.equal(joinedText(first), '');

    const assistant = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
    };
    const second = await collect(
      await client.chat.completions.create({
        model,
        messages: toolRoundTrip(assistant, call.id),
        tools: [WEATHER_TOOL],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    assert.equal(joinedText(second), ANSWER);
    assert.deepEqual(finishReasons(second), ['stop']);
    assert.equal(accumulatedCalls(second).size, 0, 'no call after the tool output');
    const usage = second.at(-1).usage;
    assert.equal(usage.prompt_tokens, promptTokens(QUESTION, TOOL_OUTPUT));
    assert.equal(usage.completion_tokens, words(ANSWER));
  });

  test(name(API, provider, 'stream helper: content events and finalChatCompletion() give the echo and usage'), async () => {
    const stream = client.chat.completions.stream({
      model,
      messages: user(PROMPT),
      stream_options: { include_usage: true },
    });
    const deltas = [];
    stream.on('content', (delta) => deltas.push(delta));

    const final = await stream.finalChatCompletion();

    assert.equal(deltas.join(''), EXPECTED_TEXT);
    assert.equal(final.model, model);
    assert.equal(final.choices.length, 1);
    assert.equal(final.choices[0].message.role, 'assistant');
    assert.equal(final.choices[0].message.content, EXPECTED_TEXT);
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(await stream.finalContent(), EXPECTED_TEXT);
    assert.equal(final.usage.prompt_tokens, promptTokens(PROMPT));
    assert.equal(final.usage.completion_tokens, words(EXPECTED_TEXT));
  });

  test(name(API, provider, 'stream helper: the final tool call goes back as sent and the answer streams'), async () => {
    const stream = client.chat.completions.stream({ model, messages: user(QUESTION), tools: [WEATHER_TOOL] });
    const done = [];
    stream.on('tool_calls.function.arguments.done', (event) => done.push(event));

    const first = await stream.finalChatCompletion();

    assert.deepEqual(
      done.map((e) => [e.index, e.name, e.arguments]),
      [[0, 'get_weather', first.choices[0].message.tool_calls[0].function.arguments]],
    );
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const [call] = choice.message.tool_calls;
    assert.equal(choice.message.tool_calls.length, 1);
    assert.ok(call.id);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });

    // The SDK's own message object goes back into the conversation unchanged, as its examples do.
    const second = client.chat.completions.stream({
      model,
      messages: toolRoundTrip(choice.message, call.id),
      tools: [WEATHER_TOOL],
      stream_options: { include_usage: true },
    });
    const chunks = await collect(second);
    const final = await second.finalChatCompletion();

    assert.equal(joinedText(chunks.filter((c) => c.choices.length)), ANSWER);
    assert.equal(final.choices[0].message.content, ANSWER);
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.ok(!final.choices[0].message.tool_calls?.length, 'no call after the tool output');
    assert.equal(final.usage.prompt_tokens, promptTokens(QUESTION, TOOL_OUTPUT));
  });

  test(name(API, provider, 'a wrong key raises AuthenticationError (401)'), async () => {
    const stranger = sdk(WRONG_KEY);

    await assert.rejects(
      stranger.chat.completions.create({ model, messages: user(PROMPT), stream: true }),
      (error) => {
        assert.ok(error instanceof OpenAI.AuthenticationError, `${error?.constructor?.name}: ${error}`);
        assert.equal(error.status, 401);
        return true;
      },
    );
  });

  test(name(API, provider, 'an unknown model raises NotFoundError (404)'), async () => {
    const unknown = `${model.split('/')[0]}/no-such-model`;

    await assert.rejects(
      client.chat.completions.create({ model: unknown, messages: user(PROMPT), stream: true }),
      (error) => {
        assert.ok(error instanceof OpenAI.NotFoundError, `${error?.constructor?.name}: ${error}`);
        assert.equal(error.status, 404);
        return true;
      },
    );
  });
}
