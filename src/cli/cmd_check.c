/*
 * cmd_check.c - `cxlemu check FILE`: parse and validate a topology without
 * opening media or starting anything.  Prints a one-line summary, and the
 * loader's warnings on stderr; a refused file exits 1 with the loader's
 * message (file, line, option, rule).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

/* Devices whose file backend is named by more than one host. */
static int shared_devices(struct cx_fabric *f)
{
	cx_vec seen = { 0 };
	int shared = 0;

	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->backends.n; j++) {
			struct cx_backend *b = h->backends.v[j];
			if (b->kind != CX_BACKEND_FILE || !b->mem_path)
				continue;
			bool dup = false;
			for (int k = 0; k < seen.n; k++)
				if (!strcmp(seen.v[k], b->mem_path))
					dup = true;
			if (dup)
				continue;
			/* another host with the same path? */
			for (int o = i + 1; o < f->hosts.n && !dup; o++) {
				struct cx_host *h2 = f->hosts.v[o];
				for (int k = 0; k < h2->backends.n; k++) {
					struct cx_backend *b2 = h2->backends.v[k];
					if (b2->kind == CX_BACKEND_FILE &&
					    b2->mem_path &&
					    !strcmp(b2->mem_path, b->mem_path))
						dup = true;
				}
			}
			if (dup) {
				cx_vec_push(&seen, b->mem_path);
				shared++;
			}
		}
	}
	cx_vec_free(&seen);
	return shared;
}

static const char *plural(int n) { return n == 1 ? "" : "s"; }

int cmd_check(int argc, char **argv, struct cli *cli)
{
	struct cx_fabric *f = NULL;
	cx_err e;
	int o;

	if ((o = cli_help_only("check", NULL, "h", argc, argv)) >= 0)
		return o;
	if (argc - optind != 1)
		return cli_usage("check", "needs one topology FILE");
	const char *file = argv[optind];
	if (cx_config_load_file(file, &f, &e) < 0)
		return cli_error("%s", e.msg);

	int memdevs = 0, hbs = 0, rps = 0, sw = 0, win = 0;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		memdevs += h->memdevs.n;
		hbs += h->hbs.n;
		win += h->windows.n;
		for (int j = 0; j < h->ports.n; j++) {
			struct cx_port *p = h->ports.v[j];
			rps += p->kind == CX_PORT_RP;
			sw += p->kind == CX_PORT_USP;
		}
	}
	int shared = shared_devices(f);
	printf("%s: ok: %d host%s, %d memdev%s, %d host bridge%s, %d root "
	       "port%s, %d switch%s, %d window%s", file, f->hosts.n,
	       plural(f->hosts.n), memdevs, plural(memdevs), hbs, plural(hbs),
	       rps, plural(rps), sw, sw == 1 ? "" : "es", win, plural(win));
	if (shared)
		printf(", %d shared device%s", shared, plural(shared));
	printf("\n");
	for (int i = 0; i < f->warnings.n; i++)
		cli_warn("%s", (char *)f->warnings.v[i]);
	cx_fabric_free(f);
	return CLI_OK;
}
