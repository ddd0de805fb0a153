# shadoweval: build, test, bench, demo.
#
#   make            release binaries in bin/ (shadoweval, shadowsim)
#   make test       install missing packages, sanitized unit suites, then e2e
#   make check T=config   one suite (tests/test_config.c), sanitized
#   make bench      benchmarks: figures and goals into bench/results.csv (see bench/)
#   make bench-check  exit 1 when a ratio in bench/results.csv misses its goal by > 20%
#   make demo       shadowsim on a free port + an example shadow eval
#   make fmt / lint / analyze / clean
#
# BUILD=dir keeps object files apart (parallel work trees share one checkout).

BUILD   ?= build
BIN     ?= bin
CC      ?= cc
PKGS    := libcurl libcjson libpcre2-8 sqlite3 libzstd
WERROR  ?= -Werror

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libmicrohttpd 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lm
# Only shadowsim (and the tests of src/sim/) link libmicrohttpd.
SIM_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) -lpthread
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

WARN    := -Wall -Wextra -Wshadow -Wformat=2 $(WERROR)
BASE    := -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) $(WARN) -MMD -MP
REL_CFLAGS  := $(BASE) -O2 -g
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(BASE) -O1 -g $(SAN)

SRC_ALL  := $(shell find src -name '*.c' | sort)
MAINS    := src/main.c src/sim/main.c
# libse.a: every room but shadowsim's; libsim.a: src/sim/ (on libmicrohttpd).
SIM_SRC  := $(filter-out $(MAINS),$(filter src/sim/%,$(SRC_ALL)))
LIB_SRC  := $(filter-out $(MAINS) $(SIM_SRC),$(SRC_ALL))
UNIT_SRC := $(sort $(wildcard tests/test_*.c))
E2E_SRC  := $(sort $(wildcard tests/e2e/test_*.c))
TEST_HELPERS := $(sort $(wildcard tests/support/*.c))

REL_LIB  := $(BUILD)/rel/libse.a
ASAN_LIB := $(BUILD)/asan/libse.a
REL_SIM_LIB  := $(BUILD)/rel/libsim.a
ASAN_SIM_LIB := $(BUILD)/asan/libsim.a
REL_OBJ  := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
REL_SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/rel/%.o)
ASAN_SIM_OBJ := $(SIM_SRC:%.c=$(BUILD)/asan/%.o)
HELP_OBJ := $(TEST_HELPERS:%.c=$(BUILD)/asan/%.o)
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/asan/tests/%)
E2E_BIN  := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/asan/tests/e2e/%)
TEST_OBJ := $(UNIT_BIN:=.o) $(E2E_BIN:=.o)
# The suites of src/sim/ (tests/test_sim*.c) also link libsim.a.
SIM_UNIT_BIN := $(filter $(BUILD)/asan/tests/test_sim%,$(UNIT_BIN))
ASAN_BIN := $(BUILD)/asan/bin/shadoweval $(BUILD)/asan/bin/shadowsim

.PHONY: all deps test check unit e2e bench bench-check demo fmt lint analyze clean asan
all: $(BIN)/shadoweval $(BIN)/shadowsim

deps:
	@bash scripts/install-deps.sh

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(REL_LIB): $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(ASAN_LIB): $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(REL_SIM_LIB): $(REL_SIM_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(ASAN_SIM_LIB): $(ASAN_SIM_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/shadoweval: $(BUILD)/rel/src/main.o $(REL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $^ $(PKG_LIBS) -o $@
$(BIN)/shadowsim: $(BUILD)/rel/src/sim/main.o $(REL_SIM_LIB) $(REL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $^ $(PKG_LIBS) $(SIM_LIBS) -o $@

$(BUILD)/asan/bin/shadoweval: $(BUILD)/asan/src/main.o $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $^ $(PKG_LIBS) -o $@
$(BUILD)/asan/bin/shadowsim: $(BUILD)/asan/src/sim/main.o $(ASAN_SIM_LIB) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $^ $(PKG_LIBS) $(SIM_LIBS) -o $@
asan: $(ASAN_BIN)

# A test links its objects, then libsim.a when it is a suite of src/sim/,
# then libse.a (archive order: the sim archive uses core/).
$(SIM_UNIT_BIN): $(ASAN_SIM_LIB)
$(SIM_UNIT_BIN): TEST_SIM = $(ASAN_SIM_LIB) $(SIM_LIBS)
$(BUILD)/asan/tests/%: $(BUILD)/asan/tests/%.o $(HELP_OBJ) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(filter %.o,$^) $(TEST_SIM) $(ASAN_LIB) $(PKG_LIBS) $(CRIT_LIBS) \
		-lpthread -o $@
# Test objects are kept (not intermediate), so their .d files stay valid and
# a change to a tests/support header rebuilds exactly what includes it.
.SECONDARY: $(TEST_OBJ) $(HELP_OBJ)

# Tests run from the repository root and find the sanitized binaries here.
export SE_BIN_DIR := $(BUILD)/asan/bin

test: deps
	@$(MAKE) --no-print-directory $(ASAN_BIN) $(UNIT_BIN) $(E2E_BIN)
	@bash tests/run.sh $(UNIT_BIN) $(E2E_BIN)

unit: $(UNIT_BIN)
	@bash tests/run.sh $(UNIT_BIN)
e2e: $(ASAN_BIN) $(E2E_BIN)
	@bash tests/run.sh $(E2E_BIN)
# make check T=room runs tests/test_room.c or tests/e2e/test_room.c (or both).
CHECK_BIN = $(filter %/test_$(T),$(UNIT_BIN) $(E2E_BIN))
check: $(ASAN_BIN) $(CHECK_BIN)
	@test -n "$(CHECK_BIN)" || { echo "check: no tests/test_$(T).c or tests/e2e/test_$(T).c" >&2; exit 2; }
	@bash tests/run.sh $(CHECK_BIN)

# make bench: every figure of bench/run.sh into bench/results.csv (under 10
# minutes on 2 cores); make bench-check: exit 1 when a ratio there misses its
# goal by more than 20%.
bench:
	@BENCH=1 bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory all $(BIN)/curl-floor
	@bash bench/run.sh
# bench/cpu.sh's libcurl floor: a bare libcurl client, release flags (no -I
# of src/: it uses nothing of shadoweval's).
$(BIN)/curl-floor: bench/curl-floor.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(PKG_CFLAGS) $(WARN) -O2 -g $< \
		$(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl) -lpthread -o $@
bench-check:
	@bash bench/check.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# C sources and headers of src/ and tests/ (not the fixtures), and bench/curl-floor.c.
FMT_SRC = $(SRC_ALL) $(shell find src -name '*.h' | sort) $(UNIT_SRC) $(E2E_SRC) \
	  $(TEST_HELPERS) $(wildcard tests/support/*.h) bench/curl-floor.c
fmt:
	clang-format -i $(FMT_SRC)
# Format, then the layout rules (scripts/check-layout.sh: who includes cli.h,
# and that libse.a does not need libmicrohttpd).
lint: $(ASAN_LIB)
	@clang-format --dry-run --Werror $(FMT_SRC)
	@bash scripts/check-layout.sh $(ASAN_LIB)
	@echo "lint: clean"

# make install [PREFIX=/usr/local] [DESTDIR=]: the two binaries, the man
# pages, bash and zsh completion, and the example evals with what they name
# (datasets, pricing, shadowsim profiles) under share/shadoweval/.
# install-files installs what is already built (INSTALL_BIN=dir picks which
# binaries: the tests install the sanitized ones without a release build).
PREFIX  ?= /usr/local
INSTALL_BIN ?= $(BIN)
INSTALL_ROOT = $(DESTDIR)$(PREFIX)
SHARE_FILES := $(wildcard evals/*.json evals/pricing/*.json datasets/*)
.PHONY: install install-files uninstall
install: all
	@$(MAKE) --no-print-directory install-files
install-files:
	install -d $(INSTALL_ROOT)/bin $(INSTALL_ROOT)/share/man/man1 $(INSTALL_ROOT)/share/man/man5 \
	  $(INSTALL_ROOT)/share/bash-completion/completions $(INSTALL_ROOT)/share/zsh/site-functions \
	  $(INSTALL_ROOT)/share/shadoweval/evals/pricing $(INSTALL_ROOT)/share/shadoweval/datasets
	install -m 755 $(INSTALL_BIN)/shadoweval $(INSTALL_BIN)/shadowsim $(INSTALL_ROOT)/bin/
	install -m 644 man/shadoweval.1 man/shadowsim.1 $(INSTALL_ROOT)/share/man/man1/
	install -m 644 man/shadoweval-eval.5 $(INSTALL_ROOT)/share/man/man5/
	install -m 644 completions/shadoweval.bash $(INSTALL_ROOT)/share/bash-completion/completions/shadoweval
	ln -sf shadoweval $(INSTALL_ROOT)/share/bash-completion/completions/shadowsim
	install -m 644 completions/_shadoweval $(INSTALL_ROOT)/share/zsh/site-functions/_shadoweval
	install -m 644 $(wildcard evals/*.json) $(INSTALL_ROOT)/share/shadoweval/evals/
	install -m 644 $(wildcard evals/pricing/*) $(INSTALL_ROOT)/share/shadoweval/evals/pricing/
	install -m 644 $(wildcard datasets/*) $(INSTALL_ROOT)/share/shadoweval/datasets/
uninstall:
	rm -f $(INSTALL_ROOT)/bin/shadoweval $(INSTALL_ROOT)/bin/shadowsim
	rm -f $(INSTALL_ROOT)/share/man/man1/shadoweval.1 $(INSTALL_ROOT)/share/man/man1/shadowsim.1
	rm -f $(INSTALL_ROOT)/share/man/man5/shadoweval-eval.5
	rm -f $(INSTALL_ROOT)/share/bash-completion/completions/shadoweval \
	  $(INSTALL_ROOT)/share/bash-completion/completions/shadowsim
	rm -f $(INSTALL_ROOT)/share/zsh/site-functions/_shadoweval
	rm -rf $(INSTALL_ROOT)/share/shadoweval

# Static analysis of src/, clean or failing: cppcheck (value flow; reasons for
# each suppression in .cppcheck-suppressions) and clang-tidy (checks and why
# some are off in .clang-tidy), two files at a time.
TIDY_CFLAGS = -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS)
analyze:
	@cppcheck --quiet --std=c11 --enable=warning,style,performance,portability \
		--inline-suppr --suppressions-list=.cppcheck-suppressions --error-exitcode=1 \
		-D_GNU_SOURCE -Isrc -j 2 src
	@printf '%s\n' $(SRC_ALL) | xargs -P2 -n6 bash -c \
		'out=$$(clang-tidy --quiet "$$@" -- $(TIDY_CFLAGS) 2>&1); rc=$$?; \
		 grep -v "warnings generated" <<<"$$out" || true; exit $$rc' bash
	@echo "analyze: clean"

# ---- fuzzing (libFuzzer; fuzz/README.md) ----------------------------------
# `make fuzz` builds one libFuzzer binary per target in fuzz/ with clang,
# ASan and UBSan, linked with the library compiled by clang in its own build
# folder; `make fuzz-smoke` runs each on its seed corpus for FUZZ_SECONDS
# and fails on any crash, leak or sanitizer report.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Isrc -Ifuzz $(PKG_CFLAGS) -Wall -Wextra -O1 -g \
		-fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -MMD -MP
FUZZ_TARGETS := $(patsubst fuzz/fz_%.c,%,$(filter-out fuzz/fz_util.c fuzz/fz_dataset.c,$(wildcard fuzz/fz_*.c)))
FUZZ_LIB     := $(BUILD)/fuzz/libse.a
FUZZ_OBJ     := $(LIB_SRC:%.c=$(BUILD)/fuzz/%.o)
FUZZ_HELP    := $(BUILD)/fuzz/fuzz/fz_util.o $(BUILD)/fuzz/fuzz/fz_dataset.o
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/bin/fz_%)

.PHONY: fuzz fuzz-smoke
FMT_SRC += $(wildcard fuzz/*.c fuzz/*.h)
$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/fuzz/bin/fz_%: $(BUILD)/fuzz/fuzz/fz_%.o $(FUZZ_HELP) $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(PKG_LIBS) -o $@
fuzz:
	@FUZZ=1 bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
.SECONDARY: $(FUZZ_HELP) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz/fz_%.o)
fuzz-smoke: fuzz
	@bash fuzz/smoke.sh $(FUZZ_SECONDS) $(FUZZ_BIN)
-include $(FUZZ_OBJ:.o=.d) $(FUZZ_HELP:.o=.d) $(FUZZ_BIN:%=$(BUILD)/fuzz/fuzz/%.d)
# ---- end of fuzzing ---------------------------------------------------------

clean:
	rm -rf $(BUILD) $(BIN)

-include $(REL_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(REL_SIM_OBJ:.o=.d) $(ASAN_SIM_OBJ:.o=.d)
-include $(BUILD)/rel/src/main.d $(BUILD)/asan/src/main.d
-include $(BUILD)/rel/src/sim/main.d $(BUILD)/asan/src/sim/main.d
-include $(TEST_OBJ:.o=.d) $(HELP_OBJ:.o=.d)
