# authd: non-recursive Makefile.
#   make            build/authd and build/authctl (optimised)
#   make run        install build deps, build, start authd on conf/authd.conf
#   make check      install test deps, build with ASan+UBSan, run every test
#   make fuzz       build libFuzzer targets (clang) into build/fuzz/
#   make bench      authd vs Dovecot's auth service (BENCH_QUICK=1: subset)
#
# Every .c file under the module directories is part of libauthd except the
# program entry points; adding a module needs no Makefile change.

CC       ?= cc
BUILD    ?= build
SAN      ?= 0
PKGS     := libcrypto libsodium libsystemd libcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS     := $(PKG_LIBS) -lcdb -lldap -llber -lpam -lpthread

WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP

LIB_DIRS := common authd mechanisms passdb userdb client
MAINS    := authd/main.c client/authctl.c
LIB_SRC  := $(filter-out $(MAINS),$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libauthd.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all run check tests fuzz clean deps-build deps-test
all: $(BUILD)/authd $(BUILD)/authctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/authd: $(BUILD)/obj/authd/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/authctl: $(BUILD)/obj/client/authctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# Fuzz targets linked with a replay main (tests/fuzz/standalone.c) so
# `make check` runs their corpora under the sanitizers.
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/standalone.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Shared objects the daemon tests load into authd: a PAM test module and an
# LD_PRELOAD library that logs NSS calls with the caller's pid
# (tests/testlib/). Built without sanitizers: they run inside authd.
TESTLIB_SRC := $(wildcard tests/testlib/*.c)
TESTLIB_SO  := $(TESTLIB_SRC:tests/testlib/%.c=$(BUILD)/testlib/%.so)

$(BUILD)/testlib/%.so: tests/testlib/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O1 -g -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

tests: $(UNIT_BIN) $(FUZZ_BIN) $(BUILD)/authd $(BUILD)/authctl $(TESTLIB_SO)

deps-build:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

run: deps-build
	@$(MAKE) --no-print-directory all
	mkdir -p run
	exec $(BUILD)/authd -F -c conf/authd.conf

# The check build lives in its own directory so `make` stays optimised.
check: deps-test
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 tests
	@BUILD=build/san sh tests/run.sh

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk

# ---- make bench: authd against Dovecot's auth service (tests/bench/) ------
# Optimised build only; BENCH_QUICK=1 runs the short subset. The tools:
# loadgen (load generator), echo (no-hash ceiling), cryptbench (hash
# ceiling), usersgen (passwd-files through authd's scheme generator).
BENCH_DIR  := $(BUILD)/bench
BENCH_BIN  := $(BENCH_DIR)/loadgen $(BENCH_DIR)/echo $(BENCH_DIR)/cryptbench $(BENCH_DIR)/usersgen
LOADGEN_OBJ := $(addprefix $(BUILD)/obj/tests/bench/,loadgen.o loadgen_run.o loadgen_mech.o)

.PHONY: bench bench-tools
bench: deps-test
	@$(MAKE) --no-print-directory all bench-tools
	python3 tests/bench/bench.py --build $(BUILD)

bench-tools: $(BENCH_BIN)

$(BENCH_DIR)/loadgen: $(LOADGEN_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BENCH_DIR)/usersgen: $(BUILD)/obj/tests/bench/usersgen.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BENCH_DIR)/echo: $(BUILD)/obj/tests/bench/echo.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BENCH_DIR)/cryptbench: $(BUILD)/obj/tests/bench/cryptbench.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcrypt -lpthread

clean:
	rm -rf build

# Test objects are otherwise intermediate and rebuilt on every run.
.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/authd/main.d $(BUILD)/obj/client/authctl.d
-include $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d)
-include $(wildcard $(BUILD)/obj/tests/bench/*.d)
