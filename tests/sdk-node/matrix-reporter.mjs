// A `node --test` reporter that writes one JSON line per test outcome for scripts/sdk-matrix.py, the same
// lines tests/sdk/conftest.py writes for the Python SDKs:
//
//   {"sdk": "openai-node", "api": "chat", "provider": "openai", "test": "tests/sdk-node/chat.test.mjs::…",
//    "outcome": "passed" | "failed" | "skipped"}
//
// The API and the provider come from the test's name, "<api> · <provider> · <what it checks>" (helpers.mjs
// `name`). A test named otherwise — or a file that failed before its tests ran, which the runner reports as
// a failed test named after the file — counts under its file's API with the provider "-", so it still shows.
// Used beside the spec reporter by tests/sdk/run.sh:
//
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./matrix-reporter.mjs --test-reporter-destination=results.jsonl *.test.mjs

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = 'openai-node';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NAMED = /^(\S+) · (\S+) · .+$/s;
/** Provider prefixes of model ids as the matrix names the providers. */
const PROVIDER_NAMES = { google: 'gemini' };

function fileApi(file) {
  return file ? path.basename(file).replace(/\.test\.m?js$/, '') : '-';
}

function record(type, data) {
  const named = NAMED.exec(data.name);
  const api = named ? named[1] : fileApi(data.file);
  const provider = named ? (PROVIDER_NAMES[named[2]] ?? named[2]) : '-';
  const file = data.file ? path.relative(ROOT, data.file).split(path.sep).join('/') : '-';
  let outcome = 'passed';
  if (type === 'test:fail') {
    outcome = 'failed';
  } else if (data.skip || data.todo) {
    outcome = 'skipped';
  }
  return { sdk: SDK, api, provider, test: `${file}::${data.name}`, outcome };
}

export default async function* matrixReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') {
      continue;
    }
    if (event.data.details?.type === 'suite') {
      continue; // a describe block: its tests are reported one by one
    }
    yield `${JSON.stringify(record(event.type, event.data))}\n`;
  }
}
