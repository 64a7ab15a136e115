/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz target over every file of the given corpus directories, so
 * the checked-in corpus runs under `meson test` in every build, with or
 * without clang. A target's asserts abort on a regression. Prints the number
 * of inputs run; an empty corpus is a failure (a test that ran nothing would
 * pass while proving nothing).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int run_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    static uint8_t buf[1 << 17];
    size_t n = fread(buf, 1, sizeof(buf), f);
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "%s: read error\n", path);
        return -1;
    }
    /* Hand the target an exact-size heap copy so ASan sees overreads. */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return -1;
    memcpy(copy, buf, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    (*count)++;
    return 0;
}

int main(int argc, char **argv)
{
    size_t count = 0;

    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (run_file(path, &count) < 0) {
                closedir(d);
                return 1;
            }
        }
        closedir(d);
    }
    printf("replayed %zu inputs\n", count);
    return count > 0 ? 0 : 1;
}
