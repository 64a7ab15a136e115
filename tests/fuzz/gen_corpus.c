/* SPDX-License-Identifier: MIT */
/* Writes the golden vectors as the fuzzers' seed corpus:
 *   gen_corpus DIR  ->  DIR/mt/<name>, DIR/ma/<name>, DIR/msi/<name> */
#include <stdio.h>
#include <sys/stat.h>

#include "golden.h"

static int write_set(const char *dir, const char *sub, const struct golden *g, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    mkdir(path, 0755);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, g[i].name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(g[i].bytes, 1, g[i].len, f) != g[i].len) {
            perror(path);
            return 1;
        }
        fclose(f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    return write_set(argv[1], "mt", golden_mt, golden_mt_count) ||
           write_set(argv[1], "ma", golden_ma, golden_ma_count) ||
           write_set(argv[1], "msi", golden_msi, golden_msi_count);
}
