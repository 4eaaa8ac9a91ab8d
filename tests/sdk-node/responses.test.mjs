// The Responses API through the official OpenAI SDK for Node, streamed, against every provider's mock: the raw
// event stream of `responses.create({stream: true})`, the `responses.stream()` helper and `finalResponse()`,
// a function tool round trip, stored responses continued by `previous_response_id` and retrieved, and the
// SDK's error classes. The mock's rules are in helpers.mjs; specs/responses.md is the gateway's side.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import OpenAI from 'openai';

import {
  EXPECTED_TEXT,
  PROMPT,
  PROVIDERS,
  QUESTION,
  TOOL_ARGUMENTS,
  TOOL_OUTPUT,
  WRONG_KEY,
  collect,
  name,
  organizationKey,
  promptTokens,
  sdk,
  words,
} from './helpers.mjs';

const API = 'responses';
const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};
const ANSWER = `echo: ${QUESTION}`;

const client = sdk();
/** A client whose key belongs to an organization of its own, which keeps its stored responses. */
let keeper;

before(async () => {
  keeper = sdk(await organizationKey('sdk-node-keeper'));
});

function user(text) {
  return { role: 'user', content: text };
}

function toolOutput(callId) {
  return { type: 'function_call_output', call_id: callId, output: TOOL_OUTPUT };
}

function deltas(events, type) {
  return events.filter((e) => e.type === type).map((e) => e.delta).join('');
}

/**
 * Checks a raw event stream and returns its final response: sequence_number runs 0, 1, 2, … without gaps,
 * response.created comes first and response.completed last (and nowhere else), every response event is of
 * one response id, and the output_text deltas join to the final response's text.
 */
function folded(events) {
  const types = events.map((e) => e.type);
  assert.deepEqual(events.map((e) => e.sequence_number), [...Array(events.length).keys()], types.join(' '));
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(types.filter((t) => t === 'response.created' || t === 'response.completed').length, 2);
  const final = events.at(-1).response;
  assert.equal(final.status, 'completed');
  for (const event of events.filter((e) => e.response)) {
    assert.equal(event.response.id, final.id);
  }
  assert.equal(events[0].response.status, 'in_progress');
  assert.deepEqual(events[0].response.output, []);
  const text = final.output
    .filter((item) => item.type === 'message')
    .flatMap((item) => item.content.map((part) => part.text))
    .join('');
  assert.equal(deltas(events, 'response.output_text.delta'), text);
  return final;
}

function theCall(response) {
  const calls = response.output.filter((item) => item.type === 'function_call');
  assert.equal(calls.length, 1, JSON.stringify(response.output));
  return calls[0];
}

/** Retrieves a response stored in the background once its stream ended (within a few seconds). */
async function retrieveWhenStored(owner, id) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await owner.responses.retrieve(id);
    } catch (error) {
      if (!(error instanceof OpenAI.NotFoundError) || Date.now() > deadline) {
        throw error;
      }
      await sleep(100);
    }
  }
}

for (const [provider, model] of PROVIDERS) {
  test(name(API, provider, 'raw stream: created first, completed last, sequence numbers from 0, deltas join to the text'), async () => {
    const events = await collect(await client.responses.create({ model, input: PROMPT, stream: true }));

    const final = folded(events);
    assert.ok(final.id.startsWith('resp_'));
    assert.equal(final.model, model);
    assert.deepEqual(final.output.map((item) => item.type), ['message']);
    assert.equal(deltas(events, 'response.output_text.delta'), EXPECTED_TEXT);
    const done = events.find((e) => e.type === 'response.output_text.done');
    assert.equal(done.text, EXPECTED_TEXT);
    assert.equal(final.usage.input_tokens, promptTokens(PROMPT));
    assert.equal(final.usage.output_tokens, words(EXPECTED_TEXT));
  });

  test(name(API, provider, 'stream helper: the events and finalResponse() give the echo and usage'), async () => {
    const stream = client.responses.stream({ model, input: PROMPT });
    const texts = [];
    stream.on('response.output_text.delta', (event) => texts.push(event.delta));

    const events = await collect(stream);
    const final = await stream.finalResponse();

    assert.equal(texts.join(''), EXPECTED_TEXT);
    assert.equal(folded(events).id, final.id);
    assert.equal(final.status, 'completed');
    assert.equal(final.model, model);
    assert.equal(final.output_text, EXPECTED_TEXT);
    assert.equal(final.usage.input_tokens, promptTokens(PROMPT));
    assert.equal(final.usage.output_tokens, words(EXPECTED_TEXT));
    assert.equal(final.usage.total_tokens, final.usage.input_tokens + final.usage.output_tokens);
  });

  test(name(API, provider, 'a function call streams, and its function_call_output round trip answers'), async () => {
    const events = await collect(
      await client.responses.create({ model, input: QUESTION, tools: [WEATHER_TOOL], stream: true }),
    );
    const first = folded(events);

    assert.equal(deltas(events, 'response.function_call_arguments.delta'), TOOL_ARGUMENTS);
    assert.deepEqual(first.output.map((item) => item.type), ['function_call']);
    const call = theCall(first);
    assert.ok(call.id.startsWith('fc_'));
    assert.ok(call.call_id);
    assert.deepEqual([call.name, call.arguments, call.status], ['get_weather', TOOL_ARGUMENTS, 'completed']);
    const added = events.find((e) => e.type === 'response.output_item.added').item;
    assert.deepEqual([added.type, added.name, added.call_id], ['function_call', 'get_weather', call.call_id]);

    // The output items go back as they came, then the call's output under its call_id.
    const stream = client.responses.stream({
      model,
      input: [user(QUESTION), ...first.output, toolOutput(call.call_id)],
      tools: [WEATHER_TOOL],
    });
    const texts = [];
    stream.on('response.output_text.delta', (event) => texts.push(event.delta));
    const second = await stream.finalResponse();

    assert.equal(texts.join(''), ANSWER);
    assert.deepEqual(second.output.map((item) => item.type), ['message']);
    assert.equal(second.output_text, ANSWER);
    assert.equal(second.usage.input_tokens, promptTokens(QUESTION, TOOL_OUTPUT));
    assert.equal(second.usage.output_tokens, words(ANSWER));
  });

  test(name(API, provider, 'stream helper: the function call of finalResponse() round trips'), async () => {
    const first = await client.responses.stream({ model, input: QUESTION, tools: [WEATHER_TOOL] }).finalResponse();
    const call = theCall(first);
    assert.deepEqual([call.name, call.arguments], ['get_weather', TOOL_ARGUMENTS]);

    const second = await client.responses
      .stream({ model, input: [user(QUESTION), ...first.output, toolOutput(call.call_id)], tools: [WEATHER_TOOL] })
      .finalResponse();

    assert.equal(second.output_text, ANSWER);
    assert.equal(second.usage.input_tokens, promptTokens(QUESTION, TOOL_OUTPUT));
  });

  test(name(API, provider, 'store and previous_response_id continue a streamed conversation; retrieve returns it'), async () => {
    const turns = ['my name is ada', 'what is my name'];
    const first = await keeper.responses.stream({ model, input: turns[0], store: true }).finalResponse();
    assert.equal(first.store, true);
    assert.equal(first.output_text, `echo: ${turns[0]}`);

    // A streamed response is stored in the background once its stream ended.
    const retrieved = await retrieveWhenStored(keeper, first.id);
    assert.equal(retrieved.id, first.id);
    assert.equal(retrieved.status, 'completed');
    assert.equal(retrieved.output_text, first.output_text);
    assert.deepEqual(retrieved.usage, first.usage);

    const events = await collect(
      await keeper.responses.create({
        model,
        input: turns[1],
        previous_response_id: first.id,
        store: true,
        stream: true,
      }),
    );
    const second = folded(events);

    assert.equal(second.previous_response_id, first.id);
    assert.equal(deltas(events, 'response.output_text.delta'), `echo: ${turns[1]}`);
    // The stored turn (its input and output) goes before the new input.
    assert.equal(second.usage.input_tokens, promptTokens(turns[0], `echo: ${turns[0]}`, turns[1]));
    const again = await retrieveWhenStored(keeper, second.id);
    assert.equal(again.previous_response_id, first.id);
    assert.equal(again.output_text, `echo: ${turns[1]}`);
  });

  test(name(API, provider, 'a wrong key raises AuthenticationError (401)'), async () => {
    await assert.rejects(sdk(WRONG_KEY).responses.create({ model, input: PROMPT, stream: true }), (error) => {
      assert.ok(error instanceof OpenAI.AuthenticationError, `${error?.constructor?.name}: ${error}`);
      assert.equal(error.status, 401);
      return true;
    });
  });

  test(name(API, provider, 'an unknown model raises NotFoundError (404)'), async () => {
    const unknown = `${model.split('/')[0]}/no-such-model`;

    await assert.rejects(client.responses.create({ model: unknown, input: PROMPT, stream: true }), (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, `${error?.constructor?.name}: ${error}`);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'model_not_found');
      assert.equal(error.param, 'model');
      return true;
    });
  });
}
