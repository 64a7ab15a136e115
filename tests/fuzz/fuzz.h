/* SPDX-License-Identifier: MIT */
#ifndef WDSMC_FUZZ_H
#define WDSMC_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Entry point of every target; libFuzzer calls it, and so does replay.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
