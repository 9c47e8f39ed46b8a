/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host side of the avcpu selftests that run guests: create a VM holding the
 * test binary's own image (see guest/guest.h for the guest side), add
 * vCPUs that start in a C function of the test, run them and read their
 * ucalls.
 *
 * Convention: "__name" returns 0 or -errno; "name" asserts, which prints
 * file:line, the failed operation and the errno string, then abort()s (a
 * kselftest_harness TEST() then fails with SIGABRT).
 *
 * Memory slots: the library takes slots VM_LIB_SLOT_FIRST and up (the image
 * and the stacks); slots 0 .. VM_LIB_SLOT_FIRST - 1 are the test's. Guest
 * physical space free for tests: 0x20000000 - 0x7fffffff (Normal memory in
 * the guest's stage 1) and 0x80000000 - 0xefefffff (Device); on a GICv2
 * host the guest's GICC frame is at GUEST_GICC_IPA (0xeff00000).
 */
#ifndef AVCPU_VM_H
#define AVCPU_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/avcpu.h>

#include "avcpu_test.h"
#include "guest/guest.h"

#define VM_LIB_SLOTS		8
#define VM_LIB_SLOT_FIRST	(AVCPU_MAX_MEM_SLOTS - VM_LIB_SLOTS)
#define VM_STACK_SLOT		(AVCPU_MAX_MEM_SLOTS - 1)

struct avcpu_vm_region {
	bool used;
	bool owned;		/* mmap'd by the library: munmap'd by vm_free() */
	uint64_t flags;		/* AVCPU_MEM_* */
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

struct avcpu_vcpu;

struct avcpu_vm {
	int dev_fd;		/* /dev/avcpu */
	int fd;			/* the VM */
	struct avcpu_caps caps;
	size_t page_size;
	size_t run_size;	/* AVCPU_GET_VCPU_MMAP_SIZE */
	struct avcpu_vm_region regions[AVCPU_MAX_MEM_SLOTS];	/* by slot */
	struct avcpu_vcpu *vcpus[GUEST_MAX_VCPUS];		/* by id */
};

struct avcpu_vcpu {
	struct avcpu_vm *vm;
	uint32_t id;
	int fd;
	struct avcpu_run *run;
};

/* AVCPU_GET_CAPS of /dev/avcpu: 0, or -errno (-ENOENT if avcpu is absent) */
int avcpu_get_caps(struct avcpu_caps *caps);

/* Can this host run guests (AVCPU_CAP_F_RUN)? false if avcpu is absent. */
bool avcpu_can_run(void);

/* Inside a TEST(): skip unless guests can run here, saying why. */
#define AVCPU_REQUIRE_RUN() do {					\
	AVCPU_REQUIRE_LOADED();						\
	if (!avcpu_can_run())						\
		SKIP(return, "this host cannot run guests"); \
} while (0)

/* Does this host inject interrupts and run the timers (AVCPU_CAP_F_IRQ)? */
bool avcpu_has_irq(void);

/* Inside a TEST(): AVCPU_REQUIRE_RUN, and skip unless AVCPU_CAP_F_IRQ. */
#define AVCPU_REQUIRE_IRQ() do {					\
	AVCPU_REQUIRE_RUN();						\
	if (!avcpu_has_irq())						\
		SKIP(return, "this host has no interrupt injection");	\
} while (0)

/* Is the host's GIC a GICv2 (the guests' CPU interface memory-mapped)? */
bool avcpu_gic_is_v2(void);

/*
 * Inside a TEST() of a GICv3 feature (the ICC_ system registers, SGIs by
 * system register): skip on a GICv2 host, saying why.
 */
#define AVCPU_REQUIRE_GICV3(what) do {					\
	if (avcpu_gic_is_v2())						\
		SKIP(return, "GICv2 host: %s is GICv3 only", what);	\
} while (0)

/* "MMIO_WRITE" for AVCPU_EXIT_MMIO_WRITE, "unknown" beyond the list */
const char *exit_reason_str(uint32_t reason);
/* "SYNC" for UCALL_SYNC, ... */
const char *ucall_cmd_str(uint64_t cmd);

/*
 * A VM with the test image mapped at IPA == host VA and the vCPU stacks at
 * GUEST_STACK_IPA; also resets the guest runtime's shared state (exception
 * handlers, stage-1 tables), which every VM of the process shares.
 */
struct avcpu_vm *vm_create(void);
/* Frees the vCPUs, closes the VM and unmaps what the library mapped. */
void vm_free(struct avcpu_vm *vm);

/*
 * AVCPU_SET_MEMORY_REGION with the host memory at @hva (not mapped by the
 * library); @size 0 deletes the slot, and unmaps its memory if the slot
 * came from vm_mem_add().
 */
int __vm_set_memory_region(struct avcpu_vm *vm, uint32_t slot, uint64_t flags,
			   uint64_t gpa, uint64_t size, void *hva);
void vm_set_memory_region(struct avcpu_vm *vm, uint32_t slot, uint64_t flags,
			  uint64_t gpa, uint64_t size, void *hva);
/*
 * New zeroed anonymous memory as @slot at @gpa; returns its host address.
 * Deleting the slot later (size 0) also unmaps that memory.
 */
void *vm_mem_add(struct avcpu_vm *vm, uint32_t slot, uint64_t gpa,
		 uint64_t size, uint64_t flags);

/* Host address of guest physical @gpa, NULL (or assert) if not in a slot. */
void *__addr_gpa2hva(struct avcpu_vm *vm, uint64_t gpa);
void *addr_gpa2hva(struct avcpu_vm *vm, uint64_t gpa);

/*
 * A vCPU in steps: CREATE_VCPU (mpidr = @id) and its run page mapped
 * (state CREATED); SETUP at guest_entry with x0 = @guest_code, x1 = @id
 * and SP_EL1 = the top of its stack (FREE; @flags are AVCPU_SETUP_*);
 * BIND to @cpu (READY, the calling thread pinned to the CPU and owner).
 */
int __vm_vcpu_create(struct avcpu_vm *vm, uint32_t id,
		     struct avcpu_vcpu **vcpu);
struct avcpu_vcpu *vm_vcpu_create(struct avcpu_vm *vm, uint32_t id);
int __vcpu_setup(struct avcpu_vcpu *vcpu, void (*guest_code)(void),
		 uint64_t flags);
void vcpu_setup(struct avcpu_vcpu *vcpu, void (*guest_code)(void),
		uint64_t flags);
int __vcpu_bind(struct avcpu_vcpu *vcpu, uint32_t cpu);
void vcpu_bind(struct avcpu_vcpu *vcpu, uint32_t cpu);
int __vcpu_unbind(struct avcpu_vcpu *vcpu);
void vcpu_unbind(struct avcpu_vcpu *vcpu);
/* All three, bound to the CPU the caller runs on: ready to run. */
struct avcpu_vcpu *vm_vcpu_add(struct avcpu_vm *vm, uint32_t id,
			       void (*guest_code)(void));
/* Unmaps the run page and closes the vCPU fd. */
void vcpu_free(struct avcpu_vcpu *vcpu);

/* AVCPU_GET_STATE: AVCPU_STATE_*, or -errno */
int vcpu_get_state(struct avcpu_vcpu *vcpu);
/*
 * Poll GET_STATE (from another thread than the vCPU's) until it says @want
 * and, if @flag is not NULL, *@flag is non-zero, for at most @limit_s
 * seconds; returns the last state read.
 */
int vcpu_wait_state(struct avcpu_vcpu *vcpu, int want, volatile int *flag,
		    double limit_s);

/* Interrupts (AVCPU_INJECT_IRQ, AVCPU_GET_IRQ, AVCPU_SET_IRQ); any thread */
int __vcpu_irq_line(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t level);
/* GICv2: raise SGI @intid from CPU @source (INJECT_IRQ's source) */
int __vcpu_inject_sgi(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t source);
void vcpu_irq_line(struct avcpu_vcpu *vcpu, uint32_t intid, uint32_t level);
/* An edge-triggered pulse or a level raise: vcpu_irq_line(vcpu, intid, 1) */
void vcpu_inject_irq(struct avcpu_vcpu *vcpu, uint32_t intid);
int __vcpu_get_irq(struct avcpu_vcpu *vcpu, struct avcpu_irq *irq);
/* Returns the AVCPU_IRQ_* flags; *priority (if not NULL) the priority. */
uint64_t vcpu_get_irq(struct avcpu_vcpu *vcpu, uint32_t intid,
		      uint8_t *priority);
int __vcpu_set_irq(struct avcpu_vcpu *vcpu, const struct avcpu_irq *irq);
/* Write the @set_mask bits of @flags (and @priority with AVCPU_IRQ_PRIORITY) */
void vcpu_set_irq(struct avcpu_vcpu *vcpu, uint32_t intid, uint64_t set_mask,
		  uint64_t flags, uint8_t priority);
int __vm_set_nr_irqs(struct avcpu_vm *vm, uint32_t nr_irqs);
int __vm_get_counter_offset(struct avcpu_vm *vm, uint64_t *offset);
int __vm_set_counter_offset(struct avcpu_vm *vm, uint64_t offset);

int __vcpu_run(struct avcpu_vcpu *vcpu);
void vcpu_run(struct avcpu_vcpu *vcpu);

int __vcpu_get_regs(struct avcpu_vcpu *vcpu, struct avcpu_regs *regs);
void vcpu_get_regs(struct avcpu_vcpu *vcpu, struct avcpu_regs *regs);
int __vcpu_set_regs(struct avcpu_vcpu *vcpu, const struct avcpu_regs *regs);
void vcpu_set_regs(struct avcpu_vcpu *vcpu, const struct avcpu_regs *regs);

/* @encoding: AVCPU_SYSREG() or one of the SYSREG_* below */
int __vcpu_get_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		      uint64_t *value);
uint64_t vcpu_get_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding);
int __vcpu_set_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		      uint64_t value);
void vcpu_set_sysreg(struct avcpu_vcpu *vcpu, uint32_t encoding,
		     uint64_t value);

/*
 * The ucall of the last exit, copied to @uc (may be NULL): its cmd, or
 * UCALL_NONE (and @uc zeroed) when the exit was not a ucall.
 */
uint64_t get_ucall(struct avcpu_vcpu *vcpu, struct ucall *uc);
/*
 * Run until the next ucall; print GUEST_PRINTF()s on the way. Returns
 * UCALL_SYNC, UCALL_DONE or UCALL_UNHANDLED; a failed guest assertion or
 * an exit that is not a ucall is printed and aborts.
 */
uint64_t vcpu_run_ucall(struct avcpu_vcpu *vcpu, struct ucall *uc);
/* vcpu_run_ucall(), and abort with a description unless it returned @cmd. */
void vcpu_expect_ucall(struct avcpu_vcpu *vcpu, uint64_t cmd,
		       struct ucall *uc);

/* Describe the last exit / a ucall, one or two lines. */
void vcpu_dump_exit(FILE *f, struct avcpu_vcpu *vcpu);
void ucall_dump(FILE *f, const struct ucall *uc);

/* The system registers GET_SYSREG/SET_SYSREG know, by encoding */
#define SYSREG_SCTLR_EL1	AVCPU_SYSREG(3, 0, 1, 0, 0)
#define SYSREG_CPACR_EL1	AVCPU_SYSREG(3, 0, 1, 0, 2)
#define SYSREG_TTBR0_EL1	AVCPU_SYSREG(3, 0, 2, 0, 0)
#define SYSREG_TTBR1_EL1	AVCPU_SYSREG(3, 0, 2, 0, 1)
#define SYSREG_TCR_EL1		AVCPU_SYSREG(3, 0, 2, 0, 2)
#define SYSREG_AFSR0_EL1	AVCPU_SYSREG(3, 0, 5, 1, 0)
#define SYSREG_AFSR1_EL1	AVCPU_SYSREG(3, 0, 5, 1, 1)
#define SYSREG_ESR_EL1		AVCPU_SYSREG(3, 0, 5, 2, 0)
#define SYSREG_FAR_EL1		AVCPU_SYSREG(3, 0, 6, 0, 0)
#define SYSREG_PAR_EL1		AVCPU_SYSREG(3, 0, 7, 4, 0)
#define SYSREG_MAIR_EL1		AVCPU_SYSREG(3, 0, 10, 2, 0)
#define SYSREG_AMAIR_EL1	AVCPU_SYSREG(3, 0, 10, 3, 0)
#define SYSREG_VBAR_EL1		AVCPU_SYSREG(3, 0, 12, 0, 0)
#define SYSREG_CONTEXTIDR_EL1	AVCPU_SYSREG(3, 0, 13, 0, 1)
#define SYSREG_TPIDR_EL1	AVCPU_SYSREG(3, 0, 13, 0, 4)
#define SYSREG_CNTKCTL_EL1	AVCPU_SYSREG(3, 0, 14, 1, 0)
#define SYSREG_CSSELR_EL1	AVCPU_SYSREG(3, 2, 0, 0, 0)
#define SYSREG_TPIDR_EL0	AVCPU_SYSREG(3, 3, 13, 0, 2)
#define SYSREG_TPIDRRO_EL0	AVCPU_SYSREG(3, 3, 13, 0, 3)
#define SYSREG_CNTP_CTL_EL0	AVCPU_SYSREG(3, 3, 14, 2, 1)
#define SYSREG_CNTP_CVAL_EL0	AVCPU_SYSREG(3, 3, 14, 2, 2)
#define SYSREG_CNTV_CTL_EL0	AVCPU_SYSREG(3, 3, 14, 3, 1)
#define SYSREG_CNTV_CVAL_EL0	AVCPU_SYSREG(3, 3, 14, 3, 2)
#define SYSREG_MDSCR_EL1	AVCPU_SYSREG(2, 0, 0, 2, 2)
#define SYSREG_MPIDR_EL1	AVCPU_SYSREG(3, 0, 0, 0, 5)
#define SYSREG_CNTP_TVAL_EL0	AVCPU_SYSREG(3, 3, 14, 2, 0)
#define SYSREG_CNTV_TVAL_EL0	AVCPU_SYSREG(3, 3, 14, 3, 0)
#define SYSREG_ICC_SGI1R_EL1	AVCPU_SYSREG(3, 0, 12, 11, 5)
#define SYSREG_ICC_ASGI1R_EL1	AVCPU_SYSREG(3, 0, 12, 11, 6)
#define SYSREG_ICC_SGI0R_EL1	AVCPU_SYSREG(3, 0, 12, 11, 7)

/* Every register above but MPIDR_EL1 (read only): SET and GET both work */
extern const uint32_t avcpu_rw_sysregs[];
#define AVCPU_NR_RW_SYSREGS	24

#endif /* AVCPU_VM_H */
