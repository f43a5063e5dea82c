/*
 * jvfast.h - object lookups, sets and walks without jq's per-call
 * overhead.
 *
 * A line of the audit pipeline looked up about 37 object fields, set
 * 23 and wrote 25.  Through jq 1.6's API a lookup cost some 440
 * instructions and a set 620 (callgrind): jv_object_get() takes a copy
 * of the object and of the key and frees both, and every call checks its
 * arguments with calls to jv_get_kind(); walking an object cost as much
 * per field, and an object's 9th field copies its table.
 *
 * These functions work on jq's tables in place instead.  jq 1.6 lays
 * them out as below (jv.c: jvp_object, struct object_slot, jvp_string,
 * jv_refcnt).  That layout is not public API, so the first call probes
 * it: lookups, sets, walks, reference counts and objects made here must
 * agree with jq's own functions on test objects.  When they do not
 * (another jq), every call goes through jq's API, with the same results
 * (tests/unit/test_jvfast.c checks both paths).
 *
 * Internal library (core/lib), header-only: it depends on jq 1.6's
 * private layout, so it is never offered to plugin authors.  The core and
 * the built-in stages on the hot path include it, and each file that does
 * probes once.  One thread, like the rest of llmroute.
 */
#ifndef LLMR_JVFAST_H
#define LLMR_JVFAST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <jv.h>

struct jvf_string {        /* jvp_string */
  int refcnt;
  uint32_t hash;
  uint32_t length_hashed;  /* length << 1 | hash computed */
  uint32_t alloc_length;
  char data[];
};

struct jvf_slot {          /* struct object_slot */
  int next;                /* next slot in the bucket, -1 at the end */
  uint32_t hash;
  jv string;               /* null when the slot is free */
  jv value;
};

struct jvf_object {        /* jvp_object; after elements[size], the
                              2 * size buckets */
  int refcnt;
  int next_free;
  struct jvf_slot elements[];
};

static int jvf_probe(void);

void *jv_mem_alloc(size_t); /* libjq's allocator (jv_alloc.h, exported */
void jv_mem_free(void *);   /* but not installed) */

/* An empty object of 2^k slots, k <= 20 (jq's jv_object() has 8: its
 * 9th key copies the table into one twice the size, some 4,000
 * instructions). */
static inline jv jvf_object_direct(int slots)
{
  struct jvf_object *o = jv_mem_alloc(sizeof(*o) +
                                      sizeof(struct jvf_slot) * slots +
                                      sizeof(int) * 2 * slots);
  int *buckets = (int *)(void *)&o->elements[slots], i;
  jv r = jv_null();

  o->refcnt = 1;
  o->next_free = 0;
  for(i = 0; i < slots; i++) {
    o->elements[i].next = i - 1;
    o->elements[i].hash = 0;
    o->elements[i].string = jv_null();
    o->elements[i].value = jv_null();
  }
  for(i = 0; i < 2 * slots; i++)
    buckets[i] = -1;
  r.kind_flags = JV_KIND_OBJECT;
  r.size = slots;
  r.u.ptr = (struct jv_refcnt *)(void *)o;
  return r;
}

/* 1 when the layout above is jq's (probed on first use).  Tests define
 * LLMR_JVF_API_ONLY to take jq's API as on another jq. */
static inline int jvf_direct(void)
{
#ifdef LLMR_JVF_API_ONLY
  (void)jvf_probe;
  return 0;
#else
  static int ok = -1;

  if(ok < 0)
    ok = jvf_probe();
  return ok;
#endif
}

/* jv_copy(v), with the reference count raised in place. */
static inline jv jvf_copy_direct(jv v)
{
  if(v.kind_flags == JV_KIND_STRING || v.kind_flags == JV_KIND_ARRAY ||
     v.kind_flags == JV_KIND_OBJECT)
    (*(int *)(void *)v.u.ptr)++;
  return v;
}

static inline const struct jvf_slot *jvf_find_direct(jv obj, jv key)
{
  const struct jvf_object *o = (const void *)obj.u.ptr;
  const struct jvf_string *k = (const void *)key.u.ptr;
  const int *buckets = (const int *)(const void *)&o->elements[obj.size];
  uint32_t hash, len = k->length_hashed >> 1;
  int i;

  if(!(k->length_hashed & 1))
    jv_string_hash(jv_copy(key)); /* computes and keeps it */
  hash = k->hash;
  for(i = buckets[hash & (uint32_t)(obj.size * 2 - 1)]; i >= 0;
      i = o->elements[i].next) {
    const struct jvf_slot *s = &o->elements[i];
    const struct jvf_string *sk = (const void *)s->string.u.ptr;

    if(s->hash == hash &&
       (sk == k || ((sk->length_hashed >> 1) == len &&
                    !memcmp(sk->data, k->data, len))))
      return s;
  }
  return NULL;
}

/* obj[key] as a new reference, like jv_object_get(jv_copy(obj),
 * jv_copy(key)): jv_invalid() when obj is no object, key no string, or
 * the key is absent.  Borrows obj and key. */
static inline jv jvf_get(jv obj, jv key)
{
  if(jvf_direct()) {
    const struct jvf_slot *s;

    if(obj.kind_flags != JV_KIND_OBJECT || key.kind_flags != JV_KIND_STRING)
      return jv_invalid();
    s = jvf_find_direct(obj, key);
    return s ? jvf_copy_direct(s->value) : jv_invalid();
  }
  if(jv_get_kind(obj) != JV_KIND_OBJECT ||
     jv_get_kind(key) != JV_KIND_STRING)
    return jv_invalid();
  return jv_object_get(jv_copy(obj), jv_copy(key));
}

static inline jv jvf_set_direct(jv obj, jv key, jv value)
{
  if(obj.kind_flags == JV_KIND_OBJECT &&
     key.kind_flags == JV_KIND_STRING &&
     ((struct jvf_object *)(void *)obj.u.ptr)->refcnt == 1) {
    struct jvf_object *o = (void *)obj.u.ptr;
    struct jvf_slot *s = (struct jvf_slot *)jvf_find_direct(obj, key);

    if(s) {               /* jq keeps the old key, frees the new one */
      jv old = s->value;
      s->value = value;
      jv_free(old);
      jv_free(key);
      return obj;
    }
    if(o->next_free < obj.size) {
      /* jvf_find_direct() has computed the key's hash */
      uint32_t hash = ((const struct jvf_string *)(const void *)key.u.ptr)
                      ->hash;
      int *bucket = (int *)(void *)&o->elements[obj.size] +
                    (hash & (uint32_t)(obj.size * 2 - 1));

      s = &o->elements[o->next_free];
      s->next = *bucket;
      *bucket = o->next_free++;
      s->hash = hash;
      s->string = key;
      s->value = value;
      return obj;
    }
  }
  return jv_object_set(obj, key, value);
}

/* jv_object_set(obj, key, value): consumes all three, returns the
 * object.  In place when obj is not shared and has a free slot (or
 * already has the key); else jq grows or copies it. */
static inline jv jvf_set(jv obj, jv key, jv value)
{
  if(jvf_direct())
    return jvf_set_direct(obj, key, value);
  return jv_object_set(obj, key, value);
}

/* An empty object with room for `slots` fields (a power of 2) before
 * it grows; jv_object() without the probed layout. */
static inline jv jvf_object(int slots)
{
  if(jvf_direct())
    return jvf_object_direct(slots);
  return jv_object();
}

static inline void jvf_free_direct(jv v)
{
  struct jvf_object *o;
  int i;

  switch(v.kind_flags) {
  case JV_KIND_NULL:
  case JV_KIND_FALSE:
  case JV_KIND_TRUE:
  case JV_KIND_NUMBER:
    return;
  case JV_KIND_INVALID:
    if(!v.u.ptr) /* jv_invalid(): no message to free */
      return;
    jv_free(v);
    return;
  case JV_KIND_STRING:
    if(--*(int *)(void *)v.u.ptr == 0)
      jv_mem_free(v.u.ptr);
    return;
  case JV_KIND_OBJECT:
    o = (void *)v.u.ptr;
    if(--o->refcnt)
      return;
    for(i = 0; i < v.size; i++)
      if(o->elements[i].string.kind_flags == JV_KIND_STRING) {
        jvf_free_direct(o->elements[i].string);
        jvf_free_direct(o->elements[i].value);
      }
    jv_mem_free(o);
    return;
  default: /* arrays, invalid values with a message: jq's own */
    jv_free(v);
  }
}

/* jv_free(v); an object's fields are freed in place (an array's by
 * jq). */
static inline void jvf_free(jv v)
{
  if(jvf_direct())
    jvf_free_direct(v);
  else
    jv_free(v);
}

/* jv_copy(v). */
static inline jv jvf_copy(jv v)
{
  return jvf_direct() ? jvf_copy_direct(v) : jv_copy(v);
}

/* The bytes and length of string s, borrowed; NULL when s is no
 * string. */
static inline const char *jvf_string(jv s, size_t *len)
{
  if(jvf_direct()) {
    const struct jvf_string *h = (const void *)s.u.ptr;

    if(s.kind_flags != JV_KIND_STRING)
      return NULL;
    *len = h->length_hashed >> 1;
    return h->data;
  }
  if(jv_get_kind(s) != JV_KIND_STRING)
    return NULL;
  *len = (size_t)jv_string_length_bytes(jv_copy(s));
  return jv_string_value(s);
}

/* Walks obj's fields in jq's order:
 *
 *   for(i = jvf_next(obj, -1, &k, &v); i >= 0; i = jvf_next(obj, i, &k, &v))
 *
 * k and v are borrowed (valid while obj lives unchanged).  Returns -1
 * after the last field, or when obj is no object. */
static inline int jvf_next(jv obj, int i, jv *k, jv *v)
{
  if(jvf_direct()) {
    const struct jvf_object *o = (const void *)obj.u.ptr;

    if(obj.kind_flags != JV_KIND_OBJECT)
      return -1;
    for(i++; i < obj.size; i++)
      if(o->elements[i].string.kind_flags == JV_KIND_STRING) {
        *k = o->elements[i].string;
        *v = o->elements[i].value;
        return i;
      }
    return -1;
  }
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return -1;
  i = i < 0 ? jv_object_iter(obj) : jv_object_iter_next(obj, i);
  if(!jv_object_iter_valid(obj, i))
    return -1;
  *k = jv_object_iter_key(obj, i);   /* obj keeps a reference: these */
  *v = jv_object_iter_value(obj, i); /* copies can go at once */
  jv_free(*k);
  jv_free(*v);
  return i;
}

/* The probe: an object of 21 fields (its table grown twice) less one
 * deleted, looked up, walked and copied both ways. */
static int jvf_probe(void)
{
  jv o = jv_object(), s = jv_string("probe");
  const struct jvf_string *sh = (const void *)s.u.ptr;
  char name[16];
  int ok, i, it, slot = -1;

  ok = s.kind_flags == JV_KIND_STRING && sh->data == jv_string_value(s) &&
       (sh->length_hashed >> 1) == 5 && sh->refcnt == jv_get_refcnt(s);
  jv_free(s);
  for(i = 0; i < 20; i++) {
    snprintf(name, sizeof(name), "k%d", i);
    o = jv_object_set(o, jv_string(name), jv_string(name + 1));
  }
  o = jv_object_delete(o, jv_string("k3"));
  o = jv_object_set(o, jv_string("n"), jv_number(1.5));
  ok = ok && o.kind_flags == JV_KIND_OBJECT && o.size >= 20 &&
       ((const struct jvf_object *)(const void *)o.u.ptr)->refcnt ==
       jv_get_refcnt(o);
  /* the walk: same slots, keys and values as jq's iterator */
  for(it = jv_object_iter(o); ok; it = jv_object_iter_next(o, it)) {
    const struct jvf_slot *e;

    for(slot++; slot < o.size; slot++)
      if(((const struct jvf_object *)(const void *)o.u.ptr)
         ->elements[slot].string.kind_flags == JV_KIND_STRING)
        break;
    if(!jv_object_iter_valid(o, it) || slot == o.size) {
      ok = !jv_object_iter_valid(o, it) && slot == o.size;
      break;
    }
    e = &((const struct jvf_object *)(const void *)o.u.ptr)->elements[slot];
    {
      jv k = jv_object_iter_key(o, it), v = jv_object_iter_value(o, it);
      ok = slot == it && jv_identical(jv_copy(k), jv_copy(e->string)) &&
           jv_identical(jv_copy(v), jv_copy(e->value));
      jv_free(k);
      jv_free(v);
    }
  }
  /* set in place, into jq's object and into one made here: the same
     object as jq's, field for field, in order */
  for(i = 0; ok && i < 2; i++) {
    jv a = jv_object(), b = i ? jvf_object_direct(16) : jv_object();
    jv ka, kb, va, vb;
    int ia, ib;

    int j;

    for(j = 0; j < 30; j++) {
      snprintf(name, sizeof(name), "s%d", j % 23); /* 7 replaced */
      a = jv_object_set(a, jv_string(name), jv_number(j));
      b = jvf_set_direct(b, jv_string(name), jv_number(j));
    }
    ok = jv_equal(jv_copy(a), jv_copy(b));
    ia = jv_object_iter(a);
    ib = jv_object_iter(b);
    for(; ok && jv_object_iter_valid(a, ia);
        ia = jv_object_iter_next(a, ia), ib = jv_object_iter_next(b, ib)) {
      if(!jv_object_iter_valid(b, ib)) {
        ok = 0;
        break;
      }
      ka = jv_object_iter_key(a, ia);
      kb = jv_object_iter_key(b, ib);
      va = jv_object_iter_value(a, ia);
      vb = jv_object_iter_value(b, ib);
      ok = jv_equal(ka, kb) && jv_equal(va, vb);
    }
    ok = ok && !jv_object_iter_valid(b, ib);
    jv_free(a);
    jv_free(b);
  }
  /* lookups, present and absent, and the reference count of a copy */
  for(i = 0; ok && i < 24; i++) {
    jv k, a;
    const struct jvf_slot *e;

    snprintf(name, sizeof(name), "k%d", i);
    k = jv_string(name);
    a = jv_object_get(jv_copy(o), jv_copy(k));
    e = jvf_find_direct(o, k);
    if(!jv_is_valid(a))
      ok = e == NULL;
    else if(!e || !jv_identical(jv_copy(a), jv_copy(e->value)))
      ok = 0;
    else {
      int before = jv_get_refcnt(a);
      jv c = jvf_copy_direct(e->value);
      ok = jv_get_refcnt(c) == before + 1;
      jv_free(c);
    }
    jv_free(a);
    jv_free(k);
  }
  if(ok) { /* an array's count is where an object's is */
    jv a = jv_array(), c = jvf_copy_direct(a);
    ok = jv_get_refcnt(a) == 2;
    jv_free(c);
    jv_free(a);
  }
  if(ok) { /* numbers are plain values, no reference to count */
    jv n = jv_string("n");
    const struct jvf_slot *e = jvf_find_direct(o, n);
    ok = e && e->value.kind_flags == JV_KIND_NUMBER &&
         e->value.u.number == 1.5;
    jv_free(n);
  }
  jv_free(o);
  return ok;
}

#endif /* LLMR_JVFAST_H */
