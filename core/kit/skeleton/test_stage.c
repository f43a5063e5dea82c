/*
 * test_stage.c - unit tests for stage.c on the mock host
 * (llmroute-mock.h): no runner, no pipeline file, no network.
 * `make test` builds stage.so and this, then runs it.
 */
#include <stdio.h>
#include <string.h>
#include <llmroute-mock.h>

static int failed;

#define CHECK(name, cond)                                                 \
  do {                                                                    \
    int ok_ = (cond); /* once: cond may have effects */                   \
    printf("%s: %s\n", ok_ ? "PASS" : "FAIL", (name));                    \
    failed += !ok_;                                                       \
  } while(0)

int main(void)
{
  struct mock_stage ms;
  const char *opts[] = {"min_words=4", NULL};
  const char *bad[] = {"min_words=-1", NULL};
  struct llmr_job *job;
  char buf[64];

  if(mock_stage_load(&ms, "./stage.so", opts)) {
    printf("FAIL: load: %s\n", mock.errbuf);
    return 1;
  }
  job = mock_job_new("a1", jv_parse("{\"messages\":["
                                    "{\"role\":\"user\",\"content\":\"x y\"},"
                                    "{\"role\":\"assistant\",\"content\":\"z\"},"
                                    "{\"role\":\"user\",\"content\":\"hi there\"}"
                                    "]}"));
  CHECK("NEXT", mock_process(&ms, job) == LLMR_NEXT);
  CHECK("words of the last user message",
        !strcmp(mock_str_at(job->route, "words", buf, sizeof(buf)), "2"));
  CHECK("marked short", mock_str_at(job->route, "short", buf, sizeof(buf)) &&
        !strcmp(buf, "true"));
  mock_job_free(job);

  job = mock_job_new("a2", jv_parse("{\"prompt\":\"one two three four\"}"));
  mock_process(&ms, job);
  CHECK("not short", !mock_str_at(job->route, "short", buf, sizeof(buf)));
  mock_job_free(job);
  mock_stage_unload(&ms);

  CHECK("a bad option is refused",
        mock_stage_load(&ms, "./stage.so", bad) != 0 &&
        strstr(mock.errbuf, "min_words must be >= 0"));
  mock_stage_unload(&ms);
  printf("%d failed\n", failed);
  return failed != 0;
}
