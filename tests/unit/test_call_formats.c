/*
 * test_call_formats.c - the call stage's provider formats: requests
 * translated from the canonical OpenAI chat body, answers normalised to
 * chat.completion (llmroute(1), RESULT LINES) with usage and finish reasons.
 */
#include <stdlib.h>
#include "harness.h"
#include "../../plugins/call/common.c"
#include "../../plugins/call/openai.c"
#include "../../plugins/call/anthropic.c"
#include "../../plugins/call/gemini.c"
#include "../../plugins/call/replay.c"
#include "../../plugins/call/agree.c"

/* Consumes v.  The value at jq-like path p of v as compact JSON text in
 * a static buffer ("<absent>" when missing). */
static const char *at(jv v, const char *path)
{
  static char out[2048];
  jv cur = v;
  char key[128];
  const char *p = path;
  while(*p) {
    size_t n = strcspn(p, ".");
    snprintf(key, sizeof(key), "%.*s", (int)n, p);
    if(jv_get_kind(cur) == JV_KIND_ARRAY) {
      jv next = jv_array_get(cur, atoi(key));
      cur = next;
    }
    else if(jv_get_kind(cur) == JV_KIND_OBJECT) {
      jv next = jv_object_get(cur, jv_string(key));
      cur = next;
    }
    else {
      jv_free(cur);
      cur = jv_invalid();
    }
    if(!jv_is_valid(cur)) {
      jv_free(cur);
      return "<absent>";
    }
    p += n;
    if(*p == '.')
      p++;
  }
  jv s = jv_dump_string(cur, 0);
  snprintf(out, sizeof(out), "%s", jv_string_value(s));
  jv_free(s);
  return out;
}

static jv parse(const char *s)
{
  jv v = jv_parse(s);
  if(!jv_is_valid(v)) {
    printf("FAIL: bad test JSON: %s\n", s);
    exit(1);
  }
  return v;
}

static const char *canonical =
  "{\"model\":\"auto\",\"messages\":["
  "{\"role\":\"system\",\"content\":\"Be terse.\"},"
  "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
  "\"text\":\"JSON only.\"}]},"
  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Look:\"},"
  "{\"type\":\"image_url\",\"image_url\":{\"url\":"
  "\"data:image/png;base64,iVBOR\"}}]},"
  "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
  "\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
  "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
  "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sunny\"},"
  "{\"role\":\"user\",\"content\":\"and tomorrow?\"}],"
  "\"max_tokens\":300,\"temperature\":1.4,\"top_p\":0.9,\"stop\":\"END\","
  "\"stream\":true,"
  "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{"
  "\"name\":\"w\",\"schema\":{\"type\":\"object\"}}},"
  "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
  "\"description\":\"weather\",\"parameters\":{\"type\":\"object\","
  "\"properties\":{\"city\":{\"type\":\"string\"}}}}}],"
  "\"tool_choice\":\"required\"}";

static void test_openai(void)
{
  jv body = parse(canonical);
  jv r = call_openai.request(body, "gpt-5-nano", 0);
  CHECK_STR("openai: model replaced", at(jv_copy(r), "model"),
            "\"gpt-5-nano\"");
  CHECK_STR("openai: max_completion_tokens for OpenAI",
            at(jv_copy(r), "max_completion_tokens"), "300");
  CHECK_STR("openai: max_tokens dropped", at(jv_copy(r), "max_tokens"),
            "<absent>");
  CHECK_STR("openai: stream dropped", at(jv_copy(r), "stream"), "<absent>");
  CHECK_STR("openai: messages kept", at(jv_copy(r), "messages.5.content"),
            "\"and tomorrow?\"");
  jv_free(r);
  r = call_openai.request(body, "llama3", CALL_F_MAX_TOKENS);
  CHECK_STR("openai: max_tokens for local servers",
            at(jv_copy(r), "max_tokens"), "300");
  CHECK_STR("openai: no max_completion_tokens for local servers",
            at(jv_copy(r), "max_completion_tokens"), "<absent>");
  jv_free(r);
  jv_free(body);

  char *u = call_openai.url("http://127.0.0.1:9/v1/", "x");
  CHECK_STR("openai: url", u, "http://127.0.0.1:9/v1/chat/completions");
  free(u);

  struct call_usage us;
  jv c = call_openai.response(parse(
    "{\"id\":\"x1\",\"object\":\"chat.completion\",\"created\":5,"
    "\"model\":\"gpt-5-nano\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":7,"
    "\"total_tokens\":107,\"prompt_tokens_details\":{\"cached_tokens\":40}}}"),
    "gpt-5-nano", &us);
  CHECK("openai: answer valid", jv_is_valid(c));
  CHECK_STR("openai: refusal filled",
            at(jv_copy(c), "choices.0.message.refusal"), "null");
  CHECK_STR("openai: logprobs filled", at(jv_copy(c), "choices.0.logprobs"),
            "null");
  CHECK_INT("openai: usage input", us.input, 100);
  CHECK_INT("openai: usage cached", us.cached, 40);
  CHECK_INT("openai: usage output", us.output, 7);
  jv_free(c);

  /* Ollama: no id, no usage details; DeepSeek cache field */
  c = call_openai.response(parse(
    "{\"choices\":[{\"message\":{\"content\":\"ok\"},"
    "\"finish_reason\":\"weird\"}],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":2,\"prompt_cache_hit_tokens\":4}}"),
    "llama3", &us);
  CHECK("openai: sparse answer completed", jv_is_valid(c));
  CHECK_STR("openai: object set", at(jv_copy(c), "object"),
            "\"chat.completion\"");
  CHECK("openai: id made", at(jv_copy(c), "id")[0] == '"');
  CHECK_STR("openai: model filled", at(jv_copy(c), "model"), "\"llama3\"");
  CHECK_STR("openai: unknown finish mapped",
            at(jv_copy(c), "choices.0.finish_reason"), "\"stop\"");
  CHECK_STR("openai: role set", at(jv_copy(c), "choices.0.message.role"),
            "\"assistant\"");
  CHECK_STR("openai: total filled", at(jv_copy(c), "usage.total_tokens"),
            "11");
  CHECK_INT("openai: DeepSeek cache read", us.cached, 4);
  jv_free(c);

  c = call_openai.response(parse("{\"choices\":[]}"), "m", &us);
  CHECK("openai: no choices is invalid", !jv_is_valid(c));
  jv_free(c);
  c = call_openai.response(parse("[1,2]"), "m", &us);
  CHECK("openai: array is invalid", !jv_is_valid(c));
  jv_free(c);
}

static void test_anthropic(void)
{
  jv body = parse(canonical);
  jv r = call_anthropic.request(body, "claude-haiku-4-5", 0);
  CHECK("anthropic: request valid", jv_is_valid(r));
  CHECK_STR("anthropic: system joined", at(jv_copy(r), "system"),
            "\"Be terse.\\n\\nJSON only.\"");
  CHECK_STR("anthropic: max_tokens", at(jv_copy(r), "max_tokens"), "300");
  CHECK_STR("anthropic: temperature clamped", at(jv_copy(r), "temperature"),
            "1");
  CHECK_STR("anthropic: stop_sequences", at(jv_copy(r), "stop_sequences"),
            "[\"END\"]");
  CHECK_STR("anthropic: first is user", at(jv_copy(r), "messages.0.role"),
            "\"user\"");
  CHECK_STR("anthropic: image block",
            at(jv_copy(r), "messages.0.content.1.source.media_type"),
            "\"image/png\"");
  CHECK_STR("anthropic: tool_use",
            at(jv_copy(r), "messages.1.content.0.input.city"), "\"Paris\"");
  CHECK_STR("anthropic: tool_result merged with the next user turn",
            at(jv_copy(r), "messages.2.content.0.type"), "\"tool_result\"");
  CHECK_STR("anthropic: then the text",
            at(jv_copy(r), "messages.2.content.1.text"), "\"and tomorrow?\"");
  CHECK_STR("anthropic: three turns", at(jv_copy(r), "messages.3"),
            "<absent>");
  CHECK_STR("anthropic: tools", at(jv_copy(r), "tools.0.input_schema.type"),
            "\"object\"");
  CHECK_STR("anthropic: tool_choice any", at(jv_copy(r), "tool_choice.type"),
            "\"any\"");
  CHECK_STR("anthropic: structured output",
            at(jv_copy(r), "output_config.format.type"), "\"json_schema\"");
  jv_free(r);
  jv_free(body);

  body = parse("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  r = call_anthropic.request(body, "m", 0);
  CHECK_STR("anthropic: default max_tokens", at(jv_copy(r), "max_tokens"),
            "4096");
  CHECK_STR("anthropic: no system", at(jv_copy(r), "system"), "<absent>");
  jv_free(r);
  jv_free(body);

  struct call_usage us;
  jv c = call_anthropic.response(parse(
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
    "\"model\":\"claude-haiku-4-5\",\"content\":[{\"type\":\"text\","
    "\"text\":\"Let me check.\"},{\"type\":\"tool_use\",\"id\":\"tu1\","
    "\"name\":\"get_weather\",\"input\":{\"city\":\"Oslo\"}}],"
    "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":21,"
    "\"cache_read_input_tokens\":1850,\"cache_creation_input_tokens\":10,"
    "\"output_tokens\":9}}"), "claude-haiku-4-5", &us);
  CHECK("anthropic: answer valid", jv_is_valid(c));
  CHECK_STR("anthropic: object", at(jv_copy(c), "object"),
            "\"chat.completion\"");
  CHECK_STR("anthropic: text", at(jv_copy(c), "choices.0.message.content"),
            "\"Let me check.\"");
  CHECK_STR("anthropic: finish tool_calls",
            at(jv_copy(c), "choices.0.finish_reason"), "\"tool_calls\"");
  CHECK_STR("anthropic: tool call arguments are a string",
            at(jv_copy(c), "choices.0.message.tool_calls.0.function."
                           "arguments"), "\"{\\\"city\\\":\\\"Oslo\\\"}\"");
  CHECK_STR("anthropic: prompt_tokens include the cache",
            at(jv_copy(c), "usage.prompt_tokens"), "1881");
  CHECK_STR("anthropic: cached_tokens",
            at(jv_copy(c), "usage.prompt_tokens_details.cached_tokens"),
            "1850");
  CHECK_INT("anthropic: usage cache write", us.cache_write, 10);
  jv_free(c);

  c = call_anthropic.response(parse(
    "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
    "\"stop_reason\":\"max_tokens\"}"), "m", &us);
  CHECK_STR("anthropic: max_tokens -> length",
            at(jv_copy(c), "choices.0.finish_reason"), "\"length\"");
  jv_free(c);
  c = call_anthropic.response(parse("{\"type\":\"error\",\"error\":{}}"),
                              "m", &us);
  CHECK("anthropic: error object is invalid", !jv_is_valid(c));
  jv_free(c);
}

static void test_gemini(void)
{
  jv body = parse(canonical);
  jv r = call_gemini.request(body, "gemini-2.5-flash", 0);
  CHECK("gemini: request valid", jv_is_valid(r));
  CHECK_STR("gemini: systemInstruction",
            at(jv_copy(r), "systemInstruction.parts.1.text"),
            "\"JSON only.\"");
  CHECK_STR("gemini: user role", at(jv_copy(r), "contents.0.role"),
            "\"user\"");
  CHECK_STR("gemini: inline image",
            at(jv_copy(r), "contents.0.parts.1.inlineData.mimeType"),
            "\"image/png\"");
  CHECK_STR("gemini: model role", at(jv_copy(r), "contents.1.role"),
            "\"model\"");
  CHECK_STR("gemini: functionCall",
            at(jv_copy(r), "contents.1.parts.0.functionCall.args.city"),
            "\"Paris\"");
  CHECK_STR("gemini: functionResponse names the tool",
            at(jv_copy(r), "contents.2.parts.0.functionResponse.name"),
            "\"get_weather\"");
  CHECK_STR("gemini: maxOutputTokens",
            at(jv_copy(r), "generationConfig.maxOutputTokens"), "300");
  CHECK_STR("gemini: stopSequences",
            at(jv_copy(r), "generationConfig.stopSequences"), "[\"END\"]");
  CHECK_STR("gemini: JSON mime",
            at(jv_copy(r), "generationConfig.responseMimeType"),
            "\"application/json\"");
  CHECK_STR("gemini: schema",
            at(jv_copy(r), "generationConfig.responseJsonSchema.type"),
            "\"object\"");
  CHECK_STR("gemini: tools",
            at(jv_copy(r), "tools.0.functionDeclarations.0.name"),
            "\"get_weather\"");
  CHECK_STR("gemini: tool mode ANY",
            at(jv_copy(r), "toolConfig.functionCallingConfig.mode"),
            "\"ANY\"");
  jv_free(r);
  jv_free(body);

  char *u = call_gemini.url("http://h:1/", "gemini-2.5-flash");
  CHECK_STR("gemini: url", u,
            "http://h:1/v1beta/models/gemini-2.5-flash:generateContent");
  free(u);

  struct call_usage us;
  jv c = call_gemini.response(parse(
    "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":"
    "\"{\\\"label\\\":\\\"pos\\\"}\"}]},\"finishReason\":\"STOP\","
    "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":9,"
    "\"candidatesTokenCount\":6,\"thoughtsTokenCount\":24,"
    "\"cachedContentTokenCount\":3,\"totalTokenCount\":39},"
    "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc123\"}"),
    "gemini-2.5-flash", &us);
  CHECK("gemini: answer valid", jv_is_valid(c));
  CHECK_STR("gemini: id", at(jv_copy(c), "id"), "\"abc123\"");
  CHECK_STR("gemini: content", at(jv_copy(c), "choices.0.message.content"),
            "\"{\\\"label\\\":\\\"pos\\\"}\"");
  CHECK_STR("gemini: finish", at(jv_copy(c), "choices.0.finish_reason"),
            "\"stop\"");
  CHECK_STR("gemini: thoughts billed as output",
            at(jv_copy(c), "usage.completion_tokens"), "30");
  CHECK_INT("gemini: cached", us.cached, 3);
  jv_free(c);

  c = call_gemini.response(parse(
    "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":"
    "\"f\",\"args\":{\"a\":1}}}]},\"finishReason\":\"STOP\"}]}"), "g", &us);
  CHECK_STR("gemini: function call -> tool_calls",
            at(jv_copy(c), "choices.0.finish_reason"), "\"tool_calls\"");
  CHECK_STR("gemini: arguments string",
            at(jv_copy(c), "choices.0.message.tool_calls.0.function."
                           "arguments"), "\"{\\\"a\\\":1}\"");
  jv_free(c);
  c = call_gemini.response(parse(
    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},"
    "\"finishReason\":\"SAFETY\"}]}"), "g", &us);
  CHECK_STR("gemini: SAFETY -> content_filter",
            at(jv_copy(c), "choices.0.finish_reason"), "\"content_filter\"");
  jv_free(c);
  c = call_gemini.response(parse(
    "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}"), "g", &us);
  CHECK_STR("gemini: blocked prompt answered as content_filter",
            at(jv_copy(c), "choices.0.finish_reason"), "\"content_filter\"");
  jv_free(c);
  c = call_gemini.response(parse("{}"), "g", &us);
  CHECK("gemini: empty answer invalid", !jv_is_valid(c));
  jv_free(c);
}

static void test_headers(void)
{
  const char *key = "sk-unit-secret-0001";
  struct curl_slist *h = call_anthropic.headers(NULL, key);
  int version = 0, auth = 0;
  for(struct curl_slist *p = h; p; p = p->next) {
    version += !strcmp(p->data, "anthropic-version: 2023-06-01");
    auth += !strcmp(p->data, "x-api-key: sk-unit-secret-0001");
  }
  curl_slist_free_all(h);
  CHECK("anthropic: version and key headers", version == 1 && auth == 1);
  h = call_openai.headers(NULL, NULL);
  int any = 0;
  for(struct curl_slist *p = h; p; p = p->next)
    any += !strncmp(p->data, "Authorization", 13);
  curl_slist_free_all(h);
  CHECK("openai: no key, no Authorization header", any == 0);
  h = call_gemini.headers(NULL, key);
  any = 0;
  for(struct curl_slist *p = h; p; p = p->next)
    any += !strcmp(p->data, "x-goog-api-key: sk-unit-secret-0001");
  curl_slist_free_all(h);
  CHECK("gemini: x-goog-api-key", any == 1);
  CHECK("format lookup", call_format_find("gemini") == &call_gemini &&
                         call_format_find("nope") == NULL);
}

/* agree.c: the short answer of a text, and two answers compared. */
static void test_agree(void)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
    {"B", "L:B"}, {"B\n", "L:B"}, {" (C) wet palms", "L:C"},
    {"D. because iron", "L:D"}, {"['A']", "L:A"}, {"**B**", "L:B"},
    {"The answer is C.", "L:C"}, {"Answer: (D)", "L:D"},
    {"So the correct choice is \\boxed{E}.", "L:E"},
    {"Therefore \\boxed{42} apples.", "N:42"},
    {"The total is 1,204.50 dollars.", "N:1204.5"},
    {"It comes to 42.0", "N:42"}, {"x = -3", "N:-3"},
    {"Paris", "T:paris"}, {"  Rachel.", "T:rachel"},
    {"Apples are red", "T:applesarered"}, {"", ""},
    {"A long explanation that goes on and on without any figure at all, "
     "well past sixty bytes of prose.", ""},
  };
  char out[64], ea[64], eb[64];
  size_t i;
  jv a, b;

  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char name[160];
    agree_extract(cases[i].text, out, sizeof(out));
    snprintf(name, sizeof(name), "agree: short answer of \"%.40s\"",
             cases[i].text);
    for(char *c = name; *c; c++)
      if(*c == '\n')
        *c = ' ';
    CHECK_STR(name, out, cases[i].want);
  }
  a = jv_parse("{\"choices\":[{\"message\":{\"content\":\"B\"}}]}");
  b = jv_parse("{\"choices\":[{\"message\":{\"content\":"
               "\"The answer is B.\"}}]}");
  CHECK_INT("agree: B and 'answer is B' agree", agree_compare(a, b, ea, eb,
                                                              64), 1);
  jv_free(b);
  b = jv_parse("{\"choices\":[{\"message\":{\"content\":\"C\"}}]}");
  CHECK_INT("agree: B and C disagree", agree_compare(a, b, ea, eb, 64), 0);
  CHECK_STR("agree: the short answers written", eb, "L:C");
  jv_free(b);
  b = jv_parse("{\"choices\":[{\"message\":{\"content\":\"7\"}}]}");
  CHECK_INT("agree: a letter and a number cannot be compared",
            agree_compare(a, b, ea, eb, 64), -1);
  jv_free(b);
  b = jv_parse("{\"choices\":[]}");
  CHECK_INT("agree: no answer cannot be compared",
            agree_compare(a, b, ea, eb, 64), -1);
  jv_free(b);
  jv_free(a);
}

/* Usage a provider could not mean: counted 0, the first one noted, and
 * OpenAI's kept details checked the same way (strings dropped). */
static void test_impossible_usage(void)
{
  static const struct {
    const struct call_format *fmt;
    const char *name, *body, *note;
    long input, output;
  } cases[] = {
    {&call_openai, "openai: 1e308",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":1e308,\"completion_tokens\":3}}",
     "prompt_tokens 1e+308", 0, 3},
    {&call_openai, "openai: negative, fractional",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":-5,\"completion_tokens\":2.5}}",
     "prompt_tokens -5", 0, 0},
    {&call_openai, "openai: a string count",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":\"12\",\"completion_tokens\":1}}",
     "prompt_tokens is a string", 0, 1},
    {&call_openai, "openai: 2^53",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":9007199254740992,\"completion_tokens\":1}}",
     "prompt_tokens 9.0072e+15", 0, 1},
    {&call_openai, "openai: a detail",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":4,\"completion_tokens\":1,"
     "\"completion_tokens_details\":{\"reasoning_tokens\":-1e300,"
     "\"note\":\"sk-echo\"}}}",
     "reasoning_tokens -1e+300", 4, 1},
    {&call_anthropic, "anthropic: negative cache",
     "{\"content\":[{\"type\":\"text\",\"text\":\"a\"}],"
     "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":10,"
     "\"cache_read_input_tokens\":-100,\"output_tokens\":1e308}}",
     "cache_read_input_tokens -100", 10, 0},
    {&call_gemini, "gemini: infinite-ish thoughts",
     "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},"
     "\"finishReason\":\"STOP\"}],\"usageMetadata\":{"
     "\"promptTokenCount\":7,\"candidatesTokenCount\":2,"
     "\"thoughtsTokenCount\":-3}}",
     "thoughtsTokenCount -3", 7, 2},
    {&call_openai, "openai: sound",
     "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
     "{\"prompt_tokens\":9007199254740991,\"completion_tokens\":0}}",
     "", 9007199254740991L, 0},
  };
  size_t i;
  for(i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    struct call_usage us;
    char name[160];
    jv c = cases[i].fmt->response(parse(cases[i].body), "m", &us);
    snprintf(name, sizeof(name), "%s: answer kept", cases[i].name);
    CHECK(name, jv_is_valid(c));
    snprintf(name, sizeof(name), "%s: noted", cases[i].name);
    CHECK_STR(name, us.impossible, cases[i].note);
    snprintf(name, sizeof(name), "%s: input", cases[i].name);
    CHECK_INT(name, us.input, cases[i].input);
    snprintf(name, sizeof(name), "%s: output", cases[i].name);
    CHECK_INT(name, us.output, cases[i].output);
    snprintf(name, sizeof(name), "%s: every usage number a count",
             cases[i].name);
    {
      jv u = jv_getpath(jv_copy(c), jv_array_append(jv_array(),
                                                    jv_string("usage")));
      jv bad = jv_dump_string(jv_copy(u), 0);
      CHECK(name, !strstr(jv_string_value(bad), "e+") &&
                  !strstr(jv_string_value(bad), "-") &&
                  !strstr(jv_string_value(bad), "sk-echo"));
      jv_free(bad);
      jv_free(u);
    }
    jv_free(c);
  }
}

int main(void)
{
  test_impossible_usage();
  test_agree();
  test_openai();
  test_anthropic();
  test_gemini();
  test_headers();
  return harness_done();
}
