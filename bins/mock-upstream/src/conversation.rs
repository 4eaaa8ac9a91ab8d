//! Reading a request in any of the three dialects into the one thing the mock needs: how many prompt
//! tokens it has and what to answer. The rules are deliberately simple so a test can predict them:
//!
//! - the answer is `"echo: " + <text of the last user message>`;
//! - prompt tokens = whitespace-separated words in the text of every message (system prompts and tool
//!   results included) + 3; completion tokens = words in the answer (for a tool call: in its arguments);
//! - when tools are declared (and not disabled by a "none" tool choice) and the last message is the
//!   user's, the answer is a call to the first declared tool with [`TOOL_ARGUMENTS`];
//! - otherwise, when the request asks for a JSON schema (OpenAI-format `response_format.type:
//!   "json_schema"`, Gemini `generationConfig.responseSchema` or `responseJsonSchema`), the answer is the
//!   text [`TOOL_ARGUMENTS`] instead of the echo (Anthropic has no such field: a client forcing a tool
//!   gets the call above);
//! - when the request asks for reasoning (each dialect's own switch, see [`Conversation::reasoning`]), the
//!   answer also carries the reasoning `"thinking about: " + <text of the last user message>`, whose words
//!   are the reasoning tokens, and the dialects sign it with [`signature`].

use std::borrow::Cow;

use serde_json::Value;

/// The arguments of every mocked tool call.
pub const TOOL_ARGUMENTS: &str = r#"{"city":"Paris"}"#;
/// [`TOOL_ARGUMENTS`] as streamed, in two pieces.
pub const TOOL_ARGUMENT_PIECES: [&str; 2] = [r#"{"city":"#, r#""Paris"}"#];
/// Added to the prompt's word count, like the few tokens of framing a real tokenizer adds.
const PROMPT_OVERHEAD: u64 = 3;

/// What the mock answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Text(String),
    /// A call to the named tool with [`TOOL_ARGUMENTS`].
    ToolCall(String),
}

/// The start of every reasoning text.
const REASONING_PREFIX: &str = "thinking about: ";

/// A request reduced to what the answer depends on.
#[derive(Debug)]
pub struct Conversation {
    pub prompt_tokens: u64,
    pub reply: Reply,
    /// The reasoning text, when the request asked for reasoning: Anthropic `thinking.type: "enabled"`;
    /// OpenAI-format `reasoning_effort` other than "none", or a `reasoning` object other than
    /// `{"enabled": false}` / effort "none"; Gemini `generationConfig.thinkingConfig.includeThoughts`.
    pub reasoning: Option<String>,
}

impl Conversation {
    fn new(
        prompt_words: u64,
        last_user_text: String,
        tool: Option<&str>,
        last_is_user: bool,
        reasoning: bool,
        json_schema: bool,
    ) -> Self {
        let reasoning = reasoning.then(|| format!("{REASONING_PREFIX}{last_user_text}"));
        let reply = match tool {
            Some(name) if last_is_user => Reply::ToolCall(name.to_owned()),
            _ if json_schema => Reply::Text(TOOL_ARGUMENTS.to_owned()),
            _ => Reply::Text(format!("echo: {last_user_text}")),
        };
        Self {
            prompt_tokens: prompt_words + PROMPT_OVERHEAD,
            reply,
            reasoning,
        }
    }

    /// Reasoning tokens: the words of the reasoning (0 without it).
    pub fn reasoning_tokens(&self) -> u64 {
        self.reasoning.as_deref().map_or(0, count_words)
    }

    /// Completion tokens of the non-streamed answer.
    pub fn completion_tokens(&self) -> u64 {
        match &self.reply {
            Reply::Text(text) => count_words(text),
            Reply::ToolCall(_) => count_words(TOOL_ARGUMENTS),
        }
    }

    /// OpenAI (and OpenRouter) chat completions: `messages[].content` is a string or an array of parts.
    pub fn from_openai(body: &Value) -> Self {
        let messages = as_slice(&body["messages"]);
        let mut words = 0;
        let mut last_user = None;
        for message in messages {
            for_each_openai_text(&message["content"], &mut |t| words += count_words(t));
            if message["role"] == "user" {
                last_user = Some(&message["content"]);
            }
        }
        let mut last_user_text = String::new();
        if let Some(content) = last_user {
            for_each_openai_text(content, &mut |t| push_joined(&mut last_user_text, t));
        }
        let last_is_user = messages.last().is_some_and(|m| m["role"] == "user");
        let tool = as_slice(&body["tools"])
            .first()
            .and_then(|t| t["function"]["name"].as_str().or(t["name"].as_str()))
            .or_else(|| {
                as_slice(&body["functions"])
                    .first()
                    .and_then(|f| f["name"].as_str())
            })
            .filter(|_| body["tool_choice"] != "none");
        Self::new(
            words,
            last_user_text,
            tool,
            last_is_user,
            openai_reasoning(body),
            body["response_format"]["type"] == "json_schema",
        )
    }

    /// Anthropic messages: a top-level `system`, content blocks, tool results inside user messages.
    pub fn from_anthropic(body: &Value) -> Self {
        let mut words = 0;
        for_each_anthropic_text(&body["system"], &mut |t| words += count_words(t));
        let messages = as_slice(&body["messages"]);
        let mut last_user = None;
        for message in messages {
            let content = &message["content"];
            for_each_anthropic_text(content, &mut |t| words += count_words(t));
            for block in as_slice(content)
                .iter()
                .filter(|b| b["type"] == "tool_result")
            {
                for_each_anthropic_text(&block["content"], &mut |t| words += count_words(t));
            }
            if message["role"] == "user" && has_anthropic_text(content) {
                last_user = Some(content);
            }
        }
        let mut last_user_text = String::new();
        if let Some(content) = last_user {
            for_each_anthropic_text(content, &mut |t| push_joined(&mut last_user_text, t));
        }
        let last_is_user = messages.last().is_some_and(|m| {
            m["role"] == "user"
                && !as_slice(&m["content"])
                    .iter()
                    .any(|b| b["type"] == "tool_result")
        });
        let tool = as_slice(&body["tools"])
            .first()
            .and_then(|t| t["name"].as_str())
            .filter(|_| body["tool_choice"]["type"] != "none");
        let thinking = body["thinking"]["type"] == "enabled";
        Self::new(words, last_user_text, tool, last_is_user, thinking, false)
    }

    /// Gemini generateContent: `systemInstruction`, `contents[].parts[]`, roles `user` / `model`.
    pub fn from_gemini(body: &Value) -> Self {
        let mut words = 0;
        let system = either(body, "systemInstruction", "system_instruction");
        for part in as_slice(&system["parts"]) {
            words += part["text"].as_str().map_or(0, count_words);
        }
        let contents = as_slice(&body["contents"]);
        let mut last_user = None;
        for content in contents {
            let parts = as_slice(&content["parts"]);
            for part in parts {
                words += part["text"].as_str().map_or(0, count_words);
                let response = &either(part, "functionResponse", "function_response")["response"];
                words += string_leaf_words(response);
            }
            let is_user = content["role"].as_str().is_none_or(|r| r == "user");
            if is_user && parts.iter().any(|p| p["text"].is_string()) {
                last_user = Some(parts);
            }
        }
        let mut last_user_text = String::new();
        for part in last_user.unwrap_or_default() {
            if let Some(text) = part["text"].as_str() {
                push_joined(&mut last_user_text, text);
            }
        }
        let last_is_user = contents.last().is_some_and(|c| {
            c["role"].as_str().is_none_or(|r| r == "user")
                && !as_slice(&c["parts"])
                    .iter()
                    .any(|p| !either(p, "functionResponse", "function_response").is_null())
        });
        let config = either(
            either(body, "toolConfig", "tool_config"),
            "functionCallingConfig",
            "function_calling_config",
        );
        let tool = as_slice(&body["tools"])
            .iter()
            .find_map(|t| {
                as_slice(either(t, "functionDeclarations", "function_declarations")).first()
            })
            .and_then(|d| d["name"].as_str())
            .filter(|_| config["mode"] != "NONE");
        Self::new(
            words,
            last_user_text,
            tool,
            last_is_user,
            gemini_thoughts(body),
            gemini_schema(body),
        )
    }
}

/// OpenAI's `reasoning_effort` (anything but "none"), or OpenRouter's `reasoning` object (unless it is
/// `{"enabled": false}` or has effort "none"); either route accepts either.
fn openai_reasoning(body: &Value) -> bool {
    let effort = &body["reasoning_effort"];
    let object = &body["reasoning"];
    (!effort.is_null() && effort != "none")
        || (object.is_object() && object["enabled"] != false && object["effort"] != "none")
}

/// Gemini's `generationConfig.thinkingConfig.includeThoughts` (either spelling).
fn gemini_thoughts(body: &Value) -> bool {
    let config = either(body, "generationConfig", "generation_config");
    either(
        either(config, "thinkingConfig", "thinking_config"),
        "includeThoughts",
        "include_thoughts",
    ) == true
}

/// Gemini's `generationConfig.responseSchema` or `responseJsonSchema` (either spelling).
fn gemini_schema(body: &Value) -> bool {
    let config = either(body, "generationConfig", "generation_config");
    !either(config, "responseSchema", "response_schema").is_null()
        || !either(config, "responseJsonSchema", "response_json_schema").is_null()
}

/// The signature of a reasoning text or tool call: `"mocksig-"` + the FNV-1a 64-bit hash of its UTF-8
/// bytes in 16 lowercase hex digits. What the mock signs and what it checks a replayed signature against.
pub fn signature(text: &str) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = text.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    format!("mocksig-{hash:016x}")
}

/// A request body that is a JSON object; anything else (not JSON, or another JSON value) is `None`.
pub fn json_object(body: &[u8]) -> Option<Value> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

pub fn count_words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The streamed pieces of `text`: one per word, each with the whitespace before it (`"echo:"`, `" hi"`), so the pieces
/// join back to exactly `text`. With `forced > 0`, exactly that many one-word pieces instead, cycling
/// through the words (the joined text then differs from `text`; benchmarks want the chunk count).
pub fn text_pieces(text: &str, forced: usize) -> Vec<Cow<'_, str>> {
    if forced > 0 {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return vec![Cow::Borrowed(text)];
        }
        return (0..forced)
            .map(|i| {
                let word = words[i % words.len()];
                if i == 0 {
                    Cow::Borrowed(word)
                } else {
                    Cow::Owned(format!(" {word}"))
                }
            })
            .collect();
    }
    // A piece starts where a run of whitespace begins after a word.
    let mut starts = vec![0];
    let mut previous_was_space = true;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if space && !previous_was_space {
            starts.push(i);
        }
        previous_was_space = space;
    }
    // Trailing whitespace stays with the last word.
    if starts.len() > 1 && starts.last().is_some_and(|&s| text[s..].trim().is_empty()) {
        starts.pop();
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&s, e)| Cow::Borrowed(&text[s..e]))
        .collect()
}

pub fn as_slice(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// `value[camel]`, or `value[snake]` when absent: the Gemini API accepts both spellings.
pub fn either<'a>(value: &'a Value, camel: &str, snake: &str) -> &'a Value {
    match &value[camel] {
        Value::Null => &value[snake],
        found => found,
    }
}

fn push_joined(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(text);
}

fn for_each_openai_text<'a>(content: &'a Value, f: &mut impl FnMut(&'a str)) {
    match content {
        Value::String(s) => f(s),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).for_each(f),
        _ => {}
    }
}

/// Text of an Anthropic `system` or `content`: a string or text blocks (tool results excluded).
fn for_each_anthropic_text<'a>(content: &'a Value, f: &mut impl FnMut(&'a str)) {
    match content {
        Value::String(s) => f(s),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .for_each(f),
        _ => {}
    }
}

fn has_anthropic_text(content: &Value) -> bool {
    content.is_string() || as_slice(content).iter().any(|b| b["type"] == "text")
}

fn string_leaf_words(value: &Value) -> u64 {
    match value {
        Value::String(s) => count_words(s),
        Value::Array(items) => items.iter().map(string_leaf_words).sum(),
        Value::Object(map) => map.values().map(string_leaf_words).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_json_object_is_a_request_body() {
        assert_eq!(json_object(br#"{"a": 1}"#), Some(json!({"a": 1})));
        for body in [&b"nope"[..], b"[1]", b"\"text\"", b"", b"{\"a\":"] {
            assert_eq!(json_object(body), None, "{body:?}");
        }
    }

    #[test]
    fn pieces_join_back_to_the_exact_text() {
        for text in [
            "echo: hello  world\n!",
            "echo:",
            "  lead and trail  ",
            "échø: 日本 語",
        ] {
            let pieces = text_pieces(text, 0);
            assert_eq!(pieces.concat(), text);
            assert_eq!(pieces.len() as u64, count_words(text).max(1), "{pieces:?}");
        }
    }

    #[test]
    fn forced_pieces_cycle_through_the_words() {
        let pieces = text_pieces("echo: hi", 5);
        assert_eq!(pieces.concat(), "echo: hi echo: hi echo:");
        assert_eq!(text_pieces("echo: hi there", 0), ["echo:", " hi", " there"]);
    }

    #[test]
    fn openai_text_round_trips_and_counts_every_message() {
        let body = json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Say hello"}]}]});
        let c = Conversation::from_openai(&body);
        assert_eq!(c.reply, Reply::Text("echo: Say hello".into()));
        assert_eq!(c.prompt_tokens, 4 + 3);
        assert_eq!(c.completion_tokens(), 3);
    }

    #[test]
    fn tools_produce_a_call_only_when_the_user_spoke_last() {
        let tools = json!([{"type": "function", "function": {"name": "get_weather"}}]);
        let asked = json!({"tools": tools, "messages": [{"role": "user", "content": "Weather?"}]});
        assert_eq!(
            Conversation::from_openai(&asked).reply,
            Reply::ToolCall("get_weather".into())
        );
        let answered = json!({"tools": tools, "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null, "tool_calls": []},
            {"role": "tool", "tool_call_id": "c", "content": "sunny"}]});
        assert_eq!(
            Conversation::from_openai(&answered).reply,
            Reply::Text("echo: Weather?".into())
        );
    }

    #[test]
    fn anthropic_and_gemini_read_the_same_conversation_the_same_way() {
        let anthropic = json!({"system": "Be brief.", "tools": [{"name": "get_weather"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]}]});
        let gemini = json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
            "tools": [{"functionDeclarations": [{"name": "get_weather"}]}],
            "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}]});
        let (a, g) = (
            Conversation::from_anthropic(&anthropic),
            Conversation::from_gemini(&gemini),
        );
        assert_eq!(a.reply, Reply::ToolCall("get_weather".into()));
        assert_eq!(g.reply, Reply::ToolCall("get_weather".into()));
        assert_eq!((a.prompt_tokens, g.prompt_tokens), (8, 8));
    }

    #[test]
    fn a_none_tool_choice_gets_text() {
        let body = json!({"tools": [{"name": "t"}], "tool_choice": {"type": "none"},
            "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(
            Conversation::from_anthropic(&body).reply,
            Reply::Text("echo: hi".into())
        );
    }

    #[test]
    fn a_json_schema_is_answered_with_the_json_text_unless_a_tool_is_called() {
        let json = Reply::Text(TOOL_ARGUMENTS.into());
        let format = json!({"type": "json_schema",
            "json_schema": {"name": "Weather", "schema": {"type": "object"}, "strict": true}});
        let asked = json!({"response_format": format,
            "messages": [{"role": "user", "content": "Weather in Paris?"}]});
        let c = Conversation::from_openai(&asked);
        assert_eq!(c.reply, json);
        assert_eq!(c.completion_tokens(), 1);
        // Other formats keep the echo; a tool call still wins.
        for format in [json!({"type": "json_object"}), json!({"type": "text"})] {
            let body = json!({"response_format": format,
                "messages": [{"role": "user", "content": "hi"}]});
            assert_eq!(
                Conversation::from_openai(&body).reply,
                Reply::Text("echo: hi".into())
            );
        }
        let mut with_tools = asked.clone();
        with_tools["tools"] = json!([{"type": "function", "function": {"name": "get_weather"}}]);
        assert_eq!(
            Conversation::from_openai(&with_tools).reply,
            Reply::ToolCall("get_weather".into())
        );

        let contents = json!([{"role": "user", "parts": [{"text": "Weather in Paris?"}]}]);
        for config in [
            json!({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"}}),
            json!({"response_schema": {"type": "OBJECT"}}),
            json!({"responseJsonSchema": {"type": "object"}}),
            json!({"response_json_schema": {"type": "object"}}),
        ] {
            let body = json!({"contents": contents, "generationConfig": config});
            assert_eq!(Conversation::from_gemini(&body).reply, json, "{config}");
        }
        let mime_only = json!({"contents": contents,
            "generationConfig": {"responseMimeType": "application/json"}});
        assert_eq!(
            Conversation::from_gemini(&mime_only).reply,
            Reply::Text("echo: Weather in Paris?".into())
        );
    }

    #[test]
    fn the_signature_is_fnv1a_64_in_hex() {
        assert_eq!(signature(""), "mocksig-cbf29ce484222325");
        assert_eq!(signature("a"), "mocksig-af63dc4c8601ec8c");
        assert_eq!(
            signature("thinking about: hi there"),
            "mocksig-e9796a7e291bc4db"
        );
        assert_eq!(
            signature(r#"get_weather{"city":"Paris"}"#),
            "mocksig-bd987c961591f9d2"
        );
    }

    /// The reasoning of every request in these tests.
    fn reasoning() -> Option<String> {
        Some("thinking about: hi there".to_owned())
    }

    #[test]
    fn openai_format_reasoning_is_effort_or_a_reasoning_object() {
        let openai = |extra: Value| {
            let mut body = json!({"messages": [{"role": "user", "content": "hi there"}]});
            if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                b.extend(e);
            }
            Conversation::from_openai(&body).reasoning
        };
        for extra in [
            json!({"reasoning_effort": "low"}),
            json!({"reasoning_effort": "minimal"}),
            json!({"reasoning": {}}),
            json!({"reasoning": {"effort": "high"}}),
            json!({"reasoning": {"max_tokens": 100}}),
            json!({"reasoning": {"enabled": true}}),
        ] {
            assert_eq!(openai(extra.clone()), reasoning(), "{extra}");
        }
        for extra in [
            json!({}),
            json!({"reasoning_effort": "none"}),
            json!({"reasoning_effort": null}),
            json!({"reasoning": {"enabled": false}}),
            json!({"reasoning": {"effort": "none"}}),
        ] {
            assert_eq!(openai(extra.clone()), None, "{extra}");
        }
    }

    #[test]
    fn anthropic_and_gemini_reasoning_have_their_own_switches() {
        let messages = json!([{"role": "user", "content": "hi there"}]);
        let anthropic = |thinking: Value| {
            let body = json!({"thinking": thinking, "messages": messages});
            Conversation::from_anthropic(&body).reasoning
        };
        assert_eq!(
            anthropic(json!({"type": "enabled", "budget_tokens": 1024})),
            reasoning()
        );
        assert_eq!(anthropic(json!({"type": "disabled"})), None);
        assert_eq!(anthropic(Value::Null), None);
        let contents = json!([{"role": "user", "parts": [{"text": "hi there"}]}]);
        let gemini = |config: Value| {
            let body = json!({"contents": contents, "generationConfig": config});
            Conversation::from_gemini(&body).reasoning
        };
        assert_eq!(
            gemini(json!({"thinkingConfig": {"includeThoughts": true}})),
            reasoning()
        );
        assert_eq!(
            gemini(json!({"thinking_config": {"include_thoughts": true}})),
            reasoning()
        );
        assert_eq!(
            gemini(json!({"thinkingConfig": {"includeThoughts": false}})),
            None
        );
        assert_eq!(
            gemini(json!({"thinkingConfig": {"thinkingBudget": 512}})),
            None
        );
    }

    #[test]
    fn a_tool_call_reasons_about_the_last_user_text_too() {
        let body = json!({"tools": [{"name": "get_weather"}], "thinking": {"type": "enabled"},
            "messages": [{"role": "user", "content": "Weather in Paris?"}]});
        let c = Conversation::from_anthropic(&body);
        assert_eq!(c.reply, Reply::ToolCall("get_weather".into()));
        assert_eq!(
            c.reasoning.as_deref(),
            Some("thinking about: Weather in Paris?")
        );
        assert_eq!((c.reasoning_tokens(), c.completion_tokens()), (5, 1));
    }
}
