/*
 * test_redact.c - unit tests for redact.c on the mock host
 * (llmroute-mock.h): `make test`.
 */
#include <stdio.h>
#include <string.h>
#include <llmroute-mock.h>

static int failed;

#define CHECK_STR(name, got, want)   /* got is evaluated once */         \
  do {                                                                    \
    const char *g_ = (got);                                               \
    int ok_ = g_ && !strcmp(g_, (want));                                  \
    printf("%s: %s", ok_ ? "PASS" : "FAIL", (name));                      \
    if(!ok_)                                                              \
      printf(" (got \"%s\")", g_ ? g_ : "(null)");                        \
    printf("\n");                                                         \
    failed += !ok_;                                                       \
  } while(0)

static struct mock_stage ms;

/* The redacted text of a one-message request. */
static const char *redact(const char *text)
{
  static char buf[1024];
  jv req = jv_object_set(jv_object(), jv_string("prompt"), jv_string(text));
  struct llmr_job *job = mock_job_new("t", req);
  jv r;

  mock_process(&ms, job);
  r = mock_host()->request_text(job->request, LLMR_TEXT_ALL);
  snprintf(buf, sizeof(buf), "%s", jv_string_value(r));
  jv_free(r);
  mock_job_free(job);
  return buf;
}

int main(void)
{
  const char *opts[] = {NULL};
  const char *tight[] = {"phone=false", "mask_email=<x>", NULL};
  struct llmr_job *job;
  char buf[256];

  if(mock_stage_load(&ms, "./redact.so", opts)) {
    printf("FAIL: load: %s\n", mock.errbuf);
    return 1;
  }
  CHECK_STR("an address", redact("write to jane.doe+x@mail.example.com now"),
            "write to [email] now");
  CHECK_STR("an address before a full stop", redact("Mail a@b.org."),
            "Mail [email].");
  CHECK_STR("international number", redact("call +44 20 7946 0958 today"),
            "call [phone] today");
  CHECK_STR("US number with parentheses", redact("(555) 123-4567 is mine"),
            "[phone] is mine");
  CHECK_STR("dotted number", redact("fax 555.123.4567"), "fax [phone]");
  CHECK_STR("a date stays", redact("on 2024-01-02 at 10:30"),
            "on 2024-01-02 at 10:30");
  CHECK_STR("a short number stays", redact("order 12345 shipped"),
            "order 12345 shipped");
  CHECK_STR("digits glued to letters stay", redact("ref AB1234567 ok"),
            "ref AB1234567 ok");
  CHECK_STR("no @ domain dot: not an address", redact("user@localhost"),
            "user@localhost");
  CHECK_STR("both, twice",
            redact("a@b.co or c@d.io, 555-123-4567 / 555-987-6543"),
            "[email] or [email], [phone] / [phone]");

  /* every message and part, and the counts in the route record */
  job = mock_job_new("m", jv_parse(
    "{\"messages\":[{\"role\":\"system\",\"content\":\"ops@corp.com\"},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
    "\"me: +1 415 555 0100\"},{\"type\":\"image_url\",\"image_url\":"
    "{\"url\":\"https://x/a@b.com\"}}]}]}"));
  mock_process(&ms, job);
  {
    jv t = mock_host()->request_text(job->request, LLMR_TEXT_ALL);
    CHECK_STR("system and part rewritten", jv_string_value(t),
              "[email]\nme: [phone]");
    jv_free(t);
  }
  CHECK_STR("route.redacted", mock_str_at(job->route, "redacted", buf,
                                          sizeof(buf)),
            "{\"email\":1,\"phone\":1}");
  CHECK_STR("an image URL is not text", mock_str_at(job->request,
            "body.messages", buf, sizeof(buf)) &&
            strstr(buf, "https://x/a@b.com") ? "kept" : "lost", "kept");
  mock_job_free(job);
  job = mock_job_new("n", jv_parse("{\"prompt\":\"nothing here\"}"));
  mock_process(&ms, job);
  CHECK_STR("nothing found: no route.redacted",
            mock_str_at(job->route, "redacted", buf, sizeof(buf)) ? "set"
            : "absent", "absent");
  mock_job_free(job);
  mock_stage_unload(&ms);

  if(mock_stage_load(&ms, "./redact.so", tight)) {
    printf("FAIL: load with options: %s\n", mock.errbuf);
    return 1;
  }
  CHECK_STR("phone=false, mask_email=", redact("x@y.com 555-123-4567"),
            "<x> 555-123-4567");
  mock_stage_unload(&ms);
  printf("%d failed\n", failed);
  return failed != 0;
}
