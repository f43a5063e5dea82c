/*
 * test_msgtext.c - the message-text host services (llmroute.h, ABI 1.3)
 * as a stage sees them through the host table: request_text(),
 * content_text(), set_message_text() and map_text() on every request
 * shape, string and part contents, role sets and LLMR_TEXT_LAST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "llmroute-mock.h"

static const struct llmr_host *h;

/* The text chosen by which, as a C string in a static buffer. */
static const char *text_of(const char *json, unsigned which)
{
  static char buf[1024];
  jv req = jv_parse(json);
  jv t = h->request_text(req, which);

  snprintf(buf, sizeof(buf), "%s", jv_get_kind(t) == JV_KIND_STRING
                                   ? jv_string_value(t) : "(not a string)");
  jv_free(t);
  jv_free(req);
  return buf;
}

/* Compact JSON of v (consumed), in a static buffer. */
static const char *dump(jv v)
{
  static char buf[2048];
  jv s;

  if(!jv_is_valid(v)) {
    jv m = jv_invalid_get_msg(v);
    snprintf(buf, sizeof(buf), "invalid: %s",
             jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
    jv_free(m);
    return buf;
  }
  s = jv_dump_string(v, JV_PRINT_SORTED);
  snprintf(buf, sizeof(buf), "%s", jv_string_value(s));
  jv_free(s);
  return buf;
}

#define CHAT                                                               \
  "{\"custom_id\":\"a\",\"body\":{\"messages\":["                          \
  "{\"role\":\"system\",\"content\":\"Be brief.\"},"                       \
  "{\"role\":\"user\",\"content\":\"first question\"},"                    \
  "{\"role\":\"assistant\",\"content\":\"an answer\"},"                    \
  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"  \
  "{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}},"                \
  "{\"type\":\"text\",\"text\":\"at this\"}]}]}}"

static void test_request_text(void)
{
  CHECK_STR("all roles, in order", text_of(CHAT, LLMR_TEXT_ALL),
            "Be brief.\nfirst question\nan answer\nlook\nat this");
  CHECK_STR("user messages, parts joined",
            text_of(CHAT, LLMR_TEXT_USER), "first question\nlook\nat this");
  CHECK_STR("the last user message",
            text_of(CHAT, LLMR_TEXT_USER | LLMR_TEXT_LAST), "look\nat this");
  CHECK_STR("the last message of any role",
            text_of(CHAT, LLMR_TEXT_ALL | LLMR_TEXT_LAST), "look\nat this");
  CHECK_STR("system only", text_of(CHAT, LLMR_TEXT_SYSTEM), "Be brief.");
  CHECK_STR("assistant only", text_of(CHAT, LLMR_TEXT_ASSISTANT),
            "an answer");
  CHECK_STR("developer counts as system",
            text_of("{\"messages\":[{\"role\":\"developer\",\"content\":"
                    "\"d\"},{\"role\":\"user\",\"content\":\"u\"}]}",
                    LLMR_TEXT_SYSTEM), "d");
  CHECK_STR("a bare chat body",
            text_of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    LLMR_TEXT_USER), "hi");
  CHECK_STR("the prompt shorthand is a user message",
            text_of("{\"prompt\":\"short\"}", LLMR_TEXT_USER | LLMR_TEXT_LAST),
            "short");
  CHECK_STR("no role counts as user",
            text_of("{\"messages\":[{\"content\":\"x\"}]}", LLMR_TEXT_USER),
            "x");
  CHECK_STR("a tool message",
            text_of("{\"messages\":[{\"role\":\"tool\",\"content\":\"42\","
                    "\"tool_call_id\":\"c\"}]}", LLMR_TEXT_TOOL), "42");
  CHECK_STR("no messages: empty", text_of("{\"body\":{}}", LLMR_TEXT_ALL),
            "");
  CHECK_STR("not an object: empty", text_of("[1,2]", LLMR_TEXT_ALL), "");
  CHECK_STR("odd shapes never assert",
            text_of("{\"messages\":[7,{\"role\":3,\"content\":{}},"
                    "{\"content\":[5,{\"text\":9},{\"text\":\"ok\"}]}]}",
                    LLMR_TEXT_ALL), "ok");
  CHECK_STR("a part of another type with text is not text",
            text_of("{\"messages\":[{\"content\":[{\"type\":\"input_audio\","
                    "\"text\":\"no\"},{\"text\":\"yes\"}]}]}",
                    LLMR_TEXT_ALL), "yes");
  CHECK_STR("LAST with no such role: empty",
            text_of("{\"messages\":[{\"role\":\"user\",\"content\":\"u\"}]}",
                    LLMR_TEXT_ASSISTANT | LLMR_TEXT_LAST), "");
}

static void test_content_text(void)
{
  jv c = jv_parse("[{\"type\":\"text\",\"text\":\"a\"},"
                  "{\"type\":\"image_url\"},{\"text\":\"b\"}]");
  CHECK_STR("content parts", dump(h->content_text(c)), "\"a\\nb\"");
  jv_free(c);
  c = jv_string("plain");
  CHECK_STR("content string", dump(h->content_text(c)), "\"plain\"");
  jv_free(c);
  c = jv_parse("[{\"type\":\"image_url\"}]");
  CHECK_STR("no text: null", dump(h->content_text(c)), "null");
  jv_free(c);
  CHECK_STR("null content: null", dump(h->content_text(jv_null())), "null");
}

static void test_set_message_text(void)
{
  jv r;

  r = h->set_message_text(jv_parse(CHAT), 1, jv_string("replaced"));
  CHECK_STR("string content replaced",
            dump(h->request_text(r, LLMR_TEXT_USER)),
            "\"replaced\\nlook\\nat this\"");
  jv_free(r);
  r = h->set_message_text(jv_parse(CHAT), -1, jv_string("one"));
  CHECK_STR("parts: first text part gets it, image stays",
            dump(jv_object_get(jv_array_get(jv_object_get(jv_object_get(
              jv_copy(r), jv_string("body")), jv_string("messages")), 3),
              jv_string("content"))),
            "[{\"text\":\"one\",\"type\":\"text\"},{\"image_url\":{\"url\":"
            "\"x\"},\"type\":\"image_url\"}]");
  CHECK_STR("custom_id kept", dump(jv_object_get(jv_copy(r),
                                                 jv_string("custom_id"))),
            "\"a\"");
  jv_free(r);
  r = h->set_message_text(jv_parse("{\"messages\":[{\"role\":\"user\","
                                   "\"content\":[{\"type\":\"image_url\"}]}]}"),
                          0, jv_string("added"));
  CHECK_STR("parts without text: a text part added",
            dump(r), "{\"messages\":[{\"content\":[{\"type\":\"image_url\"},"
            "{\"text\":\"added\",\"type\":\"text\"}],\"role\":\"user\"}]}");
  CHECK_STR("the prompt shorthand",
            dump(h->set_message_text(jv_parse("{\"prompt\":\"p\"}"), 0,
                                     jv_string("q"))), "{\"prompt\":\"q\"}");
  CHECK_STR("index out of range",
            dump(h->set_message_text(jv_parse(CHAT), 4, jv_string("x"))),
            "invalid: no such message");
  CHECK_STR("negative index out of range",
            dump(h->set_message_text(jv_parse(CHAT), -5, jv_string("x"))),
            "invalid: no such message");
  CHECK_STR("text must be a string",
            dump(h->set_message_text(jv_parse(CHAT), 0, jv_number(1))),
            "invalid: the text is not a string");
  CHECK_STR("no messages",
            dump(h->set_message_text(jv_parse("{\"body\":{}}"), 0,
                                     jv_string("x"))),
            "invalid: the request has no messages");
}

/* A rewriter that upper-cases and counts its calls. */
static int calls;
static jv shout(void *ctx, jv text)
{
  char buf[256];
  size_t i;

  (void)ctx;
  calls++;
  snprintf(buf, sizeof(buf), "%s", jv_string_value(text));
  jv_free(text);
  for(i = 0; buf[i]; i++)
    if(buf[i] >= 'a' && buf[i] <= 'z')
      buf[i] = (char)(buf[i] - 'a' + 'A');
  return jv_string(buf);
}

/* A rewriter that refuses (returns no string): the text stays. */
static jv refuse(void *ctx, jv text)
{
  (void)ctx;
  jv_free(text);
  return jv_null();
}

static void test_map_text(void)
{
  jv r;

  calls = 0;
  r = h->map_text(jv_parse(CHAT), LLMR_TEXT_ALL, shout, NULL);
  CHECK_INT("map: one call a piece", calls, 5);
  CHECK_STR("map: every piece rewritten",
            dump(h->request_text(r, LLMR_TEXT_ALL)),
            "\"BE BRIEF.\\nFIRST QUESTION\\nAN ANSWER\\nLOOK\\nAT THIS\"");
  CHECK_STR("map: the image part untouched",
            dump(jv_object_get(jv_array_get(jv_object_get(jv_array_get(
              jv_object_get(jv_object_get(jv_copy(r), jv_string("body")),
                            jv_string("messages")), 3),
              jv_string("content")), 1), jv_string("type"))),
            "\"image_url\"");
  jv_free(r);
  calls = 0;
  r = h->map_text(jv_parse(CHAT), LLMR_TEXT_USER | LLMR_TEXT_LAST, shout,
                  NULL);
  CHECK_INT("map last user: two parts", calls, 2);
  CHECK_STR("map last user: only it",
            dump(h->request_text(r, LLMR_TEXT_ALL)),
            "\"Be brief.\\nfirst question\\nan answer\\nLOOK\\nAT THIS\"");
  jv_free(r);
  CHECK_STR("map: the prompt shorthand",
            dump(h->map_text(jv_parse("{\"prompt\":\"p\"}"), LLMR_TEXT_USER,
                             shout, NULL)), "{\"prompt\":\"P\"}");
  CHECK_STR("map: a rewriter's non-string keeps the text",
            dump(h->map_text(jv_parse("{\"messages\":[{\"content\":\"k\"}]}"),
                             LLMR_TEXT_ALL, refuse, NULL)),
            "{\"messages\":[{\"content\":\"k\"}]}");
  CHECK_STR("map: not an object is handed back",
            dump(h->map_text(jv_number(3), LLMR_TEXT_ALL, shout, NULL)),
            "3");
}

int main(void)
{
  h = mock_host();
  test_request_text();
  test_content_text();
  test_set_message_text();
  test_map_text();
  return harness_done();
}
