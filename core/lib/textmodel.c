/*
 * textmodel.c - the task classifier's model: create, save, load (text or
 * binary weights, quantised to int16 when loaded), predict.  The
 * features it scores come from textfeat.c; the file format is described
 * in textfeat.h.  Shared by `llmroute train` (core) and the classify
 * stage (built in through plugins/classify/plugin.mk).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "textfeat.h"


/* New model or NULL.  See textfeat.h. */
struct tf_model *tf_model_new(unsigned bits, unsigned families,
                              unsigned nlabels, const char *const *labels)
{
  struct tf_model *m;
  unsigned i;
  if(bits < 8 || bits > 24 || !nlabels || nlabels > TF_MAX_LABELS)
    return NULL;
  m = calloc(1, sizeof(*m));
  if(!m)
    return NULL;
  m->w = calloc((size_t)1 << bits, nlabels * sizeof(float));
  if(!m->w) {
    free(m);
    return NULL;
  }
  strcpy(m->algo, "nb");
  m->bits = bits;
  m->families = families;
  m->nlabels = nlabels;
  for(i = 0; i < nlabels; i++)
    snprintf(m->labels[i], TF_LABEL_MAX, "%s", labels[i]);
  return m;
}

/* Accepts NULL. */
void tf_model_free(struct tf_model *m)
{
  if(!m)
    return;
  free(m->w);
  free(m->q);
  free(m);
}

static void put_row(FILE *f, const float *row, unsigned n)
{
  unsigned i;
  for(i = 0; i < n; i++)
    fprintf(f, " %.4g", (double)row[i]);
  fputc('\n', f);
}

static void put_u32(FILE *f, uint32_t v)
{
  fputc((int)(v & 0xff), f);
  fputc((int)((v >> 8) & 0xff), f);
  fputc((int)((v >> 16) & 0xff), f);
  fputc((int)((v >> 24) & 0xff), f);
}

/* Borrows m.  0 or -1 with err set. */
int tf_model_save(const struct tf_model *m, const char *path, int binary,
                  char *err, size_t errlen)
{
  FILE *f = fopen(path, "w");
  size_t nb = (size_t)1 << m->bits, r, rows = 0;
  unsigned n = m->nlabels, i;
  double maxw = 0, scale;
  char fam[128];
  if(!m->w) {
    snprintf(err, errlen, "%s: a loaded model keeps int16 weights only and "
             "cannot be saved again", path);
    if(f)
      fclose(f);
    return -1;
  }
  if(!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  for(r = 0; r < nb; r++)
    if(memcmp(m->w + r * n, m->def, n * sizeof(float))) {
      rows++;
      for(i = 0; i < n; i++)
        if(fabs(m->w[r * n + i]) > maxw)
          maxw = fabs(m->w[r * n + i]);
    }
  scale = maxw > 0 ? maxw / 32767.0 : 1.0;
  tf_families_str(m->families, fam, sizeof(fam));
  fprintf(f, "llmroute-classifier 1\nalgo %s\nbits %u\nfeatures %s\n"
          "norm %s\nlabels %u", m->algo, m->bits, fam,
          m->norm_sqrt ? "sqrt" : "none", n);
  for(i = 0; i < n; i++)
    fprintf(f, " %s", m->labels[i]);
  fputc('\n', f);
  for(i = 0; i < m->nmeta; i++)
    fprintf(f, "meta %s\n", m->meta[i]);
  fputs("bias", f);
  put_row(f, m->bias, n);
  fputs("default", f);
  put_row(f, m->def, n);
  if(binary)
    fprintf(f, "rows %zu int16 %.9g\n", rows, scale);
  else
    fprintf(f, "rows %zu\n", rows);
  for(r = 0; r < nb; r++) {
    const float *row = m->w + r * n;
    if(!memcmp(row, m->def, n * sizeof(float)))
      continue;
    if(!binary) {
      fprintf(f, "%zu", r);
      put_row(f, row, n);
      continue;
    }
    put_u32(f, (uint32_t)r);
    for(i = 0; i < n; i++) {
      long q = lround(row[i] / scale);
      uint16_t u = (uint16_t)(int16_t)(q > 32767 ? 32767 :
                                       (q < -32767 ? -32767 : q));
      fputc(u & 0xff, f);
      fputc(u >> 8, f);
    }
  }
  fputs("end\n", f);
  if(ferror(f) | fclose(f)) {
    snprintf(err, errlen, "%s: write error", path);
    return -1;
  }
  return 0;
}

/* Reads n floats after the keyword; 0 or -1. */
static int get_row(const char *p, float *row, unsigned n)
{
  unsigned i;
  for(i = 0; i < n; i++) {
    char *end;
    double v = strtod(p, &end);
    if(end == p || !isfinite(v))
      return -1;
    row[i] = (float)v;
    p = end;
  }
  while(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return *p ? -1 : 0;
}

/* Replaces m->w by its int16 form m->q (scale: the largest weight maps
 * to 32767).  0, or -1 when out of memory (m unchanged). */
static int quantise(struct tf_model *m)
{
  size_t i, n = ((size_t)1 << m->bits) * m->nlabels;
  float maxw = 0;
  int16_t *q = malloc(n * sizeof(int16_t));
  if(!q)
    return -1;
  for(i = 0; i < n; i++)
    if(fabsf(m->w[i]) > maxw)
      maxw = fabsf(m->w[i]);
  m->scale = maxw > 0 ? maxw / 32767.0f : 1.0f;
  for(i = 0; i < n; i++)
    q[i] = (int16_t)lrintf(m->w[i] / m->scale);
  free(m->w);
  m->w = NULL;
  m->q = q;
  return 0;
}

#define LOAD_FAIL(...)                                                     \
  do {                                                                     \
    int w_ = snprintf(err, errlen, "%s:%ld: ", path, lineno);              \
    if(w_ >= 0 && (size_t)w_ < errlen)                                     \
      snprintf(err + w_, errlen - (size_t)w_, __VA_ARGS__);                \
    goto fail;                                                             \
  } while(0)

/* New model or NULL with err set.  See textfeat.h. */
struct tf_model *tf_model_load(const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "r");
  struct tf_model *m = NULL;
  char *line = NULL, algo[8] = "", fam[128] = "", norm[8] = "";
  char labels[TF_MAX_LABELS][TF_LABEL_MAX];
  const char *lp[TF_MAX_LABELS];
  size_t cap = 0, rows = 0, r;
  long lineno = 0;
  double scale;
  unsigned bits = 0, n = 0, i;
  int families, off = 0, version = 0;
  if(!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  /* header: fixed order */
#define NEXT_LINE()                                                        \
  do {                                                                     \
    lineno++;                                                              \
    if(getline(&line, &cap, f) < 0)                                        \
      LOAD_FAIL("unexpected end of file");                                 \
  } while(0)
  NEXT_LINE();
  if(sscanf(line, "llmroute-classifier %d", &version) != 1 || version != 1)
    LOAD_FAIL("not an llmroute classifier model (version 1)");
  NEXT_LINE();
  if(sscanf(line, "algo %7s", algo) != 1)
    LOAD_FAIL("expected 'algo nb|lr'");
  NEXT_LINE();
  if(sscanf(line, "bits %u", &bits) != 1 || bits < 8 || bits > 24)
    LOAD_FAIL("expected 'bits N' with N in 8..24");
  NEXT_LINE();
  if(sscanf(line, "features %127s", fam) != 1)
    LOAD_FAIL("expected 'features LIST'");
  families = tf_families_parse(fam);
  if(families <= 0)
    LOAD_FAIL("unknown feature family in '%s'", fam);
  NEXT_LINE();
  if(sscanf(line, "norm %7s", norm) != 1 ||
     (strcmp(norm, "none") && strcmp(norm, "sqrt")))
    LOAD_FAIL("expected 'norm none|sqrt'");
  NEXT_LINE();
  if(sscanf(line, "labels %u%n", &n, &off) != 1 || !n ||
     n > TF_MAX_LABELS)
    LOAD_FAIL("expected 'labels N NAME...' with N in 1..%d",
              TF_MAX_LABELS);
  for(i = 0; i < n; i++) {
    int used = 0;
    if(sscanf(line + off, "%47s%n", labels[i], &used) != 1)
      LOAD_FAIL("expected %u labels", n);
    off += used;
    lp[i] = labels[i];
  }
  m = tf_model_new(bits, (unsigned)families, n, lp);
  if(!m)
    LOAD_FAIL("out of memory");
  snprintf(m->algo, sizeof(m->algo), "%s", algo);
  m->norm_sqrt = !strcmp(norm, "sqrt");
  NEXT_LINE();
  while(!strncmp(line, "meta ", 5)) {
    size_t len = strlen(line + 5);
    while(len && (line[5 + len - 1] == '\n' || line[5 + len - 1] == '\r'))
      line[5 + --len] = '\0';
    if(m->nmeta == TF_MAX_META || len >= TF_META_MAX)
      LOAD_FAIL("more than %d meta lines, or one too long", TF_MAX_META);
    memcpy(m->meta[m->nmeta++], line + 5, len + 1);
    NEXT_LINE();
  }
  if(strncmp(line, "bias ", 5) || get_row(line + 5, m->bias, n))
    LOAD_FAIL("expected 'bias' and %u numbers", n);
  NEXT_LINE();
  if(strncmp(line, "default ", 8) || get_row(line + 8, m->def, n))
    LOAD_FAIL("expected 'default' and %u numbers", n);
  for(r = 0; r < ((size_t)1 << bits); r++)
    memcpy(m->w + r * n, m->def, n * sizeof(float));
  NEXT_LINE();
  scale = 0;
  if(sscanf(line, "rows %zu int16 %lf", &rows, &scale) == 2) {
    if(!(scale > 0) || !isfinite(scale))
      LOAD_FAIL("bad int16 scale");
    for(r = 0; r < rows; r++) {
      unsigned char rec[4 + 2 * TF_MAX_LABELS];
      uint32_t b;
      if(fread(rec, 1, 4 + 2 * (size_t)n, f) != 4 + 2 * (size_t)n)
        LOAD_FAIL("truncated: %zu of %zu rows", r, rows);
      b = (uint32_t)rec[0] | (uint32_t)rec[1] << 8 |
          (uint32_t)rec[2] << 16 | (uint32_t)rec[3] << 24;
      if(b >= ((uint32_t)1 << bits))
        LOAD_FAIL("row %zu: bucket %lu out of range", r,
                  (unsigned long)b);
      for(i = 0; i < n; i++) {
        int16_t q = (int16_t)(uint16_t)(rec[4 + 2 * i] |
                                        rec[5 + 2 * i] << 8);
        m->w[(size_t)b * n + i] = (float)(q * scale);
      }
    }
    rows = 0; /* no text rows follow */
  }
  else if(sscanf(line, "rows %zu", &rows) != 1)
    LOAD_FAIL("expected 'rows N' or 'rows N int16 SCALE'");
  for(r = 0; r < rows; r++) {
    char *end;
    unsigned long b;
    NEXT_LINE();
    errno = 0;
    b = strtoul(line, &end, 10);
    if(end == line || errno || b >= ((size_t)1 << bits) ||
       get_row(end, m->w + b * n, n))
      LOAD_FAIL("bad row (expected BUCKET and %u numbers)", n);
  }
  NEXT_LINE();
  if(strncmp(line, "end", 3))
    LOAD_FAIL("expected 'end' after %zu rows", rows);
#undef NEXT_LINE
  if(quantise(m))
    LOAD_FAIL("out of memory");
  free(line);
  fclose(f);
  return m;
fail:
  free(line);
  fclose(f);
  tf_model_free(m);
  return NULL;
}

/* Borrows m and feats; writes probs.  Pure. */
int tf_model_predict(const struct tf_model *m, const uint32_t *feats,
                     size_t n, double *probs)
{
  double score[TF_MAX_LABELS], scale = 1.0, max, sum = 0;
  float acc[TF_MAX_LABELS];
  unsigned c, nl = m->nlabels;
  uint32_t mask = (1u << m->bits) - 1;
  size_t i;
  int best = 0;
  for(c = 0; c < nl; c++)
    acc[c] = 0;
  if(m->q) {
    /* a loaded model: int16 rows, summed exactly in int32 (n is at most
       TF_MAX_FEATS, so no overflow), scaled once */
    int32_t iacc[TF_MAX_LABELS] = {0};
#if defined(__SSE2__)
    /* 8 labels a step: int16 widened to int32 (the sign copied in by
       an arithmetic shift), so the sums are the same as below */
    unsigned wide = nl - nl % 8;
    __m128i sum[TF_MAX_LABELS / 4];
    for(c = 0; c < wide / 4; c++)
      sum[c] = _mm_setzero_si128();
#else
    unsigned wide = 0;
#endif
    for(i = 0; i < n; i++) {
      const int16_t *row = m->q + (size_t)(feats[i] & mask) * nl;
#if defined(__GNUC__)
      if(i + 8 < n)
        __builtin_prefetch(m->q + (size_t)(feats[i + 8] & mask) * nl);
#endif
#if defined(__SSE2__)
      for(c = 0; c < wide; c += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)
                                    (row + c));
        sum[c / 4] = _mm_add_epi32(sum[c / 4], _mm_srai_epi32(
                                     _mm_unpacklo_epi16(x, x), 16));
        sum[c / 4 + 1] = _mm_add_epi32(sum[c / 4 + 1], _mm_srai_epi32(
                                         _mm_unpackhi_epi16(x, x), 16));
      }
#endif
      for(c = wide; c < nl; c++)
        iacc[c] += row[c];
    }
#if defined(__SSE2__)
    for(c = 0; c < wide / 4; c++)
      _mm_storeu_si128((__m128i *)(void *)(iacc + 4 * c), sum[c]);
#endif
    for(c = 0; c < nl; c++)
      acc[c] = (float)iacc[c] * m->scale;
  }
  else {
    for(i = 0; i < n; i++) {
      const float *row = m->w + (size_t)(feats[i] & mask) * nl;
#if defined(__GNUC__)
      /* the rows are scattered over megabytes: ask for a few ahead */
      if(i + 8 < n)
        __builtin_prefetch(m->w + (size_t)(feats[i + 8] & mask) * nl);
#endif
      for(c = 0; c < nl; c++)
        acc[c] += row[c];
    }
  }
  if(m->norm_sqrt && n)
    scale = 1.0 / sqrt((double)n);
  for(c = 0; c < nl; c++) {
    score[c] = m->bias[c] + scale * acc[c];
    if(score[c] > score[best])
      best = (int)c;
  }
  if(probs && !strcmp(m->algo, "ovr")) {
    for(c = 0; c < nl; c++)
      probs[c] = 1.0 / (1.0 + exp(-score[c]));
  }
  else if(probs) {
    max = score[best];
    for(c = 0; c < nl; c++) {
      probs[c] = exp(score[c] - max);
      sum += probs[c];
    }
    for(c = 0; c < nl; c++)
      probs[c] /= sum;
  }
  return best;
}

/* Borrows m and label. */
int tf_model_label(const struct tf_model *m, const char *label)
{
  unsigned i;
  for(i = 0; i < m->nlabels; i++)
    if(!strcmp(m->labels[i], label))
      return (int)i;
  return -1;
}


/* Borrows m and key. */
const char *tf_model_meta(const struct tf_model *m, const char *key)
{
  size_t k = strlen(key);
  unsigned i;
  for(i = 0; i < m->nmeta; i++)
    if(!strncmp(m->meta[i], key, k) && m->meta[i][k] == ' ')
      return m->meta[i] + k + 1;
  return NULL;
}

/* Borrows key and value. */
int tf_model_set_meta(struct tf_model *m, const char *key, const char *value)
{
  size_t k = strlen(key);
  unsigned i;
  int w;
  if(!k || strchr(key, ' ') || strchr(value, '\n'))
    return -1;
  for(i = 0; i < m->nmeta; i++)
    if(!strncmp(m->meta[i], key, k) && m->meta[i][k] == ' ')
      break;
  if(i == TF_MAX_META)
    return -1;
  w = snprintf(m->meta[i], TF_META_MAX, "%s %s", key, value);
  if(w < 0 || w >= TF_META_MAX)
    return -1;
  if(i == m->nmeta)
    m->nmeta++;
  return 0;
}

/* Borrows m and idx.  See textfeat.h. */
struct tf_model *tf_model_subset(const struct tf_model *m, const int *idx,
                                 unsigned n)
{
  struct tf_model *s;
  size_t r, rows = (size_t)1 << m->bits;
  unsigned i;
  if(!m->q || !n || n > m->nlabels)
    return NULL;
  s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  *s = *m;
  s->w = NULL;
  s->nlabels = n;
  s->q = malloc(rows * n * sizeof(int16_t));
  if(!s->q) {
    free(s);
    return NULL;
  }
  for(i = 0; i < n; i++) {
    snprintf(s->labels[i], TF_LABEL_MAX, "%s", m->labels[idx[i]]);
    s->bias[i] = m->bias[idx[i]];
    s->def[i] = m->def[idx[i]];
  }
  for(r = 0; r < rows; r++)
    for(i = 0; i < n; i++)
      s->q[r * n + i] = m->q[r * m->nlabels + (unsigned)idx[i]];
  return s;
}
