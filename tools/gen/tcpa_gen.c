/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpa-gen: synthetic pcap captures with known ground truth.
 *
 * Lifecycle mode (default): --conns connections, at most --concurrent of
 * them in progress at once, each living out a fate drawn from --mix (a
 * clean close by either side, a leak, left open, reset, refused, SYN
 * unanswered, half open), plus --midstream connections whose handshake is
 * not in the capture. The generator knows the state each endpoint's kernel
 * holds at the end of the capture and writes it as the ground truth.
 *
 * Benchmark mode (--bench): --concurrent established connections (their
 * handshakes first), then a steady stream of 6-byte data segments and pure
 * ACKs on connections picked at random, --packets segments in all.
 *
 * --split K writes K files, each connection going to the file of the core
 * the appliance would give it (the project's own flow hash and owner rule).
 *
 * Impairments (--loss, --tap-loss, --dup, --reorder; lifecycle mode): a
 * data segment drawn for one becomes a short scripted episode (the lost
 * segment, the segments behind it, the receiver's SACK duplicate ACKs, the
 * fast or RTO retransmission, the ACK that closes the hole). An observer
 * fed every frame written counts the ANOMALIES.md flags the capture holds
 * ("anomalies" in the truth): dup_ack, lost_segment and ack_unseen by their
 * definitions, the resend kinds by construction (each checked against what
 * the observer saw). Impairment draws use their own PRNG stream, so without
 * these options (or with them all 0) the output is unchanged.
 *
 * Scheduling: every connection in progress sits in a slot; a min-heap (a
 * radix heap) of (packet time << 24 | slot) picks the next segment, so
 * segments of all connections interleave in time order. When a
 * connection's story is over its slot starts the next one. Per connection: one 64-byte slot and an
 * 8-byte heap key (about twice that with the buckets' slack), so a million
 * concurrent connections take ~100 MiB.
 *
 * Output is a pure function of the arguments: same arguments, same bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tcpa_common.h"
#include "tcpa_flow.h"
#include "tcpa_pkt.h"

#include "gen.h"

#define NS_PER_S        1000000000ULL
#define NS_PER_MS       1000000ULL
/*
 * Aim for captures under 25 s of packet time: shorter than tcpa's shortest
 * idle timeout (timeout_syn_s, 30 s) and than TIME_WAIT (60 s), so at the
 * end of the capture every connection is still in the state the truth says.
 */
#define TARGET_NS       (25 * NS_PER_S)
#define WARN_NS         (30 * NS_PER_S)
#define MAX_RTT_NS      (1 * NS_PER_MS)   /* gap between segments of a connection */
#define SYN_RTX_NS      (1 * NS_PER_S)    /* unanswered SYN repeated after 1 s */
#define TIME_BITS       40                /* heap key: time in ns, < 2^40 (~18 min) */
#define SLOT_BITS       24                /* heap key: slot index, < 2^24 */
#define MAX_SLOTS       (1u << SLOT_BITS)
#define PORT_FIRST      32768u
#define PORT_COUNT      32768u
#define MAX_HOSTS       64000u
#define SEG_PAYLOAD     (GEN_MSS - 12)    /* MSS less the timestamp option */
#define BENCH_PAYLOAD   6u
#define MAX_SPLIT       1024u
#define RTO_NS          (220 * NS_PER_MS) /* RTO retransmission: past the 200 ms minimum RTO */
#define PCT_ONE         1000u             /* impairment rates in thousandths of a percent */
#define PCT_ALL         (100u * PCT_ONE)
#define IMP_QMAX        12u               /* segments of one scripted episode */
#define IMP_HOLES       4u                /* unseen ranges the observer remembers per side */
#define OOO_UNKNOWN_US  3000u             /* reordering window without a handshake RTT */

/* Fates a connection can have (--mix), in truth and --help order. */
#define GEN_FATES(X) \
	X(fin_client, "client closes first: client TIME_WAIT") \
	X(fin_server, "server closes first: server TIME_WAIT") \
	X(leak,       "client FIN acked, server stays: CLOSE_WAIT") \
	X(open,       "both left ESTABLISHED") \
	X(rst,        "client RST after the data: both CLOSED") \
	X(refused,    "SYN answered by RST+ACK: nothing left") \
	X(unanswered, "SYN, same SYN 1 s later: client SYN_SENT") \
	X(half_open,  "no third ACK: SYN_RECEIVED server")

enum fate {
#define X(n, h) FATE_##n,
	GEN_FATES(X)
#undef X
	FATE_MIX_MAX,
	FATE_midstream = FATE_MIX_MAX, /* not drawn: --midstream */
	FATE_MAX
};

static const char *const fate_name[FATE_MAX] = {
#define X(n, h) #n,
	GEN_FATES(X)
#undef X
	"midstream",
};

static const char *const fate_help[FATE_MIX_MAX] = {
#define X(n, h) h,
	GEN_FATES(X)
#undef X
};

/* Endpoint states the truth can hold (RFC 9293 names, ANOMALIES.md). */
#define GEN_STATES(X) \
	X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) X(FIN_WAIT_1) X(FIN_WAIT_2) \
	X(CLOSING) X(TIME_WAIT) X(CLOSE_WAIT) X(LAST_ACK)

enum st {
	ST_NONE = 0,            /* CLOSED or no socket: not listed, like ss */
#define X(s) ST_##s,
	GEN_STATES(X)
#undef X
	ST_MAX
};

static const char *const st_name[ST_MAX] = {
	"CLOSED",
#define X(s) #s,
	GEN_STATES(X)
#undef X
};

/* Each fate's end states: [client, server]. */
static const uint8_t fate_end[FATE_MAX][2] = {
	[FATE_fin_client] = { ST_TIME_WAIT, ST_NONE },
	[FATE_fin_server] = { ST_NONE, ST_TIME_WAIT },
	[FATE_leak]       = { ST_FIN_WAIT_2, ST_CLOSE_WAIT },
	[FATE_open]       = { ST_ESTABLISHED, ST_ESTABLISHED },
	[FATE_rst]        = { ST_NONE, ST_NONE },
	[FATE_refused]    = { ST_NONE, ST_NONE },
	[FATE_unanswered] = { ST_SYN_SENT, ST_NONE },
	[FATE_half_open]  = { ST_ESTABLISHED, ST_SYN_RECEIVED },
	[FATE_midstream]  = { ST_ESTABLISHED, ST_ESTABLISHED },
};

static const uint16_t server_ports[4] = { 80, 443, 3306, 8080 };

enum phase {
	PH_SYN,
	PH_SYN_RTX,
	PH_REFUSE,
	PH_SYNACK,
	PH_ACK3,
	PH_DATA,
	PH_DATA_ACK,
	PH_FIN1,
	PH_FIN1_ACK,
	PH_FIN2,
	PH_FIN2_ACK,
	PH_RST,
	PH_DONE,
};

#define CF_V6      0x01         /* over IPv6 */
#define CF_SRV_MSG 0x02         /* the message under way is the server's */

/*
 * One connection in progress: one cache line, the only per-connection
 * memory besides its heap key. Side 0 is the client, side 1 the server.
 */
struct TCPA_CACHE_ALIGNED conn {
	uint32_t nxt[2];        /* next sequence number each side sends */
	uint32_t tsbase[2];     /* TSval = tsbase + packet time in ms */
	uint32_t tslast[2];     /* last TSval each side sent (the peer's TSecr) */
	uint32_t k;             /* connection number, in start order */
	uint32_t left;          /* payload bytes left in the message under way */
	uint16_t cport;
	uint16_t cli;           /* client index */
	uint16_t srv;           /* server endpoint index */
	uint16_t ipid[2];
	uint16_t exch;          /* request/response exchanges left */
	uint16_t file;          /* --split file */
	uint8_t fate;
	uint8_t phase;          /* enum phase; bench: 0 idle, 1/2 side 0/1 awaits ACK */
	uint8_t unacked;        /* data segments sent since the last ACK */
	uint8_t flags;          /* CF_* */
};

struct args {
	const char *out;
	const char *truth;
	uint64_t seed;
	uint64_t conns;
	uint64_t concurrent;
	uint64_t midstream;
	uint64_t malformed;
	uint64_t packets;
	uint64_t hash_seed;
	uint32_t data;
	uint32_t req;
	uint32_t resp;
	uint32_t weight[FATE_MIX_MAX];
	uint32_t ipv6_pct;
	uint32_t clients;
	uint32_t servers;
	uint32_t split;
	int vlan;               /* -1: none */
	int qinq_outer;         /* -1: none */
	int qinq_inner;
	int bench;
	uint32_t imp_pct[4];    /* enum imp_kind, thousandths of a percent */
	int imp_on;             /* an impairment option was given (even 0) */
	int go_back_n;          /* --go-back-n: an RTO resends the SACKed segments too */
};

/* Impairments, in --help and draw order. */
enum imp_kind { IMP_LOSS, IMP_TAP, IMP_DUP, IMP_REORDER, IMP_NONE };
static const char *const imp_opt[4] = { "loss", "tap_loss", "dup", "reorder" };

/* ANOMALIES.md keys the truth counts ("Throughput and loss"), truth order. */
#define GEN_ANOMS(X) \
	X(retransmission) X(fast_retransmission) X(spurious_retransmission) \
	X(out_of_order) X(lost_segment) X(ack_unseen) X(dup_ack) X(zero_window) \
	X(zero_window_probe) X(window_full) X(keepalive) X(keepalive_ack) X(tuple_reuse)

enum anom {
#define X(n) AN_##n,
	GEN_ANOMS(X)
#undef X
	AN_MAX,
	AN_NONE = AN_MAX
};

/* Episodes applied, for the truth's "impairments". */
#define GEN_APPLIED(X) \
	X(loss_fast) X(loss_rto) X(tap_loss) X(dup) X(dup_spurious) X(reorder) \
	X(skipped) X(syn_repeat) X(go_back_n)

enum applied {
#define X(n) AP_##n,
	GEN_APPLIED(X)
#undef X
	AP_MAX
};

/* Script entry modes. */
#define XM_FIXED  0x01          /* ipid, tsval, tsecr given (a replay, or reordered) */
#define XM_HIDDEN 0x02          /* sent on the wire, missing from the capture */

/*
 * One segment of a scripted episode, or the extras of one segment
 * (emit_seg). Resend class @p cls is what ANOMALIES.md calls it.
 */
struct imp_seg {
	uint64_t at;            /* packet time */
	uint32_t seq;
	uint32_t ack;
	uint32_t sack_lo;       /* one SACK block when sack_lo != sack_hi */
	uint32_t sack_hi;
	uint32_t tsval;         /* XM_FIXED */
	uint32_t tsecr;
	uint16_t len;
	uint16_t ipid;          /* XM_FIXED */
	uint8_t side;
	uint8_t flags;
	uint8_t mode;           /* XM_* */
	uint8_t cls;            /* enum anom: AN_NONE or the resend kind */
};

/* What the capture (the observer) holds of one side of a connection. */
struct imp_obs {
	uint32_t nxt;           /* end of the highest segment seen */
	uint32_t ack;           /* ACK number of the last segment seen */
	uint32_t judged;        /* the peer's ACKs up to here were judged (ack_unseen) */
	uint32_t hole_lo[IMP_HOLES];    /* ranges below nxt never seen */
	uint32_t hole_hi[IMP_HOLES];
	uint64_t nxt_us;        /* capture time (us) nxt last moved */
	uint64_t last_ns;       /* time of the last segment seen */
	uint16_t win;           /* raw window of the last segment seen */
	uint8_t dups;           /* duplicate ACKs in a row */
	uint8_t nholes;
	uint8_t seen;           /* a segment of this side was seen */
	uint8_t had_ack;        /* the last one had ACK set */
	uint8_t gap_pending;    /* a hidden segment not yet followed by a visible one */
	uint8_t ws_m_set;
	int8_t ws_dup;          /* Wireshark 4.0's dupacknum of this side's ACKs (-1: see below) */
	uint32_t ws_m;          /* Wireshark 4.0's maxseqtobeacked of this side's data */
	uint8_t sacked;         /* its last ACK carried a SACK block above the ACK: */
	uint32_t sack_lo;       /*  [sack_lo, sack_hi) of the peer's data it holds */
	uint32_t sack_hi;
};

/* Per slot, in impairment mode only. */
struct imp_conn {
	struct imp_obs o[2];
	uint64_t syn_us;        /* capture time (us) of the last SYN */
	uint32_t rtt_us;        /* SYN to the ACK completing the handshake */
	uint8_t syn_seen;
	uint8_t rtt_known;
	uint8_t qn;             /* scripted segments queued */
	uint8_t qi;             /* next one to send */
	struct imp_seg q[IMP_QMAX];
};

struct gen {
	struct args a;
	uint64_t rng[4];        /* xoshiro256** */
	struct gen_l2 l2;
	struct gen_out *out;
	uint32_t nout;
	struct tcpa_hash_secret secret;
	uint32_t wtotal;
	/* Addresses by index: IPv4, IPv6, MAC. */
	uint8_t (*cli4)[4];
	uint8_t (*cli6)[16];
	uint8_t (*climac)[6];
	uint8_t (*srv4)[4];
	uint8_t (*srv6)[16];
	uint8_t (*srvmac)[6];
	uint16_t *srvport;
	/* Truth: live sockets by [family][index][state]. */
	uint64_t (*cst[2])[ST_MAX];
	uint64_t (*sst[2])[ST_MAX];
	uint64_t fates[FATE_MAX];
	uint64_t mal[GEN_MAL_MAX];
	uint64_t mal_done;
	uint64_t mal_every;     /* inject one malformed frame per this many segments */
	uint64_t mal_next;      /* at this segment count */
	uint64_t tcp_pkts;
	uint64_t flows;
	uint64_t started;
	uint64_t mid_started;
	uint64_t gap_ns;        /* mean gap between segments of one connection */
	uint64_t rtx_ns;        /* SYN retransmission delay */
	uint64_t t_first;
	uint64_t t_last;
	int any_pkt;
	/* Impairments. */
	uint64_t irng[4];       /* their own xoshiro256** stream */
	struct imp_conn *imp;   /* per slot; NULL: no impairment option */
	struct conn *slots;
	uint32_t imp_total;     /* sum of the rates */
	uint64_t anom[AN_MAX];
	uint64_t applied[AP_MAX];
	uint64_t imp_bad;       /* internal check failures (must stay 0) */
	uint64_t ws_anom[AN_MAX]; /* what Wireshark 4.0 flags, where its rules differ */
};

/* ---- PRNG: xoshiro256**, seeded with splitmix64 ---- */

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
xoshiro(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static inline uint64_t
rnd64(struct gen *g)
{
	return xoshiro(g->rng);
}

static inline uint32_t
rnd32(struct gen *g)
{
	return (uint32_t)(rnd64(g) >> 32);
}

/* Uniform in [0, n) (multiply-shift; bias below 2^-32, deterministic). */
static inline uint32_t
rnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((uint64_t)rnd32(g) * n) >> 32);
}

/* The impairments' stream. */
static inline uint32_t
irnd32(struct gen *g)
{
	return (uint32_t)(xoshiro(g->irng) >> 32);
}

static inline uint32_t
irnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((uint64_t)irnd32(g) * n) >> 32);
}

/* ---- command line ---- */

static void
usage(FILE *fp)
{
	unsigned i;

	fprintf(fp,
		"Usage: tcpa-gen -o FILE [options]\n"
		"Write a synthetic pcap (classic format, Ethernet, microsecond timestamps)\n"
		"with known ground truth for tcpa's tests and benchmarks.\n"
		"\n"
		"Output:\n"
		"  -o, --output FILE      pcap to write (required)\n"
		"      --truth FILE       write the ground truth as JSON\n"
		"      --seed N           PRNG seed (default 1); same arguments, same bytes\n"
		"\n"
		"Lifecycle mode (default):\n"
		"      --conns N          connections with a handshake (default 100)\n"
		"      --concurrent C     at most C connections in progress at once (default 100)\n"
		"      --data N           request/response exchanges per connection (default 2)\n"
		"      --req BYTES        request size, client to server (default 100)\n"
		"      --resp BYTES       response size, server to client (default 500);\n"
		"                         messages go in %u-byte segments, ACKed every second\n"
		"                         segment and at the end of the message\n"
		"      --mix FATE=W,...   weights of each connection's fate, replacing the\n"
		"                         default fin_client=50,fin_server=20,leak=10,open=10,\n"
		"                         rst=5,refused=5:\n",
		SEG_PAYLOAD);
	for (i = 0; i < FATE_MIX_MAX; i++)
		fprintf(fp, "                         %-11s %s\n", fate_name[i], fate_help[i]);
	fprintf(fp,
		"      --midstream N      N more connections without their handshake: data\n"
		"                         first, both ESTABLISHED, server = the lower port\n"
		"\n"
		"Impairments (lifecycle mode; PCT = percent of data segments, up to three\n"
		"decimals, 100 in all at most; each data segment draws at most one, and is\n"
		"left alone when it does not qualify: payload < 2 bytes, or a side of the\n"
		"connection not seen yet, or as said below; see \"skipped\" in the truth):\n"
		"      --loss PCT         lost on the wire after the tap (a tap at the sender):\n"
		"                         the original is in the capture, then the rest of\n"
		"                         the message up to 3 segments, one SACK ACK (ack =\n"
		"                         the hole, block = what arrived above it) per segment\n"
		"                         behind the hole, then the retransmission: with 3\n"
		"                         segments behind it, ~1 gap after the 3rd ACK (fast:\n"
		"                         >= 2 duplicate ACKs, well within 20 ms and 200 ms);\n"
		"                         with fewer, %u ms after the original (RTO, never\n"
		"                         fast). Then one ACK for all. Fast retransmissions\n"
		"                         need messages of 4+ segments (--req/--resp > %u).\n"
		"                         RTO waits are never shortened: with many\n"
		"                         connections per --concurrent slot the capture\n"
		"                         may outgrow ~25 s (a warning says so)\n"
		"      --go-back-n        with --loss: after an RTO the sender also resends\n"
		"                         the segments behind the hole, which the receiver\n"
		"                         had SACKed (a stack that drops its SACK scoreboard\n"
		"                         on a timeout): spurious_retransmission by\n"
		"                         ANOMALIES.md (SACK decides), retransmission to\n"
		"                         Wireshark\n"
		"      --tap-loss PCT     the receiver got it, the capture did not: the\n"
		"                         sender's next segment (any but RST) is a\n"
		"                         lost_segment, the first ACK covering it an\n"
		"                         ack_unseen (each only if that segment comes)\n"
		"      --dup PCT          the frame written twice (same IP ID and TSval): right\n"
		"                         after itself (a retransmission), or, for the last\n"
		"                         segment of a flight, at random after the ACK that\n"
		"                         covers it (a spurious_retransmission; the receiver's\n"
		"                         D-SACK answer is left out: with no data outstanding\n"
		"                         it is a dup_ack to Wireshark, not to ANOMALIES.md)\n"
		"      --reorder PCT      the first two segments of a flight swapped, the\n"
		"                         second well within the handshake RTT (3 ms without\n"
		"                         one) and 1 ms: the first written is a lost_segment,\n"
		"                         the second an out_of_order; then a SACK ACK and the\n"
		"                         ACK for both. Needs messages of 2+ segments\n"
		"\n"
		"Benchmark mode:\n"
		"      --bench            C (--concurrent) established connections, handshakes\n"
		"                         first, then 6-byte data segments and pure ACKs on\n"
		"                         connections picked at random (60-byte frames: no\n"
		"                         timestamp option in this mode); --conns, --mix,\n"
		"                         --data, --req, --resp, --midstream do not apply\n"
		"      --packets P        TCP segments in all, handshakes included\n"
		"                         (default 1000000)\n"
		"\n"
		"Both modes:\n"
		"      --split K          write K files FILE.0 .. FILE.K-1 (index inserted before\n"
		"                         the extension: bench.pcap -> bench.0.pcap); each\n"
		"                         connection goes to file tcpa_flow_owner(hash, K), the\n"
		"                         core tcpa would give it\n"
		"      --hash-seed S      seed of the flow hash secret for --split (default 1)\n"
		"      --ipv6 PCT         percent of connections over IPv6 (default 0)\n"
		"      --vlan ID          every frame tagged 802.1Q with ID\n"
		"      --qinq OUTER:INNER every frame double tagged (0x88a8 outer, 0x8100 inner)\n"
		"      --malformed N      N malformed frames spread over the capture, round-robin\n"
		"                         over bad_l2 bad_ip bad_tcp truncated bad_flags\n"
		"                         ip_fragment not_tcp (UDP and ARP in turn); addresses\n"
		"                         10.9.0.0/16, apart from the connections'\n"
		"      --clients N        client addresses 10.1.x.y / fd00::1:N (default 10)\n"
		"      --servers N        server endpoints 10.2.0.x / fd00::2:x, ports 80, 443,\n"
		"                         3306, 8080 in turn (default 4)\n"
		"  -h, --help             this text\n"
		"\n"
		"Packet time starts at %u s; segments of one connection are ~1 ms apart,\n"
		"less when needed to keep the capture under ~25 s: shorter than tcpa's\n"
		"idle timeouts (30 s for a handshake) and TIME_WAIT (60 s), so every\n"
		"connection is still in its truth state at the end (the unanswered SYN's\n"
		"repeat comes sooner than 1 s then too). A 4-tuple is never reused: a\n"
		"client port repeats only toward another server endpoint.\n"
		"\n"
		"Truth (--truth): generator arguments, \"packets\" (frames), \"tcp_packets\"\n"
		"(well-formed segments), \"flows\" (connections incl. midstream), \"malformed\"\n"
		"(count per reason), \"fates\", and \"endpoints\":\n"
		"{\"ip:port\" | \"[ip6]:port\" | \"ip\": {\"role\", \"states\": {STATE: count}}}\n"
		"with the live sockets each endpoint's kernel holds at capture end. CLOSED\n"
		"sockets are not listed (as ss); endpoints with no live socket are left out.\n"
		"\n"
		"With an impairment option (even 0) the truth also has \"impairments\": the\n"
		"rates, the episodes applied (loss_fast, loss_rto, tap_loss, dup,\n"
		"dup_spurious, reorder, skipped; syn_repeat: repeats of unanswered SYNs) and\n"
		"check_failures (0: every impaired segment shows as the truth says), and\n"
		"\"anomalies\": the whole capture's count of each ANOMALIES.md throughput and\n"
		"loss key by its definition: retransmission, fast_retransmission,\n"
		"spurious_retransmission, out_of_order, lost_segment (any segment but RST\n"
		"starting past the highest seen: a pure ACK too), ack_unseen (an ACK whose\n"
		"newly acknowledged range holds bytes never seen: once per missed range),\n"
		"dup_ack; zero_window, zero_window_probe, window_full, keepalive,\n"
		"keepalive_ack and tuple_reuse are never made (0).\n"
		"Overlaps, as ANOMALIES.md counts them: each segment gets the one most\n"
		"specific resend kind (spurious > fast > out_of_order > retransmission),\n"
		"and a fast retransmission is also counted as a retransmission\n"
		"(retransmission = plain + fast); a spurious retransmission and an\n"
		"out_of_order segment are only that. An unanswered SYN's repeat is a\n"
		"retransmission (tcpa also calls it syn_retransmit). \"anomalies_exclusive\"\n"
		"is the same with one flag per segment (retransmission without the fast\n"
		"ones), as Wireshark's dissector flags a frame.\n"
		"Wireshark 4.0 (tshark) gives the same counts on these captures\n"
		"(tests/integration/tshark_flags.py maps its flags to these keys) except\n"
		"ack_unseen: it flags an ACK covering a missed segment, and again the next\n"
		"ACK once the sender went on past the gap, but not a gap revealed by an ACK\n"
		"while the sender's own ACK number stayed the same since the last flag;\n"
		"\"wireshark_4_0\": {\"ack_unseen\"} is what it shows. Left out by\n"
		"construction, as Wireshark and ANOMALIES.md would differ: 1-byte resends\n"
		"(a keep-alive to Wireshark), a duplicate ACK that also reveals a missed\n"
		"segment (Wireshark needs seq = the sender's next), the D-SACK answer to a\n"
		"spurious copy (no data outstanding). docs/ACCURACY.md has the rest.\n",
		(unsigned)(RTO_NS / NS_PER_MS), 3 * SEG_PAYLOAD, GEN_EPOCH_S);
}

static int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		goto bad;
	x = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		goto bad;
	*v = x;
	return 0;
bad:
	fprintf(stderr, "tcpa-gen: %s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
		opt, s != NULL ? s : "", min, max);
	return -EINVAL;
}

static int
parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(opt, s, min, max, &x) != 0)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* A percentage with up to three decimals, in thousandths of a percent. */
static int
parse_pct(const char *opt, const char *s, uint32_t *v)
{
	uint32_t x = 0, scale = PCT_ONE;
	const char *p = s;
	int digits = 0;

	for (; *p >= '0' && *p <= '9' && x <= PCT_ALL; p++, digits++)
		x = x * 10 + (uint32_t)(*p - '0');
	x *= PCT_ONE;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++, digits++) {
			scale /= 10;
			x += (uint32_t)(*p - '0') * scale;
		}
	}
	if (digits == 0 || *p != '\0' || x > PCT_ALL) {
		fprintf(stderr, "tcpa-gen: %s: '%s' is not a percentage in 0..100 "
			"(at most 3 decimals)\n", opt, s);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

static int
parse_mix(struct args *a, const char *spec)
{
	char *dup = strdup(spec);
	char *save = NULL, *tok;
	int rc = 0;

	if (dup == NULL)
		return -ENOMEM;
	memset(a->weight, 0, sizeof(a->weight));
	for (tok = strtok_r(dup, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned i;

		if (eq == NULL) {
			fprintf(stderr, "tcpa-gen: --mix: '%s' is not FATE=WEIGHT\n", tok);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		for (i = 0; i < FATE_MIX_MAX; i++)
			if (strcmp(tok, fate_name[i]) == 0)
				break;
		if (i == FATE_MIX_MAX) {
			fprintf(stderr, "tcpa-gen: --mix: unknown fate '%s' (see --help)\n", tok);
			rc = -EINVAL;
			break;
		}
		rc = parse_u32("--mix", eq + 1, 0, 1000000, &a->weight[i]);
		if (rc != 0)
			break;
	}
	free(dup);
	return rc;
}

enum {
	OPT_TRUTH = 256,
	OPT_SEED,
	OPT_CONNS,
	OPT_CONCURRENT,
	OPT_DATA,
	OPT_REQ,
	OPT_RESP,
	OPT_MIX,
	OPT_MIDSTREAM,
	OPT_IPV6,
	OPT_VLAN,
	OPT_QINQ,
	OPT_MALFORMED,
	OPT_CLIENTS,
	OPT_SERVERS,
	OPT_SPLIT,
	OPT_HASH_SEED,
	OPT_BENCH,
	OPT_PACKETS,
	OPT_LOSS,
	OPT_TAP_LOSS,
	OPT_DUP,
	OPT_REORDER,
	OPT_GO_BACK_N,
};

static const struct option long_opts[] = {
	{ "bench",      no_argument,       NULL, OPT_BENCH },
	{ "clients",    required_argument, NULL, OPT_CLIENTS },
	{ "concurrent", required_argument, NULL, OPT_CONCURRENT },
	{ "conns",      required_argument, NULL, OPT_CONNS },
	{ "data",       required_argument, NULL, OPT_DATA },
	{ "dup",        required_argument, NULL, OPT_DUP },
	{ "hash-seed",  required_argument, NULL, OPT_HASH_SEED },
	{ "go-back-n",  no_argument,       NULL, OPT_GO_BACK_N },
	{ "help",       no_argument,       NULL, 'h' },
	{ "ipv6",       required_argument, NULL, OPT_IPV6 },
	{ "loss",       required_argument, NULL, OPT_LOSS },
	{ "malformed",  required_argument, NULL, OPT_MALFORMED },
	{ "midstream",  required_argument, NULL, OPT_MIDSTREAM },
	{ "mix",        required_argument, NULL, OPT_MIX },
	{ "output",     required_argument, NULL, 'o' },
	{ "packets",    required_argument, NULL, OPT_PACKETS },
	{ "qinq",       required_argument, NULL, OPT_QINQ },
	{ "reorder",    required_argument, NULL, OPT_REORDER },
	{ "req",        required_argument, NULL, OPT_REQ },
	{ "resp",       required_argument, NULL, OPT_RESP },
	{ "seed",       required_argument, NULL, OPT_SEED },
	{ "servers",    required_argument, NULL, OPT_SERVERS },
	{ "split",      required_argument, NULL, OPT_SPLIT },
	{ "tap-loss",   required_argument, NULL, OPT_TAP_LOSS },
	{ "truth",      required_argument, NULL, OPT_TRUTH },
	{ "vlan",       required_argument, NULL, OPT_VLAN },
	{ NULL, 0, NULL, 0 },
};

static int
parse_args(struct args *a, int argc, char **argv)
{
	uint32_t v = 0;
	int c, rc = 0;

	memset(a, 0, sizeof(*a));
	a->seed = 1;
	a->conns = 100;
	a->concurrent = 100;
	a->data = 2;
	a->req = 100;
	a->resp = 500;
	a->weight[FATE_fin_client] = 50;
	a->weight[FATE_fin_server] = 20;
	a->weight[FATE_leak] = 10;
	a->weight[FATE_open] = 10;
	a->weight[FATE_rst] = 5;
	a->weight[FATE_refused] = 5;
	a->clients = 10;
	a->servers = 4;
	a->packets = 1000000;
	a->hash_seed = 1;
	a->vlan = -1;
	a->qinq_outer = -1;
	a->qinq_inner = -1;

	while (rc == 0 && (c = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'o':
			a->out = optarg;
			break;
		case OPT_TRUTH:
			a->truth = optarg;
			break;
		case OPT_SEED:
			rc = parse_u64("--seed", optarg, 0, UINT64_MAX, &a->seed);
			break;
		case OPT_CONNS:
			rc = parse_u64("--conns", optarg, 0, UINT32_MAX / 2, &a->conns);
			break;
		case OPT_CONCURRENT:
			rc = parse_u64("--concurrent", optarg, 1, MAX_SLOTS - 1, &a->concurrent);
			break;
		case OPT_DATA:
			rc = parse_u32("--data", optarg, 0, 65535, &a->data);
			break;
		case OPT_REQ:
			rc = parse_u32("--req", optarg, 1, 1u << 24, &a->req);
			break;
		case OPT_RESP:
			rc = parse_u32("--resp", optarg, 1, 1u << 24, &a->resp);
			break;
		case OPT_MIX:
			rc = parse_mix(a, optarg);
			break;
		case OPT_MIDSTREAM:
			rc = parse_u64("--midstream", optarg, 0, UINT32_MAX / 2, &a->midstream);
			break;
		case OPT_IPV6:
			rc = parse_u32("--ipv6", optarg, 0, 100, &a->ipv6_pct);
			break;
		case OPT_VLAN:
			rc = parse_u32("--vlan", optarg, 1, 4094, &v);
			a->vlan = (int)v;
			break;
		case OPT_QINQ: {
			char buf[32];
			char *colon;
			uint32_t o = 0, i = 0;

			snprintf(buf, sizeof(buf), "%s", optarg);
			colon = strchr(buf, ':');
			if (colon == NULL) {
				fprintf(stderr, "tcpa-gen: --qinq: '%s' is not OUTER:INNER\n",
					optarg);
				rc = -EINVAL;
				break;
			}
			*colon = '\0';
			rc = parse_u32("--qinq", buf, 1, 4094, &o);
			if (rc == 0)
				rc = parse_u32("--qinq", colon + 1, 1, 4094, &i);
			a->qinq_outer = (int)o;
			a->qinq_inner = (int)i;
			break;
		}
		case OPT_MALFORMED:
			rc = parse_u64("--malformed", optarg, 0, UINT32_MAX, &a->malformed);
			break;
		case OPT_CLIENTS:
			rc = parse_u32("--clients", optarg, 1, MAX_HOSTS, &a->clients);
			break;
		case OPT_SERVERS:
			rc = parse_u32("--servers", optarg, 1, MAX_HOSTS, &a->servers);
			break;
		case OPT_SPLIT:
			rc = parse_u32("--split", optarg, 1, MAX_SPLIT, &a->split);
			break;
		case OPT_HASH_SEED:
			/* 0 would make the secret random: never reproducible. */
			rc = parse_u64("--hash-seed", optarg, 1, UINT64_MAX, &a->hash_seed);
			break;
		case OPT_BENCH:
			a->bench = 1;
			break;
		case OPT_PACKETS:
			rc = parse_u64("--packets", optarg, 1, 1ULL << 40, &a->packets);
			break;
		case OPT_LOSS:
		case OPT_TAP_LOSS:
		case OPT_DUP:
		case OPT_REORDER: {
			static const char *const name[4] = {
				"--loss", "--tap-loss", "--dup", "--reorder" };
			unsigned k = (unsigned)(c - OPT_LOSS);

			rc = parse_pct(name[k], optarg, &a->imp_pct[k]);
			a->imp_on = 1;
			break;
		}
		case OPT_GO_BACK_N:
			a->go_back_n = 1;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc != 0)
		return rc;
	if (optind != argc) {
		fprintf(stderr, "tcpa-gen: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (a->out == NULL) {
		fprintf(stderr, "tcpa-gen: -o FILE is required (see --help)\n");
		return -EINVAL;
	}
	if (a->vlan >= 0 && a->qinq_outer >= 0) {
		fprintf(stderr, "tcpa-gen: --vlan and --qinq exclude each other\n");
		return -EINVAL;
	}
	return 0;
}

static int
check_args(struct gen *g)
{
	const struct args *a = &g->a;
	uint64_t total = a->bench ? a->concurrent : a->conns + a->midstream;
	uint64_t room = (uint64_t)a->clients * PORT_COUNT * a->servers;
	unsigned i;

	g->wtotal = 0;
	for (i = 0; i < FATE_MIX_MAX; i++)
		g->wtotal += a->weight[i];
	if (!a->bench && a->conns != 0 && g->wtotal == 0) {
		fprintf(stderr, "tcpa-gen: --mix: all weights are 0\n");
		return -EINVAL;
	}
	if (total > room) {
		fprintf(stderr, "tcpa-gen: %" PRIu64 " connections need more 4-tuples than "
			"%u clients x %u ports x %u servers give: raise --clients or --servers\n",
			total, a->clients, PORT_COUNT, a->servers);
		return -EINVAL;
	}
	if (a->go_back_n && a->imp_pct[IMP_LOSS] == 0) {
		fprintf(stderr, "tcpa-gen: --go-back-n changes --loss episodes: give --loss too\n");
		return -EINVAL;
	}
	if (a->imp_on) {
		uint32_t sum = 0;

		for (i = 0; i < 4; i++)
			sum += a->imp_pct[i];
		if (a->bench) {
			fprintf(stderr, "tcpa-gen: --loss, --tap-loss, --dup and --reorder "
				"apply to lifecycle mode, not --bench\n");
			return -EINVAL;
		}
		if (sum > PCT_ALL) {
			fprintf(stderr, "tcpa-gen: --loss, --tap-loss, --dup and --reorder add "
				"up to more than 100%%\n");
			return -EINVAL;
		}
		g->imp_total = sum;
	}
	if (a->bench && a->packets < 3 * a->concurrent) {
		fprintf(stderr, "tcpa-gen: --packets %" PRIu64 " is less than the %" PRIu64
			" segments of the handshakes of --concurrent %" PRIu64 " connections\n",
			a->packets, 3 * a->concurrent, a->concurrent);
		return -EINVAL;
	}
	return 0;
}

/* ---- addresses ---- */

static void
host4(uint8_t *ip, uint8_t net, uint32_t i)
{
	ip[0] = 10;
	ip[1] = net;
	ip[2] = (uint8_t)(i / 250);
	ip[3] = (uint8_t)(i % 250 + 1);
}

static void
host6(uint8_t *ip, uint8_t net, uint32_t i)
{
	memset(ip, 0, 16);
	ip[0] = 0xfd;
	ip[13] = net;
	ip[14] = (uint8_t)((i + 1) >> 8);
	ip[15] = (uint8_t)(i + 1);
}

static void
host_mac(uint8_t *mac, uint8_t net, uint32_t i)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = 0x0a;
	mac[3] = net;
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static int
addr_init(struct gen *g)
{
	uint32_t nc = g->a.clients, ns = g->a.servers;
	uint32_t i;
	int f;

	g->cli4 = calloc(nc, sizeof(*g->cli4));
	g->cli6 = calloc(nc, sizeof(*g->cli6));
	g->climac = calloc(nc, sizeof(*g->climac));
	g->srv4 = calloc(ns, sizeof(*g->srv4));
	g->srv6 = calloc(ns, sizeof(*g->srv6));
	g->srvmac = calloc(ns, sizeof(*g->srvmac));
	g->srvport = calloc(ns, sizeof(*g->srvport));
	for (f = 0; f < 2; f++) {
		g->cst[f] = calloc(nc, sizeof(*g->cst[f]));
		g->sst[f] = calloc(ns, sizeof(*g->sst[f]));
		if (g->cst[f] == NULL || g->sst[f] == NULL)
			return -ENOMEM;
	}
	if (g->cli4 == NULL || g->cli6 == NULL || g->climac == NULL || g->srv4 == NULL ||
			g->srv6 == NULL || g->srvmac == NULL || g->srvport == NULL)
		return -ENOMEM;
	for (i = 0; i < nc; i++) {
		host4(g->cli4[i], 1, i);
		host6(g->cli6[i], 1, i);
		host_mac(g->climac[i], 1, i);
	}
	for (i = 0; i < ns; i++) {
		host4(g->srv4[i], 2, i);
		host6(g->srv6[i], 2, i);
		host_mac(g->srvmac[i], 2, i);
		g->srvport[i] = server_ports[i % TCPA_ARRAY_SIZE(server_ports)];
	}
	return 0;
}

/* ---- output files ---- */

/* FILE with ".IDX" inserted before the extension of its last component. */
static char *
split_name(const char *path, unsigned idx)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = strlen(path) + 16;
	char *s = malloc(n);

	if (s == NULL)
		return NULL;
	if (dot == NULL || dot == base)
		snprintf(s, n, "%s.%u", path, idx);
	else
		snprintf(s, n, "%.*s.%u%s", (int)(dot - path), path, idx, dot);
	return s;
}

static int
outputs_open(struct gen *g)
{
	uint32_t n = g->a.split != 0 ? g->a.split : 1;
	size_t bufsize = n <= 16 ? (4u << 20) : (1u << 20);
	uint32_t i;

	g->out = calloc(n, sizeof(*g->out));
	if (g->out == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char *name = g->a.split != 0 ? split_name(g->a.out, i) : strdup(g->a.out);
		int rc;

		if (name == NULL)
			return -ENOMEM;
		rc = gen_out_open(&g->out[i], name, bufsize);
		if (rc != 0) {
			fprintf(stderr, "tcpa-gen: cannot open %s: %s\n", name, strerror(-rc));
			free(name);
			return rc;
		}
		free(name);
		g->nout = i + 1;
	}
	return 0;
}

static int
outputs_close(struct gen *g)
{
	int ret = 0;
	uint32_t i;

	for (i = 0; i < g->nout; i++) {
		int rc = gen_out_close(&g->out[i]);

		if (rc != 0) {
			fprintf(stderr, "tcpa-gen: writing %s: %s\n", g->out[i].path,
				strerror(-rc));
			ret = rc;
		}
	}
	return ret;
}

/* ---- connections ---- */

static inline void
mark_time(struct gen *g, uint64_t t)
{
	if (!g->any_pkt) {
		g->t_first = t;
		g->any_pkt = 1;
	}
	g->t_last = t;
}

/* Malformed frames are spread evenly over the segments. */
static void
malformed_due(struct gen *g, uint64_t t)
{
	while (g->mal_done < g->a.malformed && g->tcp_pkts >= g->mal_next) {
		enum gen_mal kind = (enum gen_mal)(g->mal_done % GEN_MAL_MAX);

		gen_out_malformed(&g->out[g->mal_done % g->nout], t, &g->l2, kind,
			(uint32_t)g->mal_done);
		g->mal[kind]++;
		g->mal_done++;
		g->mal_next += g->mal_every;
		mark_time(g, t);
	}
	if (g->mal_done == g->a.malformed)
		g->mal_next = UINT64_MAX;
}

/* ---- the observer of impairment mode ---- */

static inline int sq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int sq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int sq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int sq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

static void
obs_hole_del(struct imp_obs *o, unsigned i)
{
	o->nholes--;
	o->hole_lo[i] = o->hole_lo[o->nholes];
	o->hole_hi[i] = o->hole_hi[o->nholes];
}

/* Bytes [lo, hi) of this side were never seen. */
static void
obs_hole_add(struct gen *g, struct imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	/* Holes the peer's ACKs have passed matter no more. */
	while (i < o->nholes) {
		if (sq_le(o->hole_hi[i], o->judged))
			obs_hole_del(o, i);
		else
			i++;
	}
	if (o->nholes == IMP_HOLES) {
		g->imp_bad++;
		obs_hole_del(o, 0);
	}
	o->hole_lo[o->nholes] = lo;
	o->hole_hi[o->nholes] = hi;
	o->nholes++;
}

/* Bytes [lo, hi) of this side are seen now. */
static void
obs_fill(struct gen *g, struct imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	while (i < o->nholes) {
		uint32_t hl = o->hole_lo[i], hh = o->hole_hi[i];

		if (sq_le(hi, hl) || sq_ge(lo, hh)) {
			i++;
		} else if (sq_le(lo, hl) && sq_ge(hi, hh)) {
			obs_hole_del(o, i);
		} else if (sq_le(lo, hl)) {
			o->hole_lo[i++] = hi;
		} else if (sq_ge(hi, hh)) {
			o->hole_hi[i++] = lo;
		} else {
			o->hole_hi[i++] = lo;
			obs_hole_add(g, o, hi, hh);
		}
	}
}

/* Does [lo, hi) hold a byte of this side never seen? */
static int
obs_unseen(const struct imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i;

	if (sq_gt(hi, o->nxt))
		return 1;
	for (i = 0; i < o->nholes; i++)
		if (sq_lt(lo, o->hole_hi[i]) && sq_gt(hi, o->hole_lo[i]))
			return 1;
	return 0;
}

/* Is [lo, hi) inside one hole? */
static int
obs_in_hole(const struct imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i;

	for (i = 0; i < o->nholes; i++)
		if (sq_ge(lo, o->hole_lo[i]) && sq_le(hi, o->hole_hi[i]))
			return 1;
	return 0;
}

/*
 * A resend the script calls @p cls: check that the capture shows it as
 * ANOMALIES.md would classify it, count it, and count what Wireshark 4.0
 * calls it.
 */
static void
obs_resend(struct gen *g, const struct imp_conn *ic, const struct imp_obs *o,
		const struct imp_obs *p, uint64_t t, uint32_t seq, uint32_t end, uint32_t plen,
		unsigned cls)
{
	uint64_t us = t / 1000;
	uint32_t win_us = ic->rtt_known ? ic->rtt_us : OOO_UNKNOWN_US;
	/* ANOMALIES.md: acknowledged, or inside what the receiver SACKed. */
	int spurious = p->seen && p->had_ack && (sq_le(end, p->ack) ||
		(p->sacked && sq_ge(seq, p->sack_lo) && sq_le(end, p->sack_hi)));
	int near = t - p->last_ns < 20 * NS_PER_MS;
	int dupack_hole = p->dups >= 2 && p->ack == seq && near;
	int reorder = us - o->nxt_us < win_us && o->nxt != end;
	int ok;

	/*
	 * Wireshark 4.0: spurious (payload within the peer's last ACK), else
	 * fast (the peer's duplicate ACK counter >= 2 as an unsigned number, so
	 * the -1 of the ACK side below counts; the peer's ACK at this sequence;
	 * within 20 ms of the peer's last segment), else out-of-order (within the first RTT or 3 ms
	 * of the highest segment, not ending at it), else retransmission.
	 */
	if (plen > 0 && p->seen && p->ack != 0 && sq_le(seq + plen, p->ack))
		g->ws_anom[AN_spurious_retransmission]++;
	else if ((p->ws_dup >= 2 || p->ws_dup == -1) && p->ack == seq && near)
		g->ws_anom[AN_fast_retransmission]++, g->ws_anom[AN_retransmission]++;
	else if (us - o->nxt_us < win_us && o->nxt != seq + plen)
		g->ws_anom[AN_out_of_order]++;
	else
		g->ws_anom[AN_retransmission]++;

	switch (cls) {
	case AN_spurious_retransmission:
		ok = spurious;
		break;
	case AN_fast_retransmission:
		ok = !spurious && dupack_hole && !obs_in_hole(o, seq, end);
		g->anom[AN_retransmission]++;
		break;
	case AN_out_of_order:
		ok = !spurious && !dupack_hole && reorder && obs_in_hole(o, seq, end) &&
			2 * (us - o->nxt_us) < win_us;
		break;
	default:
		ok = !spurious && !dupack_hole && !reorder && !obs_in_hole(o, seq, end);
		break;
	}
	g->anom[cls]++;
	if (!ok)
		g->imp_bad++;
}

/* Every segment written, impairment mode: what the capture shows. */
static void
imp_observe(struct gen *g, struct conn *c, uint64_t t, unsigned side, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t plen, uint16_t win, unsigned cls,
		const struct imp_seg *x)
{
	struct imp_conn *ic = &g->imp[c - g->slots];
	struct imp_obs *o = &ic->o[side], *p = &ic->o[!side];
	uint32_t seglen = plen + ((flags & TCPA_TCP_SYN) != 0) + ((flags & TCPA_TCP_FIN) != 0);
	uint32_t end = seq + seglen;
	int pure = plen == 0 && !(flags & (TCPA_TCP_SYN | TCPA_TCP_FIN | TCPA_TCP_RST));
	int rst = (flags & TCPA_TCP_RST) != 0;

	/* Wireshark 4.0: duplicate ACKs (no data outstanding needed) and its counter. */
	if (o->seen) {
		if (pure && win != 0 && win == o->win && seq == o->nxt && ack == o->ack) {
			if (o->ws_dup == -1)
				o->ws_dup = 1;
			else if (o->ws_dup < 100)
				o->ws_dup++;
			g->ws_anom[AN_dup_ack]++;
		}
		if (ack != o->ack)
			o->ws_dup = 0;
	}

	/* The handshake RTT (Wireshark's first RTT: last SYN to the next ACK). */
	if ((flags & (TCPA_TCP_SYN | TCPA_TCP_ACK)) == TCPA_TCP_SYN) {
		ic->syn_us = t / 1000;
		ic->syn_seen = 1;
	} else if ((flags & (TCPA_TCP_SYN | TCPA_TCP_ACK)) == TCPA_TCP_ACK && ic->syn_seen &&
			!ic->rtt_known) {
		ic->rtt_us = (uint32_t)(t / 1000 - ic->syn_us);
		ic->rtt_known = 1;
	}

	/* Sequence side. */
	if (!o->seen) {
		if (cls != AN_NONE)
			g->imp_bad++;
		o->seen = 1;
		o->nxt = end;
		o->nxt_us = t / 1000;
		o->judged = seq;
	} else {
		if (seglen > 0 && sq_lt(seq, o->nxt))
			obs_resend(g, ic, o, p, t, seq, end, plen, cls);
		else if (cls != AN_NONE)
			g->imp_bad++;
		if (!rst && sq_gt(seq, o->nxt)) {
			g->anom[AN_lost_segment]++;
			g->ws_anom[AN_lost_segment]++;
			obs_hole_add(g, o, o->nxt, seq);
		}
		if (seglen > 0)
			obs_fill(g, o, seq, end);
		if (!rst && sq_gt(end, o->nxt)) {
			o->nxt = end;
			o->nxt_us = t / 1000;
		}
	}
	if (!rst)
		o->gap_pending = 0;
	/* Wireshark 4.0: the highest in-order end, moved only by a segment starting there. */
	if (!o->ws_m_set || seq == o->ws_m) {
		o->ws_m = o->nxt;
		o->ws_m_set = 1;
	}

	/*
	 * ACK side. Wireshark 4.0.17 (fitted on these captures, frame by frame):
	 * an ACK beyond the sender's highest in-order end M is flagged and M
	 * moves to the sender's highest end when the sender already sent past
	 * the gap; when it has not (the ACK reveals the gap), the ACK is flagged
	 * only if the sender's duplicate ACK counter is 0, which is then set to
	 * -1 until the sender's ACK number changes. So one missed segment can
	 * give two flags (ACK, then the next ACK after the sender went on), and
	 * a second gap revealed by an ACK while the sender's ACK number stayed
	 * the same gives none. ANOMALIES.md counts one per unseen range.
	 */
	if ((flags & TCPA_TCP_ACK) && p->ws_m_set && sq_gt(ack, p->ws_m)) {
		if (p->ws_m != p->nxt) {
			g->ws_anom[AN_ack_unseen]++;
			p->ws_m = p->nxt;
		} else {
			if (p->ws_dup == 0)
				g->ws_anom[AN_ack_unseen]++;
			p->ws_dup = -1;
		}
	}
	if ((flags & TCPA_TCP_ACK) && p->seen && sq_gt(ack, p->judged)) {
		if (obs_unseen(p, p->judged, ack))
			g->anom[AN_ack_unseen]++;
		p->judged = ack;
	}
	if (pure && (flags & TCPA_TCP_ACK) && o->had_ack && ack == o->ack && win == o->win &&
			p->seen && sq_lt(ack, p->nxt)) {
		g->anom[AN_dup_ack]++;
		if (o->dups < UINT8_MAX)
			o->dups++;
	} else if (!o->had_ack || ack != o->ack) {
		o->dups = 0;
	}
	/* What its ACK says it holds above the ACK (ANOMALIES.md: SACK decides). */
	o->sacked = (flags & TCPA_TCP_ACK) && !(flags & TCPA_TCP_SYN) && x != NULL &&
		x->sack_lo != x->sack_hi && sq_gt(x->sack_lo, ack);
	if (o->sacked) {
		o->sack_lo = x->sack_lo;
		o->sack_hi = x->sack_hi;
	}
	o->ack = ack;
	o->win = win;
	o->had_ack = (flags & TCPA_TCP_ACK) != 0;
	o->last_ns = t;
}

/*
 * One segment of @p c sent by @p side (0 client, 1 server) at @p t; @p x
 * (impairment mode only) adds a SACK block, fixed IP ID and timestamps, a
 * hidden segment, or the resend class.
 */
static inline void
emit_seg(struct gen *g, struct conn *c, uint64_t t, unsigned side, uint8_t flags, uint32_t seq,
		uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win, const struct imp_seg *x)
{
	struct gen_seg s;
	int v6 = (c->flags & CF_V6) != 0;
	const uint8_t *cip = v6 ? g->cli6[c->cli] : g->cli4[c->cli];
	const uint8_t *sip = v6 ? g->srv6[c->srv] : g->srv4[c->srv];

	s.src = side == 0 ? cip : sip;
	s.dst = side == 0 ? sip : cip;
	s.smac = side == 0 ? g->climac[c->cli] : g->srvmac[c->srv];
	s.dmac = side == 0 ? g->srvmac[c->srv] : g->climac[c->cli];
	s.sport = side == 0 ? c->cport : g->srvport[c->srv];
	s.dport = side == 0 ? g->srvport[c->srv] : c->cport;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.win = win;
	s.payload_len = (uint16_t)plen;
	s.opts = opts;
	s.v6 = (uint8_t)v6;
	s.sack_lo = 0;
	s.sack_hi = 0;
	s.flow_label = (c->tsbase[side] >> 7) & 0xfffff;
	if (x != NULL && (x->mode & XM_FIXED)) {
		s.ip_id = x->ipid;
		s.tsval = x->tsval;
		s.tsecr = x->tsecr;
	} else {
		s.ip_id = c->ipid[side]++;
		s.tsval = c->tsbase[side] + (uint32_t)(t / NS_PER_MS);
		s.tsecr = (flags & TCPA_TCP_ACK) != 0 ? c->tslast[!side] : 0;
	}
	if (x != NULL && x->sack_lo != x->sack_hi) {
		s.opts = GEN_OPT_TS_SACK;
		s.sack_lo = x->sack_lo;
		s.sack_hi = x->sack_hi;
	}
	c->tslast[side] = s.tsval;
	if (x != NULL && (x->mode & XM_HIDDEN)) {
		g->imp[c - g->slots].o[side].gap_pending = 1;
		return;
	}
	gen_out_tcp(&g->out[c->file], t, &g->l2, &s);
	g->tcp_pkts++;
	mark_time(g, t);
	if (unlikely(g->imp != NULL))
		imp_observe(g, c, t, side, flags, seq, ack, plen, win,
			x != NULL ? x->cls : AN_NONE, x);
	if (unlikely(g->tcp_pkts >= g->mal_next))
		malformed_due(g, t);
}

static inline void
emit(struct gen *g, struct conn *c, uint64_t t, unsigned side, uint8_t flags, uint32_t seq,
		uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win)
{
	emit_seg(g, c, t, side, flags, seq, ack, plen, opts, win, NULL);
}

static unsigned
split_owner(struct gen *g, const struct conn *c)
{
	struct tcpa_pkt p;
	struct tcpa_flow_key key;
	uint64_t h;

	if (g->a.split == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	if (c->flags & CF_V6) {
		memcpy(p.src.b, g->cli6[c->cli], 16);
		memcpy(p.dst.b, g->srv6[c->srv], 16);
		p.family = 6;
	} else {
		tcpa_ip_set_v4(&p.src, g->cli4[c->cli]);
		tcpa_ip_set_v4(&p.dst, g->srv4[c->srv]);
		p.family = 4;
	}
	p.sport = c->cport;
	p.dport = g->srvport[c->srv];
	/* As the parser keeps tags: (outer << 12) | inner; a single tag alone. */
	if (g->l2.ntags == 2)
		p.vlan = (uint32_t)g->l2.tag[0] << 12 | g->l2.tag[1];
	else if (g->l2.ntags == 1)
		p.vlan = g->l2.tag[0];
	tcpa_flow_key_make(&p, &key);
	h = tcpa_flow_key_hash(&key, &g->secret);
	return tcpa_flow_owner(h, g->a.split);
}

/*
 * Tuple of connection number k. Clients in turn; each client's ports count
 * up from 32768; after 32768 ports a client's (addr, port) pairs move to the
 * next server endpoint, so no 4-tuple ever repeats.
 */
static void
conn_tuple(struct gen *g, struct conn *c, uint64_t k)
{
	uint32_t nc = g->a.clients, ns = g->a.servers;
	uint64_t q = k / nc;
	uint32_t port = (uint32_t)(q % PORT_COUNT);
	uint64_t epoch = q / PORT_COUNT;
	uint64_t x = g->a.seed ^ (k % nc) << 20 ^ port;
	uint32_t base = (uint32_t)(tcpa_splitmix64(&x) % ns);

	c->k = (uint32_t)k;
	c->cli = (uint16_t)(k % nc);
	c->cport = (uint16_t)(PORT_FIRST + port);
	c->srv = (uint16_t)((base + epoch) % ns);
}

/* Common to every connection: tuple, family, ISNs, file; truth counted. */
static void
conn_init(struct gen *g, struct conn *c, uint8_t fate)
{
	uint64_t k = g->started++;
	int v6;

	memset(c, 0, sizeof(*c));
	conn_tuple(g, c, k);
	v6 = g->a.ipv6_pct != 0 && rnd_below(g, 100) < g->a.ipv6_pct;
	c->flags = v6 ? CF_V6 : 0;
	c->nxt[0] = rnd32(g);
	c->nxt[1] = rnd32(g);
	c->tsbase[0] = rnd32(g);
	c->tsbase[1] = rnd32(g);
	c->ipid[0] = (uint16_t)rnd32(g);
	c->ipid[1] = (uint16_t)rnd32(g);
	c->fate = fate;
	c->file = (uint16_t)split_owner(g, c);
	g->fates[fate]++;
	g->flows++;
	if (fate_end[fate][0] != ST_NONE)
		g->cst[v6][c->cli][fate_end[fate][0]]++;
	if (fate_end[fate][1] != ST_NONE)
		g->sst[v6][c->srv][fate_end[fate][1]]++;
}

static uint8_t
draw_fate(struct gen *g)
{
	uint64_t total = g->a.conns + g->a.midstream;
	uint64_t rest = total - g->started;
	uint64_t mid_rest = g->a.midstream - g->mid_started;
	uint32_t r;
	unsigned i;

	/* Exactly --midstream of them, spread at random among the others. */
	if (mid_rest != 0 && (uint64_t)rnd_below(g, (uint32_t)rest) < mid_rest) {
		g->mid_started++;
		return FATE_midstream;
	}
	r = rnd_below(g, g->wtotal);
	for (i = 0; i < FATE_MIX_MAX; i++) {
		if (r < g->a.weight[i])
			return (uint8_t)i;
		r -= g->a.weight[i];
	}
	return FATE_open; /* not reached */
}

static void
msg_begin(struct conn *c, int server, uint32_t bytes)
{
	c->phase = PH_DATA;
	c->left = bytes;
	c->unacked = 0;
	if (server)
		c->flags |= CF_SRV_MSG;
	else
		c->flags &= ~CF_SRV_MSG;
}

static void
lc_start(struct gen *g, struct conn *c)
{
	uint8_t fate = draw_fate(g);

	conn_init(g, c, fate);
	if (g->imp != NULL)
		memset(&g->imp[c - g->slots], 0, sizeof(g->imp[0]));
	c->exch = (uint16_t)g->a.data;
	if (fate == FATE_midstream) {
		if (c->exch == 0)
			c->exch = 1;
		msg_begin(c, 0, g->a.req);
	} else {
		c->phase = PH_SYN;
	}
}

/* After the handshake or the last exchange: the next phase. */
static void
lc_next_exchange(struct gen *g, struct conn *c)
{
	if (c->exch != 0) {
		msg_begin(c, 0, g->a.req);
		return;
	}
	switch (c->fate) {
	case FATE_fin_client:
	case FATE_fin_server:
	case FATE_leak:
		c->phase = PH_FIN1;
		break;
	case FATE_rst:
		c->phase = PH_RST;
		break;
	default:
		c->phase = PH_DONE;
		break;
	}
}

/* The receiver acknowledged everything sent of the message: what comes next. */
static void
data_acked(struct gen *g, struct conn *c)
{
	unsigned d = (c->flags & CF_SRV_MSG) != 0;

	c->unacked = 0;
	if (c->left != 0) {
		c->phase = PH_DATA;
	} else if (d == 0) {
		msg_begin(c, 1, g->a.resp);
	} else {
		c->exch--;
		lc_next_exchange(g, c);
	}
}

/* ---- impairment episodes ---- */

/* The usual gap between two segments of a connection, from the impairments' stream. */
static inline uint64_t
imp_gap(struct gen *g)
{
	return (g->gap_ns * (512 + (irnd32(g) & 1023))) / 1024 + 1;
}

/* "Right after": a small fraction of the gap. */
static inline uint64_t
imp_soon(struct gen *g)
{
	return g->gap_ns / 8 + 1 + (irnd32(g) & 63);
}

static struct imp_seg *
imp_push(struct imp_conn *ic, uint64_t at, unsigned side, uint8_t flags, uint32_t seq,
		uint32_t ack, uint32_t len)
{
	struct imp_seg *x = &ic->q[ic->qn++];

	memset(x, 0, sizeof(*x));
	x->at = at;
	x->side = (uint8_t)side;
	x->flags = flags;
	x->seq = seq;
	x->ack = ack;
	x->len = (uint16_t)len;
	x->cls = AN_NONE;
	return x;
}

/* Send the next scripted segment; @return ns until the connection's next one. */
static uint64_t
imp_script(struct gen *g, struct conn *c, struct imp_conn *ic, uint64_t t)
{
	const struct imp_seg *x = &ic->q[ic->qi++];

	emit_seg(g, c, t, x->side, x->flags, x->seq, x->ack, x->len, GEN_OPT_TS, GEN_WIN, x);
	if (ic->qi < ic->qn)
		return ic->q[ic->qi].at > t ? ic->q[ic->qi].at - t : 1;
	ic->qi = 0;
	ic->qn = 0;
	if (c->phase == PH_DONE)
		return 0;
	return imp_gap(g);
}

/*
 * --loss: segment [s, s + n) is lost after the tap. The sender goes on with
 * up to 3 more segments of the message, the receiver answers each with a
 * SACK ACK for the hole; the retransmission is fast after 3 of them, else
 * an RTO later. One ACK then covers everything.
 */
static uint64_t
imp_loss(struct gen *g, struct conn *c, struct imp_conn *ic, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & CF_SRV_MSG) != 0, r = !d;
	uint32_t s = c->nxt[d], left = c->left, n = left < SEG_PAYLOAD ? left : SEG_PAYLOAD;
	uint32_t pos = s, rseq = c->nxt[r];
	uint8_t fl0 = left == n ? (TCPA_TCP_PSH | A) : A;
	unsigned k, j;
	uint64_t at = t;
	struct imp_seg *x;

	for (k = 0; left != 0 && k < 4; k++) {
		uint32_t m = left < SEG_PAYLOAD ? left : SEG_PAYLOAD;

		left -= m;
		if (k != 0)
			at += imp_gap(g);
		imp_push(ic, at, d, left == 0 ? (TCPA_TCP_PSH | A) : A, pos, rseq, m);
		pos += m;
	}
	k--;    /* segments behind the lost one */
	for (j = 1; j <= k; j++) {
		at += imp_gap(g);
		x = imp_push(ic, at, r, A, rseq, s, 0);
		x->sack_lo = s + n;
		x->sack_hi = ic->q[j].seq + ic->q[j].len;
	}
	if (k == 3) {
		at += imp_gap(g);
		g->applied[AP_loss_fast]++;
	} else {
		at += imp_gap(g);
		if (at < t + RTO_NS)
			at = t + RTO_NS;
		g->applied[AP_loss_rto]++;
	}
	x = imp_push(ic, at, d, fl0, s, rseq, n);
	x->cls = k == 3 ? AN_fast_retransmission : AN_retransmission;
	/* Go-back-N: the segments behind the hole again, though SACKed. */
	for (j = 1; k < 3 && g->a.go_back_n && j <= k; j++) {
		const struct imp_seg *o = &ic->q[j];

		at += imp_gap(g);
		x = imp_push(ic, at, d, o->flags, o->seq, rseq, o->len);
		x->cls = AN_spurious_retransmission;
		g->applied[AP_go_back_n]++;
	}
	at += imp_gap(g);
	imp_push(ic, at, r, A, rseq, pos, 0);

	c->left = left;
	c->nxt[d] = pos;
	data_acked(g, c);
	return imp_script(g, c, ic, t);
}

/*
 * --reorder: the flight's two segments reach the tap swapped, the first
 * (sent first: lower IP ID, same TSval) @p dt after the second; the
 * receiver SACKs the second and then ACKs both.
 */
static uint64_t
imp_reorder(struct gen *g, struct conn *c, struct imp_conn *ic, uint64_t t, uint64_t dt)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & CF_SRV_MSG) != 0, r = !d;
	uint32_t s = c->nxt[d], n1 = SEG_PAYLOAD, n2, rseq = c->nxt[r];
	uint32_t tsval = c->tsbase[d] + (uint32_t)(t / NS_PER_MS), tsecr = c->tslast[r];
	uint16_t id = c->ipid[d];
	uint64_t at = t;
	struct imp_seg *x;

	c->left -= n1;
	n2 = c->left < SEG_PAYLOAD ? c->left : SEG_PAYLOAD;
	c->left -= n2;
	c->ipid[d] = (uint16_t)(id + 2);
	x = imp_push(ic, at, d, c->left == 0 ? (TCPA_TCP_PSH | A) : A, s + n1, rseq, n2);
	x->mode = XM_FIXED;
	x->ipid = (uint16_t)(id + 1);
	x->tsval = tsval;
	x->tsecr = tsecr;
	at += dt;
	x = imp_push(ic, at, d, A, s, rseq, n1);
	x->mode = XM_FIXED;
	x->ipid = id;
	x->tsval = tsval;
	x->tsecr = tsecr;
	x->cls = AN_out_of_order;
	at += imp_gap(g);
	x = imp_push(ic, at, r, A, rseq, s, 0);
	x->sack_lo = s + n1;
	x->sack_hi = s + n1 + n2;
	at += imp_gap(g);
	imp_push(ic, at, r, A, rseq, s + n1 + n2, 0);
	g->applied[AP_reorder]++;

	c->nxt[d] = s + n1 + n2;
	data_acked(g, c);
	return imp_script(g, c, ic, t);
}

/* The gap a reordered pair may have: well within the RTT. 0: none fits. */
static uint64_t
imp_reorder_dt(struct gen *g, const struct imp_conn *ic, uint64_t t)
{
	uint32_t win_us = ic->rtt_known ? ic->rtt_us : OOO_UNKNOWN_US;
	uint64_t dt = g->gap_ns / 4 + 1;

	if (dt > NS_PER_MS)
		dt = NS_PER_MS;
	if (2 * ((t + dt) / 1000 - t / 1000) < win_us)
		return dt;
	if (2 * ((t + 1) / 1000 - t / 1000) < win_us)
		return 1;
	return 0;
}

/* PH_DATA in impairment mode: the next data segment, impaired or not. */
static uint64_t
imp_data(struct gen *g, struct conn *c, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	struct imp_conn *ic = &g->imp[c - g->slots];
	unsigned d = (c->flags & CF_SRV_MSG) != 0, r = !d;
	uint32_t n = c->left < SEG_PAYLOAD ? c->left : SEG_PAYLOAD;
	uint32_t rest = c->left - n, s = c->nxt[d];
	unsigned kind = IMP_NONE, i;
	uint64_t dt = 0;
	struct imp_seg x;

	if (g->imp_total != 0) {
		uint32_t v = irnd_below(g, PCT_ALL);

		for (i = 0; i < 4; i++) {
			if (v < g->a.imp_pct[i]) {
				kind = i;
				break;
			}
			v -= g->a.imp_pct[i];
		}
	}
	if (kind != IMP_NONE) {
		int ok = n >= 2 && ic->o[0].seen && ic->o[1].seen;

		/* The receiver's duplicate ACKs must not be the segment revealing its gap. */
		if ((kind == IMP_LOSS || kind == IMP_REORDER) && ic->o[r].gap_pending)
			ok = 0;
		if (kind == IMP_REORDER) {
			ok = ok && c->unacked == 0 && n == SEG_PAYLOAD && rest >= 2;
			if (ok)
				dt = imp_reorder_dt(g, ic, t);
			ok = ok && dt != 0;
		}
		if (!ok) {
			g->applied[AP_skipped]++;
			kind = IMP_NONE;
		}
	}
	if (kind == IMP_LOSS)
		return imp_loss(g, c, ic, t);
	if (kind == IMP_REORDER)
		return imp_reorder(g, c, ic, t, dt);

	memset(&x, 0, sizeof(x));
	x.cls = AN_NONE;
	if (kind == IMP_TAP) {
		x.mode = XM_HIDDEN;
		g->applied[AP_tap_loss]++;
	}
	c->left = rest;
	emit_seg(g, c, t, d, rest == 0 ? (TCPA_TCP_PSH | A) : A, s, c->nxt[r], n, GEN_OPT_TS,
		GEN_WIN, &x);
	c->nxt[d] += n;
	if (c->left == 0 || ++c->unacked == 2)
		c->phase = PH_DATA_ACK;
	if (kind == IMP_DUP) {
		/* The same frame again: right after itself, or after the ACK covering it. */
		uint64_t at = t;
		struct imp_seg *y;

		if (c->phase == PH_DATA_ACK && (irnd32(g) & 1) != 0) {
			at += imp_gap(g);
			imp_push(ic, at, r, A, c->nxt[r], c->nxt[d], 0);
			data_acked(g, c);
			g->applied[AP_dup_spurious]++;
		} else {
			g->applied[AP_dup]++;
		}
		at += imp_soon(g);
		y = imp_push(ic, at, d, rest == 0 ? (TCPA_TCP_PSH | A) : A, s, c->nxt[r], n);
		y->mode = XM_FIXED;
		y->ipid = (uint16_t)(c->ipid[d] - 1);
		y->tsval = c->tslast[d];
		y->tsecr = c->tslast[r];
		y->cls = ic->qn == 2 ? AN_spurious_retransmission : AN_retransmission;
		return ic->q[0].at - t;
	}
	/* As lc_step: the main stream's jitter, so that rates of 0 change nothing. */
	return (g->gap_ns * (512 + (rnd32(g) & 1023))) / 1024 + 1;
}

/*
 * Send the next segment of @p c at @p t.
 * @return ns until its next segment, or 0 when its story is over.
 */
static uint64_t
lc_step(struct gen *g, struct conn *c, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned a = c->fate == FATE_fin_server; /* the side that closes first */
	unsigned d = (c->flags & CF_SRV_MSG) != 0; /* the side sending data */
	uint32_t n;

	if (unlikely(g->imp != NULL)) {
		struct imp_conn *ic = &g->imp[c - g->slots];

		if (ic->qi < ic->qn)
			return imp_script(g, c, ic, t);
		if (c->phase == PH_DATA)
			return imp_data(g, c, t);
		if (c->phase == PH_SYN_RTX) {
			struct imp_seg x;

			memset(&x, 0, sizeof(x));
			x.cls = AN_retransmission;
			g->applied[AP_syn_repeat]++;
			emit_seg(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0] - 1, 0, 0, GEN_OPT_SYN_TS,
				GEN_SYN_WIN, &x);
			return 0;
		}
	}
	switch (c->phase) {
	case PH_SYN:
		emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0], 0, 0, GEN_OPT_SYN_TS, GEN_SYN_WIN);
		c->nxt[0]++;
		if (c->fate == FATE_refused) {
			c->phase = PH_REFUSE;
		} else if (c->fate == FATE_unanswered) {
			c->phase = PH_SYN_RTX;
			return g->rtx_ns;
		} else {
			c->phase = PH_SYNACK;
		}
		break;
	case PH_SYN_RTX:
		emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0] - 1, 0, 0, GEN_OPT_SYN_TS, GEN_SYN_WIN);
		return 0;
	case PH_REFUSE:
		emit(g, c, t, 1, TCPA_TCP_RST | A, 0, c->nxt[0], 0, GEN_OPT_NONE, 0);
		return 0;
	case PH_SYNACK:
		emit(g, c, t, 1, TCPA_TCP_SYN | A, c->nxt[1], c->nxt[0], 0, GEN_OPT_SYN_TS,
			GEN_SYN_WIN);
		c->nxt[1]++;
		if (c->fate == FATE_half_open)
			return 0;
		c->phase = PH_ACK3;
		break;
	case PH_ACK3:
		emit(g, c, t, 0, A, c->nxt[0], c->nxt[1], 0, GEN_OPT_TS, GEN_WIN);
		lc_next_exchange(g, c);
		break;
	case PH_DATA:
		n = c->left < SEG_PAYLOAD ? c->left : SEG_PAYLOAD;
		c->left -= n;
		emit(g, c, t, d, c->left == 0 ? (TCPA_TCP_PSH | A) : A, c->nxt[d], c->nxt[!d], n,
			GEN_OPT_TS, GEN_WIN);
		c->nxt[d] += n;
		if (c->left == 0 || ++c->unacked == 2)
			c->phase = PH_DATA_ACK;
		break;
	case PH_DATA_ACK:
		emit(g, c, t, !d, A, c->nxt[!d], c->nxt[d], 0, GEN_OPT_TS, GEN_WIN);
		data_acked(g, c);
		break;
	case PH_FIN1:
		emit(g, c, t, a, TCPA_TCP_FIN | A, c->nxt[a], c->nxt[!a], 0, GEN_OPT_TS, GEN_WIN);
		c->nxt[a]++;
		c->phase = PH_FIN1_ACK;
		break;
	case PH_FIN1_ACK:
		emit(g, c, t, !a, A, c->nxt[!a], c->nxt[a], 0, GEN_OPT_TS, GEN_WIN);
		if (c->fate == FATE_leak)
			return 0;
		c->phase = PH_FIN2;
		break;
	case PH_FIN2:
		emit(g, c, t, !a, TCPA_TCP_FIN | A, c->nxt[!a], c->nxt[a], 0, GEN_OPT_TS, GEN_WIN);
		c->nxt[!a]++;
		c->phase = PH_FIN2_ACK;
		break;
	case PH_FIN2_ACK:
		emit(g, c, t, a, A, c->nxt[a], c->nxt[!a], 0, GEN_OPT_TS, GEN_WIN);
		return 0;
	case PH_RST:
		/* Abortive close: RST at the client's next sequence, in the window. */
		emit(g, c, t, 0, TCPA_TCP_RST | A, c->nxt[0], c->nxt[1], 0, GEN_OPT_TS, 0);
		return 0;
	default:
		return 0;
	}
	if (c->phase == PH_DONE)
		return 0;
	/* Jitter: uniform in [0.5, 1.5) times the mean gap, at least 1 ns. */
	return (g->gap_ns * (512 + (rnd32(g) & 1023))) / 1024 + 1;
}

/* Segments of one message and its ACKs. */
static uint64_t
msg_pkts(uint32_t bytes)
{
	uint64_t segs = (bytes + SEG_PAYLOAD - 1) / SEG_PAYLOAD;

	return segs + (segs + 1) / 2;
}

static uint64_t
fate_pkts(const struct args *a, unsigned fate)
{
	uint64_t data = (uint64_t)a->data * (msg_pkts(a->req) + msg_pkts(a->resp));

	switch (fate) {
	case FATE_fin_client:
	case FATE_fin_server:
		return 3 + data + 4;
	case FATE_leak:
		return 3 + data + 2;
	case FATE_open:
		return 3 + data;
	case FATE_rst:
		return 3 + data + 1;
	case FATE_midstream:
		return (a->data != 0 ? a->data : 1) * (msg_pkts(a->req) + msg_pkts(a->resp));
	default:
		return 2;
	}
}

/*
 * Pick the mean segment gap (<= 1 ms) and the SYN retransmission delay
 * (1 s unless that alone would stretch the capture) so that the expected
 * capture length stays within TARGET_NS. Integer arithmetic only, so the
 * output does not depend on the compiler's floating-point choices.
 * @return the expected lifetime of one connection in ns (initial stagger).
 */
static uint64_t
lc_timing(struct gen *g, uint64_t total, uint64_t nslots)
{
	typedef unsigned __int128 u128;
	const struct args *a = &g->a;
	u128 wsum = 0, pkts_all, unans = 0;
	uint64_t pkts_m, life, rtx, rtx_share, rto_share = 0, gap;
	unsigned i;

	/* Expected segments in all, and connections with an unanswered SYN. */
	for (i = 0; i < FATE_MIX_MAX; i++)
		wsum += (u128)a->weight[i] * fate_pkts(a, i);
	pkts_all = (u128)a->midstream * fate_pkts(a, FATE_midstream);
	if (g->wtotal != 0) {
		pkts_all += (u128)a->conns * wsum / g->wtotal;
		unans = (u128)a->conns * a->weight[FATE_unanswered] / g->wtotal;
	}
	if (total == 0)
		total = 1;
	pkts_m = (uint64_t)(pkts_all * 1000 / total);      /* per connection, x1000 */

	/* Each slot runs ceil(total / nslots) lifetimes, plus the stagger. */
	life = TARGET_NS / ((total + nslots - 1) / nslots + 1);
	rtx = SYN_RTX_NS;
	if (unans * rtx / total > life / 2)
		rtx = (uint64_t)((u128)life * total / (2 * unans));
	rtx_share = (uint64_t)(unans * rtx / total);
	if (a->imp_pct[IMP_LOSS] != 0) {
		/* At most one RTO wait per lost data segment: keep half the time for the rest. */
		uint64_t segs = (uint64_t)a->data * ((a->req + SEG_PAYLOAD - 1) / SEG_PAYLOAD +
			(a->resp + SEG_PAYLOAD - 1) / SEG_PAYLOAD);

		rto_share = (uint64_t)((u128)segs * a->imp_pct[IMP_LOSS] * RTO_NS / PCT_ALL);
		if (rto_share > (life - rtx_share) / 2)
			rto_share = (life - rtx_share) / 2;
	}
	gap = (uint64_t)((u128)(life - rtx_share - rto_share) * 1000 / (pkts_m + 500));
	if (gap > MAX_RTT_NS)
		gap = MAX_RTT_NS;
	g->gap_ns = gap != 0 ? gap : 1;
	g->rtx_ns = rtx != 0 ? rtx : 1;
	g->mal_every = (uint64_t)(pkts_all / (a->malformed + 1));
	if (g->mal_every == 0)
		g->mal_every = 1;
	g->mal_next = g->mal_every;
	return (uint64_t)((u128)pkts_m * g->gap_ns / 1000) + rtx_share + rto_share;
}

/*
 * Radix heap of (time << SLOT_BITS | slot) keys. Keys only ever grow past
 * the last one taken (a segment is scheduled after the one being sent), so
 * a monotone priority queue fits: bucket i holds the keys whose highest bit
 * differing from the last key taken is bit i - 1. Push is O(1); a pop that
 * finds bucket 0 empty moves the lowest non-empty bucket down, a linear
 * scan. Each key moves at most 64 times and usually a few, all sequential
 * memory. With a million keys the whole run is ~1.5x faster than with a
 * 4-ary heap (what remains is cache misses on the slots). Keys are unique
 * (the slot), so the order is exactly that of any other min-heap.
 */
struct rheap_bucket {
	uint64_t *v;
	size_t n;
	size_t cap;
};

struct rheap {
	uint64_t last;
	size_t size;
	uint64_t used;          /* bit i - 1 set: bucket i (1..64) not empty */
	struct rheap_bucket b[65];
};

static inline unsigned
rheap_index(uint64_t key, uint64_t last)
{
	return key == last ? 0 : 64 - (unsigned)__builtin_clzll(key ^ last);
}

static inline int
rheap_add(struct rheap *h, unsigned i, uint64_t key)
{
	struct rheap_bucket *b = &h->b[i];

	if (unlikely(b->n == b->cap)) {
		size_t cap = b->cap != 0 ? 2 * b->cap : 256;
		uint64_t *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = key;
	if (i != 0)
		h->used |= 1ULL << (i - 1);
	return 0;
}

/* @p key must not be below the last key popped. */
static inline int
rheap_push(struct rheap *h, uint64_t key)
{
	h->size++;
	return rheap_add(h, rheap_index(key, h->last), key);
}

/* The smallest key; the heap must not be empty. */
static int
rheap_pop(struct rheap *h, uint64_t *key)
{
	if (h->b[0].n == 0) {
		struct rheap_bucket *b;
		uint64_t m;
		unsigned i = 1 + (unsigned)__builtin_ctzll(h->used);
		size_t j;

		b = &h->b[i];
		h->used &= ~(1ULL << (i - 1));
		m = b->v[0];
		for (j = 1; j < b->n; j++)
			m = b->v[j] < m ? b->v[j] : m;
		h->last = m;
		/* Every key of bucket i lands in a lower bucket. */
		for (j = 0; j < b->n; j++)
			if (rheap_add(h, rheap_index(b->v[j], m), b->v[j]) != 0)
				return -ENOMEM;
		b->n = 0;
	}
	h->size--;
	*key = h->b[0].v[--h->b[0].n];
	return 0;
}

static void
rheap_free(struct rheap *h)
{
	unsigned i;

	for (i = 0; i < TCPA_ARRAY_SIZE(h->b); i++)
		free(h->b[i].v);
}

static int
run_lifecycle(struct gen *g)
{
	uint64_t total = g->a.conns + g->a.midstream;
	uint64_t nslots = total < g->a.concurrent ? total : g->a.concurrent;
	struct rheap heap;
	uint64_t life, s;
	struct conn *slots;
	int rc = 0;

	memset(&heap, 0, sizeof(heap));
	life = lc_timing(g, total, nslots != 0 ? nslots : 1);
	if (nslots == 0)
		goto tail;
	slots = aligned_alloc(TCPA_CACHE_LINE, nslots * sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	g->slots = slots;
	if (g->a.imp_on) {
		g->imp = calloc(nslots, sizeof(*g->imp));
		if (g->imp == NULL) {
			free(slots);
			return -ENOMEM;
		}
	}
	/* Stagger the first starts over one expected lifetime. */
	for (s = 0; s < nslots && rc == 0; s++) {
		lc_start(g, &slots[s]);
		rc = rheap_push(&heap, (s * life / nslots) << SLOT_BITS | s);
	}
	while (rc == 0 && heap.size != 0) {
		uint64_t key, t, slot, d;
		struct conn *c;

		rc = rheap_pop(&heap, &key);
		if (rc != 0)
			break;
		t = key >> SLOT_BITS;
		slot = key & (MAX_SLOTS - 1);
		c = &slots[slot];
		d = lc_step(g, c, t);
		if (d == 0) {
			if (g->started == total)
				continue;
			lc_start(g, c);
			d = (g->gap_ns * (rnd32(g) & 1023)) / 1024 + 1;
		}
		if (unlikely(t + d >= (1ULL << TIME_BITS))) {
			fprintf(stderr, "tcpa-gen: packet time overflow\n");
			rc = -ERANGE;
			break;
		}
		rc = rheap_push(&heap, (t + d) << SLOT_BITS | slot);
	}
	free(slots);
	free(g->imp);
	g->imp = NULL;
	g->slots = NULL;
	rheap_free(&heap);
	if (rc != 0)
		return rc;
tail:
	/* Any malformed frames not yet placed go at the end. */
	g->mal_next = g->tcp_pkts;
	g->mal_every = 0;
	malformed_due(g, g->t_last);
	return 0;
}

/* ---- benchmark mode ---- */

static int
run_bench(struct gen *g)
{
	const uint8_t A = TCPA_TCP_ACK;
	uint64_t nc = g->a.concurrent, i, t = 0, dt, data;
	struct conn *conns = aligned_alloc(TCPA_CACHE_LINE, nc * sizeof(*conns));

	if (conns == NULL)
		return -ENOMEM;
	dt = TARGET_NS / g->a.packets;
	if (dt > 10000)
		dt = 10000;
	if (dt == 0)
		dt = 1;
	g->mal_every = g->a.packets / (g->a.malformed + 1);
	if (g->mal_every == 0)
		g->mal_every = 1;
	g->mal_next = g->mal_every;

	for (i = 0; i < nc; i++) {
		struct conn *c = &conns[i];

		conn_init(g, c, FATE_open);
		emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0], 0, 0, GEN_OPT_SYN_NOTS, GEN_SYN_WIN);
		c->nxt[0]++;
		t += dt;
		emit(g, c, t, 1, TCPA_TCP_SYN | A, c->nxt[1], c->nxt[0], 0, GEN_OPT_SYN_NOTS,
			GEN_SYN_WIN);
		c->nxt[1]++;
		t += dt;
		emit(g, c, t, 0, A, c->nxt[0], c->nxt[1], 0, GEN_OPT_NONE, GEN_WIN);
		t += dt;
	}
	data = g->a.packets - 3 * nc;
	for (i = 0; i < data; i++) {
		struct conn *c = &conns[rnd_below(g, (uint32_t)nc)];

		if (c->phase == 0) {
			unsigned d = rnd32(g) & 1;

			emit(g, c, t, d, TCPA_TCP_PSH | A, c->nxt[d], c->nxt[!d], BENCH_PAYLOAD,
				GEN_OPT_NONE, GEN_WIN);
			c->nxt[d] += BENCH_PAYLOAD;
			c->phase = (uint8_t)(1 + d);
		} else {
			unsigned d = c->phase - 1u;

			emit(g, c, t, !d, A, c->nxt[!d], c->nxt[d], 0, GEN_OPT_NONE, GEN_WIN);
			c->phase = 0;
		}
		t += dt;
	}
	free(conns);
	g->mal_next = g->tcp_pkts;
	g->mal_every = 0;
	malformed_due(g, g->t_last);
	return 0;
}

/* ---- truth ---- */

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void
json_endpoint(FILE *fp, int *first, const char *key, const char *role, const uint64_t *st)
{
	unsigned i, any = 0;

	for (i = 1; i < ST_MAX; i++)
		any |= st[i] != 0;
	if (!any)
		return;
	fprintf(fp, "%s\n    ", *first ? "" : ",");
	*first = 0;
	json_str(fp, key);
	fprintf(fp, ": {\"role\": \"%s\", \"states\": {", role);
	any = 0;
	for (i = 1; i < ST_MAX; i++) {
		if (st[i] == 0)
			continue;
		fprintf(fp, "%s\"%s\": %" PRIu64, any ? ", " : "", st_name[i], st[i]);
		any = 1;
	}
	fprintf(fp, "}}");
}

static void
truth_generator(FILE *fp, const struct gen *g)
{
	const struct args *a = &g->a;
	unsigned i;

	fprintf(fp, "  \"generator\": {\"tool\": \"tcpa-gen\", \"version\": 1, ");
	fprintf(fp, "\"mode\": \"%s\", \"output\": ", a->bench ? "bench" : "lifecycle");
	json_str(fp, a->out);
	fprintf(fp, ", \"seed\": %" PRIu64 ", \"conns\": %" PRIu64 ", \"concurrent\": %" PRIu64
		", \"data\": %u, \"req\": %u, \"resp\": %u, \"mix\": {",
		a->seed, a->conns, a->concurrent, a->data, a->req, a->resp);
	for (i = 0; i < FATE_MIX_MAX; i++)
		fprintf(fp, "%s\"%s\": %u", i != 0 ? ", " : "", fate_name[i], a->weight[i]);
	fprintf(fp, "}, \"midstream\": %" PRIu64 ", \"ipv6\": %u, ", a->midstream, a->ipv6_pct);
	if (a->vlan >= 0)
		fprintf(fp, "\"vlan\": %d, ", a->vlan);
	else
		fprintf(fp, "\"vlan\": null, ");
	if (a->qinq_outer >= 0)
		fprintf(fp, "\"qinq\": \"%d:%d\", ", a->qinq_outer, a->qinq_inner);
	else
		fprintf(fp, "\"qinq\": null, ");
	fprintf(fp, "\"malformed\": %" PRIu64 ", \"clients\": %u, \"servers\": %u, "
		"\"bench\": %s, \"bench_packets\": %" PRIu64 ", \"split\": %u, "
		"\"hash_seed\": %" PRIu64 ", \"epoch\": %u, \"gap_ns\": %" PRIu64
		", \"syn_rtx_ns\": %" PRIu64 ", \"first_ts\": %u.%06u, \"last_ts\": %u.%06u, "
		"\"duration_s\": %.6f},\n",
		a->malformed, a->clients, a->servers, a->bench ? "true" : "false",
		a->bench ? a->packets : 0, a->split, a->hash_seed, GEN_EPOCH_S, g->gap_ns,
		g->rtx_ns,
		GEN_EPOCH_S + (unsigned)(g->t_first / NS_PER_S),
		(unsigned)(g->t_first % NS_PER_S / 1000),
		GEN_EPOCH_S + (unsigned)(g->t_last / NS_PER_S),
		(unsigned)(g->t_last % NS_PER_S / 1000),
		(double)(g->t_last / 1000 - g->t_first / 1000) / 1e6);
}

static void
truth_impairments(FILE *fp, const struct gen *g)
{
	static const char *const anom_name[AN_MAX] = {
#define X(n) #n,
		GEN_ANOMS(X)
#undef X
	};
	static const char *const ap_name[AP_MAX] = {
#define X(n) #n,
		GEN_APPLIED(X)
#undef X
	};
	unsigned i;

	fprintf(fp, "  \"impairments\": {");
	for (i = 0; i < 4; i++)
		fprintf(fp, "\"%s\": %u.%03u, ", imp_opt[i], g->a.imp_pct[i] / PCT_ONE,
			g->a.imp_pct[i] % PCT_ONE);
	fprintf(fp, "\"rto_ms\": %u, \"applied\": {", (unsigned)(RTO_NS / NS_PER_MS));
	for (i = 0; i < AP_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", ap_name[i], g->applied[i]);
	fprintf(fp, "}, \"check_failures\": %" PRIu64 "},\n", g->imp_bad);
	fprintf(fp, "  \"anomalies\": {");
	for (i = 0; i < AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i], g->anom[i]);
	fprintf(fp, "},\n  \"wireshark_4_0\": {");
	for (i = 0; i < AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i], g->ws_anom[i]);
	fprintf(fp, "},\n  \"anomalies_exclusive\": {");
	for (i = 0; i < AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i],
			i == AN_retransmission ? g->anom[i] - g->anom[AN_fast_retransmission] :
			g->anom[i]);
	fprintf(fp, "},\n");
}

static int
truth_write(const struct gen *g)
{
	static const char *const mal_name[GEN_MAL_MAX] = {
#define X(n) #n,
		GEN_MALFORMED(X)
#undef X
	};
	FILE *fp = fopen(g->a.truth, "w");
	char addr[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 16];
	uint64_t frames = 0;
	int first = 1, f, rc;
	uint32_t i;

	if (fp == NULL) {
		fprintf(stderr, "tcpa-gen: cannot open %s: %s\n", g->a.truth, strerror(errno));
		return -errno;
	}
	for (i = 0; i < g->nout; i++)
		frames += g->out[i].frames;
	fprintf(fp, "{\n");
	truth_generator(fp, g);
	fprintf(fp, "  \"packets\": %" PRIu64 ",\n  \"tcp_packets\": %" PRIu64
		",\n  \"flows\": %" PRIu64 ",\n  \"malformed\": {", frames, g->tcp_pkts, g->flows);
	for (i = 0; i < GEN_MAL_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", mal_name[i], g->mal[i]);
	fprintf(fp, "},\n  \"fates\": {");
	for (i = 0; i < FATE_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", fate_name[i], g->fates[i]);
	fprintf(fp, "},\n");
	if (g->a.imp_on)
		truth_impairments(fp, g);
	if (g->a.split != 0) {
		fprintf(fp, "  \"split\": {\"files\": [");
		for (i = 0; i < g->nout; i++) {
			fprintf(fp, "%s", i != 0 ? ", " : "");
			json_str(fp, g->out[i].path);
		}
		fprintf(fp, "], \"packets\": [");
		for (i = 0; i < g->nout; i++)
			fprintf(fp, "%s%" PRIu64, i != 0 ? ", " : "", g->out[i].frames);
		fprintf(fp, "]},\n");
	}
	fprintf(fp, "  \"endpoints\": {");
	for (f = 0; f < 2; f++) {
		for (i = 0; i < g->a.servers; i++) {
			inet_ntop(f ? AF_INET6 : AF_INET, f ? (const void *)g->srv6[i] :
				(const void *)g->srv4[i], addr, sizeof(addr));
			snprintf(key, sizeof(key), f ? "[%s]:%u" : "%s:%u", addr, g->srvport[i]);
			json_endpoint(fp, &first, key, "server", g->sst[f][i]);
		}
	}
	for (f = 0; f < 2; f++) {
		for (i = 0; i < g->a.clients; i++) {
			inet_ntop(f ? AF_INET6 : AF_INET, f ? (const void *)g->cli6[i] :
				(const void *)g->cli4[i], addr, sizeof(addr));
			json_endpoint(fp, &first, addr, "client", g->cst[f][i]);
		}
	}
	fprintf(fp, "%s}\n}\n", first ? "" : "\n  ");
	rc = ferror(fp) ? -EIO : 0;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		fprintf(stderr, "tcpa-gen: writing %s failed\n", g->a.truth);
	return rc;
}

static void
gen_free(struct gen *g)
{
	uint32_t i;
	int f;

	for (i = 0; i < g->nout; i++)
		free(g->out[i].path);
	free(g->out);
	free(g->cli4);
	free(g->cli6);
	free(g->climac);
	free(g->srv4);
	free(g->srv6);
	free(g->srvmac);
	free(g->srvport);
	for (f = 0; f < 2; f++) {
		free(g->cst[f]);
		free(g->sst[f]);
	}
	free(g);
}

int
main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	uint64_t x, frames = 0;
	uint32_t i;
	int rc;

	if (g == NULL)
		return 1;
	if (parse_args(&g->a, argc, argv) != 0 || check_args(g) != 0) {
		free(g);
		return 2;
	}
	x = g->a.seed;
	for (i = 0; i < 4; i++)
		g->rng[i] = tcpa_splitmix64(&x);
	x = g->a.seed ^ 0x696d706169727321ULL;     /* the impairments' own stream */
	for (i = 0; i < 4; i++)
		g->irng[i] = tcpa_splitmix64(&x);
	if (g->a.vlan >= 0) {
		g->l2.ntags = 1;
		g->l2.tag[0] = (uint16_t)g->a.vlan;
	} else if (g->a.qinq_outer >= 0) {
		g->l2.ntags = 2;
		g->l2.tag[0] = (uint16_t)g->a.qinq_outer;
		g->l2.tag[1] = (uint16_t)g->a.qinq_inner;
	}
	tcpa_hash_secret_init(&g->secret, g->a.hash_seed);
	gen_out_global_init();
	g->mal_next = UINT64_MAX;

	rc = addr_init(g);
	if (rc == 0)
		rc = outputs_open(g);
	if (rc == 0)
		rc = g->a.bench ? run_bench(g) : run_lifecycle(g);
	if (rc == -ENOMEM)
		fprintf(stderr, "tcpa-gen: out of memory\n");
	if (outputs_close(g) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && g->a.truth != NULL)
		rc = truth_write(g);
	if (rc != 0) {
		gen_free(g);
		return 1;
	}

	for (i = 0; i < g->nout; i++)
		frames += g->out[i].frames;
	if (g->a.split != 0)
		for (i = 0; i < g->nout; i++)
			printf("%s: %" PRIu64 " packets\n", g->out[i].path, g->out[i].frames);
	printf("tcpa-gen: %" PRIu64 " packets (%" PRIu64 " TCP, %" PRIu64 " malformed), "
		"%" PRIu64 " flows, %.3f s of packet time\n",
		frames, g->tcp_pkts, g->mal_done, g->flows,
		(double)(g->t_last - g->t_first) / 1e9);
	if (g->imp_bad != 0) {
		fprintf(stderr, "tcpa-gen: internal error: %" PRIu64 " impaired segments do not "
			"show in the capture as the truth says (check_failures)\n", g->imp_bad);
		gen_free(g);
		return 1;
	}
	if (g->t_last - g->t_first >= WARN_NS)
		fprintf(stderr, "tcpa-gen: warning: capture lasts %.1f s: tcpa may expire "
			"early handshakes (30 s) before its end\n",
			(double)(g->t_last - g->t_first) / 1e9);
	if (g->t_last - g->t_first >= WARN_NS && g->a.imp_pct[IMP_LOSS] != 0)
		fprintf(stderr, "tcpa-gen: (--loss: each RTO retransmission waits %u ms and is "
			"never shortened; raise --concurrent or lower --conns or --loss)\n",
			(unsigned)(RTO_NS / NS_PER_MS));
	gen_free(g);
	return 0;
}
