/*  kt_loop_test - the event loop driven step by step with real inproc PAIR sockets,
 *  pipes, timers on real and sim clocks, hooks, caps, stop paths and signals.
 *
 *  No assertion depends on wall durations: sim-clock tests bound the number of
 *  iterations instead (each iteration waits at most a known time). alarm() in main
 *  turns a hang into a failure. */

#include "kt_clock.h"
#include "kt_log.h"
#include "kt_loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>

// ---- shared helpers ------------------------------------------------------------------

struct log_record {
    int order[16]; //  ids of handlers in the order they ran
    int count;
    int stop_after; //  handler returns -1 once count reaches it (0 = never)
};

static void
s_record (struct log_record *rec, int id)
{
    if (rec->count < 16)
        rec->order[rec->count] = id;
    rec->count++;
}

static void
s_pipe (int fds[2])
{
    assert_int_equal (pipe (fds), 0);
}

static void
s_close_pipe (int fds[2])
{
    if (fds[0] >= 0)
        close (fds[0]);
    if (fds[1] >= 0)
        close (fds[1]);
}

// ---- zmq sockets ---------------------------------------------------------------------

struct sock_state {
    int count;
    char last[32];
};

static int
s_on_sock (kt_loop_t *loop, void *zsock, void *arg)
{
    (void) loop;
    struct sock_state *st = arg;
    int n = zmq_recv (zsock, st->last, sizeof st->last - 1, ZMQ_DONTWAIT);
    if (n >= 0) {
        st->last[n < (int) sizeof st->last - 1 ? n : (int) sizeof st->last - 1] = '\0';
        st->count++;
    }
    return 0;
}

static void
test_sock_pair (void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    assert_int_equal (zmq_bind (a, "inproc://kt_loop_test_pair"), 0);
    assert_int_equal (zmq_connect (b, "inproc://kt_loop_test_pair"), 0);

    kt_loop_t *loop = kt_loop_new ();
    struct sock_state st = {0};
    assert_int_equal (kt_loop_sock (loop, b, s_on_sock, &st), 0);
    assert_int_equal (kt_loop_sock (loop, b, s_on_sock, &st), -1); //  duplicate
    assert_int_equal (kt_loop_sock (loop, NULL, s_on_sock, &st), -1);
    assert_int_equal (kt_loop_sock (loop, a, NULL, &st), -1);

    //  Nothing to read: a non-blocking iteration runs nothing.
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (st.count, 0);

    assert_int_equal (zmq_send (a, "hello", 5, 0), 5);
    int ran = 0;
    for (int i = 0; i < 50 && ran == 0; i++)
        ran = kt_loop_run_once (loop, 100);
    assert_int_equal (ran, 1);
    assert_int_equal (st.count, 1);
    assert_string_equal (st.last, "hello");

    //  After sock_end the handler is never called, even with a message waiting.
    kt_loop_sock_end (loop, b);
    kt_loop_sock_end (loop, b); //  safe twice
    assert_int_equal (zmq_send (a, "again", 5, 0), 5);
    assert_int_equal (kt_loop_run_once (loop, 20), 0);
    assert_int_equal (st.count, 1);

    //  Re-registering works and picks up the waiting message.
    assert_int_equal (kt_loop_sock (loop, b, s_on_sock, &st), 0);
    assert_int_equal (kt_loop_run_once (loop, 1000), 1);
    assert_string_equal (st.last, "again");

    kt_loop_destroy (&loop);
    assert_null (loop);
    kt_loop_destroy (&loop); //  safe on NULL
    zmq_close (a);
    zmq_close (b);
    zmq_ctx_term (ctx);
}

static int s_poll_failed_lines;

static void
s_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) line;
    (void) arg;
    if (lvl == KT_LOG_ERROR && strcmp (ev, "loop.poll.failed") == 0)
        s_poll_failed_lines++;
}

static void
test_poll_failure_is_reported (void **state)
{
    (void) state;
    //  A terminated context makes zmq_poll fail: the loop logs once and returns -1
    //  (the process stops) instead of spinning.
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    kt_loop_t *loop = kt_loop_new ();
    struct sock_state st = {0};
    assert_int_equal (kt_loop_sock (loop, a, s_on_sock, &st), 0);
    assert_int_equal (zmq_ctx_shutdown (ctx), 0);
    s_poll_failed_lines = 0;
    kt_log_set_sink (s_sink, NULL);
    assert_int_equal (kt_loop_run (loop), -1);
    kt_log_set_sink (NULL, NULL);
    assert_int_equal (s_poll_failed_lines, 1);
    assert_int_equal (st.count, 0);
    kt_loop_destroy (&loop);
    zmq_close (a);
    zmq_ctx_term (ctx);
}

// ---- raw fds -------------------------------------------------------------------------

struct fd_state {
    int count;
    short revents;
    int eof;
    struct log_record *rec;
    int id;
};

static int
s_on_fd_read (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    struct fd_state *st = arg;
    st->count++;
    st->revents = revents;
    char buf[16];
    ssize_t n = read (fd, buf, sizeof buf);
    if (n == 0)
        st->eof++;
    if (st->rec)
        s_record (st->rec, st->id);
    return 0;
}

static void
test_fd_pipe (void **state)
{
    (void) state;
    int p[2];
    s_pipe (p);
    kt_loop_t *loop = kt_loop_new ();
    struct fd_state st = {0};
    assert_int_equal (kt_loop_fd (loop, p[0], POLLIN, s_on_fd_read, &st), 0);
    assert_int_equal (kt_loop_fd (loop, p[0], POLLIN, s_on_fd_read, &st), -1);
    assert_int_equal (kt_loop_fd (loop, -1, POLLIN, s_on_fd_read, &st), -1);
    assert_int_equal (kt_loop_fd (loop, p[1], POLLOUT, NULL, &st), -1);

    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (write (p[1], "x", 1), 1);
    assert_int_equal (kt_loop_run_once (loop, 1000), 1);
    assert_int_equal (st.count, 1);
    assert_true (st.revents & POLLIN);
    assert_false (st.revents & POLLOUT);

    //  Hang-up: the reader is told it is readable and sees EOF.
    close (p[1]);
    p[1] = -1;
    assert_int_equal (kt_loop_run_once (loop, 1000), 1);
    assert_true (st.revents & POLLIN);
    assert_int_equal (st.eof, 1);

    kt_loop_fd_end (loop, p[0]);
    kt_loop_fd_end (loop, p[0]);  //  safe twice
    kt_loop_fd_end (loop, 12345); //  safe if never registered
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (st.count, 2);
    kt_loop_destroy (&loop);
    s_close_pipe (p);
}

static void
test_fd_events_change (void **state)
{
    (void) state;
    int p[2];
    s_pipe (p);
    kt_loop_t *loop = kt_loop_new ();
    struct fd_state st = {0};
    //  The write end is always writable, but watching nothing means no calls.
    assert_int_equal (kt_loop_fd (loop, p[1], 0, s_on_fd_read, &st), 0);
    assert_int_equal (kt_loop_run_once (loop, 0), 0);

    assert_int_equal (kt_loop_fd_events (loop, p[1], POLLOUT), 0);
    assert_int_equal (kt_loop_run_once (loop, 1000), 1);
    assert_true (st.revents & POLLOUT);
    assert_false (st.revents & POLLIN);

    assert_int_equal (kt_loop_fd_events (loop, p[1], 0), 0);
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (st.count, 1);

    assert_int_equal (kt_loop_fd_events (loop, p[0], POLLIN), -1); //  not registered
    kt_loop_destroy (&loop);
    s_close_pipe (p);
}

//  Removal during dispatch: reader 1 ends reader 2 (both ready in the same round).
struct remove_ctx {
    int p1[2], p2[2];
    int calls1, calls2, calls_new;
};

static int
s_on_remove_other (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) revents;
    struct remove_ctx *ctx = arg;
    char c;
    assert_int_equal (read (fd, &c, 1), 1);
    ctx->calls1++;
    kt_loop_fd_end (loop, ctx->p2[0]);
    return 0;
}

static int
s_on_removed (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) revents;
    (void) fd;
    struct remove_ctx *ctx = arg;
    ctx->calls2++;
    return 0;
}

static void
test_remove_other_during_dispatch (void **state)
{
    (void) state;
    struct remove_ctx ctx = {0};
    s_pipe (ctx.p1);
    s_pipe (ctx.p2);
    kt_loop_t *loop = kt_loop_new ();
    assert_int_equal (kt_loop_fd (loop, ctx.p1[0], POLLIN, s_on_remove_other, &ctx), 0);
    assert_int_equal (kt_loop_fd (loop, ctx.p2[0], POLLIN, s_on_removed, &ctx), 0);
    assert_int_equal (write (ctx.p1[1], "x", 1), 1);
    assert_int_equal (write (ctx.p2[1], "y", 1), 1);
    assert_int_equal (kt_loop_run_once (loop, 1000), 1);
    assert_int_equal (ctx.calls1, 1);
    assert_int_equal (ctx.calls2, 0);
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (ctx.calls2, 0);
    kt_loop_destroy (&loop);
    s_close_pipe (ctx.p1);
    s_close_pipe (ctx.p2);
}

//  A handler replaces itself with a new registration of the same fd and adds many more
//  fds (the reader array grows under the dispatch loop; ASan checks for stale pointers).
static int
s_on_new (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) revents;
    struct remove_ctx *ctx = arg;
    char c;
    if (read (fd, &c, 1) == 1)
        ctx->calls_new++;
    return 0;
}

static int
s_on_replace_self (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) revents;
    struct remove_ctx *ctx = arg;
    ctx->calls1++;
    kt_loop_fd_end (loop, fd);
    assert_int_equal (kt_loop_fd (loop, fd, POLLIN, s_on_new, ctx), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal (kt_loop_fd (loop, 1000 + i, 0, s_on_new, ctx), 0);
    return 0;
}

static void
test_replace_self_during_dispatch (void **state)
{
    (void) state;
    struct remove_ctx ctx = {0};
    s_pipe (ctx.p1);
    s_pipe (ctx.p2);
    kt_loop_t *loop = kt_loop_new ();
    assert_int_equal (kt_loop_fd (loop, ctx.p1[0], POLLIN, s_on_replace_self, &ctx), 0);
    assert_int_equal (kt_loop_fd (loop, ctx.p2[0], POLLIN, s_on_removed, &ctx), 0);
    assert_int_equal (write (ctx.p1[1], "x", 1), 1);
    assert_int_equal (write (ctx.p2[1], "y", 1), 1);
    //  Round 1: the old handler runs once; the new one is not in this round's poll set;
    //  the other reader still runs.
    assert_int_equal (kt_loop_run_once (loop, 1000), 2);
    assert_int_equal (ctx.calls1, 1);
    assert_int_equal (ctx.calls2, 1);
    assert_int_equal (ctx.calls_new, 0);
    //  Round 2: the byte is still in the pipe; the new handler gets it.
    assert_int_equal (kt_loop_run_once (loop, 1000), 2); //  new reader + p2 again
    assert_int_equal (ctx.calls1, 1);
    assert_int_equal (ctx.calls_new, 1);
    for (int i = 0; i < 40; i++)
        kt_loop_fd_end (loop, 1000 + i);
    kt_loop_destroy (&loop);
    s_close_pipe (ctx.p1);
    s_close_pipe (ctx.p2);
}

// ---- timers --------------------------------------------------------------------------

struct timer_ctx {
    struct log_record rec;
    kt_loop_t *loop;
    int ids[8];
    int fire_limit; //  repeat handler ends itself after this many
    int fired;
};

static int
s_on_timer_record (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    ctx->fired++;
    if (ctx->rec.stop_after && ctx->rec.count >= ctx->rec.stop_after)
        return -1;
    return 0;
}

//  Drive a loop until pred(ctx) or max iterations; each waits at most wait_ms.
static void
s_drive (kt_loop_t *loop, struct timer_ctx *ctx, int want, int max_iter, int wait_ms)
{
    for (int i = 0; i < max_iter && ctx->rec.count < want; i++)
        assert_true (kt_loop_run_once (loop, wait_ms) >= 0);
}

static kt_clock_t *
s_fast_clock (int64_t speed)
{
    return kt_clock_new_sim (kt_clock_wall_ns (), kt_clock_wall_ns (), speed * 1000000);
}

static void
test_timer_order (void **state)
{
    (void) state;
    //  20x: due 50, 100 and 150 ms of wall time apart from when each is added, so a
    //  loaded machine that pauses the test between two adds does not reorder them.
    kt_clock_t *clock = s_fast_clock (20);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_clock (loop, clock);
    struct timer_ctx ctx = {0};
    int t30 = kt_loop_timer (loop, 3000, false, s_on_timer_record, &ctx);
    int t10 = kt_loop_timer (loop, 1000, false, s_on_timer_record, &ctx);
    int t20 = kt_loop_timer (loop, 2000, false, s_on_timer_record, &ctx);
    assert_true (t30 > 0 && t10 > 0 && t20 > 0);
    assert_true (t30 != t10 && t10 != t20 && t20 != t30);
    s_drive (loop, &ctx, 3, 1000, 100);
    assert_int_equal (ctx.rec.count, 3);
    assert_int_equal (ctx.rec.order[0], t10);
    assert_int_equal (ctx.rec.order[1], t20);
    assert_int_equal (ctx.rec.order[2], t30);
    //  One-shots are gone: ending them is safe, and nothing fires again.
    kt_loop_timer_end (loop, t10);
    kt_loop_timer_end (loop, 99999);
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (ctx.rec.count, 3);

    assert_int_equal (kt_loop_timer (loop, -1, false, s_on_timer_record, &ctx), -1);
    assert_int_equal (kt_loop_timer (loop, 10, false, NULL, &ctx), -1);
    kt_loop_destroy (&loop);
    kt_clock_destroy (&clock);
}

static void
test_timer_same_due_fires_by_id (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {0};
    //  0 ms one-shots are all due at once; they fire in creation (id) order.
    int a = kt_loop_timer (loop, 0, false, s_on_timer_record, &ctx);
    int b = kt_loop_timer (loop, 0, false, s_on_timer_record, &ctx);
    int c = kt_loop_timer (loop, 0, false, s_on_timer_record, &ctx);
    s_drive (loop, &ctx, 3, 100, 100);
    assert_int_equal (ctx.rec.count, 3);
    assert_true (ctx.rec.order[0] == a && ctx.rec.order[1] == b && ctx.rec.order[2] == c);
    kt_loop_destroy (&loop);
}

static int
s_on_repeat_limited (kt_loop_t *loop, int timer_id, void *arg)
{
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    if (ctx->rec.count == ctx->fire_limit)
        kt_loop_timer_end (loop, timer_id); //  a timer may end itself
    return 0;
}

static void
test_timer_repeat_and_self_end (void **state)
{
    (void) state;
    kt_clock_t *clock = s_fast_clock (1000);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_clock (loop, clock);
    struct timer_ctx ctx = {.fire_limit = 3};
    int id = kt_loop_timer (loop, 500, true, s_on_repeat_limited, &ctx);
    s_drive (loop, &ctx, 3, 1000, 100);
    assert_int_equal (ctx.rec.count, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (ctx.rec.order[i], id);
    //  Ended: more iterations fire nothing.
    for (int i = 0; i < 5; i++)
        assert_int_equal (kt_loop_run_once (loop, 5), 0);
    assert_int_equal (ctx.rec.count, 3);
    kt_loop_destroy (&loop);
    kt_clock_destroy (&clock);
}

static int
s_on_cancel_other (kt_loop_t *loop, int timer_id, void *arg)
{
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    kt_loop_timer_end (loop, ctx->ids[1]);
    return 0;
}

static void
test_timer_cancel (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {0};
    //  Cancelled before it is due.
    int never = kt_loop_timer (loop, 0, true, s_on_timer_record, &ctx);
    kt_loop_timer_end (loop, never);
    //  Both due in the same round: the first cancels the second, which never runs.
    ctx.ids[0] = kt_loop_timer (loop, 0, false, s_on_cancel_other, &ctx);
    ctx.ids[1] = kt_loop_timer (loop, 0, false, s_on_timer_record, &ctx);
    for (int i = 0; i < 5; i++)
        assert_true (kt_loop_run_once (loop, 1) >= 0);
    assert_int_equal (ctx.rec.count, 1);
    assert_int_equal (ctx.rec.order[0], ctx.ids[0]);
    assert_true (never != ctx.ids[0] && never != ctx.ids[1]); //  ids are not reused
    kt_loop_destroy (&loop);
}

static void
test_timer_zero_repeat_does_not_starve (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {0};
    kt_loop_timer (loop, 0, true, s_on_timer_record, &ctx);
    int p[2];
    s_pipe (p);
    struct fd_state st = {0};
    assert_int_equal (kt_loop_fd (loop, p[0], POLLIN, s_on_fd_read, &st), 0);
    assert_int_equal (write (p[1], "x", 1), 1);
    //  One firing per iteration, and readers still get their turn.
    assert_int_equal (kt_loop_run_once (loop, 0), 2);
    assert_int_equal (ctx.rec.count, 1);
    assert_int_equal (st.count, 1);
    assert_int_equal (kt_loop_run_once (loop, 0), 1);
    assert_int_equal (ctx.rec.count, 2);
    kt_loop_destroy (&loop);
    s_close_pipe (p);
}

static int
s_on_add_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    if (ctx->rec.count == 1)
        ctx->ids[0] = kt_loop_timer (loop, 0, false, s_on_timer_record, ctx);
    return 0;
}

static void
test_timer_added_by_timer_waits_a_round (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {0};
    kt_loop_timer (loop, 0, false, s_on_add_timer, &ctx);
    assert_int_equal (kt_loop_run_once (loop, 0), 1);
    assert_int_equal (ctx.rec.count, 1);
    assert_true (ctx.ids[0] > 0);
    assert_int_equal (kt_loop_run_once (loop, 0), 1);
    assert_int_equal (ctx.rec.order[1], ctx.ids[0]);
    kt_loop_destroy (&loop);
}

// ---- sim clock -----------------------------------------------------------------------

static void
test_sim_clock_scales_timers (void **state)
{
    (void) state;
    //  At 1000x a 1000 ms pipeline timer needs ~1 ms of wall time. At real speed it could
    //  not fire within 5 iterations of at most 100 ms each, so firing proves the scaling.
    kt_clock_t *clock = s_fast_clock (1000);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_clock (loop, clock);
    struct timer_ctx ctx = {0};
    kt_loop_timer (loop, 1000, false, s_on_timer_record, &ctx);
    s_drive (loop, &ctx, 1, 5, 100);
    assert_int_equal (ctx.rec.count, 1);
    kt_loop_destroy (&loop);
    kt_clock_destroy (&clock);
}

static void
test_set_clock_rebases_armed_timers (void **state)
{
    (void) state;
    //  Armed on a sim clock (epoch-based ns), then moved to real monotonic time: without
    //  the rebase its due time would lie decades ahead and it would never fire.
    kt_clock_t *clock = s_fast_clock (1);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_clock (loop, clock);
    struct timer_ctx ctx = {0};
    kt_loop_timer (loop, 1, false, s_on_timer_record, &ctx);
    kt_loop_set_clock (loop, NULL);
    s_drive (loop, &ctx, 1, 20, 100);
    assert_int_equal (ctx.rec.count, 1);
    kt_loop_destroy (&loop);
    kt_clock_destroy (&clock);
}

//  Fires of a wall timer over ms of wall time.
static int
s_fires_in (kt_loop_t *loop, struct timer_ctx *ctx, int ms)
{
    int before = ctx->rec.count;
    for (int64_t end = kt_clock_wall_mono_ns () + ms * 1000000LL; kt_clock_wall_mono_ns () < end;)
        assert_true (kt_loop_run_once (loop, 10) >= 0);
    return ctx->rec.count - before;
}

static void
test_wall_timer_follows_speed (void **state)
{
    (void) state;
    //  A paused sim clock (1 ppm, as kite-sim publishes it), then running at 100x: a 50 ms
    //  wall timer fires every ~50 ms of wall time throughout, neither once in ~14 hours
    //  nor spinning (at 100x a 50 ms pipeline period would be 0.5 ms of wall time).
    kt_clock_t *clock = kt_clock_new_sim (kt_clock_wall_ns (), kt_clock_wall_ns (), 1);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_clock (loop, clock);
    struct timer_ctx ctx = {0};
    assert_true (kt_loop_timer_wall (loop, 50, true, s_on_timer_record, &ctx) > 0);
    assert_in_range (s_fires_in (loop, &ctx, 275), 3, 6);
    assert_int_equal (
        kt_clock_set_anchor (clock, kt_clock_wall_ns (), kt_clock_now_ns (clock), 100 * 1000000LL),
        0);
    assert_in_range (s_fires_in (loop, &ctx, 275), 3, 6);
    //  and back to paused
    assert_int_equal (kt_clock_set_anchor (clock, kt_clock_wall_ns (), kt_clock_now_ns (clock), 1),
                      0);
    assert_in_range (s_fires_in (loop, &ctx, 275), 3, 6);
    assert_int_equal (kt_loop_timer_wall (loop, -1, true, s_on_timer_record, &ctx), -1);
    kt_loop_destroy (&loop);
    kt_clock_destroy (&clock);
}

// ---- hooks, caps, run ----------------------------------------------------------------

struct hook_ctx {
    struct log_record rec;
    int iterations;
    int stop_at;
    struct timer_ctx *timers;
};

static void
s_hook_a (kt_loop_t *loop, void *arg)
{
    struct hook_ctx *ctx = arg;
    s_record (&ctx->rec, 1);
    ctx->iterations++;
    if (ctx->stop_at && ctx->iterations >= ctx->stop_at)
        kt_loop_stop (loop);
    //  A hook's work (e.g. a flush) can arm a 0 ms timer that fires in this iteration.
    if (ctx->timers && ctx->iterations == 1)
        kt_loop_timer (loop, 0, false, s_on_timer_record, ctx->timers);
}

static void
s_hook_b (kt_loop_t *loop, void *arg)
{
    (void) loop;
    struct hook_ctx *ctx = arg;
    s_record (&ctx->rec, 2);
}

static void
test_before_sleep_hooks (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx timers = {0};
    struct hook_ctx ctx = {.timers = &timers};
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_a, &ctx), 0);
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_b, &ctx), 0);
    assert_int_equal (kt_loop_before_sleep (loop, NULL, &ctx), -1);
    //  Hooks are not counted as handlers; the timer armed by the hook is.
    assert_int_equal (kt_loop_run_once (loop, 100), 1);
    assert_int_equal (timers.rec.count, 1);
    assert_int_equal (kt_loop_run_once (loop, 0), 0);
    assert_int_equal (ctx.rec.count, 4);
    int want[] = {1, 2, 1, 2};
    for (int i = 0; i < 4; i++)
        assert_int_equal (ctx.rec.order[i], want[i]);
    kt_loop_destroy (&loop);
}

static void
test_hook_stop_does_not_sleep (void **state)
{
    (void) state;
    //  Nothing registered and no cap: the wait would be endless, but a hook asked to stop.
    kt_loop_t *loop = kt_loop_new ();
    struct hook_ctx ctx = {.stop_at = 1};
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_a, &ctx), 0);
    assert_int_equal (kt_loop_run (loop), 0);
    assert_int_equal (ctx.iterations, 1);
    kt_loop_destroy (&loop);
}

static int
s_cap_zero (void *arg)
{
    int *calls = arg;
    (*calls)++;
    return 0;
}

static int
s_cap_none (void *arg)
{
    int *calls = arg;
    (*calls)++;
    return -1;
}

static void
test_wait_cap (void **state)
{
    (void) state;
    //  No readers and no timers: without the cap kt_loop_run would block forever (alarm
    //  would fail the test); the 0 ms cap lets the hook count iterations and stop.
    kt_loop_t *loop = kt_loop_new ();
    int zero_calls = 0, none_calls = 0;
    struct hook_ctx ctx = {.stop_at = 3};
    assert_int_equal (kt_loop_wait_cap (loop, s_cap_none, &none_calls), 0);
    assert_int_equal (kt_loop_wait_cap (loop, s_cap_zero, &zero_calls), 0);
    assert_int_equal (kt_loop_wait_cap (loop, NULL, NULL), -1);
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_a, &ctx), 0);
    assert_int_equal (kt_loop_run (loop), 0);
    assert_int_equal (ctx.iterations, 3);
    //  Every iteration that waits asks every cap; the stopping one does not wait.
    assert_int_equal (zero_calls, 2);
    assert_int_equal (none_calls, 2);
    kt_loop_destroy (&loop);
}

static void
test_handler_minus_one_stops_run (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {.rec.stop_after = 3};
    kt_loop_timer (loop, 0, true, s_on_timer_record, &ctx);
    assert_int_equal (kt_loop_run (loop), -1);
    assert_int_equal (ctx.rec.count, 3);
    //  run_once reports the stop request as -1 too.
    ctx.rec.stop_after = 4;
    assert_int_equal (kt_loop_run_once (loop, 0), -1);
    assert_int_equal (ctx.rec.count, 4);
    kt_loop_destroy (&loop);
}

static int
s_on_fd_stop (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) fd;
    (void) revents;
    int *calls = arg;
    (*calls)++;
    return -1;
}

static void
test_fd_handler_minus_one (void **state)
{
    (void) state;
    int p[2];
    s_pipe (p);
    kt_loop_t *loop = kt_loop_new ();
    int calls = 0;
    kt_loop_fd (loop, p[1], POLLOUT, s_on_fd_stop, &calls);
    assert_int_equal (kt_loop_run (loop), -1);
    assert_int_equal (calls, 1);
    kt_loop_destroy (&loop);
    s_close_pipe (p);
}

static int
s_on_timer_stop_loop (kt_loop_t *loop, int timer_id, void *arg)
{
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    kt_loop_stop (loop);
    return 0;
}

static void
test_stop (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {0};
    kt_loop_timer (loop, 0, true, s_on_timer_stop_loop, &ctx);
    assert_int_equal (kt_loop_run (loop), 0);
    assert_int_equal (ctx.rec.count, 1);
    //  The stop request is consumed: the loop can run again.
    assert_int_equal (kt_loop_run (loop), 0);
    assert_int_equal (ctx.rec.count, 2);
    kt_loop_destroy (&loop);
}

static int
s_on_timer_raise (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    struct timer_ctx *ctx = arg;
    s_record (&ctx->rec, timer_id);
    raise (ctx->ids[0]);
    return 0;
}

static void
s_signal_case (int sig)
{
    kt_loop_signals_reset ();
    kt_loop_t *loop = kt_loop_new ();
    struct timer_ctx ctx = {.ids = {sig}};
    kt_loop_timer (loop, 0, true, s_on_timer_raise, &ctx);
    assert_false (kt_loop_interrupted ());
    assert_int_equal (kt_loop_run (loop), 0);
    assert_true (kt_loop_interrupted ());
    assert_int_equal (ctx.rec.count, 1);
    //  Still interrupted: a second run returns at once without dispatching.
    assert_int_equal (kt_loop_run (loop), 0);
    assert_int_equal (ctx.rec.count, 1);
    kt_loop_signals_reset ();
    assert_false (kt_loop_interrupted ());
    kt_loop_destroy (&loop);
}

static void
test_signal_sigterm_in_timer (void **state)
{
    (void) state;
    s_signal_case (SIGTERM);
}

static void
test_signal_sigint_in_timer (void **state)
{
    (void) state;
    s_signal_case (SIGINT);
}

static void
test_signal_wakes_blocked_poll (void **state)
{
    (void) state;
    //  Nothing registered, so kt_loop_run blocks with no timeout; only the signal (from
    //  another process, at any moment, even before zmq_poll blocks) can end it.
    kt_loop_signals_reset ();
    kt_loop_signals_install ();
    pid_t parent = getpid ();
    pid_t child = fork ();
    assert_true (child >= 0);
    if (child == 0) {
        kill (parent, SIGTERM);
        _exit (0);
    }
    kt_loop_t *loop = kt_loop_new ();
    assert_int_equal (kt_loop_run (loop), 0);
    assert_true (kt_loop_interrupted ());
    int status;
    assert_int_equal (waitpid (child, &status, 0), child);
    kt_loop_signals_reset ();
    kt_loop_destroy (&loop);
}

static void
test_sigpipe_ignored (void **state)
{
    (void) state;
    kt_loop_signals_install ();
    int p[2];
    s_pipe (p);
    close (p[0]);
    p[0] = -1;
    //  Writing to a pipe with no reader is an EPIPE error value, not process death.
    errno = 0;
    assert_int_equal (write (p[1], "x", 1), -1);
    assert_int_equal (errno, EPIPE);
    s_close_pipe (p);
}

// ---- loop.slow -------------------------------------------------------------------------

struct slow_cap {
    int lines;
    char last[512];
};

static void
s_slow_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) lvl;
    struct slow_cap *cap = arg;
    if (strcmp (ev, "loop.slow") == 0) {
        cap->lines++;
        snprintf (cap->last, sizeof cap->last, "%s", line);
    }
}

static int
s_slow_fd (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) revents;
    (void) arg;
    char c;
    ssize_t n = read (fd, &c, 1);
    (void) n;
    usleep (30 * 1000);
    return 0;
}

static int
s_slow_timer (kt_loop_t *loop, int id, void *arg)
{
    (void) loop;
    (void) id;
    (void) arg;
    usleep (30 * 1000);
    return 0;
}

static int
s_quick_timer (kt_loop_t *loop, int id, void *arg)
{
    (void) loop;
    (void) id;
    (*(int *) arg)++;
    return 0;
}

//  A handler that holds the loop longer than the threshold is named in one log line and
//  counted; a quick one is not. The sleep (30 ms) is far above the 5 ms threshold, and a
//  no-op handler far below it, so load on the machine cannot flip either outcome.
static void
test_slow_handler_reported (void **state)
{
    (void) state;
    struct slow_cap cap = {0};
    kt_log_open ("kt_loop_test", KT_LOG_WARN);
    kt_log_set_sink (s_slow_sink, &cap);
    kt_loop_t *loop = kt_loop_new ();
    kt_loop_set_slow_ms (loop, 5);
    int quick = 0;
    int q = kt_loop_timer (loop, 0, false, s_quick_timer, &quick);
    assert_int_equal (kt_loop_timer_name (loop, q, "quick"), 0);
    assert_int_equal (kt_loop_run_once (loop, 10), 1);
    assert_int_equal (quick, 1);
    assert_int_equal (kt_loop_slow_count (loop), 0);
    assert_int_equal (cap.lines, 0);

    int t = kt_loop_timer (loop, 0, false, s_slow_timer, NULL);
    assert_int_equal (kt_loop_timer_name (loop, t, "snapshot.flush"), 0);
    assert_int_equal (kt_loop_timer_name (loop, 9999, "nobody"), -1);
    assert_int_equal (kt_loop_run_once (loop, 10), 1);
    assert_int_equal (kt_loop_slow_count (loop), 1);
    assert_int_equal (cap.lines, 1);
    assert_non_null (strstr (cap.last, "snapshot.flush"));
    assert_non_null (strstr (cap.last, "timer"));

    //  Sockets and fds are named too; an fd handler over the threshold is reported.
    int p[2];
    s_pipe (p);
    assert_int_equal (write (p[1], "x", 1), 1);
    assert_int_equal (kt_loop_fd (loop, p[0], POLLIN, s_slow_fd, NULL), 0);
    assert_int_equal (kt_loop_fd_name (loop, p[0], "ws.read"), 0);
    assert_int_equal (kt_loop_run_once (loop, 10), 1);
    assert_int_equal (kt_loop_slow_count (loop), 2);
    //  Rate-limited: the second slow report within 10 s is counted, not logged.
    assert_int_equal (cap.lines, 1);
    kt_loop_fd_end (loop, p[0]);

    //  Off: nothing counted.
    kt_loop_set_slow_ms (loop, 0);
    kt_loop_timer (loop, 0, false, s_slow_timer, NULL);
    kt_loop_run_once (loop, 10);
    assert_int_equal (kt_loop_slow_count (loop), 2);
    kt_loop_destroy (&loop);
    s_close_pipe (p);
    kt_log_set_sink (NULL, NULL);
}

static void
s_hook_count (kt_loop_t *loop, void *arg)
{
    (void) loop;
    (*(int *) arg)++;
}

static void
s_hook_removes_itself (kt_loop_t *loop, void *arg)
{
    (*(int *) arg)++;
    kt_loop_before_sleep_end (loop, s_hook_removes_itself, arg);
}

static int
s_cap_5 (void *arg)
{
    (void) arg;
    return 5;
}

//  Hooks and caps can be removed (an adapter detaching from the loop), also from a hook.
static void
test_hook_and_cap_end (void **state)
{
    (void) state;
    kt_loop_t *loop = kt_loop_new ();
    int a = 0, b = 0;
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_count, &a), 0);
    assert_int_equal (kt_loop_before_sleep (loop, s_hook_removes_itself, &b), 0);
    assert_int_equal (kt_loop_hook_name (loop, s_hook_count, &a, "count"), 0);
    assert_int_equal (kt_loop_wait_cap (loop, s_cap_5, NULL), 0);
    kt_loop_run_once (loop, 0);
    kt_loop_run_once (loop, 0);
    assert_int_equal (a, 2);
    assert_int_equal (b, 1);
    kt_loop_before_sleep_end (loop, s_hook_count, &a);
    kt_loop_before_sleep_end (loop, s_hook_count, &a); //  absent: no-op
    assert_int_equal (kt_loop_hook_name (loop, s_hook_count, &a, "count"), -1);
    kt_loop_wait_cap_end (loop, s_cap_5, NULL);
    kt_loop_run_once (loop, 0);
    assert_int_equal (a, 2);
    kt_loop_destroy (&loop);
}

int
main (void)
{
    alarm (60); //  a hang is a failure, never a stuck CI job
    kt_log_open ("kt_loop_test", KT_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sock_pair),
        cmocka_unit_test (test_poll_failure_is_reported),
        cmocka_unit_test (test_fd_pipe),
        cmocka_unit_test (test_fd_events_change),
        cmocka_unit_test (test_remove_other_during_dispatch),
        cmocka_unit_test (test_replace_self_during_dispatch),
        cmocka_unit_test (test_timer_order),
        cmocka_unit_test (test_timer_same_due_fires_by_id),
        cmocka_unit_test (test_timer_repeat_and_self_end),
        cmocka_unit_test (test_timer_cancel),
        cmocka_unit_test (test_timer_zero_repeat_does_not_starve),
        cmocka_unit_test (test_timer_added_by_timer_waits_a_round),
        cmocka_unit_test (test_sim_clock_scales_timers),
        cmocka_unit_test (test_set_clock_rebases_armed_timers),
        cmocka_unit_test (test_wall_timer_follows_speed),
        cmocka_unit_test (test_before_sleep_hooks),
        cmocka_unit_test (test_hook_stop_does_not_sleep),
        cmocka_unit_test (test_wait_cap),
        cmocka_unit_test (test_handler_minus_one_stops_run),
        cmocka_unit_test (test_fd_handler_minus_one),
        cmocka_unit_test (test_stop),
        cmocka_unit_test (test_signal_sigterm_in_timer),
        cmocka_unit_test (test_signal_sigint_in_timer),
        cmocka_unit_test (test_signal_wakes_blocked_poll),
        cmocka_unit_test (test_sigpipe_ignored),
        cmocka_unit_test (test_slow_handler_reported),
        cmocka_unit_test (test_hook_and_cap_end),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
