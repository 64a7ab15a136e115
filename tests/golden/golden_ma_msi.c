/* SPDX-License-Identifier: MIT */
/*
 * Golden MS-WDSMA and MS-WDSMSI (UDP) vectors, written by hand from the field
 * tables of MS-WDSMA 2.2 and MS-WDSMSI 2.2.2. Integers are big-endian
 * (DESIGN.md decision 2); MS-WDSMSI strings are UTF-16LE with a NUL unit.
 */
#include "golden_ma_msi.h"

/* ------------------------------------------------------------------------ */
/* MS-WDSMA                                                                  */
/* ------------------------------------------------------------------------ */

/* MS-WDSMA 2.2.2 SRVCIR: the header alone. */
const uint8_t golden_ma_srvcir[] = {
        0x00, 0x03, /* Packet-Size = 3 (decision 5: header included) */
        0x01,       /* OpCode = SRVCIR */
};
const size_t golden_ma_srvcir_len = sizeof(golden_ma_srvcir);

/* MS-WDSMA 2.2.3 CNTCIR with three ranges (2.2.3.1). */
const uint8_t golden_ma_cntcir[] = {
        0x00, 0x3a,                                     /* Packet-Size = 58 = 3 + 7 + 3 * 16 */
        0x02,                                           /* OpCode = CNTCIR */
        0x2a,                                           /* Progress = 42 */
        0x00, 0x00, 0x01, 0x2c,                         /* TimeInSession = 300 s */
        0x00, 0x03,                                     /* RangeCount = 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* [0] StartBlockNo = 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* [0] EndBlockNo = 9 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* [1] StartBlockNo = 100 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc7, /* [1] EndBlockNo = 199 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* [2] StartBlockNo = 2^32 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* [2] EndBlockNo = 2^32 */
};
const size_t golden_ma_cntcir_len = sizeof(golden_ma_cntcir);

/* MS-WDSMA 2.2.3 CNTCIR from a client missing nothing. */
const uint8_t golden_ma_cntcir_empty[] = {
        0x00, 0x0a,             /* Packet-Size = 10 = 3 + 7 */
        0x02,                   /* OpCode = CNTCIR */
        0x64,                   /* Progress = 100 */
        0x00, 0x00, 0x0e, 0x10, /* TimeInSession = 3600 s */
        0x00, 0x00,             /* RangeCount = 0 */
};
const size_t golden_ma_cntcir_empty_len = sizeof(golden_ma_cntcir_empty);

/* MS-WDSMA 2.2.4 DATA with ten bytes of block 7. */
const uint8_t golden_ma_data[] = {
        0x00, 0x17,                                                 /* Packet-Size = 23 = 13 + 10 */
        0x03,                                                       /* OpCode = DATA */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,             /* BlockNumber = 7 */
        0x00, 0x0a,                                                 /* DataLen = 10 */
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, /* Data = 0x10..0x19 */
};
const size_t golden_ma_data_len = sizeof(golden_ma_data);

/* MS-WDSMA 2.2.5 PROGRESS */
const uint8_t golden_ma_progress[] = {
        0x00, 0x08,             /* Packet-Size = 8 = 3 + 5 */
        0x04,                   /* OpCode = PROGRESS */
        0x00, 0x00, 0x00, 0x3c, /* TimeInSession = 60 s */
        0x32,                   /* Progress = 50 */
};
const size_t golden_ma_progress_len = sizeof(golden_ma_progress);

/* ------------------------------------------------------------------------ */
/* MS-WDSMSI over UDP                                                        */
/* ------------------------------------------------------------------------ */

/* MS-WDSMSI 2.2.2.1 request with all four options. */
const uint8_t golden_msi_request[] = {
        0x01,       /* OpCode = WDSMCSE_OP_REQUEST */
        0x00, 0x04, /* OptionsCount = 4 */
        0x06, 0x01, /* OptionId = WDSMCSE_OPT_NAMESPACE */
        0x00, 0x34, /* OptionLength = 52 = 26 units */
        /* OptionValue = "WDS:Default/install.wim/1" + NUL, UTF-16LE */
        0x57, 0x00, 0x44, 0x00, 0x53, 0x00, 0x3a, 0x00, /* W D S : */
        0x44, 0x00, 0x65, 0x00, 0x66, 0x00, 0x61, 0x00, /* D e f a */
        0x75, 0x00, 0x6c, 0x00, 0x74, 0x00, 0x2f, 0x00, /* u l t / */
        0x69, 0x00, 0x6e, 0x00, 0x73, 0x00, 0x74, 0x00, /* i n s t */
        0x61, 0x00, 0x6c, 0x00, 0x6c, 0x00, 0x2e, 0x00, /* a l l . */
        0x77, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x2f, 0x00, /* w i m / */
        0x31, 0x00, 0x00, 0x00,                         /* 1 NUL */
        0x06, 0x02,                                     /* OptionId = WDSMCSE_OPT_CONTENT */
        0x00, 0x18,                                     /* OptionLength = 24 = 12 units */
        /* OptionValue = "install.wim" + NUL, UTF-16LE */
        0x69, 0x00, 0x6e, 0x00, 0x73, 0x00, 0x74, 0x00, /* i n s t */
        0x61, 0x00, 0x6c, 0x00, 0x6c, 0x00, 0x2e, 0x00, /* a l l . */
        0x77, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x00, 0x00, /* w i m NUL */
        0x05, 0x0c,                                     /* OptionId = WDSMCSE_OPT_MAC_ADDRESS */
        0x00, 0x06,                                     /* OptionLength = 6 */
        0x00, 0x15, 0x5d, 0x01, 0x02, 0x03,             /* OptionValue = 00:15:5d:01:02:03 */
        0x01, 0x0d,                                     /* OptionId = WDSMCSE_OPT_IPV6_CAPABLE */
        0x00, 0x01,                                     /* OptionLength = 1 */
        0x01,                                           /* OptionValue = 1 (capable) */
};
const size_t golden_msi_request_len = sizeof(golden_msi_request);

/* MS-WDSMSI 2.2.2.1 request with the three mandatory options only. */
const uint8_t golden_msi_request_noipv6[] = {
        0x01,       /* OpCode = WDSMCSE_OP_REQUEST */
        0x00, 0x03, /* OptionsCount = 3 */
        0x06, 0x01, /* OptionId = WDSMCSE_OPT_NAMESPACE */
        0x00, 0x14, /* OptionLength = 20 = 10 units */
        /* OptionValue = "WDS:Lab/1" + NUL, UTF-16LE */
        0x57, 0x00, 0x44, 0x00, 0x53, 0x00, 0x3a, 0x00, /* W D S : */
        0x4c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x2f, 0x00, /* L a b / */
        0x31, 0x00, 0x00, 0x00,                         /* 1 NUL */
        0x06, 0x02,                                     /* OptionId = WDSMCSE_OPT_CONTENT */
        0x00, 0x12,                                     /* OptionLength = 18 = 9 units */
        /* OptionValue = "boot.wim" + NUL, UTF-16LE */
        0x62, 0x00, 0x6f, 0x00, 0x6f, 0x00, 0x74, 0x00, /* b o o t */
        0x2e, 0x00, 0x77, 0x00, 0x69, 0x00, 0x6d, 0x00, /* . w i m */
        0x00, 0x00,                                     /* NUL */
        0x05, 0x0c,                                     /* OptionId = WDSMCSE_OPT_MAC_ADDRESS */
        0x00, 0x06,                                     /* OptionLength = 6 */
        0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,             /* OptionValue = 52:54:00:ab:cd:ef */
};
const size_t golden_msi_request_noipv6_len = sizeof(golden_msi_request_noipv6);

/* MS-WDSMSI 2.2.2.1 request whose names need more than ASCII: a 2-byte UTF-8
 * character (U+00E9) and a surrogate pair (U+1F600). */
const uint8_t golden_msi_request_unicode[] = {
        0x01,       /* OpCode = WDSMCSE_OP_REQUEST */
        0x00, 0x04, /* OptionsCount = 4 */
        0x06, 0x01, /* OptionId = WDSMCSE_OPT_NAMESPACE */
        0x00, 0x24, /* OptionLength = 36 = 18 units */
        /* OptionValue = "WDS:Déploiement/1" + NUL, UTF-16LE */
        0x57, 0x00, 0x44, 0x00, 0x53, 0x00, 0x3a, 0x00, /* W D S : */
        0x44, 0x00, 0xe9, 0x00, 0x70, 0x00, 0x6c, 0x00, /* D U+00E9 p l */
        0x6f, 0x00, 0x69, 0x00, 0x65, 0x00, 0x6d, 0x00, /* o i e m */
        0x65, 0x00, 0x6e, 0x00, 0x74, 0x00, 0x2f, 0x00, /* e n t / */
        0x31, 0x00, 0x00, 0x00,                         /* 1 NUL */
        0x06, 0x02,                                     /* OptionId = WDSMCSE_OPT_CONTENT */
        0x00, 0x0e,                                     /* OptionLength = 14 = 7 units */
        /* OptionValue = U+1F600 ".wim" + NUL, UTF-16LE */
        0x3d, 0xd8, 0x00, 0xde,                         /* U+1F600 = D83D DE00 */
        0x2e, 0x00, 0x77, 0x00, 0x69, 0x00, 0x6d, 0x00, /* . w i m */
        0x00, 0x00,                                     /* NUL */
        0x05, 0x0c,                                     /* OptionId = WDSMCSE_OPT_MAC_ADDRESS */
        0x00, 0x06,                                     /* OptionLength = 6 */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01,             /* OptionValue = 02:00:00:00:00:01 */
        0x01, 0x0d,                                     /* OptionId = WDSMCSE_OPT_IPV6_CAPABLE */
        0x00, 0x01,                                     /* OptionLength = 1 */
        0x00,                                           /* OptionValue = 0 (not capable) */
};
const size_t golden_msi_request_unicode_len = sizeof(golden_msi_request_unicode);

/* MS-WDSMSI 2.2.2.2 reply, options in the order of its table. */
const uint8_t golden_msi_reply[] = {
        0x02,                                           /* OpCode = WDSMCSE_OP_REPLY */
        0x00, 0x08,                                     /* OptionsCount = 8 */
        0x05, 0x03,                                     /* OptionId = WDSMCSE_OPT_MULTICAST_ADDR */
        0x00, 0x04,                                     /* OptionLength = 4 */
        0xef, 0x01, 0x02, 0x03,                         /* OptionValue = 239.1.2.3 */
        0x05, 0x04,                                     /* OptionId = WDSMCSE_OPT_SERVER_ADDR */
        0x00, 0x04,                                     /* OptionLength = 4 */
        0xc0, 0xa8, 0x01, 0x0a,                         /* OptionValue = 192.168.1.10 */
        0x02, 0x05,                                     /* OptionId = WDSMCSE_OPT_MULTICAST_PORT */
        0x00, 0x02,                                     /* OptionLength = 2 */
        0xfa, 0x00,                                     /* OptionValue = 64000 */
        0x02, 0x06,                                     /* OptionId = WDSMCSE_OPT_SERVER_PORT */
        0x00, 0x02,                                     /* OptionLength = 2 */
        0xfa, 0x00,                                     /* OptionValue = 64000 (= MULTICAST_PORT) */
        0x04, 0x07,                                     /* OptionId = WDSMCSE_OPT_CONTENT_SIZE */
        0x00, 0x08,                                     /* OptionLength = 8 */
        0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, /* OptionValue = 4886718345 */
        0x03, 0x09,                                     /* OptionId = WDSMCSE_OPT_BLOCK_SIZE */
        0x00, 0x04,                                     /* OptionLength = 4 */
        0x00, 0x00, 0x20, 0x00,                         /* OptionValue = 8192 */
        0x04, 0x08,                                     /* OptionId = WDSMCSE_OPT_TOTAL_BLOCKS */
        0x00, 0x08,                                     /* OptionLength = 8 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x1a, 0x2c, /* OptionValue = 596524 */
        0x03, 0x0a,                                     /* OptionId = WDSMCSE_OPT_SESSION_ID */
        0x00, 0x04,                                     /* OptionLength = 4 */
        0x00, 0x00, 0x00, 0x2a,                         /* OptionValue = 42 */
};
const size_t golden_msi_reply_len = sizeof(golden_msi_reply);

/* MS-WDSMSI 2.2.2.3 error packet: decision 4, a REPLY carrying only ERROR. */
const uint8_t golden_msi_error[] = {
        0x02,                   /* OpCode = WDSMCSE_OP_REPLY */
        0x00, 0x01,             /* OptionsCount = 1 */
        0x03, 0x0b,             /* OptionId = WDSMCSE_OPT_ERROR */
        0x00, 0x04,             /* OptionLength = 4 */
        0x00, 0x00, 0x04, 0x90, /* OptionValue = 1168 (ERROR_NOT_FOUND) */
};
const size_t golden_msi_error_len = sizeof(golden_msi_error);

/* ------------------------------------------------------------------------ */
/* Tables for the fuzz corpus (golden.h)                                      */
/* ------------------------------------------------------------------------ */

/* The sizes are repeated as sizeof() because the *_len constants are not
 * constant expressions in C. */
const struct golden golden_ma[] = {
        {"ma_srvcir", GOLDEN_MA, golden_ma_srvcir, sizeof(golden_ma_srvcir)},
        {"ma_cntcir", GOLDEN_MA, golden_ma_cntcir, sizeof(golden_ma_cntcir)},
        {"ma_cntcir_empty", GOLDEN_MA, golden_ma_cntcir_empty, sizeof(golden_ma_cntcir_empty)},
        {"ma_data", GOLDEN_MA, golden_ma_data, sizeof(golden_ma_data)},
        {"ma_progress", GOLDEN_MA, golden_ma_progress, sizeof(golden_ma_progress)},
};
const size_t golden_ma_count = sizeof(golden_ma) / sizeof(golden_ma[0]);

const struct golden golden_msi[] = {
        {"msi_request", GOLDEN_MSI, golden_msi_request, sizeof(golden_msi_request)},
        {"msi_request_noipv6", GOLDEN_MSI, golden_msi_request_noipv6,
         sizeof(golden_msi_request_noipv6)},
        {"msi_request_unicode", GOLDEN_MSI, golden_msi_request_unicode,
         sizeof(golden_msi_request_unicode)},
        {"msi_reply", GOLDEN_MSI, golden_msi_reply, sizeof(golden_msi_reply)},
        {"msi_error", GOLDEN_MSI, golden_msi_error, sizeof(golden_msi_error)},
};
const size_t golden_msi_count = sizeof(golden_msi) / sizeof(golden_msi[0]);
