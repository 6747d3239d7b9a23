/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay driver for fuzz targets built without a fuzzing engine: feeds every
 * file named on the command line, or found directly in a directory named
 * there, to LLVMFuzzerTestOneInput(). Each input goes into a heap buffer of
 * exactly its size, so sanitisers catch any read past the end.
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (1U << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int n_inputs;

static int
replay_file(const char *path)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t size, got;
	FILE *fp;
	int rc = -1;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) != 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: unreadable or over %u bytes\n", path,
			REPLAY_MAX_INPUT);
		goto close;
	}
	size = (size_t)st.st_size;
	buf = malloc(size != 0 ? size : 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto close;
	}
	got = fread(buf, 1, size, fp);
	if (got != size) {
		fprintf(stderr, "replay: %s: short read (%zu of %zu)\n", path, got, size);
		goto free;
	}
	LLVMFuzzerTestOneInput(buf, size);
	n_inputs++;
	rc = 0;
free:
	free(buf);
close:
	fclose(fp);
	return rc;
}

static int
replay_dir(const char *path)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char full[4096];
		struct stat st;
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(full)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", path, de->d_name);
			rc = -1;
			continue;
		}
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(full) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) != 0)
				rc = 1;
		} else if (replay_file(argv[i]) != 0) {
			rc = 1;
		}
	}
	printf("replay: %u inputs\n", n_inputs);
	if (n_inputs == 0) {
		fprintf(stderr, "replay: no input found\n");
		rc = 1;
	}
	return rc;
}
