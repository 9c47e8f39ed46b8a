/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for TEST() bodies that run guests: include after
 * kselftest_harness.h (they use its ASSERT macros and _metadata).
 */
#ifndef AVCPU_KSFT_H
#define AVCPU_KSFT_H

#include "avcpu_vm.h"

/* Run once: the exit must be the ucall @cmd (a guest assertion is shown). */
static inline void run_expect_ucall(struct __test_metadata *_metadata,
				    struct avcpu_vcpu *vcpu, uint64_t cmd,
				    struct ucall *uc)
{
	struct ucall local;
	uint64_t got;

	if (!uc)
		uc = &local;
	vcpu_run(vcpu);
	got = get_ucall(vcpu, uc);
	if (got != cmd) {
		vcpu_dump_exit(stderr, vcpu);
		if (got != UCALL_NONE)
			ucall_dump(stderr, uc);
	}
	ASSERT_EQ(cmd, got) TH_LOG("exit %s / ucall %s, expected ucall %s",
				   exit_reason_str(vcpu->run->exit_reason),
				   ucall_cmd_str(got), ucall_cmd_str(cmd));
}

#endif
