/* SPDX-License-Identifier: MIT */
#include "errmap.h"

#include <errno.h>

#include "wdsmc/error.h"

int wdsfs_errno(int err)
{
    if (err >= 0)
        return EIO;
    int e = -err;
    if (e == WDSMC_ENOCONTENT)
        return ENOENT;
    if (e >= WDSMC_EBASE)
        return EIO;
    return e;
}

void wdsfs_reply_err(fuse_req_t req, int err)
{
    fuse_reply_err(req, wdsfs_errno(err));
}

const char *wdsfs_strerror(int err)
{
    return wdsmc_strerror(err);
}
