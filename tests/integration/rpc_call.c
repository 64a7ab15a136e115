/* SPDX-License-Identifier: MIT */
/*
 * rpc_call: one DCE/RPC call over TCP with wdsfs's own client stack (the
 * rpc_assoc.h client machine and the NTLM/SPNEGO providers of rpcauth.h) on
 * a plain blocking socket, for the interoperability tests:
 *
 *   rpc_call HOST PORT ntlm|spnego|none mgmt
 *       MGMT inq_if_ids (afa8bd80-7d8a-11c9-bef4-08002b102989 v1.0, opnum 0)
 *       against any DCE/RPC server, e.g. Samba; prints the interface ids
 *   rpc_call HOST PORT ntlm|spnego|none initiate NAMESPACE CONTENT
 *   rpc_call HOST PORT ntlm|spnego|none enumerate
 *       WdsRpcMessage with an MS-WDSC packet; prints the reply's variables
 *
 * Credentials come from the environment (never argv): RPC_USER, RPC_DOMAIN,
 * RPC_PASSWORD; no RPC_USER means the anonymous logon. Authenticated calls
 * use RPC_C_AUTHN_LEVEL_PKT_PRIVACY. Exit status: 0 success, 3 access denied
 * (bind refused, fault 5 or Win32 5), 4 another error in the reply, 1 other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ndr.h"
#include "rpc_assoc.h"
#include "rpcauth.h"
#include "wdsc.h"
#include "wdsmc/codec.h"

#define TIMEOUT_MS 15000

static int sock = -1;

static int flush(struct wdsmc_rpc_client *c)
{
    const uint8_t *p;
    size_t n;

    while ((n = wdsmc_rpc_client_pending(c, &p)) > 0) {
        ssize_t w = send(sock, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        wdsmc_rpc_client_consume(c, (size_t)w);
    }
    return 0;
}

/* Read and feed until the client leaves `state`. */
static int pump(struct wdsmc_rpc_client *c, enum wdsmc_rpc_client_state state)
{
    uint8_t buf[8192];

    while (wdsmc_rpc_client_state(c) == state) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        int r = poll(&pfd, 1, TIMEOUT_MS);
        if (r == 0)
            return -ETIMEDOUT;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        ssize_t got = recv(sock, buf, sizeof(buf), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0)
            return -ECONNRESET;
        r = wdsmc_rpc_client_input(c, buf, (size_t)got);
        if (r < 0)
            return r;
        if ((r = flush(c)) < 0)
            return r;
    }
    return 0;
}

static void print_wdsc_reply(const uint8_t *pkt, size_t len)
{
    struct wdsmc_wdsc_pkt p;
    int r = wdsmc_wdsc_decode(pkt, len, &p);

    if (r < 0) {
        printf("reply: undecodable (%s)\n", wdsmc_strerror(r));
        return;
    }
    printf("error %" PRIu32 "\n", p.opcode);
    for (uint32_t i = 0; i < p.n_vars; i++) {
        const struct wdsmc_wdsc_var *v = &p.vars[i];
        uint32_t base = v->type & 0xffff;
        printf("%s = ", v->name);
        if (base == WDSMC_WDSC_VAR_ULONG && v->size == 4)
            printf("%" PRIu32, (uint32_t)(v->value[0] | v->value[1] << 8 | v->value[2] << 16 |
                                          (uint32_t)v->value[3] << 24));
        else if (base == WDSMC_WDSC_VAR_ULONG64 && v->size == 8) {
            uint64_t x = 0;
            for (int k = 7; k >= 0; k--)
                x = x << 8 | v->value[k];
            printf("%" PRIu64, x);
        } else if (base == WDSMC_WDSC_VAR_WSTRING) {
            char s[4096];
            if (v->size >= 2 && wdsmc_utf16le_to_utf8(v->value, v->size / 2 - 1, s, sizeof(s)) >= 0)
                printf("%s", s);
        } else {
            for (size_t k = 0; k < v->size; k++)
                printf("%02x", v->value[k]);
        }
        printf("\n");
    }
    wdsmc_wdsc_pkt_fini(&p);
}

int main(int argc, char **argv)
{
    static const struct wdsmc_dcerpc_syntax mgmt = {
            .uuid = WDSMC_UUID_INIT(0xafa8bd80, 0x7d8a, 0x11c9, 0xbe, 0xf4, 0x08, 0x00, 0x2b, 0x10,
                                    0x29, 0x89),
            .version = 1};
    static const struct wdsmc_dcerpc_syntax wds = {
            .uuid = WDSMC_UUID_INIT(0x1a927394, 0x352e, 0x4553, 0xae, 0x3f, 0x7c, 0xf4, 0xaa, 0xfc,
                                    0xa6, 0x20),
            .version = 1};

    if (argc < 5) {
        fprintf(stderr, "usage: rpc_call HOST PORT ntlm|spnego|none mgmt|enumerate|initiate NS "
                        "CONTENT\n");
        return 2;
    }
    const char *cmd = argv[4];
    bool is_mgmt = !strcmp(cmd, "mgmt");
    struct wdsmc_rpcauth_client_cfg acfg = {
            .user = getenv("RPC_USER"),
            .domain = getenv("RPC_DOMAIN"),
            .password = getenv("RPC_PASSWORD"),
            .workstation = "RPCCALL",
    };
    struct wdsmc_rpcauth *auth = NULL;
    int r = 0;
    if (!strcmp(argv[3], "ntlm"))
        r = wdsmc_rpcauth_ntlm_client_new(&acfg, &auth);
    else if (!strcmp(argv[3], "spnego"))
        r = wdsmc_rpcauth_spnego_client_new(&acfg, &auth);
    else if (strcmp(argv[3], "none")) {
        fprintf(stderr, "rpc_call: unknown auth '%s'\n", argv[3]);
        return 2;
    }
    if (r < 0) {
        fprintf(stderr, "rpc_call: provider: %s\n", strerror(-r));
        return 1;
    }

    /* The request stub. */
    uint8_t *stub = NULL, *pkt = NULL;
    size_t stub_len = 0, pkt_len = 0;
    if (!strcmp(cmd, "initiate") && argc == 7) {
        struct wdsmc_wdsc_initiate_req ir = {.has_cap = true, .cap = WDSMC_WDSC_CAP_DEFAULT};
        snprintf(ir.ns, sizeof(ir.ns), "%s", argv[5]);
        snprintf(ir.content, sizeof(ir.content), "%s", argv[6]);
        snprintf(ir.client, sizeof(ir.client), "RPCCALL");
        r = wdsmc_wdsc_initiate_req_build(&ir, &pkt, &pkt_len);
    } else if (!strcmp(cmd, "enumerate")) {
        struct wdsmc_wdsc_img_enum_req er = {.version = 1};
        r = wdsmc_wdsc_img_enum_req_build(&er, &pkt, &pkt_len);
    } else if (!is_mgmt) {
        fprintf(stderr, "rpc_call: bad command\n");
        return 2;
    }
    if (r == 0 && pkt)
        r = wdsmc_wdsc_rpc_request(pkt, pkt_len, &stub, &stub_len);
    free(pkt);
    if (r < 0) {
        fprintf(stderr, "rpc_call: request: %s\n", wdsmc_strerror(r));
        return 1;
    }

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "rpc_call: bad host\n");
        return 2;
    }
    sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "rpc_call: connect: %s\n", strerror(errno));
        return 1;
    }
    struct wdsmc_rpc_client_cfg ccfg = {
            .iface = is_mgmt ? mgmt : wds,
            .auth = auth,
            .auth_level = auth ? WDSMC_RPC_LEVEL_PKT_PRIVACY : 0,
            .auth_context_id = 1,
    };
    struct wdsmc_rpc_client *c = NULL;
    int status = 1;
    if ((r = wdsmc_rpc_client_new(&ccfg, &c)) < 0 || (r = wdsmc_rpc_client_bind(c)) < 0 ||
        (r = flush(c)) < 0 || (r = pump(c, WDSMC_RPC_CLIENT_BINDING)) < 0 ||
        (r = pump(c, WDSMC_RPC_CLIENT_ALTERING)) < 0) {
        fprintf(stderr, "rpc_call: bind: %s\n", wdsmc_strerror(r));
        status = r == -EACCES ? 3 : 1;
        goto out;
    }
    if (wdsmc_rpc_client_state(c) != WDSMC_RPC_CLIENT_READY) {
        fprintf(stderr, "rpc_call: bind: %s\n", wdsmc_strerror(wdsmc_rpc_client_error(c)));
        status = wdsmc_rpc_client_error(c) == -EACCES ? 3 : 1;
        goto out;
    }
    printf("bound%s\n", auth ? " at PKT_PRIVACY" : "");
    printf("request_stub ");
    for (size_t k = 0; k < stub_len; k++)
        printf("%02x", stub[k]);
    printf("\n");
    if ((r = wdsmc_rpc_client_call(c, 0, stub, stub_len)) < 0 || (r = flush(c)) < 0 ||
        (r = pump(c, WDSMC_RPC_CLIENT_CALLING)) < 0) {
        fprintf(stderr, "rpc_call: call: %s\n", wdsmc_strerror(r));
        status = r == -EACCES ? 3 : 1;
        goto out;
    }
    uint8_t *res = NULL;
    size_t res_len = 0;
    r = wdsmc_rpc_client_take_result(c, &res, &res_len);
    if (r < 0) {
        fprintf(stderr, "rpc_call: fault: %s\n", wdsmc_strerror(r));
        status = r == -EACCES ? 3 : 1;
        goto out;
    }
    printf("response_stub ");
    for (size_t k = 0; k < res_len; k++)
        printf("%02x", res[k]);
    printf("\n");
    if (is_mgmt) {
        /* rpc_if_id_vector_p_t (C706 appendix Q): referent, count,
         * [count] conformance, count referents, then each rpc_if_id_t
         * (uuid, vers_major, vers_minor), then the error_status_t. */
        uint32_t st = res_len >= 4 ? ndr_get32(res + res_len - 4) : 1;
        printf("status %" PRIu32 ", %zu stub bytes\n", st, res_len);
        if (res_len >= 12 && ndr_get32(res) != 0) {
            uint32_t n = ndr_get32(res + 4);
            size_t off = 12 + 4 * (size_t)n;
            for (uint32_t i = 0; i < n && off + 20 <= res_len; i++, off += 20) {
                const uint8_t *u = res + off;
                printf("if_id %08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x v%u.%u\n",
                       ndr_get32(u), u[4] | u[5] << 8, u[6] | u[7] << 8, u[8], u[9], u[10], u[11],
                       u[12], u[13], u[14], u[15], u[16] | u[17] << 8, u[18] | u[19] << 8);
            }
        }
        status = st == 0 ? 0 : 4;
    } else {
        const uint8_t *rp;
        size_t rp_len;
        r = wdsmc_wdsc_rpc_reply(res, res_len, &rp, &rp_len);
        if (r < 0) {
            printf("WdsRpcMessage: %s\n", wdsmc_strerror(r));
            status = r == -EACCES ? 3 : 4;
        } else {
            print_wdsc_reply(rp, rp_len);
            struct wdsmc_wdsc_pkt p;
            status = 0;
            if (wdsmc_wdsc_decode(rp, rp_len, &p) == 0) {
                status = p.opcode == 0 ? 0 : p.opcode == WDSMC_WIN32_ACCESS_DENIED ? 3 : 4;
                wdsmc_wdsc_pkt_fini(&p);
            }
        }
    }
    free(res);
out:
    wdsmc_rpc_client_free(c);
    wdsmc_rpcauth_free(auth);
    free(stub);
    close(sock);
    return status;
}
