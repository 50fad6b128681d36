/* e2e.h: the groups of the end-to-end test program.
 *
 * Each file e2e_NAME.c holds one cmocka group and defines
 *     int e2e_group_NAME(void)
 * which returns cmocka_run_group_tests_name("NAME", tests, NULL, NULL):
 * the number of failed tests. Every test uses tc_teardown (tclient.h) as
 * its teardown, so connections left open by a failed assertion are closed.
 *
 * To add a group: write e2e_NAME.c, declare its function here, add it to
 * the table in e2e_main.c and the file to the e2e sources in Makefile.am.
 *
 * Shared state that groups rely on (tests/e2e/run.sh makes it):
 *   users admin1 (admin), sup1 (supervisor, team red), agent1 (tier 1,
 *   skills billing, team red), agent2 (tier 2, billing,tech, team red),
 *   agent3 (tier 3, billing,tech,general,urgent, team blue), integ1
 *   (integration), clerk1 (dept logistics), locked1 (for lock-out tests);
 *   all with the password tc_password(). The rules: tests/e2e/rules.conf.
 *   Server settings: login_timeout 3, idle_timeout 5, login_max_failures 3,
 *   max_clients 50, max_line_login 1024, max_line 8192.
 * Tests run in one process, one after the other, against one server: a
 * test must not leave the server in a state that breaks the next (a locked
 * address, a disabled user, a stopped database).
 */
#ifndef CALLDESK_E2E_H
#define CALLDESK_E2E_H

/* Limits of the generated configuration (tests/e2e/run.sh). */
#define E2E_LOGIN_TIMEOUT 3
#define E2E_IDLE_TIMEOUT 5
#define E2E_MAX_LINE_LOGIN 1024
#define E2E_MAX_LINE 8192

int e2e_group_session(void);
int e2e_group_customer(void);
int e2e_group_interaction(void);
int e2e_group_complaint(void);
int e2e_group_catalog(void);
int e2e_group_users(void);
int e2e_group_idem(void);
int e2e_group_robust(void);
int e2e_group_empower(void);
int e2e_group_race(void);
int e2e_group_routing(void);
int e2e_group_desk(void);
int e2e_group_metrics(void);
int e2e_group_reload(void);
int e2e_group_privacy(void);
int e2e_group_hours(void);
int e2e_group_offer(void);

#endif
