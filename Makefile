# barrage - see README.md. `make demo` and `make test` are the two entry points.
.DEFAULT_GOAL := all
.PHONY: all demo test unit e2e asan bench fuzz deps clean FORCE

BUILD   ?= build
SAN     ?=
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
UNAME   := $(shell uname -s)

CC      ?= cc
OPT     ?= -O2 -g
# Our flags live apart from CFLAGS so `make CFLAGS=...` adds to them.
BASE_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wconversion -pthread -MMD -MP -DBARRAGE_VERSION='"$(VERSION)"'
# `make test` (and so CI) builds with WERROR=1: a warning fails the build.
ifeq ($(WERROR),1)
BASE_CFLAGS += -Werror
endif
LDLIBS  += -pthread -lm

ifeq ($(SAN),1)
# float-cast-overflow: a double cast to an integer it does not fit (not in gcc's "undefined")
SAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif

# Dependencies: pkg-config first, then the Debian paths (deps/README.md).
PKG_CONFIG ?= pkg-config
LUAJIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
LUAJIT_LIBS   := $(shell $(PKG_CONFIG) --libs luajit 2>/dev/null || echo -lluajit-5.1)
SSL_CFLAGS    := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS      := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
LLHTTP_SRC    ?= $(firstword $(wildcard /usr/share/llhttp /usr/local/share/llhttp))
LLHTTP_INC    ?= $(firstword $(wildcard /usr/share/include/llhttp /usr/include/llhttp /usr/local/include/llhttp))

ifeq ($(UNAME),Linux)
LOOP_SRC := src/engine/loop_epoll.c
else
LOOP_SRC := src/engine/loop_kqueue.c
endif

# One folder per layer (src/README.md): each is on the include path, so a
# header is included by its name alone.
SRC_DIRS := src src/core src/engine src/script src/report src/live src/result src/serve
ALL_SRC  := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
# Everything but main.c goes into a library the unit tests link against too.
LIB_SRC := $(LOOP_SRC) $(filter-out src/main.c src/engine/loop_epoll.c src/engine/loop_kqueue.c,$(ALL_SRC))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
LLHTTP_OBJ := $(BUILD)/llhttp/llhttp.o $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o
ALL_CFLAGS = $(OPT) $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS) $(SRC_DIRS:%=-I%) -I$(BUILD) -I$(LLHTTP_INC) $(LUAJIT_CFLAGS) $(SSL_CFLAGS)
LIBS = $(LUAJIT_LIBS) $(SSL_LIBS) $(LDLIBS)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(BUILD)/unit_tests

Q = @
all: barrage

barrage: $(BUILD)/barrage
	$(Q)cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/barrage: $(BUILD)/main.o $(LIB_OBJ) $(LLHTTP_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# A file embedded as a byte array named $(1) (the Lua half of the API, the --web page).
define embed
	@echo "  GEN     $@"
	$(Q){ echo '/* generated from $<: do not edit */'; \
	  echo 'static const char $(1)[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@
endef

# The Lua half of the scripting API is embedded as a byte array.
$(BUILD)/barrage_lua.h: src/script/barrage.lua | $(BUILD)/.dir
	$(call embed,barrage_lua)

$(BUILD)/script/script.o: $(BUILD)/barrage_lua.h

# The --web dashboard's page, likewise.
$(BUILD)/web_page.h: src/live/web_page.html | $(BUILD)/.dir
	$(call embed,web_page)

$(BUILD)/live/web.o: $(BUILD)/web_page.h

# Objects that print the version are rebuilt when `git describe` changes.
$(BUILD)/version.stamp: FORCE | $(BUILD)/.dir
	@echo '$(VERSION)' > $@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(patsubst src/%.c,$(BUILD)/%.o,$(shell grep -l BARRAGE_VERSION $(ALL_SRC))): $(BUILD)/version.stamp
FORCE:

$(BUILD)/%.o: src/%.c | $(BUILD)/.dir
	@echo "  CC      $<"
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/llhttp/%.o: | $(BUILD)/.dir
	@test -n "$(LLHTTP_SRC)" || { echo "llhttp sources not found: run 'make deps' (installs node-llhttp)"; exit 2; }
	@mkdir -p $(BUILD)/llhttp
	@echo "  CC      llhttp/$*.c"
	$(Q)$(CC) $(OPT) $(SAN_FLAGS) $(CFLAGS) -w -I$(LLHTTP_INC) -c -o $@ $(LLHTTP_SRC)/$*.c

$(UNIT_BIN): $(UNIT_SRC) tests/unit/test.h tests/unit/main.c $(LIB_OBJ) $(LLHTTP_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ tests/unit/main.c $(UNIT_SRC) $(LIB_OBJ) $(LLHTTP_OBJ) $(LIBS)

$(BUILD)/.dir:
	@mkdir -p $(BUILD) && touch $@

deps:
	@sh deps/install.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh

unit: $(UNIT_BIN)
	@$(UNIT_BIN)

# Builds the normal and the sanitizer binaries (one job per core), then runs every suite on both.
NPROC ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) WERROR=1 all $(UNIT_BIN)
	@$(MAKE) --no-print-directory -j$(NPROC) WERROR=1 BUILD=build-asan SAN=1 OPT="-O1 -g" build-asan/barrage build-asan/unit_tests
	@sh tests/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT="-O1 -g" build-asan/barrage build-asan/unit_tests

bench: all
	@sh tests/bench/bench.sh

# libFuzzer targets (clang): each runs FUZZ_SECONDS; `make fuzz FUZZ_SECONDS=5` for a quick pass.
FUZZ_SECONDS ?= 60

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

clean:
	rm -rf build build-asan build-fuzz build-vg barrage

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d)
