/* SPDX-License-Identifier: MIT */
/* Command-line credentials (wdsmc/credentials.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wdsmc/credentials.h"

int wdsmc_credentials_parse_user(struct wdsmc_credentials *c, const char *arg)
{
    const char *sep;
    char *user, *domain;

    if (!arg)
        return -EINVAL;
    if ((sep = strchr(arg, '\\'))) {
        domain = strndup(arg, (size_t)(sep - arg));
        user = strdup(sep + 1);
        if (domain && !*domain) {
            free(domain);
            domain = NULL;
            free(user);
            return -EINVAL;
        }
    } else if ((sep = strrchr(arg, '@'))) {
        user = strndup(arg, (size_t)(sep - arg));
        domain = strdup(sep + 1);
        if (domain && !*domain) {
            free(domain);
            free(user);
            return -EINVAL;
        }
    } else {
        user = strdup(arg);
        domain = strdup("");
    }
    if (!user || !domain) {
        free(user);
        free(domain);
        return -ENOMEM;
    }
    if (!*user) {
        free(user);
        free(domain);
        return -EINVAL;
    }
    free(c->user);
    free(c->domain);
    c->user = user;
    c->domain = domain;
    return 0;
}

int wdsmc_credentials_read_password(struct wdsmc_credentials *c, const char *path,
                                    bool allow_shared)
{
    char buf[WDSMC_CREDENTIALS_MAX_PASSWORD + 3];
    size_t len = 0;
    struct stat st;
    int fd, err = 0;

    if (!path)
        return -EINVAL;
    fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        err = -errno;
        goto out;
    }
    if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)) && !allow_shared) {
        err = -EPERM;
        goto out;
    }
    /* Read up to the first newline (or the end), and no further than the
     * limit plus the "\r\n". */
    while (len < sizeof(buf)) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    char *nl = memchr(buf, '\n', len);
    if (nl)
        len = (size_t)(nl - buf);
    else if (len == sizeof(buf)) {
        err = -EINVAL;
        goto out;
    }
    if (len && buf[len - 1] == '\r')
        len--;
    if (len == 0 || len > WDSMC_CREDENTIALS_MAX_PASSWORD || memchr(buf, '\0', len)) {
        err = -EINVAL;
        goto out;
    }
    char *pw = strndup(buf, len);
    if (!pw) {
        err = -ENOMEM;
        goto out;
    }
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    c->password = pw;
out:
    explicit_bzero(buf, sizeof(buf));
    if (fd != STDIN_FILENO)
        close(fd);
    return err;
}

void wdsmc_credentials_fini(struct wdsmc_credentials *c)
{
    if (!c)
        return;
    free(c->user);
    free(c->domain);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    c->user = c->domain = c->password = NULL;
}
