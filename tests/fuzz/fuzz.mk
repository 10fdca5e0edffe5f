# libFuzzer targets: every tests/fuzz/fuzz_*.c defines LLVMFuzzerTestOneInput.
#   make fuzz                      builds build/fuzz/fuzz_* with clang
#   build/fuzz/fuzz_X tests/fuzz/corpus/X   runs one
# `make check` also builds each target with tests/fuzz/standalone.c (gcc +
# ASan/UBSan) and replays its corpus, so the targets cannot rot.

FUZZ_CC   ?= clang
FUZZ_DIR  := build/fuzz
PKGS      := libcrypto libsodium libsystemd libcrypt
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. $(shell pkg-config --cflags $(PKGS)) \
	      -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIBS := $(shell pkg-config --libs $(PKGS)) -lcdb -lldap -llber -lpam -lpthread
LIB_DIRS  := common authd mechanisms passdb userdb client
MAINS     := authd/main.c client/authctl.c
LIB_SRC   := $(filter-out $(MAINS),$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
TARGETS   := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))

all: $(TARGETS)

# Keep the library objects between runs (they are otherwise intermediate).
.SECONDARY: $(LIB_OBJ)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/%: tests/fuzz/%.c $(LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)
