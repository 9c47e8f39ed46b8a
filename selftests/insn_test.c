// SPDX-License-Identifier: GPL-2.0
/*
 * avm boots the random-instruction guest (guests/insn_fuzz.c): a million
 * random 32-bit words at EL1 and a million at EL0, each stepped past by
 * the guest's own vector table whatever it does. The host must stay clean
 * (the rig scans its log), the guest must finish and avm exit 0.
 *
 * AVCPU_FUZZ_SEED replays a run (the seed is printed first);
 * AVCPU_INSN_WORDS sets the words at each EL (default INSN_WORDS).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"
#include "avcpu_vm.h"
#include "avm_run.h"
#include "fuzz.h"
#include "guests/insn_fuzz.h"

#define INSN_WORDS	1000000
/*
 * The guest's time limit: a word costs TCG about 20 us to translate and
 * run, 40 s for a million at each EL on the rig (testing.rst), so five
 * times that per word plus a minute for the start, times the host's
 * slowdown. A guest past it gets SIGQUIT (its registers in the log), not
 * the lane's whole time.
 */
#define INSN_US_PER_WORD	100
#define INSN_BASE_S		60
#define INSN_MAX_WORDS		10000000

asm(
"	.pushsection .rodata.insn_fuzz, \"a\"\n"
"	.balign	8\n"
"	.globl	insn_bin_start, insn_bin_end\n"
"insn_bin_start:\n"
"	.incbin	\"" INSN_FUZZ_BIN "\"\n"
"insn_bin_end:\n"
"	.popsection\n"
);
extern const uint8_t insn_bin_start[], insn_bin_end[];

/* "insn-fuzz: EL1: 1000000 words": the count, or -1 */
static long long words_at(const char *out, const char *el)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "insn-fuzz: %s: ", el);
	p = strstr(out, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

FIXTURE(insn) {};
FIXTURE_SETUP(insn) {}
FIXTURE_TEARDOWN(insn) {}

static int insn_timeout_s(uint64_t words)
{
	return (INSN_BASE_S + 2 * words * INSN_US_PER_WORD / 1000000) *
	       avcpu_host_slowdown();
}

/* the harness's limit: the guest's at the most words, and a minute */
TEST_F_TIMEOUT(insn, random_words_at_el1_and_el0,
	       (INSN_BASE_S + 2 * INSN_MAX_WORDS * INSN_US_PER_WORD / 1000000) * 4 + 60)
{
	uint64_t seed = fuzz_seed("insn_test");
	uint64_t words = fuzz_env("AVCPU_INSN_WORDS", INSN_WORDS);
	size_t len = insn_bin_end - insn_bin_start, off;
	const char *path = "/tmp/avm-insn-fuzz.bin";
	struct avm_result r;
	uint8_t *bin;

	ASSERT_GE(INSN_MAX_WORDS, words) TH_LOG("AVCPU_INSN_WORDS: at most %d", INSN_MAX_WORDS);
	ASSERT_GE(4, avcpu_host_slowdown()) TH_LOG("AVCPU_HOST_SLOWDOWN: at most 4 here");
	AVCPU_REQUIRE_RUN();
	AVCPU_REQUIRE_IRQ();
	REQUIRE_GUEST_FILES();
	bin = malloc(len);
	ASSERT_NE(NULL, bin);
	memcpy(bin, insn_bin_start, len);
	/* the header: magic, pad, words, seed (insn_entry.S) */
	for (off = 0; off + 24 <= len; off += 8)
		if (*(uint32_t *)(bin + off) == INSN_MAGIC)
			break;
	ASSERT_GT(len, off + 24) TH_LOG("no header in the guest");
	memcpy(bin + off + 8, &words, 8);
	memcpy(bin + off + 16, &seed, 8);
	ASSERT_EQ(0, write_bytes(path, bin, len));
	free(bin);
	{
		/* a harness fault resets the guest: the same words would run again */
		const char *argv[] = { "run", "--kernel", path, "--mem", "16", "--no-reboot",
				       NULL };

		run_avm(argv, insn_timeout_s(words), NULL, true, &r);
	}
	ksft_print_msg("avm: status %d in %.1f s\n", r.status, r.total_s);
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "insn-fuzz: done")) TH_LOG("console: %s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "FAIL"));
	EXPECT_EQ((long long)words, words_at(r.out, "EL1"));
	EXPECT_EQ((long long)words, words_at(r.out, "EL0"));
	free_result(&r);
}

TEST_HARNESS_MAIN
