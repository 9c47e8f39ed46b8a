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

/* A guest that only says it is done */
static inline void guest_only_done(void)
{
	GUEST_DONE();
}

/* One guest, bound to @cpu, from creation to GUEST_DONE. */
static inline void run_guest_on(struct __test_metadata *_metadata, int cpu)
{
	struct avcpu_vcpu *vcpu;
	struct avcpu_vm *vm;

	vm = vm_create();
	vcpu = vm_vcpu_create(vm, 0);
	vcpu_setup(vcpu, guest_only_done, 0);
	vcpu_bind(vcpu, cpu);
	run_expect_ucall(_metadata, vcpu, UCALL_DONE, NULL);
	vm_free(vm);
}

#endif
