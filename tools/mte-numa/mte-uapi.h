/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 MTE constants of the kernel's UAPI, for C libraries older than
 * the kernel: the tool, its mixed workload and the guest programs.
 */
#ifndef MTE_UAPI_H
#define MTE_UAPI_H

#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif
#ifndef PR_MTE_TCF_SYNC
#define PR_MTE_TCF_SYNC (1UL << 1)
#endif
#ifndef PR_MTE_TAG_SHIFT
#define PR_MTE_TAG_SHIFT 3
#endif
#ifndef SEGV_MTESERR
#define SEGV_MTESERR 9
#endif

#endif
