/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture files for --pcap: checked and counted before the dataplane
 * starts (a bad file is a clear error, not a silent empty report; the
 * frame count tells the RX core when the capture is over), and several
 * files merged by timestamp into one, as mergecap does, so that "several
 * --pcap files are analyzed as one capture" keeps packet time monotonic.
 * libpcap reads both pcap and pcapng.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "tcpa_app.h"

static pcap_t *
open_capture(const char *file)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(file, err);

	if (p == NULL) {
		fprintf(stderr, "tcpa: cannot read capture '%s': %s\n", file, err);
		return NULL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "tcpa: capture '%s' has link type %s; tcpa reads Ethernet "
			"captures (capture on an interface, not on 'any')\n", file,
			pcap_datalink_val_to_name(pcap_datalink(p)) != NULL ?
			pcap_datalink_val_to_name(pcap_datalink(p)) : "unknown");
		pcap_close(p);
		return NULL;
	}
	return p;
}

static int
count_frames(const char *file, uint64_t *n)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = open_capture(file);
	int rc;

	if (p == NULL)
		return -1;
	*n = 0;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1)
		(*n)++;
	if (rc == PCAP_ERROR)
		fprintf(stderr, "tcpa: warning: '%s' is cut short after %lu frames (%s); "
			"analyzing those\n", file, (unsigned long)*n, pcap_geterr(p));
	pcap_close(p);
	return 0;
}

static int
ts_before(const struct pcap_pkthdr *a, const struct pcap_pkthdr *b)
{
	return a->ts.tv_sec < b->ts.tv_sec ||
		(a->ts.tv_sec == b->ts.tv_sec && a->ts.tv_usec < b->ts.tv_usec);
}

struct src {
	pcap_t *p;
	struct pcap_pkthdr *h;
	const u_char *d;
	int live;
};

static int
merge(char **files, unsigned n, const char *out, uint64_t *frames)
{
	struct src *s = calloc(n, sizeof(*s));
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	pcap_dumper_t *dump = NULL;
	int rc = -1;

	if (s == NULL || dead == NULL)
		goto out;
	dump = pcap_dump_open(dead, out);
	if (dump == NULL) {
		fprintf(stderr, "tcpa: cannot write '%s': %s\n", out, pcap_geterr(dead));
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		s[i].p = open_capture(files[i]);
		if (s[i].p == NULL)
			goto out;
		s[i].live = pcap_next_ex(s[i].p, &s[i].h, &s[i].d) == 1;
	}
	*frames = 0;
	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < n; i++)
			if (s[i].live && (best < 0 || ts_before(s[i].h, s[best].h)))
				best = (int)i;
		if (best < 0)
			break;
		pcap_dump((u_char *)dump, s[best].h, s[best].d);
		(*frames)++;
		s[best].live = pcap_next_ex(s[best].p, &s[best].h, &s[best].d) == 1;
	}
	if (pcap_dump_flush(dump) != 0) {
		fprintf(stderr, "tcpa: writing '%s' failed\n", out);
		goto out;
	}
	rc = 0;
out:
	if (dump != NULL)
		pcap_dump_close(dump);
	for (unsigned i = 0; s != NULL && i < n; i++)
		if (s[i].p != NULL)
			pcap_close(s[i].p);
	if (dead != NULL)
		pcap_close(dead);
	free(s);
	return rc;
}

int
tcpa_capture_prepare(char **files, unsigned n, uint64_t *frames, char *merged, size_t len)
{
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int fd;

	merged[0] = '\0';
	/* One file goes to the driver as is, unless its name would break the vdev arguments. */
	if (n == 1 && strpbrk(files[0], ",=") == NULL)
		return count_frames(files[0], frames);
	snprintf(merged, len, "%s/tcpa-merged-XXXXXX", tmp);
	fd = mkstemp(merged);
	if (fd < 0) {
		fprintf(stderr, "tcpa: cannot create a temporary file in %s: %s\n", tmp,
			strerror(errno));
		merged[0] = '\0';
		return -1;
	}
	close(fd);
	if (merge(files, n, merged, frames) != 0) {
		unlink(merged);
		merged[0] = '\0';
		return -1;
	}
	return 0;
}
