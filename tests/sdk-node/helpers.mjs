// Shared by the *.test.mjs files: the official OpenAI SDK for Node pointed at GaiaRouter, the admin REST API,
// and mock-upstream's rules (bins/mock-upstream/src/conversation.rs), which make every answer predictable:
//
// - the answer is "echo: <text of the last user message that has text>" — a turn holding only a tool result
//   has none, so after a tool round trip the echo is of the question before it;
// - when tools are declared and the user spoke last, the answer is a call to the first tool with the
//   arguments {"city":"Paris"} instead;
// - prompt tokens = whitespace words of every message's text (tool results included) + 3; completion tokens
//   = words of the answer (a call: 1).
//
// tests/sdk/run.sh starts both servers and sets GAIA_URL (the gateway's base URL) and GAIA_KEY (its admin key).
//
// Every test is named "<api> · <provider> · <what it checks>" (see `name` below): matrix-reporter.mjs reads
// the API and the provider of each outcome from the name for docs/sdk-matrix.md.

import OpenAI from 'openai';
import { randomUUID } from 'node:crypto';

export { OpenAI };

/** The four providers of the Python tests, each with the model the tests talk to. */
export const PROVIDERS = [
  ['openai', 'openai/gpt-4o-mini'],
  ['anthropic', 'anthropic/claude-sonnet-4-5'],
  ['gemini', 'google/gemini-2.5-flash'],
  ['openrouter', 'openrouter/meta-llama/llama-3.1-8b-instruct'],
];

export const PROMPT = 'Say hello to the gateway in five words';
export const EXPECTED_TEXT = `echo: ${PROMPT}`;
export const QUESTION = 'What is the weather in Paris?';
export const TOOL_ARGUMENTS = '{"city":"Paris"}';
export const TOOL_OUTPUT = 'sunny';
/** A key of the gateway's format that no one has. */
export const WRONG_KEY = 'gaia_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

/** The test name the matrix reporter reads: "<api> · <provider> · <what it checks>". */
export function name(api, provider, what) {
  return `${api} · ${provider} · ${what}`;
}

/** Whitespace-separated words of the texts, as the mock counts them. */
export function words(...texts) {
  return texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
}

/** The mock's prompt tokens for a conversation whose messages hold these texts. */
export function promptTokens(...texts) {
  return words(...texts) + 3;
}

function env(variable) {
  const value = process.env[variable];
  if (!value) {
    throw new Error(`${variable} is not set: run the suite through tests/sdk/run.sh`);
  }
  return value;
}

export function gaiaUrl() {
  return env('GAIA_URL').replace(/\/+$/, '');
}

/** An SDK client with the given key (the admin key by default); no retries, so every error shows as sent. */
export function sdk(key = env('GAIA_KEY')) {
  return new OpenAI({ baseURL: `${gaiaUrl()}/v1`, apiKey: key, maxRetries: 0, timeout: 30_000 });
}

/** Calls GaiaRouter's management API with the admin key (plain fetch, no SDK) and returns the JSON answer. */
export async function admin(method, path, body) {
  const response = await fetch(gaiaUrl() + path, {
    method,
    headers: { Authorization: `Bearer ${env('GAIA_KEY')}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/** The secret of a new key in a new organization (docs/api/tenancy.md: the secret is `key`, shown once). */
export async function organizationKey(prefix) {
  const organization = await admin('POST', '/v1/organizations', {
    name: `${prefix}-${randomUUID().slice(0, 8)}`,
  });
  const created = await admin('POST', '/v1/api-keys', { organization_id: organization.id, name: 'sdk-node' });
  return created.key;
}

/** Every item of an async iterable (an SDK stream), in order. */
export async function collect(iterable) {
  const items = [];
  for await (const item of iterable) {
    items.push(item);
  }
  return items;
}
