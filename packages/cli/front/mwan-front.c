/*
 * mwan-front: what `mwan` starts as. With `mwan watch` running, `mwan apply`, `down`, `confirm`
 * and `status` are carried out by the daemon: this program sends it the command line over its
 * control socket and prints its answer, in about a millisecond instead of a node start. When no
 * daemon takes the command line (no socket, not root, another command, help), it runs the node
 * CLI with the same arguments, which does the work or says what is wrong.
 *
 * It parses nothing but the run dir: the daemon reads the command line as the node CLI would,
 * and answers {"fallback": true} for one that is not its own. Once a request has been sent it is
 * never run a second time: a lost answer is an error (exit 1), as in the node CLI.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A request larger than this is no command line: the daemon closes the connection. */
#define MAX_REQUEST (64 * 1024)
/* The longest answer read: `status --json` of many links is far below it. */
#define MAX_ANSWER (64 * 1024 * 1024)

struct buf {
	char *data;
	size_t len, cap;
};

static int buf_grow(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *data = realloc(b->data, cap);
	if (!data)
		return -1;
	b->data = data;
	b->cap = cap;
	return 0;
}

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (buf_grow(b, n))
		return -1;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int buf_str(struct buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* A JSON string: quotes, backslashes and control bytes escaped, other bytes (UTF-8) as they are. */
static int buf_json(struct buf *b, const char *s)
{
	if (buf_str(b, "\""))
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		const char *out = esc;
		switch (*p) {
		case '"': out = "\\\""; break;
		case '\\': out = "\\\\"; break;
		case '\n': out = "\\n"; break;
		case '\r': out = "\\r"; break;
		case '\t': out = "\\t"; break;
		case '\b': out = "\\b"; break;
		case '\f': out = "\\f"; break;
		default:
			if (*p < 0x20)
				snprintf(esc, sizeof esc, "\\u%04x", *p);
			else {
				esc[0] = (char)*p;
				esc[1] = 0;
			}
		}
		if (buf_str(b, out))
			return -1;
	}
	return buf_str(b, "\"");
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* One line on stderr: "mwan: " and the four parts. */
static void say(const char *a, const char *b, const char *c, const char *d)
{
	struct buf m = {0};
	if (!buf_str(&m, "mwan: ") && !buf_str(&m, a) && !buf_str(&m, b) && !buf_str(&m, c) && !buf_str(&m, d) && !buf_str(&m, "\n"))
		write_all(2, m.data, m.len);
	free(m.data);
}

/* The node CLI, installed next to this program: <dir>/../bin/mwan.js. */
static void run_cli(char **argv)
{
	char self[PATH_MAX], script[PATH_MAX + 16];
	if (!realpath("/proc/self/exe", self)) {
		say("cannot find where mwan is installed: ", strerror(errno), "", "");
		exit(127);
	}
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(script, sizeof script, "%s/../bin/mwan.js", self);
	argv[0] = script;
	execv(script, argv);
	say("cannot run ", script, ": ", strerror(errno));
	exit(127);
}

/* The socket of the run dir the command line names: --run-dir, MWAN_RUN_DIR, /run/mwan. */
static int socket_path(int argc, char **argv, char *out, size_t size)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run-dir") == 0) {
			if (i + 1 >= argc)
				return -1;
			if (argv[i + 1][0])
				dir = argv[i + 1];
			i++;
		} else if (strncmp(argv[i], "--run-dir=", 10) == 0 && argv[i][10]) {
			dir = argv[i] + 10;
		}
	}
	if (!dir) {
		const char *env = getenv("MWAN_RUN_DIR");
		dir = env && env[0] ? env : "/run/mwan";
	}
	int n;
	if (dir[0] == '/') {
		n = snprintf(out, size, "%s/mwan.sock", dir);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return -1;
		n = snprintf(out, size, "%s/%s/mwan.sock", cwd, dir);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A parsed JSON string into `out` (UTF-8); returns the position after it, or NULL. */
static const char *json_string(const char *p, const char *end, struct buf *out)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p != '\\') {
			if (out && buf_add(out, p, 1))
				return NULL;
			continue;
		}
		if (++p >= end)
			return NULL;
		char c = *p;
		const char *simple = NULL;
		switch (c) {
		case '"': simple = "\""; break;
		case '\\': simple = "\\"; break;
		case '/': simple = "/"; break;
		case 'b': simple = "\b"; break;
		case 'f': simple = "\f"; break;
		case 'n': simple = "\n"; break;
		case 'r': simple = "\r"; break;
		case 't': simple = "\t"; break;
		}
		if (simple) {
			if (out && buf_add(out, simple, 1))
				return NULL;
			continue;
		}
		if (c != 'u')
			return NULL;
		unsigned long cp;
		char hex[5] = {0};
		if (end - p < 5)
			return NULL;
		memcpy(hex, p + 1, 4);
		char *stop;
		cp = strtoul(hex, &stop, 16);
		if (*stop)
			return NULL;
		p += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* A high surrogate: with the low one after it, one code point; alone, U+FFFD. */
			unsigned long low = 0;
			if (end - p >= 7 && p[1] == '\\' && p[2] == 'u') {
				memcpy(hex, p + 3, 4);
				low = strtoul(hex, &stop, 16);
				if (*stop)
					low = 0;
			}
			if (low >= 0xdc00 && low <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
				p += 6;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd;
		}
		char u[4];
		size_t n;
		if (cp < 0x80) {
			u[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | (cp >> 6));
			u[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | (cp >> 12));
			u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | (cp >> 18));
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (out && buf_add(out, u, n))
			return NULL;
	}
	return NULL;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

struct answer {
	int has_exit;
	long exit_code;
	int fallback;
	struct buf out, err;
};

/* The daemon's answer: one flat JSON object. 0 when it is one with an integer exitCode. */
static int parse_answer(const char *p, const char *end, struct answer *a)
{
	p = skip_space(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		p = skip_space(p, end);
		if (p < end && *p == '}')
			break;
		struct buf key = {0};
		p = json_string(p, end, &key);
		if (!p || buf_add(&key, "", 1)) {
			free(key.data);
			return -1;
		}
		p = skip_space(p, end);
		if (p >= end || *p++ != ':') {
			free(key.data);
			return -1;
		}
		p = skip_space(p, end);
		if (p >= end) {
			free(key.data);
			return -1;
		}
		struct buf *into = strcmp(key.data, "stdout") == 0 ? &a->out : strcmp(key.data, "stderr") == 0 ? &a->err : NULL;
		if (*p == '"') {
			p = json_string(p, end, into);
		} else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
			if (strcmp(key.data, "fallback") == 0)
				a->fallback = 1;
			p += 4;
		} else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
			p += 5;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			p += 4;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			char *stop;
			errno = 0;
			long v = strtol(p, &stop, 10);
			int integer = errno == 0 && stop < end && *stop != '.' && *stop != 'e' && *stop != 'E';
			if (strcmp(key.data, "exitCode") == 0 && integer) {
				a->has_exit = 1;
				a->exit_code = v;
			}
			p = stop;
			while (p < end && strchr("0123456789.eE+-", *p))
				p++;
		} else {
			p = NULL;
		}
		free(key.data);
		if (!p)
			return -1;
		p = skip_space(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
	return a->has_exit ? 0 : -1;
}

int main(int argc, char **argv)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (socket_path(argc, argv, path, sizeof path))
		run_cli(argv);

	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		run_cli(argv);
	const char *env = getenv("MWAN_RUN_DIR");
	struct buf req = {0};
	int bad = buf_str(&req, "{\"version\":1,\"command\":\"\",\"argv\":[");
	for (int i = 1; i < argc && !bad; i++)
		bad = (i > 1 && buf_str(&req, ",")) || buf_json(&req, argv[i]);
	bad = bad || buf_str(&req, "],\"front\":{\"cwd\":") || buf_json(&req, cwd) || buf_str(&req, ",\"runDir\":");
	bad = bad || (env && env[0] ? buf_json(&req, env) : buf_str(&req, "null")) || buf_str(&req, "}}\n");
	if (bad || req.len > MAX_REQUEST)
		run_cli(argv);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		run_cli(argv);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close(fd);
		run_cli(argv);
	}

	/* From here the request may reach the daemon: it is never made twice. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t sent = 0; sent < req.len;) {
		ssize_t w = write(fd, req.data + sent, req.len - sent);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			say("mwan watch at ", path, " failed to answer: ", strerror(errno));
			return 1;
		}
		sent += (size_t)w;
	}

	struct buf ans = {0};
	for (;;) {
		if (ans.len >= MAX_ANSWER || buf_grow(&ans, 65536))
			break;
		ssize_t r = read(fd, ans.data + ans.len, ans.cap - ans.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			say("mwan watch at ", path, " failed to answer: ", strerror(errno));
			return 1;
		}
		if (r == 0)
			break;
		ans.len += (size_t)r;
	}
	close(fd);

	struct answer a = {0};
	if (ans.len >= MAX_ANSWER || parse_answer(ans.data ? ans.data : "", (ans.data ? ans.data : "") + ans.len, &a)) {
		say("mwan watch at ", path, " ended the connection without an answer (did it stop?)", "");
		return 1;
	}
	if (a.fallback)
		run_cli(argv);
	write_all(1, a.out.data ? a.out.data : "", a.out.len);
	write_all(2, a.err.data ? a.err.data : "", a.err.len);
	return a.exit_code >= 0 && a.exit_code <= 255 ? (int)a.exit_code : 1;
}
