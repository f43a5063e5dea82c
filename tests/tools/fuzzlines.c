/*
 * fuzzlines - write N input lines derived from valid requests by random
 * mutations (byte flips, truncation, deletion, duplication, NUL bytes,
 * invalid UTF-8, deep nesting, huge numbers), one per line, from a fixed
 * seed so a failure can be replayed.  Used by tests/cli/fuzz_input.sh.
 *
 *   fuzzlines N SEED > lines.jsonl
 *
 * Every output line is exactly one line: mutations never add '\n'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state;

static unsigned rnd(unsigned n)
{
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned)((state >> 33) % n);
}

static const char *seeds[] = {
  "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
  "\"body\":{\"model\":\"auto\",\"messages\":[{\"role\":\"user\","
  "\"content\":\"Extract the total from: ACME, $12.50\"}],"
  "\"max_tokens\":100}}",
  "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]}",
  "{\"prompt\":\"Summarise this meeting: caf\xc3\xa9, \xe4\xb8\xad\","
  "\"routing\":{\"task\":\"summarization\",\"min_tier\":2}}",
  "{\"custom_id\":7,\"body\":{\"messages\":[]}}",
  "[1,2,3]",
  "\"just a string\"",
};

int main(int argc, char **argv)
{
  long n, i;
  char line[8192];

  if(argc != 3) {
    fprintf(stderr, "usage: fuzzlines N SEED\n");
    return 2;
  }
  n = atol(argv[1]);
  state = strtoull(argv[2], NULL, 10) + 1;
  for(i = 0; i < n; i++) {
    const char *s = seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))];
    size_t len = strlen(s), j, k;
    int muts = (int)rnd(4);

    memcpy(line, s, len);
    while(muts-- > 0 && len > 0) {
      switch(rnd(7)) {
      case 0: /* flip a byte (never into '\n') */
        j = rnd((unsigned)len);
        line[j] = (char)(rnd(255) + 1);
        if(line[j] == '\n')
          line[j] = '{';
        break;
      case 1: /* truncate */
        len = rnd((unsigned)len);
        break;
      case 2: /* delete a span */
        j = rnd((unsigned)len);
        k = j + rnd(8);
        if(k > len)
          k = len;
        memmove(line + j, line + k, len - k);
        len -= k - j;
        break;
      case 3: /* duplicate a span */
        j = rnd((unsigned)len);
        k = rnd(32);
        if(j + k > len)
          k = len - j;
        if(len + k < sizeof(line) / 2) {
          memmove(line + j + k, line + j, len - j);
          len += k;
        }
        break;
      case 4: /* a NUL byte */
        line[rnd((unsigned)len)] = '\0';
        break;
      case 5: /* invalid UTF-8 */
        line[rnd((unsigned)len)] = (char)0xC3;
        break;
      case 6: /* deep nesting / huge number */
        if(rnd(2)) {
          len = 0;
          for(k = 0; k < 3000 && len < sizeof(line) - 1; k++)
            line[len++] = '[';
        }
        else {
          len = (size_t)snprintf(line, sizeof(line),
                                 "{\"prompt\":\"x\",\"max_tokens\":"
                                 "1e999999,\"custom_id\":%s}",
                                 rnd(2) ? "1e400" : "-0");
        }
        break;
      }
    }
    /* leading blanks; a line that would be blank (skipped by design)
       gets one byte so every output line is one input line */
    fwrite("  ", 1, rnd(2) ? 2 : 0, stdout);
    fwrite(line, 1, len, stdout);
    for(j = 0; j < len; j++)
      if(line[j] != ' ' && line[j] != '\t' && line[j] != '\r')
        break;
    fputs(j < len ? "\n" : "x\n", stdout);
  }
  return 0;
}
