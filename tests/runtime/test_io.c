/* TCP, DNS and file I/O of the runtime on loopback and a temporary directory, written async;
 * sync_test_io.c is its generated blocking twin. */
#include <unasync/async.h>
/* The libuv adapter. An escape hatch until the transformer redirects this include by the
 * runtime's rule map (unasync/async_uv.h -> unasync/sync_uv.h). */
#if UNASYNC_ASYNC
#include <unasync/async_uv.h>
#else
#include <unasync/sync_uv.h>
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "redis_server.h"

enum { NCLIENTS = 6, NCHUNKS = 32, CHUNK = 1024 };

/* Reads exactly len bytes. */
static async int read_full(async_tcp_t *c, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        int rc = await async_tcp_read(c, buf + got, len - got, &n);
        if (rc != 0)
            return rc;
        if (n == 0)
            return -1;
        got += n;
    }
    return 0;
}

/* ---- TCP echo ---- */

static async int echo_conn(void *arg)
{
    async_tcp_t *c = arg;
    char buf[4096];
    for (;;) {
        size_t n = 0;
        if (await async_tcp_read(c, buf, sizeof buf, &n) != 0 || n == 0)
            break;
        if (await async_tcp_write(c, buf, n) != 0)
            break;
    }
    return await async_tcp_close(c);
}

static async int echo_server(void *arg)
{
    async_tcp_t *server = arg;
    async_task_t *conns[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        async_tcp_t *c = NULL;
        CHECK_RC(await async_tcp_accept(server, &c), 0);
        conns[i] = async_spawn(echo_conn, c);
        CHECK(conns[i] != NULL);
    }
    for (int i = 0; i < NCLIENTS; i++)
        CHECK_RC(await async_join(conns[i], NULL), 0);
    return 0;
}

static async int echo_client(void *arg)
{
    int port = (int)(intptr_t)arg;
    struct sockaddr_in addr = loopback_addr(port);
    async_tcp_t *c = NULL;
    CHECK_RC(await async_tcp_connect(&c, (const struct sockaddr *)&addr), 0);
    char out[CHUNK], in[CHUNK];
    for (int i = 0; i < NCHUNKS; i++) {
        for (int j = 0; j < CHUNK; j++)
            out[j] = (char)(i * 31 + j + port);
        CHECK_RC(await async_tcp_write(c, out, sizeof out), 0);
        CHECK_RC(await read_full(c, in, sizeof in), 0);
        CHECK(memcmp(in, out, sizeof out) == 0);
    }
    CHECK_RC(await async_tcp_shutdown(c), 0);
    size_t n = 1;
    CHECK_RC(await async_tcp_read(c, in, sizeof in, &n), 0);
    CHECK(n == 0); /* the server closed after our shutdown */
    CHECK_RC(await async_tcp_close(c), 0);
    return 0;
}

static async int echo_main(void *arg)
{
    struct sockaddr_in addr = loopback_addr(0);
    async_tcp_t *server = NULL;
    CHECK_RC(async_tcp_listen(&server, (const struct sockaddr *)&addr, 16), 0);
    int port = 0;
    CHECK_RC(async_tcp_port(server, &port), 0);
    CHECK(port > 0);
    async_task_t *srv = async_spawn(echo_server, server);
    async_task_t *clients[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        clients[i] = async_spawn(echo_client, (void *)(intptr_t)port);
    for (int i = 0; i < NCLIENTS; i++) {
        int result = -1;
        CHECK_RC(await async_join(clients[i], &result), 0);
        CHECK(result == 0);
    }
    int result = -1;
    CHECK_RC(await async_join(srv, &result), 0);
    CHECK(result == 0);
    CHECK_RC(await async_tcp_close(server), 0);
    return 0;
}

static void tcp_echo_serves_concurrent_clients(void **state)
{
    assert_int_equal(async_run(echo_main, NULL), 0);
}

static async int refused_main(void *arg)
{
    struct sockaddr_in addr = loopback_addr(0);
    async_tcp_t *server = NULL;
    CHECK_RC(async_tcp_listen(&server, (const struct sockaddr *)&addr, 1), 0);
    int port = 0;
    CHECK_RC(async_tcp_port(server, &port), 0);
    CHECK_RC(await async_tcp_close(server), 0);
    addr = loopback_addr(port);
    async_tcp_t *c = NULL;
    CHECK_RC(await async_tcp_connect(&c, (const struct sockaddr *)&addr), -ECONNREFUSED);
    CHECK(c == NULL);
    return 0;
}

static void tcp_connect_to_a_closed_port_is_refused(void **state)
{
    assert_int_equal(async_run(refused_main, NULL), 0);
}

/* ---- TCP timeouts and cancellation ---- */

struct pair {
    async_tcp_t *server, *a, *b; /* a and b are the two ends of one connection */
};

static async int accept_one(void *arg)
{
    struct pair *p = arg;
    return await async_tcp_accept(p->server, &p->b);
}

static async int make_pair(struct pair *p)
{
    struct sockaddr_in addr = loopback_addr(0);
    CHECK_RC(async_tcp_listen(&p->server, (const struct sockaddr *)&addr, 4), 0);
    int port = 0;
    CHECK_RC(async_tcp_port(p->server, &port), 0);
    async_task_t *acceptor = async_spawn(accept_one, p);
    addr = loopback_addr(port);
    CHECK_RC(await async_tcp_connect(&p->a, (const struct sockaddr *)&addr), 0);
    int result = -1;
    CHECK_RC(await async_join(acceptor, &result), 0);
    CHECK_RC(result, 0);
    return 0;
}

static async int blocked_reader(void *arg)
{
    async_tcp_t *c = arg;
    char buf[16];
    size_t n = 0;
    CHECK_RC(await async_tcp_read(c, buf, sizeof buf, &n), UNASYNC_ECANCELED);
    /* The connection is still usable and the cancellation is spent. */
    CHECK_RC(await async_tcp_read(c, buf, sizeof buf, &n), 0);
    CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
    return 0;
}

static async int blocked_acceptor(void *arg)
{
    async_tcp_t *server = arg;
    async_tcp_t *c = NULL;
    CHECK_RC(await async_tcp_accept(server, &c), UNASYNC_ECANCELED);
    CHECK(c == NULL);
    return 0;
}

static async int cancel_io_main(void *arg)
{
    struct pair p;
    memset(&p, 0, sizeof p);
    int rc = await make_pair(&p);
    if (rc != 0)
        return rc;
    char buf[16];
    size_t n = 1;
    CHECK_RC(await async_tcp_read_timed(p.b, buf, sizeof buf, &n, 10), UNASYNC_ETIMEDOUT);
    CHECK(n == 0);

    async_task_t *reader = async_spawn(blocked_reader, p.b);
    CHECK_RC(await async_sleep_ms(5), 0);
    CHECK_RC(async_cancel(reader), 0);
    CHECK_RC(await async_sleep_ms(5), 0);
    CHECK_RC(await async_tcp_write(p.a, "ping", 4), 0);
    int result = -1;
    CHECK_RC(await async_join(reader, &result), 0);
    CHECK(result == 0);

    async_task_t *acceptor = async_spawn(blocked_acceptor, p.server);
    CHECK_RC(await async_sleep_ms(5), 0);
    CHECK_RC(async_cancel(acceptor), 0);
    CHECK_RC(await async_join(acceptor, &result), 0);
    CHECK(result == 0);

    CHECK_RC(await async_tcp_close(p.a), 0);
    CHECK_RC(await async_tcp_close(p.b), 0);
    CHECK_RC(await async_tcp_close(p.server), 0);
    return 0;
}

static void tcp_read_and_accept_time_out_and_cancel(void **state)
{
    assert_int_equal(async_run(cancel_io_main, NULL), 0);
}

/* ---- DNS ---- */

static async int dns_main(void *arg)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    CHECK_RC(await async_getaddrinfo("localhost", "80", &hints, &res), 0);
    int found = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
        if (sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(sin->sin_port) == 80)
            found = 1;
    }
    async_freeaddrinfo(res);
    CHECK(found);
    res = NULL;
    CHECK_RC(await async_getaddrinfo("localhost", "no-such-service-here", &hints, &res),
             UNASYNC_ENOTFOUND);
    CHECK(res == NULL);
    return 0;
}

static void dns_resolves_localhost_to_loopback(void **state)
{
    assert_int_equal(async_run(dns_main, NULL), 0);
}

/* ---- files ---- */

static async int file_main(void *arg)
{
    const char *dir = arg;
    char path[512];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    static char out[10000], in[12000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i * 7);
    int fd = -1;
    CHECK_RC(await async_file_open(path, O_CREAT | O_TRUNC | O_RDWR, 0600, &fd), 0);
    size_t n = 0;
    CHECK_RC(await async_file_write(fd, out, sizeof out, 0, &n), 0);
    CHECK(n == sizeof out);
    CHECK_RC(await async_file_read(fd, in, sizeof in, 0, &n), 0);
    CHECK(n == sizeof out && memcmp(in, out, sizeof out) == 0);
    CHECK_RC(await async_file_read(fd, in, sizeof in, (int64_t)sizeof out, &n), 0);
    CHECK(n == 0); /* end of file */
    CHECK_RC(await async_file_close(fd), 0);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_RC(await async_file_open(path, O_RDONLY, 0, &fd), -ENOENT);
    CHECK(fd == -1);
    return 0;
}

static void file_round_trip_reads_back_what_was_written(void **state)
{
    char dir[] = "/tmp/unasync-rt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int rc = async_run(file_main, dir);
    char path[512];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    unlink(path);
    rmdir(dir);
    assert_int_equal(rc, 0);
}

/* ---- an adapter over a libuv request (the recipe of docs/runtime.md) ---- */

struct stat_req {
    uv_fs_t req;
    const char *path;
};

static void on_stat(uv_fs_t *req)
{
    async_req_done((uv_req_t *)req, (int)req->result);
}

static int start_stat(uv_loop_t *loop, uv_req_t *req, void *arg)
{
    return uv_fs_stat(loop, (uv_fs_t *)req, ((struct stat_req *)arg)->path, on_stat);
}

/* The size of the file at path, through libuv's thread pool. */
static async int file_size(const char *path, int64_t *size)
{
    struct stat_req r = {.path = path};
    int rc = await async_await_req((uv_req_t *)&r.req, start_stat, &r);
    if (rc == 0)
        *size = (int64_t)r.req.statbuf.st_size;
    uv_fs_req_cleanup(&r.req);
    return rc;
}

static async int adapter_main(void *arg)
{
    const char *dir = arg;
    char path[512];
    snprintf(path, sizeof path, "%s/sized", dir);
    int fd = -1;
    size_t n = 0;
    CHECK_RC(await async_file_open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600, &fd), 0);
    CHECK_RC(await async_file_write(fd, "twelve bytes", 12, 0, &n), 0);
    CHECK_RC(await async_file_close(fd), 0);
    int64_t size = -1;
    CHECK_RC(await file_size(path, &size), 0);
    CHECK(size == 12);
    snprintf(path, sizeof path, "%s/absent", dir);
    CHECK_RC(await file_size(path, &size), -ENOENT);
    CHECK(async_loop() != NULL);
    return 0;
}

static void adapter_awaits_any_libuv_request(void **state)
{
    char dir[] = "/tmp/unasync-rt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int rc = async_run(adapter_main, dir);
    char path[512];
    snprintf(path, sizeof path, "%s/sized", dir);
    unlink(path);
    rmdir(dir);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_echo_serves_concurrent_clients),
        cmocka_unit_test(tcp_connect_to_a_closed_port_is_refused),
        cmocka_unit_test(tcp_read_and_accept_time_out_and_cancel),
        cmocka_unit_test(dns_resolves_localhost_to_loopback),
        cmocka_unit_test(file_round_trip_reads_back_what_was_written),
        cmocka_unit_test(adapter_awaits_any_libuv_request),
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async io" : "runtime sync io",
                                       tests, NULL, NULL);
}
