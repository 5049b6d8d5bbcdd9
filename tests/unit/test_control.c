/* test_control.c - --web's controls: a user count is split over the
 * threads as -c is, a rate as -R is (taking effect CONTROL_RATE_LEAD_NS
 * later), out-of-range values are refused with the reason, and every
 * accepted action is an event; a second stop is refused. */
#include "test.h"
#include "config.h"
#include "control.h"
#include "loop.h"

#include <string.h>

TEST(control_users_rate_stop)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.connections = 10;
    worker_t ws[3];
    memset(ws, 0, sizeof ws);
    control_t *c = control_new(&cfg, ws, 3);
    ASSERT(c);
    char err[256];
    ASSERT_EQ_INT(control_users(c, 11, err, sizeof err), -1);
    ASSERT(strstr(err, "at most 10 users"));
    ASSERT_EQ_INT(control_users(c, 7, err, sizeof err), 0);
    ASSERT(ws[0].ctl_users_set && ws[0].ctl_users == 3 && ws[1].ctl_users == 2 && ws[2].ctl_users == 2);
    ASSERT_EQ_INT(ws[0].ctl_seq, 1);
    ASSERT_EQ_INT(control_rate(c, 100, err, sizeof err), -1); /* not paced */
    ASSERT(strstr(err, "-R"));
    cfg.rate = 60;
    ASSERT_EQ_INT(control_rate(c, 0, err, sizeof err), -1);
    uint64_t before = loop_now();
    ASSERT_EQ_INT(control_rate(c, 300, err, sizeof err), 0);
    ASSERT(ws[1].ctl_rate == 100 && ws[1].ctl_at >= before + CONTROL_RATE_LEAD_NS);
    ASSERT(ws[1].ctl_users == 2); /* untouched by a rate change */
    int64_t users;
    double rate;
    control_targets(c, &users, &rate);
    ASSERT(users == 7 && rate == 300);
    ASSERT_EQ_INT(control_stop(c), 0);
    ASSERT_EQ_INT(control_stop(c), -1);
    ASSERT_EQ_INT(control_users(c, 1, err, sizeof err), -1); /* stopping: no more changes */
    control_event_t ev[8];
    ASSERT_EQ_INT(control_events(c, ev, 8), 3);
    ASSERT(ev[0].kind == CONTROL_USERS && ev[0].value == 7);
    ASSERT(ev[1].kind == CONTROL_RATE && ev[1].value == 300 && ev[1].at_ns >= before + CONTROL_RATE_LEAD_NS);
    ASSERT(ev[2].kind == CONTROL_STOP);
    control_free(c);
}
