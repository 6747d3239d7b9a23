/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_MGMT_H
#define TCPA_MGMT_H

/*
 * Management socket (mgmt.c; the commands in mgmt_cmd.c, the telemetry
 * bridge in mgmt_telemetry.c), served by the control core.
 *
 * A Unix stream socket; one JSON object per line in each direction
 * (../shared/spec/INTERFACES.md). Request {"cmd": NAME, ...args}; answer
 * {"ok": true, "data": ...} or {"ok": false, "error": TEXT}. The server is
 * single-threaded and never blocks: tcpa_mgmt_poll() is the control loop's
 * only wait.
 *
 * Limits (a misbehaving client never stalls the loop or the other clients):
 *  - MGMT_MAX_CLIENTS clients; one more is sent an error line and closed;
 *  - MGMT_MAX_LINE bytes per request line (without its newline); a longer
 *    line is answered with an error and the rest of it is discarded up to
 *    its newline;
 *  - MGMT_MAX_OUT bytes of unsent answers per client: an answer that alone
 *    is larger is replaced by an error answer ("narrow the request"); a
 *    client whose unsent answers would exceed it is disconnected (it is not
 *    reading);
 *  - at most MGMT_REQS_PER_ROUND requests of one client are answered per
 *    poll round; the rest wait for the next round;
 *  - large answers (flows, endpoints, report) are written part by part as
 *    the client reads them (ctl.h streams): each round writes about 64 KiB
 *    and visits a bounded number of table entries per client, and a
 *    client holds at most a few hundred KiB of unsent answer, so a client
 *    that pipelines heavy requests without reading delays the others by a
 *    fraction of a millisecond per round and holds little memory;
 *  - a client that sent and read nothing for mgmt_idle_s seconds (a live
 *    configuration key) is closed.
 * Empty lines are ignored; a CR before the newline is ignored; a last
 * request without newline is answered when the client shuts down its
 * sending side. Answers are compact JSON (no newline inside), one per line,
 * in the order of the requests.
 *
 * The query handlers (ctl.h) are also registered as DPDK telemetry commands
 * /tcpa/<name>. Telemetry calls them from its own threads, so every call of
 * a handler, from either side, is made under one mutex.
 */

#define MGMT_MAX_CLIENTS 64
#define MGMT_MAX_LINE (64 * 1024)
#define MGMT_MAX_OUT (16 * 1024 * 1024)
#define MGMT_REQS_PER_ROUND 32

/**
 * Create the socket and listen on it. Creates the parent directory (mode
 * 0755) if missing; removes a stale socket file left by a dead process,
 * never one something still listens on nor a file that is not a socket.
 * The socket gets mode 0660. Prints a message naming the path on failure.
 *
 * @return 0 on success
 * @return -EINVAL path is empty (or the command table is not sorted: a bug)
 * @return -ENAMETOOLONG path does not fit a Unix socket address
 * @return -EADDRINUSE another process listens on the path
 * @return -EEXIST the path exists and is not a socket
 * @return -EALREADY the socket is already open
 * @return other -errno from mkdir(), socket(), bind(), chmod(), listen()
 */
struct tcpa_app;

int tcpa_mgmt_open(struct tcpa_app *app, const char *path);

/**
 * One poll() round over the listener and every client, waiting at most
 * timeout_ms for something to happen: accept, read, answer complete
 * requests, write what the sockets take. Without an open socket it only
 * sleeps timeout_ms, so the control loop may call it unconditionally.
 */
void tcpa_mgmt_poll(int timeout_ms);

/** Close every client and the listener, and remove the socket file. */
void tcpa_mgmt_close(void);

/**
 * Register every command as DPDK telemetry command /tcpa/<name>
 * (rte_telemetry_register_cmd). Parameters after the comma are either a
 * JSON object of arguments or key=value pairs separated by spaces, commas
 * or '&' (e.g. "/tcpa/endpoints,state=CLOSE_WAIT top=5"). Telemetry is
 * read-only: "config" with "set" is refused there.
 *
 * Telemetry has no JSON data model (DPDK 22.11: dicts and arrays of ints,
 * u64 and strings of at most RTE_TEL_MAX_STRING_LEN - 1 bytes, one level of
 * nested containers, no dict inside an array), so answers are converted:
 *  - an object becomes a dict: integers as ints, strings as strings, reals
 *    as "%.9g" strings, booleans and null as their JSON text;
 *  - a member that is an object, or an array of scalars, becomes a nested
 *    container; a member that is an array of objects becomes one container
 *    per element, named NAME/0, NAME/1, ...;
 *  - inside a container (the second level) anything that is not a scalar is
 *    given as its compact JSON text, cut to RTE_TEL_MAX_STRING_LEN - 1
 *    bytes: the management socket has the whole answer;
 *  - a top-level array of objects (endpoints, flows) becomes a dict whose
 *    members "0", "1", ... are the elements, at most
 *    RTE_TEL_MAX_DICT_ENTRIES; an array of scalars stays an array;
 *  - dict keys keep [A-Za-z0-9_/], any other byte becomes '_';
 *  - an error answer is the dict {"error": TEXT}.
 */
void tcpa_mgmt_register_telemetry(struct tcpa_app *app);

#endif /* TCPA_MGMT_H */
