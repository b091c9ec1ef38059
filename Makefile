# Postern: one non-recursive GNU Makefile.
#
# Each folder under src/ carries a small module.mk with one line that
# declares it: a library (src/util, src/global) or a program. Unit tests are
# the folder's *_test.c files; each becomes one cmocka binary linked with
# the folder's code and the layers below it.
#
#   make            build everything into $(BUILD)
#   make check      install missing packages, build, run every test
#   make run        install missing packages, build, start ./run in the foreground
#   make install    install under $(DESTDIR)$(PREFIX) (commands, daemons, stock configuration)
#   make asan       the same build with AddressSanitizer + UBSan in build/asan
#   make check-asan run every test against the sanitizer build
#   make valgrind   run the unit tests under valgrind
#   make deps       install the Debian packages Postern builds and tests with
#   make fuzz       build the libFuzzer targets (fuzz/) with clang; make fuzz-check runs them briefly

PREFIX      ?= /usr
DESTDIR     ?=
CONFIG_DIR  ?= /etc/postfix
COMMAND_DIR ?= $(PREFIX)/sbin
DAEMON_DIR  ?= $(PREFIX)/libexec/postfix
MANPAGE_DIR ?= $(PREFIX)/share/man
BUILD       ?= build
V           ?= 0

CC      ?= cc
AR      ?= ar
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wstrict-prototypes -fno-common -Werror
ALL_CFLAGS = -std=c17 $(WARN) $(CFLAGS) -MMD -MP
DEFS    := -DDEF_CONFIG_DIR='"$(CONFIG_DIR)"' -DDEF_COMMAND_DIR='"$(COMMAND_DIR)"' \
           -DDEF_DAEMON_DIR='"$(DAEMON_DIR)"' -DDEF_MANPAGE_DIR='"$(MANPAGE_DIR)"'
TEST_LDLIBS := -lcmocka

# Optional libraries (tools/packages installs them). A build without one
# still works; the table types that need it report "unsupported".
have = $(shell test -r /usr/include/$(1) && echo 1)
HAVE_LMDB  := $(call have,lmdb.h)
HAVE_CDB   := $(call have,cdb.h)
HAVE_PCRE2 := $(call have,pcre2.h)
DEFS    += $(if $(HAVE_LMDB),-DHAS_LMDB) $(if $(HAVE_CDB),-DHAS_CDB) $(if $(HAVE_PCRE2),-DHAS_PCRE2)
util_LDLIBS := $(if $(HAVE_LMDB),-llmdb) $(if $(HAVE_CDB),-lcdb) $(if $(HAVE_PCRE2),-lpcre2-8)

ifeq ($(SANITIZE),1)
CFLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

.DEFAULT_GOAL := all
# V=1 shows full commands; by default one short line per step.
ifeq ($(V),1)
Q :=
SAY = @true
else
Q := @
SAY = @printf '  %-7s %s\n'
endif
.PHONY: all check unit-tests run install clean deps asan check-asan valgrind format fuzz fuzz-check

LIBRARIES :=
PROGRAMS  :=
UNIT_TESTS :=
OBJECTS   :=

# $(call library,NAME,LOWER-LIBS): src/NAME/*.c (minus tests) -> libNAME.a
define library
$(1)_SRC  := $$(filter-out %_test.c,$$(wildcard src/$(1)/*.c))
$(1)_OBJ  := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(1)_LIBS := $(BUILD)/lib/lib$(1).a $(foreach l,$(2),$(BUILD)/lib/lib$(l).a)
$(1)_INCS := $(foreach d,$(1) $(2),-Isrc/$(d))
$(BUILD)/obj/$(1)/%.o: INCS := $$($(1)_INCS)
# The folder is a prerequisite: adding or deleting a source rebuilds the archive.
$(BUILD)/lib/lib$(1).a: $$($(1)_OBJ) src/$(1)
	@mkdir -p $$(@D)
	$$(SAY) AR $$@
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$(filter %.o,$$^)
LIBRARIES += $(BUILD)/lib/lib$(1).a
OBJECTS   += $$($(1)_OBJ)
$$(eval $$(call unit_tests,$(1),$$($(1)_LIBS),$$(foreach l,$(1) $(2),$$($$(l)_LDLIBS))))
endef

# $(call program,NAME,bin|libexec,LIBS[,LDLIBS]): src/NAME/*.c -> BUILD/bin|libexec/NAME.
# NAME.c holds main(); the folder's other files are shared with its tests.
define program
$(1)_SRC  := $$(filter-out %_test.c,$$(wildcard src/$(1)/*.c))
$(1)_OBJ  := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(1)_LIBS := $(foreach l,$(3),$(BUILD)/lib/lib$(l).a)
$(1)_INCS := $(foreach d,$(1) $(3),-Isrc/$(d))
$(BUILD)/obj/$(1)/%.o: INCS := $$($(1)_INCS)
$(BUILD)/$(2)/$(1): $$($(1)_OBJ) $$($(1)_LIBS)
	@mkdir -p $$(@D)
	$$(SAY) LD $$@
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $$($(1)_LIBS) $(4) $$(foreach l,$(3),$$($$(l)_LDLIBS))
PROGRAMS += $(BUILD)/$(2)/$(1)
$(BUILD)/$(2)/$(1): KIND := $(2)
OBJECTS  += $$($(1)_OBJ)
$$(eval $$(call unit_tests,$(1),$$(filter-out $(BUILD)/obj/$(1)/$(1).o,$$($(1)_OBJ)) $$($(1)_LIBS),$(4) $$(foreach l,$(3),$$($$(l)_LDLIBS))))
endef

# $(call unit_tests,FOLDER,LINK-WITH,LDLIBS): one binary per src/FOLDER/*_test.c
define unit_tests
$(1)_TESTS := $$(patsubst src/%.c,$(BUILD)/test/%,$$(wildcard src/$(1)/*_test.c))
$(BUILD)/test/$(1)/%_test: $(BUILD)/obj/$(1)/%_test.o $(2)
	@mkdir -p $$(@D)
	$$(SAY) LD $$@
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$< $(2) $(3) $$(TEST_LDLIBS)
UNIT_TESTS += $$($(1)_TESTS)
OBJECTS    += $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$(wildcard src/$(1)/*_test.c))
endef

# The two base libraries first, then the other libraries (src/dns, src/tls,
# ...: their LDLIBS must be known before a program names them), then every
# other folder, each one program.
BASE_MKS  := src/util/module.mk src/global/module.mk
LIB_MKS   := $(filter-out $(BASE_MKS),$(shell grep -l 'call library' $(sort $(wildcard src/*/module.mk))))
include $(BASE_MKS)
include $(LIB_MKS)
include $(filter-out $(BASE_MKS) $(LIB_MKS),$(sort $(wildcard src/*/module.mk)))

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(SAY) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(DEFS) $(INCS) -c -o $@ $<

all: $(LIBRARIES) $(PROGRAMS) $(UNIT_TESTS)

deps:
	@tools/deps

check: deps
	@$(MAKE) --no-print-directory all fuzz-check
	@tools/check --build $(BUILD)

unit-tests: all
	@tools/check --build $(BUILD) --unit-only

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run-instance --build $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 all

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 all
	@tools/check --build build/asan

valgrind: all
	@tools/check --build $(BUILD) --unit-only --valgrind

install: all
	install -d $(DESTDIR)$(COMMAND_DIR) $(DESTDIR)$(DAEMON_DIR) $(DESTDIR)$(CONFIG_DIR)
	for p in $(filter $(BUILD)/bin/%,$(PROGRAMS)); do install -m 755 $$p $(DESTDIR)$(COMMAND_DIR)/; done
	for p in $(filter $(BUILD)/libexec/%,$(PROGRAMS)); do install -m 755 $$p $(DESTDIR)$(DAEMON_DIR)/; done
	for f in conf/main.cf conf/master.cf; do \
	    test -e $(DESTDIR)$(CONFIG_DIR)/$${f#conf/} || install -m 644 $$f $(DESTDIR)$(CONFIG_DIR)/; done

# libFuzzer target for the SMTP command and address parsers (fuzz/*.c,
# clang with libclang-rt-dev). Built only once src/smtpd/smtpd_token.c
# exists; fuzz-check runs it for FUZZ_TIME seconds on the seed corpus
# (new inputs go to BUILD/fuzz/corpus-smtpd, crashes to BUILD/fuzz/).
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 20
FUZZ_FLAGS := -std=c17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined
FUZZ_SMTPD := $(wildcard src/smtpd/smtpd_token.c)
$(BUILD)/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(SAY) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEFS) -Isrc/util -Isrc/global -Isrc/smtpd -c -o $@ $<
$(BUILD)/fuzz/libutil.a: $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(util_SRC))
$(BUILD)/fuzz/libglobal.a: $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(global_SRC))
$(BUILD)/fuzz/libutil.a $(BUILD)/fuzz/libglobal.a:
	$(SAY) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/fuzz/smtpd_fuzz: fuzz/smtpd_fuzz.c $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SMTPD)) \
                          $(BUILD)/fuzz/libglobal.a $(BUILD)/fuzz/libutil.a
	$(SAY) FUZZLD $@
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Isrc/util -Isrc/global -Isrc/smtpd -o $@ $^ $(util_LDLIBS)
.PHONY: fuzz fuzz-check
ifneq ($(FUZZ_SMTPD),)
fuzz: $(BUILD)/fuzz/smtpd_fuzz
fuzz-check: fuzz
	@mkdir -p $(BUILD)/fuzz/corpus-smtpd
	@echo "fuzz smtpd_fuzz: $(FUZZ_TIME) s"
	@$(BUILD)/fuzz/smtpd_fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-smtpd fuzz/corpus/smtpd 2>$(BUILD)/fuzz/smtpd_fuzz.log \
	    || { tail -50 $(BUILD)/fuzz/smtpd_fuzz.log; echo "fuzz smtpd_fuzz: FAILED"; exit 1; }
	@grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz/smtpd_fuzz.log | sed 's/^/fuzz smtpd_fuzz: /'
else
fuzz fuzz-check:
	@echo "fuzz: src/smtpd/smtpd_token.c does not exist yet; nothing to fuzz"
endif

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h')

clean:
	rm -rf build run

# Keep intermediate objects (unit-test .o files) so parallel makes never race on them.
.SECONDARY:

-include $(OBJECTS:.o=.d)
