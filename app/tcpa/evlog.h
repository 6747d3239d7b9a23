/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_EVLOG_H
#define TCPA_EVLOG_H

/*
 * The event log (control core): NDJSON, one line per anomaly occurrence,
 * rate-limited per anomaly with a count of what was suppressed, reopened
 * on SIGHUP so logrotate can move it.
 */

#include <stdint.h>

struct tcpa_app;

/**
 * Open @p path for appending; @p rate_limited: at most event_rate lines
 * per second per anomaly (live). 0, or -EIO (message printed; it is
 * retried, and events count as lost until it opens).
 */
int tcpa_evlog_open(const char *path, int rate_limited);
/** Reopen at the next drain (SIGHUP: logrotate moved the file). */
void tcpa_evlog_reopen(void);
/** Move the RX cores' queued occurrences to the file. */
void tcpa_evlog_drain(struct tcpa_app *app);
/** Occurrences that could not be written (no file, write error). */
uint64_t tcpa_evlog_lost(void);
void tcpa_evlog_close(void);

#endif /* TCPA_EVLOG_H */
