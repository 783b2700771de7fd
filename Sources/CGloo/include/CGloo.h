// CGloo: a small C API over Gloo (Debian libgloo-dev) for Swift.
//
// Three objects: a rendezvous store (a FileStore in a directory, or callbacks the caller implements), a TCP
// device (one per process, bound to the address the operator names), and a context (one rank of one group,
// connected to every peer through the store). Every function reports failure as a nonzero code plus a
// message in `cgloo_error`; no C++ exception crosses this header.
#ifndef CGLOO_H
#define CGLOO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CGLOO_OK = 0,
    CGLOO_INVALID_ARGUMENT = 1,
    /// A store wait or a connect during rendezvous ran past the timeout (a peer never showed up).
    CGLOO_RENDEZVOUS_TIMEOUT = 2,
    /// A collective ran past its timeout (a peer stopped answering).
    CGLOO_TIMEOUT = 3,
    /// A peer closed its connection or the connection failed (a peer is gone).
    CGLOO_PEER_GONE = 4,
    /// The store itself failed (a callback reported failure, a file could not be written).
    CGLOO_STORE_FAILED = 5,
    /// Creating the device failed (unknown interface, unresolvable hostname).
    CGLOO_DEVICE_FAILED = 6,
    CGLOO_INTERNAL = 7,
} cgloo_code;

typedef struct {
    int32_t code;
    char message[1024];
} cgloo_error;

/// A byte string the shim owns; callbacks fill it with `cgloo_bytes_assign`.
typedef struct cgloo_bytes cgloo_bytes;
void cgloo_bytes_assign(cgloo_bytes *bytes, const void *data, size_t count);

/// Return values of the store callbacks.
typedef enum {
    CGLOO_STORE_CALLBACK_OK = 0,
    CGLOO_STORE_CALLBACK_TIMEOUT = 1,
    CGLOO_STORE_CALLBACK_FAILED = 2,
} cgloo_store_callback_result;

/// A store whose operations the caller implements (e.g. key/values held by a coordinator). The callbacks may
/// be called from any thread that runs a rendezvous, concurrently if several contexts share the store.
/// `message` receives a reason on failure. `get` returns the value of a key that `wait` has seen (it may
/// block until the key exists, up to `timeout_ms`). `release` is called once, when the store is destroyed.
typedef struct {
    void *user;
    int32_t (*set)(void *user, const char *key, const void *data, size_t count, cgloo_bytes *message);
    int32_t (*get)(void *user, const char *key, int64_t timeout_ms, cgloo_bytes *value, cgloo_bytes *message);
    int32_t (*wait)(void *user, const char *const *keys, size_t key_count, int64_t timeout_ms, cgloo_bytes *message);
    void (*release)(void *user);
} cgloo_store_callbacks;

typedef struct cgloo_store cgloo_store;
typedef struct cgloo_device cgloo_device;
typedef struct cgloo_context cgloo_context;

/// A store of one file per key under `directory` (created if missing): for tests and one machine.
cgloo_store *cgloo_store_create_file(const char *directory, cgloo_error *error);
cgloo_store *cgloo_store_create_callbacks(cgloo_store_callbacks callbacks, cgloo_error *error);
/// The keys of `base` under `prefix/` (e.g. one generation of a group); `base` may be destroyed first.
cgloo_store *cgloo_store_create_prefixed(cgloo_store *base, const char *prefix, cgloo_error *error);
void cgloo_store_destroy(cgloo_store *store);

/// A TCP device bound to `hostname` (an address or a name that resolves to one) or, when `hostname` is
/// NULL or empty, to the address of network interface `interface_name`. Ignores SIGPIPE process-wide if it
/// still has its default action (Gloo writes with writev; a peer that dies would otherwise kill the process).
cgloo_device *cgloo_device_create_tcp(const char *hostname, const char *interface_name, cgloo_error *error);
/// Gloo's description of the device (its address), copied into `buffer`; returns the full length.
size_t cgloo_device_describe(const cgloo_device *device, char *buffer, size_t capacity);
void cgloo_device_destroy(cgloo_device *device);

/// Rank `rank` of a group of `size`: publishes its address in `store`, waits up to `timeout_ms` for every
/// peer's and connects to all of them. The timeout is also the default of the collectives.
cgloo_context *cgloo_context_connect(int32_t rank, int32_t size, cgloo_store *store, cgloo_device *device,
                                     int64_t timeout_ms, cgloo_error *error);
/// Ring all-reduce (sum) of `count` floats in place; `timeout_ms` <= 0 uses the context's timeout.
/// After a failure the context is unusable: destroy it and connect a new one.
int32_t cgloo_allreduce_sum_float(cgloo_context *context, float *buffer, size_t count, int64_t timeout_ms,
                                  cgloo_error *error);
/// buffer[i] /= divisor, for the average after a sum.
void cgloo_divide_float(float *buffer, size_t count, float divisor);
void cgloo_context_destroy(cgloo_context *context);

#ifdef __cplusplus
}
#endif

#endif
