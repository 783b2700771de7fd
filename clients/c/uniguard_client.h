/* UniGuard C client: talks to a coordinator over ZeroMQ with the protobuf-c encoding of proto/uniguard.proto.
 * One DEALER socket per client; CURVE is used when both key files are given. Every function returns 0 on
 * success and -1 on failure with a message in the caller's `err` buffer. */
#ifndef UNIGUARD_CLIENT_H
#define UNIGUARD_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct uniguard_client uniguard_client;

/* Reads a key file written by `coordinator keygen` (comment lines start with '#'; the key is 40 Z85 chars). */
int uniguard_read_key_file(const char *path, char key_z85[41], char *err, size_t errlen);

/* Connects to `endpoint` (e.g. tcp://127.0.0.1:5555). With `server_key_file` and `secret_key_file` both set,
 * the connection is CURVE-encrypted (the secret key's public half must be allowed by the coordinator). */
int uniguard_client_open(uniguard_client **out, const char *endpoint, const char *server_key_file,
                         const char *secret_key_file, char *err, size_t errlen);

/* Sends a StatusRequest (job_id NULL or "" for all workers and jobs) and waits up to timeout_ms for the
 * StatusReply; on success *json_out is the status JSON (free it with free()). */
int uniguard_client_status(uniguard_client *client, const char *job_id, int include_history, int timeout_ms,
                           char **json_out, char *err, size_t errlen);

void uniguard_client_close(uniguard_client *client);

#ifdef __cplusplus
}
#endif
#endif
