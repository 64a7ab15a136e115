/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT golden vectors, written by hand from the field tables of MS-WDSMT
 * 2.2.2-2.2.19 (and MS-WDSMA 2.2 for the application data they carry). All
 * integers are big-endian (decision 2); only the JOIN ClientName is UTF-16LE.
 *
 * Most vectors use the CHECKSUM security header (MS-WDSMT 2.2.2.3): the
 * checksum is ~(u32 sum of every byte from the session header to the end),
 * stored big-endian. The values below were computed once with a throwaway
 * script and are written as literals so the vectors stand on their own.
 *
 * Every vector ends with the Extended Options block (decision 1), an
 * OptionsCount of zero when there are none.
 *
 * Values used throughout: SessionId 1001, the master client is ClientId 42.
 */
#include "golden.h"
#include "golden_mt.h"

/* MS-WDSMT 2.2.14 SPM */
const uint8_t golden_mt_spm[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfc, 0x57, /* Checksum = ~sum(session header..end) = 0xfffffc57 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x01,                                           /* OpCode = SPM */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88, /* SenderTime = 5000 */
        /* MS-WDSMT 2.2.14 SPM */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* SPMSeqNo = 3 */
        0x00, 0x00, 0x00, 0x2a,                         /* MasterClientId = 42 */
        0x00, 0x14,                                     /* MinNACKBackOff = 20 */
        0x00, 0xc8,                                     /* MaxNACKBackOff = 200 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* TrailODATASeqNo = 100 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa4, /* LeadODATASeqNo = 164 */
        0x00, 0x0f,                                     /* RTT = 15 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.5 JOIN, with USER_SID and CAPABILITIES */
const uint8_t golden_mt_join[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfa, 0x3b, /* Checksum = ~sum(session header..end) = 0xfffffa3b */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x02,                                           /* OpCode = JOIN */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x70, /* SenderTime = 6000 */
        /* MS-WDSMT 2.2.5 JOIN: ClientName, 32 bytes UTF-16LE (decision 3) */
        'L', 0x00,                                /* 'L' */
        'A', 0x00,                                /* 'A' */
        'B', 0x00,                                /* 'B' */
        '-', 0x00,                                /* '-' */
        'P', 0x00,                                /* 'P' */
        'C', 0x00,                                /* 'C' */
        '0', 0x00,                                /* '0' */
        '7', 0x00,                                /* '7' */
        0x00, 0x00,                               /* NUL terminator after 8 characters */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* zero padding (14 bytes) ... */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ... to 32 bytes */
        0x04,                                     /* IPAddrLen = 4 */
        0xc0, 0xa8, 0x01, 0x32,                   /* IPAddress = 192.168.1.50 */
        0x06,                                     /* MacAddrLen = 6 */
        0x00, 0x15, 0x5d, 0x01, 0x02, 0x03,       /* MacAddress = 00:15:5d:01:02:03 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x02, /* OptionsCount = 2 */
        0x05, 0x04, /* OptionId = USER_SID (0x0504) */
        0x00, 0x0c, /* OptionLen = 12 */
        /* OptionValue: SID S-1-5-18, MS-DTYP 2.4.2 (sub-authorities little-endian) */
        0x01,                               /* Revision = 1 */
        0x01,                               /* SubAuthorityCount = 1 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* IdentifierAuthority = 5 (NT) */
        0x12, 0x00, 0x00, 0x00,             /* SubAuthority[0] = 18 */
        0x05, 0x05,                         /* OptionId = CAPABILITIES (0x0505) */
        0x00, 0x01,                         /* OptionLen = 1 */
        0x01,                               /* OptionValue = WDSMCTP_CAP_MULTISTREAM */
};

/* MS-WDSMT 2.2.6 JOINACK, answering golden_mt_join */
const uint8_t golden_mt_joinack[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfc, 0xf2, /* Checksum = ~sum(session header..end) = 0xfffffcf2 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x03,                                           /* OpCode = JOINACK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x7a, /* SenderTime = 6010 */
        /* MS-WDSMT 2.2.6 JOINACK */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x14,                                     /* MinNACKBackOff = 20 */
        0x00, 0xc8,                                     /* MaxNACKBackOff = 200 */
        0x00, 0x00,                                     /* RTT = 0 (no master yet) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x70, /* ClientTime = 6000 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.7 QCC */
const uint8_t golden_mt_qcc[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0xa6, /* Checksum = ~sum(session header..end) = 0xfffffda6 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x04,                                           /* OpCode = QCC */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1b, 0x58, /* SenderTime = 7000 */
        /* MS-WDSMT 2.2.7 QCC */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* QCCSeqNo = 1 */
        0x01, 0xf4,                                     /* QCRBackOff = 500 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.8.1 QCR in response to JOINACK (AppData empty, decision 5) */
const uint8_t golden_mt_qcr_joinack[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0xb8, /* Checksum = ~sum(session header..end) = 0xfffffdb8 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x05,                                           /* OpCode = QCR */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x84, /* SenderTime = 6020 */
        /* MS-WDSMT 2.2.8.1 QCR */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* QCCSeqNo = 0 */
        0x00, 0x00,                                     /* BackOff = 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x7a, /* ServerTime = 6010 (JOINACK) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* HiODATASeqNo = 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* LossRate = 0 */
        0x00, 0x00,                                     /* AppDataLen = 0 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.8.2 QCR in response to QCC, carrying an MS-WDSMA PROGRESS and
 * the three utilisation options of 2.2.8.4 */
const uint8_t golden_mt_qcr_qcc[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xf9, 0xe2, /* Checksum = ~sum(session header..end) = 0xfffff9e2 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x05,                                           /* OpCode = QCR */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1b, 0xbc, /* SenderTime = 7100 */
        /* MS-WDSMT 2.2.8.2 QCR */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* QCCSeqNo = 1 */
        0x00, 0x25,                                     /* BackOff = 37 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1b, 0x58, /* ServerTime = 7000 (QCC) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa4, /* HiODATASeqNo = 164 */
        0x00, 0x00, 0x16, 0xbc, 0xc4, 0x1e, 0x90, 0x00, /* LossRate = 0.0025 x 10^16 */
        0x00, 0x08,                                     /* AppDataLen = 8 */
        /* AppData: MS-WDSMA 2.2.5 PROGRESS */
        0x00, 0x08,             /* Packet-Size = 8 (whole MA packet, decision 5) */
        0x04,                   /* OpCode = PROGRESS */
        0x00, 0x00, 0x00, 0x0c, /* TimeInSession = 12 s */
        0x32,                   /* Progress = 50 % */
        /* MS-WDSMT 2.2.4 / 2.2.8.4 Extended Options */
        0x00, 0x03, /* OptionsCount = 3 */
        0x01, 0x01, /* OptionId = CPU_UTIL (0x0101) */
        0x00, 0x01, /* OptionLen = 1 */
        0x17,       /* OptionValue = 23 % */
        0x01, 0x02, /* OptionId = MEM_UTIL (0x0102) */
        0x00, 0x01, /* OptionLen = 1 */
        0x2d,       /* OptionValue = 45 % */
        0x01, 0x03, /* OptionId = NET_UTIL (0x0103) */
        0x00, 0x01, /* OptionLen = 1 */
        0x05,       /* OptionValue = 5 % */
};

/* MS-WDSMT 2.2.8.3 voluntary QCR, carrying an MS-WDSMA PROGRESS */
const uint8_t golden_mt_qcr_voluntary[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0x83, /* Checksum = ~sum(session header..end) = 0xfffffd83 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x05,                                           /* OpCode = QCR */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x40, /* SenderTime = 8000 */
        /* MS-WDSMT 2.2.8.3 QCR */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* QCCSeqNo = 0 */
        0x00, 0x00,                                     /* BackOff = 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ServerTime = 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, /* HiODATASeqNo = 170 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* LossRate = 0 */
        0x00, 0x08,                                     /* AppDataLen = 8 */
        /* AppData: MS-WDSMA 2.2.5 PROGRESS */
        0x00, 0x08,             /* Packet-Size = 8 */
        0x04,                   /* OpCode = PROGRESS */
        0x00, 0x00, 0x00, 0x0d, /* TimeInSession = 13 s */
        0x37,                   /* Progress = 55 % */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.16 ODATA with ODATA_FW_LEAD_SEQ_NO, carrying an MS-WDSMA DATA */
const uint8_t golden_mt_odata[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xf9, 0x5e, /* Checksum = ~sum(session header..end) = 0xfffff95e */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x06,                                           /* OpCode = ODATA */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x28, /* SenderTime = 9000 */
        /* MS-WDSMT 2.2.16 ODATA */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 (must ACK) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, /* ODATASeqNo = 165 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* TrailODATASeqNo = 100 */
        0x00, 0x15,                                     /* DataLen = 21 */
        /* Data: MS-WDSMA 2.2.4 DATA */
        0x00, 0x15,                                     /* Packet-Size = 21 */
        0x03,                                           /* OpCode = DATA */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* BlockNumber = 7 */
        0x00, 0x08,                                     /* DataLen = 8 */
        0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, /* Data (8 bytes) */
        /* MS-WDSMT 2.2.4 / 2.2.16 Extended Options */
        0x00, 0x01,                                     /* OptionsCount = 1 */
        0x04, 0x06,                                     /* OptionId = FW_LEAD_SEQ_NO */
        0x00, 0x08,                                     /* OptionLen = 8 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, /* OptionValue = 160 */
};

/* MS-WDSMT 2.2.17 RDATA, carrying an MS-WDSMA DATA */
const uint8_t golden_mt_rdata[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfa, 0x18, /* Checksum = ~sum(session header..end) = 0xfffffa18 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x07,                                           /* OpCode = RDATA */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x8c, /* SenderTime = 9100 */
        /* MS-WDSMT 2.2.17 RDATA */
        0x00, 0x00, 0x00, 0x00,                         /* ClientId = 0 (nobody ACKs) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, /* ODATASeqNo = 120 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* TrailODATASeqNo = 100 */
        0x00, 0x11,                                     /* DataLen = 17 */
        /* Data: MS-WDSMA 2.2.4 DATA */
        0x00, 0x11,                                     /* Packet-Size = 17 */
        0x03,                                           /* OpCode = DATA */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* BlockNumber = 0 */
        0x00, 0x04,                                     /* DataLen = 4 */
        0xca, 0xfe, 0xba, 0xbe,                         /* Data (4 bytes) */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.15 ACK */
const uint8_t golden_mt_ack[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfc, 0xcf, /* Checksum = ~sum(session header..end) = 0xfffffccf */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x08,                                           /* OpCode = ACK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x5a, /* SenderTime = 9050 */
        /* MS-WDSMT 2.2.15 ACK */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, /* ODATASeqNo = 165 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x28, /* ServerTime = 9000 (ODATA) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, /* HiODATASeqNo = 165 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* LossRate = 0 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.18 NACK with two ranges */
const uint8_t golden_mt_nack[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xf8, 0x85, /* Checksum = ~sum(session header..end) = 0xfffff885 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x09,                                           /* OpCode = NACK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0xf0, /* SenderTime = 9200 */
        /* MS-WDSMT 2.2.18 NACK */
        0x00, 0x00, 0x00, 0x2b,                         /* ClientId = 43 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, /* HiODATASeqNo = 170 */
        0x00, 0x01, 0xc6, 0xbf, 0x52, 0x63, 0x40, 0x00, /* LossRate = 0.05 x 10^16 */
        0x00, 0x02,                                     /* RangeCount = 2 */
        /* MS-WDSMT 2.2.18.1 RangeList */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79, /* [0] StartODATASeqNo = 121 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, /* [0] EndODATASeqNo = 123 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96, /* [1] StartODATASeqNo = 150 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96, /* [1] EndODATASeqNo = 150 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.19 NCF confirming golden_mt_nack's ranges */
const uint8_t golden_mt_ncf[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfb, 0xca, /* Checksum = ~sum(session header..end) = 0xfffffbca */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0a,                                           /* OpCode = NCF */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0xfa, /* SenderTime = 9210 */
        /* MS-WDSMT 2.2.19 NCF */
        0x00, 0x02, /* RangeCount = 2 */
        /* MS-WDSMT 2.2.19.1 RangeList */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79, /* [0] StartODATASeqNo = 121 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, /* [0] EndODATASeqNo = 123 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96, /* [1] StartODATASeqNo = 150 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96, /* [1] EndODATASeqNo = 150 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.11 LEAVE */
const uint8_t golden_mt_leave[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfe, 0x0a, /* Checksum = ~sum(session header..end) = 0xfffffe0a */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0b,                                           /* OpCode = LEAVE */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x26, 0xac, /* SenderTime = 9900 */
        /* MS-WDSMT 2.2.11 LEAVE */
        0x00, 0x00, 0x00, 0x2b, /* ClientId = 43 */
        0x01,                   /* LeaveReason = CANCELLED */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.9 POLL carrying an MS-WDSMA SRVCIR */
const uint8_t golden_mt_poll[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0xdd, /* Checksum = ~sum(session header..end) = 0xfffffddd */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0c,                                           /* OpCode = POLL */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x10, /* SenderTime = 10000 */
        /* MS-WDSMT 2.2.9 POLL */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* POLLSeqNo = 1 */
        0x03, 0xe8,                                     /* BackOff = 1000 */
        0x00, 0x03,                                     /* AppDataLen = 3 */
        /* AppData: MS-WDSMA 2.2.2 SRVCIR */
        0x00, 0x03, /* Packet-Size = 3 */
        0x01,       /* OpCode = SRVCIR */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.10 POLLACK carrying an MS-WDSMA CNTCIR */
const uint8_t golden_mt_pollack[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0x93, /* Checksum = ~sum(session header..end) = 0xfffffd93 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0d,                                           /* OpCode = POLLACK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x74, /* SenderTime = 10100 */
        /* MS-WDSMT 2.2.10 POLLACK */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* POLLSeqNo = 1 */
        0x00, 0x1a,                                     /* AppDataLen = 26 */
        /* AppData: MS-WDSMA 2.2.3 CNTCIR */
        0x00, 0x1a,                                     /* Packet-Size = 26 */
        0x02,                                           /* OpCode = CNTCIR */
        0x50,                                           /* Progress = 80 % */
        0x00, 0x00, 0x00, 0x1e,                         /* TimeInSession = 30 s */
        0x00, 0x01,                                     /* RangeCount = 1 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* [0] StartBlockNo = 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* [0] EndBlockNo = 5 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.12 KICK naming two clients */
const uint8_t golden_mt_kick[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xfd, 0x87, /* Checksum = ~sum(session header..end) = 0xfffffd87 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0e,                                           /* OpCode = KICK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0xf8, /* SenderTime = 11000 */
        /* MS-WDSMT 2.2.12 KICK */
        0x00, 0x02, /* ClientCount = 2 */
        /* MS-WDSMT 2.2.12.1 ClientList */
        0x00, 0x00, 0x00, 0x2b, /* [0] ClientId = 43 */
        0x01,                   /* [0] Reason = FALLBACK */
        0x00, 0x00, 0x00, 0x2c, /* [1] ClientId = 44 */
        0x02,                   /* [1] Reason = FAIL */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.13 DEMOTE with IPv4 addresses and two clients */
const uint8_t golden_mt_demote[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xf9, 0xb6, /* Checksum = ~sum(session header..end) = 0xfffff9b6 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0f,                                           /* OpCode = DEMOTE */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2e, 0xe0, /* SenderTime = 12000 */
        /* MS-WDSMT 2.2.13 DEMOTE */
        0x00, 0x00, 0x03, 0xea, /* LowerSessionId = 1002 */
        0x04,                   /* MAddrLen = 4 */
        0xef, 0x00, 0x00, 0x02, /* MAddress = 239.0.0.2 */
        0xfa, 0x01,             /* MPort = 64001 */
        0x04,                   /* UAddrLen = 4 */
        0x0a, 0x00, 0x00, 0x01, /* UAddress = 10.0.0.1 */
        0xfa, 0x01,             /* UPort = 64001 (decision 21) */
        0x00, 0x02,             /* ClientCount = 2 */
        0x00, 0x00, 0x00, 0x2b, /* ClientList[0] = 43 */
        0x00, 0x00, 0x00, 0x2c, /* ClientList[1] = 44 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* MS-WDSMT 2.2.11 LEAVE with security type NONE (2.2.2: no SecurityData) */
const uint8_t golden_mt_leave_secnone[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',   /* Identifier = "WD" */
        0x00,       /* SecurityHeaderType = NONE */
        0x00, 0x00, /* SecurityDataLen = 0 */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x0b,                                           /* OpCode = LEAVE */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x26, 0xde, /* SenderTime = 9950 */
        /* MS-WDSMT 2.2.11 LEAVE */
        0x00, 0x00, 0x00, 0x2c, /* ClientId = 44 */
        0x00,                   /* LeaveReason = COMPLETE */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x00, /* OptionsCount = 0 */
};

/* golden_mt_ack plus one unknown extended option, which a decoder skips
 * (decision 1); re-encoding it gives golden_mt_ack exactly. */
const uint8_t golden_mt_ack_unknown_opt[] = {
        /* MS-WDSMT 2.2.2 Security Header */
        'W', 'D',               /* Identifier = "WD" */
        0x03,                   /* SecurityHeaderType = CHECKSUM */
        0x00, 0x04,             /* SecurityDataLen = 4 */
        0xff, 0xff, 0xf9, 0xac, /* Checksum = ~sum(session header..end) = 0xfffff9ac */
        /* MS-WDSMT 2.2.3 Session Header */
        0x00, 0x00, 0x03, 0xe9,                         /* SessionId = 1001 */
        0x08,                                           /* OpCode = ACK */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x5a, /* SenderTime = 9050 */
        /* MS-WDSMT 2.2.15 ACK */
        0x00, 0x00, 0x00, 0x2a,                         /* ClientId = 42 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, /* ODATASeqNo = 165 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x28, /* ServerTime = 9000 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, /* HiODATASeqNo = 165 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* LossRate = 0 */
        /* MS-WDSMT 2.2.4 Extended Options */
        0x00, 0x01,       /* OptionsCount = 1 */
        0x77, 0x77,       /* OptionId = 0x7777 (unknown) */
        0x00, 0x03,       /* OptionLen = 3 */
        0xaa, 0xbb, 0xcc, /* OptionValue (skipped) */
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

const size_t golden_mt_spm_len = LEN(golden_mt_spm);
const size_t golden_mt_join_len = LEN(golden_mt_join);
const size_t golden_mt_joinack_len = LEN(golden_mt_joinack);
const size_t golden_mt_qcc_len = LEN(golden_mt_qcc);
const size_t golden_mt_qcr_joinack_len = LEN(golden_mt_qcr_joinack);
const size_t golden_mt_qcr_qcc_len = LEN(golden_mt_qcr_qcc);
const size_t golden_mt_qcr_voluntary_len = LEN(golden_mt_qcr_voluntary);
const size_t golden_mt_odata_len = LEN(golden_mt_odata);
const size_t golden_mt_rdata_len = LEN(golden_mt_rdata);
const size_t golden_mt_ack_len = LEN(golden_mt_ack);
const size_t golden_mt_nack_len = LEN(golden_mt_nack);
const size_t golden_mt_ncf_len = LEN(golden_mt_ncf);
const size_t golden_mt_leave_len = LEN(golden_mt_leave);
const size_t golden_mt_poll_len = LEN(golden_mt_poll);
const size_t golden_mt_pollack_len = LEN(golden_mt_pollack);
const size_t golden_mt_kick_len = LEN(golden_mt_kick);
const size_t golden_mt_demote_len = LEN(golden_mt_demote);
const size_t golden_mt_leave_secnone_len = LEN(golden_mt_leave_secnone);
const size_t golden_mt_ack_unknown_opt_len = LEN(golden_mt_ack_unknown_opt);

#define VEC(n)                                                                                     \
    {                                                                                              \
        .name = "mt_" #n, .family = GOLDEN_MT, .bytes = golden_mt_##n, .len = LEN(golden_mt_##n)   \
    }

const struct golden golden_mt[] = {
        VEC(spm),
        VEC(join),
        VEC(joinack),
        VEC(qcc),
        VEC(qcr_joinack),
        VEC(qcr_qcc),
        VEC(qcr_voluntary),
        VEC(odata),
        VEC(rdata),
        VEC(ack),
        VEC(nack),
        VEC(ncf),
        VEC(leave),
        VEC(poll),
        VEC(pollack),
        VEC(kick),
        VEC(demote),
        VEC(leave_secnone),
        VEC(ack_unknown_opt),
};

const size_t golden_mt_count = LEN(golden_mt);
