/*
 * comms/transport_log: the development transport. Nothing leaves the machine:
 * the message stays in the outbox, is marked sent with provider reference
 * "log", and /dev/outbox shows it (with its links) for the demo. The log line
 * names the message id, kind and channel only: never the recipient or body.
 */
#include "comms/transport.h"

#include "lib/log.h"

#include <inttypes.h>
#include <stdio.h>

static int log_open(void **state, const struct config *cfg)
{
	(void)cfg;
	*state = NULL;
	return 0;
}

static int log_send(void *state, const struct comms_msg *m, struct comms_result *r)
{
	(void)state;
	snprintf(r->provider_ref, sizeof(r->provider_ref), "log");
	r->error[0] = '\0';
	log_info("outbox: message %" PRId64 " (%s, %s) kept by the log transport (see /dev/outbox)",
	         m->id, m->kind, m->channel);
	return COMMS_SEND_OK;
}

static void log_close(void *state)
{
	(void)state;
}

const struct comms_transport comms_transport_log = {
    .name = "log", .channel = NULL, .open = log_open, .send = log_send, .close = log_close};
