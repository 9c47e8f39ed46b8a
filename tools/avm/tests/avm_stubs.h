/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the avm unit tests link instead of main.c: avm_err(), avm_warn()
 * and avm_warn_limited() (avm_stubs.c), which print like avm does (as TAP
 * comments) and keep count, so a test can see that a message came.
 */
#ifndef AVM_STUBS_H
#define AVM_STUBS_H

/* Messages printed so far (avm_err, avm_warn, avm_warn_limited) */
extern unsigned int avm_test_nr_msgs;
/* The last of them, without the "avm: " prefix */
extern char avm_test_last_msg[512];

#endif /* AVM_STUBS_H */
