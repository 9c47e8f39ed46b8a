/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avcpu's tracepoints, under events/avcpu/ in tracefs: a guest entry, an
 * exit from the guest (and how RUN handled it), an interrupt raised.
 * Documentation/api.rst ("Statistics and tracepoints") lists the fields.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM avcpu

#if !defined(AVCPU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define AVCPU_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(avcpu_entry,
	    TP_PROTO(u32 vmid, u32 vcpu, u64 pc),
	    TP_ARGS(vmid, vcpu, pc),
	    TP_STRUCT__entry(__field(u32, vmid)
			     __field(u32, vcpu)
			     __field(u64, pc)),
	    TP_fast_assign(__entry->vmid = vmid;
			   __entry->vcpu = vcpu;
			   __entry->pc = pc;),
	    TP_printk("vmid %u vcpu %u pc 0x%llx", __entry->vmid,
		      __entry->vcpu, __entry->pc)
);

/* @code: AVCPU_EXC_*; @ret: the handler's (>0 re-enter, 0 exit, <0 error) */
TRACE_EVENT(avcpu_exit,
	    TP_PROTO(u32 vmid, u32 vcpu, int code, u64 esr, u64 pc, int ret,
		     u32 reason),
	    TP_ARGS(vmid, vcpu, code, esr, pc, ret, reason),
	    TP_STRUCT__entry(__field(u32, vmid)
			     __field(u32, vcpu)
			     __field(int, code)
			     __field(u64, esr)
			     __field(u64, pc)
			     __field(int, ret)
			     __field(u32, reason)),
	    TP_fast_assign(__entry->vmid = vmid;
			   __entry->vcpu = vcpu;
			   __entry->code = code;
			   __entry->esr = esr;
			   __entry->pc = pc;
			   __entry->ret = ret;
			   __entry->reason = reason;),
	    TP_printk("vmid %u vcpu %u code %d esr 0x%llx pc 0x%llx ret %d reason %u",
		      __entry->vmid, __entry->vcpu, __entry->code,
		      __entry->esr, __entry->pc, __entry->ret,
		      __entry->reason)
);

/* @src: enum avcpu_inject_src */
TRACE_EVENT(avcpu_inject,
	    TP_PROTO(u32 vmid, u32 vcpu, u32 intid, u32 src),
	    TP_ARGS(vmid, vcpu, intid, src),
	    TP_STRUCT__entry(__field(u32, vmid)
			     __field(u32, vcpu)
			     __field(u32, intid)
			     __field(u32, src)),
	    TP_fast_assign(__entry->vmid = vmid;
			   __entry->vcpu = vcpu;
			   __entry->intid = intid;
			   __entry->src = src;),
	    TP_printk("vmid %u vcpu %u intid %u src %s", __entry->vmid,
		      __entry->vcpu, __entry->intid,
		      __print_symbolic(__entry->src, { 0, "ioctl" },
				       { 1, "irqfd" }, { 2, "sgi" },
				       { 3, "timer" }))
);

#endif /* AVCPU_TRACE_H */

/* Out of the tree: the header is found beside this file (kmod/Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
