/* SPDX-License-Identifier: MIT */
/*
 * Golden MS-WDSMA and MS-WDSMSI (UDP) vectors, each also exported by name so
 * the unit tests can check its fields. All are listed in golden_ma[] and
 * golden_msi[] (golden.h) for the fuzz corpus.
 */
#ifndef WDSMC_GOLDEN_MA_MSI_H
#define WDSMC_GOLDEN_MA_MSI_H

#include "golden.h"

/* MS-WDSMA */
extern const uint8_t golden_ma_srvcir[];
extern const size_t golden_ma_srvcir_len;
extern const uint8_t golden_ma_cntcir[]; /* 3 ranges */
extern const size_t golden_ma_cntcir_len;
extern const uint8_t golden_ma_cntcir_empty[]; /* 0 ranges */
extern const size_t golden_ma_cntcir_empty_len;
extern const uint8_t golden_ma_data[]; /* 10 data bytes */
extern const size_t golden_ma_data_len;
extern const uint8_t golden_ma_progress[];
extern const size_t golden_ma_progress_len;

/* MS-WDSMSI over UDP */
extern const uint8_t golden_msi_request[]; /* with IPV6_CAPABLE = 1 */
extern const size_t golden_msi_request_len;
extern const uint8_t golden_msi_request_noipv6[];
extern const size_t golden_msi_request_noipv6_len;
extern const uint8_t golden_msi_request_unicode[]; /* "WDS:Déploiement/1", U+1F600 */
extern const size_t golden_msi_request_unicode_len;
extern const uint8_t golden_msi_reply[]; /* all eight options */
extern const size_t golden_msi_reply_len;
extern const uint8_t golden_msi_error[]; /* REPLY with ERROR = 1168 only */
extern const size_t golden_msi_error_len;

#endif
