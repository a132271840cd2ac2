# invito: `make demo` and `make test` are the two commands a newcomer needs.
# Every source under src/ is picked up by wildcard: add a file, it is built.

CC       ?= cc
PKGS     := libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq
VERSION  := 0.1.0
B        ?= build

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lzxcvbn -lpthread

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -Isrc -I$(B) \
	     -DINVITO_VERSION='"$(VERSION)"' -DINVITO_LOCALEDIR='"$(CURDIR)/build/locale"' \
	     $(PKG_CFLAGS) -MMD -MP
LDFLAGS  ?=

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC)) $(B)/obj/embedded.o
EMBED_IN  := $(sort $(shell find src/store/migrations web -type f 2>/dev/null))
UNIT_SRC  := $(sort $(shell find tests/unit tests/common -name '*.c' 2>/dev/null))
HTTP_SRC  := $(sort $(shell find tests/http tests/common -name '*.c' 2>/dev/null))
UNIT_OBJ  := $(patsubst %.c,$(B)/obj/%.o,$(UNIT_SRC))
HTTP_OBJ  := $(patsubst %.c,$(B)/obj/%.o,$(HTTP_SRC))
PO        := $(wildcard po/*.po)
MO        := $(patsubst po/%.po,build/locale/%/LC_MESSAGES/invito.mo,$(PO))

.PHONY: all deps demo test unit unit-pg http http-pg scale browser sanitize format check-format clean bench \
	fuzz fuzz-ci load faults sqlmap html

all: $(B)/invito $(MO)

deps:
	@./scripts/install-deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/embed: tools/embed.c
	@mkdir -p $(B)
	$(CC) -std=c17 -O2 -Wall -Wextra -Werror $< -o $@

$(B)/embedded.c: $(B)/embed $(EMBED_IN)
	$(B)/embed $@ $(EMBED_IN)

$(B)/obj/embedded.o: $(B)/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libinvito.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/invito: $(B)/obj/src/main.o $(B)/libinvito.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS) $(PKG_LIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(B)/libinvito.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS) $(PKG_LIBS) -lcriterion

$(B)/http-tests: $(HTTP_OBJ) $(B)/libinvito.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS) $(PKG_LIBS) -lcriterion

build/locale/%/LC_MESSAGES/invito.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# The demo: install, build, create or reuse demo/invito.db, serve on :8080.
demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh

unit: $(B)/unit-tests $(MO)
	$(B)/unit-tests --jobs 2

# The store suites again on a throwaway PostgreSQL server (INVITO_TEST_PG), and
# migrate-to, which needs one; the other unit suites do not touch a database server.
unit-pg: $(B)/unit-tests $(MO)
	./scripts/pg-test.sh $(B)/unit-tests --jobs 2

http: $(B)/http-tests $(B)/invito $(MO)
	$(B)/http-tests --jobs 2

# The whole HTTP suite again on a throwaway PostgreSQL server: each test's server
# gets a schema of its own there (tests/common/pgtest.h).
http-pg: $(B)/http-tests $(B)/invito $(MO)
	./scripts/pg-test.sh $(B)/http-tests --jobs 2

# Two nodes behind haproxy (docs/haproxy.cfg.example) on one throwaway PostgreSQL:
# sessions and an invitation across nodes, and a node killed under load.
scale: $(B)/invito $(MO)
	B=$(B) ./tests/scale/run.sh

browser: all
	@./scripts/browser-tests.sh

# The Nu HTML Checker (npm vnu-jar, Java 17) on every page of tests/browser/pages.mjs.
html: $(B)/invito $(MO)
	INVITO_BIN=$(B)/invito ./tests/html/run.sh

# Unit and HTTP tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: $(MO)
	@$(MAKE) --no-print-directory -j2 B=build/asan \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" CFLAGS="-O1 -g" \
		build/asan/unit-tests build/asan/http-tests build/asan/invito
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp build/asan/unit-tests --jobs 2
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp INVITO_BIN=build/asan/invito build/asan/http-tests --jobs 2

# libFuzzer targets (fuzz/*.c, clang-14, build/fuzz): FUZZ_SECONDS each (default 60);
# fuzz-ci is the short run in make test. A crash is saved in build/fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh

fuzz-ci:
	FUZZ_SECONDS=30 ./fuzz/run.sh

# wrk on the landing page, sign-in and a staff list of a fresh demo server (loopback).
load: $(B)/invito $(MO)
	B=$(B) ./tests/load/run.sh

# The database locked by another process; SIGTERM during requests.
faults: $(B)/invito $(MO)
	B=$(B) ./tests/faults/run.sh

# sqlmap on every form and query parameter of a fresh demo server (loopback, bounded).
sqlmap: $(B)/invito $(MO)
	B=$(B) ./tests/sqlmap/run.sh

test: deps
	@$(MAKE) --no-print-directory -j2 all $(B)/unit-tests $(B)/http-tests
	@$(MAKE) --no-print-directory unit unit-pg http http-pg scale sanitize html load faults \
		fuzz-ci sqlmap browser

bench: all
	@B=$(B) ./bench/run.sh

format:
	clang-format -i $$(find src tests tools bench fuzz -name '*.[ch]' 2>/dev/null)

check-format:
	@clang-format --dry-run --Werror $$(find src tests tools bench fuzz -name '*.[ch]' 2>/dev/null)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
