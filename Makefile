# kt - NIFTY options trading pipeline. One non-recursive Makefile.
#
#   make            build libkt.a, every process and tool into build/bin/
#   make test       install missing deps, run unit tests (ASan+UBSan) then integration tests
#   make test T=kt_store_test            one test binary (unit or integration)
#   make test T=kt_store_test:test_heartbeat   one case of it (cmocka pattern: * and ?)
#   make run        start the process group in sim mode under supervisord
#   make stop       stop the group and its redis
#   make bench      benchmarks (ratios against raw baselines measured in the same run)
#   make fuzz       libFuzzer targets, bounded time (FUZZ_SECONDS)
#   make clean
#
# Flavours build into their own directory: $(BUILD)/rel (default) and $(BUILD)/asan.

BUILD       ?= build
CC          ?= cc
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 30
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
PKGS        := libzmq msgpack libcurl libwebsockets hiredis libcjson libcrypto

# Named flag groups, Redis style.
STD_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -MMD -MP
OPT_CFLAGS  := -O2
SAN_CFLAGS  := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
INC_CFLAGS  := -Icommon
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)
# Every test binary's cmocka runner goes through tests/support/kt_testfilter.c, which
# applies KT_TEST_FILTER (make test T=binary:case).
TEST_LDFLAGS := -Wl,--wrap=_cmocka_run_group_tests

# Process folders and the binary each one builds (folder:binary). A folder whose
# library uses other folders' libraries comes first (static link order) and names
# them in LINK_<binary>.
PROCS := backtest:backtest md-gateway:md-gateway strategy:strategy risk-gate:risk-gate \
         exec-gateway:exec-gateway reconciler:reconciler alerter:alerter \
         sim:kite-sim tradectl:tradectl
PROC_DIRS := $(foreach p,$(PROCS),$(word 1,$(subst :, ,$(p))))
BIN_NAMES := $(foreach p,$(PROCS),$(word 2,$(subst :, ,$(p))))
LINK_backtest := strategy sim risk-gate
LINK_strategy := risk-gate

COMMON_SRC := $(wildcard common/*.c)
UNIT_SRC   := $(wildcard tests/unit/*_test.c)
INTEG_SRC  := $(wildcard tests/integration/*_test.c)
BENCH_SRC  := $(wildcard tests/bench/*_bench.c)
FUZZ_SRC   := $(wildcard tests/fuzz/*_fuzz.c)
TESTLIB_SRC := $(wildcard tests/support/*.c)

REL  := $(BUILD)/rel
ASAN := $(BUILD)/asan
BIN  := $(BUILD)/bin

.PHONY: all test unit integration run stop bench fuzz clean deps format-check
.DEFAULT_GOAL := all

# --- per-flavour rules -------------------------------------------------------
# $(1) flavour dir, $(2) extra cflags
define FLAVOUR
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(STD_CFLAGS) $(2) $$(INC_CFLAGS) -Itests/support $$(PKG_CFLAGS) -c $$< -o $$@

$(1)/lib/libkt.a: $$(patsubst %.c,$(1)/obj/%.o,$$(COMMON_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/lib/libkttest.a: $$(patsubst %.c,$(1)/obj/%.o,$$(TESTLIB_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,&& ar rcs $$@)
endef

$(eval $(call FLAVOUR,$(REL),$(OPT_CFLAGS)))
$(eval $(call FLAVOUR,$(ASAN),$(SAN_CFLAGS)))

# A process folder becomes lib<dir>.a (every object but main.o) plus its binary,
# so tests link the same objects the binaries do.
# $(1) flavour dir, $(2) folder
define PROCLIB
$(1)/lib/lib$(2).a: $$(patsubst %.c,$(1)/obj/%.o,$$(filter-out $(2)/main.c,$$(wildcard $(2)/*.c)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,&& ar rcs $$@)
endef
$(foreach d,$(PROC_DIRS),$(eval $(call PROCLIB,$(REL),$(d))))
$(foreach d,$(PROC_DIRS),$(eval $(call PROCLIB,$(ASAN),$(d))))

REL_PROC_LIBS  := $(foreach d,$(PROC_DIRS),$(REL)/lib/lib$(d).a)
ASAN_PROC_LIBS := $(foreach d,$(PROC_DIRS),$(ASAN)/lib/lib$(d).a)

# $(1) folder, $(2) binary
define PROCBIN
$(BIN)/$(2): $(REL)/obj/$(1)/main.o $(REL)/lib/lib$(1).a $(foreach l,$(LINK_$(2)),$(REL)/lib/lib$(l).a) $(REL)/lib/libkt.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(STD_CFLAGS) $$(OPT_CFLAGS) -o $$@ -Wl,--start-group $$^ -Wl,--end-group $$(PKG_LIBS)
endef
$(foreach p,$(PROCS),$(eval $(call PROCBIN,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# tradectl's resume is risk-gate's own state transition (one implementation).
$(BIN)/tradectl: $(REL)/lib/librisk-gate.a

BINS := $(addprefix $(BIN)/,$(BIN_NAMES))

all: $(BINS)

# --- tests ---------------------------------------------------------------------
UNIT_BINS  := $(patsubst tests/unit/%.c,$(ASAN)/tests/%,$(UNIT_SRC))
INTEG_BINS := $(patsubst tests/integration/%.c,$(REL)/tests/%,$(INTEG_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(REL)/tests/%,$(BENCH_SRC))

$(ASAN)/tests/%: $(ASAN)/obj/tests/unit/%.o $(ASAN)/lib/libkttest.a $(ASAN_PROC_LIBS) $(ASAN)/lib/libkt.a
	@mkdir -p $(dir $@)
	$(CC) $(STD_CFLAGS) $(SAN_CFLAGS) $(TEST_LDFLAGS) -o $@ $< -Wl,--start-group $(ASAN)/lib/libkttest.a $(ASAN_PROC_LIBS) $(ASAN)/lib/libkt.a -Wl,--end-group $(PKG_LIBS) $(CMOCKA_LIBS)

$(REL)/tests/%: $(REL)/obj/tests/integration/%.o $(REL)/lib/libkttest.a $(REL_PROC_LIBS) $(REL)/lib/libkt.a
	@mkdir -p $(dir $@)
	$(CC) $(STD_CFLAGS) $(OPT_CFLAGS) $(TEST_LDFLAGS) -o $@ $< -Wl,--start-group $(REL)/lib/libkttest.a $(REL_PROC_LIBS) $(REL)/lib/libkt.a -Wl,--end-group $(PKG_LIBS) $(CMOCKA_LIBS)

$(REL)/tests/%_bench: $(REL)/obj/tests/bench/%_bench.o $(REL)/lib/libkttest.a $(REL_PROC_LIBS) $(REL)/lib/libkt.a
	@mkdir -p $(dir $@)
	$(CC) $(STD_CFLAGS) $(OPT_CFLAGS) -o $@ $< -Wl,--start-group $(REL)/lib/libkttest.a $(REL_PROC_LIBS) $(REL)/lib/libkt.a -Wl,--end-group $(PKG_LIBS)

deps:
	@deploy/install-deps.sh

# Unit tests first (sanitizers), then integration tests against the real binaries.
# T=binary[:case] narrows the run to one binary (and one case of it).
ifdef T
T_BIN   := $(word 1,$(subst :, ,$(T)))
T_CASE  := $(word 2,$(subst :, ,$(T)))
T_UNIT  := $(filter %/$(T_BIN),$(UNIT_BINS))
T_INTEG := $(filter %/$(T_BIN),$(INTEG_BINS))
test: deps
	@$(if $(T_UNIT)$(T_INTEG),,echo "T=$(T): no test binary named $(T_BIN)" >&2; exit 2)
	@$(MAKE) --no-print-directory -j$(JOBS) $(if $(T_INTEG),all) $(T_UNIT) $(T_INTEG)
	@KT_BUILD=$(BUILD) KT_TEST_FILTER='$(T_CASE)' tests/run-tests.sh $(T_UNIT) -- $(T_INTEG)
else
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_BINS) $(INTEG_BINS)
	@KT_BUILD=$(BUILD) tests/run-tests.sh $(UNIT_BINS) -- $(INTEG_BINS)
endif

unit: $(UNIT_BINS)
	@KT_BUILD=$(BUILD) tests/run-tests.sh $(UNIT_BINS) --

integration: all $(INTEG_BINS)
	@KT_BUILD=$(BUILD) tests/run-tests.sh -- $(INTEG_BINS)

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; KT_BUILD=$(BUILD) $$b || exit 1; done

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(INC_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(COMMON_SRC) $(PKG_LIBS)

# A target that compiles a process's sources in depends on them too.
$(BUILD)/fuzz/recon_broker_fuzz: $(wildcard reconciler/*.c reconciler/*.h)

fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$(basename $$f) \
	        tests/fuzz/seeds/$$(basename $$f) 2>$(BUILD)/fuzz/$$(basename $$f).log \
	        || { tail -40 $(BUILD)/fuzz/$$(basename $$f).log; exit 1; }; \
	    grep -E "stat::number_of_executed_units|Done" $(BUILD)/fuzz/$$(basename $$f).log | tail -2; \
	done

run: deps all
	@deploy/run.sh start

stop:
	@deploy/run.sh stop

format-check:
	@clang-format --dry-run --Werror $(COMMON_SRC) $(wildcard common/*.h) $(foreach d,$(PROC_DIRS),$(wildcard $(d)/*.[ch]))
	@echo "format-check: clean"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
