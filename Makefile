# llmroute - a plain Makefile (redis, sds, kilo style).
#
#   make              build into $(BUILD)/ (bin, lib/llmroute, share, include)
#   make test         build, then run the whole test suite
#   make test-asan    the same under AddressSanitizer + UBSan (BUILD=build-asan)
#   make fuzz         build the libFuzzer harnesses of tests/fuzz/ with clang
#                     and run each for FUZZ_TIME seconds (default 60)
#   make bench        run the benchmarks in tests/bench/
#   make install PREFIX=/usr/local
#   make deps         install missing Debian packages (as root)
#
# Several builds can live side by side: make BUILD=build-x SAN=1.

VERSION  := 0.1.0
BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
STD      := -std=c99 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Werror
ifneq ($(SAN),)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
endif
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
JQ_LIBS     := -ljq -lonig
CFLAGS_ALL   = $(STD) $(WARN) $(OPT) $(SANFLAGS) $(CURL_CFLAGS) $(CFLAGS)
LDFLAGS_ALL  = $(SANFLAGS) $(LDFLAGS)

BIN      := $(BUILD)/bin/llmroute
LIBDIR   := $(BUILD)/lib/llmroute
SHAREDIR := $(BUILD)/share/llmroute
OBJDIR   := $(BUILD)/obj

# --- Debian packages ------------------------------------------------------
# header -> package; `make deps` installs the missing ones.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
DEPS_HDRS := /usr/include/jq.h:libjq-dev \
             /usr/include/oniguruma.h:libonig-dev \
             /usr/include/$(MULTIARCH)/curl/curl.h:libcurl4-openssl-dev \
             /usr/include/microhttpd.h:libmicrohttpd-dev \
             /usr/include/sqlite3.h:libsqlite3-dev \
             /usr/bin/sqlite3:sqlite3 \
             /usr/bin/jq:jq \
             /usr/bin/curl:curl \
             /usr/bin/pkg-config:pkg-config \
             /usr/include/hiredis/hiredis.h:libhiredis-dev
# What some tests run besides (each reports SKIP without it): Redis and
# GNU parallel (tests/cli/scale.sh, ids.sh), headless Chromium rendering
# the --html page (report.sh).  Installed by `make deps`, never required
# by a build.
DEPS_TEST := /usr/bin/redis-server:redis-server \
             /usr/bin/redis-cli:redis-tools \
             /usr/bin/parallel:parallel \
             /usr/bin/chromium:chromium
# What `make fuzz` needs besides (clang and its libFuzzer runtime):
# installed by `make deps`, checked by `make fuzz` only, so a build
# without clang still works.
FUZZ_CC     ?= clang
FUZZ_RESDIR  = $(or $(shell $(FUZZ_CC) -print-resource-dir 2>/dev/null),\
                    /usr/lib/llvm-14/lib/clang/14.0.6)
FUZZ_ARCH    = $(or $(firstword $(subst -, ,$(MULTIARCH))),x86_64)
DEPS_FUZZ    = /usr/bin/clang:clang \
  $(FUZZ_RESDIR)/lib/linux/libclang_rt.fuzzer-$(FUZZ_ARCH).a:libclang-rt-14-dev
missing_of = $(strip $(foreach d,$(1),\
  $(if $(wildcard $(firstword $(subst :, ,$(d)))),,\
       $(lastword $(subst :, ,$(d))))))
DEPS_MISSING = $(call missing_of,$(DEPS_HDRS))
DEPS_FUZZ_MISSING = $(call missing_of,$(DEPS_FUZZ))
DEPS_TEST_MISSING = $(call missing_of,$(DEPS_TEST))

.PHONY: all deps test test-asan bench install clean check-deps kit fuzz \
        check-deps-fuzz check-deps-test

all: check-deps bin plugins share include kit testbins

check-deps:
	@if [ -n "$(DEPS_MISSING)" ]; then $(MAKE) --no-print-directory deps; fi

deps:
	@missing="$(strip $(DEPS_MISSING) $(DEPS_FUZZ_MISSING) \
	  $(DEPS_TEST_MISSING))"; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	echo "deps: installing $$missing"; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "deps: run 'make deps' as root (apt-get install $$missing)" >&2; \
	  exit 1; fi; \
	apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

# --- the internal library: core/lib/ -----------------------------------------
# What only the built-in stages and the runner share, for speed (fast jq
# access, interned keys, the classifier's features and model, the
# length/complexity proxies, the message-text walker).  Built once as a
# static archive of position-independent objects; the runner and every
# built-in plugin link it (a plugin takes only the objects it uses).
# Never installed: third-party stages reach the same services through
# struct llmr_host in llmroute.h.
LIB_SRC  := $(wildcard core/lib/*.c)
LIB_OBJ  := $(LIB_SRC:core/lib/%.c=$(OBJDIR)/lib/%.o)
LIB_HDR  := $(wildcard core/lib/*.h) core/llmroute.h
LIB_A    := $(OBJDIR)/lib/libllmr.a

$(OBJDIR)/lib/%.o: core/lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Icore -Icore/lib -fPIC -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# --- the runner -------------------------------------------------------------
CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(OBJDIR)/core/%.o)
CORE_HDR := $(wildcard core/*.h) $(LIB_HDR)
CORE_LIBOBJ := $(filter-out $(OBJDIR)/core/main.o,$(CORE_OBJ))

bin: $(BIN)
$(BIN): $(CORE_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CURL_LIBS) $(JQ_LIBS) -ldl -lm

$(OBJDIR)/core/%.o: core/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Icore -Icore/lib -DLLMR_VERSION='"$(VERSION)"' -c -o $@ $<

# --- the plugin author's kit: core/kit/ -----------------------------------
# llmroute-mock.h and libllmroute-mock.a (a mock host for unit-testing a
# stage, with the runner's run-independent services linked in), the
# stage skeleton and the llmroute-stage(7) manual; all installed.
MOCK_LIB := $(BUILD)/lib/libllmroute-mock.a
$(OBJDIR)/kit/mockhost.o: core/kit/mockhost.c core/kit/llmroute-mock.h $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Icore -Icore/lib -Icore/kit -c -o $@ $<
$(MOCK_LIB): $(OBJDIR)/kit/mockhost.o $(CORE_LIBOBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^
kit: $(MOCK_LIB) $(BUILD)/include/llmroute-mock.h
$(BUILD)/include/llmroute-mock.h: core/kit/llmroute-mock.h
	@mkdir -p $(dir $@)
	cp $< $@

# --- plugins: one folder per stage, every .c in it -> <name>.so ------------
# A stage includes the public header (as installed, $(BUILD)/include), its
# own files and the internal library by its path ("core/lib/keys.h"), so
# `grep '#include "' plugins/` shows every dependency of every stage.  A
# folder may hold plugin.mk setting LIBS_<name> (extra libraries, e.g.
# -lsqlite3).
PLUGIN_NAMES := $(notdir $(patsubst %/,%,$(wildcard plugins/*/)))
PLUGIN_SOS   := $(PLUGIN_NAMES:%=$(LIBDIR)/%.so)
-include $(wildcard plugins/*/plugin.mk)
PLUGIN_CFLAGS = -fPIC -fvisibility=hidden
PLUGIN_INC    = -I$(BUILD)/include -I.

plugins: $(PLUGIN_SOS)
.SECONDEXPANSION:
$(LIBDIR)/%.so: $$(wildcard plugins/$$*/*.c) $$(wildcard plugins/$$*/*.h) \
                $(LIB_A) $(LIB_HDR) $(BUILD)/include/llmroute.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PLUGIN_CFLAGS) $(PLUGIN_INC) \
	  -Iplugins/$* -shared -o $@ $(filter %.c,$^) $(LIB_A) $(LDFLAGS_ALL) \
	  $(LIBS_$*) $(CURL_LIBS) $(JQ_LIBS) -lonig -lm

# --- share: pipelines, catalog, rules, examples ---------------------------
SHARE_SRC := $(shell find pipelines -type f ! -name '*.so' ! -perm -u+x 2>/dev/null)
SHARE_OUT := $(SHARE_SRC:pipelines/%=$(SHAREDIR)/pipelines/%)
share: $(SHARE_OUT)
$(SHAREDIR)/pipelines/%: pipelines/%
	@mkdir -p $(dir $@)
	cp $< $@

include: $(BUILD)/include/llmroute.h
$(BUILD)/include/llmroute.h: core/llmroute.h
	@mkdir -p $(dir $@)
	cp $< $@

# --- test binaries ----------------------------------------------------------
# tests/unit/*.c      -> $(BUILD)/tests/unit/<name> (linked with core objects
#                        except main.o, plus tests/unit/harness.h)
# tests/plugins/*.c   -> $(BUILD)/tests/plugins/<name>.so
# tests/tools/*.c     -> $(BUILD)/tests/tools/<name> (case runner ...)
# tests/mockprov/*.c  -> $(BUILD)/tests/mockprov
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TPLUG_SRC  := $(wildcard tests/plugins/*.c)
TPLUG_SOS  := $(TPLUG_SRC:tests/plugins/%.c=$(BUILD)/tests/plugins/%.so)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
MOCK_SRC   := $(wildcard tests/mockprov/*.c)
MOCK_BIN   := $(if $(MOCK_SRC),$(BUILD)/tests/mockprov)

testbins: $(UNIT_BINS) $(TPLUG_SOS) $(TOOL_BINS) $(MOCK_BIN)

# (a unit test may #include a plugin's .c to test its internals)
$(BUILD)/tests/unit/%: tests/unit/%.c $(MOCK_LIB) $(wildcard tests/unit/*.h) $(CORE_HDR) core/kit/llmroute-mock.h \
                       $(wildcard plugins/*/*.c plugins/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I. -Icore -Icore/lib -Icore/kit -Itests/unit -o $@ $< \
	  $(MOCK_LIB) $(LDFLAGS_ALL) $(CURL_LIBS) $(JQ_LIBS) -ldl -lm

$(BUILD)/tests/unit/test_jvfast_api: tests/unit/test_jvfast.c

$(BUILD)/tests/plugins/%.so: tests/plugins/%.c $(BUILD)/include/llmroute.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PLUGIN_CFLAGS) -I$(BUILD)/include -shared -o $@ $< $(LDFLAGS_ALL) \
	  $(CURL_LIBS) $(JQ_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) $(CURL_LIBS) $(JQ_LIBS) -lm

$(BUILD)/tests/mockprov: $(MOCK_SRC) $(wildcard tests/mockprov/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $(MOCK_SRC) $(LDFLAGS_ALL) -lmicrohttpd \
	  $(JQ_LIBS) -lm

# --- running ----------------------------------------------------------------
test: all check-deps-test
	@BUILD=$(BUILD) sh tests/run.sh

# What some tests run (Redis, GNU parallel, Chromium): installed as root
# when missing, so `make test` on a fresh machine runs every test;
# otherwise those tests report SKIP.
check-deps-test:
	@if [ -n "$(DEPS_TEST_MISSING)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps; \
	  else echo "test: missing $(DEPS_TEST_MISSING): the tests that need" \
	    "them report SKIP (run 'make deps' as root)" >&2; fi; fi

test-asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT="-O1 -g" test

bench: all
	@BUILD=$(BUILD) sh tests/bench/run.sh

# --- install ----------------------------------------------------------------
DESTDIR ?=
install: check-deps bin plugins share include kit
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/llmroute \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/llmroute/skeleton
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/llmroute
	install -m 755 $(PLUGIN_SOS) $(DESTDIR)$(PREFIX)/lib/llmroute/
	install -m 644 core/llmroute.h core/kit/llmroute-mock.h \
	  $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(MOCK_LIB) $(DESTDIR)$(PREFIX)/lib/
	cp -R $(SHAREDIR)/pipelines $(DESTDIR)$(PREFIX)/share/llmroute/
	install -m 644 core/kit/skeleton/* \
	  $(DESTDIR)$(PREFIX)/share/llmroute/skeleton/
	install -m 644 core/llmroute.1 $(DESTDIR)$(PREFIX)/share/man/man1/llmroute.1
	install -m 644 core/kit/llmroute-stage.7 \
	  $(DESTDIR)$(PREFIX)/share/man/man7/llmroute-stage.7
	for pc in core/llmroute.pc.in core/kit/llmroute-mock.pc.in; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $$pc \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$(basename $$pc .in); done

clean:
	rm -rf build build-asan build-fuzz

# --- fuzzing: make fuzz -------------------------------------------------------
# tests/fuzz/fuzz_NAME.c -> $(FUZZ_BUILD)/fuzz_NAME, a libFuzzer harness
# built with clang -fsanitize=fuzzer,address,undefined over the runner's
# sources compiled afresh (a plugin's files are #included by its
# harness, as the unit tests do).  tests/fuzz/run.sh runs each on a copy
# of its seed corpus tests/fuzz/corpus/NAME/ for FUZZ_TIME seconds and
# prints PASS/FAIL lines and "N passed, N failed"; what it finds goes to
# $(FUZZ_BUILD)/run/NAME/ (crash artifacts, new inputs, the log).
FUZZ_TIME  ?= 60
FUZZ_BUILD ?= $(BUILD)-fuzz
FUZZ_OBJ   := $(FUZZ_BUILD)/obj
FUZZ_CFLAGS = $(STD) $(filter-out -Werror,$(WARN)) -O1 -g \
              -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined $(CURL_CFLAGS)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS  := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIBOBJ := $(filter-out $(FUZZ_OBJ)/core/main.o,\
                 $(CORE_SRC:core/%.c=$(FUZZ_OBJ)/core/%.o)) \
               $(LIB_SRC:core/lib/%.c=$(FUZZ_OBJ)/lib/%.o)
FUZZ_A     := $(FUZZ_OBJ)/libllmr-fuzz.a

check-deps-fuzz:
	@if [ -n "$(DEPS_MISSING)$(DEPS_FUZZ_MISSING)" ]; then \
	  $(MAKE) --no-print-directory deps; fi

$(FUZZ_OBJ)/core/%.o: core/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Icore -Icore/lib \
	  -DLLMR_VERSION='"$(VERSION)"' -c -o $@ $<
$(FUZZ_OBJ)/lib/%.o: core/lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Icore -Icore/lib \
	  -c -o $@ $<
$(FUZZ_A): $(FUZZ_LIBOBJ)
	rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) \
                      $(FUZZ_A) $(CORE_HDR) \
                      $(wildcard plugins/*/*.c plugins/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -I. -Icore -Icore/lib \
	  -Itests/fuzz -o $@ $< $(FUZZ_A) $(CURL_LIBS) $(JQ_LIBS) -ldl -lm

fuzz: check-deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_TIME=$(FUZZ_TIME) \
	  sh tests/fuzz/run.sh $(FUZZ_NAMES)

# --- router: retrain pipelines/router.model on RouterBench's outcomes ------
ROUTERBENCH ?= ../shared/data/routerbench
.PHONY: router
router: bin
	@ls $(ROUTERBENCH)/*.csv >/dev/null 2>&1 || { echo "router: no CSV in" \
	  "$(ROUTERBENCH) (make router ROUTERBENCH=folder)" >&2; exit 1; }
	$(BIN) eval convert routerbench -o $(BUILD)/routerbench.jsonl \
	  --catalog-out $(BUILD)/routerbench.catalog.json $(ROUTERBENCH)/*.csv
	$(BIN) train --outcomes $(BUILD)/routerbench.jsonl \
	  --catalog $(BUILD)/routerbench.catalog.json -o pipelines/router.model

# --- prices: refresh pipelines/models.json from a LiteLLM price table -----
PRICES ?= ../shared/data/prices/model_prices_and_context_window.json
.PHONY: prices
prices:
	@test -r "$(PRICES)" || { echo "prices: cannot read $(PRICES)" \
	  "(make prices PRICES=FILE)" >&2; exit 1; }
	jq --slurpfile lp "$(PRICES)" -f tests/tools/refresh_prices.jq \
	  pipelines/models.json > pipelines/models.json.tmp
	mv pipelines/models.json.tmp pipelines/models.json
	@git diff --stat -- pipelines/models.json 2>/dev/null || true
