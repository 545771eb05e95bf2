# xdp-canary: one entry point. `make` builds, `make check` sets up and tests, `make vmtest` tests
# on Debian 12's kernel in qemu, `make demo` shows a rollout, `make bench` measures.
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc
BUILD		:= build
ARCH		:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH	:= $(shell $(CC) -dumpmachine)

VERSION		:= 0.6.0
CFLAGS		?= -O2 -g
CFLAGS		+= -DXDP_CANARY_VERSION='"$(VERSION)"'
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
		   -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD) -Iuser/lib
LDLIBS		:= -lbpf -lelf -lz -ljansson -lcurl -lm
BPF_CFLAGS	:= -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		   -I$(BUILD) -Iinclude -Ibpf -I/usr/include/$(MULTIARCH) $(BPF_EXTRA_CFLAGS)

BPF_OBJS	:= $(BUILD)/canary_bpf.bpf.o $(BUILD)/xdp_bare.bpf.o $(BUILD)/xdp_fwd_floor.bpf.o \
		   $(BUILD)/pps.bpf.o
SKELS		:= $(BPF_OBJS:.bpf.o=.skel.h)
LIB_SRCS	:= $(wildcard user/lib/*.c)
LIB		:= $(BUILD)/libcanary.a
UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
DP_TEST		:= $(BUILD)/tests/dp_test
DP_SRCS		:= $(wildcard tests/datapath/*.c)
BENCH		:= $(BUILD)/canary-bench
PPS		:= $(BUILD)/canary-pps
BENCH_SRCS	:= tools/bench/benchlib.c tests/datapath/pktgen.c tests/datapath/netns.c
CANARYD		:= $(BUILD)/canaryd
CANARYCTL	:= $(BUILD)/canaryctl
PROMQ		:= $(BUILD)/tests/promq

.PHONY: all deps check vmtest demo bench bench-http bench-quick clean install FORCE

PREFIX		?= /usr/local
SBINDIR		:= $(PREFIX)/sbin
UNITDIR		:= $(PREFIX)/lib/systemd/system
DOCDIR		:= $(PREFIX)/share/doc/xdp-canary
SYSCONFDIR	?= /etc
.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS)

all: $(BPF_OBJS) $(SKELS) $(LIB) $(CANARYD) $(CANARYCTL) $(UNIT_TESTS) $(DP_TEST) $(BENCH) $(PPS) \
		   $(PROMQ)

deps:
	@tools/deps.sh

# Each output directory on its own: one that exists (build/vmtest, say) must not stand for all.
$(BUILD) $(BUILD)/tests $(BUILD)/lib:
	@mkdir -p $@

# CO-RE: types come from the running kernel's BTF.
$(BUILD)/vmlinux.h: | $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# One object holds every program, so that XDP and TC share their maps.
$(BUILD)/canary_bpf.bpf.o: bpf/canary.bpf.c $(wildcard bpf/*.h include/*.h) $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: tools/bench/%.bpf.c $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<)) > $@

$(BUILD)/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h include/*.h) $(SKELS) | $(BUILD)/lib
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(patsubst user/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS) -lcmocka

$(DP_TEST): $(DP_SRCS) $(wildcard tests/datapath/*.h) $(LIB) $(SKELS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/datapath $(DP_SRCS) -o $@ $(LIB) $(LDLIBS) -lcmocka -lpthread

# The Prometheus client from the command line, for tests/bats/prom.bats.
$(PROMQ): tests/prom/promq.c $(LIB) | $(BUILD)/tests
	$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(CANARYD): $(wildcard user/canaryd/*.c user/canaryd/*.h) $(LIB) | $(BUILD)
	$(CC) $(CFLAGS) -Iuser/canaryd $(filter %.c,$^) -o $@ $(LIB) $(LDLIBS) -lmicrohttpd

$(CANARYCTL): $(wildcard user/canaryctl/*.c user/canaryctl/*.h) $(LIB) | $(BUILD)
	$(CC) $(CFLAGS) -Iuser/canaryctl $(filter %.c,$^) -o $@ $(LIB) $(LDLIBS)

$(BENCH): tools/bench/bench.c tools/bench/scaling.c tools/bench/scaling.h $(BENCH_SRCS) tools/bench/benchlib.h $(LIB) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) -Itests/datapath -Itools/bench $(filter %.c,$^) -o $@ $(LIB) $(LDLIBS)

$(PPS): tools/bench/pps.c $(BENCH_SRCS) tools/bench/benchlib.h $(LIB) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) -Itests/datapath -Itools/bench $(filter %.c,$^) -o $@ $(LIB) $(LDLIBS) -lpthread

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh $(BUILD)

# The suites again in a qemu guest on Debian 12's kernel (vmtests/vmtest --help).
vmtest: deps
	@$(MAKE) --no-print-directory all
	@vmtests/vmtest --build $(BUILD) $(VMTEST_FLAGS)

# A lab in namespaces, real load, and two rollouts; it removes all it made (tools/demo).
demo: deps
	@$(MAKE) --no-print-directory all
	@LAB_BUILD=$(abspath $(BUILD)) tools/demo

# The whole benchmark (about 10 minutes on 2 cores), each section side by side with what it is
# measured against: the datapath alone and as its tables grow, packets per second on veth,
# reaction times, the agent's cost, HTTP against direct, nginx and nftables. It writes
# BENCHMARKS.md, docs/bench-http.svg and docs/bench-scaling.svg (tools/bench-run --help).
bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) tools/bench-run

bench-http: deps
	@$(MAKE) --no-print-directory all
	@tools/bench-http --out $(BUILD)/bench/http && \
	tools/bench-report --http $(BUILD)/bench/http --plot $(BUILD)/bench/http.svg \
		>$(BUILD)/bench/BENCHMARKS-http.md && echo "bench-http: $(BUILD)/bench/BENCHMARKS-http.md"

# Every section, short: a smoke test of the harness (under 3 minutes); the report stays in
# $(BUILD)/bench/quick.
bench-quick: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) tools/bench-run --quick

# Made again at each install: the paths in it follow this install's PREFIX.
$(BUILD)/canaryd.service: tools/canaryd.service.in FORCE | $(BUILD)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< > $@

FORCE:

# DESTDIR stages a package; the config is an example: canaryd.json is the admin's own.
install: $(CANARYD) $(CANARYCTL) $(BUILD)/canaryd.service
	install -D -m 0755 $(CANARYD) $(DESTDIR)$(SBINDIR)/canaryd
	install -D -m 0755 $(CANARYCTL) $(DESTDIR)$(SBINDIR)/canaryctl
	install -D -m 0644 $(BUILD)/canaryd.service $(DESTDIR)$(UNITDIR)/canaryd.service
	install -D -m 0644 tools/canaryd.example.json \
		$(DESTDIR)$(SYSCONFDIR)/xdp-canary/canaryd.json.example
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 docs/DESIGN.md $(DESTDIR)$(DOCDIR)/DESIGN.md
	install -D -m 0644 docs/TESTING.md $(DESTDIR)$(DOCDIR)/TESTING.md

clean:
	rm -rf $(BUILD)
