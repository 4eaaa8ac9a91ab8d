// Code samples for the API usage page, filled with the gateway's base URL and a model id.

export interface SnippetInput {
  baseUrl: string
  model: string
}

export function curlSnippets({ baseUrl, model }: SnippetInput) {
  return {
    basic: `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $GAIA_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "${model}",
    "messages": [{"role": "user", "content": "Say hello in one word."}]
  }'`,
    streaming: `curl -N ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $GAIA_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "${model}",
    "messages": [{"role": "user", "content": "Count to five."}],
    "stream": true,
    "stream_options": {"include_usage": true}
  }'`,
    models: `curl ${baseUrl}/models -H "Authorization: Bearer $GAIA_API_KEY"`,
  }
}

export function pythonSnippets({ baseUrl, model }: SnippetInput) {
  return {
    basic: `import os
from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key=os.environ["GAIA_API_KEY"])

reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Say hello in one word."}],
)
print(reply.choices[0].message.content)
print(reply.usage)`,
    streaming: `import os
from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key=os.environ["GAIA_API_KEY"])

stream = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Count to five."}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
    if chunk.usage:
        print("\\n", chunk.usage)`,
    models: `for model in client.models.list():
    print(model.id)`,
  }
}

export function jsSnippets({ baseUrl, model }: SnippetInput) {
  return {
    basic: `import OpenAI from 'openai'

const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: process.env.GAIA_API_KEY })

const reply = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Say hello in one word.' }],
})
console.log(reply.choices[0].message.content, reply.usage)`,
    streaming: `import OpenAI from 'openai'

const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: process.env.GAIA_API_KEY })

const stream = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Count to five.' }],
  stream: true,
  stream_options: { include_usage: true },
})
for await (const chunk of stream) {
  process.stdout.write(chunk.choices[0]?.delta?.content ?? '')
  if (chunk.usage) console.log('\\n', chunk.usage)
}`,
    models: `for await (const model of client.models.list()) console.log(model.id)`,
  }
}
