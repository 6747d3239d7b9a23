/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpa-gen command line: --help, the options, and the checks that need
 * several of them together.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define MAX_HOSTS       64000u
#define MAX_SPLIT       1024u

static const char *const fate_help[GEN_FATE_MIX_MAX] = {
#define X(n, h) h,
	GEN_FATES(X)
#undef X
};

static void
usage_lifecycle(FILE *fp)
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
		GEN_SEG_PAYLOAD);
	for (i = 0; i < GEN_FATE_MIX_MAX; i++)
		fprintf(fp, "                         %-11s %s\n", gen_fate_name[i], fate_help[i]);
	fputs(
		"      --midstream N      N more connections without their handshake: data\n"
		"                         first, both ESTABLISHED, server = the lower port\n", fp);
}

static void
usage_impairments(FILE *fp)
{
	fprintf(fp,
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
		"\n",
		(unsigned)(GEN_RTO_NS / GEN_NS_PER_MS), 3 * GEN_SEG_PAYLOAD);
}

static void
usage_modes(FILE *fp)
{
	fputs(
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
		"  -h, --help             this text\n", fp);
}

static void
usage_truth(FILE *fp)
{
	fprintf(fp,
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
		GEN_EPOCH_S);
}

static void
usage(FILE *fp)
{
	usage_lifecycle(fp);
	usage_impairments(fp);
	usage_modes(fp);
	usage_truth(fp);
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
	uint32_t x = 0, scale = GEN_PCT_ONE;
	const char *p = s;
	int digits = 0;

	for (; *p >= '0' && *p <= '9' && x <= GEN_PCT_ALL; p++, digits++)
		x = x * 10 + (uint32_t)(*p - '0');
	x *= GEN_PCT_ONE;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++, digits++) {
			scale /= 10;
			x += (uint32_t)(*p - '0') * scale;
		}
	}
	if (digits == 0 || *p != '\0' || x > GEN_PCT_ALL) {
		fprintf(stderr, "tcpa-gen: %s: '%s' is not a percentage in 0..100 "
			"(at most 3 decimals)\n", opt, s);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

static int
parse_mix(struct gen_args *a, const char *spec)
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
		for (i = 0; i < GEN_FATE_MIX_MAX; i++)
			if (strcmp(tok, gen_fate_name[i]) == 0)
				break;
		if (i == GEN_FATE_MIX_MAX) {
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

static void
args_defaults(struct gen_args *a)
{
	memset(a, 0, sizeof(*a));
	a->seed = 1;
	a->conns = 100;
	a->concurrent = 100;
	a->data = 2;
	a->req = 100;
	a->resp = 500;
	a->weight[GEN_FATE_fin_client] = 50;
	a->weight[GEN_FATE_fin_server] = 20;
	a->weight[GEN_FATE_leak] = 10;
	a->weight[GEN_FATE_open] = 10;
	a->weight[GEN_FATE_rst] = 5;
	a->weight[GEN_FATE_refused] = 5;
	a->clients = 10;
	a->servers = 4;
	a->packets = 1000000;
	a->hash_seed = 1;
	a->vlan = -1;
	a->qinq_outer = -1;
	a->qinq_inner = -1;
}

static int
parse_qinq(struct gen_args *a, const char *arg)
{
	char buf[32];
	char *colon;
	uint32_t o = 0, i = 0;
	int rc;

	snprintf(buf, sizeof(buf), "%s", arg);
	colon = strchr(buf, ':');
	if (colon == NULL) {
		fprintf(stderr, "tcpa-gen: --qinq: '%s' is not OUTER:INNER\n", arg);
		return -EINVAL;
	}
	*colon = '\0';
	rc = parse_u32("--qinq", buf, 1, 4094, &o);
	if (rc == 0)
		rc = parse_u32("--qinq", colon + 1, 1, 4094, &i);
	a->qinq_outer = (int)o;
	a->qinq_inner = (int)i;
	return rc;
}

/* --loss, --tap-loss, --dup, --reorder: option c - OPT_LOSS is enum gen_imp_kind. */
static int
parse_imp(struct gen_args *a, int c, const char *arg)
{
	static const char *const name[GEN_IMP_MAX] = {
		"--loss", "--tap-loss", "--dup", "--reorder" };
	unsigned k = (unsigned)(c - OPT_LOSS);
	int rc;

	rc = parse_pct(name[k], arg, &a->imp_pct[k]);
	a->imp_on = 1;
	return rc;
}

/* Options of lifecycle and benchmark mode and the impairments. */
static int
parse_mode_opt(struct gen_args *a, int c, const char *arg)
{
	int rc = 0;

	switch (c) {
	case OPT_CONNS:
		rc = parse_u64("--conns", arg, 0, UINT32_MAX / 2, &a->conns);
		break;
	case OPT_CONCURRENT:
		rc = parse_u64("--concurrent", arg, 1, GEN_MAX_SLOTS - 1, &a->concurrent);
		break;
	case OPT_DATA:
		rc = parse_u32("--data", arg, 0, 65535, &a->data);
		break;
	case OPT_REQ:
		rc = parse_u32("--req", arg, 1, 1u << 24, &a->req);
		break;
	case OPT_RESP:
		rc = parse_u32("--resp", arg, 1, 1u << 24, &a->resp);
		break;
	case OPT_MIX:
		rc = parse_mix(a, arg);
		break;
	case OPT_MIDSTREAM:
		rc = parse_u64("--midstream", arg, 0, UINT32_MAX / 2, &a->midstream);
		break;
	case OPT_BENCH:
		a->bench = 1;
		break;
	case OPT_PACKETS:
		rc = parse_u64("--packets", arg, 1, 1ULL << 40, &a->packets);
		break;
	case OPT_LOSS:
	case OPT_TAP_LOSS:
	case OPT_DUP:
	case OPT_REORDER:
		return parse_imp(a, c, arg);
	case OPT_GO_BACK_N:
		a->go_back_n = 1;
		break;
	default:
		usage(stderr);
		return -EINVAL;
	}
	return rc;
}

/* One option: output, addresses and framing here, the rest by parse_mode_opt(). */
static int
parse_opt(struct gen_args *a, int c, const char *arg)
{
	uint32_t v = 0;
	int rc = 0;

	switch (c) {
	case 'h':
		usage(stdout);
		exit(0);
	case 'o':
		a->out = arg;
		break;
	case OPT_TRUTH:
		a->truth = arg;
		break;
	case OPT_SEED:
		rc = parse_u64("--seed", arg, 0, UINT64_MAX, &a->seed);
		break;
	case OPT_IPV6:
		rc = parse_u32("--ipv6", arg, 0, 100, &a->ipv6_pct);
		break;
	case OPT_VLAN:
		rc = parse_u32("--vlan", arg, 1, 4094, &v);
		a->vlan = (int)v;
		break;
	case OPT_QINQ:
		return parse_qinq(a, arg);
	case OPT_MALFORMED:
		rc = parse_u64("--malformed", arg, 0, UINT32_MAX, &a->malformed);
		break;
	case OPT_CLIENTS:
		rc = parse_u32("--clients", arg, 1, MAX_HOSTS, &a->clients);
		break;
	case OPT_SERVERS:
		rc = parse_u32("--servers", arg, 1, MAX_HOSTS, &a->servers);
		break;
	case OPT_SPLIT:
		rc = parse_u32("--split", arg, 1, MAX_SPLIT, &a->split);
		break;
	case OPT_HASH_SEED:
		/* 0 would make the secret random: never reproducible. */
		rc = parse_u64("--hash-seed", arg, 1, UINT64_MAX, &a->hash_seed);
		break;
	default:
		return parse_mode_opt(a, c, arg);
	}
	return rc;
}

int
gen_args_parse(struct gen_args *a, int argc, char **argv)
{
	int c, rc = 0;

	args_defaults(a);
	while (rc == 0 && (c = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1)
		rc = parse_opt(a, c, optarg);
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

/* The impairment rates: lifecycle mode only, 100% in all at most; sets g->imp_total. */
static int
check_imp(struct gen *g)
{
	const struct gen_args *a = &g->a;
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < GEN_IMP_MAX; i++)
		sum += a->imp_pct[i];
	if (a->bench) {
		fprintf(stderr, "tcpa-gen: --loss, --tap-loss, --dup and --reorder "
			"apply to lifecycle mode, not --bench\n");
		return -EINVAL;
	}
	if (sum > GEN_PCT_ALL) {
		fprintf(stderr, "tcpa-gen: --loss, --tap-loss, --dup and --reorder add "
			"up to more than 100%%\n");
		return -EINVAL;
	}
	g->imp_total = sum;
	return 0;
}

int
gen_args_check(struct gen *g)
{
	const struct gen_args *a = &g->a;
	uint64_t total = a->bench ? a->concurrent : a->conns + a->midstream;
	uint64_t room = (uint64_t)a->clients * GEN_PORT_COUNT * a->servers;
	unsigned i;

	g->wtotal = 0;
	for (i = 0; i < GEN_FATE_MIX_MAX; i++)
		g->wtotal += a->weight[i];
	if (!a->bench && a->conns != 0 && g->wtotal == 0) {
		fprintf(stderr, "tcpa-gen: --mix: all weights are 0\n");
		return -EINVAL;
	}
	if (total > room) {
		fprintf(stderr, "tcpa-gen: %" PRIu64 " connections need more 4-tuples than "
			"%u clients x %u ports x %u servers give: raise --clients or --servers\n",
			total, a->clients, GEN_PORT_COUNT, a->servers);
		return -EINVAL;
	}
	if (a->go_back_n && a->imp_pct[GEN_IMP_LOSS] == 0) {
		fprintf(stderr, "tcpa-gen: --go-back-n changes --loss episodes: give --loss too\n");
		return -EINVAL;
	}
	if (a->imp_on && check_imp(g) != 0)
		return -EINVAL;
	if (a->bench && a->packets < 3 * a->concurrent) {
		fprintf(stderr, "tcpa-gen: --packets %" PRIu64 " is less than the %" PRIu64
			" segments of the handshakes of --concurrent %" PRIu64 " connections\n",
			a->packets, 3 * a->concurrent, a->concurrent);
		return -EINVAL;
	}
	return 0;
}
