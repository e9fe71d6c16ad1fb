/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdnsctl: asks one replica's mod-bftdns for its status, or to sign or
 * refresh a zone, over the module's control socket (doc/operations.md).
 * The socket's path comes from knot.conf (-c, like knotc) or from -s.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/ctl/conf_find.h"
#include "coordinator/ctl/proto.h"
#include "coordinator/ctl/socket.h"
#include "coordinator/proto/error.h"

#define PROGRAM		"bftdnsctl"
#define TIMEOUT_DEFAULT	10

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONFIG = 2,
	EXIT_CONNECT = 3,
	EXIT_PROTOCOL = 4,
	EXIT_NOT_READY = 5,
	EXIT_REFUSED = 6,
};

static void usage_print(FILE *out)
{
	fprintf(out,
	"Usage: " PROGRAM " (-c KNOT_CONF [-i ID] | -s SOCKET) [-t SECONDS] COMMAND\n"
	"\n"
	"Talks to one replica's mod-bftdns over its control socket.\n"
	"\n"
	"Commands:\n"
	"  status            the replica's id, n, f, peer links, last batch, zones with\n"
	"                    their digests, signing protocol and counters\n"
	"  sign-zone ZONE    have the cluster re-sign ZONE\n"
	"  refresh ZONE      have the cluster refresh ZONE's signatures\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE    knot.conf of the replica; the socket is the control-socket\n"
	"                       item of its mod-bftdns section\n"
	"  -i, --id ID          the mod-bftdns section to use when several set control-socket\n"
	"  -s, --socket PATH    the control socket itself (instead of -c)\n"
	"  -t, --timeout SECS   give up on the replica after SECS seconds (default %d)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status:\n"
	"  0  the replica answered ok\n"
	"  1  bad usage (unknown command, bad zone name, bad option)\n"
	"  2  the configuration: unreadable, not a knot.conf, no mod-bftdns section,\n"
	"     no control-socket item\n"
	"  3  cannot connect: no socket file, connection refused, permission denied\n"
	"  4  protocol error: the replica's answer is malformed, late or cut short\n"
	"  5  the replica is not ready (it says why)\n"
	"  6  the replica refused the command (not supported, no such zone, failed)\n",
	TIMEOUT_DEFAULT);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROGRAM ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return code;
}

static int connect_explain(const char *path)
{
	int fd = ctl_socket_connect(path);
	if (fd >= 0) {
		return fd;
	}
	switch (-fd) {
	case ENOENT:
		return -fail(EXIT_CONNECT, "no control socket at %s: is knotd running with "
		             "mod-bftdns and control-socket set?", path);
	case ECONNREFUSED:
		return -fail(EXIT_CONNECT, "connection refused at %s: the socket is left "
		             "from a knotd that is not running", path);
	case EACCES:
		return -fail(EXIT_CONNECT, "permission denied on %s: run as knotd's user "
		             "or group", path);
	case ENOTSOCK:
		return -fail(EXIT_CONNECT, "%s is not a socket", path);
	default:
		return -fail(EXIT_CONNECT, "cannot connect to %s: %s", path, strerror(-fd));
	}
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	          (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* Sends the request and reads the whole answer (the server closes after it). */
static int exchange(int fd, const char *request, char *answer, size_t size, size_t *len,
                    int timeout_s)
{
	size_t req_len = strlen(request);
	if (send(fd, request, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
		return fail(EXIT_PROTOCOL, "the replica closed the connection: %s",
		            strerror(errno));
	}
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	*len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ret = poll(&pfd, 1, (int)ms_left(&deadline));
		if (ret < 0 && errno == EINTR) {
			continue;
		}
		if (ret <= 0) {
			return fail(EXIT_PROTOCOL, "no complete answer within %d s", timeout_s);
		}
		if (*len == size) {
			return fail(EXIT_PROTOCOL, "the answer is longer than %zu bytes", size);
		}
		ssize_t got = recv(fd, answer + *len, size - *len, 0);
		if (got < 0) {
			return fail(EXIT_PROTOCOL, "reading the answer: %s", strerror(errno));
		}
		if (got == 0) {
			return EXIT_OK;
		}
		*len += (size_t)got;
	}
}

static int error_line(const char *line)
{
	const char *kind = line + strlen("error: ");
	int code = strncmp(kind, "not-ready:", 10) == 0 ? EXIT_NOT_READY : EXIT_REFUSED;
	fprintf(stderr, PROGRAM ": the replica answered: %s\n", kind);
	return code;
}

/* Prints the data lines; the last line decides the exit status. */
static int answer_print(char *answer, size_t len)
{
	if (len == 0) {
		return fail(EXIT_PROTOCOL, "the replica closed the connection without an answer");
	}
	if (memchr(answer, '\0', len) != NULL || answer[len - 1] != '\n') {
		return fail(EXIT_PROTOCOL, "the answer is cut short or not text");
	}
	answer[len - 1] = '\0';
	char *line = answer;
	for (;;) {
		char *nl = strchr(line, '\n');
		if (nl != NULL) {
			*nl = '\0';
		}
		ctl_line_kind_t kind = ctl_response_line(line);
		if (kind != CTL_LINE_DATA && nl != NULL) {
			return fail(EXIT_PROTOCOL, "malformed answer: unexpected line '%.80s'", line);
		}
		switch (kind) {
		case CTL_LINE_DATA:
			if (nl == NULL) {
				return fail(EXIT_PROTOCOL, "malformed answer: no final ok/error line");
			}
			printf("%s\n", line);
			break;
		case CTL_LINE_OK:
			if (line[2] == ':') {
				printf("%s\n", line + 4);
			}
			return EXIT_OK;
		case CTL_LINE_ERROR:
			return error_line(line);
		default:
			return fail(EXIT_PROTOCOL, "malformed answer line '%.80s'", line);
		}
		line = nl + 1;
	}
}

static int request_make(int argc, char **argv, char *out, size_t size)
{
	char line[CTL_REQUEST_MAX], zone[BFTDNS_CTL_ZONE_LEN];
	ctl_cmd_t cmd;
	int want = 1;
	if (argc < 1) {
		return fail(EXIT_USAGE, "no command (status, sign-zone ZONE, refresh ZONE; see --help)");
	}
	if (strcmp(argv[0], "status") == 0) {
		cmd = CTL_CMD_STATUS;
	} else if (strcmp(argv[0], "sign-zone") == 0) {
		cmd = CTL_CMD_SIGN_ZONE;
		want = 2;
	} else if (strcmp(argv[0], "refresh") == 0) {
		cmd = CTL_CMD_REFRESH;
		want = 2;
	} else {
		return fail(EXIT_USAGE, "unknown command '%s' (status, sign-zone ZONE, refresh ZONE)",
		            argv[0]);
	}
	if (argc != want) {
		return fail(EXIT_USAGE, "%s takes %s", argv[0],
		            want == 1 ? "no argument" : "one zone name");
	}
	if (want == 2 && ctl_zone_normalise(argv[1], strlen(argv[1]), zone, sizeof(zone)) != 0) {
		return fail(EXIT_USAGE, "'%s' is not a zone name", argv[1]);
	}
	if (ctl_request_line(cmd, want == 2 ? zone : NULL, line, sizeof(line)) != BFT_EOK) {
		return fail(EXIT_USAGE, "the command is too long");
	}
	snprintf(out, size, "%s\n%s\n", CTL_VERSION_LINE, line);
	return EXIT_OK;
}

static int timeout_parse(const char *text, int *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 3600) {
		return fail(EXIT_USAGE, "--timeout must be 1 to 3600 seconds, not '%s'", text);
	}
	*out = (int)v;
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",  required_argument, NULL, 'c' },
		{ "id",      required_argument, NULL, 'i' },
		{ "socket",  required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL, *id = NULL, *sock = NULL;
	int timeout_s = TIMEOUT_DEFAULT, c, ret;
	while ((c = getopt_long(argc, argv, "+c:i:s:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'i': id = optarg; break;
		case 's': sock = optarg; break;
		case 't':
			if ((ret = timeout_parse(optarg, &timeout_s)) != EXIT_OK) {
				return ret;
			}
			break;
		case 'h': usage_print(stdout); return EXIT_OK;
		default:  usage_print(stderr); return EXIT_USAGE;
		}
	}
	if ((conf == NULL) == (sock == NULL) || (id != NULL && conf == NULL)) {
		return fail(EXIT_USAGE, "give either -c KNOT_CONF [-i ID] or -s SOCKET (see --help)");
	}
	char request[2 * CTL_REQUEST_MAX];
	if ((ret = request_make(argc - optind, argv + optind, request, sizeof(request))) != 0) {
		return ret;
	}
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (conf != NULL) {
		char err[1024];
		if (ctl_conf_find(conf, id, path, sizeof(path), err, sizeof(err)) != 0) {
			return fail(EXIT_CONFIG, "%s", err);
		}
	} else if (sock[0] != '/' || strlen(sock) >= sizeof(path)) {
		return fail(EXIT_USAGE, "--socket must be an absolute path of at most %zu bytes",
		            sizeof(path) - 1);
	} else {
		memcpy(path, sock, strlen(sock) + 1);
	}
	int fd = connect_explain(path);
	if (fd < 0) {
		return -fd;
	}
	static char answer[CTL_RESPONSE_MAX];
	size_t len = 0;
	ret = exchange(fd, request, answer, sizeof(answer), &len, timeout_s);
	close(fd);
	return ret != EXIT_OK ? ret : answer_print(answer, len);
}
