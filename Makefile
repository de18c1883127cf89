# cxlemu - a CXL memory-fabric emulator in user space.
#
#   make demo    install what is missing, build, run the two-host demo
#   make demo-coherency  a message ring and its six classic bugs on a
#                non-coherent and a coherent device (scripts/demo_coherency.sh)
#   make check   install what is missing, build with ASan+UBSan, run tests
#   make bench   build optimised and run the benchmarks under bench/
#
# Two trees: build/ (optimised, for the demo and benchmarks) and
# build/san/ (AddressSanitizer + UBSan, for the tests).

CC      ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
# libfuse3: `cxlemu shell` serves /sys with it (only the command links it)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)
# libcapstone: the preload finds the cache instructions (clflush,
# clflushopt, clwb) of unmodified programs with it (only the preload links it)
CAPSTONE_LIBS := $(shell pkg-config --libs capstone 2>/dev/null || echo -lcapstone)
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS_ALL := -Isrc -Iinclude $(PKG_CFLAGS) $(FUSE_CFLAGS)
OPT     := -O2 -g
SAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard src/util/*.c src/spec/*.c src/media/*.c src/model/*.c \
                      src/sysfs/*.c src/config/*.c src/proto/*.c src/listing/*.c src/server/*.c \
                      src/client/*.c \
                      src/qemu/*.c)
CLI_SRC := $(wildcard src/cli/*.c src/shell/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)
EXAMPLE_SRC := $(wildcard examples/*.c)
PRELOAD_SRC := $(wildcard src/preload/*.c)

B  := build
BS := build/san

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
LIB_OBJ_S := $(LIB_SRC:%.c=$(BS)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/%.o)
CLI_OBJ_S := $(CLI_SRC:%.c=$(BS)/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(BS)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
EXAMPLES  := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)
PRELOAD   := $(if $(PRELOAD_SRC),$(B)/libcxlemu-preload.so)

.PHONY: all build build-san deps demo demo-coherency check check-layers bench clean fuzz
all: build

deps:
	@sh scripts/deps.sh

build: $(B)/cxlemu $(EXAMPLES) $(PRELOAD)
build-san: $(BS)/cxlemu $(TESTS) $(EXAMPLES) $(PRELOAD)

$(B)/%.o: %.c $(wildcard src/*/*.h src/*/*.def include/cxlemu/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) -fPIC $(CPPFLAGS_ALL) -c $< -o $@
$(BS)/%.o: %.c $(wildcard src/*/*.h src/*/*.def include/cxlemu/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS_ALL) -c $< -o $@

$(B)/libcxlemu.a: $(LIB_OBJ)
	ar rcs $@ $^
$(BS)/libcxlemu.a: $(LIB_OBJ_S)
	ar rcs $@ $^

$(B)/cxlemu: $(CLI_OBJ) $(B)/libcxlemu.a
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS) $(FUSE_LIBS) -lpthread
$(BS)/cxlemu: $(CLI_OBJ_S) $(BS)/libcxlemu.a
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(FUSE_LIBS) -lpthread

$(BS)/tests/%: tests/%.c $(BS)/libcxlemu.a $(wildcard tests/*.h fuzz/*.c fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS_ALL) -Itests -o $@ $< $(BS)/libcxlemu.a $(PKG_LIBS) -lcmocka -lpthread

$(B)/bench/%: bench/%.c $(wildcard bench/*.h) $(B)/libcxlemu.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g $(CPPFLAGS_ALL) -o $@ $< $(B)/libcxlemu.a $(PKG_LIBS) -lpthread

$(B)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g -o $@ $<

# The preload links the client library alone (client, the wire, spec,
# util; not the listing, which builds from the model); -z defs makes a
# call into anything else a link error rather than a failure at run time,
# and --exclude-libs keeps the library's symbols inside the preload: it
# exports only what it interposes (open, mmap, stat, ...).
CLIENT_OBJ := $(filter $(B)/src/util/% $(B)/src/spec/% $(B)/src/client/% \
	$(B)/src/proto/%,$(LIB_OBJ))
$(B)/libcxlemu-client.a: $(CLIENT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
$(B)/libcxlemu-preload.so: $(PRELOAD_SRC) src/preload/exports.map $(B)/libcxlemu-client.a
	$(CC) $(WARN) $(OPT) -fPIC -shared -Wl,-z,defs -Wl,--exclude-libs,ALL -Wl,--version-script=src/preload/exports.map $(CPPFLAGS_ALL) -o $@ $(PRELOAD_SRC) $(B)/libcxlemu-client.a $(PKG_LIBS) $(CAPSTONE_LIBS) -ldl -lpthread

demo: deps
	@$(MAKE) --no-print-directory build
	@sh scripts/demo.sh $(B)/cxlemu

demo-coherency: deps
	@$(MAKE) --no-print-directory build
	@sh scripts/demo_coherency.sh $(B)/cxlemu

check: deps
	@$(MAKE) --no-print-directory build build-san $(BENCHES)
	@sh scripts/check-layers.sh $(B)
	@sh tests/run.sh $(BS) $(B)

# no layer calls upward (scripts/check-layers.sh says which may call which)
check-layers:
	@$(MAKE) --no-print-directory build
	@sh scripts/check-layers.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory build $(BENCHES)
	@rm -f $(B)/bench/results.json
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done
	@for b in bench/*.sh; do echo "== $$b"; sh $$b $(B) || exit 1; done
	@echo "== figures (medians; min, max and baselines under \"detail\"): $(B)/bench/results.json"
	@jq -S 'del(.detail)' $(B)/bench/results.json 2>/dev/null || cat $(B)/bench/results.json

clean:
	rm -rf build

-include mk/lab.mk

fuzz:
	@sh scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory -f fuzz/Makefile.fuzz fuzz
