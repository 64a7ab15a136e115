/* SPDX-License-Identifier: MIT */
/*
 * Session initiation over MS-WDSC RPC, end to end in one process: a server
 * engine (wdsmc/server.h) with MS-WDSMSI/UDP disabled, an rpcnet server half
 * whose MS-WDSC handler answers WDSMC_OP_INITIATE from the engine
 * (wdsmc_server_request) and WDS_OP_IMG_ENUMERATE from a fixed table, and
 * client sessions (wdsmc/client.h) on the same libuv loop. Multicast leaves
 * from 127.0.0.1 with TTL 0.
 *
 * Checked: initiation=rpc receives a 2 MiB random file bit-exact (SHA-256),
 * with the ContentMetadata handed to the metadata callback; initiation=auto
 * falls back from a silent UDP port to RPC; a wrong password is -EACCES; an
 * unknown content is -WDSMC_ENOCONTENT; a reply asking for packet hashing is
 * -ENOTSUP; the catalog (wdsmc/catalog.h) lists the images.
 *
 * Exit 77 (skip) only when the host cannot join a multicast group on
 * 127.0.0.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uv.h>

#include "ntlm.h"
#include "rpcnet.h"
#include "wdsc.h"
#include "wdsmc/catalog.h"
#include "wdsmc/client.h"
#include "wdsmc/codec.h"
#include "wdsmc/server.h"

#define FILE_SIZE (2u << 20)

static uv_loop_t loop;
static struct wdsmc_server *srv;
static struct wdsmc_rpcnet_server *rpcsrv;
static uint8_t *file_data;
static uint8_t file_sha[32];
static uint16_t msi_port, rpc_port;
static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void sha256(const uint8_t *buf, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1)
        abort();
}

/* ---- The server's MS-WDSC handler ---------------------------------------- */

static const uint8_t metadata[] = "<metadata>rpc</metadata>";

static int lookup(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    (void)ctx;
    (void)domain;
    if (strcasecmp(user, "alice") != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash("Secret1", ret);
}

static int answer_initiate(const struct wdsmc_wdsc_pkt *req, uint8_t **ret, size_t *ret_len)
{
    struct wdsmc_wdsc_initiate_req in;
    struct wdsmc_wdsc_initiate_rep rep = {0};
    int err;

    if ((err = wdsmc_wdsc_initiate_req_parse(req, &in)) < 0)
        return err;
    if (strcmp(in.content, "hash.bin") == 0) {
        /* A reply asking for MS-WDSMT packet hashing without the SymKey
         * that HASH needs (MS-WDSMSI 2.2.1.1-2): the client must refuse it
         * before joining. */
        snprintf(in.content, sizeof(in.content), "file.bin");
        rep.has_sec_mode = true;
        rep.server_sec_mode = WDSMCTP_SEC_HASH;
        rep.client_sec_mode = WDSMCTP_SEC_CHECKSUM;
    } else {
        rep.has_sec_mode = true;
        rep.server_sec_mode = WDSMCTP_SEC_CHECKSUM;
        rep.client_sec_mode = WDSMCTP_SEC_CHECKSUM;
        rep.has_metadata = true;
        rep.metadata.p = metadata;
        rep.metadata.len = sizeof(metadata);
    }
    struct wdsmc_msi_request mreq = {0};
    struct wdsmc_msi_reply mrep;
    snprintf(mreq.ns, sizeof(mreq.ns), "%s", in.ns);
    snprintf(mreq.content, sizeof(mreq.content), "%s", in.content);
    uint32_t win32 = wdsmc_server_request(srv, &mreq, &mrep);
    if (win32) {
        struct wdsmc_wdsc_initiate_rep e = {.error = win32};
        return wdsmc_wdsc_initiate_rep_build(&e, ret, ret_len);
    }
    rep.mc_port = mrep.mcast_port;
    rep.mc_addr = mrep.mcast_addr;
    rep.uni_port = mrep.server_port;
    rep.uni_addr = mrep.server_addr;
    rep.session_id = mrep.session_id;
    rep.content_size = mrep.content_size;
    rep.block_size = mrep.block_size;
    rep.total_blocks = mrep.total_blocks;
    return wdsmc_wdsc_initiate_rep_build(&rep, ret, ret_len);
}

static int answer_enum(uint8_t **ret, size_t *ret_len)
{
    static char *deps[] = {"Images\\Group1\\boot.wim"};
    struct wdsmc_wdsc_image img[2] = {
            {.type = WDSMC_DEP_IMAGE_WIM,
             .xml = "<IMAGE INDEX=\"1\"><NAME>Test Image</NAME></IMAGE>",
             .path = "D:\\RemoteInstall\\Images\\Group1\\install.wim",
             .res_path = "D:\\RemoteInstall\\Images\\Group1\\res.rwm",
             .group = "Group1",
             .index = 1,
             .ns = "WDS:Group1/install.wim/1",
             .has_ns_size = true,
             .ns_size = FILE_SIZE,
             .n_dep = 1,
             .dep = deps},
            {.type = WDSMC_DEP_IMAGE_WIM,
             .xml = "<IMAGE INDEX=\"2\"><NAME>No Multicast</NAME></IMAGE>",
             .path = "D:\\RemoteInstall\\Images\\Group1\\install.wim",
             .group = "Group1",
             .index = 2},
    };
    struct wdsmc_wdsc_img_enum_rep rep = {.version = 1,
                                          .has_sc = true,
                                          .sc = WDSMC_SERVER_CAP_SUPPORT_V2,
                                          .n_images = 2,
                                          .images = img};
    return wdsmc_wdsc_img_enum_rep_build(&rep, ret, ret_len);
}

static int handler(void *user, const struct wdsmc_rpc_call_info *info,
                   const struct wdsmc_wdsc_pkt *req, uint8_t **ret, size_t *ret_len)
{
    (void)user;
    (void)info;
    if (req->opcode == WDSMC_OP_INITIATE)
        return answer_initiate(req, ret, ret_len);
    if (req->opcode == WDS_OP_IMG_ENUMERATE)
        return answer_enum(ret, ret_len);
    return -EOPNOTSUPP;
}

/* ---- Receivers ------------------------------------------------------------- */

struct rx {
    struct wdsmc_client *c;
    uint8_t *buf;
    uint64_t size;
    bool done, got_metadata;
    int err;
};

static void rx_start(void *ctx, uint64_t size, uint32_t block)
{
    struct rx *r = ctx;
    (void)block;
    r->size = size;
    r->buf = calloc(1, size ? size : 1);
}

static void rx_metadata(void *ctx, const void *buf, size_t len)
{
    struct rx *r = ctx;
    r->got_metadata = len == sizeof(metadata) && memcmp(buf, metadata, len) == 0;
}

static void rx_receive(void *ctx, const void *buf, size_t len, uint64_t off)
{
    struct rx *r = ctx;
    if (r->buf && off <= r->size && len <= r->size - off)
        memcpy(r->buf + off, buf, len);
    wdsmc_client_complete_receive(r->c, len);
}

static void rx_complete(void *ctx, int err)
{
    struct rx *r = ctx;
    r->done = true;
    r->err = err;
}

static int receive(enum wdsmc_initiation how, const char *content, const char *password,
                   struct rx *r)
{
    struct wdsmc_client_request req = {
            .server = "127.0.0.1",
            .port = msi_port,
            .ns = "WDS:Group1/install.wim/1",
            .content = content,
            .interface = "127.0.0.1",
            .client_name = "rpctest",
            .inactivity_timeout = 10000,
            .initiation = how,
            .rpc_port = rpc_port,
            .user = "alice",
            .domain = "WDS",
            .password = password,
    };
    struct wdsmc_client_callbacks cbs = {
            .ctx = r,
            .start = rx_start,
            .metadata = rx_metadata,
            .receive = rx_receive,
            .complete = rx_complete,
    };
    memset(r, 0, sizeof(*r));
    int err = wdsmc_client_new(&loop, &req, &cbs, &r->c);
    if (err == 0)
        err = wdsmc_client_start(r->c);
    if (err == 0)
        err = wdsmc_client_wait(r->c);
    wdsmc_client_close(r->c);
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return err;
}

static bool exact(const struct rx *r)
{
    uint8_t sha[32];
    if (!r->buf || r->size != FILE_SIZE)
        return false;
    sha256(r->buf, r->size, sha);
    return memcmp(sha, file_sha, 32) == 0;
}

/* ---- Setup ---------------------------------------------------------------- */

static bool multicast_works(const char *group)
{
    uv_udp_t h;
    struct sockaddr_in sa;
    bool ok;

    uv_ip4_addr("0.0.0.0", 0, &sa);
    if (uv_udp_init(&loop, &h) < 0)
        return false;
    ok = uv_udp_bind(&h, (struct sockaddr *)&sa, 0) == 0 &&
         uv_udp_set_membership(&h, group, "127.0.0.1", UV_JOIN_GROUP) == 0;
    uv_close((uv_handle_t *)&h, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return ok;
}

int main(void)
{
    uint32_t rnd;
    char group[32], dir[64], path[128];

    setvbuf(stderr, NULL, _IOLBF, 0);
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    uv_loop_init(&loop);
    msi_port = (uint16_t)(20000 + rnd % 20000);
    uint16_t port_first = (uint16_t)(41000 + (rnd >> 8) % 20000);
    snprintf(group, sizeof(group), "239.255.%u.1", (rnd >> 16) % 250);
    if (!multicast_works(group)) {
        fprintf(stderr, "SKIP: cannot join %s on 127.0.0.1\n", group);
        return 77;
    }

    snprintf(dir, sizeof(dir), "/tmp/wdsmc-rpc-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/file.bin", dir);
    file_data = malloc(FILE_SIZE);
    for (size_t off = 0; off < FILE_SIZE;) {
        ssize_t n = getrandom(file_data + off, FILE_SIZE - off, 0);
        if (n <= 0)
            return 1;
        off += (size_t)n;
    }
    sha256(file_data, FILE_SIZE, file_sha);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, file_data, FILE_SIZE) != (ssize_t)FILE_SIZE)
        return 1;
    close(fd);

    struct wdsmc_server_config cfg = {
            .address = "127.0.0.1",
            .interface = "127.0.0.1",
            .msi_port = msi_port,
            .msi_disabled = true,
            .group_first = group,
            .group_count = 4,
            .port_first = port_first,
            .port_count = 64,
    };
    struct wdsmc_namespace_config nc;
    wdsmc_namespace_config_default(&nc);
    nc.ttl = 0;
    int err = wdsmc_server_new(&loop, &cfg, &srv);
    if (err == 0)
        err = wdsmc_server_add_namespace(srv, "WDS:Group1/install.wim/1", &nc);
    if (err == 0)
        err = wdsmc_server_add_content(srv, "WDS:Group1/install.wim/1", "file.bin", path);
    if (err == 0)
        err = wdsmc_server_start(srv);
    CHECK(err == 0, "engine: %s", wdsmc_strerror(err));
    struct wdsmc_rpcnet_server_cfg rcfg = {
            .addr = "127.0.0.1",
            .auth = {.nb_computer = "WDS01", .lookup = lookup},
            .handler = handler,
    };
    err = wdsmc_rpcnet_server_new(&loop, &rcfg, &rpcsrv);
    CHECK(err == 0, "rpcnet: %s", wdsmc_strerror(err));
    if (failures)
        return 1;
    rpc_port = wdsmc_rpcnet_server_port(rpcsrv);

    struct rx r;
    fprintf(stderr, "# initiation=rpc\n");
    err = receive(WDSMC_INITIATION_RPC, "file.bin", "Secret1", &r);
    CHECK(err == 0, "rpc: %s", wdsmc_strerror(err));
    CHECK(exact(&r), "rpc: content differs");
    CHECK(r.got_metadata, "rpc: no metadata");
    free(r.buf);

    fprintf(stderr, "# initiation=auto (UDP silent, then RPC)\n");
    uint64_t t0 = uv_hrtime();
    err = receive(WDSMC_INITIATION_AUTO, "file.bin", "Secret1", &r);
    CHECK(err == 0, "auto: %s", wdsmc_strerror(err));
    CHECK(exact(&r), "auto: content differs");
    CHECK(uv_hrtime() - t0 >= 800000000ull, "auto: did not try UDP first");
    free(r.buf);

    fprintf(stderr, "# wrong password, unknown content, HASH without SymKey\n");
    err = receive(WDSMC_INITIATION_RPC, "file.bin", "wrong", &r);
    CHECK(err == -EACCES, "wrong password: %s", wdsmc_strerror(err));
    free(r.buf);
    err = receive(WDSMC_INITIATION_RPC, "nope.bin", "Secret1", &r);
    CHECK(err == -WDSMC_ENOCONTENT, "unknown content: %s", wdsmc_strerror(err));
    free(r.buf);
    err = receive(WDSMC_INITIATION_RPC, "hash.bin", "Secret1", &r);
    CHECK(err == -WDSMC_EBADREPLY, "hashing without a key: %s", wdsmc_strerror(err));
    free(r.buf);

    fprintf(stderr, "# catalog\n");
    struct wdsmc_catalog_request creq = {
            .server = "127.0.0.1",
            .rpc_port = rpc_port,
            .user = "alice",
            .domain = "WDS",
            .password = "Secret1",
    };
    struct wdsmc_catalog *cat = NULL;
    err = wdsmc_catalog_get(&loop, &creq, &cat);
    CHECK(err == 0, "catalog: %s", wdsmc_strerror(err));
    if (cat) {
        CHECK(cat->v2 && cat->n_images == 2, "catalog: %zu images", cat->n_images);
        if (cat->n_images == 2) {
            const struct wdsmc_catalog_image *m = &cat->images[0];
            CHECK(strcmp(m->group, "Group1") == 0 && strcmp(m->file, "install.wim") == 0 &&
                          m->index == 1 && strcmp(m->ns, "WDS:Group1/install.wim/1") == 0 &&
                          strcmp(m->res_file, "res.rwm") == 0 && m->n_dep == 1 && m->has_size &&
                          m->size == FILE_SIZE && strcmp(m->name, "Test Image") == 0,
                  "catalog: image 0");
            CHECK(cat->images[1].ns == NULL && cat->images[1].index == 2, "catalog: image 1");
        }
        wdsmc_catalog_free(cat);
    }
    creq.password = "wrong";
    err = wdsmc_catalog_get(&loop, &creq, &cat);
    CHECK(err == -EACCES, "catalog, wrong password: %s", wdsmc_strerror(err));

    wdsmc_rpcnet_server_close(rpcsrv);
    wdsmc_server_free(srv);
    for (int i = 0; i < 50 && uv_loop_alive(&loop); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    unlink(path);
    rmdir(dir);
    free(file_data);
    fprintf(stderr, failures ? "FAILED (%d)\n" : "ok\n", failures);
    return failures ? 1 : 0;
}
