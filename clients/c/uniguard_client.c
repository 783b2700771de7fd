/* UniGuard C client: see uniguard_client.h. Framing follows the top comment of proto/uniguard.proto: a DEALER
 * sends exactly one Envelope frame (no empty delimiter); the reply quotes our message_id in reply_to. */
#include "uniguard_client.h"
#include "uniguard.pb-c.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

enum { PROTOCOL_VERSION = 1 };

struct uniguard_client {
    void *context;
    void *socket;
    uint64_t next_id;
    char endpoint[256];
};

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int uniguard_read_key_file(const char *path, char key_z85[41], char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '#' || *s == '\n' || *s == '\r' || *s == 0) continue;
        if (*s == '"') s++;
        size_t n = strcspn(s, "\" \t\r\n");
        fclose(f);
        if (n != 40) return fail(err, errlen, "%s: expected a 40-character Z85 key, found %zu characters", path, n);
        memcpy(key_z85, s, 40);
        key_z85[40] = 0;
        uint8_t raw[32];
        if (!zmq_z85_decode(raw, key_z85)) return fail(err, errlen, "%s: not a valid Z85 key", path);
        return 0;
    }
    fclose(f);
    return fail(err, errlen, "%s: no key found", path);
}

int uniguard_client_open(uniguard_client **out, const char *endpoint, const char *server_key_file,
                         const char *secret_key_file, char *err, size_t errlen) {
    *out = NULL;
    if ((server_key_file == NULL) != (secret_key_file == NULL))
        return fail(err, errlen, "CURVE needs both the coordinator's public key and this client's secret key");
    if (strlen(endpoint) >= sizeof(((uniguard_client *)0)->endpoint)) return fail(err, errlen, "endpoint too long");
    char server_key[41], secret_key[41], public_key[41];
    if (server_key_file) {
        if (uniguard_read_key_file(server_key_file, server_key, err, errlen) ||
            uniguard_read_key_file(secret_key_file, secret_key, err, errlen))
            return -1;
        if (zmq_curve_public(public_key, secret_key) != 0)
            return fail(err, errlen, "%s: cannot derive the public key: %s", secret_key_file, zmq_strerror(zmq_errno()));
    }
    uniguard_client *c = calloc(1, sizeof *c);
    if (!c) return fail(err, errlen, "out of memory");
    c->next_id = 1;
    strcpy(c->endpoint, endpoint);
    c->context = zmq_ctx_new();
    c->socket = c->context ? zmq_socket(c->context, ZMQ_DEALER) : NULL;
    if (!c->socket) {
        fail(err, errlen, "zmq socket: %s", zmq_strerror(zmq_errno()));
        uniguard_client_close(c);
        return -1;
    }
    int linger = 0;
    zmq_setsockopt(c->socket, ZMQ_LINGER, &linger, sizeof linger);
    if (server_key_file &&
        (zmq_setsockopt(c->socket, ZMQ_CURVE_SERVERKEY, server_key, 40) ||
         zmq_setsockopt(c->socket, ZMQ_CURVE_PUBLICKEY, public_key, 40) ||
         zmq_setsockopt(c->socket, ZMQ_CURVE_SECRETKEY, secret_key, 40))) {
        fail(err, errlen, "CURVE options: %s", zmq_strerror(zmq_errno()));
        uniguard_client_close(c);
        return -1;
    }
    if (zmq_connect(c->socket, endpoint) != 0) {
        fail(err, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        uniguard_client_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives one multipart message; returns the envelope frame's bytes (caller frees) or NULL on timeout. */
static int receive_envelope(void *socket, int timeout_ms, uint8_t **data, size_t *len) {
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc <= 0) return rc;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, socket, 0) < 0) { zmq_msg_close(&msg); return -1; }
    *len = zmq_msg_size(&msg);
    *data = malloc(*len ? *len : 1);
    if (*data) memcpy(*data, zmq_msg_data(&msg), *len);
    int more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
    while (more) { /* raw frames: a status reply has none, but never leave a partial message queued */
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, socket, 0) < 0) { zmq_msg_close(&msg); break; }
        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    return *data ? 1 : -1;
}

int uniguard_client_status(uniguard_client *c, const char *job_id, int include_history, int timeout_ms,
                           char **json_out, char *err, size_t errlen) {
    *json_out = NULL;
    Uniguard__V1__StatusRequest request = UNIGUARD__V1__STATUS_REQUEST__INIT;
    request.job_id = (char *)(job_id ? job_id : "");
    request.include_history = include_history ? 1 : 0;
    Uniguard__V1__Envelope envelope = UNIGUARD__V1__ENVELOPE__INIT;
    envelope.version = PROTOCOL_VERSION;
    envelope.message_id = c->next_id++;
    envelope.job_id = (char *)(job_id ? job_id : "");
    envelope.payload_case = UNIGUARD__V1__ENVELOPE__PAYLOAD_STATUS_REQUEST;
    envelope.status_request = &request;
    size_t size = uniguard__v1__envelope__get_packed_size(&envelope);
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame) return fail(err, errlen, "out of memory");
    uniguard__v1__envelope__pack(&envelope, frame);
    int sent = zmq_send(c->socket, frame, size, 0);
    free(frame);
    if (sent < 0) return fail(err, errlen, "send to %s: %s", c->endpoint, zmq_strerror(zmq_errno()));

    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        uint8_t *data = NULL;
        size_t len = 0;
        int got = left > 0 ? receive_envelope(c->socket, (int)left, &data, &len) : 0;
        if (got == 0)
            return fail(err, errlen, "no coordinator answered at %s within %d ms (is `coordinator serve` running there? "
                        "check the endpoint, and the CURVE keys if enabled)", c->endpoint, timeout_ms);
        if (got < 0) return fail(err, errlen, "receive: %s", zmq_strerror(zmq_errno()));
        Uniguard__V1__Envelope *reply = uniguard__v1__envelope__unpack(NULL, len, data);
        free(data);
        if (!reply) continue; /* not an envelope: ignore, as the Swift client does */
        if (reply->version != PROTOCOL_VERSION) {
            unsigned v = reply->version;
            uniguard__v1__envelope__free_unpacked(reply, NULL);
            return fail(err, errlen, "coordinator speaks protocol version %u, this client %d", v, PROTOCOL_VERSION);
        }
        if (reply->reply_to != envelope.message_id && reply->reply_to != 0) {
            uniguard__v1__envelope__free_unpacked(reply, NULL);
            continue;
        }
        int rc = 0;
        switch (reply->payload_case) {
        case UNIGUARD__V1__ENVELOPE__PAYLOAD_STATUS_REPLY:
            *json_out = strdup(reply->status_reply->json ? reply->status_reply->json : "");
            rc = *json_out ? 0 : fail(err, errlen, "out of memory");
            break;
        case UNIGUARD__V1__ENVELOPE__PAYLOAD_ERROR:
            rc = fail(err, errlen, "coordinator: %s", reply->error->message ? reply->error->message : "(no message)");
            break;
        case UNIGUARD__V1__ENVELOPE__PAYLOAD_HEARTBEAT:
            uniguard__v1__envelope__free_unpacked(reply, NULL);
            continue;
        default:
            rc = fail(err, errlen, "unexpected reply (payload %d) to a status request", (int)reply->payload_case);
        }
        uniguard__v1__envelope__free_unpacked(reply, NULL);
        return rc;
    }
}

void uniguard_client_close(uniguard_client *c) {
    if (!c) return;
    if (c->socket) zmq_close(c->socket);
    if (c->context) zmq_ctx_term(c->context);
    free(c);
}
