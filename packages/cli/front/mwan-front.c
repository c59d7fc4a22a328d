/*
 * mwan-front: what `mwan` starts as. With `mwan watch` running, `mwan apply`, `down`, `confirm`
 * and `status` are carried out by the daemon: this program sends it the command line over its
 * control socket and prints its answer, in about a millisecond instead of a node start. When no
 * daemon takes the command line (no socket, not root, another command, help), it runs the node
 * CLI with the same arguments, which does the work or says what is wrong.
 *
 * It parses nothing but the run dir: the daemon reads the command line as the node CLI would,
 * and answers {"fallback": true} for one that is not its own. Its answers to a front say
 * "front": true; one without it comes from a daemon that does not know fronts (an older one,
 * during an upgrade), which refused the line without running it, and the node CLI then asks it
 * in its own way. Once a request has been sent it is never run a second time: a lost answer is
 * an error (exit 1), as in the node CLI.
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
	/* An ignored signal stays ignored across exec: the CLI and what it runs get the default. */
	signal(SIGPIPE, SIG_DFL);
	execv(script, argv);
	say("cannot run ", script, ": ", strerror(errno));
	exit(127);
}

/*
 * The socket of the run dir the command line names: --run-dir, MWAN_RUN_DIR, /run/mwan. As in
 * the node CLI, the last --run-dir wins and an empty one means none. -1: run the node CLI.
 */
static int socket_path(int argc, char **argv, char *out, size_t size)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run-dir") == 0) {
			/* No value: the node CLI says so. */
			if (i + 1 >= argc)
				return -1;
			dir = argv[++i];
		} else if (strncmp(argv[i], "--run-dir=", 10) == 0) {
			dir = argv[i] + 10;
		}
	}
	if (!dir || !dir[0]) {
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

/* Four hex digits at p (before end) into *v; -1 when they are not. */
static int hex4(const char *p, const char *end, unsigned *v)
{
	if (end - p < 4)
		return -1;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Code point cp as UTF-8 into u; returns the number of bytes. */
static size_t utf8(unsigned cp, char *u)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (char)(0xf0 | cp >> 18);
	u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The JSON string at p, unescaped into `out` (UTF-8) unless out is NULL; returns the position
 * after it, or NULL when there is none. Neither this nor the other parsers read past `end`:
 * the answer is not NUL-terminated.
 */
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
		const char *simple = NULL;
		switch (*p) {
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
		unsigned cp, low;
		if (*p != 'u' || hex4(p + 1, end, &cp))
			return NULL;
		p += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* A high surrogate: with a low one after it, one code point; alone, U+FFFD. */
			if (end - p >= 3 && p[1] == '\\' && p[2] == 'u' && !hex4(p + 3, end, &low) && low >= 0xdc00 && low <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
				p += 6;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd;
		}
		char u[4];
		size_t n = utf8(cp, u);
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

static const char *skip_digits(const char *p, const char *end)
{
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/*
 * The JSON number at p. *integer: it has no fraction or exponent; then *value is its value,
 * held at most 9999 in size, which keeps every exit code beyond 255 out of range without overflow.
 */
static const char *json_number(const char *p, const char *end, int *integer, long *value)
{
	int negative = p < end && *p == '-';
	if (negative)
		p++;
	const char *digits = p;
	if (!(p = skip_digits(p, end)) || (*digits == '0' && p - digits > 1))
		return NULL;
	long v = 0;
	for (const char *d = digits; d < p; d++)
		v = v < 1000 ? v * 10 + (*d - '0') : v;
	*value = negative ? -v : v;
	*integer = 1;
	if (p < end && *p == '.') {
		*integer = 0;
		if (!(p = skip_digits(p + 1, end)))
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*integer = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = skip_digits(p, end)))
			return NULL;
	}
	return p;
}

static const char *json_word(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* Past the JSON value at p (objects and arrays nested at most 32 deep), or NULL: keys the front does not read. */
static const char *json_skip(const char *p, const char *end, int depth)
{
	int integer;
	long value;
	if (p >= end || depth > 32)
		return NULL;
	if (*p == '"')
		return json_string(p, end, NULL);
	if (*p == 't')
		return json_word(p, end, "true");
	if (*p == 'f')
		return json_word(p, end, "false");
	if (*p == 'n')
		return json_word(p, end, "null");
	if (*p != '{' && *p != '[')
		return json_number(p, end, &integer, &value);
	char close = *p == '{' ? '}' : ']';
	p = skip_space(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = json_string(p, end, NULL);
			p = p ? skip_space(p, end) : NULL;
			if (!p || p >= end || *p != ':')
				return NULL;
			p = skip_space(p + 1, end);
		}
		p = json_skip(p, end, depth + 1);
		p = p ? skip_space(p, end) : NULL;
		if (!p || p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_space(p + 1, end);
	}
}

struct answer {
	int has_exit;
	long exit_code;
	int fallback;
	int front;
	struct buf out, err;
};

/*
 * The daemon's answer: one JSON object with "exitCode", "stdout", "stderr", "front" and maybe "fallback",
 * in any order; other keys are skipped. 0 when it has an integer exitCode or says fallback.
 */
static int parse_answer(const char *p, const char *end, struct answer *a)
{
	p = skip_space(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	p = skip_space(p, end);
	for (;;) {
		struct buf key = {0};
		p = json_string(p, end, &key);
		if (!p || buf_add(&key, "", 1)) {
			free(key.data);
			return -1;
		}
		p = skip_space(p, end);
		if (p >= end || *p != ':') {
			free(key.data);
			return -1;
		}
		p = skip_space(p + 1, end);
		struct buf *into = strcmp(key.data, "stdout") == 0 ? &a->out : strcmp(key.data, "stderr") == 0 ? &a->err : NULL;
		int integer;
		long value;
		const char *after;
		if (into && p < end && *p == '"') {
			/* A key given twice: the last one counts, as with JSON.parse. */
			into->len = 0;
			p = json_string(p, end, into);
		} else if (strcmp(key.data, "exitCode") == 0 && p < end && (*p == '-' || (*p >= '0' && *p <= '9'))) {
			p = json_number(p, end, &integer, &value);
			if (p) {
				a->has_exit = integer;
				a->exit_code = value;
			}
		} else if (strcmp(key.data, "fallback") == 0 && (after = json_word(p, end, "true"))) {
			a->fallback = 1;
			p = after;
		} else if (strcmp(key.data, "front") == 0 && (after = json_word(p, end, "true"))) {
			a->front = 1;
			p = after;
		} else {
			p = json_skip(p, end, 0);
		}
		free(key.data);
		p = p ? skip_space(p, end) : NULL;
		if (!p || p >= end)
			return -1;
		if (*p == '}')
			break;
		if (*p != ',')
			return -1;
		p = skip_space(p + 1, end);
	}
	return a->has_exit || a->fallback ? 0 : -1;
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
	if (a.fallback || !a.front)
		run_cli(argv);
	write_all(1, a.out.data ? a.out.data : "", a.out.len);
	write_all(2, a.err.data ? a.err.data : "", a.err.len);
	return a.exit_code >= 0 && a.exit_code <= 255 ? (int)a.exit_code : 1;
}
