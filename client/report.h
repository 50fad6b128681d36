/* report.h: the reporting commands of the console client, in every mode
 * (prompt, -e, scripts):
 *
 *   stats [agent=NAME|team=NAME|queue=NAME|dept=NAME] [from=] [to=]
 *       STATS shown as a table of figures, each beside its target.
 *   export complaints FROM TO FILE [state=] [queue=] [assignee=] [customer=]
 *       a CSV file of the complaints opened in [FROM, TO).
 *   export stats FROM TO FILE [agent=|team=|queue=|dept=LIST] [by=day]
 *       a CSV file of STATS: one row per name (and per day).
 *
 * FROM and TO are dates (midnight UTC) or RFC 3339 times; FILE "-" is the
 * standard output. The CSV is RFC 4180 (render_csv_*), UTF-8, CRLF line
 * ends, with a header line. The limits of the complaint export come from
 * the protocol: see client/calldesk.1, REPORTS. */
#ifndef CALLDESK_CLIENT_REPORT_H
#define CALLDESK_CLIENT_REPORT_H

#include "run.h"
#include "shortcut.h"

/* SHORTCUT_STATS: sends the request, shows the figures. */
enum run_code report_stats(struct runner *r, const struct shortcut_result *sr);

/* SHORTCUT_EXPORT: runs the requests, writes the file, says how many rows
 * it wrote. A refusal or an error of the server is shown, and no file is
 * written. */
enum run_code report_export(struct runner *r,
			    const struct shortcut_result *sr);

/* A line of -e or of a script: stats and export run as above (a misused
 * one is RUN_REFUSED, with its usage on standard error); any other line
 * goes to run_line() as typed. */
enum run_code report_run_line(struct runner *r, const char *line);

#endif
