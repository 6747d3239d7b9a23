/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_EVLOG_H
#define TCPA_EVLOG_H

/*
 * The event log (control core): NDJSON, one line per anomaly occurrence,
 * rate-limited per anomaly with a count of what was suppressed, reopened
 * on SIGHUP so logrotate can move it.
 */

/** Open @p path for appending. 0 or -errno (message printed). */
int tcpa_evlog_open(const char *path);
/** Ask for a reopen at the next drain (async-signal-safe). */
void tcpa_evlog_reopen(void);
/** Move the RX cores' queued occurrences to the file. */
void tcpa_evlog_drain(void);
void tcpa_evlog_close(void);

#endif /* TCPA_EVLOG_H */
