/* main.c: shadowsim's command line, the only place that prints an error and
 * picks an exit code (0 stopped cleanly, 2 bad usage or input).
 *
 *   shadowsim --port N --profiles FILE [--host ADDR] [--eval EVAL.json]
 *             [--seed S] [--threads N] [--header-timeout S] [--idle-timeout S]
 *             [--verbose]
 *
 * Prints one line, "listening on HOST:PORT", flushed, once the server
 * accepts connections (with --port 0 the port is the one the kernel picked),
 * then runs until SIGTERM or SIGINT. The signals are blocked in every thread
 * and taken with sigwait here, so no handler runs inside MHD's threads.
 * The simulation itself lives in the sim library (sim.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/esc.h"
#include "core/flags.h"
#include "sim/sim.h"

static const char usage_text[] =
    "usage: shadowsim --port N --profiles FILE [--host ADDR] [--eval EVAL.json]\n"
    "                 [--seed S] [--threads N] [--header-timeout S] [--idle-timeout S]\n"
    "                 [--verbose]\n"
    "\n"
    "A local OpenAI-compatible model simulator (POST /v1/chat/completions,\n"
    "GET /v1/models). --port 0 picks a free port; the first line on stdout is\n"
    "\"listening on HOST:PORT\". Stops on SIGTERM or SIGINT.\n"
    "\n"
    "  --port N          port to listen on (0: any free port)\n"
    "  --host ADDR       address to bind (default 127.0.0.1)\n"
    "  --profiles FILE   model profiles (latency, accuracy, prices, faults)\n"
    "  --eval EVAL.json  know the eval's items, so answers pass or fail its checks\n"
    "  --seed S          seed of every random choice (default: the profiles' seed, else 0)\n"
    "  --threads N       server threads (default: one per core)\n"
    "  --header-timeout S  close a connection that has not sent a whole request\n"
    "                    (line, headers, body) S seconds after opening or after\n"
    "                    its previous reply (default 10)\n"
    "  --idle-timeout S  close a connection with no traffic for S seconds (default 30)\n"
    "  --verbose         one line per request on stderr\n";

struct sim_args {
	const char *host;
	const char *profiles;
	const char *eval;
	long port;
	bool has_seed;
	long seed;
	long threads;
	long header_timeout;
	long idle_timeout;
	bool verbose;
	bool help;
};

static int parse_args(int argc, char **argv, struct sim_args *a, struct se_err *err)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"host", required_argument, NULL, 'H'},
	    {"profiles", required_argument, NULL, 'P'},
	    {"eval", required_argument, NULL, 'e'},
	    {"seed", required_argument, NULL, 's'},
	    {"threads", required_argument, NULL, 't'},
	    {"header-timeout", required_argument, NULL, 'T'},
	    {"idle-timeout", required_argument, NULL, 'I'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof(*a));
	a->port = -1;
	opterr = 0;
	int c, li = -1;
	while ((c = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
		if (flag_value_given(c, li, opts, optarg, err))
			return -1;
		li = -1;
		switch (c) {
		case 'p':
			if (flag_parse_long("--port", optarg, 0, 65535, &a->port, err))
				return -1;
			break;
		case 'H':
			a->host = optarg;
			break;
		case 'P':
			a->profiles = optarg;
			break;
		case 'e':
			a->eval = optarg;
			break;
		case 's':
			if (flag_parse_long("--seed", optarg, 0, 9007199254740991L, &a->seed, err))
				return -1;
			a->has_seed = true;
			break;
		case 't':
			if (flag_parse_long("--threads", optarg, 1, 1024, &a->threads, err))
				return -1;
			break;
		case 'T':
			if (flag_parse_long("--header-timeout", optarg, 1, 3600, &a->header_timeout,
					    err))
				return -1;
			break;
		case 'I':
			if (flag_parse_long("--idle-timeout", optarg, 1, 3600, &a->idle_timeout,
					    err))
				return -1;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			a->help = true;
			return 0;
		case ':':
			return se_fail(err, SE_USAGE, NULL, "option \"%s\" needs a value",
				       argv[optind - 1]);
		default:
			return flag_bad_option(c, argv, opts, err);
		}
	}
	if (optind < argc)
		return se_fail(err, SE_USAGE, NULL, "unexpected argument \"%s\"", argv[optind]);
	if (a->port < 0)
		return se_fail(err, SE_USAGE, NULL, "--port is required (0 picks a free port)");
	if (!a->profiles)
		return se_fail(err, SE_USAGE, NULL, "--profiles is required");
	return 0;
}

static int fail(const struct se_err *err)
{
	/* control bytes of echoed user text show as \xNN (as shadoweval's) */
	if (err->where[0])
		fprintf(stderr, "shadowsim: %s: %s\n", esc_term_str(err->where, 0),
			esc_term_str(err->msg, 1));
	else
		fprintf(stderr, "shadowsim: %s\n", esc_term_str(err->msg, 1));
	if (err->kind == SE_USAGE)
		fprintf(stderr, "see 'shadowsim --help'\n");
	return 2;
}

/* Thousands of connections need as many descriptors: raise the soft limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct se_err err;
	struct sim_args a;
	se_clear(&err);
	if (parse_args(argc, argv, &a, &err))
		return fail(&err);
	if (a.help) {
		fputs(usage_text, stdout);
		return 0;
	}

	/* Block the stop signals before any thread exists, so every thread
	 * inherits the mask and only sigwait below receives them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	struct sim_profiles prof;
	if (sim_profiles_load(a.profiles, &prof, &err))
		return fail(&err);
	struct sim_items *items = NULL;
	if (a.eval && sim_items_load(&items, a.eval, &prof, &err)) {
		sim_profiles_free(&prof);
		return fail(&err);
	}
	struct sim_server_opts o = {
	    .host = a.host ? a.host : "127.0.0.1",
	    .port = (int)a.port,
	    .seed = a.has_seed	    ? (uint64_t)a.seed
		    : prof.has_seed ? prof.seed
				    : 0,
	    .verbose = a.verbose,
	    .threads = (unsigned)a.threads,
	    .header_timeout_s = (unsigned)a.header_timeout,
	    .idle_timeout_s = (unsigned)a.idle_timeout,
	};
	struct sim_server *srv = NULL;
	if (sim_server_start(&srv, &prof, items, &o, &err)) {
		sim_items_free(items);
		sim_profiles_free(&prof);
		return fail(&err);
	}
	const char *host = o.host;
	if (strchr(host, ':'))
		printf("listening on [%s]:%d\n", host, sim_server_port(srv));
	else
		printf("listening on %s:%d\n", host, sim_server_port(srv));
	fflush(stdout);
	if (a.verbose)
		fprintf(stderr, "shadowsim: %zu models, %zu eval items, seed %llu\n", prof.n_models,
			sim_items_count(items), (unsigned long long)o.seed);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	sim_server_stop(srv);
	sim_items_free(items);
	sim_profiles_free(&prof);
	return 0;
}
