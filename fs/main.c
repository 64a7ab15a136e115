/* SPDX-License-Identifier: MIT */
/*
 * wdsfs: mount WDS multicast images as read-only files.
 *
 * Start-up order, so that every error reaches the terminal and the exit
 * status: parse; fork (unless -f; the parent waits for the child's verdict
 * and exits with it); initiate every image (MS-WDSMSI) and open its spool;
 * mount; report success; then serve. One libuv loop runs everything: the
 * FUSE fd is polled with uv_poll, so no locks and no thread per waiting read.
 *
 * Stopping (SIGTERM, SIGINT, SIGHUP or unmount): parked reads get ECANCELED,
 * every session is cancelled (LEAVE), the mount is detached, spools are
 * committed (fdatasync, then bitmap), and the process exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "add.h"
#include "image.h"
#include "log.h"
#include "ops.h"
#include "options.h"
#include "statuscmd.h"
#include "tree.h"
#include "wdsfs.h"
#include "wdsmc/catalog.h"

#define DRAIN_INTERVAL_MS 50
#define DRAIN_LIMIT_MS    5000 /* longest wait for LEAVEs and spool commits */
#define REQUESTS_PER_WAKE 64

struct daemon {
    struct wdsfs fs;
    uv_loop_t loop;
    uv_poll_t poll;
    uv_timer_t tick;
    uv_timer_t drain;
    uv_signal_t sig[3];
    struct fuse_buf buf;
    uint64_t last_tick;
    uint64_t drain_start;
    bool handles_up;
    bool polling;
    bool poll_open;
    bool unmounted;
    int report_fd; /* pipe to the waiting parent, -1 in the foreground */
    bool add_done;
    int add_err;
};

static void close_handle(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stop serving and detach the mount. The poll handle goes first: unmounting
 * closes the FUSE fd, and its number must not be reused under a live handle.
 * Requests still queued in the kernel then fail with ENOTCONN. */
static void unmount(struct daemon *d)
{
    if (d->polling || d->poll_open) {
        uv_close((uv_handle_t *)&d->poll, NULL);
        d->polling = false;
        d->poll_open = false;
    }
    if (d->unmounted || !d->fs.se)
        return;
    d->unmounted = true;
    /* Also when the kernel already unmounted: it then only closes the fd. */
    fuse_session_unmount(d->fs.se);
}

static void drain_check(uv_timer_t *t)
{
    struct daemon *d = t->data;
    struct wdsfs *fs = &d->fs;
    bool idle = fs->live_sessions == 0 && fs->persists_in_flight == 0;
    bool late = uv_now(&d->loop) - d->drain_start >= DRAIN_LIMIT_MS;
    if (!idle && !late)
        return;
    if (!idle)
        wdsfs_log(LOG_WARNING, "stopping without waiting for %u session(s)", fs->live_sessions);
    wdsfs_sessions_close_all(fs);
    uv_timer_stop(&d->drain);
    /* Our own handles; sessions close theirs from their timers, and any spool
     * commit still on the thread pool keeps the loop alive until done. */
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->drain, NULL);
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&d->sig[i], NULL);
}

static void shutdown_begin(struct daemon *d, const char *why)
{
    struct wdsfs *fs = &d->fs;
    if (fs->shutting_down)
        return;
    fs->shutting_down = true;
    wdsfs_log(LOG_INFO, "stopping: %s", why);
    for (size_t i = 0; i < fs->nimages; i++)
        wdsfs_image_shutdown(fs->images[i]);
    wdsfs_sessions_cancel_all(fs);
    /* Parked readers have their answer; detach the mount now, so nothing new
     * can open while sessions say goodbye. */
    unmount(d);
    d->drain_start = uv_now(&d->loop);
    uv_timer_start(&d->drain, drain_check, 0, DRAIN_INTERVAL_MS);
}

static void on_fuse(uv_poll_t *p, int status, int events)
{
    struct daemon *d = p->data;
    struct fuse_session *se = d->fs.se;
    for (int i = 0; i < REQUESTS_PER_WAKE; i++) {
        int r = fuse_session_receive_buf(se, &d->buf);
        if (r == -EAGAIN || r == -EINTR)
            return;
        if (r <= 0 || fuse_session_exited(se)) {
            if (r < 0)
                wdsfs_log(LOG_ERR, "reading /dev/fuse: %s", strerror(-r));
            uv_poll_stop(p);
            d->polling = false;
            shutdown_begin(d, "unmounted");
            return;
        }
        fuse_session_process_buf(se, &d->buf);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    shutdown_begin(d, strsignal(signum));
}

static void on_tick(uv_timer_t *t)
{
    struct daemon *d = t->data;
    uint64_t now = uv_now(&d->loop);
    double secs = (double)(now - d->last_tick) / 1000.0;
    d->last_tick = now;
    for (size_t i = 0; i < d->fs.nimages; i++)
        wdsfs_image_tick(d->fs.images[i], secs);
}

static void on_mount_added(void *ctx, int err, const char *msg)
{
    struct daemon *d = ctx;
    d->add_done = true;
    d->add_err = err;
    if (err < 0)
        fprintf(stderr, "wdsfs: %s\n", msg ? msg : strerror(-err));
}

/* Fork; the parent waits for one status byte from the child and exits with
 * it, so `mount` sees failures of the initiation and of the mount itself. */
static int daemonize(struct daemon *d)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        close(pfd[1]);
        unsigned char code = 1;
        ssize_t r;
        do
            r = read(pfd[0], &code, 1);
        while (r < 0 && errno == EINTR);
        _exit(r == 1 ? code : 1);
    }
    close(pfd[0]);
    d->report_fd = pfd[1];
    if (setsid() < 0)
        return -errno;
    return 0;
}

static void report(struct daemon *d, unsigned char code)
{
    if (d->report_fd < 0)
        return;
    ssize_t r;
    do
        r = write(d->report_fd, &code, 1);
    while (r < 0 && errno == EINTR);
    close(d->report_fd);
    d->report_fd = -1;
}

static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

static int add_fuse_opt(struct fuse_args *args, const char *name, const char *value)
{
    char buf[600];
    if ((size_t)snprintf(buf, sizeof(buf), "-o%s=%s", name, value) >= sizeof(buf))
        return -ENAMETOOLONG;
    return fuse_opt_add_arg(args, buf) < 0 ? -ENOMEM : 0;
}

static int start_serving(struct daemon *d, struct fuse_args *args)
{
    struct wdsfs *fs = &d->fs;
    const struct wdsfs_options *o = fs->opts;
    if (add_fuse_opt(args, "subtype", "wdsfs") < 0 ||
        add_fuse_opt(args, "fsname", fs->server_label) < 0 ||
        (o->debug && fuse_opt_add_arg(args, "-odebug") < 0))
        return -ENOMEM;
    fs->se = fuse_session_new(args, &wdsfs_ops, sizeof(wdsfs_ops), fs);
    if (!fs->se)
        return -EINVAL; /* libfuse said why */
    if (fuse_session_mount(fs->se, o->mountpoint) != 0) {
        fuse_session_destroy(fs->se);
        fs->se = NULL;
        return -EIO;
    }
    int r = uv_poll_init(&d->loop, &d->poll, fuse_session_fd(fs->se));
    if (r < 0)
        return r;
    d->poll.data = d;
    d->poll_open = true;
    uv_poll_start(&d->poll, UV_READABLE, on_fuse);
    d->polling = true;
    uv_timer_init(&d->loop, &d->tick);
    d->tick.data = d;
    d->last_tick = uv_now(&d->loop);
    uv_timer_start(&d->tick, on_tick, 1000, 1000);
    uv_timer_init(&d->loop, &d->drain);
    d->drain.data = d;
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, &d->sig[i]);
        d->sig[i].data = d;
        uv_signal_start(&d->sig[i], on_signal, sigs[i]);
    }
    d->handles_up = true;
    return 0;
}

/* A path component from a server-given name: '/' is not allowed in one. */
static char *component(const char *s)
{
    char *c = strdup(s ? s : "");
    if (!c)
        return NULL;
    for (char *p = c; *p; p++)
        if (*p == '/' || *p == '\n')
            *p = '_';
    if (!*c || !strcmp(c, ".") || !strcmp(c, "..") || !strcmp(c, ".wdsfs")) {
        free(c);
        errno = EINVAL; /* unusable, where strdup says ENOMEM */
        return NULL;
    }
    return c;
}

static int add_catalog_spec(struct wdsfs_options *o, const char *ns, const char *dir,
                            const char *content)
{
    if (!content)
        return 0;
    /* The file name as it will stand in the directory; a name that cannot
     * be one is left out. */
    char *c = component(content);
    if (!c)
        return errno == ENOMEM ? -ENOMEM : 0;
    for (size_t i = 0; i < o->nspecs; i++) {
        if (!strcmp(o->specs[i].dir, dir) && !strcmp(o->specs[i].content, c)) {
            free(c);
            return 0;
        }
    }
    if (o->nspecs >= WDSFS_MAX_SPECS) {
        free(c);
        return -E2BIG;
    }
    struct wdsfs_image_spec *s = &o->specs[o->nspecs];
    s->ns = strdup(ns);
    s->dir = strdup(dir);
    s->content = c;
    if (!s->ns || !s->dir) {
        free(s->ns);
        free(s->dir);
        free(s->content);
        memset(s, 0, sizeof(*s));
        return -ENOMEM;
    }
    o->nspecs++;
    return 0;
}

/*
 * No --image but credentials: enumerate the server's images (MS-WDSOSD
 * WDS_OP_IMG_ENUMERATE) and mount each multicast-enabled one as
 * GROUP/FILE/INDEX/CONTENT, for the image file and the group's resource
 * file, under the namespace the server reports. The others are listed in
 * .wdsfs/status.
 */
static int catalog_specs(struct wdsfs_options *o)
{
    struct wdsmc_catalog_request req = {
            .server = o->server,
            .rpc_port = (uint16_t)o->rpc_port,
            .user = o->cred.user,
            .domain = o->cred.domain,
            .password = o->cred.password,
            .anonymous = o->anonymous,
            .auth = (enum wdsmc_auth)o->auth,
    };
    struct wdsmc_catalog *cat = NULL;
    uv_loop_t loop;
    int r;

    if ((r = uv_loop_init(&loop)) < 0) {
        fprintf(stderr, "wdsfs: cannot list images: %s\n", uv_strerror(r));
        return r;
    }
    r = wdsmc_catalog_get(&loop, &req, &cat);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (r < 0) {
        fprintf(stderr, "wdsfs: %s: cannot list images: %s\n", o->server,
                r == -EACCES ? "access denied (check --user and the password file)"
                             : wdsmc_strerror(r));
        return r;
    }
    for (size_t i = 0; i < cat->n_images && r == 0; i++) {
        const struct wdsmc_catalog_image *m = &cat->images[i];
        char *group = component(m->group), *file = component(m->file), *dir = NULL;
        if (!group || !file || asprintf(&dir, "%s/%s/%" PRIu32, group, file, m->index) < 0) {
            fprintf(stderr, "wdsfs: skipping an image with an unusable name (%s/%s)\n",
                    m->group ? m->group : "", m->file ? m->file : "");
            free(group);
            free(file);
            continue;
        }
        if (m->ns) {
            r = add_catalog_spec(o, m->ns, dir, m->file);
            if (r == 0 && m->res_file)
                r = add_catalog_spec(o, m->ns, dir, m->res_file);
        } else {
            char **nm = realloc(o->not_multicast, (o->n_not_multicast + 1) * sizeof(*nm));
            if (nm) {
                o->not_multicast = nm;
                nm[o->n_not_multicast++] = dir;
                dir = NULL;
            } else {
                r = -ENOMEM;
            }
        }
        free(dir);
        free(group);
        free(file);
    }
    wdsmc_catalog_free(cat);
    if (r == -E2BIG)
        fprintf(stderr, "wdsfs: the server has more than %d image files; mounting the first\n",
                WDSFS_MAX_SPECS);
    else if (r < 0)
        fprintf(stderr, "wdsfs: cannot list images: %s\n", strerror(-r));
    return r == -E2BIG ? 0 : r;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct wdsfs_options opts;
    memset(&opts, 0, sizeof(opts));
    int exit_code = 1;
    int r = wdsfs_options_parse(&args, &opts);
    if (r < 0) {
        fprintf(stderr, "Try '%s --help'.\n", argv[0]);
        goto out_args;
    }
    if (opts.help) {
        wdsfs_usage(argv[0]);
        exit_code = 0;
        goto out_args;
    }
    if (opts.version) {
        printf("wdsfs %s (libfuse %s, libuv %s)\n", WDSFS_VERSION, fuse_pkgversion(),
               uv_version_string());
        exit_code = 0;
        goto out_args;
    }
    if (opts.status) {
        exit_code = wdsfs_statuscmd(opts.mountpoint, opts.watch);
        goto out_args;
    }

    static struct daemon d;
    d.report_fd = -1;
    struct wdsfs *fs = &d.fs;
    fs->opts = &opts;
    fs->owner = getuid();
    LIST_INIT(&fs->sessions);
    LIST_INIT(&fs->fhs);
    fs->source_ops = opts.fake_dir ? &wdsfs_source_fake_ops : wdsfs_source_wdsmc_ops;
    if (!fs->source_ops) {
        fprintf(stderr, "wdsfs: this build has no network source (libwdsmc without the client "
                        "session)\n");
        goto out_args;
    }
    if (strchr(opts.server, ':'))
        snprintf(fs->server_label, sizeof(fs->server_label), "[%s]:%u", opts.server,
                 opts.port ? opts.port : 5041);
    else
        snprintf(fs->server_label, sizeof(fs->server_label), "%s:%u", opts.server,
                 opts.port ? opts.port : 5041);
    fs->source_cfg = (struct wdsfs_source_config){
            .server = opts.server,
            .port = opts.port,
            .interface = opts.interface,
            .timeout_ms = opts.timeout * 1000,
            .fake_dir = opts.fake_dir,
            .fake_block = opts.fake_block,
            .fake_rate = opts.fake_rate,
            .fake_seed = opts.fake_seed,
            .initiation = opts.initiation,
            .rpc_port = (uint16_t)opts.rpc_port,
            .user = opts.cred.user,
            .domain = opts.cred.domain,
            .password = opts.cred.password,
            .anonymous = opts.anonymous,
            .auth = opts.auth,
    };
    struct stat st;
    if (stat(opts.mountpoint, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "wdsfs: %s: not a directory\n", opts.mountpoint);
        goto out_args;
    }
    if (opts.nspecs == 0 && (opts.cred.user || opts.anonymous) && !opts.fake_dir) {
        if (catalog_specs(&opts) < 0)
            goto out_args;
        fprintf(stderr, "wdsfs: %zu image files from %s's catalog%s\n", opts.nspecs, opts.server,
                opts.n_not_multicast ? " (some images are not multicast-enabled; see .wdsfs/status)"
                                     : "");
    }
    if (opts.nspecs == 0)
        fprintf(stderr, "wdsfs: no images given; add them through %s/.wdsfs/add\n",
                opts.mountpoint);
    signal(SIGPIPE, SIG_IGN);

    /* Before the mount, only problems reach a terminal that is not ours. */
    wdsfs_log_init(false, opts.debug ? LOG_DEBUG : opts.foreground ? LOG_INFO : LOG_WARNING);
    if (!opts.foreground && daemonize(&d) < 0) {
        fprintf(stderr, "wdsfs: cannot daemonize: %s\n", strerror(errno));
        goto out_args;
    }
    if (uv_loop_init(&d.loop) < 0 || wdsfs_tree_new(&fs->tree) < 0) {
        fprintf(stderr, "wdsfs: out of memory\n");
        goto out_report;
    }
    fs->loop = &d.loop;

    /* MS-WDSMSI for every image before mounting: an image the server does
     * not have is an error now, naming it. */
    wdsfs_add_images(fs, opts.specs, opts.nspecs, on_mount_added, &d);
    while (!d.add_done)
        uv_run(&d.loop, UV_RUN_ONCE);
    if (d.add_err < 0)
        goto out_loop;

    r = start_serving(&d, &args);
    if (r < 0) {
        if (r != -EINVAL && r != -EIO)
            fprintf(stderr, "wdsfs: %s\n", strerror(-r));
        goto out_loop;
    }
    wdsfs_log(LOG_INFO, "mounted %s on %s (%zu images, %s)", fs->server_label, opts.mountpoint,
              fs->nimages, opts.stream ? "stream" : opts.cache_dir);
    report(&d, 0);
    if (!opts.foreground) {
        detach_stdio();
        wdsfs_log_init(true, opts.debug ? LOG_DEBUG : LOG_INFO);
        (void)chdir("/");
    }
    if (opts.prefetch)
        for (size_t i = 0; i < fs->nimages; i++)
            (void)wdsfs_image_ensure_session(fs->images[i]);

    uv_run(&d.loop, UV_RUN_DEFAULT);
    exit_code = 0;

out_loop:
    if (!fs->shutting_down) {
        fs->shutting_down = true;
        for (size_t i = 0; i < fs->nimages; i++)
            wdsfs_image_shutdown(fs->images[i]);
        wdsfs_sessions_close_all(fs);
    }
    if (fs->se) {
        unmount(&d);
        fuse_session_destroy(fs->se);
        fs->se = NULL;
    }
    uv_walk(&d.loop, close_handle, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    wdsfs_ops_free_handles(fs);
    for (size_t i = 0; i < fs->nimages; i++)
        wdsfs_image_free(fs->images[i]);
    wdsfs_tree_free(fs->tree);
    free(d.buf.mem);
    if (fs->loop && uv_loop_close(&d.loop) < 0)
        wdsfs_log(LOG_WARNING, "loop still busy at exit");
    if (exit_code == 0)
        wdsfs_log(LOG_INFO, "stopped");
out_report:
    report(&d, (unsigned char)exit_code);
out_args:
    wdsfs_options_free(&opts);
    fuse_opt_free_args(&args);
    return exit_code;
}
