/* SPDX-License-Identifier: MIT */
/*
 * The MS-WDSMT golden vectors of golden_mt.c, one named array per packet, so
 * tests can refer to a vector by name as well as walk golden_mt[].
 */
#ifndef WDSMC_GOLDEN_MT_H
#define WDSMC_GOLDEN_MT_H

#include <stddef.h>
#include <stdint.h>

#define GOLDEN_MT_DECLARE(n)                                                                       \
    extern const uint8_t golden_mt_##n[];                                                          \
    extern const size_t golden_mt_##n##_len

GOLDEN_MT_DECLARE(spm);
GOLDEN_MT_DECLARE(join); /* with USER_SID and CAPABILITIES */
GOLDEN_MT_DECLARE(joinack);
GOLDEN_MT_DECLARE(qcc);
GOLDEN_MT_DECLARE(qcr_joinack);   /* 2.2.8.1 */
GOLDEN_MT_DECLARE(qcr_qcc);       /* 2.2.8.2, PROGRESS + CPU/MEM/NET options */
GOLDEN_MT_DECLARE(qcr_voluntary); /* 2.2.8.3 */
GOLDEN_MT_DECLARE(odata);         /* MS-WDSMA DATA + ODATA_FW_LEAD_SEQ_NO */
GOLDEN_MT_DECLARE(rdata);
GOLDEN_MT_DECLARE(ack);
GOLDEN_MT_DECLARE(nack); /* two ranges */
GOLDEN_MT_DECLARE(ncf);
GOLDEN_MT_DECLARE(leave);
GOLDEN_MT_DECLARE(poll);            /* MS-WDSMA SRVCIR */
GOLDEN_MT_DECLARE(pollack);         /* MS-WDSMA CNTCIR */
GOLDEN_MT_DECLARE(kick);            /* two clients */
GOLDEN_MT_DECLARE(demote);          /* IPv4, two clients */
GOLDEN_MT_DECLARE(leave_secnone);   /* security type NONE */
GOLDEN_MT_DECLARE(ack_unknown_opt); /* golden_mt_ack + one unknown option */

#undef GOLDEN_MT_DECLARE

#endif
