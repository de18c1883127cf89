/*
 * memdevs.c - what the ndctl-style memdev verbs share (cmd_memdev.c,
 * cmd_labels.c): for each memdev named, connect once, act, collect its
 * JSON, count what worked and what failed, then print the JSON as ndctl
 * does; and a memdev's `cxl list` JSON with chosen sections.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "client/mbox_payload.h"
#include "model/mbox.h"   /* command names */
#include "listing/json.h"

int cli_memdev_json(struct cxlemu *c, const char *memdev,
		    const char *letters, struct json_object *arr,
		    struct cxlemu_err *err)
{
	struct cx_list_opts o;
	struct json_object *list = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.memdevs = true;
	o.idle = true;
	o.memdev_filter = memdev;
	o.partition = strchr(letters, 'I') != NULL;
	o.firmware = strchr(letters, 'F') != NULL;
	o.alert = strchr(letters, 'A') != NULL;
	o.health = strchr(letters, 'H') != NULL;
	if ((rc = cxlemu_list(c, cx_list_opts_to_json(&o), &list, err)) < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		json_object_array_add(arr, json_object_get(
			json_object_array_get_idx(list, i)));
	json_object_put(list);
	return 0;
}

int cli_each_memdev(struct cli *cli, struct cli_memdevs *m, int argc,
		    char **argv)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	char mbuf[32];
	int rc;

	m->count = m->failed = 0;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < argc; i++) {
		const char *name = cli_memdev_arg(argv[i], mbuf, sizeof(mbuf));
		err.msg[0] = 0;
		if (m->fn(c, name, m->ctx, arr, &err) < 0) {
			cli_error("%s: %s", m->cmd, err.msg);
			m->failed++;
		} else {
			m->count++;
		}
	}
	cxlemu_close(c);
	if (json_object_array_length(arr))
		cx_json_print(stdout, arr, false);
	else
		json_object_put(arr);
	fflush(stdout);
	if (m->done)
		m->done(m);
	return m->count || !m->failed ? CLI_OK : CLI_FAIL;
}

int cli_identify(struct cxlemu *c, const char *memdev, struct cx_identify *id,
		 struct cxlemu_err *err)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out,
			       &n, &rc, err)) < 0)
		return r;
	if (rc || cx_pl_identify(out, n, id) < 0)
		return cli_mbox_failed(memdev, CX_OP_IDENTIFY_MEMDEV, rc, err);
	return 0;
}
