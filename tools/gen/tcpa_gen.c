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
};

/* ---- PRNG: xoshiro256**, seeded with splitmix64 ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rnd64(struct gen *g)
{
	uint64_t *s = g->rng;
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
		"sockets are not listed (as ss); endpoints with no live socket are left out.\n",
		GEN_EPOCH_S);
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
};

static const struct option long_opts[] = {
	{ "bench",      no_argument,       NULL, OPT_BENCH },
	{ "clients",    required_argument, NULL, OPT_CLIENTS },
	{ "concurrent", required_argument, NULL, OPT_CONCURRENT },
	{ "conns",      required_argument, NULL, OPT_CONNS },
	{ "data",       required_argument, NULL, OPT_DATA },
	{ "hash-seed",  required_argument, NULL, OPT_HASH_SEED },
	{ "help",       no_argument,       NULL, 'h' },
	{ "ipv6",       required_argument, NULL, OPT_IPV6 },
	{ "malformed",  required_argument, NULL, OPT_MALFORMED },
	{ "midstream",  required_argument, NULL, OPT_MIDSTREAM },
	{ "mix",        required_argument, NULL, OPT_MIX },
	{ "output",     required_argument, NULL, 'o' },
	{ "packets",    required_argument, NULL, OPT_PACKETS },
	{ "qinq",       required_argument, NULL, OPT_QINQ },
	{ "req",        required_argument, NULL, OPT_REQ },
	{ "resp",       required_argument, NULL, OPT_RESP },
	{ "seed",       required_argument, NULL, OPT_SEED },
	{ "servers",    required_argument, NULL, OPT_SERVERS },
	{ "split",      required_argument, NULL, OPT_SPLIT },
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

/* One segment of @p c sent by @p side (0 client, 1 server) at @p t. */
static inline void
emit(struct gen *g, struct conn *c, uint64_t t, unsigned side, uint8_t flags, uint32_t seq,
		uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win)
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
	s.ip_id = c->ipid[side]++;
	s.flow_label = (c->tsbase[side] >> 7) & 0xfffff;
	s.tsval = c->tsbase[side] + (uint32_t)(t / NS_PER_MS);
	s.tsecr = (flags & TCPA_TCP_ACK) != 0 ? c->tslast[!side] : 0;
	c->tslast[side] = s.tsval;
	gen_out_tcp(&g->out[c->file], t, &g->l2, &s);
	g->tcp_pkts++;
	mark_time(g, t);
	if (unlikely(g->tcp_pkts >= g->mal_next))
		malformed_due(g, t);
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
		p.src.b[10] = 0xff;
		p.src.b[11] = 0xff;
		memcpy(p.src.b + 12, g->cli4[c->cli], 4);
		p.dst.b[10] = 0xff;
		p.dst.b[11] = 0xff;
		memcpy(p.dst.b + 12, g->srv4[c->srv], 4);
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
	uint32_t base = (uint32_t)(splitmix64(&x) % ns);

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
		c->unacked = 0;
		if (c->left != 0) {
			c->phase = PH_DATA;
		} else if (d == 0) {
			msg_begin(c, 1, g->a.resp);
		} else {
			c->exch--;
			lc_next_exchange(g, c);
		}
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
	uint64_t pkts_m, life, rtx, rtx_share, gap;
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
	gap = (uint64_t)((u128)(life - rtx_share) * 1000 / (pkts_m + 500));
	if (gap > MAX_RTT_NS)
		gap = MAX_RTT_NS;
	g->gap_ns = gap != 0 ? gap : 1;
	g->rtx_ns = rtx != 0 ? rtx : 1;
	g->mal_every = (uint64_t)(pkts_all / (a->malformed + 1));
	if (g->mal_every == 0)
		g->mal_every = 1;
	g->mal_next = g->mal_every;
	return (uint64_t)((u128)pkts_m * g->gap_ns / 1000) + rtx_share;
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
		g->rng[i] = splitmix64(&x);
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
	if (g->t_last - g->t_first >= WARN_NS)
		fprintf(stderr, "tcpa-gen: warning: capture lasts %.1f s: tcpa may expire "
			"early handshakes (30 s) before its end\n",
			(double)(g->t_last - g->t_first) / 1e9);
	gen_free(g);
	return 0;
}
