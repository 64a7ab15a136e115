/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rpc.h"
#include "rpcnet.h"
#include "users.h"
#include "wdsc.h"
#include "wdsmc/codec.h"

struct wdsmcd_rpc {
    struct wdsmcd_rpc_cfg cfg;
    struct wdsmc_rpcnet_server *net;
    uint16_t port;
    /* The users file: its path (NULL: none), what was last read from it and
     * which version that was; re-read when it changes. */
    char *users_path;
    bool users_explicit; /* configured, so a missing file is an error */
    struct wdsmcd_users users;
    struct wdsmcd_users_id users_id;
    bool users_loaded;
    bool users_warned; /* the current failure was logged once */
};

static void say(const struct wdsmcd_rpc *r, enum wdsmc_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say(const struct wdsmcd_rpc *r, enum wdsmc_log_level level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    if (!r->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->cfg.log(r->cfg.log_ctx, level, msg);
}

static void net_log(void *ctx, int level, const char *msg)
{
    const struct wdsmcd_rpc *r = ctx;

    if (level < WDSMC_LOG_ERROR || level > WDSMC_LOG_DEBUG)
        level = WDSMC_LOG_DEBUG;
    say(r, (enum wdsmc_log_level)level, "rpc: %s", msg);
}

/* Re-read the users file if it changed since the last read. A file that has
 * become unreadable, unsafe or malformed authenticates nobody until it is
 * fixed: failing closed is the only safe reading of a broken password file. */
static void users_refresh(struct wdsmcd_rpc *r)
{
    char err[512];
    struct wdsmcd_users fresh;
    struct wdsmcd_users_id id;

    if (!r->users_path || (r->users_loaded && !wdsmcd_users_changed(r->users_path, &r->users_id)))
        return;
    int rc = wdsmcd_users_load(r->users_path, &fresh, &id, err, sizeof(err));
    if (rc < 0) {
        bool was = r->users_loaded || r->users.n;
        wdsmcd_users_fini(&r->users);
        r->users_loaded = false;
        if (!r->users_warned || was)
            say(r, rc == -ENOENT && !r->users_explicit ? WDSMC_LOG_DEBUG : WDSMC_LOG_ERROR,
                "%s; RPC logons with a password are refused", err);
        r->users_warned = true;
        return;
    }
    wdsmcd_users_fini(&r->users);
    r->users = fresh;
    r->users_id = id;
    r->users_loaded = true;
    r->users_warned = false;
    say(r, WDSMC_LOG_INFO, "users file %s: %zu account%s", r->users_path, r->users.n,
        r->users.n == 1 ? "" : "s");
}

int wdsmcd_rpc_lookup(void *ctx, const char *user, const char *domain, uint8_t ret_nt_hash[16])
{
    struct wdsmcd_rpc *r = ctx;

    users_refresh(r);
    int rc = wdsmcd_users_lookup(&r->users, user, domain, ret_nt_hash);
    if (rc < 0)
        say(r, WDSMC_LOG_INFO, "rpc: logon of unknown user '%s%s%s' refused",
            domain && *domain ? domain : "", domain && *domain ? "\\" : "", user);
    else
        say(r, WDSMC_LOG_DEBUG, "rpc: checking the logon of '%s%s%s'",
            domain && *domain ? domain : "", domain && *domain ? "\\" : "", user);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* WDSMC_OP_INITIATE                                                         */
/* ------------------------------------------------------------------------ */

static const char *caller(const struct wdsmc_rpc_call_info *info)
{
    if (!info->authenticated)
        return "unauthenticated caller";
    if (info->anonymous || !info->user)
        return "anonymous caller";
    return info->user;
}

static int handle_initiate(struct wdsmcd_rpc *r, const struct wdsmc_rpc_call_info *info,
                           const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct wdsmc_wdsc_initiate_req ir;
    struct wdsmc_wdsc_initiate_rep rep = {0};
    int rc = wdsmc_wdsc_initiate_req_parse(req, &ir);

    if (rc < 0) {
        say(r, WDSMC_LOG_INFO, "rpc: %s: malformed WDSMC_OP_INITIATE refused: %s", caller(info),
            wdsmc_strerror(rc));
        return rc;
    }
    /* The engine runs every session in WDSMCTP_SEC_CHECKSUM, which the
     * client must have said it handles (MS-WDSMSI 3.1.5.2). */
    if (!ir.has_cap || !(ir.cap & WDSMC_CLIENT_CAP_CHECKSUM)) {
        say(r, WDSMC_LOG_INFO,
            "rpc: %s (%s) asked for '%s' '%s' without the checksum capability; refused",
            caller(info), ir.client, ir.ns, ir.content);
        rep.error = WDSMC_WIN32_NOT_SUPPORTED;
        return wdsmc_wdsc_initiate_rep_build(&rep, ret_reply, ret_len);
    }
    struct wdsmc_msi_request mreq = {0};
    struct wdsmc_msi_reply mrep;
    _Static_assert(sizeof(mreq.ns) == sizeof(ir.ns) && sizeof(mreq.content) == sizeof(ir.content),
                   "MS-WDSMSI and MS-WDSC name buffers differ");
    memcpy(mreq.ns, ir.ns, sizeof(mreq.ns));
    memcpy(mreq.content, ir.content, sizeof(mreq.content));
    uint32_t e = wdsmc_server_request(r->cfg.server, &mreq, &mrep);
    if (e) {
        say(r, WDSMC_LOG_INFO, "rpc: %s (%s): '%s' '%s': Win32 error %" PRIu32, caller(info),
            ir.client, ir.ns, ir.content, e);
        rep.error = e;
        return wdsmc_wdsc_initiate_rep_build(&rep, ret_reply, ret_len);
    }
    rep.mc_port = mrep.mcast_port;
    rep.mc_addr = mrep.mcast_addr;
    rep.uni_port = mrep.server_port;
    rep.uni_addr = mrep.server_addr;
    rep.session_id = mrep.session_id;
    rep.content_size = mrep.content_size;
    rep.block_size = mrep.block_size;
    rep.total_blocks = mrep.total_blocks;
    rep.has_sec_mode = true;
    rep.client_sec_mode = WDSMCTP_SEC_CHECKSUM;
    rep.server_sec_mode = WDSMCTP_SEC_CHECKSUM;
    say(r, WDSMC_LOG_INFO, "rpc: %s (%s) initiated '%s' '%s': session %" PRIu32, caller(info),
        ir.client, ir.ns, ir.content, mrep.session_id);
    return wdsmc_wdsc_initiate_rep_build(&rep, ret_reply, ret_len);
}

/* ------------------------------------------------------------------------ */
/* WDS_OP_IMG_ENUMERATE                                                      */
/* ------------------------------------------------------------------------ */

/* Write s to f with XML's five special characters escaped. */
static int xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            break;
        }
        if ((rep ? fputs(rep, f) : fputc(*s, f)) == EOF)
            return -ENOMEM;
    }
    return 0;
}

static char *image_xml(const char *ns, const char *content, uint64_t size, bool has_size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    bool ok = fputs("<IMAGE><NAME>", f) != EOF && xml_escape(f, content) == 0 &&
              fputs("</NAME><DESCRIPTION>", f) != EOF && xml_escape(f, ns) == 0 &&
              fputs("</DESCRIPTION>", f) != EOF &&
              (!has_size || fprintf(f, "<TOTALBYTES>%" PRIu64 "</TOTALBYTES>", size) > 0) &&
              fputs("</IMAGE>", f) != EOF;
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* GROUP and INDEX of a namespace named like Windows' "WDS:GROUP/FILE/INDEX";
 * false for any other name. */
static bool windows_name(const char *ns, char **ret_group, uint32_t *ret_index)
{
    size_t len = strlen(ns);
    if (len < 4 || memcmp(ns, "WDS:", 4) != 0)
        return false;
    const char *g = ns + 4;
    const char *s1 = memchr(g, '/', len - 4);
    const char *s2 = s1 ? memrchr(s1 + 1, '/', len - (size_t)(s1 + 1 - ns)) : NULL;
    if (!s1 || s1 == g || !s2 || s2 == s1 + 1 || !s2[1])
        return false;
    char *end;
    errno = 0;
    unsigned long idx = strtoul(s2 + 1, &end, 10);
    if (errno || *end || s2[1] < '0' || s2[1] > '9' || idx > UINT32_MAX)
        return false;
    *ret_group = strndup(g, (size_t)(s1 - g));
    *ret_index = (uint32_t)idx;
    return *ret_group != NULL;
}

static void images_free(struct wdsmc_wdsc_img_enum_rep *rep)
{
    /* The strings are ours (malloc'd), as the parser's would be. */
    wdsmc_wdsc_img_enum_rep_fini(rep);
}

static int add_image(struct wdsmc_wdsc_img_enum_rep *rep, const char *ns,
                     const struct wdsmcd_content *ct)
{
    struct wdsmc_wdsc_image *im = &rep->images[rep->n_images];
    struct stat st;
    bool has_size = stat(ct->path, &st) == 0 && S_ISREG(st.st_mode);

    memset(im, 0, sizeof(*im));
    rep->n_images++; /* so that fini frees what is set below on failure */
    im->type = WDSMC_DEP_IMAGE_WIM;
    if (!windows_name(ns, &im->group, &im->index)) {
        im->group = strdup(ns);
        im->index = 1;
    }
    if (asprintf(&im->path, "\\%s\\%s", ns, ct->name) < 0) {
        im->path = NULL;
        return -ENOMEM;
    }
    /* A namespace name may carry '/' (WDS:GROUP/FILE/INDEX); the path is a
     * Windows one, so every separator is '\'. */
    for (char *p = im->path; *p; p++)
        if (*p == '/')
            *p = '\\';
    im->res_path = strdup(im->path);
    im->ns = strdup(ns);
    im->xml = image_xml(ns, ct->name, has_size ? (uint64_t)st.st_size : 0, has_size);
    im->has_ns_size = has_size;
    im->ns_size = has_size ? (uint64_t)st.st_size : 0;
    if (!im->group || !im->res_path || !im->ns || !im->xml)
        return -ENOMEM;
    return 0;
}

static int handle_enumerate(struct wdsmcd_rpc *r, const struct wdsmc_rpc_call_info *info,
                            const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct wdsmc_wdsc_img_enum_req er;
    struct wdsmc_wdsc_img_enum_rep rep = {.version = 1};
    const struct wdsmcd_config *c = r->cfg.cfg;
    int rc = wdsmc_wdsc_img_enum_req_parse(req, &er);

    if (rc < 0) {
        say(r, WDSMC_LOG_INFO, "rpc: %s: malformed WDS_OP_IMG_ENUMERATE refused: %s", caller(info),
            wdsmc_strerror(rc));
        return rc;
    }
    if (er.has_cc && (er.cc & WDSMC_CLIENT_CAP_SUPPORT_V2)) {
        rep.has_sc = true;
        rep.sc = WDSMC_SERVER_CAP_SUPPORT_V2;
    }
    size_t total = 0;
    for (size_t i = 0; i < c->n_ns; i++)
        total += r->cfg.n_contents[i];
    if (total > WDSMC_WDSC_MAX_IMAGES) {
        say(r, WDSMC_LOG_WARN, "rpc: %zu contents; listing the first %d as images", total,
            WDSMC_WDSC_MAX_IMAGES);
        total = WDSMC_WDSC_MAX_IMAGES;
    }
    rep.images = total ? calloc(total, sizeof(*rep.images)) : NULL;
    if (total && !rep.images)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_ns && rep.n_images < total; i++) {
        for (size_t j = 0; j < r->cfg.n_contents[i] && rep.n_images < total; j++) {
            if ((rc = add_image(&rep, c->ns[i].name, &r->cfg.contents[i][j])) < 0) {
                images_free(&rep);
                return rc;
            }
        }
    }
    /* The reply must fit one MS-WDSC packet: list fewer images rather than
     * none when there are many long names. */
    uint32_t all = rep.n_images, listed = all;
    for (;;) {
        rep.n_images = listed;
        rc = wdsmc_wdsc_img_enum_rep_build(&rep, ret_reply, ret_len);
        if ((rc != -EMSGSIZE && rc != -ENOBUFS) || listed == 0)
            break;
        listed /= 2;
    }
    rep.n_images = all; /* free every image, listed or not */
    images_free(&rep);
    if (rc < 0)
        return rc;
    if (listed < all)
        say(r, WDSMC_LOG_WARN,
            "rpc: image list cut to %" PRIu32 " of %" PRIu32 " to fit one packet", listed, all);
    say(r, WDSMC_LOG_INFO, "rpc: %s enumerated %" PRIu32 " image%s", caller(info), listed,
        listed == 1 ? "" : "s");
    return 0;
}

int wdsmcd_rpc_handle(void *ctx, const struct wdsmc_rpc_call_info *info,
                      const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    static const struct wdsmc_uuid msi = WDSMC_WDSC_EP_MSI_INIT, osd = WDSMC_WDSC_EP_OSD_INIT;
    struct wdsmcd_rpc *r = ctx;

    if (wdsmc_uuid_eq(&req->endpoint, &msi) && req->opcode == WDSMC_OP_INITIATE)
        return handle_initiate(r, info, req, ret_reply, ret_len);
    if (wdsmc_uuid_eq(&req->endpoint, &osd) && req->opcode == WDS_OP_IMG_ENUMERATE)
        return handle_enumerate(r, info, req, ret_reply, ret_len);
    say(r, WDSMC_LOG_DEBUG, "rpc: %s: opcode 0x%" PRIx32 " not offered", caller(info), req->opcode);
    return -EOPNOTSUPP;
}

/* allow_anonymous: unauthenticated calls and the anonymous logon are let
 * through the access check as if authenticated at PKT_PRIVACY. Everything
 * else (a real logon at a weaker level included) is judged by
 * wdsmc_wdsc_access() as usual. */
static int dispatch_anonymous(void *user, const struct wdsmc_rpc_call_info *info,
                              const uint8_t *stub, size_t len, uint8_t **ret_stub, size_t *ret_len)
{
    struct wdsmcd_rpc *r = user;
    struct wdsmc_wdsc_server ws = {.handler = wdsmcd_rpc_handle, .user = r};
    struct wdsmc_rpc_call_info i = *info;

    if (!info->authenticated || info->anonymous) {
        i.authenticated = true;
        i.anonymous = false;
        i.auth_level = WDSMC_RPC_LEVEL_PKT_PRIVACY;
        i.user = NULL;
    }
    return wdsmc_wdsc_rpc_dispatch(&ws, &i, stub, len, ret_stub, ret_len);
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */
/* ------------------------------------------------------------------------ */

int wdsmcd_rpc_new(const struct wdsmcd_rpc_cfg *cfg, struct wdsmcd_rpc **ret, char *err,
                   size_t errcap)
{
    struct wdsmcd_rpc *r = calloc(1, sizeof(*r));
    struct stat st;

    if (!r) {
        snprintf(err, errcap, "out of memory");
        return -ENOMEM;
    }
    r->cfg = *cfg;
    const char *path = cfg->cfg->users_file;
    r->users_explicit = path != NULL;
    if (!path && stat(WDSMCD_DEFAULT_USERS, &st) == 0)
        path = WDSMCD_DEFAULT_USERS;
    if (path) {
        r->users_path = strdup(path);
        if (!r->users_path) {
            free(r);
            snprintf(err, errcap, "out of memory");
            return -ENOMEM;
        }
        int rc = wdsmcd_users_load(path, &r->users, &r->users_id, err, errcap);
        if (rc < 0) {
            wdsmcd_rpc_free(r);
            return rc;
        }
        r->users_loaded = true;
    } else {
        /* Watch the default path, so that a first 'wdsctl useradd' takes
         * effect without a restart. */
        r->users_path = strdup(WDSMCD_DEFAULT_USERS);
        if (!r->users_path) {
            free(r);
            snprintf(err, errcap, "out of memory");
            return -ENOMEM;
        }
        r->users_warned = true;
    }
    *ret = r;
    return 0;
}

int wdsmcd_rpc_start(struct wdsmcd_rpc *r, char *err, size_t errcap)
{
    const struct wdsmcd_config *c = r->cfg.cfg;
    struct wdsmc_rpcnet_server_cfg nc = {
            .addr = c->rpc_address ? c->rpc_address : c->address,
            .port = c->rpc_port,
            .auth =
                    {
                            .lookup = wdsmcd_rpc_lookup,
                            .lookup_ctx = r,
                            .allow_anonymous = c->allow_anonymous,
                    },
            .log = net_log,
            .log_ctx = r,
    };

    if (c->allow_anonymous) {
        nc.dispatch = dispatch_anonymous;
        nc.dispatch_ctx = r;
    } else {
        nc.handler = wdsmcd_rpc_handle;
        nc.handler_ctx = r;
    }
    int rc = wdsmc_rpcnet_server_new(r->cfg.loop, &nc, &r->net);
    if (rc < 0) {
        snprintf(err, errcap, "cannot listen for MS-WDSC (RPC) on %s:%u: %s",
                 nc.addr ? nc.addr : "0.0.0.0", c->rpc_port, strerror(-rc));
        r->net = NULL;
        return rc;
    }
    r->port = wdsmc_rpcnet_server_port(r->net);
    if (!r->users_loaded && !c->allow_anonymous)
        say(r, WDSMC_LOG_WARN,
            "no users file (%s): every RPC caller is refused until one is written "
            "(wdsctl useradd)",
            r->users_path);
    return 0;
}

uint16_t wdsmcd_rpc_port(const struct wdsmcd_rpc *r)
{
    return r ? r->port : 0;
}

void wdsmcd_rpc_stop(struct wdsmcd_rpc *r)
{
    if (!r || !r->net)
        return;
    wdsmc_rpcnet_server_close(r->net);
    r->net = NULL;
}

void wdsmcd_rpc_free(struct wdsmcd_rpc *r)
{
    if (!r)
        return;
    wdsmcd_users_fini(&r->users);
    free(r->users_path);
    free(r);
}
