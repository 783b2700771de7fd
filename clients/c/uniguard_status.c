/* uniguard-status: prints a coordinator's status JSON (what a monitoring plugin in C would embed).
 * Exit codes: 0 status printed, 1 no answer or an error from the coordinator, 2 usage. */
#include "uniguard_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *to) {
    fprintf(to,
            "usage: uniguard-status [--endpoint tcp://HOST:PORT] [--job ID] [--history] [--timeout-ms N]\n"
            "                       [--curve-server-key coordinator.key --curve-secret-key client.key_secret]\n"
            "Sends a StatusRequest to a UniGuard coordinator and prints its status JSON.\n"
            "Default endpoint tcp://127.0.0.1:5555, timeout 5000 ms.\n");
}

int main(int argc, char **argv) {
    const char *endpoint = "tcp://127.0.0.1:5555", *job = "", *server_key = NULL, *secret_key = NULL;
    int history = 0, timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--history")) { history = 1; continue; }
        if (strncmp(a, "--", 2) != 0 || !value) {
            fprintf(stderr, "uniguard-status: %s %s\n", a, strncmp(a, "--", 2) ? "is not an option" : "needs a value");
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--endpoint")) endpoint = value;
        else if (!strcmp(a, "--job")) job = value;
        else if (!strcmp(a, "--curve-server-key")) server_key = value;
        else if (!strcmp(a, "--curve-secret-key")) secret_key = value;
        else if (!strcmp(a, "--timeout-ms")) {
            char *end;
            long t = strtol(value, &end, 10);
            if (*end || t < 1 || t > 3600000) {
                fprintf(stderr, "uniguard-status: --timeout-ms must be 1...3600000, got '%s'\n", value);
                return 2;
            }
            timeout_ms = (int)t;
        } else {
            fprintf(stderr, "uniguard-status: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    char err[512];
    uniguard_client *client;
    if (uniguard_client_open(&client, endpoint, server_key, secret_key, err, sizeof err)) {
        fprintf(stderr, "uniguard-status: %s\n", err);
        return (server_key == NULL) != (secret_key == NULL) ? 2 : 1;
    }
    char *json = NULL;
    int rc = uniguard_client_status(client, job, history, timeout_ms, &json, err, sizeof err);
    uniguard_client_close(client);
    if (rc) {
        fprintf(stderr, "uniguard-status: %s\n", err);
        return 1;
    }
    puts(json);
    free(json);
    return 0;
}
